"""Planning runs: which warehouse a queue worker re-planned in which planning cycle."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime, str_enum
from ..extensions import db


class PlanningRunStatus(enum.StrEnum):
    RUNNING = "running"  # claimed by a worker, planning
    DONE = "done"  # planned (a new plan, or the active one kept)
    FAILED = "failed"  # raised; the active plan stays and an alert says so


class PlanningRun(db.Model):
    """One warehouse's re-plan in one planning cycle (marketplace.tasks). The worker that
    inserts the row plans; a redelivered or duplicated message for the same cycle finds the
    row and does nothing. A claim whose worker was lost (its lease ran out while running) is
    taken over by the message's redelivery."""

    __tablename__ = "planning_runs"
    __table_args__ = (sa.UniqueConstraint("warehouse_id", "cycle"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    cycle: Mapped[str] = mapped_column(sa.String(64))
    status: Mapped[PlanningRunStatus] = mapped_column(str_enum(PlanningRunStatus), default=PlanningRunStatus.RUNNING)
    worker: Mapped[str] = mapped_column(sa.String(160))
    attempts: Mapped[int] = mapped_column(default=1)  # >1: taken over after a lost worker
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("plans.id"))  # None: the active plan stayed
    error: Mapped[str | None] = mapped_column(sa.String(300))


class WindowMiss(db.Model):
    """A window class a quote could not offer for a product because its units sat only at the
    cooperative (a pickup first): the demand that replenishment to that warehouse would win.
    One row per (product, warehouse, window class, consumer) and hour at most."""

    __tablename__ = "window_misses"
    __table_args__ = (sa.Index("ix_window_misses_product_at", "product_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[int] = mapped_column(sa.ForeignKey("products.id"))
    warehouse_id: Mapped[int] = mapped_column(sa.ForeignKey("warehouses.id"))
    window_code: Mapped[str] = mapped_column(sa.String(8))
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    quantity: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
