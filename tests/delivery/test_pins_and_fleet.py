"""Pins hold through a re-plan even when the current routes disagree (an order pinned since it
was planned), and a fleet with no vehicle left is a plan with every order unassigned, not a
crash of the process (OR-Tools aborts on a model without vehicles)."""

from __future__ import annotations

from dataclasses import replace

from delivery import Plan, check, solve
from delivery import replan as dreplan

from .test_replan import _problem


def _vehicle_of(plan: Plan, order_id: str) -> str | None:
    return next((r.vehicle_id for r in plan.routes if order_id in r.order_ids), None)


def test_a_re_plan_moves_an_order_pinned_since_it_was_planned_to_its_vehicle(monkeypatch):
    problem = _problem(n=10, vans=2)
    plan = solve(problem, time_limit=0.5)
    current = dreplan.routes_of(plan)
    source = next(v for v, refs in current.items() if refs)
    other = next(v.id for v in problem.vehicles if v.id != source)
    order_id = current[source][0].order_id
    pinned = replace(problem, orders=tuple(replace(o, pinned_vehicle=other) if o.id == order_id else o
                                           for o in problem.orders))

    # a solver that finds nothing better (a short or failing search): the current routes stand
    def nothing(p, *_a, **_k):
        return replace(plan, routes=(), unassigned=tuple(
            dreplan.Context(p).unassigned(o.id) for o in p.orders), objective=2**60)

    monkeypatch.setattr(dreplan, "solve", nothing)
    outcome = dreplan.replan(pinned, current, 0.1)
    assert outcome.kept_current  # the current routes were chosen…
    assert _vehicle_of(outcome.plan, order_id) == other  # …but the pinned order left for its vehicle
    assert check(outcome.problem, outcome.plan) == []  # (the checker holds plans to their pins)
    assert order_id not in outcome.broken


def test_a_pin_the_current_routes_keep_changes_nothing():
    problem = _problem(n=8, vans=2)
    current = dreplan.routes_of(solve(problem, time_limit=0.5))
    source = next(v for v, refs in current.items() if refs)
    order_id = current[source][0].order_id
    pinned = replace(problem, orders=tuple(replace(o, pinned_vehicle=source) if o.id == order_id else o
                                           for o in problem.orders))
    assert dreplan.pinned_elsewhere(pinned, current) == current


def test_no_vehicle_left_unassigns_every_order_with_its_reason():
    problem = replace(_problem(n=4, vans=1), vehicles=())
    plan = solve(problem, time_limit=0.2)
    assert plan.routes == () and {u.reason_code for u in plan.unassigned} == {"no_vehicle"}
    assert check(problem, plan) == []
    outcome = dreplan.replan(problem, {}, 0.2)
    assert outcome.broken == {o.id for o in problem.orders}  # every promise broken, none crashed


def test_a_locked_route_keeps_its_late_stops_in_their_order_and_reports_them_broken(grid):
    """A dispatcher locked A, B, C in this order; B and C are late that way. A re-plan keeps the
    order (re-inserting them where they cost least would put C before B) and breaks their
    promises instead of moving them."""
    from delivery import Order as Task
    from delivery import Vehicle
    from delivery.model import StopRef

    points = {"D": (0, 0), "B": (10, 0), "C": (50, 0), "A": (100, 0), "E": (20, 0)}
    locked = (StopRef("A"), StopRef("B"), StopRef("C"))
    problem = grid(points, [Task("A", delivery="A", deadline=1000), Task("B", delivery="B", deadline=120),
                            Task("C", delivery="C", deadline=150), Task("E", delivery="E", deadline=1000)],
                   [Vehicle("V1", "D", capacity_weight=10, shift_end=1000, locked_stops=locked)])
    outcome = dreplan.replan(problem, {"V1": list(locked)}, 0.3)
    assert [v.order_id for v in outcome.plan.route_of("V1").stops][:3] == ["A", "B", "C"]
    assert outcome.broken == {"B", "C"}
    assert check(outcome.problem, outcome.plan) == []
