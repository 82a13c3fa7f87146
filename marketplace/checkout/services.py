"""Checkout: quote the windows for a cart and address, and place the order — re-checking the
promise under the warehouse's lock, reserving stock atomically, recording the promise.

An order to pay online holds its stock until it is paid or expires, so one consumer's unpaid
orders are capped (UNPAID_ORDERS_MAX orders, UNPAID_UNITS_MAX units of one product across them,
the new order included), counted under a lock on the consumer's row; and a checkout first
expires overdue unpaid orders itself (``payments.expire_due``), scheduler or not."""

from __future__ import annotations

import re
import secrets
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..auth.models import User
from ..cart import services as cart_services
from ..catalog import services as catalog
from ..catalog.models import Product
from ..columns import utcnow
from ..coop.models import Cooperative, CooperativeStatus
from ..errors import Conflict, DomainError, ValidationFailed
from ..extensions import db
from ..geo import services as geo
from ..geo.models import Address
from ..i18n import LOCAL_TZ, localized
from ..inventory import services as inventory
from ..logistics.models import Warehouse, WindowClass
from ..orders import services as orders
from ..orders.models import Order, OrderLine, OrderStatus, PaymentMethod
from ..planning import promise
from ..reports import offers

IDEMPOTENCY_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")  # always fullmatch: "$" would let a newline in


class WindowUnavailable(Conflict):
    code = "window_unavailable"
    default_message = _l("The delivery window you chose can no longer be kept. Please choose another.")

    def __init__(self, quotes: list[promise.WindowQuote]):
        super().__init__()
        self.quotes = quotes


class EmptyCart(ValidationFailed):
    code = "empty_cart"
    default_message = _l("Your cart is empty.")


class TooManyUnpaidOrders(Conflict):
    code = "too_many_unpaid_orders"

    def __init__(self, count: int):
        super().__init__(_l("You already have %(count)d orders awaiting payment. Please pay for or cancel one of "
                            "them (in My orders) before placing another order to pay online.", count=count))


class TooManyUnpaidUnits(Conflict):
    code = "too_many_unpaid_units"

    def __init__(self, product: Product, units: int, most: int):
        super().__init__(_l("Orders awaiting payment can hold at most %(most)d of %(product)s; with this order you "
                            "would have %(units)d. Please pay for or cancel an open order, or order fewer.",
                            most=most, product=localized(product), units=units))


@dataclass(frozen=True)
class CheckoutQuote:
    address: Address
    warehouse: Warehouse | None
    lines: list[tuple[Product, int]]
    sources: list[promise.LineSource] | None
    windows: list[promise.WindowQuote]
    subtotal_fen: int

    @property
    def any_feasible(self) -> bool:
        return any(w.feasible for w in self.windows)


class NotSelling(Conflict):
    """The cart holds goods that are not on sale now (their cooperative is suspended, or the
    product is off sale): nothing is ordered until the consumer takes them out."""

    code = "not_selling"

    def __init__(self, names: list[str]):
        super().__init__(_l("Not for sale at the moment: %(names)s. Please remove it from your cart to order the rest.",
                            names="、".join(names)))


def cart_lines(cart_items: dict[int, int], *, for_display: bool = True) -> list[tuple[Product, int]]:
    """The cart's products with their quantities; NotSelling when any of them is not on sale
    (never an order of part of the cart without saying so)."""
    if not cart_items:
        raise EmptyCart()
    products = db.session.scalars(_products(for_display), {"ids": list(cart_items)}).unique().all()
    if len(products) < len(cart_items):
        off = cart_services.unavailable_lines(cart_items, {p.id for p in products})
        if off:
            raise NotSelling([localized(line.product) for line in off])
    if not products:
        raise EmptyCart()
    return [(p, cart_items[p.id]) for p in sorted(products, key=lambda p: p.id)]


@cache
def _selling_cooperatives() -> sa.Select:
    # FOR SHARE: a suspension (an UPDATE of the row) waits for this order's commit, and an order
    # reading after a suspension committed sees it (PostgreSQL re-reads a locked row's newest
    # version). SQLite has one writer: the suspension is either committed before or after.
    return (sa.select(Cooperative.id, Cooperative.status)
            .where(Cooperative.id.in_(sa.bindparam("ids", expanding=True))).with_for_update(read=True))


