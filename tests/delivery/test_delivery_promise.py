"""Window quotes against the current plan, and committing a promise."""

from __future__ import annotations

import random

import pytest

from delivery import HaversineMatrix, Location, Order, OrderKind, Problem, Vehicle, check, solve
from delivery.errors import InsertionError
from delivery.promise import PromiseIndex, WindowClass, quote

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


@pytest.fixture
def county() -> tuple[Problem, object]:
    """One warehouse, two vans (30 km/h, 08:00-20:00), 12 open orders within ~10 km."""
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
    from dataclasses import replace

    p2 = replace(p, vehicles=(*p.vehicles, spare))
    plan2 = solve(p2, time_limit=0.5)
    home = _km(5, 5, "I")
    qs = quote(p2, plan2, _order("I"), CLASSES[:1], now=10 * HOUR, locations=[home])
    assert qs[0].feasible
