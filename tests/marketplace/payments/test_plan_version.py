"""An online order holds its place in its warehouse's plan while it awaits payment: paying it
changes no plan; expiring it takes it out and bumps the warehouse's plan versions (every process
then rebuilds its cached quoting state); a repeated notification changes nothing."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, Stop, Warehouse
from marketplace.payments import services
from marketplace.planning import services as planning


def plan_version(app, order_id: int) -> tuple[int, int]:
    """(plan_version, plan_reset_version) of the order's warehouse."""
    with app.app_context():
        order = db.session.get(Order, order_id)
        row = db.session.execute(sa.select(Warehouse.plan_version, Warehouse.plan_reset_version)
                                 .where(Warehouse.id == order.warehouse_id)).one()
        db.session.remove()
        return tuple(row)


def planned(app, order_id: int) -> bool:
    with app.app_context():
        order = db.session.get(Order, order_id)
        known = f"O{order_id}" in planning.build_problem(order.warehouse_id).problem.order_by_id
        db.session.remove()
        return known


def test_an_unpaid_order_is_planned_and_payment_changes_no_plan(app, pending_order, notification, send_callback):
    before = plan_version(app, pending_order.order_id)
    assert planned(app, pending_order.order_id)
    assert send_callback(notification).get_json() == {"result": "paid"}
    assert send_callback(notification).get_json()["result"] != "paid"  # the provider repeating itself
    assert plan_version(app, pending_order.order_id) == before
    assert planned(app, pending_order.order_id)


def stops_of(app, order_id: int) -> int:
    with app.app_context():
        count = db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(Stop.order_id == order_id))
        db.session.remove()
        return count


def test_expiry_takes_the_order_out_and_bumps_the_versions_once(app, pending_order):
    with app.app_context():  # the planner routes an order awaiting payment
        planning.plan_warehouse(db.session.get(Order, pending_order.order_id).warehouse_id, seconds=0.3)
        db.session.remove()
    assert stops_of(app, pending_order.order_id) >= 1
    version, _ = plan_version(app, pending_order.order_id)
    with app.app_context():
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(seconds=1)) == 1
        assert services.expire_unpaid(now=pending_order.expires_at + timedelta(seconds=1)) == 0
    assert plan_version(app, pending_order.order_id) == (version + 1, version + 1)
    assert not planned(app, pending_order.order_id)
    assert stops_of(app, pending_order.order_id) == 0  # no van goes there any more
