"""Order queries and state changes. A consumer only ever sees their own orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..errors import Conflict, NotFound
from ..extensions import db
from .models import Order, OrderEvent, OrderStatus


def orders_of(user_id: int, limit: int = 50) -> list[Order]:
    """The consumer's latest orders (those overdue for payment expired first, as in ``order_of``)."""
    from ..payments import services as payments

    payments.expire_overdue_of(user_id)
    query = (
        sa.select(Order)
        .where(Order.user_id == user_id)
        .options(selectinload(Order.lines), selectinload(Order.window_class))
        .order_by(Order.placed_at.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query))


def order_of(user_id: int, number: str) -> Order:
    """The consumer's own order; someone else's order is simply not found (404, not 403). One
    overdue for payment is expired first, so it shows expired with its stock back even when no
    scheduler runs (``payments.expire_if_overdue``)."""
    from ..payments import services as payments

    query = (sa.select(Order).where(Order.number == number, Order.user_id == user_id)
             .options(selectinload(Order.lines), selectinload(Order.events), selectinload(Order.compensations)))
    order = db.session.scalar(query)
    if order is None:
        raise NotFound()
    if payments.expire_if_overdue(order):
        order = db.session.scalar(query.execution_options(populate_existing=True))  # read again, expired
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


class CannotCancel(Conflict):
    code = "cannot_cancel"
    default_message = _l("This order can no longer be cancelled: it is already on its way.")


CANCELLABLE = (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED)


@dataclass(frozen=True)
class Tracking:
    """Where the order stands in the current plan."""

    eta_at: datetime | None
    vehicle_plate: str | None
    stops_before: int
    stops_done: int


def tracking(order: Order) -> Tracking | None:
    from ..dispatch.models import Plan, PlanStatus, Route, Stop, StopKind, StopStatus

    stop = db.session.scalar(
        sa.select(Stop).join(Stop.route).join(Route.plan)
        .where(Stop.order_id == order.id, Stop.kind == StopKind.DELIVERY, Plan.status == PlanStatus.ACTIVE)
        .order_by(Stop.id.desc()).limit(1)
    )
    if stop is None:
        return None
    before = [s for s in stop.route.stops if s.sequence < stop.sequence]
    return Tracking(
        eta_at=stop.actual_arrival_at or stop.planned_arrival_at,
        vehicle_plate=stop.route.vehicle.plate,
        stops_before=len(before),
        stops_done=sum(1 for s in before if s.status == StopStatus.DONE),
    )


def cancel(user_id: int, number: str, reason: str = "") -> Order:
    """Cancel the consumer's own order before dispatch: stock released, refund recorded,
    its stops taken out of the plan. Safe against double submission (row lock + status check)."""
    from ..inventory import services as inventory
    from ..payments import services as payments
    from ..planning import services as planning

    # FOR NO KEY UPDATE (PostgreSQL): two cancels still queue, but a re-plan that holds the
    # warehouse and routes this order (a foreign-key check) is not blocked, so no deadlock below.
    order = db.session.scalar(
        sa.select(Order).where(Order.number == number, Order.user_id == user_id).with_for_update(key_share=True)
    )
    if order is None:
        raise NotFound()
    if order.status not in CANCELLABLE:
        raise CannotCancel()
    for stock, line in inventory.stock_rows_of(order.lines):
        inventory.release(stock.id, line.quantity, reason="cancel", order_id=order.id, actor_id=user_id)
    if order.warehouse_id:  # its stops leave the plan; the stock is locked before the warehouse, as at checkout
        planning.bump_plan_version(order.warehouse_id)
    record_event(order, "cancelled", to_status=OrderStatus.CANCELLED, actor_id=user_id,
                 data={"reason": reason[:200]} if reason else {})
    order.cancel_reason = reason[:200]
    # Paid: refunded. Unpaid: its open payment is closed so it can no longer be paid.
    payments.refund(order, order.total_fen, "cancelled by the consumer")
    planning.take_out_of_plan(order.id)
    db.session.commit()
    return order
