"""Statistics reports (operator): delivery KPIs and the stored periodic reports."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Blueprint, render_template

from ..auth.access import AREA_ROLES, guard_blueprint
from ..extensions import db
from . import services
from .models import StatisticsReport

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["reports"])


@bp.get("/")
def index():
    reports = db.session.scalars(
        sa.select(StatisticsReport).order_by(StatisticsReport.period_start.desc()).limit(24)
    ).all()
    return render_template("reports/index.html", kpis=services.delivery_kpis(), reports=reports)
from . import bureau_views  # noqa: E402,F401
