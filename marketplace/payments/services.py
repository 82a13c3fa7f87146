"""Payments: opening an online payment, cash on delivery, the provider's callback, expiry of
unpaid orders, and refunds.

Transactions. The functions other areas call as part of their own work — ``start_payment``,
``record_cash_on_delivery``, ``mark_cod_collected``, ``refund`` — only flush: the caller commits,
so an order, its stock reservations and its payment are committed together or not at all. This
area's own entry points — ``handle_callback`` (the provider's notification) and
``expire_unpaid`` (the scheduler) — own their transactions and commit.

Concurrency. A callback and the expiry job can race for the same order; both move it out of
``pending_payment`` with a conditional UPDATE (``… WHERE status = 'pending_payment'``), so exactly
one wins on SQLite and PostgreSQL alike. On PostgreSQL they also lock rows in the same order
(order, then payment) and the job skips orders another scheduler holds (SKIP LOCKED).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import Flask, current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager

from ..columns import utcnow
from ..errors import BadRequest, Conflict, NotFound
from ..extensions import db
from ..inventory import services as inventory
from ..orders.models import Order, OrderStatus, PaymentMethod
from ..orders.services import order_of, record_event
from ..planning import services as planning
from ..scheduler import JOBS, register_job
from . import sandbox
from .models import Payment, PaymentCallback, PaymentStatus, Refund, RefundStatus

log = logging.getLogger("shanhuo.payments")

SANDBOX = "sandbox"
COD = "cod"
EXPIRY_BATCH = 500
#: overdue orders a checkout expires on its way (oldest first), so that no scheduler is needed
LAZY_EXPIRY_BATCH = 20
#: a refused callback's body is kept up to this many bytes (of JSON), with its length and SHA-256
AUDIT_PAYLOAD_BYTES = 1024
#: refused callbacks get a row of their own up to this many a minute from one address, and in all;
#: past that they are counted on the latest row of the same outcome (``repeats``)
AUDIT_ROWS_PER_SOURCE = 10
AUDIT_ROWS_PER_MINUTE = 100
AUDIT_WINDOW = timedelta(minutes=1)
PAID_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED)
NOTICE_GRACE = timedelta(minutes=1)

if not any(job_id == "expire_unpaid" for job_id, _, _ in JOBS):
    register_job("expire_unpaid", "marketplace.payments.services:expire_unpaid", minutes=1)


def init_app(app: Flask) -> None:
    """Start-up: the sandbox's shared secret (derived from SECRET_KEY unless configured) and how
    its notifications travel (``PAYMENT_SANDBOX_DELIVERY``: "http" unless configured)."""
    if not app.config.get("PAYMENT_SANDBOX_SECRET"):
        app.config["PAYMENT_SANDBOX_SECRET"] = sandbox.derive_secret(app.config["SECRET_KEY"])
    app.config.setdefault("PAYMENT_SANDBOX_DELIVERY", os.environ.get("PAYMENT_SANDBOX_DELIVERY", "http"))
    app.config.setdefault("PAYMENT_TIMEOUT_MINUTES", 15)
    app.config.setdefault("CALLBACK_RATE_LIMIT", "60 per minute")


# --- opening payments (called by the checkout; the caller commits) -------------------------------


def start_payment(order: Order) -> Payment:
    """Open a sandbox payment for an online order awaiting payment and return it.

    The payment is for ``order.total_fen`` and expires with the order (``payment_expires_at``,
    set to now + PAYMENT_TIMEOUT_MINUTES if the order has none). If the order already has an
    open payment for that amount, that one is returned, so coming back to pay is safe. Send the
    browser to ``payment_url(payment)``. Flushes; the caller commits.
    """
    if order.payment_method != PaymentMethod.ONLINE:
        raise Conflict(_l("This order is paid in cash on delivery."))
    if order.status == OrderStatus.EXPIRED:
        raise Conflict(_l("The time to pay for this order has run out."))
    if order.status != OrderStatus.PENDING_PAYMENT:
        raise Conflict(_l("This order is not awaiting payment."))
    now = utcnow()
    if order.payment_expires_at is None:
        order.payment_expires_at = now + timedelta(minutes=current_app.config["PAYMENT_TIMEOUT_MINUTES"])
    if order.payment_expires_at <= now:
        raise Conflict(_l("The time to pay for this order has run out."))
    db.session.add(order)
    db.session.flush()
    existing = db.session.scalar(
        sa.select(Payment)
        .where(Payment.order_id == order.id, Payment.provider == SANDBOX, Payment.status == PaymentStatus.PENDING,
               Payment.amount_fen == order.total_fen)
        .order_by(Payment.id.desc()).limit(1)
    )
    if existing is not None:
        return existing
    payment = Payment(order=order, provider=SANDBOX, provider_ref=sandbox.new_reference(),
                      amount_fen=order.total_fen, status=PaymentStatus.PENDING, expires_at=order.payment_expires_at)
    db.session.add(payment)
    db.session.flush()
    return payment


def resume_payment(user_id: int, order_number: str) -> Payment:
    """The consumer's own online order awaiting payment: its open payment, or a new one (after a
    declined payment). Commits."""
    payment = start_payment(order_of(user_id, order_number))
    db.session.commit()
    return payment


def payment_url(payment: Payment) -> str:
    """Where to send the consumer's browser to pay (the provider's hosted page)."""
    return url_for("payments.sandbox_page", provider_ref=payment.provider_ref)


def record_cash_on_delivery(order: Order, *, new_order: bool = False) -> Payment:
    """The payment of a cash-on-delivery order: pending until the courier collects the money
    (``mark_cod_collected``). The checkout confirms such an order at placement (``new_order``:
    it has no payment yet, nothing to look up or flush). Idempotent; flushes, the caller commits."""
    if order.payment_method != PaymentMethod.CASH_ON_DELIVERY:
        raise Conflict(_l("This order is paid online."))
    if not new_order:
        db.session.add(order)
        db.session.flush()
        existing = _cod_payment(order.id)
        if existing is not None:
            return existing
    payment = Payment(order=order, provider=COD, provider_ref="cod_" + sandbox.new_reference()[4:],
                      amount_fen=order.total_fen, status=PaymentStatus.PENDING)
    db.session.add(payment)
    if not new_order:
        db.session.flush()
    return payment


def mark_cod_collected(order: Order, *, actor_id: int | None = None, collected_at: datetime | None = None) -> Payment:
    """The courier collected the cash at delivery: the COD payment succeeds (once; calling it
    again changes nothing). Flushes; the caller commits."""
    payment = _cod_payment(order.id, lock=True) or record_cash_on_delivery(order)
    if payment.status == PaymentStatus.SUCCEEDED:
        return payment
    if payment.status != PaymentStatus.PENDING:
        raise Conflict(_l("This payment is closed."))
    payment.status = PaymentStatus.SUCCEEDED
    payment.paid_at = collected_at or utcnow()
    record_event(order, "cod_collected", actor_id=actor_id,
                 data={"payment_id": payment.id, "amount_fen": payment.amount_fen})
    db.session.flush()
    return payment


def _cod_payment(order_id: int, *, lock: bool = False) -> Payment | None:
    query = sa.select(Payment).where(Payment.order_id == order_id, Payment.provider == COD).order_by(Payment.id).limit(1)
    return db.session.scalar(query.with_for_update() if lock else query)


# --- the consumer's view of a payment ------------------------------------------------------------


def payment_of(user_id: int, provider_ref: str) -> Payment:
    """A sandbox payment of the consumer's own order; anyone else's is simply not found (404).

    The payment and its order are read by one statement, so they come from one snapshot: read
    apart, a callback committing in between could show a pending payment of a paid order (on
    PostgreSQL every statement sees what was committed before it), which is neither state.
    An order overdue for payment is expired first (``expire_if_overdue``), so the page shows it
    closed with its stock back even when no scheduler runs."""
    query = (sa.select(Payment).join(Order, Order.id == Payment.order_id)
             .where(Payment.provider_ref == provider_ref, Payment.provider == SANDBOX, Order.user_id == user_id)
             .options(contains_eager(Payment.order)))
    payment = db.session.scalar(query)
    if payment is None:
        raise NotFound()
    if expire_if_overdue(payment.order):
        payment = db.session.scalar(query.execution_options(populate_existing=True))  # read again, expired
    return payment


def payment_state(payment: Payment) -> str:
    """What the consumer coming back from the provider sees: "confirmed" (order paid),
    "waiting" (no word from the provider yet), "failed" (declined; the order may still be paid
    before it expires) or "closed" (the order expired or was cancelled)."""
    order = payment.order
    if payment.status == PaymentStatus.SUCCEEDED and order.status in PAID_STATUSES:
        return "confirmed"
    if order.status == OrderStatus.PENDING_PAYMENT:
        if payment.status != PaymentStatus.PENDING:
            return "failed"
        # Keep waiting a little past the deadline: a payment made in time may be reported late.
        if payment.expires_at is None or utcnow() < payment.expires_at + NOTICE_GRACE:
            return "waiting"
    return "closed"


def refunds_of(payment: Payment) -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.payment_id == payment.id).order_by(Refund.id)))


# --- the provider's notification (POST /pay/callback) --------------------------------------------

NOTIFICATION_FIELDS = ("notification_id", "provider_ref", "amount_fen", "status", "paid_at")
NOTIFICATION_STATUSES = ("succeeded", "failed")


class InvalidNotification(ValueError):
    """The body is not a well-formed notification (the message names the field)."""


@dataclass(frozen=True)
class Notification:
    notification_id: str
    provider_ref: str
    amount_fen: int
    status: str
    paid_at: datetime | None


@dataclass(frozen=True)
class CallbackResult:
    """The answer to the provider: HTTP status and the outcome recorded on the audit row."""

    status: int
    outcome: str
    message: str = ""

    def body(self) -> dict[str, Any]:
        if self.status < 400:
            return {"result": self.outcome}
        return {"error": self.outcome, "message": self.message}


def parse_notification(raw_body: bytes) -> Notification:
    """Exactly the five fields, with their types; anything else raises InvalidNotification."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidNotification("body is not valid JSON") from error
    if not isinstance(data, dict):
        raise InvalidNotification("body must be a JSON object")
    for name in sorted(data):
        if name not in NOTIFICATION_FIELDS:
            raise InvalidNotification(f"unknown field {name[:64]!r}")
    for name in NOTIFICATION_FIELDS:
        if name not in data:
            raise InvalidNotification(f"missing field {name!r}")
    for name in ("notification_id", "provider_ref"):
        if not isinstance(data[name], str) or not 0 < len(data[name]) <= 64:
            raise InvalidNotification(f"field {name!r} must be a string of 1 to 64 characters")
    amount = data["amount_fen"]
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
        raise InvalidNotification("field 'amount_fen' must be a non-negative integer")
    if data["status"] not in NOTIFICATION_STATUSES:
        raise InvalidNotification("field 'status' must be 'succeeded' or 'failed'")
    paid_at = _parse_utc(data["paid_at"], required=data["status"] == "succeeded")
    return Notification(data["notification_id"], data["provider_ref"], amount, data["status"], paid_at)


