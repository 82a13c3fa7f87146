"""Checkout: the window quote and placing the order (consumers only; built with the storefront)."""

from __future__ import annotations

from flask import Blueprint

from ..auth.access import AREA_ROLES, guard_blueprint

bp = Blueprint("checkout", __name__, url_prefix="/checkout", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["checkout"])
