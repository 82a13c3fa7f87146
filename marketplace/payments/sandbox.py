"""The sandbox payment provider: a stand-in for a real online payment provider (its hosted
checkout page, its signed server-to-server notifications and its refunds), so that the whole
payment flow runs end to end without a contract with a bank.

It behaves like a real provider where it matters to the merchant: a notification is a JSON body
signed with the shared secret (hex HMAC-SHA256 of the raw body in ``X-Sandbox-Signature``),
delivered by an HTTP POST from the provider to the merchant's callback URL, retried while the
merchant does not answer, and it may well arrive after the consumer's browser has come back.

``PAYMENT_SANDBOX_DELIVERY`` chooses how notifications travel: ``"http"`` (default) posts them
from a background thread; ``"inline"`` (tests) hands the same raw body and signature to the
merchant's handler inside the current request.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime

from flask import current_app, url_for

from ..columns import utcnow
from ..inputs import external_url
from .models import Payment, PaymentStatus

log = logging.getLogger("shanhuo.payments.sandbox")

SIGNATURE_HEADER = "X-Sandbox-Signature"
MERCHANT_NAME = "山货 Shanhuo"  # the merchant as registered with the provider (a proper name)
DELIVERY_MODES = ("http", "inline")
# A provider retries a notification the merchant did not acknowledge (network error or 5xx).
RETRY_DELAYS_S = (0.0, 0.5, 2.0, 5.0)
HTTP_TIMEOUT_S = 10


def derive_secret(secret_key: str) -> str:
    """The shared secret when none is configured: a key derived from the app's SECRET_KEY."""
    return hmac.new(str(secret_key).encode(), b"shanhuo/payments/sandbox-secret", hashlib.sha256).hexdigest()


def secret() -> bytes:
    config = current_app.config
    return (config.get("PAYMENT_SANDBOX_SECRET") or derive_secret(config["SECRET_KEY"])).encode()


def sign(body: bytes) -> str:
    """Hex HMAC-SHA256 of the raw body with the shared secret."""
    return hmac.new(secret(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, signature: str | None) -> bool:
    """Is ``signature`` the provider's signature of exactly these bytes? (constant-time)"""
    if not signature:
        return False
    return hmac.compare_digest(sign(body), signature.strip().lower())


def new_reference() -> str:
    """The provider's reference of a payment: unguessable, so it can appear in a URL."""
    return "sbx_" + secrets.token_urlsafe(24)


def is_payable(payment: Payment, now: datetime | None = None) -> bool:
    """The provider accepts money only for an open payment before its expiry."""
    now = now or utcnow()
    return payment.status == PaymentStatus.PENDING and (payment.expires_at is None or now < payment.expires_at)


def seconds_left(payment: Payment, now: datetime | None = None) -> int:
    if payment.expires_at is None:
        return 0
    return max(0, int((payment.expires_at - (now or utcnow())).total_seconds()))


def notification_body(payment: Payment, status: str, paid_at: datetime | None,
                      notification_id: str | None = None) -> bytes:
    """The JSON body of a notification, exactly the fields the merchant expects."""
    body = {
        "notification_id": notification_id or "ntf_" + secrets.token_hex(16),
        "provider_ref": payment.provider_ref,
        "amount_fen": payment.amount_fen,
        "status": status,
        "paid_at": paid_at.astimezone(UTC).isoformat(timespec="milliseconds") if paid_at else None,
    }
    return json.dumps(body, separators=(",", ":")).encode()


def pay(payment: Payment) -> bool:
    """The consumer pressed Pay: take the money and notify the merchant. False when the payment
    is closed (expired, failed or already paid) and nothing was taken."""
    if not is_payable(payment):
        return False
    deliver(notification_body(payment, "succeeded", utcnow()))
    return True


def deliver(body: bytes) -> None:
    """Sign a notification and send it to the merchant's callback endpoint."""
    signature = sign(body)
    mode = current_app.config.get("PAYMENT_SANDBOX_DELIVERY", "http")
    if mode not in DELIVERY_MODES:
        raise ValueError(f"PAYMENT_SANDBOX_DELIVERY must be one of {DELIVERY_MODES}, not {mode!r}")
    if mode == "inline":
        from .services import handle_callback  # the merchant side (imports this module)

        result = handle_callback(body, signature)
        log.info("sandbox notification delivered inline", extra={"status": result.status, "outcome": result.outcome})
        return
    url = external_url(url_for("payments.callback"))
    threading.Thread(target=post_notification, args=(url, body, signature), name="sandbox-notify",
                     daemon=True).start()


def post_notification(url: str, body: bytes, signature: str) -> int | None:
    """POST a notification, retrying on network errors and 5xx. Returns the last HTTP status
    (None when the merchant could never be reached)."""
    status: int | None = None
    for delay in RETRY_DELAYS_S:
        time.sleep(delay)
        request = urllib.request.Request(url, data=body, method="POST", headers={
            "Content-Type": "application/json", "Accept": "application/json", SIGNATURE_HEADER: signature,
        })
        try:
            with urllib.request.urlopen(request, timeout=HTTP_TIMEOUT_S) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            status = error.code
        except (urllib.error.URLError, OSError) as error:
            log.warning("sandbox notification not delivered, will retry", extra={"url": url, "error": str(error)})
            status = None
            continue
        if status < 500:  # acknowledged (2xx) or refused for good (4xx): stop retrying
            log.info("sandbox notification delivered", extra={"url": url, "status": status})
            return status
    log.error("sandbox notification given up", extra={"url": url, "status": status})
    return status


def refund(payment: Payment, amount_fen: int) -> bool:
    """Give money back to the payer. The sandbox's refunds always succeed at once."""
    log.info("sandbox refund", extra={"provider_ref": payment.provider_ref, "amount_fen": amount_fen})
    return True
