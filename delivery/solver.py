"""OR-Tools model building and search.

:func:`solve` turns a :class:`~delivery.model.Problem` into a :class:`~delivery.model.Plan`:
hard deadlines (an order that cannot be kept is dropped through a disjunction with a huge
penalty and reported with a reason), then fewest vehicles (fixed cost per vehicle), then least
distance. Travel data go to OR-Tools as matrices/vectors (no Python callback per arc).
"""

from __future__ import annotations

import logging
import multiprocessing
import random
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

import numpy as np
from ortools.constraint_solver import pywrapcp, routing_enums_pb2
from ortools.util import optional_boolean_pb2

from delivery._context import BIG_VOLUME, Context
from delivery.insertion import greedy_routes
from delivery.matrix import CachedMatrix
from delivery.model import Plan, Problem, Role, StopRef
from delivery.pool import RoutePool, recombine

log = logging.getLogger(__name__)

FSS = routing_enums_pb2.FirstSolutionStrategy
LSM = routing_enums_pb2.LocalSearchMetaheuristic

#: extra time allowed past the horizon for committed stops that are already late
LATE_ALLOWANCE = 7 * 24 * 3600
PD_CUMUL_CONSTRAINT = True


@dataclass(frozen=True)
class SearchConfig:
    """One way of searching; :func:`solve` may run several in parallel and keep the best.

    Tried and left out after measuring on Solomon (10 s): OR-Tools' iterated local search
    (SISR ruin), restricted neighbourhoods (``ls_operator_neighbors_ratio``), the
    close-nodes/expensive-chain insertion LNS operators and a "no disjunction" model — all
    worse than GLS with :data:`LEAN_OPERATORS`. Also no better on 15 hard instances (2
    workers, same time window, ±0.3 % noise): the GLS flags
    ``use_guided_local_search_penalties_in_local_search_operators`` and
    ``guided_local_search_reset_penalties_on_new_best_solution``, a search-only vehicle
    cost (0.5-1x the mean depot round trip) to steer towards fewer routes, and 15 % instead
    of 7 % of the time for recombination. ``use_iterated_local_search`` has no effect in
    OR-Tools 9.15 from Python, also with a valid SISR ruin configuration (greedy descent returns
    after one descent; GLS, simulated annealing and tabu search run as without it), so ILS
    cannot be a second stage. Route elimination for distance-only problems: worse on RC1.
    """

    first_solution: str = "PATH_CHEAPEST_ARC"
    metaheuristic: str = "GUIDED_LOCAL_SEARCH"
    gls_lambda: float = 0.5
    #: extra local-search operators to switch on (names of RoutingSearchParameters operators)
    operators: tuple[str, ...] = ()
    #: fraction of the time for a second phase that keeps the vehicles of the first solution
    #: and minimises distance only (useful with a large vehicle fixed cost)
    distance_phase: float = 0.0
    #: in a multi-start chain: start from the best routes found so far (a fresh GLS)
    from_best: bool = False
    #: other RoutingSearchParameters fields to set, as (name, value) pairs
    params: tuple[tuple[str, object], ...] = ()
    #: fraction of the time spent re-optimising groups of nearby routes as small sub-problems
    #: (OR-Tools is strong on small problems; POPMUSIC-style decomposition)
    decompose: float = 0.0
    #: with vehicle fixed costs: fraction of the time spent emptying the smallest routes
    #: (route elimination: the fleet minus one vehicle must take all its orders)
    eliminate: float = 0.0
    #: seconds per sub-problem and its size (stops)
    sub_seconds: float = 0.4
    sub_stops: int = 45
    seed: int = 0


