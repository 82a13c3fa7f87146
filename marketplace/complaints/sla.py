"""The complaint SLA: a business-hours calendar and the clocks of each category.

Complaint staff work set hours every day (``COMPLAINT_BUSINESS_HOURS``, local Asia/Shanghai
times, default 08:00–20:00). An SLA of N minutes is N *business* minutes: a complaint filed at
19:50 with a 60-minute first response is due at 08:50 the next morning, one filed at 03:00 is
due at 09:00. Pure functions of their inputs (no clock read here): the callers pass "now".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from flask import current_app

from ..i18n import LOCAL_TZ

DEFAULT_HOURS = ("08:00", "20:00")
#: minutes of business time per category: (first response, resolution)
DEFAULT_TARGETS: dict[str, tuple[int, int]] = {
    "late": (60, 8 * 60),
    "damaged": (60, 12 * 60),
    "wrong_item": (60, 8 * 60),
    "missing_item": (60, 8 * 60),
    "quality": (120, 24 * 60),
    "courier_conduct": (120, 24 * 60),
    "other": (240, 24 * 60),
}
#: a clock is "near breach" when at most this share of its business minutes is left
NEAR_SHARE = 0.25


@dataclass(frozen=True)
class Calendar:
    opens: time
    closes: time

    def __post_init__(self) -> None:
        if not self.opens < self.closes:
            raise ValueError("business hours must open before they close (same day)")

    def _day_bounds(self, day) -> tuple[datetime, datetime]:
        return (datetime.combine(day, self.opens, LOCAL_TZ), datetime.combine(day, self.closes, LOCAL_TZ))

    def add(self, start: datetime, minutes: int) -> datetime:
        """``start`` + ``minutes`` business minutes (UTC)."""
        if start.tzinfo is None:
            raise ValueError("naive datetime")
        left = timedelta(minutes=minutes)
        local = start.astimezone(LOCAL_TZ)
        day = local.date()
        while True:
            opens, closes = self._day_bounds(day)
            begin = max(local, opens)
            if begin < closes:
                if begin + left <= closes:
                    return (begin + left).astimezone(UTC)
                left -= closes - begin
            day += timedelta(days=1)
            local = datetime.combine(day, time(0), LOCAL_TZ)

    def between(self, start: datetime, end: datetime) -> int:
        """Business minutes from ``start`` to ``end`` (negative when end is before start)."""
        if end < start:
            return -self.between(end, start)
        total = timedelta()
        day = start.astimezone(LOCAL_TZ).date()
        last = end.astimezone(LOCAL_TZ).date()
        while day <= last:
            opens, closes = self._day_bounds(day)
            begin, finish = max(start, opens), min(end, closes)
            if finish > begin:
                total += finish - begin
            day += timedelta(days=1)
        return int(total.total_seconds() // 60)


def calendar() -> Calendar:
    opens, closes = current_app.config.get("COMPLAINT_BUSINESS_HOURS", DEFAULT_HOURS)
    return Calendar(time.fromisoformat(opens), time.fromisoformat(closes))


def targets(category: str) -> tuple[int, int]:
    configured = current_app.config.get("COMPLAINT_SLA_MINUTES", {})
    return tuple(configured.get(category, DEFAULT_TARGETS.get(category, DEFAULT_TARGETS["other"])))  # type: ignore[return-value]


def due_times(category: str, filed_at: datetime) -> tuple[datetime, datetime]:
    """(first response due, resolution due) of a complaint of ``category`` filed at ``filed_at``."""
    first, resolve = targets(category)
    cal = calendar()
    return cal.add(filed_at, first), cal.add(filed_at, resolve)


@dataclass(frozen=True)
class Clock:
    """One SLA clock of a complaint as staff see it."""

    name: str  # "first_response" | "resolution"
    due_at: datetime
    met_at: datetime | None
    minutes_left: int  # business minutes; negative once breached
    state: str  # "met" | "ok" | "near" | "breached" | "met_late"

    @property
    def running(self) -> bool:
        return self.met_at is None


def clock(name: str, due_at: datetime | None, met_at: datetime | None, total_minutes: int,
          now: datetime) -> Clock | None:
    if due_at is None:
        return None
    cal = calendar()
    if met_at is not None:
        return Clock(name, due_at, met_at, cal.between(met_at, due_at), "met" if met_at <= due_at else "met_late")
    left = cal.between(now, due_at)
    if now >= due_at:
        state = "breached"
    elif left <= max(1, int(total_minutes * NEAR_SHARE)):
        state = "near"
    else:
        state = "ok"
    return Clock(name, due_at, None, left, state)
