"""The day goes on: a van that has left keeps its goods and its order of stops through
re-plans and quotes, starts from its last stop made, and takes no new goods from the depot;
dispatched orders stay planned until they are delivered."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.dispatch import services as dispatch
from marketplace.extensions import db
from marketplace.models import Order, Plan, Route, Stop, StopStatus
from marketplace.planning import promise
from marketplace.planning import services as planning

from ..checkout.conftest import make_shop, place_offered


def _place(shop, window: str = "18h") -> Order:
    return place_offered(shop, window)


def _vehicle_of(order_id: int) -> int | None:
    return db.session.scalar(sa.select(Route.vehicle_id).join(Stop, Stop.route_id == Route.id).join(Plan).where(
        Plan.status == "active", Stop.order_id == order_id, Stop.kind == "delivery"))


def _active_route(vehicle_id: int) -> Route | None:
    return db.session.scalar(sa.select(Route).join(Plan).where(Plan.status == "active", Route.vehicle_id == vehicle_id))


def test_a_van_under_way_keeps_its_goods_and_takes_no_new_depot_goods(app, seeded_at, make_user, clock):
    seeded_at("09:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        placed = [_place(shop, w) for w in ("6h", "12h", "18h")]
        ids = [o.id for o in placed]
        vehicle_id = _vehicle_of(ids[0])
        route = _active_route(vehicle_id)
        on_van = [s.order_id for s in route.stops if s.kind == "delivery" and s.order_id is not None]
        assert ids[0] in on_van
        pickups = {s.order_id for s in route.stops if s.kind == "pickup"}
        dispatch.start_route(route.id)
        assert all(db.session.get(Order, o).status == "dispatched" for o in on_van)
        first = db.session.scalars(sa.select(Stop).where(Stop.route_id == route.id, Stop.status == "pending")
                                   .order_by(Stop.sequence)).first()
        clock.shift(20 * 60)
        dispatch.record_stop(first.id, StopStatus.DONE)
        ctx = planning.build_problem(shop.warehouse_id)
        van = ctx.problem.vehicle_by_id[f"V{vehicle_id}"]
        assert van.start_location == f"P{vehicle_id}"  # at its last stop made, not at the depot
        assert ctx.locations[van.start_location][:2] == (first.lat, first.lon)
        still = [o for o in on_van if db.session.get(Order, o).status == "dispatched"]
        # depot goods were loaded when it left; cooperative goods only once picked up
        assert set(van.onboard) == {f"O{o}" for o in still if o not in pickups or o == first.order_id}
        planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        for order_id in still:  # through a re-plan, its goods stay on its van
            assert _vehicle_of(order_id) == vehicle_id
        if first.order_id is not None and first.kind == "delivery":
            assert db.session.get(Order, first.order_id).status == "delivered"
            assert _vehicle_of(first.order_id) is None
        started = db.session.scalar(sa.select(Route.status).join(Plan).where(Plan.status == "active",
                                                                            Route.vehicle_id == vehicle_id))
        assert started == "started"
        # a new order of depot goods goes to a van still at the depot, never to the one under way
        promise.prepare(shop.warehouse_id)
        new = _place(shop, "18h")
        assert _vehicle_of(new.id) not in (None, vehicle_id)


def _made_every_stop(route_id: int, clock) -> Stop:
    """The driver makes the route's stops in order, 10 minutes apart; the last one made."""
    last = None
    for stop in db.session.scalars(sa.select(Stop).where(Stop.route_id == route_id, Stop.status == "pending")
                                   .order_by(Stop.sequence)).all():
        clock.shift(10 * 60)
        last = dispatch.record_stop(stop.id, StopStatus.DONE)
    return last


