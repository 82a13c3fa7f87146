"""The bureau reports (operators; the blueprint's guard): history, generating one for a period,
a report's page and its downloads (CSV, XLSX, PDF) rendered from the stored snapshot."""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import vendor
from ..coop.stats import today_local
from ..errors import ValidationFailed
from ..i18n import current_language
from . import bureau, exports
from .views import bp

MIMETYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
WRITERS = {"csv": exports.to_csv, "xlsx": exports.to_xlsx, "pdf": exports.to_pdf}


def _history_page(error: ValidationFailed | None = None, form: dict[str, str] | None = None):
    reports = bureau.history()
    last_month = bureau.previous_month_of_today()
    form = form or {"start": last_month.start.isoformat(), "end": last_month.end.isoformat()}
    return render_template("reports/bureau.html", reports=reports, superseded=bureau.superseded_ids(reports),
                           form=form, error=error, today=today_local(), monthly=bureau.MONTHLY)


@bp.route("/bureau", methods=["GET", "POST"], endpoint="bureau")
def bureau_index():
    """The history and the form (GET); computing a report for the form's period (POST)."""
    if request.method == "GET":
        return _history_page()
    form = {"start": request.form.get("start", ""), "end": request.form.get("end", "")}
    try:
        period = bureau.requested_period(form["start"], form["end"])
    except ValidationFailed as error:  # the form again, saying what is wrong
        return _history_page(error, form), error.status
    report, made = bureau.generate(period, requested_by_id=current_user.id,
                                   regenerate=request.form.get("regenerate") == "1")
    if made:
        flash(_("The report is computed and stored."), "success")
    else:
        flash(_("This period's report was stored before: here it is, as it was computed then. To compute it again "
                "from today's data, use “Compute again”."), "info")
    return redirect(url_for("reports.bureau_report", report_id=report.id))


@bp.get("/bureau/<int:report_id>", endpoint="bureau_report")
def bureau_report(report_id: int):
    report = bureau.report(report_id)
    return render_template("reports/bureau_report.html", report=report, r=exports.render(report, current_language()),
                           newer=bureau.newer_revision(report), cell=exports.cell_text, asset=vendor.asset_url)


def _download(report_id: int, fmt: str) -> Response:
    report = bureau.report(report_id)
    name, data = WRITERS[fmt](report, exports.language(request.args.get("lang")))
    return Response(data, mimetype=MIMETYPES[fmt], headers={
        "Content-Disposition": f'attachment; filename="{name}"',
        "Cache-Control": "private, no-store",
    })


@bp.get("/bureau/<int:report_id>.csv", endpoint="bureau_csv")
def bureau_csv(report_id: int):
    return _download(report_id, "csv")


@bp.get("/bureau/<int:report_id>.xlsx", endpoint="bureau_xlsx")
def bureau_xlsx(report_id: int):
    return _download(report_id, "xlsx")


@bp.get("/bureau/<int:report_id>.pdf", endpoint="bureau_pdf")
def bureau_pdf(report_id: int):
    return _download(report_id, "pdf")