def _parse_utc(value: Any, *, required: bool) -> datetime | None:
    if value is None and not required:
        return None
    message = "field 'paid_at' must be an ISO-8601 time with a UTC offset"
    if not isinstance(value, str):
        raise InvalidNotification(message)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as error:
        raise InvalidNotification(message) from error
    if parsed.tzinfo is None:
        raise InvalidNotification(message)
    return parsed.astimezone(UTC)


def handle_callback(raw_body: bytes, signature: str | None, *, now: datetime | None = None,
                    source: str = "") -> CallbackResult:
    """Verify and apply one provider notification (from the remote address ``source``). Every
    outcome is one transaction and is audited (PaymentCallback); nothing else changes unless the
    notification is genuine, well-formed, for a known payment, for the right amount and seen for
    the first time. A notification applied gets its own row; a refused one is audited bounded
    (``_audit_refusal``): at most AUDIT_PAYLOAD_BYTES of its body, and a burst collapsed.

    succeeded, order awaiting payment, paid in time → payment succeeded, order confirmed ("paid");
    succeeded, order expired or cancelled meanwhile → money returned by a Refund ("late");
    succeeded, order already paid by another payment → Refund ("second_payment");
    failed → the open payment fails, the order may still be paid until it expires ("failed").
    """
    now = now or utcnow()
    db.session.rollback()  # start from a clean transaction: this call commits exactly once
    audit = _Audit(*_audit_payload(raw_body), source=(source or "")[:45], now=now)
    if not sandbox.verify(raw_body, signature):
        return _reject(audit, None, 400, "bad_signature", "bad signature", signature_valid=False)
    try:
        notification = parse_notification(raw_body)
    except InvalidNotification as error:
        return _reject(audit, None, 400, "invalid", str(error))

    found = db.session.scalar(sa.select(Payment.order_id).where(
        Payment.provider_ref == notification.provider_ref, Payment.provider == SANDBOX))
    if found is None:
        return _reject(audit, None, 404, "unknown_payment", "unknown provider_ref")
    # Lock order, then payment (the expiry job locks in the same order), and read them fresh.
    order = db.session.scalar(sa.select(Order).where(Order.id == found).with_for_update()
                              .execution_options(populate_existing=True))
    payment = db.session.scalar(sa.select(Payment).where(Payment.provider_ref == notification.provider_ref)
                                .with_for_update().execution_options(populate_existing=True))
    if _seen(notification.notification_id):
        return _reject(audit, payment, 200, "duplicate")
    if notification.amount_fen != payment.amount_fen:
        return _reject(audit, payment, 400, "amount_mismatch",
                       f"amount_fen {notification.amount_fen} does not match the payment's {payment.amount_fen}")

    if notification.status == "failed":
        outcome = _apply_failure(payment)
    else:
        outcome = _apply_success(order, payment, notification, now)
    db.session.add(PaymentCallback(
        payment_id=payment.id, provider_ref=payment.provider_ref, notification_id=notification.notification_id,
        payload=audit.payload, signature_valid=True, outcome=outcome, received_at=now, source=audit.source,
    ))
    try:
        db.session.commit()
    except IntegrityError:  # the same notification committed by a concurrent request
        return _reject(audit, None, 200, "duplicate")
    log.info("payment callback", extra={"provider_ref": payment.provider_ref, "outcome": outcome})
    return CallbackResult(200, outcome)


