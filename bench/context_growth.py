"""How long growing the planning context by one order takes, by plan size (run on purpose).

    python bench/context_growth.py [--sizes 300 600 1200 2000] [--growths 20]

Builds a problem of N orders for 15 vans of 3 speeds around one depot, then adds orders one at
a time (each at a new address) the way a placed order grows the promise index, and prints the
median time per growth.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery import HaversineMatrix, Location, Order, Problem, Vehicle  # noqa: E402
from delivery._context import Context  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[300, 600, 1200, 2000])
    ap.add_argument("--growths", type=int, default=20)
    args = ap.parse_args()
    rng = random.Random(1)
    print("| orders | growth by one order, median ms |\n|---|---|")
    for n in args.sizes:
        locs = [Location("D", lat=28.0, lon=119.0)] + [
            Location(f"A{i}", lat=28 + rng.uniform(-0.2, 0.2), lon=119 + rng.uniform(-0.2, 0.2)) for i in range(n)
        ]
        orders = [Order(f"O{i}", f"A{i}", pickup="D", weight=1, deadline=80_000) for i in range(n)]
        vans = [Vehicle(f"V{k}", depot="D", capacity_weight=10**6, shift_start=0, shift_end=86_400,
                        speed_kmh=30 + 5 * (k % 3)) for k in range(15)]
        problem = Problem(locations=tuple(locs), vehicles=tuple(vans), orders=tuple(orders), matrix=HaversineMatrix())
        ctx = Context(problem)
        for speed in {float(v.speed_kmh) for v in vans}:
            ctx.dur(speed)
        times = []
        for j in range(args.growths):
            home = Location(f"N{j}", lat=28 + rng.uniform(-0.2, 0.2), lon=119 + rng.uniform(-0.2, 0.2))
            problem = replace(problem, locations=(*problem.locations, home),
                              orders=(*problem.orders, Order(f"X{j}", home.id, pickup="D", weight=1, deadline=80_000)))
            started = time.perf_counter()
            ctx = Context(problem, base=ctx)
            times.append(time.perf_counter() - started)
        print(f"| {n} | {statistics.median(times) * 1000:.2f} |")


if __name__ == "__main__":
    main()