#: local-search operators switched off: the insertion LNS operators and the chain moves for
#: unperformed nodes cost much time per GLS step and rarely pay off (measured on Solomon)
LEAN_OPERATORS = (
    "-use_global_cheapest_insertion_path_lns",
    "-use_local_cheapest_insertion_path_lns",
    "-use_relocate_path_global_cheapest_insertion_insert_unperformed",
    "-use_global_cheapest_insertion_visit_types_lns",
    "-use_local_cheapest_insertion_visit_types_lns",
    "-use_make_chain_inactive",
    "-use_shortest_path_swap_active",
    "-use_swap_active_chain",
    "-use_relocate_expensive_chain",
    "-use_shortest_path_two_opt",
)
#: diverse starts for delivery-only problems (VRPTW); :func:`solve` runs as many as the time
#: allows, split over its workers. OR-Tools' GLS is deterministic: the first two differ in
#: lambda, so two workers follow two trajectories and pool different routes, and the second
#: spends half its time on decomposition. Measured on Solomon, 2 workers, 10 s, same time
#: window: 15 hard instances 1.64 % with (lambda 0.5, lambda 0.2) against 2.04 % with the
#: earlier (lambda 0.5, lambda 0.5 + decompose 0.8), whose GLS followed the first worker's
#: trajectory where routes are too long to decompose; on 15 RC1-heavy instances 2.29 % with
#: decompose 0.5 in the second against 2.76 % without (lambda 0.1 or SAVINGS: no better)
PORTFOLIO = (
    SearchConfig("PATH_CHEAPEST_ARC", gls_lambda=0.5, operators=LEAN_OPERATORS, eliminate=0.3),
    SearchConfig(
        "PATH_CHEAPEST_ARC", gls_lambda=0.2, operators=LEAN_OPERATORS, decompose=0.5, seed=1
    ),
    SearchConfig(
        "PATH_CHEAPEST_ARC", gls_lambda=0.5, operators=LEAN_OPERATORS, decompose=0.8, seed=4
    ),
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", gls_lambda=0.1, operators=LEAN_OPERATORS),
    SearchConfig(
        "SAVINGS", gls_lambda=0.3, operators=LEAN_OPERATORS, decompose=0.8, sub_stops=30, seed=2
    ),
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", operators=LEAN_OPERATORS, decompose=0.8, seed=3),
)
#: ... and for problems with pickups (PDPTW): insertion starts and the full operator set
PICKUP_PORTFOLIO = (
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", gls_lambda=0.1, eliminate=0.4),
    SearchConfig("LOCAL_CHEAPEST_INSERTION", gls_lambda=0.1, eliminate=0.4),
    SearchConfig("PARALLEL_CHEAPEST_INSERTION", gls_lambda=0.3, decompose=0.5, seed=1),
    SearchConfig("PATH_CHEAPEST_ARC", gls_lambda=0.5, eliminate=0.4),
    SearchConfig("LOCAL_CHEAPEST_COST_INSERTION", gls_lambda=0.1),
    SearchConfig("SAVINGS", gls_lambda=0.1, decompose=0.5, seed=2),
)

RoutesT = list[list[tuple[str, str]]]  # per vehicle: (order_id, role) in visiting order