@dataclass(frozen=True)
class _Audit:
    """What the audit keeps of one callback: its bounded payload, the provider_ref it claims,
    where it came from and when."""

    payload: dict[str, Any]
    provider_ref: str
    source: str
    now: datetime


def _audit_payload(raw_body: bytes) -> tuple[dict[str, Any], str]:
    """The body as the audit keeps it, and the provider_ref it claims. A JSON object (a genuine
    notification is about 200 bytes) or a short text is kept whole; anything longer than
    AUDIT_PAYLOAD_BYTES is cut there, with the body's length and SHA-256."""
    try:
        data = json.loads(raw_body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        data = None
    ref = data.get("provider_ref") if isinstance(data, dict) else None
    ref = ref[:64] if isinstance(ref, str) else ""
    if isinstance(data, dict) and _json_size(data) <= AUDIT_PAYLOAD_BYTES:
        return data, ref
    text = raw_body.decode("utf-8", "replace")
    if _json_size(text) <= AUDIT_PAYLOAD_BYTES:
        return {"raw": text}, ref
    return {"raw": _excerpt(text, AUDIT_PAYLOAD_BYTES), "truncated": True, "length": len(raw_body),
            "sha256": hashlib.sha256(raw_body).hexdigest()}, ref


def _json_size(value: Any) -> int:
    return len(json.dumps(value))  # (ASCII: escapes count as stored)


def _excerpt(text: str, limit: int) -> str:
    """The longest start of ``text`` whose JSON string is at most ``limit`` bytes."""
    size = 0
    for index, char in enumerate(text[:limit]):
        size += len(json.dumps(char)) - 2
        if size > limit:
            return text[:index]
    return text[:limit]


def _reject(audit: _Audit, payment: Payment | None, status: int, outcome: str, message: str = "", *,
            signature_valid: bool = True) -> CallbackResult:
    """Undo anything pending and keep only the audit."""
    payment_id = payment.id if payment is not None else None
    db.session.rollback()
    _audit_refusal(audit, payment_id, outcome, signature_valid)
    db.session.commit()
    if status >= 400:
        log.warning("payment callback refused", extra={"outcome": outcome, "reason": message})
    else:
        log.info("payment callback ignored", extra={"outcome": outcome})
    return CallbackResult(status, outcome, message)


def _audit_refusal(audit: _Audit, payment_id: int | None, outcome: str, signature_valid: bool) -> None:
    """A refused callback gets a row of its own while its address had fewer than
    AUDIT_ROWS_PER_SOURCE refused rows in the last minute and everyone fewer than
    AUDIT_ROWS_PER_MINUTE. Past either, it is counted (``repeats``, ``last_received_at``) on the
    latest row of the same outcome in that minute — its address's own when the address is over
    its cap — so a burst costs a bounded number of rows, each of a bounded size. (Concurrent
    requests may each add a row just under a cap: a few more, never unbounded.)"""
    recent = sa.and_(PaymentCallback.received_at > audit.now - AUDIT_WINDOW, PaymentCallback.notification_id.is_(None))
    total, from_source = db.session.execute(sa.select(
        sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((PaymentCallback.source == audit.source, 1), else_=0)), 0),
    ).where(recent)).one()
    target = None
    if from_source >= AUDIT_ROWS_PER_SOURCE or total >= AUDIT_ROWS_PER_MINUTE:
        query = sa.select(PaymentCallback.id).where(recent, PaymentCallback.outcome == outcome)
        if from_source >= AUDIT_ROWS_PER_SOURCE:
            query = query.where(PaymentCallback.source == audit.source)
        target = db.session.scalar(query.order_by(PaymentCallback.id.desc()).limit(1))
    if target is not None:
        db.session.execute(sa.update(PaymentCallback).where(PaymentCallback.id == target)
                           .values(repeats=PaymentCallback.repeats + 1, last_received_at=audit.now)
                           .execution_options(synchronize_session=False))
        return
    db.session.add(PaymentCallback(
        payment_id=payment_id, provider_ref=audit.provider_ref, notification_id=None, payload=audit.payload,
        signature_valid=signature_valid, outcome=outcome, received_at=audit.now, source=audit.source,
    ))


