"""Stock operations. Reservations are atomic conditional UPDATEs, so concurrent checkouts can
never reserve more than is on hand (no check-then-write race), on PostgreSQL and SQLite alike."""

from __future__ import annotations

import logging
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import contains_eager

from ..errors import Conflict
from ..extensions import db
from .models import LocationKind, Stock, StockMovement

log = logging.getLogger("shanhuo.inventory")


class OutOfStock(Conflict):
    code = "out_of_stock"
    default_message = _l("Not enough stock left for this item.")


def available(product_id: int, location_ids: list[int] | None = None) -> int:
    query = sa.select(sa.func.coalesce(sa.func.sum(Stock.on_hand - Stock.reserved), 0)).where(
        Stock.product_id == product_id
    )
    if location_ids is not None:
        query = query.where(Stock.location_id.in_(location_ids))
    return int(db.session.scalar(query))


def reserve(stock_id: int, quantity: int, *, order_id: int | None = None, actor_id: int | None = None) -> None:
    """Reserve ``quantity`` units of a stock row or raise OutOfStock. The caller commits."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    result = db.session.execute(_reserve(), {"stock_id": stock_id, "quantity": quantity})
    if result.rowcount != 1:
        raise OutOfStock()
    db.session.add(StockMovement(stock_id=stock_id, delta_reserved=quantity, reason="reserve",
                                 order_id=order_id, actor_user_id=actor_id))


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _reserve() -> sa.Update:
    quantity = sa.bindparam("quantity", type_=sa.Integer)
    return (sa.update(Stock).where(Stock.id == sa.bindparam("stock_id"), Stock.on_hand - Stock.reserved >= quantity)
            .values(reserved=Stock.reserved + quantity).execution_options(synchronize_session=False))


def release(stock_id: int, quantity: int, *, reason: str, order_id: int | None = None,
            actor_id: int | None = None) -> None:
    """Give reserved units back (cancelled or expired order). The caller commits."""
    db.session.execute(
        sa.update(Stock)
        .where(Stock.id == stock_id)
        .values(reserved=sa.func.max(Stock.reserved - quantity, 0) if db.engine.dialect.name == "sqlite"
                else sa.func.greatest(Stock.reserved - quantity, 0))
        .execution_options(synchronize_session=False)
    )
    db.session.add(StockMovement(stock_id=stock_id, delta_reserved=-quantity, reason=reason,
                                 order_id=order_id, actor_user_id=actor_id))


def ship(stock_id: int, quantity: int, *, order_id: int | None = None) -> None:
    """Reserved units leave the location (picked up / loaded): on hand and reserved both drop."""
    db.session.execute(
        sa.update(Stock).where(Stock.id == stock_id)
        .values(on_hand=Stock.on_hand - quantity, reserved=Stock.reserved - quantity)
        .execution_options(synchronize_session=False)
    )
    db.session.add(StockMovement(stock_id=stock_id, delta_on_hand=-quantity, delta_reserved=-quantity,
                                 reason="ship", order_id=order_id))


class StockRefused(Conflict):
    """An adjustment that would leave fewer units on hand than zero or than are reserved."""

    code = "stock_refused"


# --- receipts, adjustments and the batch of the units ---------------------------------------------
#
# Locks: a change of a stock row's on-hand count takes that one row's lock (the UPDATE itself, or
# lock_stock) and nothing else before it, so it can never wait in a cycle with a checkout, which
# locks stock rows in id order and then its warehouse.

def ensure_stock(product_id: int, location_id: int) -> Stock:
    """The stock row of a product at a location, made (empty) if it has none yet. Safe when two
    requests make it at once: the loser of the unique (product, location) takes the winner's."""
    stock = stock_row(product_id, location_id)
    if stock is not None:
        return stock
    try:
        with db.session.begin_nested():
            stock = Stock(product_id=product_id, location_id=location_id, on_hand=0, reserved=0)
            db.session.add(stock)
    except sa.exc.IntegrityError:
        stock = stock_row(product_id, location_id)
        if stock is None:
            raise
    return stock


