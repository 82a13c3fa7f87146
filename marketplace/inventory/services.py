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