def _seen(notification_id: str) -> bool:
    return db.session.scalar(
        sa.select(PaymentCallback.id).where(PaymentCallback.notification_id == notification_id).limit(1)
    ) is not None


def _apply_failure(payment: Payment) -> str:
    if payment.status != PaymentStatus.PENDING:
        return "ignored"
    payment.status = PaymentStatus.FAILED
    return "failed"


def _apply_success(order: Order, payment: Payment, notification: Notification, now: datetime) -> str:
    if payment.status == PaymentStatus.SUCCEEDED:
        return "already_paid"  # the provider told us twice about the same payment
    assert notification.paid_at is not None
    deadline = order.payment_expires_at or payment.expires_at
    in_time = deadline is None or notification.paid_at <= deadline
    if order.status == OrderStatus.PENDING_PAYMENT and in_time:
        if _move(order, OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED):
            # (the plan already carries it: an order awaiting payment holds its place on a van)
            payment.status = PaymentStatus.SUCCEEDED
            payment.paid_at = notification.paid_at
            record_event(order, "paid", to_status=OrderStatus.CONFIRMED,
                         data={"payment_id": payment.id, "amount_fen": payment.amount_fen})
            return "paid"
        # Another transaction moved the order first (SQLite has no row locks): read what it did.
        db.session.refresh(order)
        db.session.refresh(payment)
        if payment.status == PaymentStatus.SUCCEEDED:
            return "already_paid"

    # Money was taken for an order that can no longer take it: give it back.
    # Paid after the deadline, before the expiry job came by: expire the order now. (If another
    # transaction moved the order first, read what it became.)
    if order.status == OrderStatus.PENDING_PAYMENT and not _expire_order(order, now):
        db.session.refresh(order)
    if order.status in PAID_STATUSES:
        outcome = "second_payment"
        closed_as = PaymentStatus.FAILED
    else:
        outcome = "late"
        closed_as = PaymentStatus.EXPIRED if order.status == OrderStatus.EXPIRED else PaymentStatus.FAILED
    if payment.status == PaymentStatus.PENDING:
        payment.status = closed_as
    refund = _refund_once(payment, notification.amount_fen, f"{outcome} payment returned")
    if refund is not None:
        record_event(order, "refunded", data={"refund_id": refund.id, "payment_id": payment.id,
                                              "amount_fen": refund.amount_fen, "reason": outcome})
    return outcome


