"""Stock locations and stock per (product, location), with an append-only movement ledger."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum, utcnow
from ..extensions import db


class LocationKind(enum.StrEnum):
    WAREHOUSE = "warehouse"  # 中仓: middle warehouse / depot
    COOPERATIVE = "cooperative"  # 后厂: a cooperative's site or workshop


class Location(db.Model):
    __tablename__ = "locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[LocationKind] = mapped_column(str_enum(LocationKind), index=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(128))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id"))
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperatives.id"))
    lat: Mapped[float]
    lon: Mapped[float]
    address_zh: Mapped[str] = mapped_column(sa.String(200), default="")

    village = relationship("Village")
    zone = relationship("Zone")
    cooperative = relationship("Cooperative")


class Stock(db.Model):
    """Units of a product at a location. Available = on_hand − reserved."""

    __tablename__ = "stocks"
    __table_args__ = (
        sa.UniqueConstraint("product_id", "location_id"),
        sa.CheckConstraint("on_hand >= 0", name="on_hand_nonnegative"),
        sa.CheckConstraint("reserved >= 0 AND reserved <= on_hand", name="reserved_within"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"), index=True)
    location_id: Mapped[int] = mapped_column(sa.ForeignKey("locations.id"), index=True)
    on_hand: Mapped[int] = mapped_column(default=0)
    reserved: Mapped[int] = mapped_column(default=0)
    # Available units at or below this raise a low-stock warning in the cooperative portal.
    low_stock_at: Mapped[int] = mapped_column(default=5, server_default=sa.text("5"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    product = relationship("Product")
    location = relationship(Location)

    @property
    def available(self) -> int:
        return self.on_hand - self.reserved


class StockMovement(TimestampMixin, db.Model):
    """Every change of a stock row (append-only): receipts, reservations, releases, shipments."""

    __tablename__ = "stock_movements"
    __table_args__ = (
        # the units that came in at a stock row, newest first: which batch an order's units are
        # from (inventory.services.reserved_batches) reads these at checkout without walking
        # the row's many reservation movements
        sa.Index("ix_stock_movements_inflow", "stock_id", "id", postgresql_where=sa.text("delta_on_hand > 0"),
                 sqlite_where=sa.text("delta_on_hand > 0")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    stock_id: Mapped[int] = mapped_column(sa.ForeignKey("stocks.id"), index=True)
    delta_on_hand: Mapped[int] = mapped_column(default=0)
    delta_reserved: Mapped[int] = mapped_column(default=0)
    reason: Mapped[str] = mapped_column(sa.String(32))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"), index=True)
    batch_id: Mapped[int | None] = mapped_column(sa.ForeignKey("batches.id"))
    actor_user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    stock = relationship(Stock)
    order = relationship("Order")
