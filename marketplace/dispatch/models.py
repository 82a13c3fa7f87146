"""Route plans: plans per warehouse, routes per vehicle, stops with planned and actual times."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class PlanStatus(enum.StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"  # the plan the promise engine quotes against
    SUPERSEDED = "superseded"


class PlanTrigger(enum.StrEnum):
    SCHEDULE = "schedule"
    MANUAL = "manual"
    CLI = "cli"
    SEED = "seed"


class Plan(TimestampMixin, db.Model):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    status: Mapped[PlanStatus] = mapped_column(
        str_enum(PlanStatus), default=PlanStatus.DRAFT, index=True
    )
    trigger: Mapped[PlanTrigger] = mapped_column(str_enum(PlanTrigger))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    horizon_start: Mapped[datetime] = mapped_column(UTCDateTime)
    horizon_end: Mapped[datetime] = mapped_column(UTCDateTime)
    solve_seconds: Mapped[float] = mapped_column(default=0.0)
    vehicles_used: Mapped[int] = mapped_column(default=0)
    distance_m: Mapped[int] = mapped_column(default=0)
    duration_s: Mapped[int] = mapped_column(default=0)
    fallback: Mapped[bool] = mapped_column(default=False)  # greedy plan: solver found nothing
    stats: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    warehouse = relationship("Warehouse")
    routes = relationship("Route", back_populates="plan", order_by="Route.id")
    unassigned = relationship("UnassignedOrder", back_populates="plan")


class RouteStatus(enum.StrEnum):
    PLANNED = "planned"
    STARTED = "started"
    DONE = "done"


class Route(db.Model):
    __tablename__ = "routes"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id"), index=True)
    status: Mapped[RouteStatus] = mapped_column(str_enum(RouteStatus), default=RouteStatus.PLANNED)
    locked: Mapped[bool] = mapped_column(default=False)
    start_at: Mapped[datetime] = mapped_column(UTCDateTime)
    end_at: Mapped[datetime] = mapped_column(UTCDateTime)
    distance_m: Mapped[int] = mapped_column(default=0)
    duration_s: Mapped[int] = mapped_column(default=0)
    # the warehouse's plan_version when an order was last inserted into this route
    changed_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    plan = relationship(Plan, back_populates="routes")
    vehicle = relationship("Vehicle")
    stops = relationship("Stop", back_populates="route", order_by="Stop.sequence")


class StopKind(enum.StrEnum):
    DELIVERY = "delivery"
    PICKUP = "pickup"  # goods for an order picked up at a cooperative
    REPLENISH_PICKUP = "replenish_pickup"
    REPLENISH_DROP = "replenish_drop"


class StopStatus(enum.StrEnum):
    PENDING = "pending"
    ARRIVED = "arrived"
    DONE = "done"
    FAILED = "failed"


class Stop(db.Model):
    __tablename__ = "stops"
    # on PostgreSQL the constraint is DEFERRABLE INITIALLY IMMEDIATE (migration 5b1d0c7e9a21): a
    # route is renumbered in one statement there; SQLite has no deferrable unique constraints
    __table_args__ = (sa.UniqueConstraint("route_id", "sequence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    route_id: Mapped[int] = mapped_column(sa.ForeignKey("routes.id"), index=True)
    sequence: Mapped[int]
    kind: Mapped[StopKind] = mapped_column(str_enum(StopKind))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    replenishment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replenishments.id"))
    location_id: Mapped[int | None] = mapped_column(sa.ForeignKey("locations.id"))
    lat: Mapped[float]
    lon: Mapped[float]
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    planned_arrival_at: Mapped[datetime] = mapped_column(UTCDateTime)
    planned_departure_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actual_arrival_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    actual_departure_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    status: Mapped[StopStatus] = mapped_column(str_enum(StopStatus), default=StopStatus.PENDING)
    # Proof of delivery: {"kind": "photo"|"signature"|"name", "value": ..., "lat", "lon", "at"}.
    proof: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    route = relationship(Route, back_populates="stops")
    order = relationship("Order")
    location = relationship("Location")


class UnassignedOrder(db.Model):
    """An order a plan could not keep, with the planner's reason (never dropped silently)."""

    __tablename__ = "unassigned_orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    replenishment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replenishments.id"))
    reason_code: Mapped[str] = mapped_column(sa.String(32))
    reason: Mapped[str] = mapped_column(sa.String(300))

    plan = relationship(Plan, back_populates="unassigned")
    order = relationship("Order")


class ReplenishmentStatus(enum.StrEnum):
    REQUESTED = "requested"  # accepted by the cooperative, waiting for a plan
    PLANNED = "planned"  # on a route
    IN_TRANSIT = "in_transit"  # picked up: off the cooperative's books, on the van
    DONE = "done"  # dropped: on hand at the warehouse
    CANCELLED = "cancelled"


class Replenishment(TimestampMixin, db.Model):
    """A milk-run move of stock from a cooperative to a middle warehouse."""

    __tablename__ = "replenishments"
    __table_args__ = (sa.CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    from_location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    to_location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    quantity: Mapped[int]
    value_fen: Mapped[int] = mapped_column(default=0)  # what moving it is worth to the plan
    status: Mapped[ReplenishmentStatus] = mapped_column(
        str_enum(ReplenishmentStatus), default=ReplenishmentStatus.REQUESTED
    )
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    quantity_delivered: Mapped[int | None]

    product = relationship("Product")


class PlanEvent(db.Model):
    """Append-only history of a plan: created, activated, route locked, stop moved…"""

    __tablename__ = "plan_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    plan = relationship(Plan)


class AlertSeverity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alert(TimestampMixin, db.Model):
    """Something a dispatcher must see: an order at risk, unassigned, or a missed promise.

    ``message`` is an English line for logs; pages render the alert from ``kind`` and ``data``
    (values only: order number, reason code, slack…) in the reader's language. A dispatcher
    acknowledges it (seen, being handled) and resolves it, each with who and when; an alert
    whose condition cleared by itself is resolved with no one named."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(32), index=True)
    severity: Mapped[AlertSeverity] = mapped_column(str_enum(AlertSeverity))
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"))
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicles.id"))
    message: Mapped[str] = mapped_column(sa.String(300))
    data: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON, default=dict)
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    plan = relationship(Plan)
    order = relationship("Order")
    vehicle = relationship("Vehicle")
    acknowledged_by = relationship("User", foreign_keys=[acknowledged_by_id])
    resolved_by = relationship("User", foreign_keys=[resolved_by_id])


# --- the dispatcher's hand on the plan (dispatch/actions.py) ------------------------------------


class OrderPin(db.Model):
    """A dispatcher's pin: the planner serves this order with this vehicle only (until unpinned,
    or the vehicle breaks down)."""

    __tablename__ = "order_pins"

    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id"), index=True)
    pinned_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    pinned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    vehicle = relationship("Vehicle")


class VehicleBreakdown(db.Model):
    """A vehicle out of service from ``reported_at`` until ``until`` (the end of the shift it
    broke down in): the planner leaves it out meanwhile."""

    __tablename__ = "vehicle_breakdowns"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(sa.ForeignKey("vehicles.id"), index=True)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reported_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    vehicle = relationship("Vehicle")


class DispatchRequest(db.Model):
    """A re-plan asked for by a console form, by the form's one-time token: a second submit of
    the same form finds this row (and the outcome) instead of planning again."""

    __tablename__ = "dispatch_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(sa.String(64), unique=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
