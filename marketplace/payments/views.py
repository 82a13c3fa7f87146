"""Payments: the sandbox provider's pages and callbacks (built with the storefront)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("payments", __name__, url_prefix="/pay", template_folder="templates")
