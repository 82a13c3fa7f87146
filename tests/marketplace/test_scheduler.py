"""The scheduler (marketplace/scheduler.py): every run claims its fire time once (job_runs), the
job store keeps next run times across restarts, one runner at a time runs the jobs, the nightly
backup is a restorable copy kept to BACKUP_KEEP, and operators see the run log at /admin/jobs.

The runner processes themselves (two ``flask scheduler run`` against PostgreSQL, one killed) are
in test_scheduler_processes.py."""

from __future__ import annotations

import os
import sqlite3
import stat
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace import create_app, scheduler
from marketplace.admin.models import AuditLog
from marketplace.config import TestConfig
from marketplace.extensions import db
from marketplace.models import JobOutcome, JobRun, Role, User
from tests.conftest import csrf_token, login
from tests.marketplace.payments.conftest import make_pending_order  # noqa: F401 (a fixture)

PROBE = "tests.marketplace.test_scheduler:probe"
PROBE_ACTION = "test.probe"


def probe() -> str:
    """A test job: one audit row per run, naming the run's key and the process."""
    run = scheduler.current_run()
    db.session.add(AuditLog(action=PROBE_ACTION, object_type="job_run", object_id=run.run_id,
                            data={"run_key": run.run_key, "pid": os.getpid()}))
    db.session.commit()
    return f"probed {run.run_key}"


def failing_probe() -> None:
    db.session.add(AuditLog(action=PROBE_ACTION, data={"left": "uncommitted"}))
    raise RuntimeError("the river is up " + "x" * 5000)


def skipping_probe() -> None:
    raise scheduler.JobSkipped("nothing to do tonight")


def probe_rows(app) -> list[dict]:
    with app.app_context():
        rows = [a.data for a in db.session.scalars(sa.select(AuditLog).where(AuditLog.action == PROBE_ACTION)
                                                   .order_by(AuditLog.id))]
        db.session.remove()
        return rows


def runs_of(app, job_id: str) -> list[JobRun]:
    with app.app_context():
        runs = list(db.session.scalars(sa.select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)))
        db.session.expunge_all()
        db.session.remove()
        return runs


@pytest.fixture
def only_jobs(monkeypatch):
    """The registry emptied for the test (and restored after): register just what it needs."""
    monkeypatch.setattr(scheduler, "JOBS", [])
    return scheduler.register_job


# --- registering -----------------------------------------------------------------------------------


def test_register_job_keeps_the_interval_signature_and_takes_a_cron_trigger(only_jobs):
    only_jobs("expire", "marketplace.payments.services:expire_unpaid", minutes=1)
    only_jobs("nightly", PROBE, trigger="cron", hour=3, minute=0, timezone="Asia/Shanghai")
    only_jobs("expire", "marketplace.payments.services:expire_unpaid", minutes=2)  # replaces
    assert scheduler.JOBS == [
        ("expire", "marketplace.payments.services:expire_unpaid", {"minutes": 2}),
        ("nightly", PROBE, {"hour": 3, "minute": 0, "timezone": "Asia/Shanghai", "trigger": "cron"}),
    ]
    with pytest.raises(ValueError):
        only_jobs("bad", PROBE, trigger="cron", hour=25)
    with pytest.raises(ValueError):
        only_jobs("bad id!", PROBE, minutes=1)


def test_the_default_jobs_are_registered(app):
    jobs = {job_id: (func, args) for job_id, func, args in scheduler.JOBS}
    assert jobs["replan"] == ("marketplace.planning.services:replan_all", {"minutes": app.config["REPLAN_MINUTES"]})
    assert jobs["expire_unpaid"] == ("marketplace.payments.services:expire_unpaid", {"minutes": 1})
    assert jobs["backup"] == ("marketplace.scheduler:backup_database", {
        "trigger": "cron", "hour": 3, "minute": 0, "timezone": "Asia/Shanghai", "misfire_grace_time": 6 * 3600})


