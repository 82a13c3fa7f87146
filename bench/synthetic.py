"""Synthetic prefecture data for the scale and quote-latency benchmarks (not a test)."""

from __future__ import annotations

import math
import random

from delivery import HaversineMatrix, Location, Order, OrderKind, Problem, Vehicle

HOUR = 3600
CENTRE = (28.47, 119.92)  # a hilly county seat in Zhejiang
WINDOWS = (2, 6, 12, 18)


def _around(rng: random.Random, lat: float, lon: float, km: float, lid: str, zone: str):
    r = km * math.sqrt(rng.random())
    a = rng.uniform(0, 2 * math.pi)
    return Location(
        lid,
        lat=lat + r * math.sin(a) / 111.2,
        lon=lon + r * math.cos(a) / (111.2 * math.cos(math.radians(lat))),
        zone=zone,
    )


def warehouse_problem(
    rng: random.Random,
    wid: str,
    depot: Location,
    n_stops: int,
    n_vehicles: int | None = None,
    pickup_share: float = 0.1,
) -> Problem:
    """One warehouse, its vans (08:00-20:00, 35 km/h) and ``n_stops`` open orders."""
    n_vehicles = n_vehicles or max(2, math.ceil(n_stops / 25))
    coops = [_around(rng, depot.lat, depot.lon, 12, f"{wid}-COOP{k}", "village") for k in range(3)]
    locs = [depot, *coops]
    orders = []
    n_orders = 0
    while sum(2 if o.has_pickup_stop else 1 for o in orders) < n_stops:
        i = n_orders
        n_orders += 1
        home = _around(rng, depot.lat, depot.lon, 15, f"{wid}-H{i}", rng.choice("ABCD"))
        locs.append(home)
        placed = rng.uniform(7, 14) * HOUR
        window = rng.choice(WINDOWS)
        pickup = rng.random() < pickup_share
        if pickup:
            window = max(window, 6)
        orders.append(
            Order(
                f"{wid}-O{i}",
                delivery=home.id,
                kind=OrderKind.PICKUP_DELIVERY if pickup else OrderKind.DELIVERY,
                pickup=rng.choice(coops).id if pickup else depot.id,
                weight=rng.randint(500, 5000),
                volume=rng.randint(1000, 20000),
                ready=int(placed),
                deadline=int(max(placed + window * HOUR, 10 * HOUR)),
                pickup_service=300 if pickup else 0,
                delivery_service=180,
            )
        )
    vans = [
        Vehicle(f"{wid}-V{k}", depot.id, capacity_weight=800_000, capacity_volume=4_000_000,
                shift_start=8 * HOUR, shift_end=20 * HOUR, speed_kmh=35)
        for k in range(n_vehicles)
    ]  # fmt: skip
    return Problem(
        locs, vans, orders, matrix=HaversineMatrix(zone_factors={"A": 1.1, "D": 1.3}), name=wid
    )


def prefecture(n_warehouses: int, stops_per_warehouse: int, seed: int = 1) -> list[Problem]:
    rng = random.Random(seed)
    out = []
    for w in range(n_warehouses):
        depot = _around(rng, *CENTRE, 60, f"W{w}", "town")
        out.append(warehouse_problem(rng, f"W{w}", depot, stops_per_warehouse))
    return out


def county(n_orders: int, n_depots: int = 3, n_vehicles: int = 15, seed: int = 1) -> Problem:
    """Several warehouses sharing one problem (vans split evenly between them)."""
    rng = random.Random(seed)
    parts = []
    for w in range(n_depots):
        depot = _around(rng, *CENTRE, 20, f"W{w}", "town")
        parts.append(
            warehouse_problem(rng, f"W{w}", depot, n_orders // n_depots, n_vehicles // n_depots)
        )
    return Problem(
        tuple(loc for p in parts for loc in p.locations),
        tuple(v for p in parts for v in p.vehicles),
        tuple(o for p in parts for o in p.orders),
        matrix=parts[0].matrix,
        name=f"county-{n_orders}",
    )
