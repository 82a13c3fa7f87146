"""Benchmark the planner on Solomon VRPTW / Li & Lim PDPTW instances.

    python -m delivery.bench vrptw FILE... --seconds N [--json OUT] [--solver product]
    python -m delivery.bench pdptw FILE... --seconds N [--json OUT] [--solver pyvrp]
    python -m delivery.bench vrptw FILE... --seconds N --solver product,ortools-default,pyvrp

With several solvers, each instance is solved by each of them in the same run, one instance
after the other: the product solver alone (it uses ``--workers`` processes), then the
single-process solvers side by side, one core each.

Every solution is checked by :mod:`delivery.check` (not by the solver that produced it).
Solomon distances use the CVRPLIB convention (floor to one decimal) and are compared with the
distance-only BKS; Li & Lim distances are exact Euclidean and the BKS is hierarchical (vehicles
first), so vehicles and distance are reported together.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import resource
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from delivery._context import Context
from delivery.check import check
from delivery.errors import ProblemError
from delivery.io import read_lilim, read_solomon
from delivery.model import Plan, Problem, Role, StopRef
from delivery.solver import SearchConfig, solve

ORTOOLS_DEFAULT = SearchConfig("PATH_CHEAPEST_ARC", "GUIDED_LOCAL_SEARCH", 0.1)


SOLVERS = ("product", "ortools-default", "pyvrp")


@dataclass
class Result:
    solver: str
    instance: str
    vehicles: int
    distance: float
    seconds: float
    feasible: bool
    routes: list[list[int]]
    bks_vehicles: int | None = None
    bks_distance: float | None = None
    unassigned: int = 0
    violations: int = 0
    cpu: float = 0.0  # CPU seconds used (this process and its workers)

    @property
    def gap(self) -> float | None:
        if self.bks_distance is None or not self.bks_distance:
            return None
        return 100.0 * (self.distance - self.bks_distance) / self.bks_distance


def load_bks(path: Path) -> dict[str, tuple[int, float]]:
    """BKS rows from ``../bks.csv`` next to the instances folder (lower-cased names)."""
    bks_file = path.resolve().parent.parent / "bks.csv"
    out: dict[str, tuple[int, float]] = {}
    if not bks_file.exists():
        return out
    with bks_file.open(newline="") as fh:
        for row in csv.DictReader(fh):
            name = (row.get("instance") or "").strip().lower()
            dist = row.get("bks_distance_trunc1") or row.get("bks_distance")
            veh = row.get("bks_vehicles")
            if name and dist and veh:
                out[name] = (int(veh), float(dist))
    return out


def exact_distance(problem: Problem, routes: list[list[int]]) -> float:
    """Total unrounded Euclidean length of routes given as node numbers (depot "0")."""
    xy = {loc.id: (loc.x or 0.0, loc.y or 0.0) for loc in problem.locations}
    total = 0.0
    for r in routes:
        path = ["0", *map(str, r), "0"]
        for a, b in zip(path, path[1:], strict=False):
            total += math.dist(xy[a], xy[b])
    return total


def node_routes(plan: Plan) -> list[list[int]]:
    return [[int(v.location) for v in r.stops] for r in plan.used_routes]


def plan_from_refs(problem: Problem, routes: Sequence[Sequence[StopRef]], secs: float) -> Plan:
    """A plan (times by the product's own scheduler) from routes found by another solver."""
    ctx = Context(problem)
    plan_routes = [ctx.schedule(v, list(r)) for v, r in enumerate(routes)]
    plan_routes += [ctx.schedule(v, []) for v in range(len(routes), len(ctx.vehicles))]
    routed = {s.order_id for r in routes for s in r}
    un = tuple(ctx.unassigned(o.id) for o in problem.orders if o.id not in routed)
    return Plan(tuple(plan_routes), un, solve_seconds=secs)


def solve_pyvrp(problem: Problem, seconds: float, seed: int = 1) -> Plan:
    """PyVRP on the same integer data (comparison only; imported lazily)."""
    import pyvrp
    from pyvrp.stop import MaxRuntime

    t0 = time.monotonic()
    m = pyvrp.Model()
    ctx = Context(problem)
    locs = {loc.id: m.add_location(loc.x or 0.0, loc.y or 0.0) for loc in problem.locations}
    v0 = problem.vehicles[0]
    depot = m.add_depot(locs[v0.depot], tw_early=v0.shift_start, tw_late=v0.shift_end)
    m.add_vehicle_type(
        len(problem.vehicles),
        capacity=[v0.capacity_weight],
        start_depot=depot,
        end_depot=depot,
        tw_early=v0.shift_start,
        tw_late=v0.shift_end,
        fixed_cost=ctx.vehicles[0].fixed_cost,
    )
    kinds = []
    for o in problem.orders:
        d = ctx.stops[StopRef(o.id, Role.DELIVERY)]
        if o.has_pickup_stop:
            p = ctx.stops[StopRef(o.id, Role.PICKUP)]
            m.add_shipment(
                locs[o.pickup or ""], locs[o.delivery],
                pickup_tw_early=p.ready, pickup_tw_late=p.due, pickup_service_duration=p.service,
                delivery_tw_early=d.ready, delivery_tw_late=d.due,
                delivery_service_duration=d.service, amount=[o.weight],
            )  # fmt: skip
            kinds.append("shipment")
        else:
            m.add_client(
                locs[o.delivery], delivery=[o.weight], service_duration=d.service,
                tw_early=d.ready, tw_late=d.due,
            )  # fmt: skip
    ids = [loc.id for loc in problem.locations]
    for i, a in enumerate(ids):
        for j, b in enumerate(ids):
            d = int(ctx.dist[i, j])
            m.add_edge(locs[a], locs[b], distance=d, duration=int(ctx.dur(1.0)[i, j]))
    res = m.solve(MaxRuntime(max(0.1, seconds - (time.monotonic() - t0))), seed=seed, display=False)
    clients = [o for o in problem.orders if not o.has_pickup_stop]
    shipments = [o for o in problem.orders if o.has_pickup_stop]
    routes = []
    for r in res.best.routes():
        seq = []
        for act in r.schedule():
            if act.is_client():
                seq.append(StopRef(clients[act.idx].id, Role.DELIVERY))
            elif act.is_pickup():
                seq.append(StopRef(shipments[act.idx].id, Role.PICKUP))
            elif act.is_delivery():
                seq.append(StopRef(shipments[act.idx].id, Role.DELIVERY))
        routes.append(seq)
    return plan_from_refs(problem, routes, time.monotonic() - t0)


def run_one(kind: str, path: Path, seconds: float, solver: str, workers: int) -> Result:
    problem = read_solomon(path) if kind == "vrptw" else read_lilim(path)
    scale = problem.meta["scale"]
    t0 = time.monotonic()
    cpu0 = _cpu()
    if solver == "product":
        plan = solve(problem, seconds, workers=workers)
    elif solver == "ortools-default":
        plan = solve(problem, seconds, configs=[ORTOOLS_DEFAULT], recombination=False)
    elif solver == "pyvrp":
        plan = solve_pyvrp(problem, seconds)
    else:  # pragma: no cover - argparse restricts choices
        raise ValueError(solver)
    wall = time.monotonic() - t0
    cpu = _cpu() - cpu0
    violations = check(problem, plan)
    routes = node_routes(plan)
    # Solomon: CVRPLIB tenths, truncated; Li & Lim: exact Euclidean
    distance = plan.distance / scale if kind == "vrptw" else exact_distance(problem, routes)
    bks = load_bks(path).get(problem.name.lower()) or load_bks(path).get(path.stem.lower())
    return Result(
        solver=solver,
        instance=problem.name or path.stem,
        vehicles=plan.vehicles_used,
        distance=round(distance, 4),
        seconds=round(wall, 2),
        feasible=not violations and not plan.unassigned,
        routes=routes,
        bks_vehicles=bks[0] if bks else None,
        bks_distance=bks[1] if bks else None,
        unassigned=len(plan.unassigned),
        violations=len(violations),
        cpu=round(cpu, 1),
    )


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the solver's workers)."""
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _fmt(x: float | None, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _solver_list(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    bad = [n for n in names if n not in SOLVERS]
    if not names or bad:
        raise argparse.ArgumentTypeError(f"solvers are {', '.join(SOLVERS)}; got {text!r}")
    return list(dict.fromkeys(names))


def _run_job(args) -> Result | str:
    kind, path, seconds, solver, workers = args
    try:
        return run_one(kind, path, seconds, solver, workers)
    except ProblemError as exc:
        return f"{path.name}: {exc}"


def _solve_instance(kind, path, args, pool) -> list[Result]:
    """Every requested solver on one instance: the product alone, the others side by side."""
    jobs = [(kind, path, args.seconds, s, args.workers) for s in args.solver]
    single = [j for j in jobs if j[3] != "product"]
    out: list[Result | str] = [_run_job(j) for j in jobs if j[3] == "product"]
    if pool is not None and len(single) > 1:
        out.extend(pool.map(_run_job, single))
    else:
        out.extend(_run_job(j) for j in single)
    results = []
    for r in out:
        if isinstance(r, str):
            print(r, file=sys.stderr)
        else:
            results.append(r)
    return results


def _summary(kind: str, results: list[Result]) -> None:
    gaps = [r.gap for r in results if r.gap is not None]
    print(f"instances: {len(results)}  feasible: {sum(r.feasible for r in results)}")
    wall, cpu = sum(r.seconds for r in results), sum(r.cpu for r in results)
    print(f"wall {wall:.0f} s, CPU {cpu:.0f} s")
    if gaps:
        print(
            f"gap to BKS distance: mean {statistics.fmean(gaps):.2f}%  "
            f"median {statistics.median(gaps):.2f}%  max {max(gaps):.2f}%"
        )
    with_v = [r for r in results if r.bks_vehicles is not None]
    if with_v:
        same = sum(r.vehicles <= (r.bks_vehicles or 0) for r in with_v)
        print(f"vehicles <= BKS: {same}/{len(with_v)} ({100 * same / len(with_v):.0f}%)")
        same_gaps = [r.gap for r in with_v if r.vehicles == r.bks_vehicles and r.gap is not None]
        if same_gaps and kind == "pdptw":
            print(f"gap where vehicles equal BKS: mean {statistics.fmean(same_gaps):.2f}%")


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="python -m delivery.bench", description=__doc__.split("\n")[0]
    )
    ap.add_argument("kind", choices=["vrptw", "pdptw"])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--json", type=Path, default=None, help="write routes and figures here")
    ap.add_argument(
        "--solver", type=_solver_list, default=["product"],
        help=f"one or several of {', '.join(SOLVERS)}, comma-separated",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=2, help="parallel searches (product solver)")
    args = ap.parse_args(argv)

    several = len(args.solver) > 1
    results: list[Result] = []
    print(f"{'solver':16} " * several + f"{'instance':10} {'veh':>4} {'bks_v':>5} "
          f"{'distance':>11} {'bks':>10} {'gap%':>7} {'feasible':>8} {'secs':>6} {'cpu':>5}")  # fmt: skip
    pool = None
    if sum(s != "product" for s in args.solver) > 1:
        mp = multiprocessing.get_context(
            "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        )
        pool = ProcessPoolExecutor(max_workers=2, mp_context=mp)
    try:
        for f in args.files:
            for r in _solve_instance(args.kind, f, args, pool):
                results.append(r)
                print(
                    f"{r.solver:16} "
                    * several
                    + f"{r.instance:10} {r.vehicles:4d} {_fmt(r.bks_vehicles, '5d')} "
                    f"{r.distance:11.2f} {_fmt(r.bks_distance, '10.2f')} {_fmt(r.gap, '7.2f')} "
                    f"{'yes' if r.feasible else 'NO':>8} {r.seconds:6.1f} {r.cpu:5.1f}",
                    flush=True,
                )
    finally:
        if pool is not None:
            pool.shutdown()
    if not results:
        return 1
    for solver in args.solver:
        print("-" * 68)
        if several:
            print(f"solver: {solver}")
        _summary(args.kind, [r for r in results if r.solver == solver])
    if args.json:
        payload = [
            {"instance": r.instance, "vehicles": r.vehicles, "distance": r.distance,
             "seconds": r.seconds, "feasible": r.feasible, "routes": r.routes}
            | ({"solver": r.solver} if several else {})
            for r in results
        ]  # fmt: skip
        args.json.write_text(json.dumps(payload, indent=1))
    return 0 if all(r.feasible for r in results) else 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
