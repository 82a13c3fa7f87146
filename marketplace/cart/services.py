"""The cart: a guest's lives in the session, a consumer's in the database; they merge at
sign-in. Quantities are checked against available stock when changed and again at checkout."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

import sqlalchemy as sa
from flask import session
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.orm import joinedload

from ..auth.models import Role
from ..catalog import services as catalog
from ..catalog.models import Product
from ..coop.models import CooperativeStatus
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..inventory import services as inventory
from ..inventory.models import LocationKind
from .models import Cart, CartItem

MAX_LINE_QUANTITY = 99
MAX_LINES = 30


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    available: int

    @property
    def total_fen(self) -> int:
        return self.product.price_fen * self.quantity

    @property
    def short(self) -> bool:
        return self.quantity > self.available


#: why a line in a cart cannot be bought now: its cooperative is suspended (or otherwise not
#: approved), or the product itself is off sale (delisted, under review)
COOPERATIVE_NOT_SELLING = "cooperative_not_selling"
PRODUCT_NOT_SOLD = "product_not_sold"


@dataclass(frozen=True)
class UnavailableLine:
    """A product in the cart that is not on sale now: shown, not counted, not orderable. It stays
    in the cart: a reinstated cooperative's goods come back as they were."""

    product: Product
    quantity: int
    reason: str  # COOPERATIVE_NOT_SELLING or PRODUCT_NOT_SOLD


@dataclass(frozen=True)
class CartView:
    lines: list[CartLine]
    unavailable: list[UnavailableLine] = field(default_factory=list)

    @property
    def subtotal_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)

    @property
    def count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def has_shortage(self) -> bool:
        return any(line.short for line in self.lines)


def parse_quantity(raw: object) -> int:
    """A quantity from a form or JSON: an integer 1..99; anything else is a clear error."""
    text = "" if raw is None or isinstance(raw, bool) else str(raw).strip()
    if not re.fullmatch(r"-?\d{1,12}", text):
        raise ValidationFailed(_l("Enter the quantity as a whole number."), field="quantity")
    quantity = int(text)
    if not 1 <= quantity <= MAX_LINE_QUANTITY:
        raise ValidationFailed(_l("The quantity must be between 1 and %(max)d.", max=MAX_LINE_QUANTITY), field="quantity")
    return quantity


def _stored_cart(user_id: int, create: bool = False) -> Cart | None:
    cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == user_id))
    if cart is None and create:
        cart = Cart(user_id=user_id)
        db.session.add(cart)
        db.session.flush()
    return cart


def _session_items() -> dict[int, int]:
    raw = session.get("cart", {})
    items = {}
    for key, value in raw.items() if isinstance(raw, dict) else []:
        if str(key).isdigit() and isinstance(value, int) and 0 < value <= MAX_LINE_QUANTITY:
            items[int(key)] = value
    return items


def items() -> dict[int, int]:
    """product id → quantity of the current visitor's cart."""
    if current_user.is_authenticated:
        cart = _stored_cart(current_user.id)
        return {item.product_id: item.quantity for item in cart.items} if cart else {}
    return _session_items()


def count() -> int:
    """How many units the current visitor's cart holds (staff accounts have no cart)."""
    if current_user.is_authenticated:
        if current_user.role != Role.CONSUMER:
            return 0
        return int(db.session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(CartItem.quantity), 0)).join(Cart).where(Cart.user_id == current_user.id)
        ) or 0)
    return sum(_session_items().values())


def _save(new_items: dict[int, int]) -> None:
    if current_user.is_authenticated:
        cart = _stored_cart(current_user.id, create=True)
        by_product = {item.product_id: item for item in cart.items}
        for product_id, item in by_product.items():
            if product_id not in new_items:
                cart.items.remove(item)
        for product_id, quantity in new_items.items():
            if product_id in by_product:
                by_product[product_id].quantity = quantity
            else:
                cart.items.append(CartItem(product_id=product_id, quantity=quantity))
        db.session.commit()
    else:
        session["cart"] = {str(k): v for k, v in new_items.items()}


