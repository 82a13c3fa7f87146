"""The dispatcher's actions on the day's plan (marketplace/dispatch/actions.py): a move the
independent checker accepts is stored at once and whole; one it refuses changes nothing and
says why; a move that fails midway leaves the plan as it was; locks and pins hold through the
next re-plan; a vehicle broken down has its stops re-planned onto the others (orders no route
can keep alerted and marked broken); "re-plan now" tells what changed, runs once per form, and
keeps the plan when it fails."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from delivery import replan as dreplan
from delivery.check import check as check_plan
from delivery.model import Role as StopRole
from delivery.model import StopRef
from marketplace.columns import utcnow
from marketplace.dispatch import actions
from marketplace.extensions import db
from marketplace.models import Alert, Order, Plan, PlanEvent, Role, Route, Stop, Vehicle, Warehouse
from marketplace.planning import services as planning
from tests.marketplace.checkout.conftest import make_shop, place_offered

# --- reading the active plan ---------------------------------------------------------------------


def active_routes(warehouse_id: int) -> dict[int, list[Stop]]:
    """vehicle id -> its route's stops still to be made, in order (active plan)."""
    out: dict[int, list[Stop]] = {}
    rows = db.session.execute(
        sa.select(Route.vehicle_id, Stop).join(Stop, Stop.route_id == Route.id).join(Plan, Plan.id == Route.plan_id)
        .where(Plan.warehouse_id == warehouse_id, Plan.status == "active", Stop.status == "pending")
        .order_by(Route.vehicle_id, Stop.sequence)).all()
    for vehicle_id, stop in rows:
        out.setdefault(vehicle_id, []).append(stop)
    return out


def vehicle_of_order(order_id: int) -> int | None:
    return db.session.scalar(sa.select(Route.vehicle_id).join(Stop, Stop.route_id == Route.id).join(Plan)
                             .where(Plan.status == "active", Stop.order_id == order_id, Stop.kind == "delivery"))


def stored(warehouse_id: int) -> dict:
    """Everything a change of routes writes, as committed to the database (read on a connection
    of its own, outside the session)."""
    with db.engine.connect() as conn:
        plan_id = conn.scalar(sa.select(Plan.id).where(Plan.warehouse_id == warehouse_id, Plan.status == "active"))
        return {
            "stops": conn.execute(
                sa.select(Stop.id, Stop.route_id, Stop.sequence, Stop.planned_arrival_at, Stop.planned_departure_at)
                .join(Route, Route.id == Stop.route_id).where(Route.plan_id == plan_id).order_by(Stop.id)).all(),
            "routes": conn.execute(sa.select(Route.id, Route.vehicle_id, Route.distance_m, Route.end_at, Route.locked)
                                   .where(Route.plan_id == plan_id).order_by(Route.id)).all(),
            "version": conn.scalar(sa.select(Warehouse.plan_version).where(Warehouse.id == warehouse_id)),
            "events": conn.scalar(sa.select(sa.func.count(PlanEvent.id))),
            "plan": plan_id,
        }


def movable_routes(warehouse_id: int) -> dict[int, list[Stop]]:
    """The routes of vans still at the depot: the stops a dispatcher may move."""
    vans = planning.build_problem(warehouse_id).problem.vehicle_by_id
    return {v: s for v, s in active_routes(warehouse_id).items()
            if not vans[f"V{v}"].departed and not vans[f"V{v}"].onboard}


def busiest(warehouse_id: int) -> tuple[int, list[Stop]]:
    """The vehicle still at the depot with the most stops to make (only deliveries from the
    depot, when it can)."""
    movable = movable_routes(warehouse_id)
    plain = {v: s for v, s in movable.items() if all(x.kind == "delivery" for x in s) and len(s) >= 3}
    assert movable, "every van has left: nothing to move at this hour"
    return max((plain or movable).items(), key=lambda item: len(item[1]))


def most_stops(warehouse_id: int) -> tuple[int, list[Stop]]:
    return max(active_routes(warehouse_id).items(), key=lambda item: len(item[1]))


def idle_vehicle(warehouse_id: int) -> Vehicle:
    routes = active_routes(warehouse_id)
    return db.session.scalars(sa.select(Vehicle).where(Vehicle.warehouse_id == warehouse_id, Vehicle.active.is_(True),
                                                       Vehicle.id.not_in(list(routes))).order_by(Vehicle.id)).first()


