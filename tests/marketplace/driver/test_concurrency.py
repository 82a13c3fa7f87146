"""A double tap that really arrives twice at once (two requests racing): on PostgreSQL the stop is
recorded once, the order delivered once, its stock shipped once, and one photo kept."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from marketplace.driver import services
from marketplace.extensions import db
from marketplace.models import Order, OrderEvent, Stop, StopStatus
from tests.invariants import check_invariants
from tests.marketplace.images import png_bytes


@pytest.fixture(autouse=True)
def _postgres_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serializes writers)")


def test_two_taps_at_once_record_the_delivery_once(app, day, uploads):
    stop_id = day.delivery_ids[0]
    with app.app_context():
        services.start(day.user_id, day.route_id)
        db.session.remove()
    start = threading.Barrier(4)

    def tap(i: int):
        with app.app_context():
            start.wait()
            try:
                if i % 2:
                    return services.deliver(day.user_id, stop_id, name=f"第{i}次", photo=png_bytes()).new
                return services.fail(day.user_id, stop_id, reason="not_home").new
            finally:
                db.session.remove()

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(tap, range(4)))
    assert outcomes.count(True) == 1
    with app.app_context():
        stop = db.session.get(Stop, stop_id)
        assert stop.status in (StopStatus.DONE, StopStatus.FAILED)
        delivered = db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == stop.order_id, OrderEvent.kind == "delivered"))
        assert delivered == (1 if stop.status == StopStatus.DONE else 0)
        order = db.session.get(Order, stop.order_id)
        assert (order.delivered_at is not None) == (stop.status == StopStatus.DONE)
        kept = [p.name for p in (uploads / "proof").iterdir()] if (uploads / "proof").exists() else []
        assert kept == ([f"{stop.proof['photo']}.jpg"] if stop.proof.get("photo") else [])
        assert check_invariants() == []  # stock shipped once: never negative, reserved = open order lines
