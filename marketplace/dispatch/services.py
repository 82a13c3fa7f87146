"""Dispatch overview: warehouses, their fleet, their current plan and open alerts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from ..columns import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order, OrderStatus
from .models import (
    Alert,
    Plan,
    PlanEvent,
    PlanStatus,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
)


@dataclass(frozen=True)
class WarehouseBoard:
    warehouse: Warehouse
    plan: Plan | None
    open_orders: int


def active_plan(warehouse_id: int) -> Plan | None:
    return db.session.scalar(
        sa.select(Plan)
        .where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.id.desc())
        .limit(1)
    )


def boards() -> list[WarehouseBoard]:
    warehouses = db.session.scalars(
        sa.select(Warehouse)
        .options(selectinload(Warehouse.vehicles).selectinload(Vehicle.driver), selectinload(Warehouse.zones))
        .order_by(Warehouse.code)
    ).all()
    open_counts = dict(
        db.session.execute(
            sa.select(Order.warehouse_id, sa.func.count())
            .where(Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.DISPATCHED]))
            .group_by(Order.warehouse_id)
        ).all()
    )
    return [WarehouseBoard(w, active_plan(w.id), int(open_counts.get(w.id, 0))) for w in warehouses]


def open_alerts(limit: int = 50) -> list[Alert]:
    return list(
        db.session.scalars(
            sa.select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.created_at.desc()).limit(limit)
        )
    )


# --- execution: what drivers record (the planner continues the day from it) --------------------


class NotInActivePlan(Conflict):
    code = "not_in_active_plan"
    default_message = _l("This route is no longer part of the current plan.")


def start_route(route_id: int, *, at: datetime | None = None, actor_id: int | None = None) -> Route:
    """The van leaves its depot: its route is under way (re-plans and quotes continue from
    where it is, with its goods on board) and its confirmed orders are dispatched. Idempotent."""
    from ..orders import services as orders
    from ..planning import services as planning

    at = at or utcnow()
    route = db.session.scalar(sa.select(Route).join(Plan).where(Route.id == route_id, Plan.status == PlanStatus.ACTIVE)
                              .with_for_update(of=Route))
    if route is None:
        raise NotInActivePlan()
    if route.status != RouteStatus.PLANNED:
        return route
    route.status = RouteStatus.STARTED
    route.start_at = at
    for stop in route.stops:
        if stop.kind == StopKind.DELIVERY and stop.order is not None and stop.order.status == OrderStatus.CONFIRMED:
            orders.record_event(stop.order, "dispatched", to_status=OrderStatus.DISPATCHED, actor_id=actor_id,
                                data={"vehicle_id": route.vehicle_id})
    db.session.add(PlanEvent(plan_id=route.plan_id, kind="route_started", actor_user_id=actor_id,
                             data={"route_id": route.id, "at": at.isoformat()}))
    planning.bump_plan_version(route.plan.warehouse_id)
    db.session.commit()
    return route


def record_stop(stop_id: int, outcome: StopStatus, *, at: datetime | None = None, actor_id: int | None = None,
                proof: dict | None = None) -> Stop:
    """A stop made (``DONE``) or not (``FAILED``): actual times stored (the delivery record the
    feedback loop learns from); a delivery done delivers its order. Idempotent."""
    from ..inventory import services as inventory
    from ..orders import services as orders
    from ..planning import services as planning

    if outcome not in (StopStatus.DONE, StopStatus.FAILED):
        raise ValueError(outcome)
    at = at or utcnow()
    stop = db.session.scalar(sa.select(Stop).where(Stop.id == stop_id).with_for_update())
    if stop is None:
        raise NotFound()
    if stop.status in (StopStatus.DONE, StopStatus.FAILED):
        return stop
    stop.status = outcome
    stop.actual_arrival_at = stop.actual_arrival_at or at
    stop.actual_departure_at = at
    stop.proof = proof
    order = stop.order
    if order is not None and stop.kind == StopKind.DELIVERY and outcome == StopStatus.DONE \
            and order.status in (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.PENDING_PAYMENT):
        order.delivered_at = at
        orders.record_event(order, "delivered", to_status=OrderStatus.DELIVERED, actor_id=actor_id,
                            data={"stop_id": stop.id})
        for line in order.lines:  # handed over: the reserved units leave the books of their location
            source = inventory.stock_row(line.product_id, line.source_location_id)
            if source is not None:
                inventory.ship(source.id, line.quantity, order_id=order.id)
    db.session.add(PlanEvent(plan_id=stop.route.plan_id, kind=f"stop_{outcome.value}", actor_user_id=actor_id,
                             data={"stop_id": stop.id, "at": at.isoformat()}))
    planning.bump_plan_version(stop.route.plan.warehouse_id)
    db.session.commit()
    return stop