def checker_on_stored_plan(warehouse_id: int) -> list:
    """The independent checker on the routes as stored, against the problem as built now."""
    ctx = planning.build_problem(warehouse_id)
    return check_plan(ctx.problem, dreplan.schedule(ctx.problem, ctx.routes))


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Services called outside a request speak the default language: English here, so that the
    reasons can be read in the assertions (the Chinese ones: test_actions_views.py)."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def dispatcher(make_user):
    return make_user(Role.DISPATCHER, mobile="13700000001")


def place_orders(app, make_user, n: int = 5, windows=("18h",), mobile: str = "13811112222",
                 far: bool = False) -> int:
    """Orders of depot goods placed now: the demo county's vans may all have left by this hour;
    these go to a van still at the depot, whose stops a dispatcher may move. ``far``: to the
    village of the warehouse's zones farthest from it. The warehouse id."""
    from dataclasses import replace

    from marketplace.geo import services as geo
    from marketplace.models import Village

    shop = make_shop(app, make_user, mobile=mobile)
    with app.app_context():
        if far:
            depot = db.session.get(Warehouse, shop.warehouse_id).location
            served = [v for v in db.session.scalars(sa.select(Village))
                      if getattr(geo.warehouse_for_zone(v.zone_id), "id", None) == shop.warehouse_id]
            village = max(served, key=lambda v: (v.lat - depot.lat) ** 2 + (v.lon - depot.lon) ** 2)
            address = geo.add_address(shop.user_id, village_id=village.id, detail="山路 1 号", recipient_name="测试",
                                      recipient_mobile=mobile)
            shop = replace(shop, address_id=address.id)
        for i in range(n):
            place_offered(shop, windows[i % len(windows)])
    return shop.warehouse_id


@pytest.fixture
def day(app, seeded, make_user) -> int:
    """The demo county at the session clock's hour with five more orders placed: the warehouse."""
    return place_orders(app, make_user)


def warehouse_id(code: str = "W-MG") -> int:
    return db.session.scalar(sa.select(Warehouse.id).where(Warehouse.code == code))


# --- move a stop ---------------------------------------------------------------------------------


@pytest.mark.parametrize("hhmm", ["10:30", "03:30", "17:30"])
def test_an_accepted_move_is_stored_whole_checked_and_versioned(app, seeded_at, make_user, dispatcher, hhmm):
    seeded_at(hhmm)
    wid = place_orders(app, make_user)
    with app.app_context():
        source, stops = busiest(wid)
        target = idle_vehicle(wid)
        stop = next(s for s in stops if s.kind == "delivery")
        before = stored(wid)
        now = utcnow()
        assert actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id, now=now) is True
        routes = active_routes(wid)
        assert [s.id for s in routes[target.id]] == [stop.id]  # the only stop of the idle van, at 1
        assert stop.id not in [s.id for s in routes.get(source, [])]
        after = stored(wid)
        assert after["version"] == before["version"] + 1 and after["plan"] == before["plan"]
        assert checker_on_stored_plan(wid) == []  # the stored routes hold, to the independent checker
        moved = db.session.get(Stop, stop.id)
        ctx = planning.build_problem(wid, now)  # (the van waiting at the depot leaves at "now")
        assert moved.planned_arrival_at == ctx.at(dreplan.schedule(ctx.problem, ctx.routes)
                                                  .route_of(f"V{target.id}").stops[0].arrival)
        event = db.session.scalar(sa.select(PlanEvent).where(PlanEvent.kind == "stop_moved"))
        assert event.actor_user_id == dispatcher.id and event.data["to_vehicle_id"] == target.id
        # the same move again (a double submit): nothing changes
        assert actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id) is False
        assert stored(wid)["version"] == after["version"]


def test_a_reorder_on_the_same_route_keeps_the_other_stops_and_numbers_from_one(app, day, dispatcher):
    with app.app_context():
        wid = day
        vehicle, stops = busiest(wid)
        first = stops[0]
        try:
            changed = actions.move_stop(wid, first.id, vehicle, 2, actor_id=dispatcher.id)
        except actions.Refused as refused:  # (a deadline may hold it first: then nothing moved)
            assert refused.reasons
            assert [s.id for s in active_routes(wid)[vehicle]] == [s.id for s in stops]
            return
        assert changed
        order = [s.id for s in active_routes(wid)[vehicle]]
        assert order == [stops[1].id, first.id, *[s.id for s in stops[2:]]]
        assert [s.sequence for s in active_routes(wid)[vehicle]] == list(range(1, len(stops) + 1))


