"""Cooperatives (合作社): the back factory of the goods flow."""

from __future__ import annotations

import enum
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum
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

    village = relationship("Village")
    products = relationship("Product", back_populates="cooperative")
