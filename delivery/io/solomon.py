"""Solomon VRPTW reader (CVRPLIB text format).

Times and distances are scaled to integers: with the default ``scale=10`` and the CVRPLIB
convention ``d_ij = floor(10 * euclid) / 10``, divide the plan's distance by ``scale``.
"""

from __future__ import annotations

import os

from delivery.errors import ProblemError
from delivery.io._common import as_int, numbers, read_lines
from delivery.matrix import EuclideanMatrix
from delivery.model import Location, Order, Problem, Vehicle


def read_solomon(
    path: str | os.PathLike[str],
    *,
    scale: int = 10,
    rounding: str = "floor",
    vehicle_fixed_cost: int = 0,
) -> Problem:
    """Read a Solomon instance; ``vehicle_fixed_cost=0`` is the distance-only objective."""
    stem, lines = read_lines(path)
    content = [ln for ln in lines if ln]
    if not content:
        raise ProblemError("file", f"{stem} is empty")
    upper = [ln.upper() for ln in content]
    try:
        v_at = upper.index("VEHICLE")
        c_at = upper.index("CUSTOMER")
    except ValueError:
        raise ProblemError(
            "file", f"{stem} is not a Solomon instance (no VEHICLE/CUSTOMER)"
        ) from None
    name = content[0] if v_at > 0 else stem
    fleet_line = next((ln for ln in content[v_at + 1 : c_at] if ln[:1].isdigit()), None)
    if fleet_line is None:
        raise ProblemError("vehicle", f"{stem}: no NUMBER CAPACITY line")
    fleet = numbers(fleet_line, "vehicle")
    if len(fleet) != 2:
        raise ProblemError("vehicle", f"{stem}: expected NUMBER CAPACITY, got {fleet_line!r}")
    n_vehicles, capacity = as_int(fleet[0], "vehicle.number"), as_int(fleet[1], "vehicle.capacity")
    if n_vehicles <= 0:
        raise ProblemError("vehicle.number", f"{stem}: needs at least one vehicle")
    rows = []
    for ln in content[c_at + 1 :]:
        if not ln[:1].isdigit():
            continue  # column headers
        vals = numbers(ln, f"customer line {ln[:20]!r}")
        if len(vals) != 7:
            raise ProblemError("customer", f"{stem}: expected 7 columns, got {ln!r}")
        rows.append(vals)
    if len(rows) < 2:
        raise ProblemError("customer", f"{stem}: needs a depot and at least one customer")
    ids = [as_int(r[0], "customer.id") for r in rows]
    if ids[0] != 0 or len(set(ids)) != len(ids):
        raise ProblemError("customer.id", f"{stem}: node 0 must be the depot and ids unique")
    depot = rows[0]
    locations = [Location(str(i), x=r[1], y=r[2]) for i, r in zip(ids, rows, strict=True)]
    start, end = round(depot[4] * scale), round(depot[5] * scale)
    vehicles = [
        Vehicle(f"V{k + 1}", "0", capacity, shift_start=start, shift_end=end)
        for k in range(n_vehicles)
    ]
    orders = []
    for i, r in zip(ids[1:], rows[1:], strict=True):
        demand = as_int(r[3], f"customer[{i}].demand")
        if demand < 0:
            raise ProblemError(f"customer[{i}].demand", f"negative demand {demand}")
        orders.append(
            Order(
                str(i),
                delivery=str(i),
                weight=demand,
                ready=round(r[4] * scale),
                deadline=round(r[5] * scale),
                delivery_service=round(r[6] * scale),
            )
        )
    return Problem(
        locations=tuple(locations),
        vehicles=tuple(vehicles),
        orders=tuple(orders),
        matrix=EuclideanMatrix(scale=scale, rounding=rounding),
        vehicle_fixed_cost=vehicle_fixed_cost,
        name=name,
        meta={"format": "solomon", "scale": scale},
    )
