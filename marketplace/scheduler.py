"""The in-process APScheduler of the embedded deployment (one process, SQLite).

Jobs are registered here by the areas that own them. In the one-server shape a single
``flask scheduler`` process runs them instead of the web workers.
"""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask

log = logging.getLogger("shanhuo.scheduler")

JOBS: list[tuple[str, str, dict]] = []  # (job id, "module:function", trigger args)


def register_job(job_id: str, func: str, **trigger: int) -> None:
    JOBS.append((job_id, func, trigger))


def build_scheduler(app: Flask) -> BackgroundScheduler:
    from importlib import import_module

    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for job_id, func, trigger in JOBS:
        module_name, _, attr = func.partition(":")
        target = getattr(import_module(module_name), attr)

        def run(target=target, job_id=job_id) -> None:
            with app.app_context():
                try:
                    target()
                except Exception:  # a failing job must not kill the scheduler
                    log.exception("scheduled job %s failed", job_id)

        scheduler.add_job(run, "interval", id=job_id, replace_existing=True, **trigger)
    return scheduler


def init_app(app: Flask) -> None:
    if not any(job_id == "replan" for job_id, _, _ in JOBS):
        register_job("replan", "marketplace.planning.services:replan_all", minutes=app.config["REPLAN_MINUTES"])
    if not app.config["SCHEDULER_ENABLED"] or app.config["TESTING"]:
        return
    scheduler = build_scheduler(app)
    scheduler.start()
    app.extensions["scheduler"] = scheduler
    log.info("in-process scheduler started", extra={"jobs": [job_id for job_id, _, _ in JOBS]})
