"""Re-plans never lose a kept promise; what changes during a solve is merged in; a promise no
route can keep is recovered as broken (still routed, without its deadline)."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from delivery import HaversineMatrix, Location, Order, Plan, Problem, Vehicle, check, solve
from delivery import replan as dreplan
from delivery.model import Role, StopRef

HOUR = 3600
W = (28.0, 119.0)


def _km(dlat_km: float, dlon_km: float, lid: str) -> Location:
    return Location(lid, lat=W[0] + dlat_km / 111.2, lon=W[1] + dlon_km / 98.2, zone="town")


def _problem(n: int = 14, vans: int = 2, seed: int = 3) -> Problem:
    rng = random.Random(seed)
    locs = [Location("W", lat=W[0], lon=W[1])]
    orders = []
    for i in range(n):
        locs.append(_km(rng.uniform(-9, 9), rng.uniform(-9, 9), f"H{i}"))
        orders.append(Order(f"O{i}", delivery=f"H{i}", weight=2000, delivery_service=300,
                            ready=8 * HOUR, deadline=8 * HOUR + rng.choice([2, 4, 6]) * HOUR))
    fleet = [Vehicle(f"V{k}", "W", capacity_weight=100_000, shift_start=8 * HOUR, shift_end=16 * HOUR, speed_kmh=30)
             for k in range(vans)]
    return Problem(locs, fleet, orders, matrix=HaversineMatrix())


@pytest.fixture
def current() -> tuple[Problem, dict[str, list[StopRef]]]:
    problem = _problem()
    plan = solve(problem, time_limit=1.0)
    assert not plan.unassigned and check(problem, plan) == []
    return problem, dreplan.routes_of(plan)


def test_a_solver_result_that_drops_a_kept_order_does_not_replace_the_current_routes(current, monkeypatch):
    problem, routes = current

    def forgetful(problem, time_limit, **kw):  # a short from-scratch solve that left one order out
        plan = solve(problem, time_limit, **kw)
        victim = plan.used_routes[0].stops[-1].order_id
        trimmed = {vid: [r for r in refs if r.order_id != victim] for vid, refs in dreplan.routes_of(plan).items()}
        return dreplan.schedule(problem, trimmed)

    monkeypatch.setattr(dreplan, "solve", forgetful)
    outcome = dreplan.replan(problem, routes, 0.3)
    assert outcome.kept_current and len(outcome.lost) == 1
    assert dreplan.kept(outcome.plan) == {o.id for o in problem.orders}
    assert not outcome.plan.unassigned and not outcome.broken
    assert check(outcome.problem, outcome.plan) == []


def test_a_result_that_keeps_every_promise_replaces_the_current_routes(current):
    problem, routes = current
    outcome = dreplan.replan(problem, routes, 0.5)
    assert not outcome.kept_current and not outcome.lost
    assert dreplan.kept(outcome.plan) == {o.id for o in problem.orders}
    assert check(outcome.problem, outcome.plan) == []


def test_an_order_no_route_can_keep_is_routed_as_broken_without_its_deadline(current):
    problem, routes = current
    far = _km(60, 0, "FAR")  # two hours' drive: a 1 h promise cannot be kept
    doomed = Order("LATE", delivery="FAR", weight=1000, delivery_service=300, ready=8 * HOUR, deadline=9 * HOUR)
    grown = replace(problem, locations=(*problem.locations, far), orders=(*problem.orders, doomed))
    outcome = dreplan.replan(grown, routes, 0.5)
    assert outcome.broken == {"LATE"}
    assert outcome.problem.order_by_id["LATE"].deadline is None
    assert "LATE" in {v.order_id for r in outcome.plan.routes for v in r.stops}  # its van time is held
    assert {o.id for o in problem.orders} <= dreplan.kept(outcome.plan)  # and no other promise broke
    assert check(outcome.problem, outcome.plan) == []


def test_merge_takes_out_what_left_and_inserts_what_was_placed_during_the_solve(current):
    problem, routes = current
    plan = dreplan.schedule(problem, routes)
    near = _km(1, 1, "NEAR")
    placed = Order("NEW", delivery="NEAR", weight=1000, delivery_service=300, ready=8 * HOUR, deadline=15 * HOUR)
    merged = dreplan.merge(problem, plan, remove=["O0"], add=[placed], locations=[near])
    assert merged is not None
    grown, new_plan = merged
    on_routes = {v.order_id for r in new_plan.routes for v in r.stops}
    assert "NEW" in on_routes and "O0" not in on_routes and "O0" not in grown.order_by_id
    assert check(grown, new_plan) == []


def test_merge_refuses_when_an_order_placed_meanwhile_fits_nowhere_on_time(current):
    problem, routes = current
    plan = dreplan.schedule(problem, routes)
    far = _km(60, 0, "FAR")
    placed = Order("NEW", delivery="FAR", weight=1000, delivery_service=300, ready=8 * HOUR, deadline=9 * HOUR)
    assert dreplan.merge(problem, plan, add=[placed], locations=[far]) is None


def test_kept_leaves_out_late_stops_and_routes_past_their_shift():
    problem = _problem(n=3, vans=1)
    tight = replace(problem, orders=tuple(replace(o, deadline=8 * HOUR + 60) for o in problem.orders))
    plan = dreplan.schedule(tight, {"V0": [StopRef(o.id, Role.DELIVERY) for o in tight.orders]})
    assert dreplan.kept(plan) == set()
    assert isinstance(plan, Plan) and not plan.unassigned


def test_a_target_cost_keeps_the_eta_the_customer_was_told():
    """Problem.target_cost: a delivery later than its order's target costs per second, so the
    solver keeps a told ETA instead of serving that customer last on the cheapest tour."""
    problem = replace(_problem(n=8, vans=1), vehicle_fixed_cost=0)
    plain = solve(problem, time_limit=0.5)
    last = plain.used_routes[0].stops[-1]
    direct = dreplan.schedule(problem, {"V0": [StopRef(last.order_id, Role.DELIVERY)]}).routes[0].stops[0].arrival
    early = replace(problem.order_by_id[last.order_id], target=direct + 60)  # told: first stop of the day
    told = replace(problem, target_cost=50,
                   orders=tuple(early if o.id == early.id else o for o in problem.orders))
    kept = solve(told, time_limit=0.5)
    arrival = next(v.arrival for v in kept.used_routes[0].stops if v.order_id == early.id)
    assert last.arrival > early.target >= arrival
    assert check(told, kept) == [] and kept.distance >= plain.distance
