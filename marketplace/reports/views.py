"""Reports (operator): the dashboard of how the county is doing; the bureau reports (bureau_views)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from .. import vendor
from ..auth.access import AREA_ROLES, guard_blueprint
from ..coop import stats as coop_stats
from ..errors import ValidationFailed
from . import dashboard

bp = Blueprint("reports", __name__, url_prefix="/reports", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["reports"])


@bp.get("/")
def index():
    page = {"args": request.args, "presets": coop_stats.PRESETS, "today": coop_stats.today_local(),
            "zones": dashboard.zones(), "asset": vendor.asset_url}
    try:
        filters = dashboard.parse_filters(request.args)
    except ValidationFailed as error:  # the form again, saying what is wrong, and no numbers
        return render_template("reports/index.html", error=error, **page), error.status
    d = dashboard.dashboard(filters)
    return render_template("reports/index.html", error=None, d=d, filters=filters, charts=dashboard.chart_specs(d),
                           **page)
from . import bureau_views  # noqa: E402,F401