def test_a_move_the_checker_refuses_changes_nothing_and_says_why(app, day, dispatcher):
    with app.app_context():
        wid = day
        _source, stops = busiest(wid)
        target = idle_vehicle(wid)
        target.capacity_weight_g = 1  # a van that can carry nothing
        db.session.commit()
        stop = next(s for s in stops if s.kind == "delivery")
        before = stored(wid)
        with pytest.raises(actions.Refused) as refused:
            actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id)
        assert any(f"{target.plate} would be over its weight capacity by" in r for r in refused.value.reasons)
        assert refused.value.message.startswith("Move refused:")
        assert stored(wid) == before  # no stop, route, version or event changed


def test_a_move_that_would_make_a_delivery_late_is_refused_with_the_stop_and_minutes(app, seeded, make_user,
                                                                                       dispatcher):
    wid = place_orders(app, make_user, n=1, windows=("2h",), far=True)
    with app.app_context():
        far = db.session.scalar(sa.select(sa.func.max(Order.id)).where(Order.warehouse_id == wid))
        stop = db.session.scalar(sa.select(Stop).where(Stop.order_id == far, Stop.kind == "delivery"))
        assert stop.route.vehicle_id in movable_routes(wid)
        target = idle_vehicle(wid)
        target.speed_kmh = 1  # it would take hours to get anywhere
        db.session.commit()
        number = db.session.get(Order, stop.order_id).number
        before = stored(wid)
        with pytest.raises(actions.Refused) as refused:
            actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id)
        late = [r for r in refused.value.reasons if "min late" in r]
        assert late and late[0].startswith(f"Stop 1 on {target.plate} ({number}) would be ")
        assert int(late[0].split("would be ")[1].split(" min")[0]) > 30
        assert stored(wid) == before

def test_a_move_that_fails_midway_leaves_the_plan_in_the_database_unchanged(app, day, dispatcher, monkeypatch):
    with app.app_context():
        wid = day
        source, stops = busiest(wid)
        target = idle_vehicle(wid)
        stop = next(s for s in stops if s.kind == "delivery")
        before = stored(wid)
        on_route = db.session.scalar(sa.select(sa.func.count(Stop.id)).where(Stop.route_id == stop.route_id))
        writes = 2 * on_route  # every stop of the two routes (the target is idle): off its number, then in place
        real, calls = actions._write_stop, []

        def crash_halfway(stop_row, **values):
            calls.append(values)
            if len(calls) > writes * 3 // 4:  # (in the middle of putting them in their new places)
                raise RuntimeError("the database went away")
            real(stop_row, **values)

        monkeypatch.setattr(actions, "_write_stop", crash_halfway)
        with pytest.raises(RuntimeError):
            actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id)
        assert len(calls) == writes * 3 // 4 + 1 < writes  # it did fail midway
        assert stored(wid) == before
        monkeypatch.setattr(actions, "_write_stop", real)
        assert actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id) is True  # and works after


def test_goods_on_a_van_that_has_left_stay_on_it(app, day, dispatcher):
    from marketplace.dispatch import services as dispatch

    with app.app_context():
        wid = day
        vehicle, stops = busiest(wid)
        target = idle_vehicle(wid)
        dispatch.start_route(stops[0].route_id)  # the van leaves with its depot goods
        stop = next(s for s in stops if s.kind == "delivery")
        number = db.session.get(Order, stop.order_id).number
        plate = db.session.get(Vehicle, vehicle).plate
        before = stored(wid)
        with pytest.raises(actions.Refused) as moved:
            actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id)
        with pytest.raises(actions.Refused) as pinned:
            actions.pin_order(wid, stop.order_id, target.id, actor_id=dispatcher.id)
        for refused in (moved, pinned):
            assert f"The goods of {number} are already on {plate}." in refused.value.reasons
        assert stored(wid) == before


