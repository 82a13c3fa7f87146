"""The simulator's planning on the job queue (``flask simulate --queue celery``), and what each
re-plan cycle cost.

With ``celery`` the simulation's application sends every re-plan cycle to a Celery queue of the
run's own (:class:`PlanningQueue`: ``sim-<hex>`` on the configured Redis), as
``PLANNING_QUEUE=celery`` does in production, and waits for it. The workers plan against the
simulation's database, which must therefore be PostgreSQL. ``--workers N`` starts N of them for
the run, each in a session of its own (Linux's autogroup scheduler shares the CPU between
sessions, not processes: two workers in the simulator's session would share one session's
share; see BENCHMARKS.md, "Planning on the job queue"); with none, the run waits for workers
someone starts, and prints how.

The simulated clock: a cycle's ``now`` travels with its tasks (``planning.replan_all(now=…)``),
so any worker plans as of the simulated time. The workers started here run
``python -m marketplace.simulation.planning_queue`` (Celery's worker, the same tasks) which also
stops the worker's clock at that ``now`` while a task runs — what it writes (plans, events,
alerts) is stamped with simulated times, as when planning runs in the simulator's process —
and records each task's real start and end in Redis, from which a cycle's queue wait is measured.
A plain ``celery -A marketplace.tasks worker`` plans the same, but stamps its rows with its own
clock and its wait is read from the planning runs it records.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
#: Redis key of a cycle's task timings (a hash: warehouse id -> {"start", "end", "worker"}, real epoch seconds)
TIMINGS_KEY = "shanhuo-sim:{queue}:{cycle}"
WORKER_START_S = 90


class QueueRefused(Exception):
    """The queue cannot run this simulation (its database is not one workers can share)."""


def real_time() -> float:
    """The wall clock's epoch seconds, whatever clock the simulation has stopped."""
    import time_machine

    return time_machine.escape_hatch.time.time()


def refuse_sqlite(url: str) -> None:
    if sa.engine.make_url(url).get_backend_name() != "postgresql":
        raise QueueRefused(
            "--queue celery plans on worker processes, which share the simulation's database: it must be "
            "PostgreSQL, not SQLite. Give --database-url postgresql://… (an empty database), or --queue inline.")


@dataclass
class Cycle:
    """One re-plan cycle: when (simulated), its wall seconds, warehouses and plans, and on the
    queue where its time went (seconds; None in-process)."""

    at: str
    wall_s: float
    warehouses: int
    plans_stored: int
    solve_s: float  # the stored plans' solves, summed
    queue_wait_s: float | None = None  # mean over its tasks: sent -> a worker started it
    queue_wait_max_s: float | None = None
    busy_s: float | None = None  # the tasks' run times, summed (build, solve, store)
    result_wait_s: float | None = None  # the last task's end -> the simulator had every result


def _p(values: list[float], q: float) -> float | None:
    from .kpi import percentile

    value = percentile(values, q)
    return None if value is None else round(value, 3)


