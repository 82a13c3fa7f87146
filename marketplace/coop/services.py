"""The cooperative portal's operations, always scoped to the head's own cooperative."""
# (the sections' own operations: listings.py, stock.py, pickups.py, replenishment.py, stats.py)

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from ..auth.models import User
from ..catalog.models import Product
from ..errors import NotAllowed, NotFound
from ..extensions import db
from ..orders.models import Order, OrderLine, OrderStatus
from .models import Cooperative


def cooperative_of(user: User) -> Cooperative:
    if user.cooperative_id is None:
        raise NotAllowed()
    return db.session.get(Cooperative, user.cooperative_id)


def own_product(cooperative_id: int, product_id: int | None) -> Product:
    """The cooperative's product; 404 for anyone else's (as for one that does not exist): every
    portal URL naming a product goes through here."""
    product = db.session.get(Product, product_id) if product_id else None
    if product is None or product.cooperative_id != cooperative_id:
        raise NotFound()
    return product


def sales_summary(cooperative_id: int) -> dict[str, int]:
    row = db.session.execute(
        sa.select(sa.func.count(sa.distinct(OrderLine.order_id)), sa.func.coalesce(sa.func.sum(OrderLine.line_total_fen), 0))
        .join(OrderLine.product)
        .join(OrderLine.order)
        .where(Product.cooperative_id == cooperative_id, Order.status != OrderStatus.CANCELLED, Order.status != OrderStatus.EXPIRED)
    ).one()
    return {"orders": int(row[0]), "revenue_fen": int(row[1])}


def overview(coop: Cooperative, now: datetime | None = None) -> dict[str, Any]:
    """What the head needs to see first: today's and the next pickups still to prepare, low stock,
    listings waiting for the operator or sent back, and the totals."""
    from . import listings, pickups, stock

    days = pickups.pick_days(coop.id, now)
    open_pickups = [p for day in days for p in day.pickups if p.state in ("to_prepare", "partly")]
    rows = listings.listings_of(coop.id)
    return {
        "sales": sales_summary(coop.id),
        "products": len(rows),
        "on_sale": sum(1 for row in rows if row.product.status.value == "active"),
        "pending": [row for row in rows if row.pending is not None],
        "rejected": [row for row in rows if row.rejected is not None and row.pending is None],
        "low_stock": stock.low_stock(coop.id),
        "pickups": open_pickups,
        "mismatches": [p for day in days for p in day.pickups if p.state == "mismatch"],
    }
