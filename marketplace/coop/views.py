"""Cooperative portal (合作社): the head's own cooperative — the overview of what needs doing
today; the sections (listings, batches, stock, pick lists, replenishment, statistics) are in
their own modules on this blueprint."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import AREA_ROLES, guard_blueprint
from . import services

bp = Blueprint("coop", __name__, url_prefix="/coop", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["coop"])


@bp.get("/")
def index():
    coop = services.cooperative_of(current_user)
    return render_template("coop/index.html", coop=coop, o=services.overview(coop))


@bp.get("/licence")
def licence():
    """The cooperative's own business licence scan, as the operator keeps it."""
    from ..admin import coops

    coop = services.cooperative_of(current_user)
    if not coop.licence_file:
        flash(_("The operator has no scan of your business licence yet."), "info")
        return redirect(url_for("coop.index"))
    response = send_file(coops.licence_scan_path(current_user, coop.id), mimetype="image/jpeg", max_age=3600,
                         conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


# The portal's other sections, each in its own module on this blueprint.
from . import listing_views, pickup_views, stats_views, stock_views  # noqa: E402,F401
