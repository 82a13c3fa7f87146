"""The scheduler's tables: the run log (``job_runs``, one row per job and fire time) and
APScheduler's job store (``apscheduler_jobs``: next run times that survive a restart). Both are
made by a migration, never at run time."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from .columns import UTCDateTime, str_enum, utcnow
from .extensions import db


class JobOutcome(enum.StrEnum):
    RUNNING = "running"  # claimed and started, not finished (or its runner died meanwhile)
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"  # the job chose not to run (e.g. no pg_dump), saying why


class JobRun(db.Model):
    """One run of a scheduled job. ``run_key`` is the fire time it ran for (UTC, to the second;
    ``manual:<time>`` for an operator's "run now"): the unique (job_id, run_key) lets exactly one
    runner claim a fire time; a second claim (two runners racing, a retry) fails and runs nothing."""

    __tablename__ = "job_runs"
    __table_args__ = (
        sa.UniqueConstraint("job_id", "run_key"),
        sa.Index("ix_job_runs_job_id_id", "job_id", "id"),  # the last run of a job, a job's runs
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(sa.String(64))
    run_key: Mapped[str] = mapped_column(sa.String(64))
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[JobOutcome] = mapped_column(str_enum(JobOutcome, 16), default=JobOutcome.RUNNING, index=True)
    #: the error (bounded), the reason for a skip, or a short summary of what the job did
    message: Mapped[str] = mapped_column(sa.String(2000), default="")
    host: Mapped[str] = mapped_column(sa.String(64), default="")
    pid: Mapped[int] = mapped_column(default=0)
    #: the operator who pressed "run now" (None: the schedule)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    @property
    def duration_seconds(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


#: APScheduler's SQLAlchemyJobStore table, declared here so that the migration (not the store at
#: start-up) makes it; the same columns as APScheduler 3.x's own definition.
job_store_table = sa.Table(
    "apscheduler_jobs",
    db.metadata,
    sa.Column("id", sa.Unicode(191), primary_key=True),
    sa.Column("next_run_time", sa.Double(), index=True),
    sa.Column("job_state", sa.LargeBinary(), nullable=False),
)

