"""Quote latency against a current plan: p50/p95/p99 per quote (run on purpose).

    python bench/quote_latency.py [--sizes 100 500 2000] [--quotes 300] [--solve-seconds 10]

County: 3 warehouses, 15 vans, N open orders (10 % of them cooperative pickups). The plan is
solved once (time-limited), a PromiseIndex is built from it, then new orders at random
addresses are quoted for the four window classes (80 % warehouse stock, 20 % cooperative).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import HOUR, _around, county  # noqa: E402

from delivery import Order, OrderKind, solve  # noqa: E402
from delivery.promise import DEFAULT_WINDOW_CLASSES, PromiseIndex  # noqa: E402


def pct(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(q / 100 * (len(xs) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[100, 500, 2000])
    ap.add_argument("--quotes", type=int, default=300)
    ap.add_argument("--solve-seconds", type=float, default=10.0)
    args = ap.parse_args()
    print("| open orders | routed | plan solve s | index build ms | quote p50 ms | p95 ms | "
          "p99 ms | offered 2h/6h/12h/18h |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        problem = county(n)
        rng = random.Random(n)
        t0 = time.perf_counter()
        plan = solve(problem, args.solve_seconds)
        solve_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = PromiseIndex(problem, plan)
        build_ms = (time.perf_counter() - t0) * 1000
        depots = [v.depot for v in problem.vehicles]
        locs = problem.location_index
        coops = [loc.id for loc in problem.locations if "COOP" in loc.id]
        now = 9 * HOUR
        lat_ms, offered = [], [0, 0, 0, 0]
        for k in range(args.quotes):
            depot = problem.locations[locs[rng.choice(depots)]]
            home = _around(rng, depot.lat, depot.lon, 15, f"Q{k}", "B")
            if rng.random() < 0.2:
                o = Order(f"Q{k}", delivery=home.id, kind=OrderKind.PICKUP_DELIVERY,
                          pickup=rng.choice(coops), weight=2000, delivery_service=180)  # fmt: skip
            else:
                o = Order(f"Q{k}", delivery=home.id, pickup=depot.id, weight=2000,
                          delivery_service=180)  # fmt: skip
            t0 = time.perf_counter()
            qs = index.quote(o, DEFAULT_WINDOW_CLASSES, now=now, locations=[home],
                             margin_seconds=600)  # fmt: skip
            lat_ms.append((time.perf_counter() - t0) * 1000)
            for i, q in enumerate(qs):
                offered[i] += q.feasible
        routed = sum(len(r.order_ids) for r in plan.routes)
        print(
            f"| {len(problem.orders)} | {routed} | {solve_s:.1f} | {build_ms:.0f} | "
            f"{statistics.median(lat_ms):.2f} | {pct(lat_ms, 95):.2f} | {pct(lat_ms, 99):.2f} | "
            f"{'/'.join(str(x) for x in offered)} of {args.quotes} |",
            flush=True,
        )


if __name__ == "__main__":
    main()
