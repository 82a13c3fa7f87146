"""An order that is paid joins its warehouse's open orders, one that expires leaves them: both bump
the warehouse's plan_version, so every process rebuilds its cached quoting state; a repeated
notification changes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, Warehouse
from marketplace.payments import services


def plan_version(app, order_id: int) -> int:
    with app.app_context():
        order = db.session.get(Order, order_id)
        version = db.session.scalar(sa.select(Warehouse.plan_version).where(Warehouse.id == order.warehouse_id))
        db.session.remove()
        return version


def test_payment_bumps_the_plan_version_once(app, pending_order, notification, send_callback):
    before = plan_version(app, pending_order.order_id)
    assert send_callback(notification).get_json() == {"result": "paid"}
    assert plan_version(app, pending_order.order_id) == before + 1
    assert send_callback(notification).get_json()["result"] != "paid"  # the provider repeating itself
    assert plan_version(app, pending_order.order_id) == before + 1


def test_expiry_bumps_the_plan_version_once(app, pending_order):
    before = plan_version(app, pending_order.order_id)
    with app.app_context():
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(seconds=1)) == 1
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(seconds=1)) == 0
    assert plan_version(app, pending_order.order_id) == before + 1
