"""Fixtures and small problem builders for the planning-core tests."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

from delivery import EuclideanMatrix, Location, Order, Problem, Vehicle

BENCHMARKS = Path(__file__).resolve().parents[2].parent / "shared" / "benchmarks"


@pytest.fixture
def benchmarks() -> Path:
    if not BENCHMARKS.is_dir():
        pytest.skip("shared benchmark data not present")
    return BENCHMARKS


def grid_problem(
    points: dict[str, tuple[float, float]],
    orders: list[Order],
    vehicles: list[Vehicle] | None = None,
    **kw,
) -> Problem:
    """A Euclidean problem where one distance unit takes one second (depot id "D")."""
    locations = [Location(k, x=x, y=y) for k, (x, y) in points.items()]
    if vehicles is None:
        vehicles = [Vehicle("V1", "D", capacity_weight=100, shift_start=0, shift_end=1000)]
    kw.setdefault("vehicle_fixed_cost", 0)
    return Problem(locations, vehicles, orders, matrix=EuclideanMatrix(scale=1), **kw)


@pytest.fixture
def grid():
    """The :func:`grid_problem` builder."""
    return grid_problem


# Property tests explore new examples on a developer's machine but replay a fixed sequence in CI,
# so a landing never depends on the luck of the draw (a found counter-example is kept locally).
if os.environ.get("CI"):
    settings.register_profile("ci", derandomize=True, print_blob=True)
    settings.load_profile("ci")