def _check_selling(lines: list[tuple[Product, int]]) -> None:
    """Under a share lock on the cooperatives of the order's goods: every one of them approved.
    A checkout that read the cart before a suspension committed is refused here."""
    ids = sorted({p.cooperative_id for p, _ in lines})
    statuses = dict(db.session.execute(_selling_cooperatives(), {"ids": ids}).all())
    stopped = [p for p, _ in lines if statuses.get(p.cooperative_id) != CooperativeStatus.APPROVED]
    if stopped:
        raise NotSelling([localized(p) for p in stopped])


# The statements of the order path (here, in the services it calls and in planning) are built
# once per process (``cache``, with bind parameters): building a select with the ORM costs more
# CPU than running it (measured: 0.5 ms per call built each time, 0.18 ms built once).
@cache
def _products(for_display: bool) -> sa.Select:
    return catalog.on_sale(for_display=for_display).where(Product.id.in_(sa.bindparam("ids", expanding=True)))


@cache
def _window() -> sa.Select:
    return sa.select(WindowClass).where(WindowClass.code == sa.bindparam("code"), WindowClass.active.is_(True))


def quote(user_id: int, address_id: int, cart_items: dict[int, int], now: datetime | None = None) -> CheckoutQuote:
    """The windows the current plan can keep for this cart to this (own) address (overdue unpaid
    orders expired first: their stock is offered again)."""
    _expire_due(None, now)
    address = geo.address_of(user_id, address_id)
    lines = cart_lines(cart_items)
    warehouse = geo.warehouse_for_zone(address.village.zone_id)
    sources = promise.pick_sources(lines, warehouse.location_id if warehouse else None)
    subtotal = sum(p.price_fen * q for p, q in lines)
    if sources is None:
        raise inventory.OutOfStock(_l("Some items in your cart are no longer in stock. Please check your cart."))
    windows = promise.quote(warehouse.id if warehouse else None, address.lat, address.lon,
                            address.village.zone_id, sources, now)
    # short windows lost because goods sat only at the cooperative: the demand a milk run wins
    # (nothing is read or written when nothing was missed)
    from ..coop.replenishment import record_window_misses

    record_window_misses(warehouse.id if warehouse else None, user_id, sources, windows, now)
    offers.record_quote(user_id, address.village.zone_id, windows, now)  # the dashboard's offered vs chosen
    return CheckoutQuote(address, warehouse, lines, sources, windows, subtotal)


def new_idempotency_key() -> str:
    return secrets.token_urlsafe(18)


def _order_number(now: datetime) -> str:
    """SH + local minute + 12 random digits (24 characters). Two orders of one minute share a
    number with a chance of n²/2·10⁻¹²; place_order then retries with a new one."""
    return f"SH{now.astimezone(LOCAL_TZ):%y%m%d%H%M}{secrets.randbelow(10**12):012d}"


def place_order(user_id: int, address_id: int, window_code: str, payment_method: str, idempotency_key: str,
                cart_items: dict[int, int] | None = None, now: datetime | None = None) -> Order:
    """Place the cart as an order with a guaranteed window. One transaction; the same
    idempotency key returns the first order instead of placing a second one."""
    if not IDEMPOTENCY_RE.fullmatch(idempotency_key or ""):
        raise ValidationFailed(_l("The order form is incomplete. Please reload the page."), field="idempotency_key")
    try:
        return _place_order(user_id, address_id, window_code, payment_method, idempotency_key, cart_items, now)
    except DomainError:
        # A retry after the first submission went through fails (its cart is gone, its stock or
        # its van's slack taken): it gets that order. Looked up only then, not for every order.
        existing = _by_key(user_id, idempotency_key)
        if existing is not None:
            return existing
        raise


def _expire_due(user_id: int | None, now: datetime | None) -> None:
    from ..payments import services as payments

    payments.expire_due(user_id, now)


