"""Logistics parameters (operator): every learned parameter, its history with provenance, its
effect, and undoing a change with a reason (marketplace/logistics/services.py does the work)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import DomainError, NotFound
from ..logistics import services
from .parameter_forms import RevertForm
from .views import bp


@bp.get("/parameters")
def parameters():
    return render_template("admin/parameters.html",
                           **services.overview(request.args.get("scope"), request.args.get("key")))


@bp.get("/parameters/<int:parameter_id>")
def parameter(parameter_id: int, form: RevertForm | None = None, status: int = 200):
    return render_template("admin/parameter.html", form=form or RevertForm(), **services.detail(parameter_id)), status


@bp.post("/parameters/changes/<int:change_id>/revert")
def revert_parameter_change(change_id: int):
    from ..extensions import db
    from ..logistics.models import ParameterChange

    change = db.session.get(ParameterChange, change_id)
    if change is None:
        raise NotFound()
    form = RevertForm()
    if not form.validate_on_submit():
        return parameter(change.parameter_id, form, 422)
    try:
        services.revert(change_id, actor_id=current_user.id, reason=form.reason.data)
    except DomainError as error:
        flash(error.message, "error")
        return redirect(url_for("admin.parameter", parameter_id=change.parameter_id))
    flash(_("Change reverted: the parameter has its previous value again."), "success")
    return redirect(url_for("admin.parameter", parameter_id=change.parameter_id))
