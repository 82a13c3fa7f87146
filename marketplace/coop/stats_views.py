"""The cooperative's own statistics: charts and CSV export."""

from __future__ import annotations

from .views import bp  # noqa: F401