def receive(stock_id: int, quantity: int, *, reason: str = "receipt", batch_id: int | None = None,
            actor_id: int | None = None, note: str = "") -> None:
    """Units come in (a batch produced, goods delivered to a warehouse): on hand grows, in one
    atomic UPDATE; the movement names the batch. The caller commits."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    db.session.execute(sa.update(Stock).where(Stock.id == stock_id).values(on_hand=Stock.on_hand + quantity)
                       .execution_options(synchronize_session=False))
    db.session.add(StockMovement(stock_id=stock_id, delta_on_hand=quantity, reason=reason, batch_id=batch_id,
                                 actor_user_id=actor_id, note=note[:200]))


def lock_stock(stock_id: int) -> Stock | None:
    """The stock row as it is once locked for this transaction (PostgreSQL: FOR NO KEY UPDATE,
    the lock a checkout's reserving UPDATE takes; SQLite: the database's write lock, taken by a
    no-op UPDATE, as SQLite has no row locks)."""
    if db.engine.dialect.name == "sqlite":
        db.session.execute(sa.update(Stock).where(Stock.id == stock_id).values(on_hand=Stock.on_hand)
                           .execution_options(synchronize_session=False))
        query = sa.select(Stock).where(Stock.id == stock_id)
    else:
        query = sa.select(Stock).where(Stock.id == stock_id).with_for_update(key_share=True)
    return db.session.scalar(query.execution_options(populate_existing=True))


def adjust(stock_id: int, *, reason: str, delta: int | None = None, counted: int | None = None,
           actor_id: int | None = None, note: str = "") -> StockMovement:
    """Change a stock row's on-hand count by ``delta`` or set it to a ``counted`` number, under
    the row's lock; refused (StockRefused, nothing written) when fewer units than are reserved
    for orders would be left, or fewer than none. Returns the movement (delta 0 when a count
    finds what the books say). The caller commits."""
    if (delta is None) == (counted is None):
        raise ValueError("give delta or counted")
    stock = lock_stock(stock_id)
    if stock is None:
        raise ValueError(f"no stock row {stock_id}")
    new_on_hand = counted if counted is not None else stock.on_hand + delta
    if new_on_hand < 0:
        raise StockRefused(_l("Only %(n)d units are on hand.", n=stock.on_hand))
    if new_on_hand < stock.reserved:
        raise StockRefused(_l("%(reserved)d units are reserved for orders: on hand cannot go below that "
                              "(it would be %(n)d).", reserved=stock.reserved, n=new_on_hand))
    change = new_on_hand - stock.on_hand
    stock.on_hand = new_on_hand
    movement = StockMovement(stock_id=stock_id, delta_on_hand=change, reason=reason, actor_user_id=actor_id,
                             note=note[:200])
    db.session.add(movement)
    db.session.flush()
    return movement


def reserved_batches(quantities: dict[int, int]) -> dict[int, int | None]:
    """Which batch units just reserved come from, per stock row (``{stock_id: units reserved}``;
    call it after the reservations, in their transaction: the rows are then locked, so the
    answer is exact). One query. The rule is first in, first out: a location's units leave
    oldest first (orders, shipments, losses alike), so the units on hand are the newest
    ``on_hand`` that came in, the reserved ones the oldest of those; the first of the units
    just reserved is the (available + just reserved)-th newest unit that came in, and its batch
    is the one recorded on the order line. Units that came in without a batch (the opening
    stock, a count that found more) give None: the batch is not known, never guessed."""
    if not quantities:
        return {}
    rows = db.session.execute(_inflows(), {"ids": list(quantities)})
    out: dict[int, int | None] = dict.fromkeys(quantities)
    counted: dict[int, int] = {}
    for stock_id, on_hand, reserved, batch_id, units in rows:
        target = on_hand - reserved + quantities[stock_id]  # position of the first unit, newest first
        before = counted.get(stock_id, 0)
        if before >= target:
            continue  # found already
        counted[stock_id] = before + units
        if before + units >= target:
            out[stock_id] = batch_id
    return out


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _inflows() -> sa.Select:
    return (sa.select(Stock.id, Stock.on_hand, Stock.reserved, StockMovement.batch_id, StockMovement.delta_on_hand)
            .join(StockMovement, sa.and_(StockMovement.stock_id == Stock.id,
                                             # a literal, as in the partial index it is to use
                                             StockMovement.delta_on_hand > sa.literal_column("0")))
            .where(Stock.id.in_(sa.bindparam("ids", expanding=True)))
            .order_by(Stock.id, StockMovement.id.desc()))


def stock_row(product_id: int, location_id: int) -> Stock | None:
    return db.session.scalar(sa.select(Stock).where(Stock.product_id == product_id, Stock.location_id == location_id))


def stock_rows_of(lines) -> list[tuple[Stock, Any]]:
    """The stock row each order line was reserved from (one query), in stock id order: the
    order in which every transaction locks stock rows (then the warehouse), so none waits for
    another in a cycle. A line whose stock row is gone is logged and left out."""
    lines = list(lines)
    pairs = {(line.product_id, line.source_location_id) for line in lines}
    rows = db.session.scalars(
        sa.select(Stock).where(sa.tuple_(Stock.product_id, Stock.location_id).in_(pairs))) if pairs else []
    by_pair = {(stock.product_id, stock.location_id): stock for stock in rows}
    out = []
    for line in lines:
        stock = by_pair.get((line.product_id, line.source_location_id))
        if stock is None:
            log.warning("no stock row for an order line", extra={"order_id": line.order_id, "line_id": line.id})
            continue
        out.append((stock, line))
    return sorted(out, key=lambda pair: pair[0].id)


def sources_for(product_id: int, warehouse_location_id: int | None) -> list[Stock]:
    """Where an order's units can come from, best first: the serving warehouse, then the
    cooperative (needs a pickup). Other warehouses are not used (no transfers at checkout)."""
    rows = db.session.scalars(_sources_for(), {"product_id": product_id}).all()
    warehouse = [s for s in rows if s.location_id == warehouse_location_id]
    farm = [s for s in rows if s.location.kind == LocationKind.COOPERATIVE]
    return warehouse + farm


@cache
def _sources_for() -> sa.Select:
    return (sa.select(Stock).join(Stock.location).options(contains_eager(Stock.location))
            .where(Stock.product_id == sa.bindparam("product_id"), Stock.on_hand > Stock.reserved))


# --- milk runs: units received at a warehouse (brief C; marketplace/coop/replenishment.py) -----


def receive_move(product_id: int, location_id: int, quantity: int, *, batch_id: int | None = None,
                 actor_id: int | None = None, note: str = "") -> Stock:
    """Units arrive on hand at a location (a milk run unloaded at its warehouse): its stock row
    (made if the location never held the product) grows, a "receipt" movement with the batch is
    written. The caller commits."""
    if quantity <= 0:
        raise ValueError("quantity must be positive")
    stock = db.session.scalar(sa.select(Stock).where(Stock.product_id == product_id, Stock.location_id == location_id)
                              .with_for_update())
    if stock is None:
        stock = Stock(product_id=product_id, location_id=location_id, on_hand=0, reserved=0)
        db.session.add(stock)
        db.session.flush()
    db.session.execute(sa.update(Stock).where(Stock.id == stock.id).values(on_hand=Stock.on_hand + quantity)
                       .execution_options(synchronize_session=False))
    db.session.add(StockMovement(stock_id=stock.id, delta_on_hand=quantity, reason="receipt", batch_id=batch_id,
                                 actor_user_id=actor_id, note=note[:200]))
    return stock
