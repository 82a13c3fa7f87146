"""Middle warehouses, vehicles, drivers, window classes and learned logistics parameters."""

from __future__ import annotations

import enum
from datetime import datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db

warehouse_zones = sa.Table(
    "warehouse_zones",
    db.metadata,
    sa.Column("warehouse_id", sa.ForeignKey("warehouses.id"), primary_key=True),
    sa.Column("zone_id", sa.ForeignKey("zones.id"), primary_key=True),
)


class Warehouse(db.Model):
    """A middle warehouse (中仓): a stock location that vehicles start and end their shifts at."""

    __tablename__ = "warehouses"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped in the same transaction as every change to the warehouse's plan or open orders, so
    # each process can tell cheaply whether its cached quoting state is still current.
    plan_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))
    # The plan_version of the last change a cached state cannot follow route by route (a re-plan,
    # a cancellation, a payment…); changes after it are orders inserted into routes, whose
    # ``Route.changed_version`` says which routes to reload.
    plan_reset_version: Mapped[int] = mapped_column(default=0, server_default=sa.text("0"))

    location = relationship("Location")
    zones = relationship("Zone", secondary=warehouse_zones, order_by="Zone.code")
    vehicles = relationship("Vehicle", back_populates="warehouse", order_by="Vehicle.plate")


class VehicleKind(enum.StrEnum):
    MINIVAN = "minivan"
    VAN = "van"
    LIGHT_TRUCK = "light_truck"
    COLD_VAN = "cold_van"


class Driver(TimestampMixin, db.Model):
    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(64))
    mobile: Mapped[str] = mapped_column(sa.String(11), unique=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    active: Mapped[bool] = mapped_column(default=True)


class Vehicle(TimestampMixin, db.Model):
    __tablename__ = "vehicles"
    __table_args__ = (
        sa.CheckConstraint("capacity_weight_g > 0", name="weight_positive"),
        sa.CheckConstraint("capacity_volume_cm3 > 0", name="volume_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plate: Mapped[str] = mapped_column(sa.String(16), unique=True)
    kind: Mapped[VehicleKind] = mapped_column(str_enum(VehicleKind), default=VehicleKind.VAN)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    driver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drivers.id"))
    capacity_weight_g: Mapped[int]
    capacity_volume_cm3: Mapped[int]
    speed_kmh: Mapped[int] = mapped_column(default=45)
    # Shift hours are local wall-clock times (Asia/Shanghai): a shift is a daily rule.
    shift_start: Mapped[time]
    shift_end: Mapped[time]
    active: Mapped[bool] = mapped_column(default=True)

    warehouse = relationship(Warehouse, back_populates="vehicles")
    driver = relationship(Driver)


class WindowClass(db.Model):
    """A guaranteed delivery window: 2h / 6h / 12h / 18h, with its fee and compensation rule."""

    __tablename__ = "window_classes"
    __table_args__ = (sa.CheckConstraint("fee_fen >= 0", name="fee_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(8), unique=True)
    hours: Mapped[int]
    fee_fen: Mapped[int]
    name_zh: Mapped[str] = mapped_column(sa.String(32))
    name_en: Mapped[str] = mapped_column(sa.String(64))
    # [[seconds late >=, compensation fen], ...] ascending; the largest matching step applies.
    compensation_steps: Mapped[list[list[int]]] = mapped_column(sa.JSON, default=list)
    compensation_cap_fen: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)

    @property
    def seconds(self) -> int:
        return self.hours * 3600

    def compensation_for(self, late_seconds: int) -> int:
        """Compensation in fen for a delivery ``late_seconds`` after the deadline."""
        if late_seconds <= 0:
            return 0
        amount = 0
        for threshold, fen in self.compensation_steps:
            if late_seconds >= threshold:
                amount = fen
        return min(amount, self.compensation_cap_fen)


class ParameterScope(enum.StrEnum):
    GLOBAL = "global"
    ZONE = "zone"
    PRODUCT = "product"
    COOPERATIVE = "cooperative"
    LOCATION = "location"
    VEHICLE = "vehicle"
    DRIVER = "driver"


class LogisticsParameter(db.Model):
    """A learned logistics parameter the planner and promise engine read.

    Examples: (zone, 3, "travel_factor") = 1.25; (zone, 3, "promise_margin_s") = 600;
    (zone, 3, "suspended_windows") = ["2h"]; (product, 17, "handling_flags") = ["fragile"];
    (location, 5, "pick_time_s") = 240; (driver, 2, "conduct_flag") = true.
    """

    __tablename__ = "logistics_parameters"
    __table_args__ = (sa.UniqueConstraint("scope", "scope_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    scope: Mapped[ParameterScope] = mapped_column(str_enum(ParameterScope))
    scope_id: Mapped[int | None]
    key: Mapped[str] = mapped_column(sa.String(48))
    value: Mapped[Any] = mapped_column(sa.JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    changes = relationship(
        "ParameterChange", back_populates="parameter", order_by="ParameterChange.id"
    )


class ChangeSource(enum.StrEnum):
    SEED = "seed"
    STAFF = "staff"
    DELIVERIES = "deliveries"
    COMPLAINTS = "complaints"
    REVERT = "revert"


class ParameterChange(TimestampMixin, db.Model):
    """One change of a logistics parameter with its provenance; staff can revert it."""

    __tablename__ = "parameter_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    parameter_id: Mapped[int] = mapped_column(sa.ForeignKey("logistics_parameters.id"), index=True)
    old_value: Mapped[Any] = mapped_column(sa.JSON, nullable=True)
    new_value: Mapped[Any] = mapped_column(sa.JSON)
    source: Mapped[ChangeSource] = mapped_column(str_enum(ChangeSource))
    # Which deliveries (stop ids) / complaints (complaint ids) led to this change.
    source_refs: Mapped[dict[str, list[int]]] = mapped_column(sa.JSON, default=dict)
    reason: Mapped[str] = mapped_column(sa.String(300), default="")
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reverted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reverted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    revert_of_id: Mapped[int | None] = mapped_column(sa.ForeignKey("parameter_changes.id"))

    parameter = relationship(LogisticsParameter, back_populates="changes")
