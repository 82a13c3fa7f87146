"""The cooperative's stock: production batches (received into its site's stock), stock per
location with adjustments and low-stock thresholds, and the ledger of every movement. Every
function is scoped to one cooperative: another cooperative's product, stock row or batch is
NotFound, exactly as one that does not exist."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased, joinedload

from ..auth.models import Role, User
from ..catalog.models import Batch, Product, ProductStatus
from ..columns import utcnow
from ..csvfile import csv_lines
from ..dispatch.models import Replenishment, ReplenishmentStatus
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..geo.models import Town, Village
from ..i18n import LOCAL_TZ
from ..inventory import services as inventory
from ..inventory.models import Location, LocationKind, Stock, StockMovement
from ..orders.models import Order, OrderLine, OrderStatus
from .services import own_product

MAX_UNITS = 1_000_000  # one batch, one adjustment, one threshold: beyond this it is a typing slip
LEDGER_PAGE = 50

#: adjustment reasons a head can give (the movement's reason), in the form's order
ADJUST_REASONS: dict[str, object] = {
    "count": _l("Stock count (set on hand to the counted number)"),
    "damage": _l("Damaged"),
    "spoilage": _l("Spoiled"),
    "found": _l("Found"),
    "other": _l("Other (explain in the note)"),
}
#: what every movement reason is called in the ledger
REASON_NAMES: dict[str, object] = {
    "receipt": _l("Received"),
    "reserve": _l("Reserved for an order"),
    "ship": _l("Handed over"),
    "cancelled": _l("Released: order cancelled"),
    "expired": _l("Released: payment expired"),
    "release": _l("Released"),
    "seed": _l("Opening stock"),
    "count": _l("Stock count"),
    "damage": _l("Damaged"),
    "spoilage": _l("Spoiled"),
    "found": _l("Found"),
    "other": _l("Other"),
}


class NoSite(Conflict):
    code = "no_site"
    default_message = _l("Your cooperative has no site to keep stock at yet. Please ask the operator to add it.")


# --- scope -------------------------------------------------------------------------------------

def site_of(cooperative_id: int) -> Location:
    """The cooperative's own site (where its batches are received)."""
    site = db.session.scalar(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE,
                                                       Location.cooperative_id == cooperative_id)
                             .order_by(Location.id).limit(1))
    if site is None:
        raise NoSite()
    return site


def own_stock(cooperative_id: int, stock_id: int) -> Stock:
    stock = db.session.scalar(sa.select(Stock).join(Stock.product).where(
        Stock.id == stock_id, Product.cooperative_id == cooperative_id))
    if stock is None:
        raise NotFound()
    return stock


def products_of(cooperative_id: int) -> list[Product]:
    """The cooperative's products that can hold stock (not delisted), by SKU."""
    return list(db.session.scalars(sa.select(Product).where(
        Product.cooperative_id == cooperative_id, Product.status != ProductStatus.DELISTED).order_by(Product.sku)))


def villages_for(cooperative_id: int) -> list[Village]:
    """The villages of the cooperative's county (where a batch can come from), by town."""
    from .models import Cooperative

    county_id = db.session.scalar(sa.select(Town.county_id).join(Village, Village.town_id == Town.id)
                                  .join(Cooperative, Cooperative.village_id == Village.id)
                                  .where(Cooperative.id == cooperative_id))
    return list(db.session.scalars(sa.select(Village).join(Village.town).where(Town.county_id == county_id)
                                   .options(joinedload(Village.town)).order_by(Town.code, Village.code)))


