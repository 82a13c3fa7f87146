"""POST /pay/callback: the provider's signed notification, and everything a forger, a flaky
network or a slow bank can do to it."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentCallback,
    PaymentStatus,
    Refund,
    RefundStatus,
    Stock,
)
from marketplace.payments import sandbox, services

from .conftest import QUANTITY, encode


def snapshot(app, order_id: int) -> dict:
    """Everything a callback may change, to prove that nothing did."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        payments = db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id)).all()
        state = {
            "order": order.status,
            "payments": [(p.status, p.paid_at) for p in payments],
            "events": [e.kind for e in db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id))],
            "refunds": db.session.scalar(sa.select(sa.func.count()).select_from(Refund)),
        }
        db.session.remove()
        return state


def callbacks(app) -> list[PaymentCallback]:
    with app.app_context():
        rows = db.session.scalars(sa.select(PaymentCallback).order_by(PaymentCallback.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def test_valid_callback_pays_the_order(app, pending_order, notification, send_callback):
    response = send_callback(notification)
    assert response.status_code == 200
    assert response.get_json() == {"result": "paid"}
    with app.app_context():
        order = db.session.get(Order, pending_order.order_id)
        payment = db.session.scalar(sa.select(Payment).filter_by(provider_ref=pending_order.provider_ref))
        assert order.status == OrderStatus.CONFIRMED
        assert payment.status == PaymentStatus.SUCCEEDED
        assert payment.paid_at.isoformat() == notification["paid_at"]
        paid = [e for e in order.events if e.kind == "paid"]
        assert len(paid) == 1 and (paid[0].from_status, paid[0].to_status) == ("pending_payment", "confirmed")
        # Paying keeps the reservation: the units are still promised to this order.
        assert db.session.get(Stock, pending_order.stock_id).reserved >= QUANTITY
    [row] = callbacks(app)
    assert (row.signature_valid, row.outcome, row.notification_id) == (True, "paid", notification["notification_id"])


def test_forged_signature_is_refused_and_audited(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    forged = hmac.new(b"not the secret", encode(notification), hashlib.sha256).hexdigest()
    response = send_callback(notification, signature=forged)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_signature"
    assert snapshot(app, pending_order.order_id) == before
    [row] = callbacks(app)
    assert (row.signature_valid, row.outcome, row.notification_id) == (False, "bad_signature", None)
    assert row.provider_ref == pending_order.provider_ref


def test_missing_signature_is_refused(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    assert send_callback(notification, signature=None).status_code == 400
    assert snapshot(app, pending_order.order_id) == before
    assert [r.outcome for r in callbacks(app)] == ["bad_signature"]


def test_tampered_body_is_refused(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    with app.app_context():
        signature = sandbox.sign(encode(notification))
    tampered = encode({**notification, "amount_fen": 1})
    response = send_callback(tampered, signature=signature)
    assert response.status_code == 400
    assert response.get_json()["error"] == "bad_signature"
    # Re-serialising the same fields differently is also a different body.
    assert send_callback(json.dumps(notification, indent=2).encode(), signature=signature).status_code == 400
    assert snapshot(app, pending_order.order_id) == before
    assert [r.outcome for r in callbacks(app)] == ["bad_signature", "bad_signature"]


def test_unknown_field_is_refused(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    response = send_callback({**notification, "currency": "CNY"})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid", "message": "unknown field 'currency'"}
    assert snapshot(app, pending_order.order_id) == before
    [row] = callbacks(app)
    assert (row.signature_valid, row.outcome, row.notification_id) == (True, "invalid", None)


@pytest.mark.parametrize("field", ["notification_id", "provider_ref", "amount_fen", "status", "paid_at"])
def test_missing_field_is_refused(app, pending_order, notification, send_callback, field):
    before = snapshot(app, pending_order.order_id)
    body = {k: v for k, v in notification.items() if k != field}
    response = send_callback(body)
    assert response.status_code == 400
    assert response.get_json()["message"] == f"missing field {field!r}"
    assert snapshot(app, pending_order.order_id) == before


@pytest.mark.parametrize("field, value", [
    ("amount_fen", "1280"), ("amount_fen", 12.8), ("amount_fen", True), ("amount_fen", -1),
    ("status", "paid"), ("paid_at", "yesterday"), ("paid_at", "2026-01-01T08:00:00"), ("paid_at", None),
    ("notification_id", 42), ("provider_ref", ""),
])
def test_wrong_types_are_refused(app, pending_order, notification, send_callback, field, value):
    before = snapshot(app, pending_order.order_id)
    response = send_callback({**notification, field: value})
    assert response.status_code == 400
    assert field in response.get_json()["message"]
    assert snapshot(app, pending_order.order_id) == before


def test_body_that_is_not_json_is_refused(app, pending_order, send_callback):
    response = send_callback(b"amount=1")
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid"
    assert callbacks(app)[0].payload == {"raw": "amount=1"}


def test_unknown_provider_ref_is_not_found(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    response = send_callback({**notification, "provider_ref": "sbx_nobody"})
    assert response.status_code == 404
    assert snapshot(app, pending_order.order_id) == before
    assert [r.outcome for r in callbacks(app)] == ["unknown_payment"]


def test_amount_mismatch_is_refused(app, pending_order, notification, send_callback):
    before = snapshot(app, pending_order.order_id)
    response = send_callback({**notification, "amount_fen": pending_order.amount_fen - 1})
    assert response.status_code == 400
    assert response.get_json()["error"] == "amount_mismatch"
    assert snapshot(app, pending_order.order_id) == before
    # The refused notification does not use up its id: the genuine one still goes through.
    assert send_callback(notification).get_json() == {"result": "paid"}


def test_replayed_callback_is_a_duplicate(app, pending_order, notification, send_callback):
    first = send_callback(notification)
    after_first = snapshot(app, pending_order.order_id)
    second = send_callback(notification)
    assert first.status_code == second.status_code == 200
    assert second.get_json() == {"result": "duplicate"}
    assert snapshot(app, pending_order.order_id) == after_first
    assert after_first["events"].count("paid") == 1
    assert after_first["payments"][0][0] == PaymentStatus.SUCCEEDED
    assert [r.outcome for r in callbacks(app)] == ["paid", "duplicate"]


def test_same_payment_notified_twice_under_new_ids_is_paid_once(app, pending_order, notification, send_callback):
    send_callback(notification)
    again = send_callback({**notification, "notification_id": "ntf_retry"})
    assert again.get_json() == {"result": "already_paid"}
    state = snapshot(app, pending_order.order_id)
    assert state["events"].count("paid") == 1 and state["refunds"] == 0


def test_late_callback_after_expiry_is_refunded(app, pending_order, notification, send_callback):
    with app.app_context():
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(seconds=1)) == 1
    late = {**notification, "paid_at": (pending_order.expires_at + timedelta(seconds=30)).isoformat()}
    response = send_callback(late)
    assert response.status_code == 200
    assert response.get_json() == {"result": "late"}
    # A retry of the same late payment under a new notification id refunds nothing more.
    assert send_callback({**late, "notification_id": "ntf_retry"}).get_json() == {"result": "late"}
    with app.app_context():
        order = db.session.get(Order, pending_order.order_id)
        payment = db.session.scalar(sa.select(Payment).filter_by(provider_ref=pending_order.provider_ref))
        refunds = db.session.scalars(sa.select(Refund)).all()
        assert order.status == OrderStatus.EXPIRED
        assert payment.status == PaymentStatus.EXPIRED and payment.paid_at is None
        assert len(refunds) == 1
        assert (refunds[0].payment_id, refunds[0].amount_fen, refunds[0].status) == (
            payment.id, pending_order.amount_fen, RefundStatus.SUCCEEDED)
        assert refunds[0].completed_at is not None
        assert [e.kind for e in order.events].count("refunded") == 1
        assert "paid" not in [e.kind for e in order.events]
    assert [r.outcome for r in callbacks(app)] == ["late", "late"]


def test_payment_after_the_deadline_before_the_job_expires_the_order_and_refunds(
        app, make_pending_order, send_callback):
    made = make_pending_order(expires_in=timedelta(seconds=-5))  # deadline passed, job not yet run
    with app.app_context():
        reserved = db.session.get(Stock, made.stock_id).reserved
    response = send_callback({"notification_id": "ntf_late", "provider_ref": made.provider_ref,
                              "amount_fen": made.amount_fen, "status": "succeeded", "paid_at": utcnow().isoformat()})
    assert response.get_json() == {"result": "late"}
    with app.app_context():
        assert db.session.get(Order, made.order_id).status == OrderStatus.EXPIRED
        assert db.session.get(Stock, made.stock_id).reserved == reserved - QUANTITY
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 1
        # The job finds nothing left to do.
        assert services.expire_unpaid() == 0


def test_payment_made_in_time_is_accepted_even_if_the_notice_arrives_late(app, make_pending_order, send_callback):
    made = make_pending_order(expires_in=timedelta(seconds=-5))
    paid_at = (made.expires_at - timedelta(seconds=20)).isoformat()
    response = send_callback({"notification_id": "ntf_slow", "provider_ref": made.provider_ref,
                              "amount_fen": made.amount_fen, "status": "succeeded", "paid_at": paid_at})
    assert response.get_json() == {"result": "paid"}
    with app.app_context():
        assert db.session.get(Order, made.order_id).status == OrderStatus.CONFIRMED


def test_callback_after_cancellation_is_refunded(app, pending_order, notification, send_callback):
    with app.app_context():
        order = db.session.get(Order, pending_order.order_id)
        assert services.refund(order, order.total_fen, "cancelled by consumer") is None  # nothing paid yet
        order.status = OrderStatus.CANCELLED
        db.session.commit()
    assert send_callback(notification).get_json() == {"result": "late"}
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment).filter_by(provider_ref=pending_order.provider_ref))
        assert payment.status == PaymentStatus.FAILED
        assert db.session.get(Order, pending_order.order_id).status == OrderStatus.CANCELLED
        assert db.session.scalar(sa.select(Refund.amount_fen)) == pending_order.amount_fen


def test_failed_notification_leaves_the_order_payable(app, pending_order, notification, send_callback):
    response = send_callback({**notification, "status": "failed", "paid_at": None})
    assert response.get_json() == {"result": "failed"}
    state = snapshot(app, pending_order.order_id)
    assert state["order"] == OrderStatus.PENDING_PAYMENT
    assert state["payments"] == [(PaymentStatus.FAILED, None)]


def test_the_same_notification_delivered_twice_at_once_pays_once(app, pending_order, notification, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (TEST_DATABASE_URL)")
    raw = encode(notification)
    with app.app_context():
        signature = sandbox.sign(raw)
    again = {**notification, "notification_id": "ntf_double_click"}
    bodies = [raw, raw, encode(again)]
    with app.app_context():
        signatures = [signature, signature, sandbox.sign(bodies[2])]
    start = threading.Barrier(len(bodies))
    outcomes: list[str] = []

    def deliver(body: bytes, sig: str) -> None:
        with app.app_context():
            start.wait()
            outcomes.append(services.handle_callback(body, sig).outcome)
            db.session.remove()

    threads = [threading.Thread(target=deliver, args=pair) for pair in zip(bodies, signatures, strict=True)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    # Whatever the interleaving: one pays, the replay is a duplicate, the other notice is told
    # the payment is already paid.
    assert sorted(outcomes) == ["already_paid", "duplicate", "paid"]
    state = snapshot(app, pending_order.order_id)
    assert state["events"].count("paid") == 1
    assert state["refunds"] == 0
    assert state["payments"][0][0] == PaymentStatus.SUCCEEDED
