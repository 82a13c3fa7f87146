"""The business-hours calendar of the complaint SLA (08:00–20:00 Shanghai every day by default):
due times before opening, at midday, across closing time and across midnight."""

from __future__ import annotations

from datetime import datetime, time

import pytest

from marketplace.complaints.sla import Calendar, clock
from marketplace.i18n import LOCAL_TZ

CAL = Calendar(time(8), time(20))


def at(day: int, hh: int, mm: int = 0) -> datetime:
    return datetime(2026, 12, day, hh, mm, tzinfo=LOCAL_TZ)


@pytest.mark.parametrize(("start", "minutes", "due"), [
    (at(1, 3, 0), 60, at(1, 9, 0)),  # before opening: the clock starts at 08:00
    (at(1, 12, 0), 60, at(1, 13, 0)),  # midday
    (at(1, 19, 30), 60, at(2, 8, 30)),  # across closing time: 30 today, 30 tomorrow
    (at(1, 20, 0), 60, at(2, 9, 0)),  # at closing time
    (at(1, 23, 50), 60, at(2, 9, 0)),  # across midnight
    (at(1, 19, 0), 24 * 60, at(3, 19, 0)),  # a day of business time is two 12-hour days
    (at(1, 8, 0), 12 * 60, at(1, 20, 0)),  # exactly a business day
])
def test_due_is_start_plus_business_minutes(start, minutes, due):
    assert CAL.add(start, minutes) == due


def test_business_minutes_between_skip_the_night():
    assert CAL.between(at(1, 19, 0), at(2, 9, 0)) == 120
    assert CAL.between(at(1, 21, 0), at(2, 7, 0)) == 0
    assert CAL.between(at(2, 9, 0), at(1, 19, 0)) == -120


def test_clock_states(app):
    with app.app_context():
        due = at(2, 9, 0)
        assert clock("first", due, None, 60, at(1, 12, 0)).state == "ok"
        near = clock("first", due, None, 60, at(1, 19, 50))  # 10 + 60 business minutes... left 70
        assert near.minutes_left == 70 and near.state == "ok"
        assert clock("first", due, None, 60, at(2, 8, 50)).state == "near"
        late = clock("first", due, None, 60, at(2, 9, 30))
        assert late.state == "breached" and late.minutes_left == -30
        assert clock("first", due, at(2, 8, 0), 60, at(2, 12, 0)).state == "met"
        assert clock("first", due, at(2, 10, 0), 60, at(2, 12, 0)).state == "met_late"


def test_hours_must_open_before_they_close():
    with pytest.raises(ValueError):
        Calendar(time(20), time(8))
