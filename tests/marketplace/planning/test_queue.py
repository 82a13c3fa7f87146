"""Planning on the Celery queue (marketplace.tasks): a warehouse is planned once per planning
cycle however many times its message comes, by two real worker processes against Redis and
PostgreSQL; a failed or unfinished re-plan keeps the active plan and raises an alert.

The claim tests run in-process on any database; the worker tests need PostgreSQL (the session
database, TEST_DATABASE_URL) and Redis at 127.0.0.1:6379, and are skipped without them."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from marketplace import tasks
from marketplace.extensions import db
from marketplace.models import (
    Alert,
    Order,
    Plan,
    PlanningRun,
    PlanningRunStatus,
    PlanStatus,
    PlanTrigger,
    Route,
    Stop,
    UnassignedOrder,
    Warehouse,
)
from marketplace.planning import services as planning

ROOT = Path(__file__).resolve().parents[3]
REDIS = "redis://127.0.0.1:6379"
BROKER, RESULTS = f"{REDIS}/11", f"{REDIS}/12"  # throwaway database numbers; a queue per test run
SECONDS = 0.5  # solve time limit per warehouse

#: a worker process on the test's clock (the seeded county's "now"), else the real `celery` command
WORKER_MAIN = (
    "import sys, time_machine; from datetime import datetime;"
    "time_machine.travel(datetime.fromisoformat(sys.argv.pop(1)), tick=True).start();"
    "from celery.__main__ import main; sys.argv[0] = 'celery'; sys.exit(main())"
)


def _warehouse_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Warehouse.id).where(Warehouse.active.is_(True)).order_by(Warehouse.id)))


def _plans_of(warehouse_id: int, after: int) -> list[int]:
    return list(db.session.scalars(sa.select(Plan.id).where(Plan.warehouse_id == warehouse_id, Plan.id > after)))


def _last_plan_id() -> int:
    return db.session.scalar(sa.select(sa.func.max(Plan.id))) or 0


def assert_plan_accounts_for_every_open_order(warehouse_id: int, plan_id: int) -> None:
    """The warehouse's active plan is ``plan_id``, and it routes or lists with a reason every
    open order, each delivery on a van of the warehouse before its deadline (as `flask plan`)."""
    assert planning.active_plan_id(warehouse_id) == plan_id
    open_ids = set(db.session.scalars(sa.select(Order.id).where(
        Order.warehouse_id == warehouse_id, Order.status.in_(planning.PLANNED_STATUSES))))
    routed = set(db.session.scalars(sa.select(Stop.order_id).join(Stop.route).where(
        Route.plan_id == plan_id, Stop.kind == "delivery")))
    unassigned = {u.order_id: u for u in db.session.scalars(
        sa.select(UnassignedOrder).where(UnassignedOrder.plan_id == plan_id))}
    assert routed | set(unassigned) == open_ids
    assert not routed & set(unassigned)
    assert all(u.reason_code and u.reason for u in unassigned.values())
    for stop in db.session.scalars(sa.select(Stop).join(Stop.route).where(Route.plan_id == plan_id)):
        assert stop.route.vehicle.warehouse_id == warehouse_id
        if stop.deadline_at is not None:
            assert stop.planned_arrival_at <= stop.deadline_at


# --- the claim, in-process ---------------------------------------------------------------------


def test_a_cycle_is_planned_once_however_often_its_task_runs(app, seeded):
    with app.app_context():
        ids = _warehouse_ids()
        last = _last_plan_id()
        first = [tasks.plan_once(w, seconds=SECONDS, trigger=PlanTrigger.SCHEDULE, cycle="c1", worker="a") for w in ids]
        again = [tasks.plan_once(w, seconds=SECONDS, trigger=PlanTrigger.SCHEDULE, cycle="c1", worker="b") for w in ids]
        assert [o["status"] for o in first] == ["planned"] * len(ids)
        assert [o["status"] for o in again] == ["duplicate"] * len(ids)
        assert [o["plan_id"] for o in again] == [o["plan_id"] for o in first]
        for warehouse_id, outcome in zip(ids, first, strict=True):
            assert _plans_of(warehouse_id, last) == [outcome["plan_id"]]
            assert_plan_accounts_for_every_open_order(warehouse_id, outcome["plan_id"])
        runs = db.session.scalars(sa.select(PlanningRun).order_by(PlanningRun.warehouse_id)).all()
        assert [(r.warehouse_id, r.cycle, r.status, r.worker, r.attempts) for r in runs] == [
            (w, "c1", PlanningRunStatus.DONE, "a", 1) for w in ids]
        # the next cycle plans again
        nxt = tasks.plan_once(ids[0], seconds=SECONDS, trigger=PlanTrigger.SCHEDULE, cycle="c2", worker="b")
        assert nxt["status"] == "planned" and nxt["plan_id"] not in {o["plan_id"] for o in first}


def test_a_claim_whose_worker_was_lost_is_taken_over_only_after_its_lease(app, seeded, clock):
    with app.app_context():
        warehouse_id = _warehouse_ids()[0]
        held = tasks.claim(warehouse_id, "c1", "lost-worker", seconds=SECONDS)  # and then it died
        assert held is not None
        assert tasks.claim(warehouse_id, "c1", "other", seconds=SECONDS) is None  # still planning?
        clock.shift(tasks.LEASE_MARGIN + timedelta(seconds=2 * SECONDS + 1))
        outcome = tasks.plan_once(warehouse_id, seconds=SECONDS, trigger=PlanTrigger.SCHEDULE, cycle="c1",
                                  worker="redelivered")
        assert outcome["status"] == "planned"
        run = db.session.scalar(sa.select(PlanningRun))
        assert (run.id, run.worker, run.attempts, run.status, run.plan_id) == (
            held, "redelivered", 2, PlanningRunStatus.DONE, outcome["plan_id"])
        assert tasks.claim(warehouse_id, "c1", "late", seconds=SECONDS) is None  # done is done


def test_a_failed_run_keeps_the_active_plan_and_alerts_once(app, seeded, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away while storing")

    monkeypatch.setattr(planning, "plan_warehouse", broken)
    with app.app_context():
        warehouse_id = _warehouse_ids()[0]
        active = planning.active_plan_id(warehouse_id)
        for cycle in ("c1", "c2"):
            outcome = tasks.plan_once(warehouse_id, seconds=SECONDS, trigger=PlanTrigger.SCHEDULE, cycle=cycle,
                                      worker="a")
            assert outcome["status"] == "failed" and "database went away" in outcome["error"]
        assert planning.active_plan_id(warehouse_id) == active
        runs = db.session.scalars(sa.select(PlanningRun)).all()
        assert {(r.cycle, r.status) for r in runs} == {("c1", PlanningRunStatus.FAILED), ("c2", PlanningRunStatus.FAILED)}
        alerts = db.session.scalars(sa.select(Alert).where(Alert.kind == "replan_failed")).all()
        assert len(alerts) == 1  # one standing alert, not one per cycle
        assert (alerts[0].warehouse_id, alerts[0].plan_id, alerts[0].data["reason"]) == (warehouse_id, active, "error")


def test_the_cycle_is_the_scheduled_runs_fire_time_else_a_cycle_of_its_own(monkeypatch):
    from marketplace import scheduler

    assert tasks.default_cycle() != tasks.default_cycle()  # outside a scheduled run: each call its own
    run = SimpleNamespace(job_id="replan", run_key="2026-12-01T02:30:00Z", scheduled_at=None, run_id=1)
    monkeypatch.setattr(scheduler, "current_run", lambda: run)
    assert tasks.default_cycle() == tasks.default_cycle() == "2026-12-01T02:30:00Z"  # every runner of it


# --- two real workers ---------------------------------------------------------------------------


def _redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(REDIS, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture
def on_queue(app, monkeypatch):
    """The app sends planning to a queue of this test's own (a PostgreSQL session and Redis
    needed); ``start(n)`` starts n worker processes on it, stopped by their ids at the end."""
    if sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        pytest.skip("two workers against one database: PostgreSQL only (TEST_DATABASE_URL)")
    if not _redis_up():
        pytest.skip("no Redis at 127.0.0.1:6379")
    queue = f"planning-test-{uuid.uuid4().hex[:10]}"
    settings = {"PLANNING_QUEUE": "celery", "PLANNING_QUEUE_NAME": queue, "CELERY_BROKER_URL": BROKER,
                "CELERY_RESULT_BACKEND": RESULTS}
    for key, value in settings.items():
        monkeypatch.setitem(app.config, key, value)
    tasks.init_app(app)
    workers: list[tuple[str, subprocess.Popen, Path]] = []

    def start(n: int, tmp: Path) -> list[str]:
        env = {**os.environ, **settings, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
               "SECRET_KEY": app.config["SECRET_KEY"], "LOG_LEVEL": "WARNING", "SCHEDULER_ENABLED": "0",
               "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
        names = [f"w{i}-{queue}@test" for i in range(n)]
        for name in names:
            log = tmp / f"{name}.log"
            command = [sys.executable, "-c", WORKER_MAIN, datetime.now(UTC).isoformat(),
                       "-A", "marketplace.tasks", "worker", "--pool=solo", "-c", "1", "-Q", queue, "-n", name,
                       "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO"]
            with open(log, "wb") as out:
                workers.append((name, subprocess.Popen(command, cwd=ROOT, env=env, stdout=out,
                                                       stderr=subprocess.STDOUT), log))
        _wait_ready(names)
        return names

    def _wait_ready(names: list[str]) -> None:
        deadline = time.monotonic() + 40
        ready: set[str] = set()
        while time.monotonic() < deadline and ready != set(names):
            for reply in tasks.celery.control.ping(destination=names, timeout=0.5):
                ready |= set(reply)
            for name, process, log in workers:
                assert process.poll() is None, f"worker {name} exited: {log.read_text()[-3000:]}"
        assert ready == set(names), f"workers not ready: {set(names) - ready}"

    yield start
    for _, process, _ in workers:
        process.terminate()
    for _, process, _ in workers:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
    import redis

    redis.Redis.from_url(BROKER).delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def test_two_workers_plan_every_warehouse_exactly_once_per_cycle(app, seeded, on_queue, tmp_path):
    workers = on_queue(2, tmp_path)
    with app.app_context():
        ids = _warehouse_ids()
        last = _last_plan_id()
        db.session.remove()
        # the cycle sent twice (two runners, a retry), and the first warehouse's task once more
        sent = [tasks.send_cycle(ids, seconds=SECONDS, cycle="cycle-1") for _ in range(2)]
        extra = tasks.plan_warehouse_task.apply_async((ids[0], SECONDS, "schedule", "cycle-1"))
        outcomes = [o for group in sent for o in tasks.collect(group, 60)] + [extra.get(timeout=60)]
        assert all(isinstance(o, dict) for o in outcomes), outcomes
        planned = {o["warehouse_id"]: o for o in outcomes if o["status"] == "planned"}
        assert Counter(o["status"] for o in outcomes) == {"planned": len(ids), "duplicate": len(ids) + 1}
        assert sorted(planned) == ids
        assert {o["worker"] for o in outcomes} == set(workers)  # both took messages
        for o in outcomes:  # a duplicate answers with the plan the cycle made, once it is made
            if o["status"] == "duplicate":
                assert o["run"] in {"running", "done"}
                assert o["plan_id"] == (planned[o["warehouse_id"]]["plan_id"] if o["run"] == "done" else None)
        for warehouse_id in ids:
            assert _plans_of(warehouse_id, last) == [planned[warehouse_id]["plan_id"]]
            assert_plan_accounts_for_every_open_order(warehouse_id, planned[warehouse_id]["plan_id"])
        runs = db.session.scalars(sa.select(PlanningRun).where(PlanningRun.cycle == "cycle-1")).all()
        assert sorted((r.warehouse_id, r.status, r.attempts, r.plan_id) for r in runs) == [
            (w, PlanningRunStatus.DONE, 1, planned[w]["plan_id"]) for w in ids]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(Alert.kind == "replan_failed")) == 0


def test_the_replan_job_on_the_queue_plans_each_cycle_once(app, seeded, on_queue, tmp_path):
    on_queue(2, tmp_path)
    with app.app_context():
        ids = _warehouse_ids()
        last = _last_plan_id()
        first = planning.replan_all(seconds=SECONDS, cycle="2026-12-01T02:30Z")
        assert len(first) == len(ids) and None not in first
        again = planning.replan_all(seconds=SECONDS, cycle="2026-12-01T02:30Z")  # a second runner
        assert again == first
        assert [planning.active_plan_id(w) for w in ids] == first
        nxt = planning.replan_all(seconds=SECONDS, cycle="2026-12-01T02:35Z")
        assert None not in nxt and not set(nxt) & set(first)
        now = planning.replan_all(seconds=SECONDS)  # outside the schedule: a cycle of its own
        assert None not in now and not set(now) & set(first + nxt)
        assert sorted(p for w in ids for p in _plans_of(w, last)) == sorted(first + nxt + now)
        for warehouse_id, plan_id in zip(ids, now, strict=True):
            assert_plan_accounts_for_every_open_order(warehouse_id, plan_id)
        assert set(db.session.scalars(sa.select(Plan.status).where(Plan.id.in_(first + nxt)))) == {PlanStatus.SUPERSEDED}


def test_without_workers_the_job_times_out_keeps_the_plans_and_alerts(app, seeded, on_queue):
    with app.app_context():
        ids = _warehouse_ids()
        active = [planning.active_plan_id(w) for w in ids]
        assert tasks.replan_all(ids, seconds=SECONDS, cycle="c1", timeout=1) == [None] * len(ids)
        assert [planning.active_plan_id(w) for w in ids] == active
        alerts = db.session.scalars(sa.select(Alert).where(Alert.kind == "replan_failed").order_by(Alert.warehouse_id))
        assert [(a.warehouse_id, a.plan_id, a.data["reason"], a.resolved_at) for a in alerts] == [
            (w, p, "timeout", None) for w, p in zip(ids, active, strict=True)]
