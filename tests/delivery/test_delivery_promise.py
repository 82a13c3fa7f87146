"""Window quotes against the current plan, and committing a promise."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from delivery import HaversineMatrix, Location, Order, OrderKind, Problem, Vehicle, check, solve
from delivery._context import Context
from delivery.check import check_route
from delivery.errors import InsertionError, ProblemError
from delivery.model import Role, StopRef
from delivery.promise import Insertion, PromiseIndex, WindowClass, quote

HOUR = 3600
CLASSES = [
    WindowClass("2h", 2 * HOUR, 800),
    WindowClass("6h", 6 * HOUR, 500),
    ("12h", 12 * HOUR, 300),
    ("18h", 18 * HOUR, 0),
]
W = (28.0, 119.0)  # warehouse


def _km(dlat_km: float, dlon_km: float, lid: str, zone: str | None = None) -> Location:
    return Location(lid, lat=W[0] + dlat_km / 111.2, lon=W[1] + dlon_km / 98.2, zone=zone)


@pytest.fixture(scope="module")
def county() -> tuple[Problem, object]:
    """One warehouse, two vans (30 km/h, 08:00-20:00), 12 open orders within ~10 km; solved once
    for the module (the problem and its plan are frozen; no test changes them)."""
    rng = random.Random(7)
    locs = [Location("W", lat=W[0], lon=W[1]), _km(20, 0, "COOP")]
    orders = []
    for i in range(12):
        locs.append(_km(rng.uniform(-8, 8), rng.uniform(-8, 8), f"H{i}", zone="town"))
        orders.append(
            Order(f"O{i}", delivery=f"H{i}", weight=2000, delivery_service=300,
                  ready=8 * HOUR, deadline=8 * HOUR + rng.choice([2, 6, 12]) * HOUR)
        )  # fmt: skip
    vans = [
        Vehicle(f"V{i}", "W", capacity_weight=100_000, shift_start=8 * HOUR,
                shift_end=20 * HOUR, speed_kmh=30)
        for i in (1, 2)
    ]  # fmt: skip
    p = Problem(locs, vans, orders, matrix=HaversineMatrix(), vehicle_fixed_cost=None)
    plan = solve(p, time_limit=1.0)
    assert check(p, plan) == [] and not plan.unassigned
    return p, plan


def _order(lid: str, **kw) -> Order:
    return Order("NEW", delivery=lid, weight=1000, delivery_service=300, **kw)


def test_nearby_order_gets_every_window(county):
    p, plan = county
    home = _km(1, 1, "NEWHOME", zone="town")
    qs = quote(p, plan, _order("NEWHOME"), CLASSES, now=7 * HOUR, locations=[home])
    assert [q.window for q in qs] == ["2h", "6h", "12h", "18h"]
    assert all(q.feasible for q in qs)
    q2 = qs[0]
    assert q2.deadline == 9 * HOUR and q2.fee_fen == 800
    assert q2.eta is not None and q2.eta <= q2.deadline
    assert q2.insertion is not None


def test_far_order_cannot_have_the_short_window_and_says_why(county):
    p, plan = county
    far = _km(60, 0, "FAR")  # ~78 km by road at 30 km/h: about 2.6 h
    qs = {
        q.window: q for q in quote(p, plan, _order("FAR"), CLASSES, now=7 * HOUR, locations=[far])
    }
    assert not qs["2h"].feasible
    assert qs["2h"].reason_code == "no_vehicle_reaches_in_time" and qs["2h"].reason
    assert qs["6h"].feasible


def test_margin_is_respected(county):
    p, plan = county
    home = _km(3, 0, "M", zone="town")
    index = PromiseIndex(p, plan)
    plain = index.quote(_order("M"), CLASSES[:1], now=7 * HOUR, locations=[home])[0]
    assert plain.feasible
    slack = plain.deadline - plain.eta
    tight = index.quote(
        _order("M"), CLASSES[:1], now=7 * HOUR, locations=[home], margin_seconds=slack + 1
    )[0]
    assert not tight.feasible
    # a learned travel-time multiplier works the same way
    factor = (plain.deadline - 7 * HOUR) / (plain.eta - 7 * HOUR) + 0.01
    assert not index.quote(
        _order("M"), CLASSES[:1], now=7 * HOUR, locations=[home], margin_factor=factor
    )[0].feasible


def test_pickup_order_from_a_cooperative(county):
    p, plan = county
    home = _km(-2, 0, "PH")
    o = Order("NEW", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="PH", weight=500,
              ready=7 * HOUR)  # fmt: skip
    qs = {q.window: q for q in quote(p, plan, o, CLASSES, now=7 * HOUR, locations=[home])}
    # the cooperative is ~26 km by road out and ~29 km back: about 1.8 h at 30 km/h plus stops
    assert qs["6h"].feasible and qs["6h"].insertion.pickup_index is not None


def test_capacity_and_no_vehicle_reasons(county):
    p, plan = county
    home = _km(1, 0, "X")
    heavy = Order("NEW", delivery="X", weight=10**9)
    qs = quote(p, plan, heavy, CLASSES, now=7 * HOUR, locations=[home])
    assert {q.reason_code for q in qs} == {"capacity"}
    other_depot = Order("NEW", delivery="X", pickup="COOP")  # no van starts at the cooperative
    assert {q.reason_code for q in quote(p, plan, other_depot, CLASSES, now=7 * HOUR,
                                         locations=[home])} == {"no_vehicle"}  # fmt: skip


def test_committing_never_breaks_other_promises(county):
    """Commit one accepted quote after another; the checker stays clean throughout."""
    p, plan = county
    rng = random.Random(3)
    now = 7 * HOUR
    committed = 0
    for n in range(25):
        home = _km(rng.uniform(-12, 12), rng.uniform(-12, 12), f"N{n}", zone="town")
        o = Order(f"N{n}", delivery=home.id, weight=1500, delivery_service=300)
        index = PromiseIndex(p, plan)
        qs = index.quote(o, CLASSES, now=now, locations=[home])
        offered = [q for q in qs if q.feasible]
        if not offered:
            continue
        q = rng.choice(offered)
        promised = Order(o.id, delivery=o.delivery, weight=o.weight, delivery_service=300,
                         deadline=q.deadline)  # fmt: skip
        p, plan = index.commit(promised, q.insertion, now=now, locations=[home])
        assert check(p, plan) == []
        committed += 1
    assert committed >= 10
    # and a fresh solve of the grown problem still keeps every promise
    replanned = solve(p, time_limit=1.0)
    assert check(p, replanned) == [] and not replanned.unassigned


def test_commit_rechecks_a_stale_insertion(county):
    p, plan = county
    home = _km(1, 1, "S")
    index = PromiseIndex(p, plan)
    q = index.quote(_order("S"), CLASSES[:1], now=7 * HOUR, locations=[home])[0]
    too_tight = Order("NEW", delivery="S", weight=1000, deadline=q.eta - 60)
    with pytest.raises(InsertionError) as exc:
        index.commit(too_tight, q.insertion, now=7 * HOUR, locations=[home])
    assert exc.value.reason_code == "no_longer_feasible"


def test_idle_vehicle_is_used_when_routes_are_full(county):
    p, plan = county
    # a third van with nothing to do
    spare = Vehicle("SPARE", "W", capacity_weight=100_000, shift_start=8 * HOUR,
                    shift_end=20 * HOUR, speed_kmh=30)  # fmt: skip
    p2 = replace(p, vehicles=(*p.vehicles, spare))
    plan2 = solve(p2, time_limit=0.5)
    home = _km(5, 5, "I")
    qs = quote(p2, plan2, _order("I"), CLASSES[:1], now=10 * HOUR, locations=[home])
    assert qs[0].feasible


def _new_order(n: int, home: Location, rng: random.Random) -> Order:
    if rng.random() < 0.3:  # goods only at the cooperative: picked up on the way
        return Order(f"N{n}", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery=home.id,
                     weight=1500, pickup_service=300, delivery_service=300)  # fmt: skip
    return Order(f"N{n}", delivery=home.id, weight=1500, delivery_service=300)


def test_an_incrementally_committed_index_quotes_like_a_fresh_one(county):
    """apply() grows the matrices by the new locations and keeps the untouched routes' slack
    arrays; after every commit its quotes (ETAs, insertions, reasons) equal those of an index
    built from scratch on the same problem and plan."""
    p, _ = county
    p = replace(p, matrix=HaversineMatrix(zone_factors={"town": 1.25}))  # durations depend on zones
    plan = solve(p, time_limit=1.0)
    rng = random.Random(5)
    now = 7 * HOUR
    index = PromiseIndex(p, plan)
    committed: list[Location] = []
    for n in range(14):
        home = _km(rng.uniform(-12, 12), rng.uniform(-12, 12), f"N{n}", zone="town")
        o = _new_order(n, home, rng)
        q = rng.choice(
            [q for q in index.quote(o, CLASSES, now=now, locations=[home]) if q.feasible]
        )
        index = index.apply(replace(o, deadline=q.deadline), q.insertion, now=now, locations=[home])
        committed.append(home)
        fresh = PromiseIndex(index.problem, index.plan)
        assert check(index.problem, index.plan) == []
        assert np.array_equal(index.ctx.dist, fresh.ctx.dist)
        assert all(np.array_equal(index.ctx.dur(s), fresh.ctx.dur(s)) for s in index.speeds)
        probes = [
            (_order("P1"), [_km(4, -3, "P1", zone="town")]),
            (Order("P2", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="P2", weight=800),
             [_km(-6, 2, "P2")]),
            (_order(committed[0].id), []),  # a location the index has grown by
            (Order("P3", delivery="P3", weight=10**9), [_km(1, 1, "P3")]),
        ]  # fmt: skip
        for probe, locations in probes:
            assert index.quote(probe, CLASSES, now=now, locations=locations) == fresh.quote(
                probe, CLASSES, now=now, locations=locations
            )
    assert len(index.problem.orders) == len(p.orders) + len(committed) >= len(p.orders) + 10


def test_commit_leaves_the_index_it_started_from_unchanged(county):
    p, plan = county
    home = _km(2, 2, "U")
    index = PromiseIndex(p, plan)
    before = index.quote(_order("Q"), CLASSES, now=7 * HOUR, locations=[_km(-3, 1, "Q")])
    q = index.quote(_order("U"), CLASSES[:1], now=7 * HOUR, locations=[home])[0]
    grown = index.apply(replace(_order("U"), deadline=q.deadline), q.insertion, now=7 * HOUR,
                        locations=[home])  # fmt: skip
    assert grown is not index and "NEW" in grown.problem.order_by_id
    assert index.problem is p and index.plan is plan
    assert index.quote(_order("Q"), CLASSES, now=7 * HOUR, locations=[_km(-3, 1, "Q")]) == before


def test_commit_checks_the_changed_route_independently(county):
    """The route check catches an insertion the slack arrays were never asked about."""
    p, plan = county
    home = _km(1, 1, "B")
    index = PromiseIndex(p, plan)
    q = index.quote(_order("B"), CLASSES, now=7 * HOUR, locations=[home])[-1]
    heavy = Order("NEW", delivery="B", weight=10**9, deadline=q.deadline)  # quoted for 1 kg
    with pytest.raises(InsertionError, match="capacity"):
        index.apply(heavy, q.insertion, now=7 * HOUR, locations=[home])
    # a delivery before its own pickup
    vehicle = q.insertion.vehicle_id
    k = len(plan.route_of(vehicle).stops)
    backwards = Insertion(vehicle, pickup_index=k, delivery_index=0, eta=0, added_distance=0)
    o = Order("NEW", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", delivery="B", weight=500,
              deadline=20 * HOUR)  # fmt: skip
    with pytest.raises(InsertionError, match="precedence|capacity"):
        index.apply(o, backwards, now=7 * HOUR, locations=[home])


def test_a_context_grown_from_a_base_equals_a_fresh_one(grid):
    points = {"D": (0, 0), "A": (3, 4), "B": (6, 8)}
    small = grid(points, [Order("O1", delivery="A")])
    base = Context(small)
    base.dur(30.0)
    big = replace(small, locations=(*small.locations, Location("C", x=-5, y=12)),
                  orders=(*small.orders, Order("O2", delivery="C")))  # fmt: skip
    grown = Context(big, base=base)
    fresh = Context(big)
    assert np.array_equal(grown.dist, fresh.dist) and np.array_equal(
        grown.dur(30.0), fresh.dur(30.0)
    )
    assert grown.order_stops == fresh.order_stops
    reordered = replace(big, locations=tuple(reversed(big.locations)))
    with pytest.raises(ValueError, match="must come first"):
        Context(reordered, base=base)


def test_contexts_grown_from_one_base_never_change_each_others_matrices(grid):
    """The first context grown from a base writes its new rows in place (the matrices have
    room); a second one grown from the same base gets its own copy: both stay right, and
    the base still sees only its own locations."""
    points = {"D": (0, 0), "A": (3, 4), "B": (6, 8)}
    small = grid(points, [Order("O1", delivery="A")])
    base = Context(small)
    base.dur(30.0)
    before = base.dist.copy()

    def plus(name, xy):
        return replace(small, locations=(*small.locations, Location(name, x=xy[0], y=xy[1])),
                       orders=(*small.orders, Order(f"O{name}", delivery=name)))  # fmt: skip

    first = Context(plus("C", (-5, 12)), base=base)
    second = Context(plus("E", (40, 9)), base=base)
    for grown in (first, second):
        fresh = Context(grown.problem)
        assert np.array_equal(grown.dist, fresh.dist)
        assert np.array_equal(grown.dur(30.0), fresh.dur(30.0))
    assert np.shares_memory(first.dist, base.dist) and not np.shares_memory(second.dist, base.dist)
    assert np.array_equal(base.dist, before) and base.dist.shape == (3, 3)


def test_an_index_moved_to_a_later_time_quotes_like_one_built_then(county):
    """A plan knows nothing of progress: a van whose route was planned to start at 08:00 is
    still at its depot at 08:10. at(08:10) quotes like an index built at 08:10; the index built
    at 07:00 and used as it is would take the vans for gone (no depot goods can join them)."""
    p, plan = county
    now = 8 * HOUR + 600
    index = PromiseIndex(p, plan)
    moved = index.at(now)
    assert index.at(7 * HOUR) is index  # nobody starts before 08:00
    later = replace(p, vehicles=tuple(replace(v, available_from=now) for v in p.vehicles))
    fresh = PromiseIndex(later, plan)
    home = _km(2, -1, "T", zone="town")
    quotes = moved.quote(_order("T"), CLASSES, now=now, locations=[home])
    assert quotes == fresh.quote(_order("T"), CLASSES, now=now, locations=[home])
    assert any(q.feasible for q in quotes)
    busy = {r.vehicle_id for r in plan.routes if r.stops}

    def offered(i: PromiseIndex) -> set[str]:
        found = i.candidates(_order("T"), now + 18 * HOUR, now=now, locations=[home])
        return {i.ctx.vehicles[v].vehicle.id for v, _ in found}

    assert busy and busy <= offered(moved) and not busy & offered(index)
    assert all(r.visits[0].departure == now for r in moved.plan.routes if r.stops)
    q = next(q for q in quotes if q.feasible)
    grown = moved.apply(
        replace(_order("T"), deadline=q.deadline), q.insertion, now=now, locations=[home]
    )
    assert check_route(grown.problem, grown.plan.route_of(q.insertion.vehicle_id)) == []


def test_a_route_that_already_misses_a_promise_is_not_offered(county):
    """Quotes offer only what a commit would accept: a route with a late stop takes no order."""
    p, plan = county
    now = 11 * HOUR
    # the vans left late (as drivers recorded it): the promises due at 10:00 are missed
    late_vans = tuple(replace(v, available_from=now, departed=True) for v in p.vehicles)
    index = PromiseIndex(replace(p, vehicles=late_vans), plan)
    late = {st.vi.vehicle.id for st in index.states if not st.feasible}
    assert late
    home = _km(1, 1, "L", zone="town")
    coop_order = Order("NEW", delivery="L", kind=OrderKind.PICKUP_DELIVERY, pickup="COOP", weight=1000,
                       delivery_service=300, pickup_service=300)
    found = index.candidates(coop_order, now + 18 * HOUR, now=now, locations=[home])
    assert not late & {index.ctx.vehicles[v].vehicle.id for v, _ in found}
    vehicle = sorted(late)[0]
    route = index.plan.route_of(vehicle)
    at_end = Insertion(vehicle, len(route.stops), len(route.stops), eta=0, added_distance=0)
    with pytest.raises(InsertionError):
        index.apply(replace(coop_order, deadline=now + 18 * HOUR), at_end, now=now, locations=[home])


def test_a_van_waits_at_its_depot_while_its_promises_allow_then_it_has_left(county):
    """Past its latest departure a van has left: every promise on it is still kept (it left
    in time), it is never re-timed again, and it takes no more goods from the depot."""
    p, plan = county
    now = 11 * HOUR
    first = PromiseIndex(p, plan)
    latest = {st.vi.vehicle.id: first.latest_departure(k) for k, st in enumerate(first.states) if st.k}
    index = first.at(now)
    gone = {vi.vehicle.id for vi in index.ctx.vehicles if vi.vehicle.departed}
    assert gone and gone == {vid for vid, t in latest.items() if t < now}
    for st in index.states:
        assert st.feasible  # they left in time
        if st.vi.vehicle.departed:
            assert st.vi.vehicle.start_time == latest[st.vi.vehicle.id] < now
    later = index.at(now + HOUR)  # never re-timed once left
    for before, after in zip(index.ctx.vehicles, later.ctx.vehicles, strict=True):
        if before.vehicle.departed:
            assert after.vehicle.start_time == before.vehicle.start_time
    home = _km(1, 1, "L", zone="town")
    found = index.candidates(_order("L"), now + 18 * HOUR, now=now, locations=[home])
    assert not gone & {index.ctx.vehicles[v].vehicle.id for v, _ in found}
    vehicle = sorted(gone)[0]
    at_end = Insertion(vehicle, None, len(index.plan.route_of(vehicle).stops), eta=0, added_distance=0)
    with pytest.raises(InsertionError):
        index.apply(replace(_order("L"), deadline=now + 18 * HOUR), at_end, now=now, locations=[home])


def test_routes_read_back_from_storage_give_the_committed_index(county):
    """with_routes(): an index that learns another's commits as (orders, places, visiting
    orders of the changed vehicles) quotes like the index that made them."""
    p, _ = county
    plan = solve(p, time_limit=1.0)
    rng = random.Random(11)
    now = 7 * HOUR
    start = index = PromiseIndex(p, plan)
    tasks, places = [], []
    for n in range(6):
        home = _km(rng.uniform(-10, 10), rng.uniform(-10, 10), f"W{n}")
        o = _new_order(n, home, rng)
        q = next(q for q in index.quote(o, CLASSES, now=now, locations=[home]) if q.feasible)
        task = replace(o, deadline=q.deadline)
        index = index.apply(task, q.insertion, now=now, locations=[home])
        tasks.append(task)
        places.append(home)
    changed = {
        r.vehicle_id: [StopRef(v.order_id or "", Role(v.role)) for v in r.stops]
        for r in index.plan.routes
        if r != start.plan.route_of(r.vehicle_id)
    }
    # (as of now: an idle van that took an order leaves now in the committing index)
    caught = start.with_routes(changed, orders=tasks, locations=places).at(now)
    index = index.at(now)
    assert check(caught.problem, caught.plan) == []
    assert [r.stops for r in caught.plan.routes] == [r.stops for r in index.plan.routes]
    probe, home = _order("P1"), _km(3, -2, "P1")
    assert caught.quote(probe, CLASSES, now=now, locations=[home]) == index.quote(
        probe, CLASSES, now=now, locations=[home]
    )
    with pytest.raises(ProblemError, match="routes"):
        start.with_routes({"nope": []})
    with pytest.raises(ProblemError, match="unknown stop"):
        start.with_routes({index.plan.routes[0].vehicle_id: [StopRef("ghost", Role.DELIVERY)]})
