"""Complaint console (客服): complaints with their status and SLA clocks."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from ..auth.access import AREA_ROLES, guard_blueprint
from . import services

bp = Blueprint("complaints", __name__, url_prefix="/complaints", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["complaints"])


@bp.get("/")
def index():
    status = request.args.get("status", "open")
    return render_template(
        "complaints/index.html",
        complaints=services.complaints(status),
        counts=services.counts_by_status(),
        status=status,
    )
