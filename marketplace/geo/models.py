"""The gazetteer (county → town → village), delivery zones and consumer addresses."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime, str_enum
from ..extensions import db


class Terrain(enum.StrEnum):
    PLAIN = "plain"
    VALLEY = "valley"
    HILL = "hill"
    MOUNTAIN = "mountain"


class County(db.Model):
    __tablename__ = "counties"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    lat: Mapped[float]
    lon: Mapped[float]


class Zone(db.Model):
    """A delivery zone: the unit at which travel factors and promise margins are learned."""

    __tablename__ = "zones"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(24), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    terrain: Mapped[Terrain] = mapped_column(str_enum(Terrain), default=Terrain.PLAIN)


class Town(db.Model):
    __tablename__ = "towns"

    id: Mapped[int] = mapped_column(primary_key=True)
    county_id: Mapped[int] = mapped_column(sa.ForeignKey("counties.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    lat: Mapped[float]
    lon: Mapped[float]

    county = relationship(County)
    zone = relationship(Zone)
    villages = relationship("Village", back_populates="town", order_by="Village.code")


class Village(db.Model):
    __tablename__ = "villages"
    __table_args__ = (sa.UniqueConstraint("town_id", "name_zh"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    town_id: Mapped[int] = mapped_column(sa.ForeignKey("towns.id"), index=True)
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(12), unique=True)
    name_zh: Mapped[str] = mapped_column(sa.String(64))
    name_en: Mapped[str] = mapped_column(sa.String(128))
    lat: Mapped[float]
    lon: Mapped[float]
    elevation_m: Mapped[int] = mapped_column(default=0)

    town = relationship(Town, back_populates="villages")
    zone = relationship(Zone)


class Address(TimestampMixin, db.Model):
    """A consumer's delivery address. Orders copy it, so editing never rewrites history."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    village_id: Mapped[int] = mapped_column(sa.ForeignKey("villages.id"))
    detail: Mapped[str] = mapped_column(sa.String(200))
    recipient_name: Mapped[str] = mapped_column(sa.String(64))
    recipient_mobile: Mapped[str] = mapped_column(sa.String(11))
    lat: Mapped[float]
    lon: Mapped[float]
    is_default: Mapped[bool] = mapped_column(default=False)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    village = relationship(Village)
