"""Plan mutations are set-based: a cancel or an expiry takes an order's stops out of the active
plan in one statement, however the route was grown, and leaves superseded plans alone."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.models import Order, Plan, Route, Stop
from marketplace.orders import services as orders
from marketplace.payments import services as payments
from marketplace.planning import services as planning

from ..checkout.conftest import make_shop, place_offered


def _place(shop, window: str, method: str = "cod") -> Order:
    return place_offered(shop, window, method)


def _sequences(route_id: int) -> list[int]:
    return list(db.session.scalars(sa.select(Stop.sequence).where(Stop.route_id == route_id).order_by(Stop.sequence)))


def _busy_route(app, make_user, seeded) -> tuple[object, list[Order]]:
    shop = make_shop(app, make_user)
    with app.app_context():
        placed = [_place(shop, window) for window in ["18h", "12h", "18h", "6h", "18h", "12h", "18h", "12h"]]
        numbers = [o.number for o in placed]
    return shop, numbers


def test_cancelling_orders_in_the_middle_of_a_grown_route_never_collides(app, make_user, seeded):
    shop, numbers = _busy_route(app, make_user, seeded)
    with app.app_context():
        by_route: dict[int, list[str]] = {}
        for number in numbers:
            order = db.session.scalar(sa.select(Order).where(Order.number == number))
            route_id = db.session.scalar(sa.select(Stop.route_id).where(Stop.order_id == order.id))
            by_route.setdefault(route_id, []).append(number)
        route_id, on_route = max(by_route.items(), key=lambda kv: len(kv[1]))
        assert len(on_route) >= 2
        before = _sequences(route_id)
        for number in on_route[::2]:  # every other one, from the first: stops in the middle leave
            orders.cancel(shop.user_id, number)
        after = _sequences(route_id)
        assert len(after) < len(before) and after == sorted(set(after))
        # an order placed after the cancels renumbers the grown route without a collision
        again = _place(shop, "18h")
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(Stop.order_id == again.id)) >= 1
        for route in db.session.scalars(sa.select(Route).join(Plan).where(Plan.status == "active")):
            sequences = _sequences(route.id)
            assert sequences == sorted(set(sequences))


def test_an_expired_order_leaves_only_the_active_plan(app, make_user, seeded):
    shop = make_shop(app, make_user)
    with app.app_context():
        order = _place(shop, "18h", method="online")
        order_id, warehouse_id = order.id, order.warehouse_id
        old_stops = db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(Stop.order_id == order_id))
        assert old_stops >= 1
        planning.plan_warehouse(warehouse_id, seconds=0.3)  # the order is now on the old and the new plan
        assert payments.expire_unpaid(now=utcnow() + timedelta(hours=2)) >= 1
        assert db.session.get(Order, order_id).status == "expired"
        stops = db.session.execute(sa.select(Plan.status).join(Route, Route.plan_id == Plan.id)
                                   .join(Stop, Stop.route_id == Route.id).where(Stop.order_id == order_id)).scalars().all()
        assert "active" not in stops and stops.count("superseded") == old_stops
