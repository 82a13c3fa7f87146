"""The per-process quoting state of a warehouse: kept current by the warehouse's plan_version,
grown incrementally by each order placed here, rebuilt when any other process changed the plan."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from delivery import Role, check
from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.models import Location, LocationKind, Product, Route, Stop, Warehouse
from marketplace.orders import services as orders
from marketplace.planning import promise
from marketplace.planning import services as planning

from .conftest import Shop, hold_only_at_cooperative, make_shop, place_offered, travel_factor_row

WINDOWS = ["18h", "12h", "6h", "18h", "12h", "18h"]


def _version(warehouse_id: int) -> int:
    return db.session.scalar(sa.select(Warehouse.plan_version).where(Warehouse.id == warehouse_id))


def _place(shop: Shop, window: str = "18h", method: str = "cod"):
    return place_offered(shop, window, method)


def test_orders_placed_here_grow_the_cached_state_which_matches_the_stored_plan(app, shop, make_user):
    other = make_shop(app, make_user, mobile="13811112222")
    with app.app_context():
        start = _version(shop.warehouse_id)
        placed = [_place(shop if n % 2 else other, window) for n, window in enumerate(WINDOWS)]
        assert _version(shop.warehouse_id) == start + len(WINDOWS)  # one bump per order
        state = promise._cache[shop.warehouse_id]
        assert state.version == start + len(WINDOWS)
        problem, plan = state.index.problem, state.index.plan
        assert {f"O{o.id}" for o in placed} <= set(problem.order_by_id)
        assert check(problem, plan, check_times=False) == []
        # The stored routes hold exactly the cached visiting order, numbered 1..n, with its times.
        stored = planning.stored_routes(state.ctx, state.plan_id)
        for route in plan.routes:
            assert [(v.order_id, v.role) for v in route.stops] == [
                (ref.order_id, ref.role) for ref in stored[route.vehicle_id]]
        for order in placed:
            route = next(r for r in plan.routes if f"O{order.id}" in r.order_ids)
            rows = db.session.scalars(sa.select(Stop).join(Stop.route).where(
                Route.plan_id == state.plan_id, Route.vehicle_id == state.ctx.vehicles[route.vehicle_id],
            ).order_by(Stop.sequence)).all()
            assert [s.sequence for s in rows] == list(range(1, len(rows) + 1))
            by_key = {(f"O{s.order_id}", "pickup" if s.kind == "pickup" else "delivery"): s for s in rows}
            for visit in route.stops:
                if visit.order_id in {f"O{o.id}" for o in placed}:
                    stop = by_key[(visit.order_id, Role(visit.role).value)]
                    assert stop.planned_arrival_at == state.ctx.at(visit.arrival)
            delivery = next(v for v in route.stops if v.order_id == f"O{order.id}" and v.role == Role.DELIVERY)
            assert state.ctx.at(delivery.arrival) <= db.session.get(type(order), order.id).deadline_at


def test_an_order_placed_by_another_process_is_noticed(app, shop):
    with app.app_context():
        promise.prepare(shop.warehouse_id)
        stale = promise._cache[shop.warehouse_id]
        key = f"O{_place(shop).id}"
        # This process never saw that order: its cache is as another worker's would be.
        promise._cache[shop.warehouse_id] = stale
        db.session.remove()
    with app.app_context():
        checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})
        state = promise._cache[shop.warehouse_id]
        assert state is not stale and state.version == stale.version + 1
        assert key in state.index.problem.order_by_id and key not in stale.index.problem.order_by_id


def test_a_cancellation_elsewhere_takes_the_order_out_of_the_cached_state(app, shop):
    with app.app_context():
        order = _place(shop)
        key, number, version = f"O{order.id}", order.number, _version(shop.warehouse_id)
        assert key in promise._cache[shop.warehouse_id].index.problem.order_by_id
        db.session.remove()
    with app.app_context():
        orders.cancel(shop.user_id, number)
        assert _version(shop.warehouse_id) == version + 1
        promise.prepare(shop.warehouse_id)
        assert key not in promise._cache[shop.warehouse_id].index.problem.order_by_id


def test_a_new_plan_bumps_the_version(app, shop):
    with app.app_context():
        version = _version(shop.warehouse_id)
        planning.plan_warehouse(shop.warehouse_id, seconds=0.2)
        assert _version(shop.warehouse_id) == version + 1


def test_a_refused_order_leaves_the_version_and_the_cache_alone(app, shop):
    with app.app_context():  # the window is suspended for the zone after the consumer saw the quote
        from marketplace.models import Address, LogisticsParameter, Village

        zone_id = db.session.get(Village, db.session.get(Address, shop.address_id).village_id).zone_id
        db.session.add(LogisticsParameter(scope="zone", scope_id=zone_id, key="suspended_windows", value=["18h"]))
        db.session.commit()
        promise.prepare(shop.warehouse_id)
        cached = promise._cache[shop.warehouse_id]
        version = _version(shop.warehouse_id)
    with app.app_context():
        try:  # (the quote the consumer saw offered it)
            checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", uuid.uuid4().hex,
                                 cart_items={shop.product_id: 1})
        except checkout.WindowUnavailable:
            pass
        else:  # pragma: no cover
            raise AssertionError("a suspended window was accepted")
        assert _version(shop.warehouse_id) == version
        # the same state (its index may have been re-timed to the clock: same version and orders)
        after = promise._cache[shop.warehouse_id]
        assert (after.version, after.plan_id) == (cached.version, cached.plan_id)
        assert set(after.index.problem.order_by_id) == set(cached.index.problem.order_by_id)


def test_every_input_of_a_quote_invalidates_the_cached_state(app, shop):
    """A zone's travel factor, a vehicle's shift or capacity, a window class: changing any of
    them (through the ORM, or in bulk) makes every process rebuild its quoting state."""
    from marketplace.models import Address, Vehicle, Village

    with app.app_context():
        zone_id = db.session.get(Village, db.session.get(Address, shop.address_id).village_id).zone_id
        promise.prepare(shop.warehouse_id)
        before = promise._cache[shop.warehouse_id]
        factor = travel_factor_row(zone_id)
        factor.value = 3.0
        db.session.commit()
        promise.prepare(shop.warehouse_id)
        after = promise._cache[shop.warehouse_id]
        assert after.version > before.version and after.ctx is not before.ctx
        code = after.ctx.zone_codes[zone_id]
        assert after.index.problem.matrix.zone_factors[code] == 3.0
        # a bulk change of the fleet, as an admin screen might make it
        db.session.execute(sa.update(Vehicle).where(Vehicle.warehouse_id == shop.warehouse_id)
                           .values(capacity_weight_g=Vehicle.capacity_weight_g + 1))
        db.session.commit()
        promise.prepare(shop.warehouse_id)
        assert promise._cache[shop.warehouse_id].version > after.version
        # an order placed changes no input: the version moves by the order's own bump only
        version = _version(shop.warehouse_id)
        _place(shop)
        assert _version(shop.warehouse_id) == version + 1


def test_orders_placed_elsewhere_are_caught_up_route_by_route(app, shop, make_user, monkeypatch):
    other = make_shop(app, make_user, mobile="13811113333")
    with app.app_context():
        promise.prepare(shop.warehouse_id)
        stale = promise._cache[shop.warehouse_id]
        placed = [_place(shop if n % 2 else other, window, "online" if n == 2 else "cod")
                  for n, window in enumerate(WINDOWS)]
        keys = {f"O{o.id}" for o in placed}
        own = promise._cache[shop.warehouse_id]  # as the process that placed them holds it
        # This process never saw those orders: its cache is as another worker's would be.
        promise._cache[shop.warehouse_id] = stale
        db.session.remove()
    with app.app_context():
        rebuilt = []
        monkeypatch.setattr(planning, "build_problem", lambda *a, **k: rebuilt.append(a) or 1 / 0)
        promise.prepare(shop.warehouse_id)
        caught = promise._cache[shop.warehouse_id]
        assert rebuilt == [] and caught.version == stale.version + len(WINDOWS)
        assert keys <= set(caught.index.problem.order_by_id)  # the unpaid online order too
        for route in own.index.plan.routes:
            assert [(v.order_id, v.role) for v in route.stops] == [
                (v.order_id, v.role) for v in caught.index.plan.route_of(route.vehicle_id).stops]
        assert check(caught.index.problem, caught.index.plan, check_times=False) == []
        monkeypatch.undo()
        caught_quotes = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows
        promise.invalidate(shop.warehouse_id)
        fresh_quotes = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows
        assert [(q.code, q.feasible, q.reason_code) for q in caught_quotes] == [
            (q.code, q.feasible, q.reason_code) for q in fresh_quotes]


def test_a_cached_state_older_than_a_reset_is_rebuilt(app, shop):
    with app.app_context():
        promise.prepare(shop.warehouse_id)
        stale = promise._cache[shop.warehouse_id]
        order = _place(shop)
        key = f"O{order.id}"
        orders.cancel(shop.user_id, order.number)  # not an insertion: no route-by-route catch-up
        promise._cache[shop.warehouse_id] = stale
        db.session.remove()
    with app.app_context():
        promise.prepare(shop.warehouse_id)
        state = promise._cache[shop.warehouse_id]
        assert state.version == stale.version + 2 and state.ctx is not stale.ctx
        assert key not in state.index.problem.order_by_id


def test_goods_held_only_at_a_cooperative_are_picked_up_there_in_a_rebuild_and_a_catch_up(app, shop):
    with app.app_context():
        product = db.session.get(Product, shop.product_id)
        farm = db.session.scalar(sa.select(Location).where(
            Location.kind == LocationKind.COOPERATIVE, Location.cooperative_id == product.cooperative_id))
        hold_only_at_cooperative(product.id, farm.id)
        promise.prepare(shop.warehouse_id)
        stale = promise._cache[shop.warehouse_id]
        order = _place(shop)
        key, order_id, farm_id, weight = f"O{order.id}", order.id, farm.id, order.lines[0].weight_g
        promise._cache[shop.warehouse_id] = stale  # as another worker's cache would be
        db.session.remove()
    with app.app_context():
        promise.prepare(shop.warehouse_id)
        caught_up = promise._cache[shop.warehouse_id]
        rebuilt = planning.build_problem(shop.warehouse_id)
        for problem, locations in ((caught_up.index.problem, caught_up.ctx.locations),
                                   (rebuilt.problem, rebuilt.locations)):
            task = problem.order_by_id[key]
            assert task.kind == "pickup_delivery" and task.pickup == f"L{farm_id}"
            assert task.weight == weight and locations[f"L{farm_id}"][2] == farm_id
        stops = db.session.scalars(sa.select(Stop).where(Stop.order_id == order_id).order_by(Stop.sequence)).all()
        assert [(s.kind, s.location_id) for s in stops] == [("pickup", farm_id), ("delivery", None)]