def local_today(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


# --- batches -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class BatchRow:
    batch: Batch
    ordered: int  # units of it on consumers' orders (cancelled and expired ones left out)


def batches(cooperative_id: int, product_id: int | None = None, limit: int = 200) -> list[tuple[Product, list[BatchRow]]]:
    """The cooperative's batches per product (products by SKU), newest production first, each
    with the units consumers ordered from it."""
    ordered = (sa.select(OrderLine.batch_id, sa.func.sum(OrderLine.quantity).label("units"))
               .join(Order, Order.id == OrderLine.order_id)
               .join(Product, Product.id == OrderLine.product_id)
               .where(Product.cooperative_id == cooperative_id, OrderLine.batch_id.is_not(None),
                      Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.EXPIRED]))
               .group_by(OrderLine.batch_id).subquery())
    query = (sa.select(Batch, sa.func.coalesce(ordered.c.units, 0)).join(Batch.product)
             .outerjoin(ordered, ordered.c.batch_id == Batch.id)
             .where(Product.cooperative_id == cooperative_id)
             .options(joinedload(Batch.origin_village).joinedload(Village.town))
             .order_by(Product.sku, Batch.production_date.desc(), Batch.id.desc()).limit(limit))
    if product_id is not None:
        query = query.where(Batch.product_id == product_id)
    out: dict[int, tuple[Product, list[BatchRow]]] = {}
    for batch, units in db.session.execute(query):
        out.setdefault(batch.product_id, (batch.product, []))[1].append(BatchRow(batch, int(units)))
    return list(out.values())


def check_production_date(product: Product, produced: date, today: date) -> None:
    """A batch's production date is a day that has come (not in the future), and its goods are
    still within their shelf life today: a batch that expired already would be received into
    stock that may not be sold. Goods without a shelf life (bamboo charcoal) take any past day."""
    if produced > today:
        raise ValidationFailed(_l("The production date cannot be in the future."), field="production_date")
    if produced.year < 2000:
        raise ValidationFailed(_l("Enter the production date as year-month-day, e.g. 2026-12-01."),
                               field="production_date")
    if product.shelf_life_days and produced + timedelta(days=product.shelf_life_days) <= today:
        raise ValidationFailed(
            _l("Goods produced on %(date)s are past their shelf life of %(days)d days (expired on %(expired)s): "
               "they cannot be received for sale.", date=produced.isoformat(), days=product.shelf_life_days,
               expired=(produced + timedelta(days=product.shelf_life_days)).isoformat()),
            field="production_date")


def add_batch(cooperative_id: int, *, product_id: int, production_date: date, origin_village_id: int,
              quantity: int, actor_id: int | None, now: datetime | None = None) -> Batch:
    """Record a production batch and receive its units into the cooperative site's stock, in one
    transaction (a "receipt" movement naming the batch). Its code is the cooperative's code, the
    production day and a running number of that day: C01-20261201-01."""
    from .models import Cooperative

    product = own_product(cooperative_id, product_id)
    if product.status == ProductStatus.DELISTED:
        raise ValidationFailed(_l("This product is delisted: it takes no new batches."), field="product_id")
    check_production_date(product, production_date, local_today(now))
    if not 1 <= quantity <= MAX_UNITS:
        raise ValidationFailed(_l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS), field="quantity")
    if origin_village_id not in {v.id for v in villages_for(cooperative_id)}:
        raise ValidationFailed(_l("Choose a village of the county."), field="origin_village_id")
    site = site_of(cooperative_id)
    coop = db.session.get(Cooperative, cooperative_id)
    prefix = f"{coop.code}-{production_date:%Y%m%d}-"
    taken = db.session.scalar(sa.select(sa.func.count()).select_from(Batch).where(Batch.code.like(prefix + "%")))
    try:
        for number in range(taken + 1, taken + 20):  # a number taken meanwhile by another request: the next
            try:
                with db.session.begin_nested():
                    batch = Batch(product_id=product.id, code=f"{prefix}{number:02d}", production_date=production_date,
                                  origin_village_id=origin_village_id, quantity=quantity)
                    db.session.add(batch)
                break
            except IntegrityError:
                continue
        else:
            raise Conflict(_l("Could not number the batch. Please try again."))
        stock = inventory.ensure_stock(product.id, site.id)
        inventory.receive(stock.id, quantity, batch_id=batch.id, actor_id=actor_id,
                          note=batch.code)
        # (no plan version to bump: quotes read stock afresh, see planning.promise.pick_sources)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return batch


