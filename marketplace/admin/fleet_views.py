"""Users and roles, warehouses and service zones, vehicles, drivers and shifts, window classes."""

from __future__ import annotations

from .views import bp  # noqa: F401
