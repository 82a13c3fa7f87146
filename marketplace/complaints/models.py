"""Complaints, linked to the order, stop, route, vehicle and cooperative they concern."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class ComplaintCategory(enum.StrEnum):
    LATE = "late"
    DAMAGED = "damaged"
    WRONG_ITEM = "wrong_item"
    MISSING_ITEM = "missing_item"
    QUALITY = "quality"
    COURIER_CONDUCT = "courier_conduct"
    OTHER = "other"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    IN_PROGRESS = "in_progress"
    WAITING_CUSTOMER = "waiting_customer"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Complaint(TimestampMixin, db.Model):
    __tablename__ = "complaints"
    # a double tap of the consumer's (or staff's) submit files one complaint
    __table_args__ = (sa.UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    category: Mapped[ComplaintCategory] = mapped_column(str_enum(ComplaintCategory), index=True)
    status: Mapped[ComplaintStatus] = mapped_column(
        str_enum(ComplaintStatus), default=ComplaintStatus.OPEN, index=True
    )
    description: Mapped[str] = mapped_column(sa.Text)
    # What the complaint is about; filled from the order's delivery record when it is filed.
    stop_id: Mapped[int | None] = mapped_column(sa.ForeignKey("stops.id"))
    route_id: Mapped[int | None] = mapped_column(sa.ForeignKey("routes.id"))
    vehicle_id: Mapped[int | None] = mapped_column(sa.ForeignKey("vehicles.id"))
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperatives.id"))
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("products.id"))
    assignee_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    priority: Mapped[int] = mapped_column(default=2)  # 1 high, 2 normal, 3 low
    # SLA clocks (business-hour calendar applied when computing them).
    first_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str] = mapped_column(sa.Text, default="")
    # intake: the form's key (one complaint per submission), the lines it is about (order line
    # ids; empty = the whole order), up to 3 photo ids (uploads kind "complaint"), who filed it
    # (the consumer, or staff taking a phone call), the driver and batch of the delivery
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    line_ids: Mapped[list[int]] = mapped_column(sa.JSON, default=list, server_default="[]")
    photos: Mapped[list[str]] = mapped_column(sa.JSON, default=list, server_default="[]")
    channel: Mapped[str] = mapped_column(sa.String(16), default="web", server_default="web")
    filed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    driver_id: Mapped[int | None] = mapped_column(sa.ForeignKey("drivers.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"))
    # the SLA near-breach alert was raised (once); escalated_at above: breached, sent to the operator
    near_breach_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")
    user = relationship("User", foreign_keys=[user_id])
    assignee = relationship("User", foreign_keys=[assignee_id])
    filed_by = relationship("User", foreign_keys=[filed_by_id])
    stop = relationship("Stop")
    route = relationship("Route")
    vehicle = relationship("Vehicle")
    driver = relationship("Driver")
    cooperative = relationship("Cooperative")
    product = relationship("Product")
    batch = relationship("Batch")
    events = relationship("ComplaintEvent", back_populates="complaint", order_by="ComplaintEvent.id")


class ComplaintEvent(db.Model):
    """Append-only history of a complaint: replies, state changes, escalations."""

    __tablename__ = "complaint_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str | None] = mapped_column(sa.String(24))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    complaint = relationship(Complaint, back_populates="events")


class ResolutionKind(enum.StrEnum):
    REFUND = "refund"
    RESHIP = "reship"
    COUPON = "coupon"


class ComplaintResolution(db.Model):
    """A remedy granted on a complaint (refund, reship, coupon), exactly once per form submission:
    the idempotency key is unique, so a second submission (a double click, a retry, a race) finds
    the first row instead of paying again."""

    __tablename__ = "complaint_resolutions"
    __table_args__ = (sa.UniqueConstraint("idempotency_key"),
                      sa.CheckConstraint("amount_fen >= 0", name="amount_nonnegative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    complaint_id: Mapped[int] = mapped_column(sa.ForeignKey("complaints.id"), index=True)
    kind: Mapped[ResolutionKind] = mapped_column(str_enum(ResolutionKind))
    idempotency_key: Mapped[str] = mapped_column(sa.String(64))
    amount_fen: Mapped[int] = mapped_column(default=0)
    refund_id: Mapped[int | None] = mapped_column(sa.ForeignKey("refunds.id"))
    compensation_id: Mapped[int | None] = mapped_column(sa.ForeignKey("compensations.id"))
    reship_order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))
    note: Mapped[str] = mapped_column(sa.String(300), default="")
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    complaint = relationship(Complaint)
    reship_order = relationship("Order", foreign_keys=[reship_order_id])
