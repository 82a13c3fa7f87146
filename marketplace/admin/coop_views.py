"""Cooperatives (approve, suspend, reinstate with a reason) and the audit log."""

from __future__ import annotations

from .views import bp  # noqa: F401