@pytest.mark.parametrize(("local", "backup_at", "replan_at"), [
    ("2026-12-01T03:30:20+08:00", "2026-12-02T03:00:00+08:00", "2026-12-01T03:35:00+08:00"),
    ("2026-12-01T02:59:59+08:00", "2026-12-01T03:00:00+08:00", "2026-12-01T03:00:00+08:00"),
    ("2026-12-01T10:32:10+08:00", "2026-12-02T03:00:00+08:00", "2026-12-01T10:35:00+08:00"),
    ("2026-12-01T23:58:00+08:00", "2026-12-02T03:00:00+08:00", "2026-12-02T00:00:00+08:00"),
])
def test_fire_times_cron_in_shanghai_and_intervals_on_whole_multiples(clock, local, backup_at, replan_at):
    now = clock.move_to(local)
    backup = scheduler._trigger(dict(scheduler.registered("backup")[1]))
    replan = scheduler._trigger({"minutes": 5})
    assert backup.get_next_fire_time(None, now) == datetime.fromisoformat(backup_at)
    assert replan.get_next_fire_time(None, now) == datetime.fromisoformat(replan_at)


# --- the idempotent path ------------------------------------------------------------------------


def test_a_run_twice_for_the_same_fire_time_changes_nothing_the_second_time(app, only_jobs, clock):
    only_jobs("probe", PROBE, seconds=30)
    fire = clock.move_to("2026-12-01T02:00:00Z", tick=False)
    key = scheduler.run_key(fire)
    with app.app_context():
        first = scheduler.execute("probe", key, scheduled_at=fire)
        assert first is not None and first.outcome == JobOutcome.OK
        assert first.message == f"probed {key}" and first.run_key == "2026-12-01T02:00:00Z"
        assert (first.started_at, first.finished_at, first.scheduled_at) == (fire, fire, fire)
        assert (first.host, first.pid) == (scheduler.HOST, os.getpid())
        assert scheduler.execute("probe", key, scheduled_at=fire) is None  # a retry, another runner
        assert scheduler.execute("probe", scheduler.run_key(fire + timedelta(seconds=30))) is not None
        db.session.remove()
    assert [r["run_key"] for r in probe_rows(app)] == [key, "2026-12-01T02:00:30Z"]
    assert [r.run_key for r in runs_of(app, "probe")] == [key, "2026-12-01T02:00:30Z"]


def test_a_real_job_run_twice_expires_an_overdue_order_once(app, make_pending_order):  # noqa: F811
    from marketplace.models import Order, OrderStatus, StockMovement

    pending = make_pending_order(expires_in=timedelta(seconds=-5))
    with app.app_context():
        first = scheduler.execute("expire_unpaid", "2026-12-01T02:31:00Z")
        second = scheduler.execute("expire_unpaid", "2026-12-01T02:31:00Z")
        assert (first.outcome, first.message, second) == (JobOutcome.OK, "1", None)
        assert db.session.get(Order, pending.order_id).status == OrderStatus.EXPIRED
        released = db.session.scalars(sa.select(StockMovement).where(StockMovement.order_id == pending.order_id,
                                                                     StockMovement.reason == "expired")).all()
        assert len(released) == 1
        db.session.remove()


