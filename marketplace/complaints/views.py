"""Complaint console (客服): the queue with SLA timers, a complaint's page (what happened, the
conversation, internal notes, states, assignment, macros, resolutions) and phone intake.
Complaint staff and operators only (the blueprint's guard)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from .. import uploads
from ..auth.access import AREA_ROLES, guard_blueprint
from ..columns import utcnow
from ..errors import DomainError, NotFound
from ..extensions import db
from ..logistics.models import WindowClass
from . import forms, services

bp = Blueprint("complaints", __name__, url_prefix="/complaints", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["complaints"])


def read_photos(field: str = "photos") -> list[bytes]:
    """The uploaded files of a multi-file field (empty inputs skipped), each read to one byte past
    the size limit; their names are never used."""
    return [uploads.read_upload(f.stream) for f in request.files.getlist(field) if f and f.filename]


def _send(path):
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@bp.get("/")
def index():
    args = request.args
    filters = services.Filters(status=args.get("status", "open"), category=args.get("category", ""),
                               assignee=args.get("assignee", ""), breach=args.get("breach", ""),
                               q=args.get("q", "")[:40])
    now = utcnow()
    return render_template("complaints/index.html", rows=services.queue(filters, viewer_id=current_user.id, now=now),
                           counts=services.counts(now), filters=filters, staff=services.staff_members(), now=now)


@bp.route("/new", methods=["GET", "POST"])
def new():
    """A complaint taken on the phone: find the order (number or mobile), then the same form."""
    search = forms.PhoneSearchForm(request.args)
    number = request.values.get("order", "")
    order = None
    if number:
        found = services.find_orders(number, limit=1)
        order = found[0] if found and found[0].number == number else None
        if order is None:
            raise NotFound()
    form = forms.ComplaintForm()
    if order is not None:
        form.lines.choices = [(line.id, line.product_name_zh) for line in order.lines]
    if order is not None and form.validate_on_submit():
        try:
            filed = services.file_for_caller(current_user.id, order.number, services.Intake(
                form.category.data, form.text.data, form.lines.data or [], read_photos(), form.idempotency_key.data))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Complaint %(number)s filed.", number=filed.number), "info")
            return redirect(url_for("complaints.detail", complaint_number=filed.number))
    elif request.method == "GET":
        form.idempotency_key.data = services.new_key()
    results = services.find_orders(search.q.data or "") if order is None else []
    return render_template("complaints/new.html", search=search, results=results, order=order, form=form,
                           max_photo_bytes=uploads.max_bytes())


@bp.get("/<complaint_number>")
def detail(complaint_number: str):
    found = services.complaint(complaint_number)
    now = utcnow()
    first, resolve = services.clocks(found, now)
    reply_form = forms.ReplyForm()
    reply_form.status.choices = [("", _("(keep the state)"))] + [
        (s.value, s.value) for s in services.TRANSITIONS[found.status]]
    assign_form = forms.AssignForm(assignee=str(found.assignee_id or ""))
    assign_form.assignee.choices = [("", _("Nobody"))] + [(str(u.id), u.name) for u in services.staff_members()]
    reship_form = forms.ReshipForm(idempotency_key=services.new_key())
    reship_form.lines.choices = [(line.id, line.product_name_zh) for line in found.order.lines]
    reship_form.window.choices = [(w.code, w.code) for w in
                                  db.session.scalars(db.select(WindowClass).where(WindowClass.active.is_(True))
                                                     .order_by(WindowClass.hours))]
    return render_template(
        "complaints/detail.html", c=found, first=first, resolve=resolve, now=now,
        delivery=services.delivery_of(found), resolutions=services.resolutions_of(found),
        refundable=services.refundable(complaint_number), transitions=services.TRANSITIONS[found.status],
        reply_form=reply_form, note_form=forms.NoteForm(), macro_form=forms.MacroForm(), assign_form=assign_form,
        refund_form=forms.MoneyForm(idempotency_key=services.new_key()),
        coupon_form=forms.MoneyForm(idempotency_key=services.new_key()), reship_form=reship_form,
        status_form=forms.KeyForm(), windows=reship_form.window.choices,
    )


def _back(complaint_number: str):
    return redirect(url_for("complaints.detail", complaint_number=complaint_number))


def _run(complaint_number: str, action, done: str | None = None):
    try:
        result = action()
    except DomainError as error:
        flash(error.message, "error")
    else:
        if done:
            flash(done, "info")
        return result
    return None


@bp.post("/<complaint_number>/status")
def status(complaint_number: str):
    form = forms.StatusForm()
    if form.validate_on_submit():
        changed = _run(complaint_number, lambda: services.change_status(complaint_number, form.status.data, current_user.id))
        if changed is False:
            flash(_("The complaint was already in that state."), "info")
        elif changed:
            flash(_("State changed."), "info")
    return _back(complaint_number)


@bp.post("/<complaint_number>/reply")
def reply(complaint_number: str):
    form = forms.ReplyForm()
    form.status.choices = [("", "")] + [(s.value, s.value) for s in services.TRANSITIONS]
    if form.validate_on_submit():
        _run(complaint_number, lambda: services.reply(complaint_number, form.body.data, current_user.id, to_status=form.status.data or None),
             _("Reply sent to the customer."))
    else:
        flash(_("Write something first."), "error")
    return _back(complaint_number)


@bp.post("/<complaint_number>/note")
def note(complaint_number: str):
    form = forms.NoteForm()
    if form.validate_on_submit():
        _run(complaint_number, lambda: services.add_note(complaint_number, form.body.data, current_user.id), _("Note added."))
    else:
        flash(_("Write something first."), "error")
    return _back(complaint_number)


@bp.post("/<complaint_number>/macro")
def macro(complaint_number: str):
    form = forms.MacroForm()
    if form.validate_on_submit():
        _run(complaint_number, lambda: services.apply_macro(complaint_number, form.macro.data, current_user.id), _("Macro applied."))
    else:
        flash(_("Choose a macro."), "error")
    return _back(complaint_number)


@bp.post("/<complaint_number>/assign")
def assign(complaint_number: str):
    form = forms.AssignForm()
    form.assignee.choices = [("", "")] + [(str(u.id), u.name) for u in services.staff_members()]
    if form.validate_on_submit():
        assignee = int(form.assignee.data) if form.assignee.data else None
        _run(complaint_number, lambda: services.assign(complaint_number, assignee, current_user.id), _("Assignment saved."))
    else:
        flash(_("Choose a member of the complaint staff."), "error")
    return _back(complaint_number)


def _money(complaint_number: str, grant, done: str):
    form = forms.MoneyForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return _back(complaint_number)
    result = _run(complaint_number, lambda: grant(complaint_number, form.fen, form.idempotency_key.data, current_user.id, form.note.data))
    if result is not None:
        flash(done if result[1] else _("This was already done (the form was sent twice): nothing more was given."),
              "info")
    return _back(complaint_number)


@bp.post("/<complaint_number>/refund")
def refund(complaint_number: str):
    return _money(complaint_number, services.refund, _("Refund made."))


@bp.post("/<complaint_number>/coupon")
def coupon(complaint_number: str):
    return _money(complaint_number, services.coupon, _("Coupon granted."))


@bp.post("/<complaint_number>/reship")
def reship(complaint_number: str):
    form = forms.ReshipForm()
    found = services.complaint(complaint_number)
    form.lines.choices = [(line.id, line.product_name_zh) for line in found.order.lines]
    form.window.choices = [(w, w) for w in request.form.getlist("window")][:1] or [("", "")]
    if not form.validate_on_submit():
        flash(_("Choose the items and a delivery window."), "error")
        return _back(complaint_number)
    result = _run(complaint_number, lambda: services.reship(complaint_number, form.lines.data or [], form.window.data,
                                                  form.idempotency_key.data, current_user.id))
    if result is not None:
        row, new = result
        flash(_("Order %(number)s placed to send the goods again.", number=row.reship_order.number) if new
              else _("This was already done (the form was sent twice): nothing more was ordered."), "info")
    return _back(complaint_number)


@bp.get("/<complaint_number>/photos/<complaint_photo_id>")
def photo(complaint_number: str, complaint_photo_id: str):
    return _send(services.photo_of_complaint(complaint_number, complaint_photo_id))


@bp.get("/<complaint_number>/proof")
def proof(complaint_number: str):
    return _send(services.proof_photo(complaint_number))


@bp.app_template_global("order_complaints")
def order_complaints(order) -> list:
    """For the consumer's order page: the order's complaints with what the consumer may see."""
    return [(c, services.public_events(c)) for c in services.complaints_of_order(order)]