def test_a_move_while_a_driver_records_a_stop_of_its_routes_says_busy_at_once(app, day, dispatcher):
    """Under the warehouse's lock, the rows a move writes are taken without waiting: a driver's
    record holds its stop first and waits for the warehouse next, so waiting would deadlock."""
    import time

    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks are PostgreSQL's (SQLite serializes writers)")
    with app.app_context():
        wid = day
        _source, stops = busiest(wid)
        target = idle_vehicle(wid)
        stop_id, target_id, recorded = stops[0].id, target.id, stops[-1].id
        before = stored(wid)
        with db.engine.connect() as driver:  # a record_stop in progress: its stop row locked
            driver.execute(sa.select(Stop.id).where(Stop.id == recorded).with_for_update())
            started = time.monotonic()
            with pytest.raises(actions.Busy):
                actions.move_stop(wid, stop_id, target_id, 1, actor_id=dispatcher.id)
            assert time.monotonic() - started < 5
            driver.rollback()
        assert stored(wid) == before
        assert actions.move_stop(wid, stop_id, target_id, 1, actor_id=dispatcher.id) is True


def test_a_stop_of_another_warehouse_or_an_unknown_one_is_not_found(app, seeded, dispatcher):
    from marketplace.errors import NotFound

    with app.app_context():
        wid, other = warehouse_id("W-MG"), warehouse_id("W-BJ")
        _v, stops = most_stops(other)
        vehicle = idle_vehicle(wid)
        for call in (lambda: actions.move_stop(wid, stops[0].id, vehicle.id, 1),
                     lambda: actions.move_stop(wid, 2**31 - 1, vehicle.id, 1),
                     lambda: actions.move_stop(other, stops[0].id, vehicle.id, 1),  # a vehicle of W-MG
                     lambda: actions.set_route_locked(wid, stops[0].route_id, True),
                     lambda: actions.pin_order(wid, stops[0].order_id, vehicle.id),
                     lambda: actions.mark_broken_down(other, vehicle.id)):
            with pytest.raises(NotFound):
                call()


# --- lock a route --------------------------------------------------------------------------------


def test_a_locked_route_keeps_its_stops_in_order_through_a_re_plan(app, day, dispatcher):
    with app.app_context():
        wid = day
        vehicle, stops = busiest(wid)
        route_id = stops[0].route_id
        # a dispatcher's own order of the stops, one no solver would choose: pickups first, then
        # the deliveries backwards
        reversed_ids = [s.id for s in stops if s.kind == "pickup"] + [s.id for s in reversed(stops)
                                                                       if s.kind != "pickup"]
        for stop in stops:
            stop.sequence = -stop.id
        db.session.flush()
        for n, stop_id in enumerate(reversed_ids, start=1):
            db.session.get(Stop, stop_id).sequence = n
        planning.bump_plan_version(wid)
        db.session.commit()
        refs = [f"O{db.session.get(Stop, s).order_id}" for s in reversed_ids]
        van = planning.build_problem(wid).problem.vehicle_by_id[f"V{vehicle}"]
        assert van.locked_stops == ()
        assert actions.set_route_locked(wid, route_id, True, actor_id=dispatcher.id) is True
        assert actions.set_route_locked(wid, route_id, True, actor_id=dispatcher.id) is False  # (twice: once)
        van = planning.build_problem(wid).problem.vehicle_by_id[f"V{vehicle}"]
        assert [r.order_id for r in van.locked_stops] == refs
        plan = planning.plan_warehouse(wid, seconds=0.5)
        assert plan is not None
        route = db.session.scalar(sa.select(Route).where(Route.plan_id == plan.id, Route.vehicle_id == vehicle))
        assert route.locked
        assert [f"O{s.order_id}" for s in route.stops][:len(refs)] == refs
        events = db.session.scalars(sa.select(PlanEvent.kind).where(PlanEvent.actor_user_id == dispatcher.id)).all()
        assert events == ["route_locked"]
        # unlocked, the next re-plan is free to change it again
        assert actions.set_route_locked(wid, route.id, False, actor_id=dispatcher.id) is True
        van = planning.build_problem(wid).problem.vehicle_by_id[f"V{vehicle}"]
        assert van.locked_stops == ()