class _Model:
    """The routing model of one context (built in the process that searches it)."""

    def __init__(
        self,
        ctx: Context,
        fixed_costs: Sequence[int] | None = None,
        pool: RoutePool | None = None,
    ):
        self.ctx = ctx
        p = ctx.problem
        vehicles = ctx.vehicles
        # stops kept in the model: committed ones and those a vehicle could serve alone
        self.pre_unassigned: dict[str, str] = {}
        model_orders = []
        for o in p.orders:
            committed = o.id in ctx.carrier or o.id in ctx.locked_on
            code = None if committed else ctx.diagnose(o.id)
            if code is None:
                model_orders.append(o)
            else:
                self.pre_unassigned[o.id] = code
        depot_locs = sorted({vi.origin for vi in vehicles} | {vi.depot for vi in vehicles})
        loc_node = {loc: i for i, loc in enumerate(depot_locs)}
        self.refs: list[StopRef | None] = [None] * len(depot_locs)
        node_loc = list(depot_locs)
        service = [0] * len(depot_locs)
        for o in model_orders:
            for ref in ctx.order_stops[o.id]:
                s = ctx.stops[ref]
                self.refs.append(ref)
                node_loc.append(s.loc)
                service.append(s.service)
        self.node_of = {r: i for i, r in enumerate(self.refs) if r is not None}
        n = len(self.refs)
        starts = [loc_node[vi.origin] for vi in vehicles]
        ends = [loc_node[vi.depot] for vi in vehicles]
        self.manager = mgr = pywrapcp.RoutingIndexManager(n, len(vehicles), starts, ends)
        self.routing = routing = pywrapcp.RoutingModel(mgr)
        solver = routing.solver()
        nl = np.asarray(node_loc, dtype=np.int64)
        horizon_ext = ctx.horizon + LATE_ALLOWANCE

        dist = ctx.dist[np.ix_(nl, nl)]
        dist = np.minimum(dist, horizon_ext * 4)
        self.dist_cb = routing.RegisterTransitMatrix(dist.tolist())
        routing.SetArcCostEvaluatorOfAllVehicles(self.dist_cb)
        fixed = fixed_costs if fixed_costs is not None else [vi.fixed_cost for vi in vehicles]
        for v, fc in enumerate(fixed):
            if fc:
                routing.SetFixedCostOfVehicle(int(fc), v)

        # time: service at the origin node + driving, one matrix per distinct speed
        svc = np.asarray(service, dtype=np.int64)
        time_cb: dict[float, int] = {}
        for vi in vehicles:
            if vi.speed not in time_cb:
                t = ctx.dur(vi.speed)[np.ix_(nl, nl)] + svc[:, None]
                t = np.minimum(t, horizon_ext + 1)
                time_cb[vi.speed] = routing.RegisterTransitMatrix(t.tolist())
        routing.AddDimensionWithVehicleTransits(
            [time_cb[vi.speed] for vi in vehicles], horizon_ext, horizon_ext, False, "time"
        )
        self.time = tdim = routing.GetDimensionOrDie("time")
        late_penalty = max(1, ctx.drop_penalty // max(1, ctx.horizon))
        for v, vi in enumerate(vehicles):
            committed = bool(vi.locked) or bool(vi.vehicle.onboard)
            start_t = vi.start_time
            end_hi = max(vi.shift_end, start_t)
            tdim.CumulVar(routing.Start(v)).SetRange(start_t, max(start_t, end_hi))
            if committed:
                tdim.CumulVar(routing.End(v)).SetRange(start_t, horizon_ext)
                tdim.SetCumulVarSoftUpperBound(routing.End(v), end_hi, late_penalty)
            else:
                tdim.CumulVar(routing.End(v)).SetRange(start_t, end_hi)
        for ref, node in self.node_of.items():
            s = ctx.stops[ref]
            idx = mgr.NodeToIndex(node)
            if s.committed:
                tdim.CumulVar(idx).SetRange(s.ready, horizon_ext)
                tdim.SetCumulVarSoftUpperBound(idx, s.due, late_penalty)
            else:
                tdim.CumulVar(idx).SetRange(s.ready, max(s.ready, s.due))
                target = s.order.target
                if ctx.problem.target_cost and ref.role == Role.DELIVERY and target is not None:
                    # keep the ETA the customer was told: arriving later costs per second
                    tdim.SetCumulVarSoftUpperBound(idx, max(s.ready, target), ctx.problem.target_cost)

        # loads: exact on-board load (start cumul free) when goods are picked up en route
        has_pickups = any(r.role == Role.PICKUP for r in self.node_of) or any(
            vi.vehicle.onboard for vi in vehicles
        )
        demands_w = [0] * n
        demands_v = [0] * n
        for ref, node in self.node_of.items():
            s = ctx.stops[ref]
            demands_w[node] = s.dw if has_pickups else -s.dw
            demands_v[node] = s.dv if has_pickups else -s.dv
        for name, demands, caps in (
            ("weight", demands_w, [vi.cap_w for vi in vehicles]),
            ("volume", demands_v, [vi.cap_v for vi in vehicles]),
        ):
            if not any(demands):
                continue
            if name == "volume" and all(c >= BIG_VOLUME for c in caps):
                continue
            cb = routing.RegisterUnaryTransitVector(demands)
            routing.AddDimensionWithVehicleCapacity(
                cb, 0, [min(c, 2**50) for c in caps], not has_pickups, name
            )

        # pairs, eligibility, disjunctions
        for ref, node in self.node_of.items():
            idx = mgr.NodeToIndex(node)
            s = ctx.stops[ref]
            allowed = ctx.eligible[ref.order_id]
            if len(allowed) < len(vehicles):
                # (SetAllowedVehiclesForIndex's Span argument is not usable from Python in 9.15)
                banned = sorted(set(range(len(vehicles))) - set(allowed))
                routing.VehicleVar(idx).RemoveValues(banned)
            if not s.committed:
                if s.order.optional:
                    penalty = s.order.value if ref.role == Role.PICKUP else 0
                else:
                    penalty = ctx.drop_penalty
                routing.AddDisjunction([idx], int(penalty))
            if ref.role == Role.PICKUP:
                d = mgr.NodeToIndex(self.node_of[StopRef(ref.order_id, Role.DELIVERY)])
                # same route, pickup first, both or neither: the pickup-and-delivery filter
                # checks these in local search; the constraints keep the CP model exact
                routing.AddPickupAndDelivery(idx, d)
                solver.Add(routing.VehicleVar(idx) == routing.VehicleVar(d))
                solver.Add(routing.ActiveVar(idx) == routing.ActiveVar(d))
                if PD_CUMUL_CONSTRAINT:
                    solver.Add(tdim.CumulVar(idx) <= tdim.CumulVar(d))
        # locked prefixes
        for v, vi in enumerate(vehicles):
            prev = routing.Start(v)
            for ref in vi.locked:
                idx = mgr.NodeToIndex(self.node_of[ref])
                solver.Add(routing.NextVar(prev) == idx)
                prev = idx
        for v in range(len(vehicles)):
            routing.AddVariableMinimizedByFinalizer(tdim.CumulVar(routing.End(v)))
        if pool is not None:
            self._collect = pool.collector(ctx, self)  # keep a reference for OR-Tools
            routing.AddAtSolutionCallback(self._collect)

    def params(self, cfg: SearchConfig, seconds: float, log_search: bool = False):
        p = pywrapcp.DefaultRoutingSearchParameters()
        p.first_solution_strategy = getattr(FSS, cfg.first_solution)
        p.local_search_metaheuristic = getattr(LSM, cfg.metaheuristic)
        p.guided_local_search_lambda_coefficient = cfg.gls_lambda
        ops = p.local_search_operators
        for op in cfg.operators:
            name = op.lstrip("-")
            if name not in ops.DESCRIPTOR.fields_by_name:
                continue  # an operator this OR-Tools version does not have
            value = (
                optional_boolean_pb2.BOOL_FALSE
                if op.startswith("-")
                else optional_boolean_pb2.BOOL_TRUE
            )
            setattr(ops, name, value)
        for name, value in cfg.params:
            setattr(p, name, value)
        p.time_limit.FromMilliseconds(max(1, int(seconds * 1000)))
        p.log_search = log_search
        return p

    def routes_of(self, assignment) -> RoutesT:
        out: RoutesT = []
        routing, mgr = self.routing, self.manager
        for v in range(len(self.ctx.vehicles)):
            seq = []
            idx = assignment.Value(routing.NextVar(routing.Start(v)))
            while not routing.IsEnd(idx):
                ref = self.refs[mgr.IndexToNode(idx)]
                assert ref is not None
                seq.append((ref.order_id, str(ref.role)))
                idx = assignment.Value(routing.NextVar(idx))
            out.append(seq)
        return out

    #: set once a search ran on this model
    searched = False

    def assignment_from(self, routes: RoutesT):
        mgr = self.manager
        idx_routes = []
        for seq in routes:
            idx_routes.append([mgr.NodeToIndex(self.node_of[StopRef(o, Role(r))]) for o, r in seq])
        start = self.routing.ReadAssignmentFromRoutes(idx_routes, True)
        if start is None and self.searched:
            # after a search that ran into its time limit, the restore inside
            # ReadAssignmentFromRoutes fails on the spent limit: hand the routes over unchecked
            # (the next search restores them under its own limit and fails if they are invalid)
            start = self.routing.solver().Assignment()
            if not self.routing.RoutesToAssignment(idx_routes, True, True, start):
                return None
        return start


def _search(
    problem: Problem,
    cfg: SearchConfig,
    seconds: float,
    initial: RoutesT | None = None,
    log_search: bool = False,
    pool: RoutePool | None = None,
) -> tuple[int, RoutesT] | None:
    """Build the model and search; return (objective, routes) or None if nothing found.

    Routes of every solution accepted on the way are added to ``pool`` when one is given.
    """
    t0 = time.monotonic()
    ctx = Context(problem)
    model = _Model(ctx, pool=pool)
    hierarchical = any(vi.fixed_cost for vi in ctx.vehicles)
    eliminate = cfg.eliminate if hierarchical else 0.0
    main_seconds = seconds
    if cfg.decompose or eliminate:
        # the whole-problem search must at least find a first solution on big problems
        floor = min(0.6 * seconds, 0.02 * len(ctx.stops))
        main_seconds = max(seconds * (1 - cfg.decompose - eliminate), floor)
    remaining = main_seconds - (time.monotonic() - t0)
    phase2 = cfg.distance_phase if hierarchical else 0.0
    budget = max(0.01, remaining * (1 - phase2))
    routing = model.routing
    # phase A: first solution + plain descent to a local optimum
    descent = replace(cfg, metaheuristic="GREEDY_DESCENT")
    params = model.params(descent, budget, log_search)
    routing.CloseModelWithParameters(params)
    solution = None
    if initial is not None:
        start = model.assignment_from(initial)
        if start is not None:
            solution = routing.SolveFromAssignmentWithParameters(start, params)
    if solution is None:
        solution = routing.SolveWithParameters(params)
    model.searched = True
    if solution is None:
        return None
    # phase B: guided local search from there. GLS scales its arc penalties with the cost of
    # the solution it starts from; vehicle fixed costs and drop penalties would make them
    # dwarf the distances, so lambda is scaled back to the distance part of the cost.
    left = t0 + main_seconds * (1 - phase2) - time.monotonic()
    if cfg.metaheuristic != "GREEDY_DESCENT" and left > 0.05:
        dist = _distance(ctx, model.routes_of(solution))
        scale = max(1, dist) / max(1, solution.ObjectiveValue())
        params = model.params(replace(cfg, gls_lambda=cfg.gls_lambda * scale), left, log_search)
        better = routing.SolveFromAssignmentWithParameters(solution, params)
        if better is not None:
            solution = better
    routes = model.routes_of(solution)
    objective = solution.ObjectiveValue()
    remaining = main_seconds - (time.monotonic() - t0)
    if phase2 and remaining > 0.2:
        # keep the vehicles the first phase used, minimise distance only
        used = [bool(r) for r in routes]
        fixed = [0] * len(ctx.vehicles)
        m2 = _Model(ctx, fixed_costs=fixed, pool=pool)
        for v, u in enumerate(used):
            if not u:
                m2.routing.solver().Add(
                    m2.routing.NextVar(m2.routing.Start(v)) == m2.routing.End(v)
                )
        p2 = m2.params(replace(cfg, first_solution="PATH_CHEAPEST_ARC"), remaining - 0.05)
        m2.routing.CloseModelWithParameters(p2)
        start = m2.assignment_from(routes)
        if start is not None:
            sol2 = m2.routing.SolveFromAssignmentWithParameters(start, p2)
            if sol2 is not None:
                routes = m2.routes_of(sol2)
    if eliminate:
        until = t0 + seconds * (1 - cfg.decompose)
        routes = _eliminate(ctx, routes, cfg, until - time.monotonic(), pool)
    if cfg.decompose:
        routes = _decompose(ctx, routes, cfg, t0 + seconds - time.monotonic(), pool)
        left = t0 + seconds - time.monotonic()
        start = model.assignment_from(routes) if left > 0.3 else None
        if start is not None and cfg.metaheuristic != "GREEDY_DESCENT":
            # few long routes leave nothing to decompose: search the whole problem again
            params = model.params(cfg, left - 0.05, log_search)
            better = routing.SolveFromAssignmentWithParameters(start, params)
            if better is not None:
                routes = model.routes_of(better)
    # one objective for comparing portfolio members: the full (phase 1) cost
    return _objective(ctx, routes, objective), routes


def _eliminate(
    ctx: Context, routes: RoutesT, cfg: SearchConfig, seconds: float, pool: RoutePool | None
) -> RoutesT:
    """Fewer vehicles: empty the smallest route and let the others absorb its orders."""
    deadline = time.monotonic() + seconds
    best = [list(r) for r in routes]
    best_obj = _objective(ctx, best, 2**62)
    slice_ = max(1.0, seconds / 4)
    tried: set[int] = set()
    while True:
        left = deadline - time.monotonic()
        if left < 0.3:
            break
        used = [v for v, r in enumerate(best) if r and v not in tried]
        used = [
            v for v in used if not ctx.vehicles[v].locked and not ctx.vehicles[v].vehicle.onboard
        ]
        if not used or sum(1 for r in best if r) <= 1:
            break
        victim = min(used, key=lambda v: len(best[v]))
        tried.add(victim)
        model = _Model(ctx, pool=pool)
        routing = model.routing
        for v, seq in enumerate(best):
            if v == victim or not seq:
                routing.solver().Add(routing.NextVar(routing.Start(v)) == routing.End(v))
        params = model.params(cfg, min(slice_, left - 0.1))
        routing.CloseModelWithParameters(params)
        start = model.assignment_from([[] if v == victim else seq for v, seq in enumerate(best)])
        if start is None:
            continue
        sol = routing.SolveFromAssignmentWithParameters(start, params)
        if sol is None:
            continue
        cand = model.routes_of(sol)
        obj = _objective(ctx, cand, 2**62)
        if obj < best_obj:
            best, best_obj = cand, obj
            tried = set()
    return best


def _decompose(
    ctx: Context, routes: RoutesT, cfg: SearchConfig, seconds: float, pool: RoutePool | None
) -> RoutesT:
    """Improve ``routes`` by re-solving groups of 2-4 nearby routes as small problems."""
    deadline = time.monotonic() + seconds
    problem = ctx.problem
    rng = random.Random(cfg.seed)
    cached = CachedMatrix(ctx.matrix, problem.locations)
    cached.seed(ctx.dist, ctx._dur)
    sub_cfg = replace(cfg, decompose=0.0, distance_phase=0.0)
    routes = [list(r) for r in routes]
    locs_of = [np.array([ctx.stops[StopRef(o, Role(r))].loc for o, r in seq]) for seq in routes]
    idle_draws = 0
    while True:
        left = deadline - time.monotonic()
        if left < 0.1 or idle_draws > 20:  # (routes too long to group: leave the rest of the
            break  # time to the caller)
        used = [v for v, r in enumerate(routes) if r]
        if len(used) < 2:
            break
        seed = rng.choice(used)
        a = locs_of[seed]
        # closeness of a route to the seed route: mean distance of the seed's stops to it
        near = sorted(
            (float(ctx.dist[np.ix_(a, locs_of[v])].min(axis=1).mean()), v)
            for v in used
            if v != seed
        )
        k = rng.choice((2, 3, 3, 4))
        group, size = [seed], len(routes[seed])
        for _, v in near:
            if len(group) >= k or size + len(routes[v]) > cfg.sub_stops:
                break
            group.append(v)
            size += len(routes[v])
        if len(group) < 2:
            idle_draws += 1
            continue
        idle_draws = 0
        idle = [v for v, r in enumerate(routes) if not r]
        if idle:
            group.append(rng.choice(idle))
        vehicles = [problem.vehicles[v] for v in group]
        order_ids = list(dict.fromkeys(o for v in group for o, _ in routes[v]))
        orders = [problem.order_by_id[o] for o in order_ids]
        loc_ids = {x for veh in vehicles for x in (veh.depot, veh.origin)}
        loc_ids.update(x for o in orders for x in (o.pickup, o.delivery) if x is not None)
        sub = replace(
            problem,
            locations=tuple(loc for loc in problem.locations if loc.id in loc_ids),
            vehicles=tuple(vehicles),
            orders=tuple(orders),
            matrix=cached,
        )
        current = [routes[v] for v in group]
        try:
            before = _objective(Context(sub), current, 2**62)
            res = _search(sub, sub_cfg, min(cfg.sub_seconds, left - 0.05), current, pool=pool)
        except Exception:  # pragma: no cover - a failed sub-problem leaves the routes as they are
            log.exception("sub-problem search failed")
            continue
        if res is not None and res[0] < before:
            for v, seq in zip(group, res[1], strict=True):
                routes[v] = seq
                locs_of[v] = np.array([ctx.stops[StopRef(o, Role(r))].loc for o, r in seq])
    return routes


def _distance(ctx: Context, routes: RoutesT) -> int:
    total = 0
    for v, seq in enumerate(routes):
        if seq:
            vi = ctx.vehicles[v]
            path = [vi.origin] + [ctx.stops[StopRef(o, Role(r))].loc for o, r in seq] + [vi.depot]
            total += int(ctx.dist[path[:-1], path[1:]].sum())
    return total


def _objective(ctx: Context, routes: RoutesT, fallback: int) -> int:
    """Cost of routes under the problem's own objective (fixed costs, distance, drops)."""
    try:
        total = 0
        routed: set[str] = set()
        for v, seq in enumerate(routes):
            if not seq:
                continue
            route = ctx.schedule(v, [StopRef(o, Role(r)) for o, r in seq])
            total += route.distance + ctx.vehicles[v].fixed_cost
            routed.update(o for o, _ in seq)
        for o in ctx.problem.orders:
            if o.id not in routed:
                total += o.value if o.optional else ctx.drop_penalty
        return total
    except Exception:  # pragma: no cover - defensive
        return fallback


def _search_chain(
    problem: Problem,
    cfgs: Sequence[SearchConfig],
    seconds: float,
    initial: RoutesT | None = None,
    log_search: bool = False,
    pool: RoutePool | None = None,
) -> tuple[int, RoutesT] | None:
    """Run ``cfgs`` one after the other (equal time shares), keep the best (multi-start)."""
    t0 = time.monotonic()
    best: tuple[int, RoutesT] | None = None
    for n, cfg in enumerate(cfgs):
        left = seconds - (time.monotonic() - t0)
        share = left / (len(cfgs) - n)
        if share <= 0.005:
            break
        try:
            start = initial if n == 0 else None
            if cfg.from_best and best is not None:
                start = best[1]
            res = _search(problem, cfg, share, start, log_search, pool)
        except Exception:  # never crash the caller on a solver bug: the greedy plan remains
            log.exception("OR-Tools search failed (%s)", cfg)
            res = None
        if res is not None and (best is None or res[0] < best[0]):
            best = res
    return best


def _search_job(args) -> tuple[tuple[int, RoutesT] | None, RoutePool | None]:
    problem, cfgs, seconds, initial, use_pool = args
    pool = RoutePool() if use_pool else None
    return _search_chain(problem, cfgs, seconds, initial, pool=pool), pool


#: share of the time limit kept for each recombination of pooled routes (set partitioning),
#: at most :data:`RECOMBINE_MAX` seconds
RECOMBINE_SHARE = 0.07
RECOMBINE_MAX = 2.0
#: with at least this many seconds: two search rounds, the second from the recombined routes;
#: the first round gets ROUND_SHARE of the search time
ROUND_MIN_SECONDS = 1e9
ROUND_SHARE = 0.55
#: time left after the recombination from which it goes to one more search from the best routes
POLISH_MIN_SECONDS = 0.3


def _recombined(
    ctx: Context, pool: RoutePool, results: list[tuple[int, RoutesT]], seconds: float, workers: int = 1
) -> tuple[int, RoutesT] | None:
    """The best combination of pooled routes if it beats every result so far."""
    best_obj, routes = min(results, key=lambda r: r[0])
    try:
        combined = recombine(ctx, pool, routes, seconds, workers)
    except Exception:  # pragma: no cover - recombination is an improvement, never a need
        log.exception("route recombination failed")
        return None
    if combined is None:
        return None
    obj = _objective(ctx, combined, 2**62)
    log.info("recombined %d pooled routes: %d -> %d", len(pool), best_obj, obj)
    return (obj, combined) if obj < best_obj else None


def solve(
    problem: Problem,
    time_limit: float = 5.0,
    *,
    workers: int = 1,
    configs: Sequence[SearchConfig] | None = None,
    initial: Plan | None = None,
    log_search: bool = False,
    recombination: bool = True,
) -> Plan:
    """Plan routes for ``problem`` within about ``time_limit`` seconds (wall).

    ``workers`` > 1 runs that many differently configured searches in parallel processes and
    keeps the best. ``initial`` (e.g. the previous plan of a rolling horizon) warm-starts the
    search where it is still valid. If no solution is found in time, a greedy insertion plan
    is returned with ``fallback=True``. Raises :class:`~delivery.errors.ProblemError` on bad
    input; never returns an empty plan for a valid problem.
    """
    t0 = time.monotonic()
    ctx = Context(problem)  # validates
    if not problem.vehicles:  # (OR-Tools aborts the process on a model without vehicles)
        plan = _plan_from_routes(ctx, [], fallback=False)
        return replace(plan, solve_seconds=round(time.monotonic() - t0, 3))
    if configs is None:
        # multi-start: GLS stalls after a few seconds, so longer budgets get more starts
        pickups = any(o.has_pickup_stop for o in problem.orders)
        portfolio = PICKUP_PORTFOLIO if pickups else PORTFOLIO
        starts = max(1, min(len(portfolio), int(time_limit // 8) * max(1, workers)))
        configs = portfolio[: max(starts, workers)]
    init_routes = _routes_from_plan(ctx, initial) if initial is not None else None
    results: list[tuple[int, RoutesT]] = []
    pool = RoutePool() if recombination else None
    sp_seconds = min(RECOMBINE_MAX, RECOMBINE_SHARE * time_limit) if pool is not None else 0.0
    # rounds: search, recombine the pooled routes, search again from the recombined routes
    rounds = 2 if pool is not None and time_limit >= ROUND_MIN_SECONDS else 1
    deadline = t0 + time_limit
    workers = max(1, min(workers, len(configs)))
    chunks = [list(configs[i::workers]) for i in range(workers)]
    mp = multiprocessing.get_context("fork" if _fork_ok() else "spawn")
    ex = ProcessPoolExecutor(max_workers=workers, mp_context=mp) if workers > 1 else None
    try:
        start = init_routes
        for rnd in range(rounds if problem.orders else 0):
            left = deadline - time.monotonic() - sp_seconds * (rounds - rnd)
            budget = left * (ROUND_SHARE if rnd < rounds - 1 else 1.0)
            if budget <= 0.005:
                break
            jobs = [(problem, c, budget, start, pool is not None) for c in chunks]
            if ex is None:
                outcomes = [_search_job(jobs[0])]
            else:
                # process start-up is paid from the budget (fork where available)
                jobs = [(*j[:2], max(0.01, budget - 0.15), *j[3:]) for j in jobs]
                outcomes = list(ex.map(_search_job, jobs))
            for res, sub_pool in outcomes:
                if res is not None:
                    results.append(res)
                if pool is not None and sub_pool is not None:
                    pool.merge(sub_pool)
            if results and pool:
                best = _recombined(ctx, pool, results, deadline - time.monotonic() - 0.05, workers)
                if best is not None:
                    results.append(best)
            if results:
                start = min(results, key=lambda r: r[0])[1]
        left = deadline - time.monotonic() - 0.1
        if results and pool is not None and left >= POLISH_MIN_SECONDS:
            # the recombination finished early: the time left goes to GLS from the best routes
            # (measured on 12 Solomon instances, 10 s, interleaved: mean gap 1.209 -> 1.053 %,
            # e.g. C104 1.43 -> 0.00 %, R201 1.00 -> 0.61 %)
            try:
                res = _search(problem, configs[0], left, start)  # (start: the best routes so far)
            except Exception:  # pragma: no cover - an improvement, never a need
                log.exception("OR-Tools search from the best routes failed")
                res = None
            if res is not None:
                results.append(res)
    finally:
        if ex is not None:
            ex.shutdown()
    if results:
        best_obj, routes = min(results, key=lambda r: r[0])
        plan = _plan_from_routes(ctx, routes, fallback=False)
        if any(u.reason_code in ("fleet_busy", "not_scheduled") for u in plan.unassigned):
            # a short search may leave out orders a greedy insertion can place: keep the better
            greedy = greedy_routes(ctx)
            if _objective(ctx, greedy, 2**62) < best_obj:
                plan = _plan_from_routes(ctx, greedy, fallback=False)
    elif not problem.orders:
        plan = _plan_from_routes(ctx, [[] for _ in ctx.vehicles], fallback=False)
    else:
        plan = _plan_from_routes(ctx, greedy_routes(ctx), fallback=True)
    return replace(plan, solve_seconds=round(time.monotonic() - t0, 3))


def _fork_ok() -> bool:
    return "fork" in multiprocessing.get_all_start_methods()


def _routes_from_plan(ctx: Context, plan: Plan) -> RoutesT:
    by_vehicle = {r.vehicle_id: r for r in plan.routes}
    out: RoutesT = []
    for vi in ctx.vehicles:
        r = by_vehicle.get(vi.vehicle.id)
        seq = []
        if r is not None:
            for v in r.stops:
                ref = StopRef(v.order_id or "", v.role)
                if ref in ctx.stops:
                    seq.append((ref.order_id, str(ref.role)))
        out.append(seq)
    return out


def _plan_from_routes(ctx: Context, routes: RoutesT, *, fallback: bool) -> Plan:
    plan_routes = []
    routed: set[str] = set()
    objective = 0
    for v, seq in enumerate(routes):
        refs = [StopRef(o, Role(r)) for o, r in seq]
        route = ctx.schedule(v, refs)
        plan_routes.append(route)
        routed.update(o for o, _ in seq)
        if refs:
            objective += route.distance + ctx.vehicles[v].fixed_cost
    unassigned = [ctx.unassigned(o.id) for o in ctx.problem.orders if o.id not in routed]
    for u in unassigned:
        o = ctx.problem.order_by_id[u.order_id]
        objective += o.value if o.optional else ctx.drop_penalty
    return Plan(
        routes=tuple(plan_routes),
        unassigned=tuple(unassigned),
        objective=objective,
        fallback=fallback,
        status="fallback" if fallback else "solved",
    )


def _solve_job(args) -> Plan:
    problem, time_limit, kw = args
    return solve(problem, time_limit, **kw)


def solve_many(
    problems: Sequence[Problem], time_limit: float = 5.0, *, processes: int = 2, **kw
) -> list[Plan]:
    """Solve independent problems (e.g. one per warehouse) in a pool of ``processes``.

    Each problem gets ``time_limit`` seconds; keyword arguments go to :func:`solve`. Plans come
    back in the order of ``problems``.
    """
    if processes <= 1 or len(problems) <= 1:
        return [solve(p, time_limit, **kw) for p in problems]
    mp = multiprocessing.get_context("fork" if _fork_ok() else "spawn")
    with ProcessPoolExecutor(max_workers=processes, mp_context=mp) as ex:
        return list(ex.map(_solve_job, [(p, time_limit, kw) for p in problems]))
