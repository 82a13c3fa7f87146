"""Planning on a distributed job queue (Celery, Redis as broker and result store).

With ``PLANNING_QUEUE = "celery"`` the re-plan job (:func:`marketplace.planning.services.replan_all`)
sends one task per warehouse to the queue ``PLANNING_QUEUE_NAME``, and workers on any server plan
the warehouses in parallel; the embedded default plans in-process. Start a worker with

    celery -A marketplace.tasks worker -c 1 -Q planning

in the same environment as the web servers (DATABASE_URL, CELERY_BROKER_URL…): it builds the
Flask application from it, and every task runs inside its application context.

Exactly once per planning cycle: a task is acknowledged only after it ran (``acks_late``: the
message of a worker lost mid-task is delivered again), and only the worker that inserts the
(warehouse, cycle) row of :class:`~marketplace.planning.models.PlanningRun` plans; a message
delivered or sent twice finds the row and plans nothing.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from celery import Celery, Task, group, signals
from celery.exceptions import TimeoutError as ResultTimeout
from celery.result import GroupResult
from flask import Flask, current_app, has_app_context

from .columns import utcnow
from .config import Config
from .dispatch.models import Alert, AlertSeverity, PlanTrigger
from .errors import NotFound
from .extensions import db
from .logistics.models import Warehouse
from .planning import services as planning
from .planning.models import PlanningRun, PlanningRunStatus

log = logging.getLogger("shanhuo.tasks")

#: how long a claim outlasts its solve's time limit before a redelivered message may take it over
#: (its worker was lost while planning: killed, out of memory, its server gone)
LEASE_MARGIN = timedelta(minutes=10)
#: the alert that says a warehouse keeps its plan this cycle (the same kind plan_warehouse raises)
ALERT_KIND = "replan_failed"
ALERT_MESSAGES = {
    "timeout": "re-plan not finished on the planning queue in time; the current plan stays",
    "error": "re-plan failed on the planning queue; the current plan stays",
}


def celery_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    """Celery's settings from the Flask configuration."""
    return {
        "broker_url": config["CELERY_BROKER_URL"],
        "result_backend": config["CELERY_RESULT_BACKEND"],
        "task_default_queue": config["PLANNING_QUEUE_NAME"],
        "task_serializer": "json",
        "result_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,  # acknowledged once run: a lost worker's message comes again
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,  # one warehouse held per worker: the rest go to idle ones
        "result_expires": 24 * 3600,
        "broker_connection_retry_on_startup": True,
        "timezone": "UTC",
    }


class FlaskTask(Task):
    """A task that runs inside the Flask application's context (database session, config, logs)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if has_app_context():  # (called from the application itself)
            return self.run(*args, **kwargs)
        with flask_app().app_context():
            return self.run(*args, **kwargs)


celery = Celery("shanhuo", task_cls=FlaskTask)
# a worker reads the same environment as the web servers (the Flask app's config replaces these
# values with its own in init_app)
celery.conf.update(celery_settings({key: getattr(Config, key) for key in dir(Config) if key.isupper()}))
_bound: dict[str, Flask] = {}


def init_app(app: Flask) -> Celery:
    """Configure the Celery app from ``app``'s config; tasks run in ``app``'s context."""
    settings = celery_settings(app.config)
    if any(celery.conf.get(key) != value for key, value in settings.items()):
        celery.conf.update(settings)
    _bound["app"] = app
    app.extensions["celery"] = celery
    return celery


def flask_app() -> Flask:
    """The Flask app tasks run in: the one bound by :func:`init_app`, else (in a worker) one built
    from the environment."""
    app = _bound.get("app")
    if app is None:
        from . import create_app

        app = create_app()
        init_app(app)
    return app


@signals.worker_init.connect
def _build_app_in_worker(**_: Any) -> None:
    flask_app()  # once per worker, before its first task (a broken configuration shows at start)


@signals.worker_process_init.connect
def _fresh_connections_in_child(**_: Any) -> None:
    with flask_app().app_context():
        db.engine.dispose(close=False)  # a forked pool child never shares its parent's connections


# --- one warehouse, once per cycle -----------------------------------------------------------------


@celery.task(bind=True, name="shanhuo.plan_warehouse", acks_late=True, reject_on_worker_lost=True)
def plan_warehouse_task(self: Task, warehouse_id: int, seconds: float, trigger: str, cycle: str,
                        now: str | None = None) -> dict[str, Any]:
    """Re-plan one warehouse for one planning cycle, unless that is done already (see plan_once).
    ``now``: the cycle's time (ISO 8601), when the sender's clock is not the worker's (a simulated
    day); by default the worker's clock."""
    return plan_once(warehouse_id, seconds=seconds, trigger=PlanTrigger(trigger), cycle=cycle,
                     worker=self.request.hostname or "worker", now=datetime.fromisoformat(now) if now else None)