def test_a_locked_route_refuses_a_move_into_its_locked_stops(app, day, dispatcher):
    with app.app_context():
        wid = day
        vehicle, stops = busiest(wid)
        actions.set_route_locked(wid, stops[0].route_id, True, actor_id=dispatcher.id)
        before = stored(wid)
        with pytest.raises(actions.Refused) as refused:
            actions.move_stop(wid, stops[-1].id, vehicle, 1, actor_id=dispatcher.id)
        assert any("is locked" in r for r in refused.value.reasons)
        assert stored(wid) == before


# --- pin an order --------------------------------------------------------------------------------


def test_a_pinned_order_moves_to_its_vehicle_and_stays_there_through_a_re_plan(app, day, dispatcher):
    from marketplace.dispatch.models import OrderPin

    with app.app_context():
        wid = day
        source, stops = busiest(wid)
        target = idle_vehicle(wid)
        order_id = next(s.order_id for s in stops if s.kind == "delivery")
        assert actions.pin_order(wid, order_id, target.id, actor_id=dispatcher.id) is True
        assert vehicle_of_order(order_id) == target.id  # moved at once, checked as a move is
        assert db.session.get(OrderPin, order_id).vehicle_id == target.id
        assert checker_on_stored_plan(wid) == []
        assert planning.build_problem(wid).problem.order_by_id[f"O{order_id}"].pinned_vehicle == f"V{target.id}"
        # one order on a van of its own costs a vehicle: a re-plan would take it back, but for the pin
        plan = planning.plan_warehouse(wid, seconds=0.5)
        assert plan is not None and vehicle_of_order(order_id) == target.id
        assert actions.pin_order(wid, order_id, target.id, actor_id=dispatcher.id) is False  # (twice: once)
        assert actions.unpin_order(wid, order_id, actor_id=dispatcher.id) is True
        assert actions.unpin_order(wid, order_id, actor_id=dispatcher.id) is False
        assert planning.build_problem(wid).problem.order_by_id[f"O{order_id}"].pinned_vehicle is None
        kinds = db.session.scalars(sa.select(PlanEvent.kind).where(PlanEvent.actor_user_id == dispatcher.id)
                                   .order_by(PlanEvent.id)).all()
        assert kinds == ["order_pinned", "order_unpinned"]


def test_a_pin_the_vehicle_cannot_keep_is_refused_with_the_reason(app, day, dispatcher):
    from marketplace.dispatch.models import OrderPin

    with app.app_context():
        wid = day
        _source, stops = busiest(wid)
        target = idle_vehicle(wid)
        target.capacity_weight_g = 1
        db.session.commit()
        order_id = next(s.order_id for s in stops if s.kind == "delivery")
        before = stored(wid)
        with pytest.raises(actions.Refused) as refused:
            actions.pin_order(wid, order_id, target.id, actor_id=dispatcher.id)
        assert refused.value.message.startswith("Pin refused:")
        assert any("weight capacity" in r for r in refused.value.reasons)
        assert db.session.get(OrderPin, order_id) is None and stored(wid) == before


# --- a vehicle breaks down -----------------------------------------------------------------------


def test_a_vehicle_broken_down_has_its_stops_re_planned_onto_the_others(app, seeded, dispatcher):
    from marketplace.dispatch.models import VehicleBreakdown

    with app.app_context():
        wid = warehouse_id()
        vehicle, stops = most_stops(wid)
        orders = {s.order_id for s in stops if s.order_id}
        outcome = actions.mark_broken_down(wid, vehicle, actor_id=dispatcher.id, seconds=0.5)
        assert outcome.new_plan_id == planning.active_plan_id(wid) and not outcome.already
        routes = active_routes(wid)
        assert vehicle not in routes  # nothing left for it to do
        for order_id in orders:  # every one of its orders is on another van now (or alerted)
            on = vehicle_of_order(order_id)
            assert on not in (None, vehicle) or db.session.scalar(sa.select(Alert.id).where(
                Alert.order_id == order_id, Alert.severity == "critical"))
        breakdown = db.session.scalar(sa.select(VehicleBreakdown))
        assert breakdown.vehicle_id == vehicle and breakdown.reported_by_id == dispatcher.id
        assert breakdown.until - breakdown.reported_at < timedelta(hours=24)
        alert = db.session.scalar(sa.select(Alert).where(Alert.kind == "vehicle_broken_down"))
        assert alert.severity == "critical" and alert.vehicle_id == vehicle and alert.data["stops"] == len(stops)
        from marketplace.dispatch.services import alert_text

        with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
            assert "停用" in alert_text(alert) or "故障" in alert_text(alert)  # the console words it in Chinese
        assert vehicle not in {int(k[1:]) for k in planning.build_problem(wid).vehicles}
        # twice (a double submit): nothing more
        again = actions.mark_broken_down(wid, vehicle, actor_id=dispatcher.id, seconds=0.5)
        assert again.already and again.new_plan_id == outcome.new_plan_id
        assert db.session.scalar(sa.select(sa.func.count(Alert.id)).where(Alert.kind == "vehicle_broken_down")) == 1