def _place_order(user_id: int, address_id: int, window_code: str, payment_method: str, idempotency_key: str,
                 cart_items: dict[int, int] | None, now: datetime | None) -> Order:
    # before anything is read or locked: the consumer's overdue unpaid orders leave the count,
    # and a batch of the oldest overdue ones anywhere give their stock back (each commits)
    _expire_due(user_id, now)
    window = db.session.scalar(_window(), {"code": window_code})
    if window is None:
        raise ValidationFailed(_l("Choose one of the offered delivery windows."), field="window")
    try:
        method = PaymentMethod(payment_method)
    except ValueError:
        raise ValidationFailed(_l("Choose how you will pay."), field="payment_method") from None
    address = geo.address_of(user_id, address_id)
    lines = cart_lines(cart_services.items() if cart_items is None else cart_items, for_display=False)
    warehouse = geo.warehouse_for_zone(address.village.zone_id)
    if warehouse is None:
        raise ValidationFailed(promise.REASON_TEXT["outside_service_area"], field="address")
    promise.prepare(warehouse.id, (warehouse.plan_version, warehouse.plan_reset_version))  # may plan (commits)
    now = now or utcnow()
    # The order, its stock and its payment are written before the warehouse is locked, so the
    # lock is held only while the promise is re-checked and the route updated. (Locks are always
    # taken stock first, then warehouse.) SQLite has one writer at a time: there the warehouse
    # lock comes first, or a writer waiting for it would block its holder.
    serial = db.engine.dialect.name == "sqlite"
    for attempt in range(ORDER_ATTEMPTS):
        try:
            with promise.warehouse_lock(warehouse.id) if serial else nullcontext():
                order, sources = _write_order(user_id, address, lines, warehouse, window, method, idempotency_key, now)
                zone = promise.zone_margin(order.zone_id)
                with nullcontext() if serial else promise.warehouse_lock(warehouse.id):
                    _promise_locked(order, sources, window, zone, user_id, now)
                    db.session.commit()
                    promise.adopt()
            offers.record_choice(order, window.code, now)
            return order
        except IntegrityError as error:
            db.session.rollback()
            existing = _by_key(user_id, idempotency_key)
            if existing is not None:  # the same key placed the order first (a double submit)
                return existing
            if attempt == ORDER_ATTEMPTS - 1 or not _number_taken(error):
                raise
            # the order number was taken in the same minute: write the order again with a new one
        except Exception:
            db.session.rollback()
            raise
    raise AssertionError("unreachable")  # (the last attempt returns or raises)


#: writes of one order before a run of order-number collisions is given up as an error
ORDER_ATTEMPTS = 3


def _number_taken(error: IntegrityError) -> bool:
    """Whether the unique order number was violated (PostgreSQL names the constraint, SQLite the
    column)."""
    text = str(error.orig)
    return "uq_orders_number" in text or "orders.number" in text


def _by_key(user_id: int, key: str) -> Order | None:
    return db.session.scalar(sa.select(Order).where(Order.user_id == user_id, Order.idempotency_key == key))


def _write_order(user_id: int, address: Address, lines: list[tuple[Product, int]], warehouse: Warehouse,
                 window: WindowClass, method: PaymentMethod, key: str,
                 now: datetime) -> tuple[Order, list[promise.LineSource]]:
    """The order row with its lines, the stock reserved, the payment opened, the cart cleared
    (flushed, not committed)."""
    _check_selling(lines)  # first: a suspension never waits for a stock or consumer lock
    if method == PaymentMethod.ONLINE:
        _check_unpaid_caps(user_id, lines, now)
    sources = promise.pick_sources(lines, warehouse.location_id)
    if sources is None:
        raise inventory.OutOfStock(_l("Some items in your cart are no longer in stock. Please check your cart."))
    subtotal = sum(p.price_fen * q for p, q in lines)
    village = address.village
    order = Order(
        number=_order_number(now), user_id=user_id, idempotency_key=key, payment_method=method,
        status=OrderStatus.PENDING_PAYMENT if method == PaymentMethod.ONLINE else OrderStatus.CONFIRMED,
        address_id=address.id, village_id=village.id, zone_id=village.zone_id,
        recipient_name=address.recipient_name, recipient_mobile=address.recipient_mobile,
        address_text=geo.full_text(address), lat=address.lat, lon=address.lon, window_class_id=window.id,
        lines=[], placed_at=now, deadline_at=now + timedelta(hours=window.hours), warehouse_id=warehouse.id,
        subtotal_fen=subtotal, delivery_fee_fen=window.fee_fen, total_fen=subtotal + window.fee_fen,
        payment_expires_at=(now + timedelta(minutes=current_app.config["PAYMENT_TIMEOUT_MINUTES"])
                            if method == PaymentMethod.ONLINE else None),
    )
    db.session.add(order)
    db.session.flush()
    for source in sorted(sources, key=lambda s: s.stock_id):  # one lock order for every cart
        inventory.reserve(source.stock_id, source.quantity, order_id=order.id, actor_id=user_id)
    # the batch each line's units come from (first in, first out at its location): read once the
    # rows are reserved (and locked), in one query for the whole cart
    batches = inventory.reserved_batches({s.stock_id: s.quantity for s in sources})
    for (product, quantity), source in zip(lines, sources, strict=True):
        order.lines.append(OrderLine(
            product_id=product.id, source_location_id=source.location.id,
            batch_id=batches.get(source.stock_id),
            product_name_zh=product.name_zh, product_name_en=product.name_en, unit_price_fen=product.price_fen,
            quantity=quantity, line_total_fen=product.price_fen * quantity,
            weight_g=source.weight_g, volume_cm3=source.volume_cm3,
        ))
    from ..payments import services as payments

    if method == PaymentMethod.ONLINE:
        payments.start_payment(order)
    else:
        payments.record_cash_on_delivery(order, new_order=True)
    cart_services.remove_products(user_id, [p.id for p, _ in lines])
    return order, sources


