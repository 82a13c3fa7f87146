"""The cooperative's own statistics: charts and CSV export."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user

from .. import vendor
from ..errors import ValidationFailed
from . import services, stats
from .views import bp


@bp.get("/stats", endpoint="stats")
def stats_page():
    coop = services.cooperative_of(current_user)
    page = {"coop": coop, "args": request.args, "presets": stats.PRESETS, "today": stats.today_local(),
            "asset": vendor.asset_url}
    try:
        period = stats.parse_period(request.args)
    except ValidationFailed as error:  # the form again, saying what is wrong, and no numbers
        return render_template("coop/stats.html", error=error, **page), error.status
    result = stats.cooperative_stats(coop.id, period)
    return render_template("coop/stats.html", error=None, s=result, period=period, charts=stats.chart_specs(result),
                           tables=stats.TABLES, **page)


@bp.get("/stats.csv", endpoint="stats_csv")
def stats_csv():
    coop = services.cooperative_of(current_user)
    table = stats.check_table(request.args.get("table") or "sales")  # the first table when none is named
    period = stats.parse_period(request.args)
    name, data = stats.csv_export(stats.cooperative_stats(coop.id, period), table)
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    })
