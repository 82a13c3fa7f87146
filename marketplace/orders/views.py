"""My orders: the consumer's order list and order detail with its timeline."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import AREA_ROLES, guard_blueprint
from . import services

bp = Blueprint("orders", __name__, url_prefix="/orders", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["orders"])


@bp.get("/")
def index():
    return render_template("orders/index.html", orders=services.orders_of(current_user.id))


@bp.get("/<number>")
def detail(number: str):
    order = services.order_of(current_user.id, number)
    return render_template("orders/detail.html", order=order, tracking=services.tracking(order),
                           cancellable=order.status in services.CANCELLABLE)


@bp.post("/<number>/cancel")
def cancel(number: str):
    try:
        services.cancel(current_user.id, number, request.form.get("reason", ""))
    except services.CannotCancel as error:
        flash(error.message, "error")
    else:
        flash(_("Your order has been cancelled."), "info")
    return redirect(url_for("orders.detail", number=number))


@bp.route("/<number>/complaint", methods=["GET", "POST"])
def complaint(number: str):
    """Complain about one of my orders (another consumer's order: 404)."""
    from ..complaints import forms as complaint_forms
    from ..complaints import services as complaints
    from ..complaints.views import read_photos
    from ..errors import DomainError
    from ..i18n import is_english
    from ..uploads import max_bytes

    order = services.order_of(current_user.id, number)
    form = complaint_forms.ComplaintForm()
    form.lines.choices = [(line.id, line.product_name_en if is_english() else line.product_name_zh)
                          for line in order.lines]
    if form.validate_on_submit():
        try:
            filed = complaints.file_complaint(current_user.id, number, complaints.Intake(
                form.category.data, form.text.data, form.lines.data or [], read_photos(), form.idempotency_key.data))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("Complaint %(number)s received. We will reply here.", number=filed.number), "info")
            return redirect(url_for("orders.detail", number=number, _anchor="complaints"))
    elif request.method == "GET":
        form.idempotency_key.data = complaints.new_key()
    return render_template("complaints/file.html", order=order, form=form, max_photo_bytes=max_bytes())


@bp.get("/<number>/complaints/<complaint_number>/photos/<complaint_photo_id>")
def complaint_photo(number: str, complaint_number: str, complaint_photo_id: str):
    from ..complaints import services as complaints

    services.order_of(current_user.id, number)
    path = complaints.photo_of_own_complaint(current_user.id, complaint_number, complaint_photo_id)
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    return response
