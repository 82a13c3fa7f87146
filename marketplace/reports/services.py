"""Delivery KPIs: orders and on-time rate per window class over a period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from ..columns import utcnow
from ..extensions import db
from ..logistics.models import WindowClass
from ..orders.models import Order, OrderStatus


@dataclass(frozen=True)
class WindowKpi:
    window: WindowClass
    delivered: int
    on_time: int

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.delivered if self.delivered else None


def delivery_kpis(since: datetime | None = None) -> list[WindowKpi]:
    since = since or utcnow() - timedelta(days=30)
    on_time = sa.case((Order.delivered_at <= Order.deadline_at, 1), else_=0)
    rows = dict(
        (wid, (int(n), int(ok or 0)))
        for wid, n, ok in db.session.execute(
            sa.select(Order.window_class_id, sa.func.count(), sa.func.sum(on_time))
            .where(Order.status == OrderStatus.DELIVERED, Order.placed_at >= since)
            .group_by(Order.window_class_id)
        ).all()
    )
    windows = db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours)).all()
    return [WindowKpi(w, *rows.get(w.id, (0, 0))) for w in windows]
