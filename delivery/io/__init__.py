"""Readers for public benchmark instances (Solomon VRPTW, Li & Lim PDPTW)."""

from delivery.io.lilim import read_lilim
from delivery.io.solomon import read_solomon

__all__ = ["read_lilim", "read_solomon"]
