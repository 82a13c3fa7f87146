"""Cooperatives (approve, suspend, reinstate with a reason) and the audit log."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import uploads
from ..errors import DomainError, NotFound
from ..i18n import localized
from ..inputs import query_id
from . import audit_log, coops
from .forms import SPECIALTIES, CooperativeForm, ReasonForm
from .views import bp

STATUS_NAMES = {"pending": _l("Waiting for approval"), "approved": _l("Approved"), "suspended": _l("Suspended")}
ACTION_DONE = {
    "approve": _l("%(name)s is approved: its products can be sold."),
    "suspend": _l("%(name)s is suspended: its products are off the shop, its customers' carts say so."),
    "reinstate": _l("%(name)s is reinstated: its products are back in the shop."),
}
ACTION_ALREADY = _l("This was already done (the form was sent twice): nothing changed.")


SPECIALTY_NAMES = dict(SPECIALTIES)
#: audit actions of this area by name; other areas' actions are shown by their code
AUDIT_ACTION_NAMES = {
    "cooperative.create": _l("Cooperative registered"),
    "cooperative.approve": _l("Cooperative approved"),
    "cooperative.suspend": _l("Cooperative suspended"),
    "cooperative.reinstate": _l("Cooperative reinstated"),
    "cooperative.licence_scan": _l("Licence scan uploaded"),
}


@bp.context_processor
def _coop_labels():
    return {"coop_status_names": STATUS_NAMES, "specialty_names": SPECIALTY_NAMES,
            "audit_action_names": AUDIT_ACTION_NAMES}


@bp.get("/cooperatives")
def cooperatives():
    status = request.args.get("status", "")
    result = coops.list_cooperatives(status, request.args.get("q", ""), request.args.get("page", 1, type=int) or 1)
    return render_template("admin/cooperatives.html", result=result, status=status, q=request.args.get("q", "")[:50])


def _render_detail(cooperative_id: int, form: ReasonForm | None = None, status: int = 200, action: str = ""):
    return render_template("admin/cooperative.html", d=coops.detail(cooperative_id), form=form or ReasonForm(),
                           failed_action=action), status


@bp.get("/cooperatives/<int:cooperative_id>")
def cooperative(cooperative_id: int):
    return _render_detail(cooperative_id)


def _change_status(cooperative_id: int, action: str):
    coop = coops.get(cooperative_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_detail(cooperative_id, form, 422, action)
    try:
        applied = coops.change_status(current_user.id, cooperative_id, action, form.reason.data)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("admin.cooperative", cooperative_id=cooperative_id), 303)
    if applied:
        flash(str(ACTION_DONE[action]) % {"name": localized(coop)}, "success")
    else:
        flash(str(ACTION_ALREADY), "info")
    return redirect(url_for("admin.cooperative", cooperative_id=cooperative_id), 303)


@bp.post("/cooperatives/<int:cooperative_id>/approve")
def cooperative_approve(cooperative_id: int):
    return _change_status(cooperative_id, "approve")


@bp.post("/cooperatives/<int:cooperative_id>/suspend")
def cooperative_suspend(cooperative_id: int):
    return _change_status(cooperative_id, "suspend")


@bp.post("/cooperatives/<int:cooperative_id>/reinstate")
def cooperative_reinstate(cooperative_id: int):
    return _change_status(cooperative_id, "reinstate")


@bp.post("/cooperatives/<int:cooperative_id>/licence")
def cooperative_licence_upload(cooperative_id: int):
    coops.get(cooperative_id)
    upload = request.files.get("licence")
    data = uploads.read_upload(upload.stream) if upload is not None else b""
    try:
        coops.store_licence_scan(current_user.id, cooperative_id, data, upload.filename if upload else "")
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
    else:
        flash(_("The licence scan is saved."), "success")
    return redirect(url_for("admin.cooperative", cooperative_id=cooperative_id) + "#licence", 303)


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A scan far beyond the limit (the whole request is refused before it is read)."""
    if request.endpoint == "admin.cooperative_licence_upload":
        flash(uploads.too_large_message(), "error")
        return redirect(url_for("admin.cooperative", cooperative_id=request.view_args["cooperative_id"]), 303)
    return error


@bp.get("/cooperatives/<int:cooperative_id>/licence")
def cooperative_licence(cooperative_id: int):
    if not coops.get(cooperative_id).licence_file:
        flash(_("No licence scan has been uploaded yet."), "info")
        return redirect(url_for("admin.cooperative", cooperative_id=cooperative_id) + "#licence")
    path = coops.licence_scan_path(current_user, cooperative_id)
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@bp.route("/cooperatives/new", methods=["GET", "POST"])
def cooperative_new():
    form = CooperativeForm()
    form.village_id.choices = [(0, _("Choose…"))] + [
        (v.id, f"{localized(v.town)} · {localized(v)}") for v in coops.villages()]
    if request.method == "GET" and not form.code.data:
        form.code.data = coops.next_code()
    if form.validate_on_submit():
        new = coops.NewCooperative(
            code=form.code.data, name_zh=form.name_zh.data, name_en=form.name_en.data or "",
            licence_no=form.licence_no.data, village_id=form.village_id.data, head_name=form.head_name.data,
            head_mobile=form.head_mobile.data, specialty=form.specialty.data, founded_on=form.founded_on.data,
            description_zh=form.description_zh.data or "", description_en=form.description_en.data or "")
        try:
            coop = coops.create_cooperative(current_user.id, new,
                                            form.head_password.data if form.create_account.data else None)
        except NotFound:
            raise
        except DomainError as error:
            field = getattr(form, error.field or "", None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, error.message]
            else:
                flash(error.message, "error")
        else:
            flash(_("%(name)s is registered and waits for approval.", name=localized(coop)), "success")
            return redirect(url_for("admin.cooperative", cooperative_id=coop.id), 303)
        return render_template("admin/cooperative_new.html", form=form), 409
    status = 422 if request.method == "POST" else 200
    return render_template("admin/cooperative_new.html", form=form), status


@bp.get("/audit")
def audit():
    args = request.args
    problems = []
    try:
        day_from = audit_log.parse_day(args.get("from"))
        day_to = audit_log.parse_day(args.get("to"))
    except ValueError:
        day_from = day_to = None
        problems.append(_("Enter days as YYYY-MM-DD."))
    problem = audit_log.day_range_problem(day_from, day_to)
    if problem:
        problems.append(problem)
        day_from = day_to = None
    filters = audit_log.AuditFilters(
        actor=args.get("actor", "")[:64], action=args.get("action", "")[:48],
        object_type=args.get("object_type", "")[:32], object_id=query_id("object_id"),
        day_from=day_from, day_to=day_to, page=min(max(1, args.get("page", 1, type=int) or 1), 100_000))
    raw_from, raw_to = args.get("from", "")[:10], args.get("to", "")[:10]
    pager_args = {k: v for k, v in {"actor": filters.actor, "action": filters.action, "object_type": filters.object_type,
                                    "object_id": filters.object_id, "from": raw_from, "to": raw_to}.items() if v}
    return render_template("admin/audit.html", result=audit_log.search(filters), f=filters, problems=problems,
                           raw_from=raw_from, raw_to=raw_to, pager_args=pager_args)
