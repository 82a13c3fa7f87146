"""Order queries and state changes. A consumer only ever sees their own orders."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..errors import NotFound
from ..extensions import db
from .models import Order, OrderEvent, OrderStatus


def orders_of(user_id: int, limit: int = 50) -> list[Order]:
    query = (
        sa.select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.window_class))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def order_of(user_id: int, number: str) -> Order:
    """The consumer's own order; someone else's order is simply not found (404, not 403)."""
    order = db.session.scalar(
        sa.select(Order)
        .where(Order.number == number, Order.user_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.events), selectinload(Order.compensations))
    )
    if order is None:
        raise NotFound()
    return order


def record_event(
    order: Order, kind: str, *, to_status: OrderStatus | None = None, actor_id: int | None = None,
    data: dict | None = None,
) -> OrderEvent:
    """Append an event (and move the status if given). The caller commits."""
    event = OrderEvent(
        order=order, kind=kind, from_status=order.status.value if order.status else None,
        to_status=to_status.value if to_status else None, actor_user_id=actor_id, data=data or {},
    )
    if to_status is not None:
        order.status = to_status
    db.session.add(event)
    return event
