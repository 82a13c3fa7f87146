"""Helpers of the pick list, handover and replenishment tests (brief C): a head for a cooperative
of the demo county that has pickups in the active plans."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.dispatch.models import Plan, PlanStatus, Route, Stop, StopKind
from marketplace.extensions import db
from marketplace.inventory.models import Location
from marketplace.models import Role


def coop_with_pickups() -> int | None:
    """The cooperative with the most pickup stops on the active plans (None: none has any)."""
    row = db.session.execute(
        sa.select(Location.cooperative_id, sa.func.count()).select_from(Stop)
        .join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
        .join(Location, Location.id == Stop.location_id)
        .where(Plan.status == PlanStatus.ACTIVE, Stop.kind.in_([StopKind.PICKUP, StopKind.REPLENISH_PICKUP]))
        .group_by(Location.cooperative_id).order_by(sa.func.count().desc(), Location.cooperative_id)).first()
    return row[0] if row else None


def head_of(make_user, cooperative_id: int, mobile: str = "16612340001", name: str = "社长甲"):
    return make_user(Role.COOP_HEAD, mobile=mobile, name=name, cooperative_id=cooperative_id)


def active_pickup_stops(cooperative_id: int) -> list[Stop]:
    return list(db.session.scalars(
        sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
        .join(Location, Location.id == Stop.location_id)
        .where(Plan.status == PlanStatus.ACTIVE, Location.cooperative_id == cooperative_id,
               Stop.kind.in_([StopKind.PICKUP, StopKind.REPLENISH_PICKUP]))
        .order_by(Stop.id)))