def test_orders_no_other_vehicle_can_keep_after_a_breakdown_are_alerted_and_marked_broken(app, seeded, dispatcher):
    with app.app_context():
        wid = warehouse_id()
        vehicle, stops = most_stops(wid)
        orders = {s.order_id for s in stops if s.order_id}
        for other in db.session.scalars(sa.select(Vehicle).where(Vehicle.warehouse_id == wid, Vehicle.id != vehicle)):
            other.active = False  # the rest of the fleet is away today
        db.session.commit()
        actions.mark_broken_down(wid, vehicle, actor_id=dispatcher.id, seconds=0.3)
        for order_id in orders:
            order = db.session.get(Order, order_id)
            assert order.promise_broken_at is not None
            assert db.session.scalar(sa.select(Alert.id).where(
                Alert.order_id == order_id, Alert.severity == "critical", Alert.kind.in_(["unassigned", "promise_broken"])))


# --- re-plan now ---------------------------------------------------------------------------------


def test_re_plan_now_tells_what_changed_and_runs_once_per_form(app, day, dispatcher):
    with app.app_context():
        wid = day
        _source, stops = busiest(wid)
        target = idle_vehicle(wid)
        stop = next(s for s in stops if s.kind == "delivery")
        number = db.session.get(Order, stop.order_id).number
        actions.move_stop(wid, stop.id, target.id, 1, actor_id=dispatcher.id)  # a van of its own: costly
        plan_before = planning.active_plan_id(wid)
        plates = dict(db.session.execute(sa.select(Vehicle.id, Vehicle.plate)).all())
        numbers = dict(db.session.execute(sa.select(Order.id, Order.number)).all())

        def on_vans() -> dict[str, str]:
            return {numbers[s.order_id]: plates[v] for v, route in active_routes(wid).items() for s in route
                    if s.kind == "delivery"}

        was = on_vans()
        token = "t" * 24
        request = actions.replan(wid, token=token, actor_id=dispatcher.id, seconds=2)  # (time to undo the move)
        result = request.result["warehouses"][0]
        assert result["outcome"] == "stored" and result["plan_before"] == plan_before
        assert result["plan_after"] == planning.active_plan_id(wid) != plan_before
        now = on_vans()
        moved = [{"order": n, "from": was[n], "to": now[n]} for n in sorted(now) if n in was and was[n] != now[n]]
        assert moved and sorted(result["moved"], key=lambda m: m["order"]) == moved
        # the costly move is undone: a van fewer again, or (when the van is worth keeping at this
        # hour, as before the first shift) the same vans with fewer km
        assert number in was and (result["vehicles_after"] < result["vehicles_before"]
                                  or result["km_after"] < result["km_before"])
        assert all(abs(s["minutes"]) > actions.ETA_SHIFT_MINUTES for s in result["eta_shifts"])
        event = db.session.scalar(sa.select(PlanEvent).where(PlanEvent.kind == "replanned"))
        assert event.actor_user_id == dispatcher.id and event.data["token"] == token
        # the same form again: the first request's outcome, nothing planned
        again = actions.replan(wid, token=token, actor_id=dispatcher.id, seconds=0.5)
        assert again.id == request.id and planning.active_plan_id(wid) == result["plan_after"]
        assert db.session.scalar(sa.select(sa.func.count(PlanEvent.id)).where(PlanEvent.kind == "replanned")) == 1


