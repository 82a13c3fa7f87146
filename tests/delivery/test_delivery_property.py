"""Random small problems: every plan passes the independent checker."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from delivery import EuclideanMatrix, Location, Order, OrderKind, Problem, Vehicle, check, solve

coords = st.tuples(st.integers(0, 50), st.integers(0, 50))


@st.composite
def problems(draw) -> Problem:
    n_depots = draw(st.integers(1, 2))
    n_points = draw(st.integers(2, 8))
    pts = draw(st.lists(coords, min_size=n_depots + n_points, max_size=n_depots + n_points))
    depots = [f"D{i}" for i in range(n_depots)]
    places = [f"P{i}" for i in range(n_points)]
    locations = [Location(k, x=x, y=y) for k, (x, y) in zip(depots + places, pts, strict=True)]
    vehicles = []
    for i in range(draw(st.integers(1, 3))):
        started = draw(st.booleans()) and i == 0
        vehicles.append(
            Vehicle(
                f"V{i}",
                draw(st.sampled_from(depots)),
                capacity_weight=draw(st.integers(5, 20)),
                capacity_volume=draw(st.sampled_from([None, 10, 30])),
                shift_start=draw(st.integers(0, 30)),
                shift_end=10_000 if started else draw(st.integers(80, 400)),
                start_location=draw(st.sampled_from(places)) if started else None,
            )
        )
    orders = []
    for i in range(draw(st.integers(0, 8))):
        kind = draw(st.sampled_from(list(OrderKind)))
        ready = draw(st.integers(0, 60))
        deadline = draw(st.one_of(st.none(), st.integers(ready, ready + 300)))
        orders.append(
            Order(
                f"O{i}",
                delivery=draw(st.sampled_from(places + depots[:1])),
                kind=kind,
                pickup=(
                    draw(st.sampled_from(depots + [None]))
                    if kind is OrderKind.DELIVERY
                    else draw(st.sampled_from(places))
                ),
                weight=draw(st.integers(0, 12)),
                volume=draw(st.integers(0, 12)),
                ready=ready,
                deadline=None if kind is OrderKind.REPLENISHMENT else deadline,
                delivery_service=draw(st.integers(0, 10)),
                pickup_service=draw(st.integers(0, 10)),
                pinned_vehicle=draw(st.sampled_from([None, None, "V0"])),
                value=draw(st.integers(0, 200)),
            )
        )
    # vehicle V0, when started, carries its first delivery order (no deadline: never late)
    if vehicles[0].start_location and orders and orders[0].kind is OrderKind.DELIVERY:
        orders[0] = Order(
            orders[0].id, delivery=orders[0].delivery, weight=min(orders[0].weight, 5)
        )
        v = vehicles[0]
        vehicles[0] = Vehicle(
            v.id, v.depot, v.capacity_weight, None, v.shift_start, v.shift_end,
            start_location=v.start_location, onboard=(orders[0].id,),
        )  # fmt: skip
    return Problem(
        locations,
        vehicles,
        orders,
        matrix=EuclideanMatrix(scale=1),
        vehicle_fixed_cost=draw(st.sampled_from([None, 0])),
    )


def _assert_sound(problem: Problem, plan) -> None:
    assert check(problem, plan) == [], check(problem, plan)
    routed = {o for r in plan.routes for o in r.order_ids}
    reported = {u.order_id for u in plan.unassigned}
    assert routed | reported == {o.id for o in problem.orders}
    assert not routed & reported


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_plan_passes_the_checker(problem):
    _assert_sound(problem, solve(problem, time_limit=0.25))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_every_fallback_plan_passes_the_checker(problem):
    _assert_sound(problem, solve(problem, time_limit=0))
