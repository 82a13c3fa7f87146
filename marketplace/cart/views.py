"""The shopping cart (signed-out carts live in the session)."""

from __future__ import annotations

from flask import Blueprint, abort, render_template
from flask_login import current_user

from ..auth.models import Role
from . import services

bp = Blueprint("cart", __name__, url_prefix="/cart", template_folder="templates")


@bp.before_request
def _consumers_and_guests_only():
    # Staff accounts do not shop with their staff identity.
    if current_user.is_authenticated and current_user.role != Role.CONSUMER:
        abort(403)


@bp.get("/")
def index():
    return render_template("cart/index.html", cart=services.current_cart())
