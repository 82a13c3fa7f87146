"""The test clock (tests/conftest.py): the session runs at SHANHUO_TEST_CLOCK, never on the wall
clock; a test moves time with ``clock``, or gets the demo county as of an hour with ``seeded_at``."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.models import Order, Plan

from .conftest import SHANGHAI, parse_instant, session_instant


def test_the_session_runs_on_the_frozen_clock_which_ticks():
    start = session_instant()
    now = utcnow()  # what every service calls "now"
    assert start <= now < start + timedelta(hours=1)  # the session's run time, not the wall clock
    assert datetime.now(SHANGHAI) - now < timedelta(seconds=5)
    time.sleep(0.05)
    assert utcnow() > now  # it ticks: timeouts and sleeps work


def test_the_clock_moves_within_a_test_and_the_session_clock_resumes_after(clock):
    clock.move_to("2027-02-10T16:00:00Z", tick=False)
    assert utcnow() == datetime(2027, 2, 10, 16, 0, tzinfo=UTC)
    assert clock.local_now() == datetime(2027, 2, 11, 0, 0, tzinfo=SHANGHAI)  # past midnight in Shanghai
    clock.shift(timedelta(minutes=90))
    assert utcnow() == datetime(2027, 2, 10, 17, 30, tzinfo=UTC)
    clock.at_local("23:50")  # on the current day in Shanghai
    assert clock.local_now().replace(second=0, microsecond=0) == datetime(2027, 2, 11, 23, 50, tzinfo=SHANGHAI)


def test_the_session_clock_is_back_after_a_test_that_moved_it():
    assert session_instant() <= utcnow() < session_instant() + timedelta(hours=1)


def test_instants_need_an_offset():
    assert parse_instant("2026-12-01T10:30:00+08:00") == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    with pytest.raises(ValueError, match="offset"):
        parse_instant("2026-12-01T10:30:00")


def test_seeded_at_gives_the_county_as_of_that_hour(app, seeded_at):
    seeded_at("21:50")  # ten minutes before the last shift ends
    local = datetime.now(SHANGHAI)
    assert (local.hour, local.minute) == (21, 50)
    with app.app_context():
        placed = db.session.scalars(sa.select(Order.placed_at)).all()
        assert placed and max(placed) <= utcnow()  # nothing placed in the future
        planned = db.session.scalars(sa.select(Plan.created_at).where(Plan.status == "active")).all()
        assert planned and all(timedelta(0) <= utcnow() - at < timedelta(minutes=1) for at in planned)  # at that hour
