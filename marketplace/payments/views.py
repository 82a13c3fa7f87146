"""Payments: the sandbox provider's hosted pages, the return page and the provider's callback.

The sandbox pages and the return page belong to the consumer who owns the order (anyone else:
404). ``POST /pay/callback`` is the provider's server-to-server notification: no session, no
CSRF token, authenticated by its signature; it always answers JSON. It is rate-limited per
remote address (``CALLBACK_RATE_LIMIT``): a forger's burst is refused with 429 before it costs a
query, and the provider, which posts once per payment from its own address, never comes near it.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import guard_blueprint
from ..auth.models import Role
from ..errors import error_response
from ..extensions import csrf, limiter
from ..i18n import local_time
from . import sandbox, services

bp = Blueprint("payments", __name__, url_prefix="/pay", template_folder="templates")
# Signed in (any role) for the pages; payment_of() then lets only the order's owner through.
guard_blueprint(bp, *Role, public_endpoints=("callback",))

MAX_NOTIFICATION_BYTES = 16 * 1024
WAITING_REFRESH_S = 2


@bp.get("/sandbox/<provider_ref>")
def sandbox_page(provider_ref: str):
    payment = services.payment_of(current_user.id, provider_ref)
    if services.payment_state(payment) == "confirmed":
        return redirect(url_for(".returned", provider_ref=provider_ref))
    return render_template(
        "payments/sandbox.html", payment=payment, order=payment.order, merchant=sandbox.MERCHANT_NAME,
        payable=sandbox.is_payable(payment), seconds_left=sandbox.seconds_left(payment),
    )


@bp.post("/sandbox/<provider_ref>/pay")
def sandbox_pay(provider_ref: str):
    payment = services.payment_of(current_user.id, provider_ref)
    if not sandbox.pay(payment):
        flash(_("This payment is closed and can no longer be paid."), "error")
    return redirect(url_for(".returned", provider_ref=provider_ref))


@bp.post("/sandbox/<provider_ref>/cancel")
def sandbox_cancel(provider_ref: str):
    payment = services.payment_of(current_user.id, provider_ref)
    if sandbox.is_payable(payment):
        flash(_("Payment cancelled. You can still pay until %(time)s.",
                time=local_time(payment.expires_at, "HH:mm")), "info")
    return redirect(url_for("orders.detail", number=payment.order.number))


@bp.post("/orders/<number>")
def pay_order(number: str):
    """Pay (or pay again) for one's own order awaiting payment: to the provider's page."""
    payment = services.resume_payment(current_user.id, number)
    return redirect(services.payment_url(payment))


@bp.get("/return/<provider_ref>")
def returned(provider_ref: str):
    payment = services.payment_of(current_user.id, provider_ref)
    state = services.payment_state(payment)
    response = render_template(
        "payments/return.html", payment=payment, order=payment.order, state=state,
        refunds=services.refunds_of(payment), refresh_s=WAITING_REFRESH_S,
    )
    headers = {"Refresh": str(WAITING_REFRESH_S)} if state == "waiting" else {}
    return response, 200, headers


@bp.errorhandler(429)
def _rate_limited(error):
    if request.endpoint == "payments.callback":  # the provider's endpoint answers JSON, whoever asks
        return jsonify(error="rate_limited", message="too many callbacks from this address"), 429
    return error_response(429, "too_many_requests")


@bp.post("/callback")
@csrf.exempt
@limiter.limit(lambda: current_app.config["CALLBACK_RATE_LIMIT"])
def callback():
    if (request.content_length or 0) > MAX_NOTIFICATION_BYTES:
        return jsonify(error="too_large", message="notification body too large"), 413
    request.max_content_length = MAX_NOTIFICATION_BYTES  # also bounds a chunked body
    result = services.handle_callback(request.get_data(cache=False), request.headers.get(sandbox.SIGNATURE_HEADER),
                                      source=request.remote_addr or "")
    return jsonify(result.body()), result.status
