"""Dispatch console (调度): today's plans per warehouse, the fleet and alerts."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..auth.access import AREA_ROLES, guard_blueprint
from . import services

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["dispatch"])


@bp.get("/")
def index():
    return render_template("dispatch/index.html", boards=services.boards(), alerts=services.open_alerts())