def recent_batches(product: Product, limit: int = 5) -> list[Batch]:
    """A product's latest batches for its page (newest production first)."""
    return sorted(product.batches, key=lambda b: (b.production_date, b.id), reverse=True)[:limit]


def line_batches(order: Order) -> dict[int, Batch]:
    """The batch of each line of an order (line id → batch), in one query."""
    ids = {line.batch_id for line in order.lines if line.batch_id}
    if not ids:
        return {}
    found = {b.id: b for b in db.session.scalars(
        sa.select(Batch).where(Batch.id.in_(ids)).options(joinedload(Batch.origin_village).joinedload(Village.town)))}
    return {line.id: found[line.batch_id] for line in order.lines if line.batch_id in found}


# --- stock per location ------------------------------------------------------------------------

@dataclass
class StockLine:
    stock: Stock
    in_transit: int = 0

    @property
    def low(self) -> bool:
        return self.stock.available <= self.stock.low_stock_at


@dataclass
class ProductStockLines:
    product: Product
    lines: list[StockLine] = field(default_factory=list)
    transit_only: list[tuple[Location, int]] = field(default_factory=list)  # on the way where no row is yet

    @property
    def available(self) -> int:
        return sum(line.stock.available for line in self.lines)


def stock_overview(cooperative_id: int) -> list[ProductStockLines]:
    """For each of the cooperative's products, every location holding it (the site first, then
    the warehouses): on hand, reserved, available, the units on a van towards it, and whether it
    is low. Three queries."""
    products = products_of(cooperative_id)
    stocks = db.session.scalars(
        sa.select(Stock).join(Stock.product).join(Stock.location)
        .where(Product.cooperative_id == cooperative_id)
        .options(joinedload(Stock.location))
        .order_by(Stock.product_id, (Location.kind == LocationKind.COOPERATIVE).desc(), Location.code)).all()
    transit = db.session.execute(
        sa.select(Replenishment.product_id, Replenishment.to_location_id, sa.func.sum(Replenishment.quantity))
        .join(Product, Product.id == Replenishment.product_id)
        .where(Product.cooperative_id == cooperative_id, Replenishment.status == ReplenishmentStatus.IN_TRANSIT)
        .group_by(Replenishment.product_id, Replenishment.to_location_id)).all()
    in_transit = {(p, loc): int(n) for p, loc, n in transit}
    by_product = {p.id: ProductStockLines(p) for p in products}
    for stock in stocks:
        if stock.product_id in by_product:
            by_product[stock.product_id].lines.append(
                StockLine(stock, in_transit.pop((stock.product_id, stock.location_id), 0)))
    if in_transit:
        locations = {loc.id: loc for loc in db.session.scalars(
            sa.select(Location).where(Location.id.in_({loc for _, loc in in_transit})))}
        for (product_id, location_id), units in in_transit.items():
            if product_id in by_product:
                by_product[product_id].transit_only.append((locations[location_id], units))
    return list(by_product.values())


