"""Exactly one runner, with real processes: two ``flask scheduler run`` started at once against the
PostgreSQL test database, each with a job every second (SCHEDULER_TEST_JOB points it at the
probe of test_scheduler.py: one audit row per run). One runs the jobs, the other stands by; each
fire time runs once; killed (SIGKILL: no goodbye), the holder's lock goes with its connection and
the standby takes over, on the same fire-time grid, still once per fire time.

These processes run on the real clock (the test's frozen clock is not theirs): intervals of a
second, the whole test well under 30 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace import scheduler
from marketplace.admin.models import AuditLog
from marketplace.extensions import db
from marketplace.models import JobOutcome, JobRun

ROOT = Path(__file__).resolve().parents[2]
PROBE_JOB = "probe=tests.marketplace.test_scheduler:probe@1"


def probes(app) -> list[dict]:
    with app.app_context():
        rows = [a.data for a in db.session.scalars(
            sa.select(AuditLog).where(AuditLog.action == "test.probe").order_by(AuditLog.id))]
        db.session.remove()
        return rows


def wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def start_runner(database_uri: str, tmp_path: Path, name: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "FLASK_APP": "wsgi.py", "DATABASE_URL": database_uri, "SECRET_KEY": "scheduler-process-test",
        "SHANHUO_INSTANCE": str(tmp_path / name), "SCHEDULER_ENABLED": "0", "SCHEDULER_STANDBY_SECONDS": "0.3",
        "SCHEDULER_TEST_JOB": PROBE_JOB, "LOG_JSON": "0", "LOG_LEVEL": "INFO", "PYTHONUNBUFFERED": "1",
    }
    env.pop("SHANHUO_TEST_CLOCK", None)
    log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen([sys.executable, "-m", "flask", "scheduler", "run"], cwd=ROOT, env=env,
                            stdout=log, stderr=subprocess.STDOUT)


def test_two_scheduler_processes_run_each_fire_time_once_and_the_standby_takes_over(app, database_uri, tmp_path):
    if not database_uri.startswith("postgresql"):
        pytest.skip("one runner among processes is proven on PostgreSQL (TEST_DATABASE_URL)")
    runners = [start_runner(database_uri, tmp_path, name) for name in ("a", "b")]
    try:
        assert wait_for(lambda: len(probes(app)) >= 3, 20), "no runner ran the probe: " + (tmp_path / "a.log").read_text()
        holder_pid = probes(app)[0]["pid"]
        assert {p["pid"] for p in probes(app)} == {holder_pid}  # one runner, the other on standby
        holder = next(r for r in runners if r.pid == holder_pid)
        standby = next(r for r in runners if r is not holder)
        with app.app_context():
            assert scheduler.runner_status().endswith(f":{holder_pid}")
            db.session.remove()
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=10)
        killed_after = len(probes(app))
        assert wait_for(lambda: sum(p["pid"] == standby.pid for p in probes(app)) >= 3, 15), (
            "the standby did not take over: " + (tmp_path / ("a.log" if standby is runners[0] else "b.log")).read_text())
        with app.app_context():
            assert scheduler.runner_status().endswith(f":{standby.pid}")
            db.session.remove()
        standby.send_signal(signal.SIGTERM)  # a graceful stop: running jobs end, the lock is let go
        assert standby.wait(timeout=10) == 0
    finally:
        for runner in runners:
            if runner.poll() is None:
                runner.kill()
                runner.wait(timeout=10)
    rows = probes(app)
    keys = [p["run_key"] for p in rows]
    assert len(keys) == len(set(keys)), f"a fire time ran twice: {keys}"
    assert keys == sorted(keys)  # one grid of whole seconds, continued by the standby
    pids = [p["pid"] for p in rows]
    took_over = pids.index(standby.pid)
    assert took_over >= killed_after and set(pids[:took_over]) == {holder_pid} and set(pids[took_over:]) == {standby.pid}
    with app.app_context():
        runs = db.session.scalars(sa.select(JobRun).where(JobRun.job_id == "probe").order_by(JobRun.id)).all()
        ok = [r.run_key for r in runs if r.outcome == JobOutcome.OK]
        assert set(ok) <= set(keys) and len(keys) - len(ok) <= 1  # but the run the kill cut short
        cut_short = [r for r in runs if r.outcome != JobOutcome.OK]  # closed by the standby on taking over
        assert all(r.outcome == JobOutcome.FAILED and r.message.startswith("interrupted") and r.pid == holder_pid
                   for r in cut_short), [(r.outcome, r.message) for r in cut_short]
        assert {r.pid for r in runs} == {holder_pid, standby.pid}
        assert scheduler.runner_status() is None  # both gone: no runner holds the lock any more
        db.session.remove()
