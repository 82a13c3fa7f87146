"""Cooperatives (合作社): the back factory of the goods flow."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class CooperativeStatus(enum.StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    SUSPENDED = "suspended"


class Specialty(enum.StrEnum):
    BAMBOO_CHARCOAL = "bamboo_charcoal"
    DRIED_GOODS = "dried_goods"
    TEA = "tea"
    OTHER = "other"


class Cooperative(TimestampMixin, db.Model):
    __tablename__ = "cooperatives"
    __table_args__ = (
        sa.CheckConstraint("quality_score BETWEEN 0 AND 100", name="quality_score_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(128))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    licence_no: Mapped[str] = mapped_column(sa.String(18), unique=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"), index=True)
    head_name: Mapped[str] = mapped_column(sa.String(64))
    head_mobile: Mapped[str] = mapped_column(sa.String(11))
    specialty: Mapped[Specialty] = mapped_column(str_enum(Specialty), default=Specialty.OTHER)
    founded_on: Mapped[date | None]
    description_zh: Mapped[str] = mapped_column(sa.Text, default="")
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    status: Mapped[CooperativeStatus] = mapped_column(
        str_enum(CooperativeStatus), default=CooperativeStatus.PENDING, index=True
    )
    quality_score: Mapped[int] = mapped_column(default=100)
    # Flags raised by the feedback loop (e.g. "wrong_items"), each with its provenance in
    # logistics parameter changes.
    flags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The business licence's scan (an upload id, see marketplace/uploads.py); "" when none.
    licence_file: Mapped[str] = mapped_column(sa.String(64), default="", server_default="")
    # Why the operator last approved, suspended or reinstated it, and when.
    status_reason: Mapped[str] = mapped_column(sa.String(300), default="", server_default="")
    status_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    village = relationship("Village")
    products = relationship("Product", back_populates="cooperative")


class Handover(db.Model):
    """Goods handed to a van at a cooperative's site (a pickup stop): who handed them over and
    when, with a count per line. A count that differs from what was expected is a mismatch, and
    the dispatcher is alerted."""

    __tablename__ = "handovers"

    id: Mapped[int] = mapped_column(primary_key=True)
    stop_id: Mapped[int] = mapped_column(sa.ForeignKey("stops.id"), unique=True)
    cooperative_id: Mapped[int] = mapped_column(sa.ForeignKey("cooperatives.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicles.id"))
    handed_over_by: Mapped[str] = mapped_column(sa.String(64))
    handed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    mismatch: Mapped[bool] = mapped_column(default=False)
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lines = relationship("HandoverLine", back_populates="handover", order_by="HandoverLine.id",
                         cascade="all, delete-orphan")


class HandoverLine(db.Model):
    __tablename__ = "handover_lines"
    __table_args__ = (
        sa.CheckConstraint("expected >= 0", name="expected_nonnegative"),
        sa.CheckConstraint("counted >= 0", name="counted_nonnegative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    handover_id: Mapped[int] = mapped_column(sa.ForeignKey("handovers.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    replenishment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("replenishments.id"))
    expected: Mapped[int]
    counted: Mapped[int]

    handover = relationship(Handover, back_populates="lines")
    product = relationship("Product")
