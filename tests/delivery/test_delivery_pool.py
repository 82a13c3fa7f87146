"""Route pool and set-partitioning recombination."""

from __future__ import annotations

from delivery import Order, Vehicle, check
from delivery._context import Context
from delivery.model import Role, StopRef
from delivery.pool import RoutePool, recombine, vehicle_class
from delivery.solver import _objective, _plan_from_routes

# two clusters east and west of the depot; the best plan serves each cluster with one van
POINTS = {"D": (0, 0), "E1": (10, 0), "E2": (11, 1), "W1": (-10, 0), "W2": (-11, 1)}


def _problem(grid):
    orders = [Order(k, delivery=k, weight=1, deadline=1000) for k in ("E1", "E2", "W1", "W2")]
    vans = [
        Vehicle(f"V{i}", "D", capacity_weight=10, shift_start=0, shift_end=1000) for i in (1, 2)
    ]
    return grid(POINTS, orders, vans)


def _d(*ids):
    return [(i, "delivery") for i in ids]


def _refs(seq):
    return [StopRef(o, Role(r)) for o, r in seq]


def test_recombination_combines_routes_of_different_solutions(grid):
    ctx = Context(_problem(grid))
    # the incumbent's routes both cross the depot; other solutions had the cluster routes
    incumbent = [_d("E1", "W1"), _d("E2", "W2")]
    pool = RoutePool()
    cls = vehicle_class(ctx.vehicles[0])
    for seq in (_d("E1", "W1"), _d("E2", "W2"), _d("E1", "E2"), _d("W2", "W1"), _d("E2")):
        pool.add(cls, tuple(seq), ctx.schedule(0, _refs(seq)).distance)
    combined = recombine(ctx, pool, incumbent, 5.0)
    assert combined is not None
    assert sorted(map(sorted, combined)) == sorted([sorted(_d("E1", "E2")), sorted(_d("W1", "W2"))])
    plan = _plan_from_routes(ctx, combined, fallback=False)
    assert check(ctx.problem, plan) == []
    assert _objective(ctx, combined, 0) < _objective(ctx, incumbent, 0)


def test_pool_keeps_the_shortest_order_of_a_stop_set():
    pool = RoutePool()
    pool.add(("c",), tuple(_d("A", "B")), 30)
    pool.add(("c",), tuple(_d("B", "A")), 20)
    pool.add(("c",), tuple(_d("A", "B")), 25)
    assert len(pool) == 1
    assert next(iter(pool.routes.values())) == (20, tuple(_d("B", "A")))
    other = RoutePool()
    other.add(("c",), tuple(_d("A")), 10)
    pool.merge(other)
    assert len(pool) == 2


def test_without_a_better_combination_the_incumbent_comes_back(grid):
    ctx = Context(_problem(grid))
    best = [_d("E1", "E2"), _d("W2", "W1")]
    pool = RoutePool()
    combined = recombine(ctx, pool, best, 1.0)
    assert combined is None  # an empty pool: nothing to do
    pool.add(vehicle_class(ctx.vehicles[0]), tuple(_d("E1")), 20)
    combined = recombine(ctx, pool, best, 1.0)
    assert combined is not None and _objective(ctx, combined, 0) == _objective(ctx, best, 0)
