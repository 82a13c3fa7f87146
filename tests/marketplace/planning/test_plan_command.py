"""`flask plan` plans the seeded county from the database and stores the plans."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    Order,
    Plan,
    PlanStatus,
    Route,
    Stop,
    UnassignedOrder,
    Warehouse,
)
from marketplace.planning import services as planning


def test_flask_plan_stores_an_active_plan_that_accounts_for_every_open_order(app, seeded):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["plan", "--warehouse", "W-MG", "--seconds", "2"])
    assert result.exit_code == 0, result.output
    assert "W-MG: plan #" in result.output
    with app.app_context():
        warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == "W-MG"))
        plan = db.session.scalar(sa.select(Plan).where(Plan.warehouse_id == warehouse.id, Plan.status == PlanStatus.ACTIVE))
        assert plan is not None
        open_ids = set(db.session.scalars(sa.select(Order.id).where(  # (dispatched ones stay planned)
            Order.warehouse_id == warehouse.id, Order.status.in_(planning.PLANNED_STATUSES))))
        assert open_ids, "the seed leaves open orders for today"
        routed = set(db.session.scalars(sa.select(Stop.order_id).join(Stop.route).where(
            Route.plan_id == plan.id, Stop.kind == "delivery")))
        unassigned = {u.order_id: u for u in db.session.scalars(
            sa.select(UnassignedOrder).where(UnassignedOrder.plan_id == plan.id))}
        # Never dropped silently: every open order is routed or listed with a reason.
        assert routed | set(unassigned) == open_ids
        assert not routed & set(unassigned)
        for missing in unassigned.values():
            assert missing.reason_code and missing.reason
        # A routed delivery is planned before its deadline, on a vehicle of this warehouse.
        for stop in db.session.scalars(sa.select(Stop).join(Stop.route).where(Route.plan_id == plan.id)):
            assert stop.route.vehicle.warehouse_id == warehouse.id
            if stop.deadline_at is not None:
                assert stop.planned_arrival_at <= stop.deadline_at
        alerts = db.session.scalars(sa.select(Alert).where(Alert.plan_id == plan.id)).all()
        assert {a.order_id for a in alerts} == set(unassigned)


def test_planning_again_supersedes_the_previous_plan_without_repeating_alerts(app, seeded):
    runner = app.test_cli_runner()
    for _ in range(2):
        assert runner.invoke(args=["plan", "--warehouse", "W-BJ", "--seconds", "1"]).exit_code == 0
    with app.app_context():
        plans = db.session.scalars(sa.select(Plan).join(Plan.warehouse).where(
            Warehouse.code == "W-BJ", Plan.trigger == "cli").order_by(Plan.id)).all()
        assert [p.status for p in plans] == [PlanStatus.SUPERSEDED, PlanStatus.ACTIVE]
        per_order = db.session.execute(sa.select(Alert.order_id, sa.func.count()).group_by(Alert.order_id)).all()
        assert all(n == 1 for _, n in per_order)


def test_unknown_warehouse_is_a_clear_error(app, seeded):
    result = app.test_cli_runner().invoke(args=["plan", "--warehouse", "W-NOPE"])
    assert result.exit_code != 0
    assert "unknown warehouse W-NOPE" in result.output
