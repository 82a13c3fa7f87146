"""Planning time and quality as a prefecture grows (run on purpose).

    python bench/scale.py sizes [--sizes 100 200 400 800] [--seconds 10]
    python bench/scale.py prefecture [--warehouses 18] [--stops 400] [--seconds 5] [--processes 2]

``sizes``: one warehouse with N stops, solved with the given time limit; prints wall time,
vehicles, km, stops not planned (with reasons) and checker violations.
``prefecture``: W warehouses × N stops planned as independent per-warehouse problems in a
process pool (``delivery.solve_many``); prints the total wall time.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import prefecture  # noqa: E402

from delivery import check, solve, solve_many  # noqa: E402


def _stops(problem) -> int:
    return sum(2 if o.has_pickup_stop else 1 for o in problem.orders)


def sizes(args) -> None:
    print("| stops | orders | vans | time limit s | wall s | vans used | km | not planned | "
          "violations |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        (problem,) = prefecture(1, n, seed=n)
        t0 = time.monotonic()
        plan = solve(problem, args.seconds, workers=args.workers)
        wall = time.monotonic() - t0
        reasons = collections.Counter(u.reason_code for u in plan.unassigned)
        print(
            f"| {_stops(problem)} | {len(problem.orders)} | {len(problem.vehicles)} | "
            f"{args.seconds:g} | {wall:.1f} | {plan.vehicles_used} | {plan.distance / 1000:.0f} | "
            f"{len(plan.unassigned)} {dict(reasons) or ''} | {len(check(problem, plan))} |",
            flush=True,
        )


def whole_prefecture(args) -> None:
    t0 = time.monotonic()
    problems = prefecture(args.warehouses, args.stops, seed=7)
    built = time.monotonic() - t0
    t0 = time.monotonic()
    plans = solve_many(problems, args.seconds, processes=args.processes)
    wall = time.monotonic() - t0
    stops = sum(_stops(p) for p in problems)
    unplanned = sum(len(p.unassigned) for p in plans)
    violations = sum(len(check(p, pl)) for p, pl in zip(problems, plans, strict=True))
    fallbacks = sum(pl.fallback for pl in plans)
    print(
        f"{args.warehouses} warehouses x {args.stops} stops = {stops} stops, "
        f"{sum(len(p.vehicles) for p in problems)} vans: planned in {wall:.1f} s wall "
        f"({args.processes} processes, {args.seconds:g} s per warehouse; data built in "
        f"{built:.1f} s); vans used {sum(pl.vehicles_used for pl in plans)}, "
        f"not planned {unplanned}, fallback plans {fallbacks}, checker violations {violations}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    a = sub.add_parser("sizes")
    a.add_argument("--sizes", type=int, nargs="+", default=[100, 200, 400, 800])
    a.add_argument("--seconds", type=float, default=10.0)
    a.add_argument("--workers", type=int, default=1)
    b = sub.add_parser("prefecture")
    b.add_argument("--warehouses", type=int, default=18)
    b.add_argument("--stops", type=int, default=400)
    b.add_argument("--seconds", type=float, default=5.0)
    b.add_argument("--processes", type=int, default=2)
    args = ap.parse_args()
    sizes(args) if args.cmd == "sizes" else whole_prefecture(args)


if __name__ == "__main__":
    main()
