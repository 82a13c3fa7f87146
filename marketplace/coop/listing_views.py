"""Listings: create and edit products with photos and certification; revisions go to the operator."""

from __future__ import annotations

from .views import bp  # noqa: F401
