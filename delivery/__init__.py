"""Shanhuo planning core: plain typed inputs, OR-Tools routing, promise quotes, checker.

No Flask, no database: build a :class:`Problem`, call :func:`solve`, store the :class:`Plan`.
"""

from delivery.check import Violation, check
from delivery.errors import InsertionError, ProblemError
from delivery.matrix import EuclideanMatrix, HaversineMatrix, TravelMatrix
from delivery.model import (
    REASONS,
    Location,
    Order,
    OrderKind,
    Plan,
    Problem,
    Role,
    Route,
    StopRef,
    Unassigned,
    Vehicle,
    Visit,
)
from delivery.solver import SearchConfig, solve, solve_many
from delivery.validate import validate

__all__ = [
    "REASONS",
    "EuclideanMatrix",
    "HaversineMatrix",
    "InsertionError",
    "Location",
    "Order",
    "OrderKind",
    "Plan",
    "Problem",
    "ProblemError",
    "Role",
    "Route",
    "SearchConfig",
    "StopRef",
    "TravelMatrix",
    "Unassigned",
    "Vehicle",
    "Violation",
    "Visit",
    "check",
    "solve",
    "solve_many",
    "validate",
]
