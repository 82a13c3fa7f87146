"""Compare search configurations on a few instances (tuning aid, run on purpose).

python bench/tune.py vrptw '{"first_solution": "SAVINGS", "gls_lambda": 0.05}' FILE... --seconds 10
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from delivery.bench import exact_distance, load_bks, node_routes  # noqa: E402
from delivery.check import check  # noqa: E402
from delivery.io import read_lilim, read_solomon  # noqa: E402
from delivery.solver import LEAN_OPERATORS, SearchConfig, solve  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("kind", choices=["vrptw", "pdptw"])
    ap.add_argument("config")
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--seconds", type=float, default=10)
    args = ap.parse_args()
    raw = json.loads(args.config)
    cfgs = []
    for item in raw if isinstance(raw, list) else [raw]:
        item["operators"] = tuple(item.get("operators", LEAN_OPERATORS))
        if "params" in item:
            item["params"] = tuple(tuple(x) for x in item["params"])
        cfgs.append(SearchConfig(**item))
    gaps, veh_ok = [], 0
    for f in args.files:
        p = read_solomon(f) if args.kind == "vrptw" else read_lilim(f)
        t0 = time.monotonic()
        plan = solve(p, args.seconds, configs=cfgs, workers=1)
        wall = time.monotonic() - t0
        ok = not check(p, plan) and not plan.unassigned
        routes = node_routes(plan)
        dist = plan.distance / 10 if args.kind == "vrptw" else exact_distance(p, routes)
        bv, bd = load_bks(f)[f.stem.lower()]
        gap = 100 * (dist - bd) / bd
        gaps.append(gap)
        veh_ok += plan.vehicles_used <= bv
        print(
            f"{f.stem:8} v={plan.vehicles_used:3d}/{bv:<3d} d={dist:9.2f} gap={gap:6.2f}% "
            f"ok={ok} t={wall:.1f}",
            flush=True,
        )
    print(
        f"CONFIG {args.config} mean_gap={statistics.fmean(gaps):.3f}% veh_ok={veh_ok}/{len(gaps)}"
    )


if __name__ == "__main__":
    main()
