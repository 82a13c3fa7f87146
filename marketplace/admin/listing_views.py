"""Listing review (approve or reject revisions, with the holds shown) and the prohibited-terms list."""

from __future__ import annotations

from .views import bp  # noqa: F401