def test_two_runners_racing_for_one_fire_time_run_it_once(app, only_jobs, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("races are proven on PostgreSQL (TEST_DATABASE_URL)")
    only_jobs("probe", PROBE, seconds=30)
    start = threading.Barrier(4)
    results: list[JobRun | None] = []

    def race() -> None:
        with app.app_context():
            start.wait()
            results.append(scheduler.execute("probe", "2026-12-01T02:00:00Z"))
            db.session.remove()

    threads = [threading.Thread(target=race) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sum(r is not None for r in results) == 1 and len(results) == 4
    assert len(probe_rows(app)) == 1


def test_a_failing_job_is_recorded_failed_bounded_and_its_leftovers_rolled_back(app, only_jobs):
    only_jobs("fails", "tests.marketplace.test_scheduler:failing_probe", minutes=1)
    only_jobs("skips", "tests.marketplace.test_scheduler:skipping_probe", minutes=1)
    only_jobs("gone", "tests.marketplace.test_scheduler:no_such_function", minutes=1)
    with app.app_context():
        for job_id in ("fails", "skips", "gone"):
            scheduler.execute(job_id, "k1")
        db.session.remove()
    [failed], [skipped], [gone] = runs_of(app, "fails"), runs_of(app, "skips"), runs_of(app, "gone")
    assert failed.outcome == JobOutcome.FAILED and failed.message.startswith("RuntimeError: the river is up")
    assert len(failed.message) == scheduler.MESSAGE_MAX and failed.finished_at is not None
    assert (skipped.outcome, skipped.message) == (JobOutcome.SKIPPED, "nothing to do tonight")
    assert gone.outcome == JobOutcome.FAILED and "no_such_function" in gone.message
    assert probe_rows(app) == []  # the failing job's uncommitted row is gone


def test_a_new_runner_closes_the_scheduled_runs_a_dead_one_left_running(app, only_jobs):
    only_jobs("probe", PROBE, seconds=30)
    with app.app_context():
        for key, host, pid in (("2026-12-01T02:00:00Z", "elsewhere", 4242), ("manual:2026-12-01T02:00:01Z", "web", 77),
                               ("2026-12-01T02:00:30Z", scheduler.HOST, os.getpid())):
            db.session.add(JobRun(job_id="probe", run_key=key, started_at=datetime(2026, 12, 1, 2, tzinfo=UTC),
                                  outcome=JobOutcome.RUNNING, host=host, pid=pid))
        db.session.commit()
        assert scheduler.close_interrupted_runs() == 1
        db.session.remove()
    assert [(r.run_key, r.outcome) for r in runs_of(app, "probe")] == [
        ("2026-12-01T02:00:00Z", JobOutcome.FAILED),  # its runner is gone: we hold the lock now
        ("manual:2026-12-01T02:00:01Z", JobOutcome.RUNNING),  # a web process's "run now"
        ("2026-12-01T02:00:30Z", JobOutcome.RUNNING)]  # our own


# --- the persistent job store -------------------------------------------------------------------


def stored_jobs(app) -> dict[str, tuple[float, str]]:
    from marketplace.scheduler_models import job_store_table as t

    with app.app_context():
        rows = {r.id: r.next_run_time for r in db.session.execute(sa.select(t.c.id, t.c.next_run_time))}
        db.session.remove()
        return rows


def sync_once(app) -> None:
    """A runner's start: the scheduler started paused on the app's store, jobs synced, shut down."""
    with app.app_context():
        engine = db.engine
    sched = scheduler.build_scheduler(engine)
    sched.start(paused=True)
    try:
        scheduler.sync_jobs(sched)
    finally:
        sched.shutdown(wait=False)


def test_next_run_times_survive_a_restart_and_a_changed_schedule_replaces_them(app, only_jobs, clock):
    only_jobs("probe", PROBE, minutes=5)
    only_jobs("nightly", PROBE, trigger="cron", hour=3, minute=0)
    clock.move_to("2026-12-01T02:31:10Z")
    sync_once(app)
    first = stored_jobs(app)
    assert first == {"probe": datetime(2026, 12, 1, 2, 35, tzinfo=UTC).timestamp(),
                     "nightly": datetime(2026, 12, 1, 19, 0, tzinfo=UTC).timestamp()}
    clock.move_to("2026-12-01T02:40:30Z")  # down past a fire time: the stored one stays (run on start, in grace)
    sync_once(app)
    assert stored_jobs(app) == first
    only_jobs("probe", PROBE, minutes=10)  # the schedule changed: replaced, from now
    scheduler.JOBS.remove(next(j for j in scheduler.JOBS if j[0] == "nightly"))  # no longer registered
    sync_once(app)
    assert stored_jobs(app) == {"probe": datetime(2026, 12, 1, 2, 50, tzinfo=UTC).timestamp()}


def test_the_store_is_the_migrated_table_never_created_at_run_time(tmp_path):
    app = create_app(type("Bare", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'bare.db'}"}))
    with app.app_context():
        engine = db.engine
    sched = scheduler.build_scheduler(engine)
    with pytest.raises(RuntimeError, match="flask db upgrade"):
        sched.start(paused=True)
    assert not sa.inspect(engine).has_table("apscheduler_jobs")
    engine.dispose()


# --- one runner at a time (in this process; real processes: test_scheduler_processes.py) ----------


def wait_for(condition, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_one_runner_runs_the_jobs_and_a_standby_takes_over_when_it_stops(app, only_jobs):
    only_jobs("probe", PROBE, seconds=1)
    runners = [scheduler.Runner(app, standby_seconds=0.2) for _ in range(2)]
    threads = [threading.Thread(target=r.run, daemon=True) for r in runners]
    for t in threads:
        t.start()
    try:
        assert wait_for(lambda: any(r.active for r in runners))
        holder, standby = (runners[0], runners[1]) if runners[0].active else (runners[1], runners[0])
        assert wait_for(lambda: len(probe_rows(app)) >= 2)
        assert not standby.active
        with app.app_context():
            assert scheduler.runner_status() is not None
            db.session.remove()
        holder.stop()
        threads[runners.index(holder)].join(timeout=10)
        before = len(probe_rows(app))
        assert wait_for(lambda: standby.active)
        assert wait_for(lambda: len(probe_rows(app)) >= before + 2)
    finally:
        for r in runners:
            r.stop()
        for t in threads:
            t.join(timeout=10)
    keys = [r["run_key"] for r in probe_rows(app)]
    assert len(keys) == len(set(keys)) >= 4  # every fire time once
    assert all(k.endswith("Z") and len(k) == 20 for k in keys)  # whole seconds
    assert {r.outcome for r in runs_of(app, "probe")} == {JobOutcome.OK}


# --- the backup job -----------------------------------------------------------------------------


@pytest.fixture
def backups(app, monkeypatch, tmp_path):
    folder = tmp_path / "backups"
    monkeypatch.setitem(app.config, "BACKUP_DIR", str(folder))
    monkeypatch.setitem(app.config, "BACKUP_KEEP", 3)
    return folder


def test_the_backup_is_a_restorable_sqlite_copy_and_keeps_backup_keep(app, backups, make_user, clock, database_uri):
    if not database_uri.startswith("sqlite"):
        pytest.skip("the SQLite online backup (PostgreSQL: test_the_postgresql_backup_is_a_pg_dump)")
    make_user(Role.OPERATOR, mobile="13900000001", name="备份")
    made = []
    for i in range(5):
        if i == 1:  # the first backup made the folder, owner only; other files in it are left alone
            assert stat.S_IMODE(backups.stat().st_mode) == 0o700
            (backups / "notes.txt").write_text("not a backup")
        at = clock.move_to(datetime(2026, 12, 1, 19, 0, tzinfo=UTC) + timedelta(days=i), tick=False)
        with app.app_context():
            run = scheduler.execute("backup", scheduler.run_key(at), scheduled_at=at)
            outcome, message = run.outcome, run.message
            assert scheduler.execute("backup", scheduler.run_key(at), scheduled_at=at) is None
            db.session.remove()
        assert outcome == JobOutcome.OK, message
        made.append(f"shanhuo-{at:%Y%m%dT%H%M%SZ}.sqlite3")
        assert message.startswith(made[-1])
    assert sorted(p.name for p in backups.iterdir()) == sorted(made[-3:] + ["notes.txt"])
    newest = backups / made[-1]
    assert stat.S_IMODE(newest.stat().st_mode) == 0o600
    with sqlite3.connect(newest) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    restored = create_app(type("Restored", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{newest}"}))
    with restored.app_context():
        assert db.session.scalar(sa.select(User.name).where(User.mobile == "13900000001")) == "备份"
        from alembic.migration import MigrationContext
        from alembic.script import ScriptDirectory

        with db.engine.connect() as conn:
            current = MigrationContext.configure(conn).get_current_revision()
        head = ScriptDirectory.from_config(restored.extensions["migrate"].migrate.get_config()).get_current_head()
        assert current == head
        db.engine.dispose()


def test_backups_made_within_one_second_get_their_own_names(app, backups, clock, database_uri):
    if not database_uri.startswith("sqlite"):
        pytest.skip("SQLite backup")
    clock.move_to("2026-12-01T19:00:00Z", tick=False)
    with app.app_context():
        names = [scheduler.backup_database().split(" ")[0] for _ in range(2)]
        db.session.remove()
    assert names == ["shanhuo-20261201T190000Z.sqlite3", "shanhuo-20261201T190000Z-1.sqlite3"]
    assert not list(backups.glob("*.partial"))


def test_the_postgresql_backup_is_a_pg_dump_or_skipped_without_it(app, backups, monkeypatch, tmp_path, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("pg_dump backs up PostgreSQL")
    import shutil
    import subprocess

    if shutil.which("pg_restore") is None or shutil.which("pg_dump") is None:
        pytest.skip("no pg_dump/pg_restore here")
    with app.app_context():
        run = scheduler.execute("backup", "2026-12-01T19:00:00Z")
        db.session.remove()
    assert run.outcome == JobOutcome.OK, run.message
    [dump] = backups.glob("shanhuo-*.dump")
    assert stat.S_IMODE(dump.stat().st_mode) == 0o600
    listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True, text=True, check=True).stdout
    assert "TABLE public job_runs" in listing and "TABLE public orders" in listing
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with app.app_context():
        skipped = scheduler.execute("backup", "2026-12-02T19:00:00Z")
        db.session.remove()
    assert (skipped.outcome, skipped.message) == (JobOutcome.SKIPPED, "pg_dump is not on PATH: no backup made")


# --- the operators' page ------------------------------------------------------------------------


@pytest.fixture
def operator(app, make_user, client):
    user = make_user(Role.OPERATOR, mobile="13900000009", name="值班员")
    assert login(client, user.mobile).status_code == 302
    return user


def test_only_operators_reach_the_jobs_page(app, make_user):
    for role in (Role.CONSUMER, Role.DISPATCHER, Role.COMPLAINT_STAFF, Role.DRIVER):
        client = app.test_client()
        user = make_user(role, mobile=f"1390000{list(Role).index(role):04d}")
        login(client, user.mobile)
        assert client.get("/admin/jobs").status_code == 403
        assert client.post("/admin/jobs/backup/run", data={"csrf_token": csrf_token(client, "/account")}).status_code == 403
    anonymous = app.test_client()
    assert anonymous.get("/admin/jobs").status_code == 302
    assert "/login" in anonymous.get("/admin/jobs").headers["Location"]


def test_the_jobs_page_shows_every_job_its_last_run_and_filters_the_log(app, only_jobs, operator, client):
    only_jobs("probe", PROBE, seconds=30)
    only_jobs("fails", "tests.marketplace.test_scheduler:failing_probe", trigger="cron", hour=3, minute=0)
    with app.app_context():
        scheduler.execute("probe", "2026-12-01T02:00:00Z", scheduled_at=datetime(2026, 12, 1, 2, tzinfo=UTC))
        scheduler.execute("fails", "2026-12-01T19:00:00Z", scheduled_at=datetime(2026, 12, 1, 19, tzinfo=UTC))
        db.session.remove()
    client.get("/lang/en")
    html = client.get("/admin/jobs").get_data(as_text=True)
    assert 'data-job="probe"' in html and 'data-job="fails"' in html
    assert "every 30 s" in html and "daily at 03:00 (Asia/Shanghai)" in html
    assert "RuntimeError: the river is up" in html and html.count('data-outcome="') == 2
    assert "No runner holds the scheduler lock" in html
    only_failed = client.get("/admin/jobs?outcome=failed").get_data(as_text=True)
    assert only_failed.count('data-outcome="failed"') == 1 and 'data-outcome="ok"' not in only_failed
    only_probe = client.get("/admin/jobs?job=probe").get_data(as_text=True)
    assert only_probe.count('data-outcome="ok"') == 1 and 'data-outcome="failed"' not in only_probe
    assert client.get("/admin/jobs?outcome=nonsense&job=no+such!").status_code == 200  # ignored, not a 500
    assert client.get("/admin/jobs?before=99999999999").status_code == 404
    assert "/admin/jobs" in client.get("/admin/").get_data(as_text=True)  # linked from the admin page


def test_run_now_runs_the_job_through_the_same_claim_once_per_press(app, only_jobs, operator, client, clock):
    only_jobs("probe", PROBE, minutes=5)
    pressed = clock.move_to(clock.now().replace(microsecond=0) + timedelta(seconds=1), tick=False)  # after the sign-in
    token = csrf_token(client, "/admin/jobs")
    assert client.post("/admin/jobs/probe/run").status_code == 400  # no CSRF token
    response = client.post("/admin/jobs/probe/run", data={"csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/jobs?job=probe")
    again = client.post("/admin/jobs/probe/run", data={"csrf_token": token}, follow_redirects=True)
    assert again.status_code == 200  # the same second: a double press runs nothing more
    assert client.post("/admin/jobs/no_such_job/run", data={"csrf_token": token}).status_code == 404
    clock.shift(timedelta(seconds=1))
    client.post("/admin/jobs/probe/run", data={"csrf_token": token})
    runs = runs_of(app, "probe")
    assert [(r.run_key, r.outcome, r.requested_by_id) for r in runs] == [
        ("manual:" + scheduler.run_key(pressed), JobOutcome.OK, operator.id),
        ("manual:" + scheduler.run_key(pressed + timedelta(seconds=1)), JobOutcome.OK, operator.id)]
    assert [r["run_key"] for r in probe_rows(app)] == [r.run_key for r in runs]
    with app.app_context():
        audited = db.session.scalars(sa.select(AuditLog).where(AuditLog.action == "job.run_now")).all()
        assert [(a.actor_user_id, a.data) for a in audited] == [(operator.id, {"job_id": "probe"})] * 2
        db.session.remove()
    page = client.get("/admin/jobs?job=probe").get_data(as_text=True)
    assert page.count('data-outcome="ok"') == 2
