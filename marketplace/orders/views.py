"""My orders: the consumer's order list and order detail with its timeline."""

from __future__ import annotations

from flask import Blueprint, render_template
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
    return render_template("orders/detail.html", order=services.order_of(current_user.id, number))


@bp.app_context_processor
def _status_names() -> dict:
    from flask_babel import lazy_gettext as _l

    return {
        "order_status_names": {
            "pending_payment": _l("Awaiting payment"),
            "confirmed": _l("Confirmed"),
            "dispatched": _l("On the way"),
            "delivered": _l("Delivered"),
            "cancelled": _l("Cancelled"),
            "expired": _l("Expired"),
        }
    }
