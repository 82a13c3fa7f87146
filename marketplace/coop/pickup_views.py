"""Pick lists from the current plan, handovers to the van, replenishment suggestions."""

from __future__ import annotations

from .views import bp  # noqa: F401