def adjust_stock(cooperative_id: int, stock_id: int, *, reason: str, quantity: int, note: str,
                 actor_id: int | None) -> StockMovement:
    """An adjustment with a reason: ``count`` sets on hand to ``quantity`` (the counted number);
    ``damage`` and ``spoilage`` take ``quantity`` units off; ``found`` adds them; ``other`` adds
    a signed ``quantity`` and needs a note. Refused when on hand would go below zero or below the
    units reserved for orders (inventory.adjust holds the row's lock: a checkout racing it waits
    or goes first, never both counted wrong). One transaction."""
    own_stock(cooperative_id, stock_id)
    note = (note or "").strip()
    if reason not in ADJUST_REASONS:
        raise ValidationFailed(_l("Choose a reason."), field="reason")
    if reason == "other" and not note:
        raise ValidationFailed(_l("Explain an adjustment for another reason in the note."), field="note")
    if len(note) > 200:
        raise ValidationFailed(_l("At most 200 characters."), field="note")
    if abs(quantity) > MAX_UNITS:
        raise ValidationFailed(_l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS), field="quantity")
    if reason == "count":
        if quantity < 0:
            raise ValidationFailed(_l("A count cannot be negative."), field="quantity")
        change = {"counted": quantity}
    elif reason == "other":
        if quantity == 0:
            raise ValidationFailed(_l("Enter the change: a positive number adds units, a negative one takes "
                                      "them off."), field="quantity")
        change = {"delta": quantity}
    else:
        if quantity <= 0:
            raise ValidationFailed(_l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS), field="quantity")
        change = {"delta": quantity if reason == "found" else -quantity}
    try:
        movement = inventory.adjust(stock_id, reason=reason, actor_id=actor_id, note=note, **change)
        # (no plan version to bump: quotes read stock afresh, see planning.promise.pick_sources)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return movement


def set_threshold(cooperative_id: int, stock_id: int, threshold: int) -> Stock:
    stock = own_stock(cooperative_id, stock_id)
    if not 0 <= threshold <= MAX_UNITS:
        raise ValidationFailed(_l("Enter a threshold from 0 to %(most)d.", most=MAX_UNITS), field="threshold")
    stock.low_stock_at = threshold
    db.session.commit()
    return stock


@dataclass(frozen=True)
class LowStock:
    product: Product
    location: Location
    available: int
    threshold: int


def low_stock(cooperative_id: int) -> list[LowStock]:
    """The cooperative's stock rows whose available units are at or below their threshold
    (products on sale or waiting to be; least available first). For the portal's overview."""
    rows = db.session.scalars(
        sa.select(Stock).join(Stock.product).join(Stock.location)
        .where(Product.cooperative_id == cooperative_id,
               Product.status.in_([ProductStatus.ACTIVE, ProductStatus.PENDING, ProductStatus.REVIEW]),
               Stock.on_hand - Stock.reserved <= Stock.low_stock_at)
        .options(joinedload(Stock.product), joinedload(Stock.location))
        .order_by(Stock.on_hand - Stock.reserved, Product.sku, Location.code)).all()
    return [LowStock(s.product, s.location, s.available, s.low_stock_at) for s in rows]


# --- the ledger --------------------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerFilter:
    product_id: int | None = None
    location_id: int | None = None
    reason: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def params(self) -> dict[str, str]:
        """As query-string arguments (for paging and the CSV link)."""
        values = {"product": self.product_id, "location": self.location_id, "reason": self.reason,
                  "from": self.date_from.isoformat() if self.date_from else None,
                  "to": self.date_to.isoformat() if self.date_to else None}
        return {k: str(v) for k, v in values.items() if v}


@dataclass(frozen=True)
class LedgerEntry:
    movement: StockMovement
    product: Product
    location: Location
    actor_name: str | None
    order_number: str | None
    batch_code: str | None


@dataclass(frozen=True)
class LedgerPage:
    entries: list[LedgerEntry]
    total: int
    page: int
    pages: int


def ledger_locations(cooperative_id: int) -> list[Location]:
    """Locations where the cooperative's products have (had) stock: the filter's choices."""
    return list(db.session.scalars(
        sa.select(Location).where(Location.id.in_(
            sa.select(Stock.location_id).join(Stock.product).where(Product.cooperative_id == cooperative_id)))
        .order_by((Location.kind == LocationKind.COOPERATIVE).desc(), Location.code)))


