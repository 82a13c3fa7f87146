"""Errors raised by the planning core."""

from __future__ import annotations


class ProblemError(ValueError):
    """The input problem (or an instance file) is invalid.

    ``field`` names the offending field, e.g. ``"orders[3].weight"``; the message always
    contains it so a caller can show it without parsing.
    """

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(f"{field}: {message}")


class InsertionError(ValueError):
    """A promised insertion no longer fits the plan (see :func:`delivery.promise.commit`)."""

    def __init__(self, reason_code: str, message: str):
        self.reason_code = reason_code
        super().__init__(f"{reason_code}: {message}")
