"""Checkout (consumers): address, the window quote, payment method, place the order."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import AREA_ROLES, guard_blueprint
from ..cart import services as cart_services
from ..errors import DomainError
from ..extensions import limit
from ..geo import services as geo
from ..i18n import local_time
from ..inputs import form_id, query_id
from ..orders.models import PaymentMethod
from . import services

bp = Blueprint("checkout", __name__, url_prefix="/checkout", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["checkout"])


def _render(address_id: int | None, status: int = 200, chosen: str | None = None, windows=None):
    if not cart_services.items():
        flash(_("Your cart is empty."), "info")
        return redirect(url_for("cart.index"))
    addresses = geo.addresses_of(current_user.id)
    if not addresses:
        flash(_("Add a delivery address first."), "info")
        return redirect(url_for("addresses.new", next=url_for("checkout.index")))
    address_id = address_id or addresses[0].id
    try:
        quote = services.quote(current_user.id, address_id, cart_services.items())
    except services.NotSelling as error:  # the cart page marks those lines
        flash(error.message, "error")
        return redirect(url_for("cart.index"))
    if windows is not None:
        quote = services.CheckoutQuote(quote.address, quote.warehouse, quote.lines, quote.sources, windows,
                                       quote.subtotal_fen)
    if chosen is None:  # preselect the cheapest window we can keep; faster ones are a choice
        feasible = [w for w in quote.windows if w.feasible]
        chosen = min(feasible, key=lambda w: (w.fee_fen, -w.deadline_at.timestamp())).code if feasible else None
    return render_template(
        "checkout/index.html", quote=quote, addresses=addresses, chosen=chosen,
        idempotency_key=services.new_idempotency_key(), methods=PaymentMethod,
    ), status


@bp.get("/")
@limit("QUOTE_RATE_LIMIT", per_account=True)
def index():
    # ?address= from the page's script; ?address_id= from its button for browsers without script
    return _render(query_id("address") or query_id("address_id"))


@bp.post("/place")
def place():
    form = request.form
    address_id = form_id("address_id")
    try:
        order = services.place_order(current_user.id, address_id or 0, form.get("window", ""),
                                     form.get("payment_method", ""), form.get("idempotency_key", ""))
    except services.WindowUnavailable as error:
        flash(error.message, "error")
        return _render(address_id, 409, windows=error.quotes)
    except services.NotSelling as error:
        flash(error.message, "error")
        return redirect(url_for("cart.index"), 303)
    except DomainError as error:
        flash(error.message, "error")
        if error.status == 404:
            raise
        return _render(address_id, error.status, chosen=form.get("window"))
    if order.payment_method == PaymentMethod.ONLINE and order.status.value == "pending_payment":
        from ..payments import services as payments

        return redirect(payments.payment_url(payments.start_payment(order)))
    flash(_("Order placed. We will deliver by %(time)s.", time=local_time(order.deadline_at, "HH:mm")), "success")
    return redirect(url_for("orders.detail", number=order.number))