def test_the_diff_names_moves_reorders_eta_shifts_and_orders_on_and_off_routes():
    from datetime import UTC, datetime

    t = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
    before = actions._Snapshot(1, 12_000, 2, {
        1: (10, 1, t), 2: (10, 2, t + timedelta(minutes=20)), 3: (10, 3, t + timedelta(minutes=40)),
        4: (11, 1, t), 5: (11, 2, t)}, {i: f"N{i}" for i in range(1, 7)})
    after = actions._Snapshot(2, 9_000, 1, {
        3: (10, 1, t + timedelta(minutes=5)), 2: (10, 2, t + timedelta(minutes=25)), 1: (10, 3, t + timedelta(minutes=41)),
        4: (10, 4, t + timedelta(minutes=9)), 6: (10, 5, t)}, {i: f"N{i}" for i in range(1, 7)})
    diff = actions._diff(before, after, {10: "A", 11: "B"})
    assert diff["moved"] == [{"order": "N4", "from": "B", "to": "A"}]
    assert diff["reordered"] == [{"vehicle": "A", "stops": 2, "before": ["N1", "N2", "N3"], "after": ["N3", "N2", "N1"]}]
    assert [(s["order"], s["minutes"]) for s in diff["eta_shifts"]] == [("N1", 41), ("N3", -35)]
    assert diff["routed"] == ["N6"] and diff["unrouted"] == ["N5"]
    assert (diff["km_before"], diff["km_after"], diff["vehicles_before"], diff["vehicles_after"]) == (12.0, 9.0, 2, 1)


@pytest.mark.parametrize("failure", [RuntimeError("solver crashed"), TimeoutError("no solution in time")])
def test_a_re_plan_that_fails_or_times_out_keeps_the_plan_and_raises_an_alert(app, seeded, dispatcher, monkeypatch,
                                                                                failure):
    def fail(*_a, **_k):
        raise failure

    with app.app_context():
        wid = warehouse_id()
        before = stored(wid)
        monkeypatch.setattr(dreplan, "replan", fail)
        request = actions.replan(wid, token="f" * 24, actor_id=dispatcher.id, seconds=0.2)
        result = request.result["warehouses"][0]
        assert result["outcome"] == "failed" and result["moved"] == [] and result["plan_after"] == before["plan"]
        after = stored(wid)
        assert after["stops"] == before["stops"] and after["routes"] == before["routes"]
        assert db.session.scalar(sa.select(sa.func.count(Alert.id)).where(
            Alert.kind == "replan_failed", Alert.warehouse_id == wid)) == 1


def test_re_plan_all_plans_every_active_warehouse(app, seeded, dispatcher):
    with app.app_context():
        before = {w: planning.active_plan_id(w) for w in db.session.scalars(sa.select(Warehouse.id))}
        request = actions.replan(None, token="a" * 24, actor_id=dispatcher.id, seconds=0.2)
        outcomes = {r["warehouse_id"]: r for r in request.result["warehouses"]}
        assert set(outcomes) == set(before)
        for wid, plan_id in before.items():
            assert outcomes[wid]["plan_before"] == plan_id
            assert outcomes[wid]["outcome"] == "stored" and planning.active_plan_id(wid) != plan_id


def test_a_form_token_must_look_like_one(app, seeded):
    from marketplace.errors import ValidationFailed

    with app.app_context(), pytest.raises(ValidationFailed):
        actions.replan(warehouse_id(), token="short")


def test_checker_violations_carry_what_a_page_needs_to_word_them():
    from delivery import EuclideanMatrix, Location, Problem, Vehicle
    from delivery import Order as Task

    points = {"D": (0, 0), "A": (100, 0), "B": (0, 50)}
    problem = Problem([Location(k, x=x, y=y) for k, (x, y) in points.items()],
                      [Vehicle("V1", "D", capacity_weight=10, shift_end=1000)],
                      [Task("A", delivery="A", weight=8, deadline=60), Task("B", delivery="B", weight=8)],
                      matrix=EuclideanMatrix(scale=1), vehicle_fixed_cost=0)
    plan = dreplan.schedule(problem, {"V1": [StopRef("B", StopRole.DELIVERY),
                                             StopRef("A", StopRole.DELIVERY)]})
    found = {v.code: v for v in check_plan(problem, plan)}
    late, over = found["late"], found["capacity"]
    assert (late.order_id, late.position, late.unit) == ("A", 1, "s")
    assert late.amount == 50 + 112 - 60  # B at 50, then to A: sqrt(100² + 50²) = 111.8 → 112 s, due at 60
    assert (over.unit, over.amount, over.vehicle_id) == ("g", 6, "V1")
