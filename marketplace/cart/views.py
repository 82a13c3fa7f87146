"""The shopping cart pages (guests and consumers; staff accounts do not shop)."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.models import Role
from ..errors import DomainError, NotAllowed, NotFound
from ..extensions import csrf
from ..geo import services as geo
from ..inputs import parse_id, safe_next, same_origin_post
from . import services

bp = Blueprint("cart", __name__, url_prefix="/cart", template_folder="templates")


class CrossSitePost(NotAllowed):
    code = "cross_site"
    default_message = _l("This form was sent from another site. Open the product page here and add it again.")


@bp.app_context_processor
def _cart_badge():
    return {"cart_count": services.count}


@bp.before_request
def _consumers_and_guests_only():
    if current_user.is_authenticated and current_user.role != Role.CONSUMER:
        abort(403)


def _back(default: str):
    return redirect(safe_next(request.form.get("next"), default))


@bp.get("/")
def index():
    cart = services.current_cart()
    address = geo.default_address(current_user.id) if current_user.is_authenticated else None
    # Without an address, show what the county town would get (as the product pages do).
    zone_id = address.village.zone_id if address else geo.county_town_zone_id()
    warehouse = geo.warehouse_for_zone(zone_id) if zone_id else None
    groups = services.source_groups(cart, warehouse.location_id if warehouse else None)
    return render_template("cart/index.html", cart=cart, groups=groups, address=address)


@bp.post("/add")
@csrf.exempt
def add():
    # The product page a cookie-less visitor gets (from the page cache) has no CSRF token, so a
    # cookie-less post is accepted, but only from our own pages (its Origin is ours): a signed-in
    # browser sends no cookie with another site's post either, and answering it with a guest
    # session would sign that user out. With a cookie the usual CSRF token is required.
    if request.cookies:
        csrf.protect()
    elif not same_origin_post():
        raise CrossSitePost()
    try:
        product_id = parse_id(request.form.get("product_id", ""))
        quantity = services.parse_quantity(request.form.get("quantity", "1"))
        services.set_quantity(product_id, quantity, add=True)
    except ValueError:
        flash(_("Choose a product."), "error")
        return redirect(url_for("cart.index")), 302
    except NotFound:
        raise
    except DomainError as error:
        flash(error.message, "error")
        return _back(url_for("cart.index"))
    flash(_("Added to your cart."), "success")
    return _back(url_for("cart.index"))


@bp.post("/update/<int:product_id>")
def update(product_id: int):
    try:
        services.set_quantity(product_id, services.parse_quantity(request.form.get("quantity")))
    except DomainError as error:
        flash(error.message, "error")
    return redirect(url_for("cart.index"))


@bp.post("/remove/<int:product_id>")
def remove(product_id: int):
    services.remove(product_id)
    flash(_("Removed from your cart."), "info")
    return redirect(url_for("cart.index"))
