"""Re-planning that never loses a kept promise.

A rolling-horizon re-plan starts from the routes the vehicles are on (warm start) and its
result replaces them only if it keeps, on time, every order that the current routes keep;
otherwise the current routes stand (the better of the two). Orders that neither keeps are
offered for recovery: first an on-time insertion, then, as *broken* promises, a place on a
route without their deadline (they are still delivered, as early as the routes allow, and
their van time is held so that it is not sold again). Changes that arrive while a solve runs
(orders placed or cancelled meanwhile) are merged into its result by :func:`merge`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

from delivery._context import Context
from delivery.insertion import RouteState, cheapest_insertion
from delivery.model import Location, Order, Plan, Problem, Role, StopRef
from delivery.solver import solve

Routes = Mapping[str, Sequence[StopRef]]  # vehicle id -> visiting order


@dataclass(frozen=True)
class Replan:
    """What :func:`replan` chose: the ``plan`` for ``problem`` (which differs from the input
    problem only in the deadlines of ``broken`` orders, removed), and why."""

    problem: Problem
    plan: Plan
    kept_current: bool  # the solver's result lost a kept promise: the current routes stand
    broken: frozenset[str]  # orders whose deadline no route can keep any more
    lost: frozenset[str]  # kept by the current routes, not by the solver's result


def schedule(problem: Problem, routes: Routes, ctx: Context | None = None) -> Plan:
    """The earliest-time schedule of ``routes`` (stops the problem does not know are left
    out), with every order not on them reported as unassigned."""
    ctx = ctx or Context(problem)
    plan_routes, routed = [], set()
    for v, vi in enumerate(ctx.vehicles):
        refs = [r for r in routes.get(vi.vehicle.id, ()) if r in ctx.stops]
        plan_routes.append(ctx.schedule(v, refs))
        routed.update(r.order_id for r in refs)
    unassigned = tuple(ctx.unassigned(o.id) for o in problem.orders if o.id not in routed)
    return Plan(routes=tuple(plan_routes), unassigned=unassigned)


def routes_of(plan: Plan) -> dict[str, list[StopRef]]:
    return {r.vehicle_id: [StopRef(v.order_id or "", Role(v.role)) for v in r.stops] for r in plan.routes}


def kept(plan: Plan) -> set[str]:
    """Orders on a route of ``plan`` with every visit on time, on routes that end within
    their shift."""
    out: set[str] = set()
    for route in plan.routes:
        if route.is_empty or route.visits[-1].late > 0:
            continue
        late = {v.order_id for v in route.stops if v.late > 0}
        out.update(v.order_id for v in route.stops if v.order_id and v.order_id not in late)
    return out


def insert(problem: Problem, routes: Routes, order_ids: Iterable[str]) -> tuple[dict[str, list[StopRef]], list[str]]:
    """Cheapest feasible insertion of each order (earliest deadline first) into ``routes``,
    keeping every stop of them on time. Returns the new routes and the orders that fit
    nowhere."""
    ctx = Context(problem)
    out = {vi.vehicle.id: [r for r in routes.get(vi.vehicle.id, ()) if r in ctx.stops] for vi in ctx.vehicles}
    states = [RouteState(ctx, v, out[vi.vehicle.id]) for v, vi in enumerate(ctx.vehicles)]
    orders = sorted((problem.order_by_id[o] for o in order_ids),
                    key=lambda o: (o.deadline is None, o.deadline or 0, o.id))
    left = []
    for order in orders:
        best = cheapest_insertion(ctx, states, order.id, feasible_only=True)
        if best is None:
            left.append(order.id)
            continue
        _, v, i, j = best
        vid = ctx.vehicles[v].vehicle.id
        out[vid] = states[v].inserted(ctx.order_stops[order.id], i, j)
        states[v] = RouteState(ctx, v, out[vid])
    return out, left


def pinned_elsewhere(problem: Problem, routes: Routes) -> dict[str, list[StopRef]]:
    """``routes`` without the stops of orders pinned to another vehicle than theirs (pinned
    since they were planned): they are placed again, on their vehicle."""
    orders = problem.order_by_id
    return {
        vid: [r for r in refs
              if r.order_id not in orders or orders[r.order_id].pinned_vehicle in (None, vid)]
        for vid, refs in routes.items()
    }


def replan(problem: Problem, current: Routes | None, time_limit: float, **solve_kw) -> Replan:
    """Solve ``problem`` warm-started from the ``current`` routes and keep whichever of the
    two keeps more promises (the result only if it keeps every order the current routes
    keep); then recover what neither keeps (see the module's docstring). A stop of
    ``current`` on a vehicle its order is not pinned to does not count as kept."""
    ctx = Context(problem)
    if current:
        current = pinned_elsewhere(problem, current)
    before = schedule(problem, current or {}, ctx)
    result = solve(problem, time_limit, initial=before if current else None, **solve_kw)
    lost = kept(before) - kept(result) if current else set()
    chosen = before if lost else result
    kept_now = kept(chosen)  # (replenishments it carries included: they have no deadline)
    # a locked stop stays where it is, late or not (a dispatcher's order of stops holds): a
    # promise it cannot keep there is broken
    locked = {r.order_id for v in problem.vehicles for r in v.locked_stops}
    late = {v.order_id for r in chosen.routes for v in r.stops if v.late > 0}
    stay = kept_now | locked
    routes = {vid: [r for r in refs if r.order_id in stay] for vid, refs in routes_of(chosen).items()}
    missing = [o.id for o in problem.orders if o.id not in stay and not o.optional]
    routes, left = insert(problem, routes, missing)
    broken = set(left) | (locked & late)
    if broken:  # broken promises: delivered without their deadline, their van time held
        problem = replace(problem, orders=tuple(replace(o, deadline=None) if o.id in broken else o
                                                for o in problem.orders))
        if left:
            routes, _ = insert(problem, routes, left)
    plan = schedule(problem, routes)
    plan = replace(plan, objective=result.objective, fallback=result.fallback if not lost else False,
                   solve_seconds=result.solve_seconds, status="kept_current" if lost else result.status)
    return Replan(problem, plan, bool(lost), frozenset(broken), frozenset(lost))


def merge(problem: Problem, plan: Plan, *, remove: Iterable[str] = (), add: Sequence[Order] = (),
          locations: Sequence[Location] = ()) -> tuple[Problem, Plan] | None:
    """``plan`` with the orders ``remove`` taken out and the orders ``add`` (placed while it
    was solved, with their promised deadlines) inserted on time. None when one of them fits
    nowhere on time: the caller keeps the plan that already holds it."""
    gone = set(remove)
    known = {loc.id for loc in problem.locations}
    new_locations = {loc.id: loc for loc in locations if loc.id not in known}  # (once each)
    problem = replace(
        problem,
        locations=(*problem.locations, *new_locations.values()),
        orders=tuple(o for o in problem.orders if o.id not in gone) + tuple(
            o for o in add if o.id not in problem.order_by_id),
        vehicles=tuple(  # an order gone from a van under way is no longer on board either
            replace(v, onboard=tuple(o for o in v.onboard if o not in gone),
                    locked_stops=tuple(r for r in v.locked_stops if r.order_id not in gone))
            if gone & {*v.onboard, *(r.order_id for r in v.locked_stops)} else v
            for v in problem.vehicles),
    )
    routes = {vid: [r for r in refs if r.order_id not in gone] for vid, refs in routes_of(plan).items()}
    routes, left = insert(problem, routes, [o.id for o in add])
    if left:
        return None
    merged = schedule(problem, routes)
    if any(v.late for r in merged.routes for v in r.visits if v.order_id in kept(plan)):
        return None
    return problem, replace(merged, objective=plan.objective, solve_seconds=plan.solve_seconds, status=plan.status)