def test_a_van_whose_trip_is_over_starts_a_new_one_from_its_depot(app, seeded_at, make_user, clock):
    """Multi-trip: once every stop of a started route is made the van drives back (the travel
    model's time) and is a van at its depot again, which takes depot goods; the driver's "back
    at the depot" replaces the modelled return time, once."""
    seeded_at("09:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = _place(shop, "6h")
        vehicle_id = _vehicle_of(order.id)
        route = _active_route(vehicle_id)
        dispatch.start_route(route.id)
        with pytest.raises(dispatch.StopsLeft):
            dispatch.back_at_depot(vehicle_id)
        db.session.rollback()
        last = _made_every_stop(route.id, clock)
        ctx = planning.build_problem(shop.warehouse_id)
        van = ctx.problem.vehicle_by_id[f"V{vehicle_id}"]
        assert van.start_location is None and not van.departed and van.at_depot  # a new trip, from the depot
        route_id, home = ctx.returning[vehicle_id]
        assert route_id == route.id
        drive_back = (home - last.actual_departure_at).total_seconds()
        from delivery import model as dm
        back_model = ctx.problem.matrix.durations(
            (dm.Location("x", lat=last.lat, lon=last.lon),), (ctx.problem.locations[ctx.problem.location_index[f"L{ctx.depot_location_id}"]],),
            van.speed_kmh)[0, 0]
        # the model's drive back from the last stop made (times kept to the whole second)
        assert abs(drive_back - back_model) < 1.0
        assert van.available_from == max(ctx.now, int((home - ctx.epoch).total_seconds()))
        planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        finished = db.session.get(Route, route.id)
        assert finished.status == "done" and finished.end_at == home
        active = _active_route(vehicle_id)
        assert active is None or active.status == "planned"
        # the next re-plan still has it back only at the modelled time
        ctx = planning.build_problem(shop.warehouse_id)
        assert ctx.problem.vehicle_by_id[f"V{vehicle_id}"].available_from >= int((home - ctx.epoch).total_seconds())
        # the driver says when they were really back: that time counts, and only the first one
        clock.shift(int(drive_back) + 15 * 60)
        back = dispatch.back_at_depot(vehicle_id)
        assert back.id == route.id and back.end_at > home
        real = back.end_at
        clock.shift(60)
        assert dispatch.back_at_depot(vehicle_id).end_at == real
        assert planning.back_at_depot(shop.warehouse_id, real)[vehicle_id] == real
        ctx = planning.build_problem(shop.warehouse_id)
        assert ctx.problem.vehicle_by_id[f"V{vehicle_id}"].at_depot


def test_a_van_the_plan_sent_off_leaves_when_its_driver_says(app, seeded_at, make_user, clock):
    """The plan sends a waiting van off at the latest departure that keeps its promises and
    records that as its departure; the driver's tap afterwards records when it really left (once),
    which is what the feedback loop measures the first leg from."""
    from marketplace.models import PlanEvent

    seeded_at("09:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = _place(shop, "2h")
        vehicle_id = _vehicle_of(order.id)
        clock.shift(100 * 60)  # past the latest departure that keeps the 2 h promise
        planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        route = _active_route(vehicle_id)
        assert route.status == "started"

        def starts():
            return sorted((e.data["by"], e.data["at"]) for e in db.session.scalars(
                sa.select(PlanEvent).where(PlanEvent.kind == "route_started")) if e.data["route_id"] == route.id)

        (by, left), = starts()
        assert by == "plan" and left == route.start_at.isoformat()
        clock.shift(120)
        dispatch.start_route(route.id)
        dispatch.start_route(route.id)  # a double tap
        recorded = starts()
        assert [b for b, _ in recorded] == ["driver", "plan"] and recorded[0][1] > left


def test_the_stop_a_van_under_way_drives_to_stays_its_next(app, seeded_at, make_user, clock):
    """A re-plan never takes away the stop the driver is heading to: a van under way has its
    next pending stop locked first (the rest of its route stays free to change)."""
    seeded_at("09:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = _place(shop, "12h")
        vehicle_id = _vehicle_of(order.id)
        route = _active_route(vehicle_id)
        dispatch.start_route(route.id)
        pending = db.session.scalars(sa.select(Stop).where(Stop.route_id == route.id, Stop.status == "pending")
                                     .order_by(Stop.sequence)).all()
        clock.shift(15 * 60)
        dispatch.record_stop(pending[0].id, StopStatus.DONE)
        heading = pending[1]
        van = planning.build_problem(shop.warehouse_id).problem.vehicle_by_id[f"V{vehicle_id}"]
        key = f"O{heading.order_id}" if heading.order_id else f"R{heading.replenishment_id}"
        assert [ref.order_id for ref in van.locked_stops] == [key]
        planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        first = db.session.scalars(sa.select(Stop).join(Route).join(Plan).where(
            Plan.status == "active", Route.vehicle_id == vehicle_id, Stop.status == "pending")
            .order_by(Stop.sequence)).first()
        assert (first.order_id, first.replenishment_id, first.kind) == (heading.order_id, heading.replenishment_id,
                                                                        heading.kind)