def check_filter(cooperative_id: int, filters: LedgerFilter) -> None:
    """Another cooperative's product or a location none of its stock is at: 404."""
    if filters.product_id is not None:
        own_product(cooperative_id, filters.product_id)
    if filters.location_id is not None and filters.location_id not in {
            loc.id for loc in ledger_locations(cooperative_id)}:
        raise NotFound()
    if filters.reason is not None and not _known_reason(filters.reason):
        raise ValidationFailed(_l("Choose a reason."), field="reason")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise ValidationFailed(_l("The first day comes after the last one."), field="from")


def _known_reason(reason: str) -> bool:
    return len(reason) <= 32 and reason.replace("_", "").isalnum()


def _ledger_query(cooperative_id: int, filters: LedgerFilter) -> sa.Select:
    actor = aliased(User)
    query = (sa.select(StockMovement, Product, Location, actor.name, actor.role, Order.number, Batch.code)
             .join(Stock, Stock.id == StockMovement.stock_id)
             .join(Product, Product.id == Stock.product_id)
             .join(Location, Location.id == Stock.location_id)
             .outerjoin(actor, actor.id == StockMovement.actor_user_id)
             .outerjoin(Order, Order.id == StockMovement.order_id)
             .outerjoin(Batch, Batch.id == StockMovement.batch_id)
             .where(Product.cooperative_id == cooperative_id))
    if filters.product_id is not None:
        query = query.where(Stock.product_id == filters.product_id)
    if filters.location_id is not None:
        query = query.where(Stock.location_id == filters.location_id)
    if filters.reason:
        query = query.where(StockMovement.reason == filters.reason)
    if filters.date_from:
        query = query.where(StockMovement.created_at >= _day_start(filters.date_from))
    if filters.date_to:
        query = query.where(StockMovement.created_at < _day_start(filters.date_to + timedelta(days=1)))
    return query


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(), LOCAL_TZ).astimezone(UTC)


def _entry(row) -> LedgerEntry:
    movement, product, location, actor_name, actor_role, number, code = row
    if actor_role is None:
        actor = None  # the system (a scheduled job, the planner)
    elif actor_role == Role.CONSUMER:
        actor = str(_l("a consumer"))  # a consumer's name is not the cooperative's to see
    else:
        actor = actor_name or str(_l("staff"))
    return LedgerEntry(movement, product, location, actor, number, code)


def ledger(cooperative_id: int, filters: LedgerFilter, page: int = 1) -> LedgerPage:
    """Every movement of the cooperative's stock, newest first, a page at a time."""
    check_filter(cooperative_id, filters)
    query = _ledger_query(cooperative_id, filters)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.with_only_columns(StockMovement.id)
                                                                      .subquery()))
    pages = max(1, math.ceil(total / LEDGER_PAGE))
    page = min(max(1, page), pages)
    rows = db.session.execute(query.order_by(StockMovement.id.desc())
                              .limit(LEDGER_PAGE).offset((page - 1) * LEDGER_PAGE))
    return LedgerPage([_entry(r) for r in rows], total, page, pages)


def ledger_csv(cooperative_id: int, filters: LedgerFilter, names: dict[str, str]) -> Iterator[str]:
    """The filtered ledger as CSV text, a row at a time (times in Shanghai). ``names``: how the
    reasons read in the requester's language."""
    check_filter(cooperative_id, filters)
    query = _ledger_query(cooperative_id, filters).order_by(StockMovement.id.desc())

    def rows():
        yield ["time", "sku", "product", "location", "reason", "reason_text", "on_hand_change", "reserved_change",
               "order", "batch", "by", "note"]
        for row in db.session.execute(query.execution_options(yield_per=500)):
            entry = _entry(row)
            m = entry.movement
            yield [m.created_at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M:%S"), entry.product.sku,
                   entry.product.name_zh, entry.location.code, m.reason, names.get(m.reason, m.reason),
                   m.delta_on_hand, m.delta_reserved, entry.order_number or "", entry.batch_code or "",
                   entry.actor_name or "", m.note]

    return csv_lines(rows())
