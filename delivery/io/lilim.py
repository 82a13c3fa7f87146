"""Li & Lim PDPTW reader.

First line ``vehicles capacity speed``; then ``id x y demand ready due service pickup
delivery`` per node (node 0 is the depot). Each pickup/delivery pair becomes one
``PICKUP_DELIVERY`` order whose id is the pickup node's number. Times and distances are scaled
by ``scale`` (default 1000) and rounded up, so a plan feasible here is feasible with exact
(unrounded) Euclidean times.
"""

from __future__ import annotations

import os

from delivery.errors import ProblemError
from delivery.io._common import as_int, numbers, read_lines
from delivery.matrix import EuclideanMatrix
from delivery.model import Location, Order, OrderKind, Problem, Vehicle

#: per-vehicle fixed cost (scaled units) that makes "fewest vehicles" come first
HIERARCHICAL_FIXED_COST = 10**8


def read_lilim(
    path: str | os.PathLike[str],
    *,
    scale: int = 1000,
    rounding: str = "ceil",
    vehicle_fixed_cost: int = HIERARCHICAL_FIXED_COST,
) -> Problem:
    """Read a Li & Lim instance (hierarchical objective: vehicles first by default)."""
    stem, lines = read_lines(path)
    content = [ln for ln in lines if ln]
    if len(content) < 3:
        raise ProblemError("file", f"{stem} is not a Li & Lim instance (too short)")
    head = numbers(content[0], "header")
    if len(head) != 3:
        raise ProblemError("header", f"{stem}: first line must be 'vehicles capacity speed'")
    n_vehicles = as_int(head[0], "header.vehicles")
    capacity = as_int(head[1], "header.capacity")
    if n_vehicles <= 0 or capacity <= 0:
        raise ProblemError("header", f"{stem}: vehicles and capacity must be positive")
    rows: dict[int, list[float]] = {}
    for ln in content[1:]:
        vals = numbers(ln, f"node line {ln[:20]!r}")
        if len(vals) != 9:
            raise ProblemError("node", f"{stem}: expected 9 columns, got {ln!r}")
        nid = as_int(vals[0], "node.id")
        if nid in rows:
            raise ProblemError("node.id", f"{stem}: duplicate node {nid}")
        rows[nid] = vals
    if 0 not in rows:
        raise ProblemError("node.id", f"{stem}: no depot (node 0)")
    depot = rows[0]
    locations = [Location(str(i), x=r[1], y=r[2]) for i, r in rows.items()]
    vehicles = [
        Vehicle(
            f"V{k + 1}",
            "0",
            capacity,
            shift_start=round(depot[4] * scale),
            shift_end=round(depot[5] * scale),
        )
        for k in range(n_vehicles)
    ]
    orders = []
    paired: set[int] = set()
    for i, r in rows.items():
        if i == 0:
            continue
        demand = as_int(r[3], f"node[{i}].demand")
        p_idx, d_idx = as_int(r[7], f"node[{i}].pickup"), as_int(r[8], f"node[{i}].delivery")
        if demand >= 0 and d_idx:
            d = rows.get(d_idx)
            if d is None or as_int(d[7], f"node[{d_idx}].pickup") != i:
                raise ProblemError(
                    f"node[{i}].delivery", f"{stem}: delivery {d_idx} does not match"
                )
            if as_int(d[3], f"node[{d_idx}].demand") != -demand:
                raise ProblemError(f"node[{d_idx}].demand", f"{stem}: pair demands differ")
            orders.append(
                Order(
                    str(i),
                    kind=OrderKind.PICKUP_DELIVERY,
                    pickup=str(i),
                    delivery=str(d_idx),
                    weight=demand,
                    ready=round(r[4] * scale),
                    pickup_due=round(r[5] * scale),
                    pickup_service=round(r[6] * scale),
                    delivery_ready=round(d[4] * scale),
                    deadline=round(d[5] * scale),
                    delivery_service=round(d[6] * scale),
                )
            )
            paired.update((i, d_idx))
        elif demand < 0 and not p_idx:
            raise ProblemError(f"node[{i}].pickup", f"{stem}: delivery without a pickup")
    unpaired = set(rows) - paired - {0}
    if unpaired:
        raise ProblemError("node", f"{stem}: nodes without a partner: {sorted(unpaired)[:5]}")
    if not orders:
        raise ProblemError("node", f"{stem}: no pickup/delivery pairs")
    return Problem(
        locations=tuple(locations),
        vehicles=tuple(vehicles),
        orders=tuple(orders),
        matrix=EuclideanMatrix(scale=scale, rounding=rounding),
        vehicle_fixed_cost=vehicle_fixed_cost,
        name=stem,
        meta={"format": "lilim", "scale": scale},
    )