def set_quantity(product_id: int, quantity: int, *, add: bool = False) -> int:
    """Put ``quantity`` (or ``add`` it to what is there) of a product in the cart."""
    product = catalog.product_for_sale(product_id)  # NotFound for anything not on sale
    current = items()
    if product.id not in current and len(current) >= MAX_LINES:
        raise ValidationFailed(_l("Your cart is full."))
    wanted = (current.get(product.id, 0) + quantity) if add else quantity
    if wanted > MAX_LINE_QUANTITY:
        raise ValidationFailed(_l("The quantity must be between 1 and %(max)d.", max=MAX_LINE_QUANTITY), field="quantity")
    stock = inventory.available(product.id)
    if wanted > stock:
        raise inventory.OutOfStock(_l("Only %(n)d left of this item.", n=stock) if stock else _l("This item is sold out."))
    current[product.id] = wanted
    _save(current)
    return wanted


def remove(product_id: int) -> None:
    current = items()
    if product_id not in current:
        raise NotFound()
    del current[product_id]
    _save(current)


def remove_products(user_id: int, product_ids: list[int]) -> None:
    """Take ordered products out of a consumer's stored cart (the caller commits)."""
    db.session.execute(_remove_products(), {"user_id": user_id, "product_ids": list(product_ids)})


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _remove_products() -> sa.Delete:
    return sa.delete(CartItem).where(
        CartItem.cart_id.in_(sa.select(Cart.id).where(Cart.user_id == sa.bindparam("user_id")).scalar_subquery()),
        CartItem.product_id.in_(sa.bindparam("product_ids", expanding=True)))


def merge_session_cart_into(user_id: int) -> None:
    """At sign-in: the guest cart joins the stored one (larger quantity wins per product)."""
    guest = _session_items()
    session.pop("cart", None)
    if not guest:
        return
    cart = _stored_cart(user_id, create=True)
    by_product = {item.product_id: item for item in cart.items}
    for product_id, quantity in guest.items():
        if db.session.get(Product, product_id) is None:
            continue
        if product_id in by_product:
            by_product[product_id].quantity = max(by_product[product_id].quantity, quantity)
        elif len(by_product) < MAX_LINES:
            by_product[product_id] = CartItem(product_id=product_id, quantity=quantity)
            cart.items.append(by_product[product_id])
    db.session.commit()


def current_cart() -> CartView:
    current = items()
    if not current:
        return CartView([])
    products = db.session.scalars(catalog.on_sale().where(Product.id.in_(current))).unique().all()
    lines = [CartLine(p, current[p.id], inventory.available(p.id)) for p in sorted(products, key=lambda p: p.id)]
    return CartView(lines, unavailable_lines(current, {p.id for p in products}))


def unavailable_lines(cart_items: dict[int, int], on_sale_ids: set[int]) -> list[UnavailableLine]:
    """The cart's products that are not on sale now, each with why."""
    off = [product_id for product_id in cart_items if product_id not in on_sale_ids]
    if not off:
        return []
    products = db.session.scalars(sa.select(Product).where(Product.id.in_(off)).order_by(Product.id)
                                  .options(joinedload(Product.cooperative))).all()
    return [UnavailableLine(p, cart_items[p.id], PRODUCT_NOT_SOLD if p.cooperative.status == CooperativeStatus.APPROVED
                            else COOPERATIVE_NOT_SELLING) for p in products]


@dataclass(frozen=True)
class SourceGroup:
    """Cart lines that would leave from one place, and what that means for the windows."""

    kind: LocationKind
    name_zh: str
    name_en: str
    lines: list[CartLine]


def source_groups(cart: CartView, warehouse_location_id: int | None) -> list[SourceGroup]:
    groups: dict[int, SourceGroup] = {}
    for line in cart.lines:
        stock = next((s for s in inventory.sources_for(line.product.id, warehouse_location_id)
                      if s.available >= line.quantity), None)
        if stock is None:
            continue
        location = stock.location
        group = groups.setdefault(location.id, SourceGroup(location.kind, location.name_zh, location.name_en, []))
        group.lines.append(line)
    return list(groups.values())
