"""Shared fixtures: one application per test session on a throwaway database built by the real
migrations (SQLite file by default, PostgreSQL when TEST_DATABASE_URL is set), and rows wiped
after every test.

Tests never read the wall clock: the whole session runs on a frozen clock (time-machine),
started in :func:`pytest_configure`, before the app is created or anything is seeded, at
``SHANHUO_TEST_CLOCK`` (an ISO instant with its offset, e.g. ``2026-12-01T19:30:00Z``; default
:data:`DEFAULT_TEST_CLOCK`). It ticks (sleeps, timeouts and threads work), so "now" is that
instant plus the seconds the run has taken. ``time.monotonic``/``perf_counter`` are real. A
forked worker (the OR-Tools process pool) inherits the travelled clock; Chromium (tests/browser)
has its own real clock, the server it talks to runs on the travelled one. Tests that need
another hour use the :func:`clock` fixture, and :func:`seeded_at` for the demo county as of
that hour (``seeded`` is always as of the session clock's start)."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine
from flask import Flask
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.config import TestConfig, database_url
from marketplace.extensions import db, limiter
from marketplace.models import Role, User

PASSWORD = "Shanhuo2026"

# --- the frozen clock -------------------------------------------------------------------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
CLOCK_ENV = "SHANHUO_TEST_CLOCK"
DEFAULT_TEST_CLOCK = "2026-12-01T02:30:00Z"  # 10:30 in Shanghai: every van is on its shift

_session_clock: dict[str, object] = {}


def parse_instant(value: str) -> datetime:
    """An ISO instant with its offset (``Z`` or ``+08:00``) as an aware UTC datetime; a naive one
    is refused (whose clock would it be?)."""
    instant = datetime.fromisoformat(value.strip())
    if instant.tzinfo is None:
        raise ValueError(f"{value!r} has no offset: write it as UTC, e.g. 2026-12-01T02:30:00Z")
    return instant.astimezone(UTC)


def session_instant() -> datetime:
    """Where the session clock started (``SHANHUO_TEST_CLOCK`` or :data:`DEFAULT_TEST_CLOCK`)."""
    return _session_clock["instant"]  # type: ignore[return-value]


def pytest_configure(config: pytest.Config) -> None:
    raw = os.environ.get(CLOCK_ENV) or DEFAULT_TEST_CLOCK
    try:
        instant = parse_instant(raw)
    except ValueError as error:
        raise pytest.UsageError(f"{CLOCK_ENV}: {error}") from None
    travel = time_machine.travel(instant, tick=True)
    travel.start()
    _session_clock.update(instant=instant, travel=travel)


def pytest_unconfigure(config: pytest.Config) -> None:
    travel = _session_clock.pop("travel", None)
    if travel is not None:
        travel.stop()  # type: ignore[attr-defined]


def _clock_line() -> str:
    instant = session_instant()
    return (f"test clock: {instant:%Y-%m-%d %H:%M:%S} UTC = {instant.astimezone(SHANGHAI):%Y-%m-%d %H:%M} Shanghai"
            f" ({CLOCK_ENV}={os.environ.get(CLOCK_ENV) or 'unset, default ' + DEFAULT_TEST_CLOCK})")


def pytest_report_header(config: pytest.Config) -> str:
    return _clock_line()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.write_line(_clock_line())  # also under -q, which hides the header


class Clock:
    """The test's clock, on top of the session's: ``move_to`` an instant (aware datetime or ISO
    string with offset) or a Shanghai wall-clock time (``at_local("23:50")``), ``shift`` by a
    timedelta or seconds. It ticks unless told ``tick=False``. The session clock resumes after
    the test. Cached quoting states are not touched: moving time under a warm cache is what a
    long-running process sees too."""

    def __init__(self) -> None:
        self._travel = time_machine.travel(datetime.now(UTC), tick=True)
        self._traveller = self._travel.start()

    def now(self) -> datetime:
        return datetime.now(UTC)

    def local_now(self) -> datetime:
        return datetime.now(SHANGHAI)

    def move_to(self, when: datetime | str, tick: bool | None = None) -> datetime:
        instant = parse_instant(when) if isinstance(when, str) else when
        if instant.tzinfo is None:
            raise ValueError("naive datetime given to the test clock")
        self._traveller.move_to(instant.astimezone(UTC), tick=tick)
        return instant.astimezone(UTC)

    def at_local(self, hhmm: str | time, day: date | None = None, tick: bool | None = None) -> datetime:
        """Move to a Shanghai wall-clock time on ``day`` (default: today in Shanghai)."""
        at = time.fromisoformat(hhmm) if isinstance(hhmm, str) else hhmm
        local = datetime.combine(day or self.local_now().date(), at, SHANGHAI)
        return self.move_to(local, tick=tick)

    def shift(self, delta: timedelta | float) -> datetime:
        self._traveller.shift(delta)
        return self.now()

    def stop(self) -> None:
        self._travel.stop()


@pytest.fixture
def clock() -> Iterator[Clock]:
    """Move time within a test (see :class:`Clock`); the session clock resumes afterwards."""
    test_clock = Clock()
    try:
        yield test_clock
    finally:
        test_clock.stop()


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return database_url(url)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def app(database_uri: str) -> Iterator[Flask]:
    from flask_migrate import upgrade

    app = create_app(type("SessionTestConfig", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri}))
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


def _wipe(app: Flask) -> None:
    from marketplace.planning import promise

    promise.invalidate()  # quoting states cached per process belong to the wiped data
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(sa.text("TRUNCATE " + ", ".join(f'"{t}"' for t in tables) + " RESTART IDENTITY CASCADE"))
            else:
                for table in tables:
                    conn.execute(sa.text(f'DELETE FROM "{table}"'))


@pytest.fixture(autouse=True)
def _clean_database(request: pytest.FixtureRequest) -> Iterator[None]:
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    limiter.reset()
    yield
    _wipe(app)


@pytest.fixture
def ctx(app: Flask) -> Iterator[None]:
    with app.app_context():
        yield
        db.session.remove()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_user(app: Flask):
    """Create a user of a role (a cooperative head gets a cooperative)."""
    counter = iter(range(10_000))

    def make(role: Role = Role.CONSUMER, mobile: str | None = None, password: str = PASSWORD, **fields) -> User:
        with app.app_context():
            if role == Role.COOP_HEAD and "cooperative_id" not in fields:
                fields["cooperative_id"] = _a_cooperative()
            user = User(mobile=mobile or f"1390000{next(counter):04d}", role=role, name=fields.pop("name", role.value), **fields)
            user.set_password(password)
            db.session.add(user)
            db.session.commit()
            db.session.refresh(user)
            db.session.expunge(user)
            return user

    return make


def _a_cooperative() -> int:
    from marketplace.models import Cooperative, County, Town, Village, Zone

    zone = Zone(code=f"Z{os.urandom(3).hex()}", name_zh="测试片", name_en="Test zone")
    county = County(code=os.urandom(3).hex(), name_zh="测试县", name_en="Test County", lat=28.6, lon=119.3)
    town = Town(code=os.urandom(3).hex(), county=county, zone=zone, name_zh="测试镇", name_en="Test Town", lat=28.6, lon=119.3)
    village = Village(code=os.urandom(3).hex(), town=town, zone=zone, name_zh="测试村", name_en="Test Village", lat=28.6, lon=119.3)
    coop = Cooperative(code=os.urandom(3).hex(), name_zh="测试合作社", name_en="Test Cooperative",
                       licence_no=os.urandom(9).hex(), village=village, head_name="测试", head_mobile="13900000000")
    db.session.add(coop)
    db.session.flush()
    return coop.id


CSRF_RE = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str = "/login") -> str:
    html = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(html)
    assert match, f"no CSRF token on {path}"
    return match.group(1)


def login(client: FlaskClient, mobile: str, password: str = PASSWORD):
    token = csrf_token(client, "/login")
    return client.post("/login", data={"mobile": mobile, "password": password, "csrf_token": token})


def texted_code(app: Flask, mobile: str) -> str | None:
    """The code in the newest text message the sandbox SMS gateway sent to ``mobile``."""
    from marketplace.models import SmsMessage

    with app.app_context():
        body = db.session.scalar(sa.select(SmsMessage.body).where(SmsMessage.mobile == mobile)
                                 .order_by(SmsMessage.id.desc()).limit(1))
        db.session.remove()
    match = re.search(r"\b(\d{6})\b", body or "")
    return match.group(1) if match else None


def register(app: Flask, client: FlaskClient, mobile: str, password: str = PASSWORD, name: str = "",
             confirm: str | None = None):
    """Register through the two HTML steps: ask for a code, then post it with the password."""
    client.post("/register/code", data={"send-mobile": mobile, "send-csrf_token": csrf_token(client)})
    return client.post("/register", data={
        "mobile": mobile, "code": texted_code(app, mobile) or "000000", "name": name, "password": password,
        "confirm": password if confirm is None else confirm, "csrf_token": csrf_token(client)})


class Snapshots:
    """Seeding the demo county takes seconds; restoring a copy of a seeded database takes a
    fraction of that. SQLite: a copy of the file. PostgreSQL: a template database."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.saved: dict[str, dict[str, int]] = {}

    def _quiesce(self) -> None:
        from marketplace.planning import promise

        promise.invalidate()
        with self.app.app_context():
            db.session.remove()
            db.engine.dispose()

    def _admin(self, *statements: str) -> None:
        import psycopg

        admin = self.url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
        with psycopg.connect(admin, autocommit=True) as conn:
            for statement in statements:
                conn.execute(statement)

    def _copy_name(self, name: str) -> str:
        return f"{self.url.database}_{name}"

    def save(self, name: str, counts: dict[str, int]) -> None:
        self._quiesce()
        if self.url.get_backend_name() == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self._copy_name(name)}" WITH (FORCE)',
                        f'CREATE DATABASE "{self._copy_name(name)}" TEMPLATE "{self.url.database}"')
        else:
            shutil.copyfile(self.url.database, self._copy_name(name))
        self.saved[name] = counts

    def restore(self, name: str) -> dict[str, int]:
        self._quiesce()
        if self.url.get_backend_name() == "postgresql":
            self._admin(f'DROP DATABASE IF EXISTS "{self.url.database}" WITH (FORCE)',
                        f'CREATE DATABASE "{self.url.database}" TEMPLATE "{self._copy_name(name)}"')
        else:
            shutil.copyfile(self._copy_name(name), self.url.database)
        return self.saved[name]

    def drop(self) -> None:
        if self.url.get_backend_name() == "postgresql" and self.saved:
            self._quiesce()
            self._admin(*(f'DROP DATABASE IF EXISTS "{self._copy_name(n)}" WITH (FORCE)' for n in self.saved))