def _move(order: Order, from_status: OrderStatus, to_status: OrderStatus, *conditions: Any) -> bool:
    """Atomic conditional status change; True when this transaction won it. The caller records
    the event (``record_event`` also sets the new status on the loaded object)."""
    result = db.session.execute(
        sa.update(Order).where(Order.id == order.id, Order.status == from_status, *conditions)
        .values(status=to_status).execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def _open_orders_changed(order: Order) -> None:
    """An expired order leaves its warehouse's open orders: quoting states cached by every
    process must notice (call it after releasing the stock: stock is locked before the
    warehouse, as at checkout)."""
    if order.warehouse_id:
        planning.bump_plan_version(order.warehouse_id)


# --- expiry of unpaid online orders --------------------------------------------------------------
# The scheduler's job runs expire_unpaid every minute when there is a scheduler; without one (the
# web workers under gunicorn) it runs lazily where an overdue order matters: a checkout expires
# its consumer's overdue orders and a bounded batch of the oldest anywhere before it counts and
# reserves (expire_due), and opening an overdue order's page expires it (expire_if_overdue), the
# list of one's orders those of its consumer (expire_overdue_of).


def expire_unpaid(now: datetime | None = None, *, user_id: int | None = None, order_id: int | None = None,
                  limit: int = EXPIRY_BATCH) -> int:
    """Expire online orders still awaiting payment after ``payment_expires_at`` (the oldest
    first, at most ``limit``; only the consumer's with ``user_id``, only that one with
    ``order_id``): order expired (event "expired"), open payments expired, reserved stock
    released line by line. Returns how many orders this call expired. Safe to run twice and from
    two schedulers or requests at once: an order is expired (and its stock released) only by the
    one transaction whose conditional UPDATE moved it. One indexed query when nothing is
    overdue; else commits once per order."""
    now = now or utcnow()
    query = sa.select(Order.id).where(
        Order.status == OrderStatus.PENDING_PAYMENT, Order.payment_method == PaymentMethod.ONLINE,
        Order.payment_expires_at <= now,
    )
    if user_id is not None:
        query = query.where(Order.user_id == user_id)
    if order_id is not None:
        query = query.where(Order.id == order_id)
    order_ids = db.session.scalars(query.order_by(Order.payment_expires_at, Order.id).limit(limit)).all()
    if not order_ids:
        return 0
    db.session.rollback()
    expired = 0
    for order_id in order_ids:
        try:
            order = db.session.scalar(
                sa.select(Order).where(Order.id == order_id, Order.status == OrderStatus.PENDING_PAYMENT)
                # FOR NO KEY UPDATE, as a cancel: a re-plan storing stops of this order (a foreign-key
                # share lock) while it holds the warehouse must not wait for us, nor we for it
                .with_for_update(skip_locked=True, key_share=True).execution_options(populate_existing=True)
            )
            if order is not None and _expire_order(order, now):
                db.session.commit()
                expired += 1
            else:
                db.session.rollback()
        except Exception:  # one bad order must not stop the others
            db.session.rollback()
            log.exception("could not expire order", extra={"order_id": order_id})
    if expired:
        log.info("unpaid orders expired", extra={"count": expired})
    return expired


def expire_due(user_id: int | None = None, now: datetime | None = None) -> int:
    """Before a checkout counts the consumer's unpaid orders and reserves stock: the consumer's
    overdue orders and up to LAZY_EXPIRY_BATCH of the oldest overdue ones anywhere are expired,
    their stock given back (the scheduler's work, done on the way when there is none)."""
    now = now or utcnow()
    expired = expire_unpaid(now, user_id=user_id) if user_id is not None else 0
    return expired + expire_unpaid(now, limit=LAZY_EXPIRY_BATCH)


def expire_if_overdue(order: Order, now: datetime | None = None) -> bool:
    """Someone opens an order (or its payment) still awaiting payment past its deadline: expire
    it now, its stock back. No query unless it is overdue. Waits NOTICE_GRACE past the deadline,
    as the return page does, so that a payment made in the last seconds and reported a little
    late confirms the order instead of being refunded. True when it was overdue: then it has
    changed (expired by this call, which commits, or by a concurrent one) and is to be read again."""
    if (order.status != OrderStatus.PENDING_PAYMENT or order.payment_method != PaymentMethod.ONLINE
            or order.payment_expires_at is None):
        return False
    now = now or utcnow()
    if now < order.payment_expires_at + NOTICE_GRACE:
        return False
    expire_unpaid(now - NOTICE_GRACE, order_id=order.id)
    return True


def expire_overdue_of(user_id: int, now: datetime | None = None) -> int:
    """The consumer opens the list of their orders: those overdue (NOTICE_GRACE past the
    deadline, as ``expire_if_overdue``) are expired first. One indexed query when none is."""
    return expire_unpaid((now or utcnow()) - NOTICE_GRACE, user_id=user_id)


def _expire_order(order: Order, now: datetime) -> bool:
    """Expire one order if it is still awaiting payment and past its deadline. The caller commits."""
    if not _move(order, OrderStatus.PENDING_PAYMENT, OrderStatus.EXPIRED, Order.payment_expires_at <= now):
        return False
    record_event(order, "expired", to_status=OrderStatus.EXPIRED,
                 data={"payment_expires_at": order.payment_expires_at.isoformat() if order.payment_expires_at else None})
    for stock, line in inventory.stock_rows_of(order.lines):
        inventory.release(stock.id, line.quantity, reason="expired", order_id=order.id)
    # the warehouse first: a re-plan storing meanwhile (it holds the warehouse) must have
    # committed, so that its routes are the active ones the stops are taken out of
    _open_orders_changed(order)
    planning.take_out_of_plan(order.id)
    for payment in db.session.scalars(sa.select(Payment).where(
            Payment.order_id == order.id, Payment.status == PaymentStatus.PENDING)):
        payment.status = PaymentStatus.EXPIRED
    return True


# --- refunds (called on cancellation; the caller commits) ----------------------------------------


def refund(order: Order, amount_fen: int, reason: str, *, actor_id: int | None = None) -> Refund | None:
    """Give money back for a cancelled (or partly cancelled) order.

    Online, paid: a Refund of ``amount_fen`` against the successful payment (the sandbox refunds
    at once, so it is recorded as succeeded). Cash on delivery, already collected: a pending
    Refund, paid back by hand. Not paid (online or COD): nothing to refund — returns None and
    closes the order's open payments so they can no longer be paid. The total refunded never
    exceeds what was paid (Conflict). Flushes; the caller commits.
    """
    if amount_fen <= 0:
        raise BadRequest(_l("A refund must be a positive amount."))
    payments = db.session.scalars(
        sa.select(Payment).where(Payment.order_id == order.id).order_by(Payment.id).with_for_update()
    ).all()
    paid = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]
    if not paid:
        for payment in payments:
            if payment.status == PaymentStatus.PENDING:
                payment.status = PaymentStatus.FAILED
        db.session.flush()
        return None
    payment = paid[-1]
    already = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0)).where(
        Refund.payment_id == payment.id, Refund.status != RefundStatus.FAILED))
    if already + amount_fen > payment.amount_fen:
        raise Conflict(_l("The refund is more than what was paid."))
    if payment.provider == COD:
        result = Refund(order_id=order.id, payment_id=payment.id, amount_fen=amount_fen, reason=reason[:200],
                        status=RefundStatus.PENDING)
        db.session.add(result)
        db.session.flush()
    else:
        result = _sandbox_refund(payment, amount_fen, reason)
    record_event(order, "refunded", actor_id=actor_id,
                 data={"refund_id": result.id, "payment_id": payment.id, "amount_fen": amount_fen, "reason": reason})
    db.session.flush()
    return result