@cache
def _lock_consumer() -> sa.Select:
    # FOR NO KEY UPDATE: two checkouts of one consumer queue here, while an order being inserted
    # for the consumer (its foreign key takes a key-share lock) is not held up
    return sa.select(User.id).where(User.id == sa.bindparam("user_id")).with_for_update(key_share=True)


@cache
def _unpaid() -> tuple:
    return (Order.user_id == sa.bindparam("user_id"), Order.status == OrderStatus.PENDING_PAYMENT,
            Order.payment_method == PaymentMethod.ONLINE, Order.payment_expires_at > sa.bindparam("now"))


@cache
def _unpaid_count() -> sa.Select:
    return sa.select(sa.func.count()).select_from(Order).where(*_unpaid())


@cache
def _unpaid_units() -> sa.Select:
    return (sa.select(OrderLine.product_id, sa.func.sum(OrderLine.quantity)).join(Order, Order.id == OrderLine.order_id)
            .where(*_unpaid(), OrderLine.product_id.in_(sa.bindparam("ids", expanding=True)))
            .group_by(OrderLine.product_id))


def _check_unpaid_caps(user_id: int, lines: list[tuple[Product, int]], now: datetime) -> None:
    """An order to pay online is refused when the consumer already has UNPAID_ORDERS_MAX orders
    awaiting payment, or when it would bring the units of a product across them (this one
    included) over UNPAID_UNITS_MAX. Counted under a lock on the consumer's row, held until the
    order commits, so two checkouts of one consumer cannot both pass (on SQLite the warehouse
    lock, taken before, already makes this the only writer). Overdue orders do not count."""
    config = current_app.config
    params = {"user_id": user_id, "now": now}
    if db.engine.dialect.name != "sqlite":
        db.session.execute(_lock_consumer(), {"user_id": user_id})
    count = db.session.scalar(_unpaid_count(), params)
    if count >= config["UNPAID_ORDERS_MAX"]:
        raise TooManyUnpaidOrders(count)
    held = dict(db.session.execute(_unpaid_units(), {**params, "ids": [p.id for p, _ in lines]}).all()) if count else {}
    for product, quantity in lines:
        units = held.get(product.id, 0) + quantity
        if units > config["UNPAID_UNITS_MAX"]:
            raise TooManyUnpaidUnits(product, units, config["UNPAID_UNITS_MAX"])


def _promise_locked(order: Order, sources: list[promise.LineSource], window: WindowClass,
                    zone: tuple[int, list[str]], user_id: int, now: datetime) -> None:
    """Under the warehouse's lock: the chosen window re-checked against the current plan and the
    order inserted into its route, or WindowUnavailable with fresh quotes."""
    try:
        promise.prepare(order.warehouse_id, placing=order.id)  # current under the lock
        order.promised_eta_at = promise.commit(order, sources, window, now, zone)
    except promise.PromiseBroken as broken:
        raise WindowUnavailable(broken.quotes) from None
    orders.record_event(order, "placed", to_status=order.status, actor_id=user_id,
                        data={"window": window.code, "deadline_at": order.deadline_at.isoformat(),
                              "eta": order.promised_eta_at.isoformat()})