def for_settings(settings) -> PlanningQueue:
    """The queue of a simulation's :class:`~.engine.Settings`."""
    return PlanningQueue(mode=settings.queue, workers=settings.workers, broker_url=settings.broker_url,
                         result_backend=settings.result_backend)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class PlanningQueue:
    """The run's planning: ``inline`` (in the simulator's process) or ``celery`` (a queue of its
    own, ``workers`` started here or by someone else)."""

    mode: str = "inline"
    workers: int = 0
    broker_url: str = "redis://127.0.0.1:6379/1"
    result_backend: str = "redis://127.0.0.1:6379/2"
    name: str = field(default_factory=lambda: f"sim-{uuid.uuid4().hex[:8]}")
    cycles: list[Cycle] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)
    logs: Path | None = None
    url: str = ""

    # -- set-up --
    def check(self, url: str) -> None:
        self.url = url
        if self.mode == "celery":
            refuse_sqlite(url)

    def config(self) -> dict[str, Any]:
        """The simulation app's configuration for this queue."""
        if self.mode != "celery":
            return {"PLANNING_QUEUE": "inline"}
        return {"PLANNING_QUEUE": "celery", "PLANNING_QUEUE_NAME": self.name, "CELERY_BROKER_URL": self.broker_url,
                "CELERY_RESULT_BACKEND": self.result_backend}

    def worker_env(self) -> dict[str, str]:
        return {**os.environ, **self.config(), "DATABASE_URL": self.url, "SCHEDULER_ENABLED": "0",
                "LOG_LEVEL": "WARNING", "SECRET_KEY": uuid.uuid4().hex, "RATELIMIT_STORAGE_URI": "memory://",
                "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}

    def worker_command(self, name: str) -> list[str]:
        return [sys.executable, "-m", "marketplace.simulation.planning_queue", "-c", "1", "--pool=solo",
                "-Q", self.name, "-n", name, "--without-gossip", "--without-mingle", "--without-heartbeat",
                "-l", "WARNING"]

    def how_to_start(self) -> str:
        """The command that starts a worker for this run (for ``--workers 0``)."""
        env = {k: v for k, v in self.worker_env().items() if k in (*self.config(), "DATABASE_URL", "SCHEDULER_ENABLED")}
        return " ".join(f"{k}={v}" for k, v in env.items()) + \
            f" .venv/bin/python -m marketplace.simulation.planning_queue -c 1 --pool=solo -Q {self.name}"

    def start(self, app, say=_say) -> None:
        """Start ``workers`` processes (or wait for workers started by hand) and return once they
        consume the queue. Call before the simulated clock stops (waiting needs the real one)."""
        if self.mode != "celery":
            return
        from .. import tasks

        tasks.init_app(app)
        self.logs = Path(tempfile.mkdtemp(prefix="shanhuo-sim-workers-"))
        names = [f"sim{i}-{self.name}@{os.uname().nodename}" for i in range(self.workers)]
        env = self.worker_env()
        for name in names:
            with open(self.logs / f"{name.split('@')[0]}.log", "wb") as log:
                self.processes.append(subprocess.Popen(self.worker_command(name), cwd=ROOT, env=env, stdout=log,
                                                       stderr=subprocess.STDOUT, start_new_session=True))
        if not names:
            say(f"waiting for planning workers on queue {self.name}; start one or more with\n  {self.how_to_start()}")
        deadline = time.monotonic() + (WORKER_START_S if names else 3600)
        while True:
            ready = self.consumers()
            if (names and set(names) <= ready) or (not names and ready):
                return
            failed = [p for p in self.processes if p.poll() is not None]
            if failed or time.monotonic() > deadline:
                tail = "\n".join(f.read_text(errors="replace")[-2000:] for f in sorted(self.logs.glob("*.log")))
                self.stop()
                raise RuntimeError(f"the planning workers did not start:\n{tail}")
            time.sleep(0.5)

    def consumers(self) -> set[str]:
        """Workers consuming this run's queue now."""
        from .. import tasks

        replies = tasks.celery.control.inspect(timeout=1.0).active_queues() or {}
        return {worker for worker, queues in replies.items() if any(q.get("name") == self.name for q in queues)}

    def stop(self) -> None:
        """Stop the workers started here (by their ids) and remove the run's queue from Redis."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes = []
        if self.mode == "celery":
            try:
                import redis

                broker = redis.Redis.from_url(self.broker_url)
                broker.delete(self.name, f"_kombu.binding.{self.name}", f"_kombu.binding_permanent.{self.name}")
            except Exception:  # (the queue's leftovers expire with Redis's own policy)
                pass

    # -- the cycles --
    def record(self, cycle: str, at: datetime, sent: float, wall: float, plan_ids: list[int | None]) -> Cycle:
        """Record a cycle the simulator ran: ``sent`` (real epoch seconds) when it began,
        ``wall`` seconds it took, the ids replan_all returned."""
        from ..extensions import db
        from ..models import Plan

        stored = [p for p in plan_ids if p is not None]
        solve = float(db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Plan.solve_seconds), 0.0))
                                        .where(Plan.id.in_(stored)))) if stored else 0.0
        row = Cycle(at=at.isoformat(), wall_s=round(wall, 3), warehouses=len(plan_ids), plans_stored=len(stored),
                    solve_s=round(solve, 3))
        if self.mode == "celery":
            runs = self._task_times(cycle)
            if runs:
                waits = [start - sent for start, _end in runs]
                row.queue_wait_s = round(sum(waits) / len(waits), 3)
                row.queue_wait_max_s = round(max(waits), 3)
                row.busy_s = round(sum(end - start for start, end in runs), 3)
                row.result_wait_s = round(sent + wall - max(end for _s, end in runs), 3)
        self.cycles.append(row)
        return row

    def _task_times(self, cycle: str) -> list[tuple[float, float]]:
        """(start, end) real epoch seconds of the cycle's tasks: from the timings our workers
        record in Redis, else from the planning runs plain workers stamp with their own clock."""
        try:
            import redis

            store = redis.Redis.from_url(self.broker_url)
            key = TIMINGS_KEY.format(queue=self.name, cycle=cycle)
            found = store.hgetall(key)
            store.delete(key)
        except Exception:
            found = {}
        if found:
            return [(t["start"], t["end"]) for t in (json.loads(v) for v in found.values())]
        from ..extensions import db
        from ..models import PlanningRun

        return [(r.started_at.timestamp(), r.finished_at.timestamp()) for r in db.session.scalars(
            sa.select(PlanningRun).where(PlanningRun.cycle == cycle)) if r.finished_at is not None]

    def report(self) -> dict[str, Any]:
        c = self.cycles
        walls = [x.wall_s for x in c]
        out: dict[str, Any] = {
            "queue": self.mode, "workers": self.workers if self.mode == "celery" else 0, "cycles": len(c),
            "warehouses": max((x.warehouses for x in c), default=0),
            "cycle_wall_s": {"p50": _p(walls, 0.5), "p95": _p(walls, 0.95), "max": max(walls, default=None)},
            "plans_stored_per_cycle": {"p50": _p([x.plans_stored for x in c], 0.5),
                                       "min": min((x.plans_stored for x in c), default=None)},
            "solve_s_per_cycle_p50": _p([x.solve_s for x in c], 0.5),
        }
        if self.mode == "celery":
            timed = [x for x in c if x.busy_s is not None]
            out.update({
                "queue_wait_s": {"p50": _p([x.queue_wait_s for x in timed], 0.5),
                                 "p95": _p([x.queue_wait_s for x in timed], 0.95),
                                 "max_task_p50": _p([x.queue_wait_max_s for x in timed], 0.5)},
                "worker_busy_s_per_cycle_p50": _p([x.busy_s for x in timed], 0.5),
                "build_and_store_s_per_cycle_p50": _p([x.busy_s - x.solve_s for x in timed], 0.5),
                "result_wait_s_p50": _p([x.result_wait_s for x in timed], 0.5),
            })
        else:
            out["build_and_store_s_per_cycle_p50"] = _p([x.wall_s - x.solve_s for x in c], 0.5)
        out["per_cycle"] = [asdict(x) for x in c]
        return out


def render(r: dict[str, Any]) -> str:
    """The planning cycles' lines for the terminal."""
    w = r["cycle_wall_s"]
    lines = [f"planning {r['queue']}" + (f" ({r['workers']} workers started here)" if r["workers"] else "")
             + f": {r['cycles']} cycles of {r['warehouses']} warehouses; wall p50 {w['p50']} s, p95 {w['p95']} s,"
             f" max {w['max']} s; plans stored per cycle p50 {r['plans_stored_per_cycle']['p50']}"
             f" (min {r['plans_stored_per_cycle']['min']}); solve {r['solve_s_per_cycle_p50']} s and build+store"
             f" {r['build_and_store_s_per_cycle_p50']} s a cycle (p50)"]
    if r["queue"] == "celery" and r.get("queue_wait_s"):
        q = r["queue_wait_s"]
        lines.append(f"  on the queue: a task waited p50 {q['p50']} s (p95 {q['p95']} s; the cycle's last one p50"
                     f" {q['max_task_p50']} s), workers busy {r['worker_busy_s_per_cycle_p50']} s a cycle, results back"
                     f" {r['result_wait_s_p50']} s after the last task ended (p50)")
    return "\n".join(lines)


# --- the worker -----------------------------------------------------------------------------------


def worker_main(argv: list[str]) -> int:
    """``python -m marketplace.simulation.planning_queue <celery worker options>``: Celery's
    worker for ``marketplace.tasks``, on the simulated clock of each task's ``now`` while it runs,
    recording each task's real start and end in Redis (see the module's docstring)."""
    import time_machine
    from celery.__main__ import main as celery_main

    from .. import tasks

    original = tasks.plan_once
    broker = os.environ.get("CELERY_BROKER_URL", "")
    queue = os.environ.get("PLANNING_QUEUE_NAME", "planning")

    def plan_once(warehouse_id: int, *, seconds: float, trigger, cycle: str, worker: str,
                  now: datetime | None = None) -> dict[str, Any]:
        start = time.time()
        if now is None:
            outcome = original(warehouse_id, seconds=seconds, trigger=trigger, cycle=cycle, worker=worker)
        else:
            with time_machine.travel(now, tick=False):
                outcome = original(warehouse_id, seconds=seconds, trigger=trigger, cycle=cycle, worker=worker, now=now)
        end = time.time()
        if broker.startswith("redis"):
            import redis

            key = TIMINGS_KEY.format(queue=queue, cycle=cycle)
            store = redis.Redis.from_url(broker)
            store.hset(key, str(warehouse_id), json.dumps({"start": start, "end": end, "worker": worker}))
            store.expire(key, 24 * 3600)
        return outcome

    tasks.plan_once = plan_once  # (plan_warehouse_task looks it up when it runs)
    sys.argv = ["celery", "-A", "marketplace.tasks", "worker", *argv]
    return celery_main()


if __name__ == "__main__":
    sys.exit(worker_main(sys.argv[1:]))