def plan_once(warehouse_id: int, *, seconds: float, trigger: PlanTrigger, cycle: str, worker: str,
              now: datetime | None = None) -> dict[str, Any]:
    """Plan ``warehouse_id`` for ``cycle`` (as of ``now``; default: the clock's) if this call
    claims the (warehouse, cycle) run; a failure keeps the active plan, is recorded on the run
    and raises an alert. Returns what happened: ``status`` planned, failed or duplicate (the
    cycle was claimed before; ``run``: that run's status: running, done or failed), and the
    stored plan's id (None: the active plan stayed, or the cycle's run is not done)."""
    outcome: dict[str, Any] = {"warehouse_id": warehouse_id, "cycle": cycle, "worker": worker}
    run_id = claim(warehouse_id, cycle, worker, seconds)
    if run_id is None:
        run = db.session.scalar(sa.select(PlanningRun).where(PlanningRun.warehouse_id == warehouse_id,
                                                             PlanningRun.cycle == cycle))
        log.info("warehouse already planned this cycle", extra={"warehouse_id": warehouse_id, "cycle": cycle})
        return {**outcome, "status": "duplicate", "run": run.status.value if run else None,
                "plan_id": run.plan_id if run else None}
    try:
        plan = planning.plan_warehouse(warehouse_id, seconds=seconds, trigger=trigger, now=now)
        plan_id = plan.id if plan is not None else None
    except Exception as error:
        db.session.rollback()
        log.exception("re-plan on the queue failed; the active plan stays",
                      extra={"warehouse_id": warehouse_id, "cycle": cycle})
        detail = f"{type(error).__name__}: {error}"[:300]
        _finish(run_id, PlanningRunStatus.FAILED, error=detail)
        alert_kept_plan(warehouse_id, cycle, "error", detail)
        return {**outcome, "status": "failed", "plan_id": None, "error": detail}
    _finish(run_id, PlanningRunStatus.DONE, plan_id=plan_id)
    return {**outcome, "status": "planned", "plan_id": plan_id}


def claim(warehouse_id: int, cycle: str, worker: str, seconds: float) -> int | None:
    """The id of the run this caller now holds for (warehouse, cycle), or None: another caller
    holds it, or ran it. A running claim whose lease ran out (its worker was lost) is taken over."""
    now = utcnow()
    lease_until = now + timedelta(seconds=2 * seconds) + LEASE_MARGIN
    run = PlanningRun(warehouse_id=warehouse_id, cycle=cycle, status=PlanningRunStatus.RUNNING,
                      worker=worker[:160], attempts=1, started_at=now, lease_until=lease_until)
    db.session.add(run)
    try:
        db.session.commit()
        return run.id
    except sa.exc.IntegrityError:
        db.session.rollback()
    taken = db.session.execute(
        sa.update(PlanningRun)
        .where(PlanningRun.warehouse_id == warehouse_id, PlanningRun.cycle == cycle,
               PlanningRun.status == PlanningRunStatus.RUNNING, PlanningRun.lease_until < now)
        .values(worker=worker[:160], started_at=now, lease_until=lease_until, attempts=PlanningRun.attempts + 1)
        .returning(PlanningRun.id)).scalar()
    db.session.commit()
    if taken is None and db.session.get(Warehouse, warehouse_id) is None:
        raise NotFound()  # (the insert failed for want of the warehouse, not a claim)
    return taken


def _finish(run_id: int, status: PlanningRunStatus, plan_id: int | None = None, error: str | None = None) -> None:
    db.session.execute(sa.update(PlanningRun).where(PlanningRun.id == run_id).values(
        status=status, plan_id=plan_id, error=error, finished_at=utcnow()))
    db.session.commit()


