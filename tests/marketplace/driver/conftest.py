"""The demo county with the demo driver (季伟强, 13857801642) at the wheel of a van that has a
route in the active plan: the planner did not use the seed's van for him this morning, so he
swaps vans with the driver of a route that has deliveries (a real morning's reassignment)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.dispatch.models import Plan, PlanStatus, Route, StopKind, StopStatus
from marketplace.extensions import db
from marketplace.logistics.models import Driver, Vehicle
from marketplace.models import Role, User

DEMO_DRIVER = "13857801642"
DEMO_PASSWORD = "shanhuo123"


@pytest.fixture
def english(ctx):
    """Messages in English (their own text, whether or not the Chinese catalog has them yet)."""
    from flask_babel import force_locale

    with force_locale("en"):
        yield


@pytest.fixture(autouse=True)
def uploads(app, tmp_path) -> Path:
    """Photos of a test go to a folder of its own."""
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield Path(app.config["UPLOAD_DIR"])
    app.config["UPLOAD_DIR"] = before


@dataclass
class Day:
    user_id: int
    driver_id: int
    route_id: int
    vehicle_id: int
    stop_ids: list[int]  # pending stops in visiting order
    delivery_ids: list[int]  # the pending delivery stops among them


def give_route(app, mobile: str = DEMO_DRIVER, *, skip: int = 0) -> Day:
    """The driver with ``mobile`` drives the van of the ``skip``-th route (by id) of the active
    plans that has at least two deliveries; that van's driver takes the other's van."""
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.mobile == mobile))
        driver = db.session.scalar(sa.select(Driver).where(Driver.user_id == user.id))
        routes = [r for r in db.session.scalars(sa.select(Route).join(Plan).where(Plan.status == PlanStatus.ACTIVE)
                                                .order_by(Route.id))
                  if sum(1 for s in r.stops if s.kind == StopKind.DELIVERY) >= 2]
        route = routes[skip]
        vehicle = db.session.get(Vehicle, route.vehicle_id)
        for own in db.session.scalars(sa.select(Vehicle).where(Vehicle.driver_id == driver.id)):
            own.driver_id = vehicle.driver_id
        vehicle.driver_id = driver.id
        db.session.commit()
        pending = [s for s in route.stops if s.status == StopStatus.PENDING]
        day = Day(user.id, driver.id, route.id, vehicle.id, [s.id for s in pending],
                  [s.id for s in pending if s.kind == StopKind.DELIVERY])
        db.session.remove()
        return day


@pytest.fixture
def day(app, seeded) -> Day:
    return give_route(app)


def other_driver(app, make_user, mobile: str = "13800001111") -> Day:
    """A second driver account with a route of their own (another van)."""
    user = make_user(Role.DRIVER, mobile=mobile)
    with app.app_context():
        db.session.add(Driver(name="另一位司机", mobile=mobile, user_id=user.id))
        db.session.commit()
    return give_route(app, mobile, skip=1)
