"""My orders: the consumer's order list and order detail with its timeline."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
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