def alert_kept_plan(warehouse_id: int, cycle: str, reason: str, detail: str = "") -> None:
    """Tell the dispatchers that ``warehouse_id`` keeps its current plan this cycle (``reason``:
    timeout or error); once while the same alert stands unresolved."""
    message = ALERT_MESSAGES[reason]
    standing = db.session.scalar(sa.select(Alert.id).where(
        Alert.kind == ALERT_KIND, Alert.warehouse_id == warehouse_id, Alert.message == message,
        Alert.resolved_at.is_(None)).limit(1))
    if standing is None:
        db.session.add(Alert(kind=ALERT_KIND, severity=AlertSeverity.WARNING, warehouse_id=warehouse_id,
                             plan_id=planning.active_plan_id(warehouse_id), message=message,
                             data={"cycle": cycle, "reason": reason, "error": detail}))
    db.session.commit()


# --- a planning cycle: every warehouse ------------------------------------------------------------


def default_cycle() -> str:
    """The planning cycle of a re-plan job: inside a scheduled run, its run key (the fire time, the
    same for every runner that fires it; ``manual:<time>`` for an operator's "run now"), else a
    cycle of its own."""
    from .scheduler import current_run

    run = current_run()
    return run.run_key if run is not None else new_cycle()


def new_cycle(label: str = "cycle") -> str:
    """A cycle of its own (a re-plan outside the schedule: a dispatcher's "re-plan now")."""
    return f"{label}-{utcnow():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"


def send_cycle(warehouse_ids: Sequence[int], *, seconds: float, cycle: str,
               trigger: PlanTrigger = PlanTrigger.SCHEDULE, now: datetime | None = None) -> GroupResult:
    """Send one planning task per warehouse for ``cycle`` (planned as of ``now``, when given:
    the workers' clocks are not the sender's); the group's results (its id restores
    it: ``GroupResult.restore(id, app=celery)``)."""
    extra = {"now": now.isoformat()} if now is not None else {}  # (a message without it: any worker's version)
    result = group(plan_warehouse_task.s(wid, seconds, trigger.value, cycle, **extra)
                   for wid in warehouse_ids).apply_async()
    result.save()
    return result


def collect(result: GroupResult, timeout: float) -> list[Any]:
    """Each task's outcome (a dict, or the exception it raised), None for those not finished
    within ``timeout`` seconds in all."""
    deadline = time.monotonic() + timeout
    outcomes: list[Any] = []
    for child in result.results:
        try:
            outcomes.append(child.get(timeout=max(0.01, deadline - time.monotonic()), propagate=False))
        except ResultTimeout:
            outcomes.append(None)
    return outcomes


def replan_all(warehouse_ids: Sequence[int], *, seconds: float, cycle: str | None = None,
               timeout: float | None = None, now: datetime | None = None) -> list[int | None]:
    """A planning cycle on the queue (as of ``now``, see :func:`send_cycle`): one task per
    warehouse, then wait for them, at most ``timeout`` seconds (default: nine tenths of
    REPLAN_MINUTES, before the next cycle is due). The new plans' ids in the order of ``warehouse_ids``; None where the active plan stays (kept
    by the planner; the task failed or did not finish in time: those raise an alert) or another
    sender's message for the cycle is still planning the warehouse."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    init_app(app)
    cycle = cycle or default_cycle()
    if timeout is None:
        timeout = 0.9 * 60 * app.config["REPLAN_MINUTES"]
    outcomes = collect(send_cycle(warehouse_ids, seconds=seconds, cycle=cycle, now=now), timeout)
    plan_ids: list[int | None] = []
    for warehouse_id, outcome in zip(warehouse_ids, outcomes, strict=True):
        if isinstance(outcome, dict):
            plan_ids.append(outcome.get("plan_id"))
            continue
        plan_ids.append(None)
        if outcome is None:
            log.warning("re-plan not finished in time", extra={"warehouse_id": warehouse_id, "cycle": cycle})
            alert_kept_plan(warehouse_id, cycle, "timeout", f"{timeout:.0f} s")
        else:  # the task raised outside plan_once's care (its worker lost, the database gone…)
            log.error("re-plan task failed", extra={"warehouse_id": warehouse_id, "cycle": cycle,
                                                    "error": repr(outcome)})
            alert_kept_plan(warehouse_id, cycle, "error", f"{type(outcome).__name__}: {outcome}"[:300])
    return plan_ids
