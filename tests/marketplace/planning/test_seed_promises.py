"""The demo county is consistent at any hour: its open orders are ones the promise engine
accepted at their order time (all on a route, on time, none broken), and both demo consumers
have delivered history, on time and late with compensation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Alert, Compensation, Order, Plan, Route, Stop, User
from marketplace.planning import services as planning
from seed import data, load


def _open_and_late(warehouse_ids: list[int]) -> tuple[int, list[str]]:
    open_orders = db.session.scalars(sa.select(Order).where(Order.status.in_(planning.PLANNED_STATUSES))).all()
    problems = []
    for order in open_orders:
        stops = db.session.scalars(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan).where(
            Plan.status == "active", Stop.order_id == order.id, Stop.kind == "delivery")).all()
        if len(stops) != 1:
            problems.append(f"{order.number}: {len(stops)} delivery stops")
        elif stops[0].planned_arrival_at > order.deadline_at:
            problems.append(f"{order.number}: planned {stops[0].planned_arrival_at} after {order.deadline_at}")
        if order.promise_broken_at is not None:
            problems.append(f"{order.number}: broken")
    return len(open_orders), problems


@pytest.mark.parametrize("local_time", ["03:30", "10:30", "19:50", "23:50"])
def test_seeded_open_orders_are_promises_the_engine_keeps(app, clock, local_time):
    from tests.conftest import _wipe as wipe

    clock.at_local(local_time)
    wipe(app)
    with app.app_context():
        load.seed_all(history_days=1, progress=False)
        warehouse_ids = list(db.session.scalars(sa.select(Plan.warehouse_id).where(Plan.status == "active")))
        count, problems = _open_and_late(warehouse_ids)
        assert problems == []
        planning.replan_all(seconds=0.3)
        count_after, problems = _open_and_late(warehouse_ids)
        assert problems == [] and count_after == count
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
            Alert.kind.in_(["unassigned", "promise_broken"]))) == 0
        for account in (a for a in data.DEMO_ACCOUNTS if a["role"] == "consumer"):
            user = db.session.scalar(sa.select(User).where(User.mobile == account["mobile"]))
            delivered = db.session.scalars(sa.select(Order).where(Order.user_id == user.id,
                                                                  Order.status == "delivered")).all()
            assert any(o.delivered_at <= o.deadline_at for o in delivered)
            late = [o for o in delivered if o.delivered_at > o.deadline_at]
            assert late and db.session.scalar(sa.select(sa.func.count()).select_from(Compensation).where(
                Compensation.order_id.in_([o.id for o in late]))) >= 1
    wipe(app)
