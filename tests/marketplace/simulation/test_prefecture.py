"""The simulator at prefecture scale (marketplace/simulation/prefecture.py) and on the job queue
(planning_queue.py): 18 warehouses whose copies do not collide, celery refused on SQLite, and a
cycle's simulated ``now`` reaching the planner through the queue's task."""

from __future__ import annotations

import json
from datetime import timedelta

import sqlalchemy as sa

from marketplace import tasks
from marketplace.extensions import db
from marketplace.models import Plan, Warehouse
from marketplace.planning import services as planning
from tests.conftest import session_instant

SECONDS = 0.2


def _warehouse_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Warehouse.id).where(Warehouse.active.is_(True)).order_by(Warehouse.id)))


def test_a_cycles_now_reaches_the_planner_through_the_queue_task(app, seeded, monkeypatch):
    # a time the worker's clock is not at: the plan starts its horizon there
    now = (session_instant() + timedelta(hours=1, minutes=7)).replace(microsecond=0)
    with app.app_context():
        ids = _warehouse_ids()
        outcome = tasks.plan_warehouse_task(ids[0], SECONDS, "schedule", "c-direct", now=now.isoformat())
        assert outcome["status"] == "planned"
        assert db.session.get(Plan, outcome["plan_id"]).horizon_start == now

        # the whole way: the re-plan job on the queue sends it in each message (as JSON), the
        # task gives it to the planner (run eagerly here: no worker, no broker)
        later = now + timedelta(minutes=5)
        for key, value in {"PLANNING_QUEUE": "celery", "CELERY_BROKER_URL": "memory://",
                           "CELERY_RESULT_BACKEND": "cache+memory://"}.items():
            monkeypatch.setitem(app.config, key, value)
        for key in ("broker_url", "result_backend", "task_always_eager"):
            monkeypatch.setitem(tasks.celery.conf, key, tasks.celery.conf[key])  # (restored after the test)
        tasks.celery.conf["task_always_eager"] = True
        sent = []
        real_group = tasks.group

        def spy(signatures):
            signatures = list(signatures)
            sent.extend(signatures)
            return real_group(signatures)

        monkeypatch.setattr(tasks, "group", spy)
        plan_ids = planning.replan_all(seconds=SECONDS, cycle="c-queue", now=later)
        assert [json.loads(json.dumps(s.kwargs)) for s in sent] == [{"now": later.isoformat()}] * len(ids)
        assert None not in plan_ids and len(plan_ids) == len(ids)
        starts = db.session.scalars(sa.select(Plan.horizon_start).where(Plan.id.in_(plan_ids))).all()
        assert starts == [later] * len(ids)
