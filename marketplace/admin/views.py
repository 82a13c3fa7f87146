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


# --- scheduled jobs: the run log, "run now" (marketplace/scheduler.py does the work) ---------------


@bp.get("/jobs")
def jobs():
    from flask import request

    from .. import scheduler
    from ..inputs import query_id

    return render_template("admin/jobs.html", **scheduler.overview(
        request.args.get("job"), request.args.get("outcome"), query_id("before")))


@bp.post("/jobs/<job_id>/run")
def run_job(job_id: str):
    from flask import flash, redirect, url_for
    from flask_babel import gettext as _
    from flask_login import current_user

    from .. import scheduler

    run = scheduler.run_now(job_id, requested_by_id=current_user.id)
    if run is None:
        flash(_("That job was just started: this press ran nothing more."), "info")
    elif run.outcome.value == "running":
        flash(_("Job %(job)s started; it is still running.", job=job_id), "info")
    elif run.outcome.value == "failed":
        flash(_("Job %(job)s failed: %(error)s", job=job_id, error=run.message), "error")
    else:
        flash(_("Job %(job)s finished: %(outcome)s.", job=job_id,
                outcome=scheduler.OUTCOME_NAMES[run.outcome.value]), "info")
    return redirect(url_for("admin.jobs", job=job_id))


# The other sections, each in its own module on this blueprint.
from . import coop_views, fleet_views, listing_views, parameter_views  # noqa: E402,F401