def refundable_fen(order_id: int) -> int:
    """What ``refund`` could still give back for the order: its last successful payment less
    what was refunded of it (refunds not failed); 0 when nothing was paid. Locks the order's
    payments, as ``refund`` does, so the answer holds until the caller commits."""
    payments = db.session.scalars(
        sa.select(Payment).where(Payment.order_id == order_id).order_by(Payment.id).with_for_update()
    ).all()
    paid = [p for p in payments if p.status == PaymentStatus.SUCCEEDED]
    if not paid:
        return 0
    already = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Refund.amount_fen), 0)).where(
        Refund.payment_id == paid[-1].id, Refund.status != RefundStatus.FAILED))
    return max(0, paid[-1].amount_fen - already)


def _refund_once(payment: Payment, amount_fen: int, reason: str) -> Refund | None:
    """One refund per payment returned after the fact (a retried late notification adds none)."""
    exists = db.session.scalar(sa.select(Refund.id).where(
        Refund.payment_id == payment.id, Refund.status != RefundStatus.FAILED).limit(1))
    if exists is not None or amount_fen <= 0:
        return None
    return _sandbox_refund(payment, amount_fen, reason)


def _sandbox_refund(payment: Payment, amount_fen: int, reason: str) -> Refund:
    result = Refund(order_id=payment.order_id, payment_id=payment.id, amount_fen=amount_fen, reason=reason[:200],
                    status=RefundStatus.PENDING)
    db.session.add(result)
    db.session.flush()
    if sandbox.refund(payment, amount_fen):
        result.status = RefundStatus.SUCCEEDED
        result.completed_at = utcnow()
    else:
        result.status = RefundStatus.FAILED
    db.session.flush()
    return result
