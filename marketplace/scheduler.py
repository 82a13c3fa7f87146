"""The scheduler: periodic jobs that run exactly once per fire time, however many processes or
servers run the app.

Registering a job
-----------------
The area that owns the work registers it at import time (the signature is stable)::

    register_job(job_id, "package.module:function", minutes=5)      # interval: weeks= days= hours= minutes= seconds=
    register_job(job_id, "package.module:function", trigger="cron", hour=3, minute=0, timezone="Asia/Shanghai")
    register_job(..., misfire_grace_time=600)   # optional: seconds late a fire may still run (default 120)

``func`` is called with no arguments inside an app context and owns its transactions (it
commits; anything it leaves uncommitted is rolled back). It may read :func:`current_run` (job id,
run key, scheduled time) and raise :class:`JobSkipped` to record "skipped" with a reason; any
other exception records "failed" (the error text, bounded). Its return value, if any, is kept as
a short summary. Registering an id again replaces the earlier registration. Interval fire times
are aligned on whole multiples of the interval (every 5 minutes: :00, :05, …); cron triggers
default to Asia/Shanghai.

Exactly once
------------
Every run first claims its fire time by inserting a ``job_runs`` row (UNIQUE job_id, run_key =
the fire time in UTC, to the second); a second claim of the same fire time (two runners racing,
a retry) fails, and the second one runs nothing. The row then records the outcome (ok, failed,
skipped), the start and end times and the runner (host, pid). Operators see the log at
/admin/jobs, with a "run now" button per job that goes through the same claim
(run key ``manual:<time>``).

One runner
----------
The jobs are run by whichever process holds the runner lock: on PostgreSQL a session advisory
lock taken on a dedicated connection kept for the runner's life; on a SQLite file an exclusive
``flock`` on a file next to the database (the embedded single process). A process that does not
get the lock stays on standby and tries again every SCHEDULER_STANDBY_SECONDS, so a standby takes
over when the holder dies (its connection, or file, closes and the lock goes with it). The job
store is APScheduler's SQLAlchemyJobStore on the application database (table ``apscheduler_jobs``,
made by a migration): next run times survive restarts and a takeover; missed fires are coalesced
into one and run if no later than their misfire grace.

Shapes: ``make demo`` runs the runner in the web process (SCHEDULER_ENABLED=1); on one server,
``flask scheduler run`` runs it as its own process and the gunicorn workers keep
SCHEDULER_ENABLED=0 (enabling it there is safe too: one worker wins the lock).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import fcntl
import logging
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from typing import Any

import click
import sqlalchemy as sa
from apscheduler.events import JobExecutionEvent
from apscheduler.executors.base import run_job as _apscheduler_run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.base import BaseJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from flask import Flask, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.pool import NullPool

from .columns import utcnow
from .extensions import db
from .scheduler_models import JobOutcome, JobRun, job_store_table

log = logging.getLogger("shanhuo.scheduler")

JOBS: list[tuple[str, str, dict]] = []  # (job id, "module:function", trigger arguments)

LOCAL_TIMEZONE = "Asia/Shanghai"
#: interval fire times are whole multiples of the interval counted from here
INTERVAL_ANCHOR = datetime(2000, 1, 1, tzinfo=UTC)
DEFAULT_MISFIRE_GRACE = 120  # seconds
MESSAGE_MAX = 2000  # characters of an error, a reason or a summary kept on a run
SUMMARY_MAX = 300
RUN_NOW_WAIT = 10.0  # seconds "run now" waits for the job before showing the page
JOB_RUNS_KEEP_DAYS = 30
#: the PostgreSQL advisory lock of the runner (one per database): "SHANHUO1"
LOCK_KEY = 0x5348_414E_4855_4F31
HOST = socket.gethostname()[:40]
_ID_RE = re.compile(r"[A-Za-z0-9_.:-]{1,64}")


def register_job(job_id: str, func: str, *, trigger: str = "interval", misfire_grace_time: int | None = None,
                 **trigger_args: Any) -> None:
    """Schedule ``func`` ("package.module:function") as ``job_id``: ``trigger="interval"``
    (the default) with weeks/days/hours/minutes/seconds, or ``trigger="cron"`` with
    APScheduler's cron fields (year, month, day, week, day_of_week, hour, minute, second) and
    ``timezone`` (default Asia/Shanghai). See the module's docstring."""
    if not _ID_RE.fullmatch(job_id):
        raise ValueError(f"job id {job_id!r}: letters, digits and _.:- only, at most 64")
    if trigger not in ("interval", "cron"):
        raise ValueError(f"trigger {trigger!r}: 'interval' or 'cron'")
    args = dict(trigger_args)
    if trigger != "interval":
        args["trigger"] = trigger
    if misfire_grace_time is not None:
        args["misfire_grace_time"] = int(misfire_grace_time)
    _trigger(args)  # a bad trigger fails here, at registration, not in the runner
    for i, (known, _func, _args) in enumerate(JOBS):
        if known == job_id:
            JOBS[i] = (job_id, func, args)
            return
    JOBS.append((job_id, func, args))


