"""Gazetteer lookups and the consumer's addresses (a consumer only ever sees their own)."""

from __future__ import annotations

from functools import cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..columns import utcnow
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..inputs import is_mobile
from ..logistics.models import Warehouse, warehouse_zones
from .models import Address, Town, Village


def towns() -> list[Town]:
    return list(db.session.scalars(sa.select(Town).order_by(Town.code)))


def villages_of(town_id: int) -> list[Village]:
    return list(db.session.scalars(sa.select(Village).where(Village.town_id == town_id).order_by(Village.code)))


def warehouse_for_zone(zone_id: int) -> Warehouse | None:
    """The middle warehouse serving a zone (the first by code when several do)."""
    return db.session.scalar(_warehouse_for_zone(), {"zone_id": zone_id})


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _warehouse_for_zone() -> sa.Select:
    return (sa.select(Warehouse).join(warehouse_zones)
            .where(warehouse_zones.c.zone_id == sa.bindparam("zone_id"), Warehouse.active.is_(True))
            .order_by(Warehouse.code).limit(1))


def county_town() -> Village | None:
    """Where quotes go when the consumer has no address yet: the first village of the gazetteer."""
    return db.session.scalar(sa.select(Village).order_by(Village.code).limit(1))


def county_town_zone_id() -> int | None:
    village = county_town()
    return village.zone_id if village else None


def addresses_of(user_id: int) -> list[Address]:
    return list(db.session.scalars(
        sa.select(Address).where(Address.user_id == user_id, Address.deleted_at.is_(None))
        .options(joinedload(Address.village).joinedload(Village.town))
        .order_by(Address.is_default.desc(), Address.id.desc())
    ))


def address_of(user_id: int, address_id: int) -> Address:
    """The consumer's own address (with its village and town); anyone else's is simply not found."""
    address = db.session.scalar(_address_of(), {"address_id": address_id, "user_id": user_id})
    if address is None:
        raise NotFound()
    return address


@cache
def _address_of() -> sa.Select:
    return (sa.select(Address).where(Address.id == sa.bindparam("address_id"),
                                     Address.user_id == sa.bindparam("user_id"), Address.deleted_at.is_(None))
            .options(joinedload(Address.village).joinedload(Village.town)))


def default_address(user_id: int) -> Address | None:
    return db.session.scalar(
        sa.select(Address).where(Address.user_id == user_id, Address.deleted_at.is_(None))
        .order_by(Address.is_default.desc(), Address.id.desc()).limit(1)
    )


def add_address(user_id: int, *, village_id: int, detail: str, recipient_name: str, recipient_mobile: str,
                make_default: bool = False) -> Address:
    village = db.session.get(Village, village_id) if village_id else None
    if village is None:
        raise ValidationFailed(_l("Choose your town and village."), field="village_id")
    detail, recipient_name = (detail or "").strip(), (recipient_name or "").strip()
    recipient_mobile = (recipient_mobile or "").strip().replace(" ", "")
    if not 2 <= len(detail) <= 200:
        raise ValidationFailed(_l("Enter the street, house number or landmark (2–200 characters)."), field="detail")
    if not 1 <= len(recipient_name) <= 64:
        raise ValidationFailed(_l("Enter the recipient's name."), field="recipient_name")
    if not is_mobile(recipient_mobile):
        raise ValidationFailed(_l("Enter an 11-digit mainland mobile number, e.g. 13912345678."), field="recipient_mobile")
    has_any = default_address(user_id) is not None
    if make_default or not has_any:
        db.session.execute(sa.update(Address).where(Address.user_id == user_id).values(is_default=False))
    address = Address(user_id=user_id, village_id=village.id, detail=detail, recipient_name=recipient_name,
                      recipient_mobile=recipient_mobile, lat=village.lat, lon=village.lon,
                      is_default=make_default or not has_any)
    db.session.add(address)
    db.session.commit()
    return address


def delete_address(user_id: int, address_id: int) -> None:
    address = address_of(user_id, address_id)
    address.deleted_at = utcnow()  # orders keep their own copy; the row stays for history
    address.is_default = False
    db.session.commit()


def full_text(address: Address, english: bool = False) -> str:
    village = address.village
    if english:
        return f"{address.detail}, {village.name_en}, {village.town.name_en}"
    return f"{village.town.name_zh}{village.name_zh}{address.detail}"