@pytest.fixture(scope="session")
def snapshots(app: Flask) -> Iterator[Snapshots]:
    keeper = Snapshots(app)
    yield keeper
    keeper.drop()


def _seed_snapshot(app: Flask, snapshots: Snapshots, name: str, instant: datetime) -> dict[str, int]:
    """Seed the demo county (two days of history, to keep tests quick) on a clock stopped at
    ``instant`` (the same instant always yields the same county), and keep it as ``name``."""
    from seed import load

    _wipe(app)
    from marketplace.planning import services as planning

    with time_machine.travel(instant, tick=False), app.app_context():
        load.seed_all(history_days=2, progress=False)
        planning.replan_all(seconds=0.5)  # every warehouse has a current plan to quote against
        counts = load.row_counts()
        db.session.remove()
    snapshots.save(name, counts)
    return counts


@pytest.fixture
def seeded(app: Flask, snapshots: Snapshots) -> dict[str, int]:
    """The demo county as of the session clock's start (whatever ran before, and for how long),
    restored from a snapshot after the first time."""
    if "seeded" in snapshots.saved:
        return snapshots.restore("seeded")
    return _seed_snapshot(app, snapshots, "seeded", session_instant())


@pytest.fixture
def seeded_at(app: Flask, snapshots: Snapshots, clock: Clock):
    """``seeded_at("21:50")``: the demo county as of that Shanghai wall-clock time on the
    session's day (seeded there the first time, then restored), with the test's clock moved
    there. For time-of-day tests: moving the clock under ``seeded`` instead leaves its open
    orders placed in the future, or overdue."""

    def at(hhmm: str) -> dict[str, int]:
        day = session_instant().astimezone(SHANGHAI).date()
        instant = datetime.combine(day, time.fromisoformat(hhmm), SHANGHAI).astimezone(UTC)
        name = f"seeded_{instant:%Y%m%d_%H%M}"
        counts = snapshots.restore(name) if name in snapshots.saved else _seed_snapshot(app, snapshots, name, instant)
        clock.move_to(instant)
        return counts

    return at


SCREENSHOTS = Path(__file__).parent / "browser" / "screenshots"
