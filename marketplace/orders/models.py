"""Orders, their lines, their append-only event history and compensations."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class OrderStatus(enum.StrEnum):
    PENDING_PAYMENT = "pending_payment"
    CONFIRMED = "confirmed"  # paid online, or cash on delivery accepted
    DISPATCHED = "dispatched"  # on a vehicle
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # unpaid online order timed out; stock released


class PaymentMethod(enum.StrEnum):
    ONLINE = "online"
    CASH_ON_DELIVERY = "cod"


class Order(TimestampMixin, db.Model):
    __tablename__ = "orders"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "idempotency_key"),
        sa.CheckConstraint("total_fen = subtotal_fen + delivery_fee_fen", name="total_adds_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(sa.String(24), unique=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))
    status: Mapped[OrderStatus] = mapped_column(
        str_enum(OrderStatus), default=OrderStatus.PENDING_PAYMENT, index=True
    )
    payment_method: Mapped[PaymentMethod] = mapped_column(str_enum(PaymentMethod))
    # Delivery address, copied from the consumer's address at ordering time.
    address_id: Mapped[int | None] = mapped_column(sa.ForeignKey("addresses.id"))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id"), index=True)
    recipient_name: Mapped[str] = mapped_column(sa.String(64))
    recipient_mobile: Mapped[str] = mapped_column(sa.String(11))
    address_text: Mapped[str] = mapped_column(sa.String(300))
    lat: Mapped[float]
    lon: Mapped[float]
    # The promise.
    window_class_id: Mapped[int] = mapped_column(sa.ForeignKey("window_classes.id"))
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    promised_eta_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When the planner found that no route can keep the deadline any more (a broken promise:
    # still delivered as early as the routes allow, alerted, compensated when the deadline passes).
    promise_broken_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    warehouse_id: Mapped[int | None] = mapped_column(sa.ForeignKey("warehouses.id"), index=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Money, integer fen, computed by the server.
    subtotal_fen: Mapped[int]
    delivery_fee_fen: Mapped[int]
    total_fen: Mapped[int]
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    payment_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")
    window_class = relationship("WindowClass")
    village = relationship("Village")
    zone = relationship("Zone")
    warehouse = relationship("Warehouse")
    lines = relationship("OrderLine", back_populates="order", order_by="OrderLine.id")
    events = relationship("OrderEvent", back_populates="order", order_by="OrderEvent.id")
    compensations = relationship("Compensation", back_populates="order")

    @property
    def late_seconds(self) -> int:
        if self.delivered_at is None:
            return 0
        return max(0, int((self.delivered_at - self.deadline_at).total_seconds()))


class OrderLine(db.Model):
    __tablename__ = "order_lines"
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("line_total_fen = unit_price_fen * quantity", name="line_adds_up"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    # Where the units are reserved: a warehouse, or a cooperative site (needs a pickup).
    source_location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"))
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"))
    product_name_zh: Mapped[str] = mapped_column(sa.String(128))
    product_name_en: Mapped[str] = mapped_column(sa.String(200))
    unit_price_fen: Mapped[int]
    quantity: Mapped[int]
    line_total_fen: Mapped[int]
    weight_g: Mapped[int]
    volume_cm3: Mapped[int]

    order = relationship(Order, back_populates="lines")
    product = relationship("Product")
    source_location = relationship("Location")


class OrderEvent(db.Model):
    """Append-only history of an order: who did what, when."""

    __tablename__ = "order_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(32))
    from_status: Mapped[str | None] = mapped_column(sa.String(24))
    to_status: Mapped[str | None] = mapped_column(sa.String(24))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    order = relationship(Order, back_populates="events")


class CompensationKind(enum.StrEnum):
    COUPON = "coupon"
    REFUND = "refund"


class Compensation(TimestampMixin, db.Model):
    """Automatic compensation for a missed guarantee (or one granted by complaint staff)."""

    __tablename__ = "compensations"
    __table_args__ = (sa.CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    kind: Mapped[CompensationKind] = mapped_column(str_enum(CompensationKind))
    amount_fen: Mapped[int]
    late_seconds: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(sa.String(200), default="")
    complaint_id: Mapped[int | None] = mapped_column(sa.ForeignKey("complaints.id"))

    order = relationship(Order, back_populates="compensations")
