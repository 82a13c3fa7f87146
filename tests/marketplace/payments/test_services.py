"""The payment services the checkout and the orders area call."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.errors import BadRequest, Conflict
from marketplace.extensions import db
from marketplace.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Refund,
    RefundStatus,
)
from marketplace.payments import services


def test_start_payment_opens_one_payment_per_order(app, pending_order):
    with app.test_request_context():
        order = db.session.get(Order, pending_order.order_id)
        again = services.start_payment(order)
        assert again.provider_ref == pending_order.provider_ref
        assert (again.provider, again.amount_fen, again.status) == ("sandbox", order.total_fen, PaymentStatus.PENDING)
        assert again.expires_at == order.payment_expires_at
        assert len(again.provider_ref) >= 32
        assert services.payment_url(again) == f"/pay/sandbox/{again.provider_ref}"


def test_start_payment_refuses_cod_and_orders_not_awaiting_payment(app, make_pending_order):
    cod = make_pending_order(method=PaymentMethod.CASH_ON_DELIVERY)
    online = make_pending_order()
    with app.test_request_context():  # domain errors carry translated messages
        with pytest.raises(Conflict):
            services.start_payment(db.session.get(Order, cod.order_id))
        order = db.session.get(Order, online.order_id)
        order.status = OrderStatus.CANCELLED
        with pytest.raises(Conflict):
            services.start_payment(order)


def test_cash_on_delivery_is_collected_once(app, make_pending_order):
    made = make_pending_order(method=PaymentMethod.CASH_ON_DELIVERY)
    with app.app_context():
        order = db.session.get(Order, made.order_id)
        payment = db.session.scalar(sa.select(Payment).filter_by(order_id=order.id))
        assert (payment.provider, payment.status, payment.expires_at) == ("cod", PaymentStatus.PENDING, None)
        assert services.record_cash_on_delivery(order).id == payment.id
        # Nothing was paid, so a cancellation refunds nothing.
        services.mark_cod_collected(order)
        services.mark_cod_collected(order)
        db.session.commit()
        payment = db.session.get(Payment, payment.id)
        assert payment.status == PaymentStatus.SUCCEEDED and payment.paid_at is not None
        assert [e.kind for e in order.events].count("cod_collected") == 1


def test_refund_of_an_unpaid_order_records_nothing_and_closes_the_payment(app, pending_order):
    with app.app_context():
        order = db.session.get(Order, pending_order.order_id)
        assert services.refund(order, order.total_fen, "cancelled") is None
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Refund)) == 0
        payment = db.session.scalar(sa.select(Payment).filter_by(order_id=order.id))
        assert payment.status == PaymentStatus.FAILED


def test_refund_of_a_paid_order_succeeds_at_once_and_never_exceeds_the_payment(
        app, pending_order, notification, send_callback):
    assert send_callback(notification).get_json() == {"result": "paid"}
    with app.test_request_context():  # domain errors carry translated messages
        order = db.session.get(Order, pending_order.order_id)
        first = services.refund(order, 100, "one item out of stock")
        db.session.commit()
        assert (first.amount_fen, first.status, first.reason) == (100, RefundStatus.SUCCEEDED, "one item out of stock")
        assert first.completed_at is not None
        with pytest.raises(Conflict):
            services.refund(order, order.total_fen, "cancelled")
        db.session.rollback()
        with pytest.raises(BadRequest):
            services.refund(order, 0, "nothing")
        rest = services.refund(order, order.total_fen - 100, "cancelled")
        db.session.commit()
        assert rest.status == RefundStatus.SUCCEEDED
        assert [e.kind for e in order.events].count("refunded") == 2


def test_refund_of_collected_cash_waits_for_staff(app, make_pending_order):
    made = make_pending_order(method=PaymentMethod.CASH_ON_DELIVERY)
    with app.app_context():
        order = db.session.get(Order, made.order_id)
        services.mark_cod_collected(order)
        refund = services.refund(order, order.total_fen, "returned at the door")
        db.session.commit()
        assert refund.status == RefundStatus.PENDING


def test_sandbox_secret_is_derived_when_not_configured(app):
    from marketplace.payments import sandbox

    assert app.config["PAYMENT_SANDBOX_SECRET"] == sandbox.derive_secret(app.config["SECRET_KEY"])
    assert app.config["PAYMENT_SANDBOX_SECRET"] != app.config["SECRET_KEY"]
    assert app.config["PAYMENT_TIMEOUT_MINUTES"] == 15


def test_the_return_page_reads_payment_and_order_in_one_statement(app, pending_order):
    """Read apart, a callback committing between the two reads shows a pending payment of a paid
    order: the return page then said "closed" and stopped refreshing (seen in a browser test on
    PostgreSQL). One statement reads both from one snapshot."""
    with app.app_context():
        user_id = db.session.get(Order, pending_order.order_id).user_id
        db.session.expunge_all()
        statements: list[str] = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        sa.event.listen(db.engine, "before_cursor_execute", listener)
        try:
            payment = services.payment_of(user_id, pending_order.provider_ref)
            assert services.payment_state(payment) == "waiting"
            assert payment.order.number == pending_order.number
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", listener)
        assert len(statements) == 1, statements
