"""Stock per location, adjustments with a reason, the ledger; batches and traceability."""

from __future__ import annotations

from .views import bp  # noqa: F401
