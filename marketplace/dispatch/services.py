"""Dispatch overview: warehouses, their fleet, their current plan and open alerts."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order, OrderStatus
from .models import Alert, Plan, PlanStatus


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