def registered(job_id: str) -> tuple[str, dict] | None:
    for known, func, args in JOBS:
        if known == job_id:
            return func, args
    return None


def _trigger(args: dict) -> BaseTrigger:
    args = dict(args)
    kind = args.pop("trigger", "interval")
    args.pop("misfire_grace_time", None)
    if kind == "cron":
        args.setdefault("timezone", LOCAL_TIMEZONE)
        return CronTrigger(**args)
    return IntervalTrigger(start_date=INTERVAL_ANCHOR, timezone=UTC, **args)


def describe(args: dict) -> str:
    """The schedule in words, in the page's language."""
    if args.get("trigger") == "cron":
        fields = {k: v for k, v in args.items() if k not in ("trigger", "misfire_grace_time", "timezone")}
        if set(fields) <= {"hour", "minute", "second"} and "hour" in fields:
            at = f"{int(fields['hour']):02d}:{int(fields.get('minute', 0)):02d}"
            return _("daily at %(time)s (%(tz)s)", time=at, tz=args.get("timezone", LOCAL_TIMEZONE))
        return "cron " + " ".join(f"{k}={v}" for k, v in sorted(fields.items()))
    seconds = int(_trigger(args).interval.total_seconds())
    if seconds % 3600 == 0:
        return _("every %(n)d h", n=seconds // 3600)
    if seconds % 60 == 0:
        return _("every %(n)d min", n=seconds // 60)
    return _("every %(n)d s", n=seconds)


# --- one run: claim the fire time, run, record ---------------------------------------------------


class JobSkipped(Exception):
    """Raised by a job that decides not to run (its reason is recorded, outcome "skipped")."""


@dataclass(frozen=True)
class CurrentRun:
    job_id: str
    run_key: str
    scheduled_at: datetime | None
    run_id: int


_current: contextvars.ContextVar[CurrentRun | None] = contextvars.ContextVar("shanhuo_job_run", default=None)


def current_run() -> CurrentRun | None:
    """The run being executed (inside a job's function), else None."""
    return _current.get()


def run_key(fire_time: datetime) -> str:
    """A fire time as the key of its run: UTC, to the second."""
    return fire_time.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _bounded(text: str, limit: int = MESSAGE_MAX) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def claim(job_id: str, key: str, *, scheduled_at: datetime | None = None,
          requested_by_id: int | None = None) -> int | None:
    """Claim (job_id, key): insert its run row, outcome "running", and commit. Returns the run's
    id, or None when that run was already claimed (by another runner, or before): then nothing
    is to be run."""
    run = JobRun(job_id=job_id, run_key=key, scheduled_at=scheduled_at, started_at=utcnow(),
                 outcome=JobOutcome.RUNNING, message="", host=HOST, pid=os.getpid(), requested_by_id=requested_by_id)
    db.session.add(run)
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        log.info("job run skipped: already claimed", extra={"job_id": job_id, "run_key": key})
        return None
    return run.id


def _target(job_id: str) -> Callable[[], Any]:
    found = registered(job_id)
    if found is None:
        raise LookupError(f"job {job_id!r} is not registered in this process")
    module_name, _, attr = found[0].partition(":")
    return getattr(import_module(module_name), attr)


def perform(run_id: int) -> JobRun:
    """Run the claimed run ``run_id`` and record its outcome (needs an app context)."""
    run = db.session.get(JobRun, run_id)
    job_id, key, scheduled_at = run.job_id, run.run_key, run.scheduled_at
    db.session.commit()  # nothing held while the job runs
    token = _current.set(CurrentRun(job_id, key, scheduled_at, run_id))
    try:
        result = _target(job_id)()
        outcome, message = JobOutcome.OK, _summary(result)
    except JobSkipped as reason:
        outcome, message = JobOutcome.SKIPPED, str(reason)
        log.info("job skipped", extra={"job_id": job_id, "run_key": key, "reason": message})
    except Exception as error:  # a failing job must not kill the runner: it is recorded
        outcome, message = JobOutcome.FAILED, f"{type(error).__name__}: {error}"
        log.exception("scheduled job failed", extra={"job_id": job_id, "run_key": key})
    finally:
        _current.reset(token)
    db.session.rollback()  # jobs commit their own work; whatever they left open is dropped
    db.session.execute(sa.update(JobRun).where(JobRun.id == run_id).values(
        outcome=outcome, finished_at=utcnow(), message=_bounded(message)))
    db.session.commit()
    log.info("job run finished", extra={"job_id": job_id, "run_key": key, "outcome": outcome.value})
    return db.session.get(JobRun, run_id, populate_existing=True)


def _summary(result: Any) -> str:
    if result is None:
        return ""
    return _bounded(result if isinstance(result, str) else repr(result), SUMMARY_MAX)


def execute(job_id: str, key: str, *, scheduled_at: datetime | None = None,
            requested_by_id: int | None = None) -> JobRun | None:
    """The one path every run takes: claim (job_id, key), run the job, record the outcome.
    None when the run was already claimed: it is not run a second time."""
    run_id = claim(job_id, key, scheduled_at=scheduled_at, requested_by_id=requested_by_id)
    return None if run_id is None else perform(run_id)


def run_now(job_id: str, *, requested_by_id: int | None, wait: float = RUN_NOW_WAIT) -> JobRun | None:
    """An operator's "run now": the job runs through the same claim, keyed ``manual:<now>`` (a
    second press within the same second runs nothing: None), in a thread of this process; waits
    up to ``wait`` seconds and returns the run as it is then (finished, or still running)."""
    from .admin.services import audit
    from .errors import NotFound

    if registered(job_id) is None:
        raise NotFound()
    now = utcnow()
    run_id = claim(job_id, "manual:" + run_key(now), scheduled_at=now, requested_by_id=requested_by_id)
    if run_id is None:
        return None
    audit("job.run_now", actor_id=requested_by_id, object_type="job_run", object_id=run_id, data={"job_id": job_id})
    db.session.commit()
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    worker = threading.Thread(target=_perform_in_app, args=(app, run_id), name=f"run-now-{job_id}", daemon=True)
    worker.start()
    worker.join(wait)
    return db.session.get(JobRun, run_id, populate_existing=True)


def close_interrupted_runs() -> int:
    """A runner that has just taken the lock closes the scheduled runs another runner left
    "running" (it died, or lost the lock, mid-run): failed, "interrupted". Runs of "run now"
    (in web processes, not the lock holder's) are left alone. Returns how many it closed."""
    closed = db.session.execute(sa.update(JobRun).where(
        JobRun.outcome == JobOutcome.RUNNING, ~JobRun.run_key.startswith("manual:"),
        sa.or_(JobRun.host != HOST, JobRun.pid != os.getpid()),
    ).values(outcome=JobOutcome.FAILED, finished_at=utcnow(),
             message="interrupted: its runner stopped before the run ended")).rowcount
    db.session.commit()
    return int(closed or 0)


def _perform_in_app(app: Flask, run_id: int) -> None:
    with app.app_context():
        try:
            perform(run_id)
        finally:
            db.session.remove()


# --- APScheduler: the persistent store, and each fire time handed to the run ----------------------

_active_app: dict[str, Flask] = {}


def _fire(job_id: str, scheduled_at: datetime | None = None) -> None:
    """What APScheduler calls for a registered job (by reference: the store keeps no code)."""
    app = _active_app.get("app")
    if app is None:
        log.error("job fired outside a runner", extra={"job_id": job_id})
        return
    scheduled_at = scheduled_at or utcnow()
    with app.app_context():
        try:
            execute(job_id, run_key(scheduled_at), scheduled_at=scheduled_at)
        finally:
            db.session.remove()


class _OneFire:
    """A job as run for one of its fire times: the fire time goes to ``_fire`` as
    ``scheduled_at`` (APScheduler itself calls a job's function without it)."""

    def __init__(self, job: Any, fire_time: datetime) -> None:
        self._job = job
        self.id = job.id
        self.misfire_grace_time = job.misfire_grace_time
        self.func = job.func
        self.args = job.args
        self.kwargs = {**job.kwargs, "scheduled_at": fire_time}

    def __str__(self) -> str:
        return str(self._job)


def _run_fires(job: Any, jobstore_alias: str, run_times: list[datetime], logger_name: str) -> list[JobExecutionEvent]:
    events: list[JobExecutionEvent] = []
    for fire_time in run_times:
        events += _apscheduler_run_job(_OneFire(job, fire_time), jobstore_alias, [fire_time], logger_name)
    return events


class _FireTimeExecutor(ThreadPoolExecutor):
    """APScheduler's thread pool, each run told the fire time it runs for."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        def done(future: Any) -> None:
            error = future.exception()
            if error is not None:
                self._run_job_error(job.id, error, error.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(_run_fires, job, job._jobstore_alias, run_times, self._logger.name).add_done_callback(done)


class _AppJobStore(SQLAlchemyJobStore):
    """SQLAlchemyJobStore on the application's engine and its migrated table (never created at
    run time, and the engine, being the app's, is not disposed of by the scheduler)."""

    def __init__(self, engine: sa.Engine) -> None:
        super().__init__(engine=engine)
        self.jobs_t = job_store_table

    def start(self, scheduler: Any, alias: str) -> None:
        BaseJobStore.start(self, scheduler, alias)
        if not sa.inspect(self.engine).has_table(self.jobs_t.name):
            raise RuntimeError(f"table {self.jobs_t.name} is missing: run `flask db upgrade`")

    def shutdown(self) -> None:
        pass


def _signature(func: str, args: dict) -> str:
    """What a stored job was registered as: a stored job with the same signature keeps its next
    run time across restarts; a changed one is replaced."""
    return func + " " + " ".join(f"{k}={args[k]}" for k in sorted(args))


class _Scheduler(BackgroundScheduler):
    """APScheduler's background scheduler, except that once shutting down it takes no due job
    (APScheduler 3 may still process the store while shutting down: the fire is then taken off
    the store but never run, since the executor is already gone)."""

    _closing = False

    def shutdown(self, wait: bool = True) -> None:
        with self._jobstores_lock:  # after any processing under way
            self._closing = True
        super().shutdown(wait)

    def _process_jobs(self) -> float | None:
        with self._jobstores_lock:
            if self._closing:
                return None
            return super()._process_jobs()


def build_scheduler(engine: sa.Engine) -> BackgroundScheduler:
    return _Scheduler(
        jobstores={"default": _AppJobStore(engine)},
        executors={"default": _FireTimeExecutor(max_workers=4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": DEFAULT_MISFIRE_GRACE},
        timezone=UTC,
    )


def sync_jobs(scheduler: BackgroundScheduler) -> None:
    """Make the store hold exactly the registered jobs: unchanged ones keep their next run time
    (a missed fire is run on start when within its grace), changed ones are replaced, jobs no
    longer registered are removed."""
    wanted = {job_id: (func, args) for job_id, func, args in JOBS}
    for job in scheduler.get_jobs():
        if job.id not in wanted:
            job.remove()
    for job_id, (func, args) in wanted.items():
        name = _signature(func, args)
        stored = scheduler.get_job(job_id)
        if stored is not None and stored.name == name:
            continue
        scheduler.add_job(f"{__name__}:_fire", trigger=_trigger(args), args=[job_id], id=job_id, name=name,
                          replace_existing=True,
                          misfire_grace_time=args.get("misfire_grace_time", DEFAULT_MISFIRE_GRACE))


# --- the runner lock -----------------------------------------------------------------------------


class _AdvisoryLock:
    """PostgreSQL: a session advisory lock on a dedicated connection (outside the pool: closing
    it must end the session), held while the connection lives."""

    def __init__(self, url: sa.URL, identity: str) -> None:
        self.engine = sa.create_engine(url, poolclass=NullPool, connect_args={
            "application_name": f"shanhuo-scheduler {identity}"[:63],
            # a dead peer is noticed within a minute, so a half-open connection does not hold on
            "keepalives": 1, "keepalives_idle": 30, "keepalives_interval": 10, "keepalives_count": 3,
        })
        self.connection: sa.Connection | None = None

    def acquire(self) -> bool:
        if self.connection is None:
            self.connection = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            got = bool(self.connection.scalar(sa.text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY}))
        except sa.exc.DBAPIError:
            self._close()
            raise
        return got

    def alive(self) -> bool:
        try:
            self.connection.scalar(sa.text("SELECT 1"))  # type: ignore[union-attr]
            return True
        except Exception:
            return False

    def release(self) -> None:
        self._close()  # ends the session: the lock goes with it

    def _close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # already broken: the session is gone anyway
                self.connection.close()
            self.connection = None


class _FileLock:
    """A SQLite file: an exclusive flock on a file next to the database, which names the holder."""

    def __init__(self, path: Path, identity: str) -> None:
        self.path, self.identity = path, identity
        self.fd: int | None = None

    def acquire(self) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, self.identity.encode())
        self.fd = fd
        return True

    def alive(self) -> bool:
        return self.fd is not None

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing releases the flock
            self.fd = None


class _NoLock:
    """An in-memory SQLite database lives in one process: nobody else could run its jobs."""

    def acquire(self) -> bool:
        return True

    def alive(self) -> bool:
        return True

    def release(self) -> None:
        pass


def _sqlite_file(url: sa.URL) -> Path | None:
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return Path(url.database).resolve()


def _lock_file(url: sa.URL) -> Path | None:
    database = _sqlite_file(url)
    return None if database is None else database.with_name(database.name + ".scheduler-lock")


def _lock_for(url: sa.URL, identity: str) -> _AdvisoryLock | _FileLock | _NoLock:
    if url.get_backend_name() == "postgresql":
        return _AdvisoryLock(url, identity)
    path = _lock_file(url)
    return _NoLock() if path is None else _FileLock(path, identity)


def runner_status() -> str | None:
    """Who holds the runner lock now ("host:pid"), or None when no runner is running the jobs."""
    url = db.engine.url
    if url.get_backend_name() == "postgresql":
        name = db.session.scalar(sa.text(
            "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid"
            " WHERE l.locktype = 'advisory' AND l.granted AND l.classid = :hi AND l.objid = :lo AND l.objsubid = 1"
            " AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        ), {"hi": LOCK_KEY >> 32, "lo": LOCK_KEY & 0xFFFFFFFF})
        return None if name is None else name.removeprefix("shanhuo-scheduler ")
    path = _lock_file(url)
    if path is None or not path.exists():
        return None
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return path.read_text().strip() or "?"
    finally:
        os.close(fd)  # a probe that got the lock gives it back at once
    return None


# --- the runner ----------------------------------------------------------------------------------


class Runner:
    """Stands by for the runner lock and, while it holds it, runs the registered jobs."""

    def __init__(self, app: Flask, standby_seconds: float | None = None) -> None:
        self.app = app
        self.standby_seconds = float(standby_seconds if standby_seconds is not None
                                     else app.config.get("SCHEDULER_STANDBY_SECONDS", 15))
        self.identity = f"{HOST}:{os.getpid()}"
        with app.app_context():
            self.engine = db.engine
        self.lock = _lock_for(self.engine.url, self.identity)
        self.scheduler: BackgroundScheduler | None = None
        self.thread: threading.Thread | None = None  # when run in a thread of the web process
        self._stop = threading.Event()

    @property
    def active(self) -> bool:
        return self.scheduler is not None

    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        """Blocks until :meth:`stop`: on standby until the lock is had, then runs the jobs until
        the lock is lost (back to standby) or the runner is stopped."""
        log.info("scheduler runner on standby", extra={"runner": self.identity})
        while not self._stop.is_set():
            try:
                held = self.lock.acquire()
            except Exception as error:
                log.warning("scheduler lock not reachable", extra={"runner": self.identity, "error": str(error)})
                held = False
            if held:
                try:
                    self._lead()
                except Exception:
                    log.exception("scheduler runner failed: back to standby", extra={"runner": self.identity})
                finally:
                    self._step_down()
            if not self._stop.is_set():
                self._stop.wait(self.standby_seconds)

    def _lead(self) -> None:
        _active_app["app"] = self.app
        self.scheduler = build_scheduler(self.engine)
        self.scheduler.start(paused=True)
        sync_jobs(self.scheduler)
        with self.app.app_context():
            interrupted = close_interrupted_runs()
            db.session.remove()
        if interrupted:
            log.warning("runs left unfinished by a previous runner closed", extra={"count": interrupted})
        self.scheduler.resume()
        log.info("scheduler runner active", extra={"runner": self.identity, "jobs": [j for j, _, _ in JOBS]})
        while not self._stop.wait(self.standby_seconds):
            if not self.lock.alive():
                log.warning("scheduler lock lost: back to standby", extra={"runner": self.identity})
                return

    def _step_down(self) -> None:
        scheduler, self.scheduler = self.scheduler, None
        if scheduler is not None and scheduler.running:
            scheduler.shutdown(wait=self._stop.is_set())  # stopping: let running jobs finish first
        self.lock.release()


def start_in_process(app: Flask) -> Runner:
    """The embedded shape: the runner in a daemon thread of this process."""
    runner = Runner(app)
    runner.thread = threading.Thread(target=runner.run, name="scheduler-runner", daemon=True)
    runner.thread.start()
    atexit.register(runner.stop)
    return runner


# --- jobs of the scheduler's own ----------------------------------------------------------------

BACKUP_NAME = re.compile(r"shanhuo-(\d{8}T\d{6}Z)(?:-(\d+))?\.(sqlite3|dump)")


def backup_database() -> str:
    """The nightly backup of the application database into BACKUP_DIR (files 0600), keeping the
    newest BACKUP_KEEP: SQLite by the online backup API (a consistent copy while the app
    writes), PostgreSQL by ``pg_dump -Fc`` (skipped, saying so, when pg_dump is not on PATH)."""
    config = current_app.config
    folder = Path(config.get("BACKUP_DIR") or Path(current_app.instance_path) / "backups")
    keep = max(1, int(config.get("BACKUP_KEEP", 7)))
    url = db.engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        source = _sqlite_file(url)
        if source is None:
            raise JobSkipped("an in-memory SQLite database has nothing to back up")
        made = _new_backup(folder, "sqlite3", lambda path, _fd: _backup_sqlite(source, path))
    elif backend == "postgresql":
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise JobSkipped("pg_dump is not on PATH: no backup made")
        made = _new_backup(folder, "dump", lambda _path, fd: _backup_postgresql(pg_dump, url, fd))
    else:
        raise JobSkipped(f"no backup method for {backend}")
    removed = prune_backups(folder, keep)
    return f"{made.name} ({made.stat().st_size} bytes); {len(removed)} older removed"


def _new_backup(folder: Path, suffix: str, write: Callable[[Path, int], None]) -> Path:
    """A new timestamped file in ``folder``, written in full under a temporary name first (a
    partial backup never looks like a backup), mode 0600."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    n = 0
    while True:
        final = folder / (f"shanhuo-{stamp}" + (f"-{n}" if n else "") + f".{suffix}")
        partial = final.with_name(final.name + ".partial")
        if not final.exists():
            try:
                fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                break
            except FileExistsError:
                pass
        n += 1
    try:
        write(partial, fd)
    except BaseException:
        os.close(fd)
        partial.unlink(missing_ok=True)
        raise
    os.close(fd)
    os.replace(partial, final)
    return final


def _backup_sqlite(source: Path, target: Path) -> None:
    src = sqlite3.connect(source, timeout=30)
    dst = sqlite3.connect(target)  # the empty 0600 file made for it
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _backup_postgresql(pg_dump: str, url: sa.URL, fd: int) -> None:
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)  # never on the command line (ps shows it)
    dsn = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    done = subprocess.run([pg_dump, "-Fc", "--no-password", "--dbname", dsn], stdout=fd, stderr=subprocess.PIPE,
                          env=env, timeout=3600, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"pg_dump exited with {done.returncode}: {done.stderr.decode(errors='replace').strip()}")


def prune_backups(folder: Path, keep: int) -> list[Path]:
    """Remove all but the ``keep`` newest backups in ``folder`` (only files named as ours)."""
    found = []
    for path in folder.iterdir():
        match = BACKUP_NAME.fullmatch(path.name)
        if match and path.is_file():
            found.append(((match.group(1), int(match.group(2) or 0)), path))
    found.sort()
    removed = [path for _, path in found[: max(0, len(found) - keep)]]
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def prune_job_runs() -> int:
    """Drop run-log rows older than JOB_RUNS_KEEP_DAYS (per-minute jobs write ~3000 a day)."""
    from datetime import timedelta

    cutoff = utcnow() - timedelta(days=JOB_RUNS_KEEP_DAYS)
    removed = db.session.execute(sa.delete(JobRun).where(JobRun.started_at < cutoff)).rowcount
    db.session.commit()
    return int(removed or 0)


register_job("backup", f"{__name__}:backup_database", trigger="cron", hour=3, minute=0, timezone=LOCAL_TIMEZONE,
             misfire_grace_time=6 * 3600)
register_job("job_runs_prune", f"{__name__}:prune_job_runs", trigger="cron", hour=3, minute=30,
             timezone=LOCAL_TIMEZONE, misfire_grace_time=6 * 3600)
register_job("learn_parameters", "marketplace.logistics.learning:run", minutes=15)  # the feedback loop
register_job("complaint_sla", "marketplace.complaints.services:escalate", minutes=5)  # SLA alerts, escalation
register_job("bureau_report", "marketplace.reports.bureau:month_end", trigger="cron", day=1, hour=0, minute=30, misfire_grace_time=7 * 24 * 3600)  # last month's report for the county commerce bureau, stored once


# --- the operators' page -------------------------------------------------------------------------

OUTCOME_NAMES = {
    JobOutcome.RUNNING.value: _l("Running"), JobOutcome.OK.value: _l("OK"),
    JobOutcome.FAILED.value: _l("Failed"), JobOutcome.SKIPPED.value: _l("Skipped"),
}
RUNS_PER_PAGE = 100


def overview(job_id: str | None = None, outcome: str | None = None, before: int | None = None) -> dict[str, Any]:
    """The jobs page: every registered job with its schedule, next run and last run; the run
    log (newest first, RUNS_PER_PAGE at a time, older ones by ``before``) filtered by job and
    outcome; who runs the jobs now."""
    job_id = job_id if job_id and _ID_RE.fullmatch(job_id) else None
    outcome = outcome if outcome in OUTCOME_NAMES else None
    next_runs = {row.id: datetime.fromtimestamp(row.next_run_time, UTC)
                 for row in db.session.execute(sa.select(job_store_table.c.id, job_store_table.c.next_run_time))
                 if row.next_run_time is not None}
    jobs = []
    for known, func, args in JOBS:
        last = db.session.scalar(sa.select(JobRun).where(JobRun.job_id == known).order_by(JobRun.id.desc()).limit(1))
        jobs.append({"id": known, "func": func, "schedule": describe(args), "next_run": next_runs.get(known),
                     "last": last})
    query = sa.select(JobRun).order_by(JobRun.id.desc()).limit(RUNS_PER_PAGE)
    if job_id:
        query = query.where(JobRun.job_id == job_id)
    if outcome:
        query = query.where(JobRun.outcome == JobOutcome(outcome))
    if before:
        query = query.where(JobRun.id < before)
    runs = list(db.session.scalars(query))
    return {
        "jobs": jobs, "runs": runs, "job_filter": job_id, "outcome_filter": outcome,
        "older": runs[-1].id if len(runs) == RUNS_PER_PAGE else None,
        "outcome_names": OUTCOME_NAMES, "runner": runner_status(),
    }


# --- start-up and the command line ---------------------------------------------------------------


def _register_test_job() -> None:
    """SCHEDULER_TEST_JOB="id=package.module:function@seconds" adds an interval job (tests of
    the runner processes point it at a probe; not for production use)."""
    spec = os.environ.get("SCHEDULER_TEST_JOB", "").strip()
    match = re.fullmatch(r"([A-Za-z0-9_.:-]{1,64})=([\w.]+:\w+)@(\d+(?:\.\d+)?)", spec)
    if spec and not match:
        raise RuntimeError(f"SCHEDULER_TEST_JOB={spec!r}: expected id=package.module:function@seconds")
    if match:
        register_job(match.group(1), match.group(2), seconds=float(match.group(3)))


def init_app(app: Flask) -> None:
    register_job("replan", "marketplace.planning.services:replan_all", minutes=app.config["REPLAN_MINUTES"])
    _register_test_job()
    _cli(app)
    if not app.config["SCHEDULER_ENABLED"] or app.config["TESTING"]:
        return
    app.extensions["scheduler"] = start_in_process(app)


def _cli(app: Flask) -> None:
    @app.cli.group("scheduler")
    def scheduler_group() -> None:
        """The job scheduler (one runner per database)."""

    @scheduler_group.command("run")
    @click.option("--standby-seconds", type=float, default=None,
                  help="How often a standby runner tries the lock, and the holder checks it.")
    def run_command(standby_seconds: float | None) -> None:
        """Run the scheduled jobs in this process, in the foreground (stand by while another
        process holds the runner lock). Stops on SIGTERM or Ctrl-C, after running jobs end."""
        in_process = app.extensions.get("scheduler")  # SCHEDULER_ENABLED here too: not a second one
        runner = in_process or Runner(app, standby_seconds)
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: runner.stop())
        click.echo(f"scheduler runner {runner.identity}: jobs {', '.join(j for j, _, _ in JOBS)}")
        if in_process is None:
            runner.run()
        else:
            while in_process.thread.is_alive():
                in_process.thread.join(1)

    @scheduler_group.command("jobs")
    def jobs_command() -> None:
        """The registered jobs: schedule, next run, last run; and who runs them now."""
        with app.app_context():
            data = overview()
        for job in data["jobs"]:
            next_run = f"{job['next_run']:%Y-%m-%d %H:%M:%S}Z" if job["next_run"] else "-"
            last = f"{job['last'].outcome.value} {job['last'].run_key}" if job["last"] else "-"
            click.echo(f"{job['id']:<18} {job['schedule']:<26} next {next_run:<21} last {last}")
        click.echo(f"runner: {data['runner'] or 'none'}")
