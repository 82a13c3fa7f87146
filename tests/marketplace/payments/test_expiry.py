"""expire_unpaid: unpaid online orders time out and give their reserved stock back, once."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import (
    Order,
    OrderStatus,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Stock,
    StockMovement,
)
from marketplace.payments import services
from marketplace.scheduler import JOBS

from .conftest import QUANTITY


def reserved(app, stock_id: int) -> int:
    with app.app_context():
        value = db.session.get(Stock, stock_id).reserved
        db.session.remove()
        return value


def releases(app, order_id: int) -> list[int]:
    with app.app_context():
        rows = db.session.scalars(sa.select(StockMovement.delta_reserved).where(
            StockMovement.order_id == order_id, StockMovement.reason == "expired")).all()
        db.session.remove()
        return list(rows)


def test_expiry_releases_the_reserved_stock_exactly_once(app, pending_order):
    before = reserved(app, pending_order.stock_id)
    later = pending_order.expires_at + timedelta(seconds=1)
    with app.app_context():
        assert services.expire_unpaid(now=later) == 1
        assert services.expire_unpaid(now=later) == 0
        order = db.session.get(Order, pending_order.order_id)
        payment = db.session.scalar(sa.select(Payment).filter_by(order_id=order.id))
        assert order.status == OrderStatus.EXPIRED
        assert payment.status == PaymentStatus.EXPIRED
        assert [e.kind for e in order.events].count("expired") == 1
    assert reserved(app, pending_order.stock_id) == before - QUANTITY
    assert releases(app, pending_order.order_id) == [-QUANTITY]


def test_expiry_leaves_orders_in_time_and_cash_on_delivery_alone(app, make_pending_order):
    in_time = make_pending_order(expires_in=timedelta(minutes=10))
    cod = make_pending_order(method=PaymentMethod.CASH_ON_DELIVERY)
    with app.app_context():
        assert services.expire_unpaid() == 0
        assert db.session.get(Order, in_time.order_id).status == OrderStatus.PENDING_PAYMENT
        assert db.session.get(Order, cod.order_id).status == OrderStatus.CONFIRMED


def test_paid_orders_do_not_expire(app, pending_order, notification, send_callback):
    assert send_callback(notification).get_json() == {"result": "paid"}
    with app.app_context():
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(hours=1)) == 0
        assert db.session.get(Order, pending_order.order_id).status == OrderStatus.CONFIRMED
    assert releases(app, pending_order.order_id) == []


def test_two_schedulers_at_once_release_the_stock_once(app, make_pending_order, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (TEST_DATABASE_URL)")
    made = [make_pending_order(expires_in=timedelta(seconds=-1)) for _ in range(3)]
    before = {m.stock_id: reserved(app, m.stock_id) for m in made}
    start = threading.Barrier(2)
    counts: list[int] = []

    def run() -> None:
        with app.app_context():
            start.wait()
            counts.append(services.expire_unpaid())
            db.session.remove()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(counts) == 3
    for m in made:
        assert releases(app, m.order_id) == [-QUANTITY]
    stock_id = made[0].stock_id  # all three reserved on the same row
    assert reserved(app, stock_id) == before[stock_id] - 3 * QUANTITY


def test_expiry_is_a_scheduled_job_registered_once():
    import importlib

    importlib.reload(services)  # importing twice must not register twice
    assert [job for job in JOBS if job[0] == "expire_unpaid"] == [
        ("expire_unpaid", "marketplace.payments.services:expire_unpaid", {"minutes": 1})
    ]
