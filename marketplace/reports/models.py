"""Statistics reports (nightly KPIs, the monthly report for the county commerce bureau)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..columns import TimestampMixin, UTCDateTime
from ..extensions import db


class StatisticsReport(TimestampMixin, db.Model):
    """A report's numbers, computed once and kept (``data``): downloads and pages render from this
    snapshot, so a report reads the same however the orders change later. Generating a period
    again (an operator's explicit choice, audited) stores a new revision beside the old one; the
    unique key makes a second insert of the same revision (the month-end job on two servers, a
    double submit) fail instead of duplicating."""

    __tablename__ = "statistics_reports"
    __table_args__ = (sa.UniqueConstraint("kind", "period_start", "period_end", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))  # "daily_kpi" | "monthly_bureau" | "bureau"
    period_start: Mapped[date]
    period_end: Mapped[date]
    revision: Mapped[int] = mapped_column(default=1, server_default=sa.text("1"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))  # None: the scheduler

    requested_by = relationship("User")
