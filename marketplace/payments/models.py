"""Payments (sandbox online provider and cash on delivery), provider callbacks and refunds."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class PaymentStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    EXPIRED = "expired"


class Payment(TimestampMixin, db.Model):
    __tablename__ = "payments"
    __table_args__ = (sa.CheckConstraint("amount_fen >= 0", name="amount_nonnegative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(sa.String(24))
    provider_ref: Mapped[str] = mapped_column(sa.String(64), unique=True)
    amount_fen: Mapped[int]
    status: Mapped[PaymentStatus] = mapped_column(
        str_enum(PaymentStatus), default=PaymentStatus.PENDING
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    order = relationship("Order")


class PaymentCallback(db.Model):
    """The server-to-server callbacks received (audit and replay detection): one row per
    notification applied; refused ones bounded (a payload of at most 1 KB, and past a few rows a
    minute the repeats from one address counted on one row: see ``services.audit_refusal``)."""

    __tablename__ = "payment_callbacks"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"), index=True)
    provider_ref: Mapped[str] = mapped_column(sa.String(64), default="")
    notification_id: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    signature_valid: Mapped[bool] = mapped_column(default=False)
    outcome: Mapped[str] = mapped_column(sa.String(32), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    #: the remote address it came from ("" when handed over inside the process)
    source: Mapped[str] = mapped_column(sa.String(45), default="", server_default="")
    #: the callbacks this row stands for: 1, plus the refused ones collapsed into it
    repeats: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    last_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RefundStatus(enum.StrEnum):
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(TimestampMixin, db.Model):
    __tablename__ = "refunds"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    payment_id: Mapped[int | None] = mapped_column(sa.ForeignKey("payments.id"))
    amount_fen: Mapped[int]
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    status: Mapped[RefundStatus] = mapped_column(
        str_enum(RefundStatus), default=RefundStatus.PENDING
    )
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
