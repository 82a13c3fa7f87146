"""Statistics reports (nightly KPIs, the monthly report for the county commerce bureau)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import TimestampMixin, UTCDateTime
from ..extensions import db


class StatisticsReport(TimestampMixin, db.Model):
    __tablename__ = "statistics_reports"
    __table_args__ = (sa.UniqueConstraint("kind", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(24))  # "daily_kpi" | "monthly_bureau"
    period_start: Mapped[date]
    period_end: Mapped[date]
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
