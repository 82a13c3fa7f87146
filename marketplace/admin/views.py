"""Administration (operator): cooperatives, listings, users, fleet — overview and audit log."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import AREA_ROLES, guard_blueprint
from . import services

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["admin"])


@bp.get("/")
def index():
    return render_template("admin/index.html", o=services.overview())
