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

import dataclasses
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

#: The users the fixtures make, and the seeded county's accounts, keep a quick hash of their
#: password: the product's (werkzeug's scrypt) takes ~70 ms of CPU to make and again at every
#: sign-in, which was the biggest cost of the suite. What the product itself hashes (registering,
#: changing or resetting a password) still goes through its own method.
QUICK_HASH = "pbkdf2:sha256:1000"


def quick_hash(password: str) -> str:
    from werkzeug.security import generate_password_hash

    return generate_password_hash(password, method=QUICK_HASH)

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


# --- throwaway databases ----------------------------------------------------------------------
# Every test database is thrown away after the run, so none of them waits for the disk at each
# commit (an fsync costs ~10 ms here; the suite commits tens of thousands of times). Only
# durability after a crash of the machine changes; what a transaction sees does not.


@sa.event.listens_for(sa.engine.Engine, "connect")
def _sqlite_without_fsync(dbapi_connection, connection_record) -> None:
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        dbapi_connection.execute("PRAGMA synchronous = OFF")


def _pg_admin(url: sa.engine.URL, *statements: str) -> None:
    """Run statements on the server's ``postgres`` database (creating and dropping databases)."""
    import psycopg

    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def xdist_worker() -> str | None:
    """The pytest-xdist worker running this process (``gw0``, ``gw1``…), None without xdist."""
    return os.environ.get("PYTEST_XDIST_WORKER")


@pytest.fixture(scope="session")
def database_uri(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """SQLite: a file of this process's own. PostgreSQL: TEST_DATABASE_URL, or under xdist a
    database of this worker's own made beside it (``<name>_gw0``…) and dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        return
    url = database_url(url)
    worker = xdist_worker()
    if not worker:
        yield url
        return
    given = sa.engine.make_url(url)
    mine = given.set(database=f"{given.database}_{worker}")
    _pg_admin(given, f'DROP DATABASE IF EXISTS "{mine.database}" WITH (FORCE)', f'CREATE DATABASE "{mine.database}"',
              f'ALTER DATABASE "{mine.database}" SET synchronous_commit = off')
    try:
        yield mine.render_as_string(hide_password=False)
    finally:
        _pg_admin(given, f'DROP DATABASE IF EXISTS "{mine.database}" WITH (FORCE)')


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
        if db.engine.dialect.name == "postgresql":
            _pg_load(None)
            return
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            for table in tables:
                conn.execute(sa.text(f'DELETE FROM "{table}"'))


# --- PostgreSQL: the rows of a database, kept and put back --------------------------------------


@dataclasses.dataclass(frozen=True)
class PgRows:
    """Every table's rows (binary COPY) and every sequence's position; None of them: empty."""

    tables: dict[str, bytes]
    sequences: dict[str, int | None]


def _pg_tables(conn: sa.Connection) -> list[str]:
    """The tables, parents before children (the models' order, then any the models lack)."""
    present = set(conn.exec_driver_sql(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'alembic_version'"
    ).scalars())
    ordered = [t.name for t in db.metadata.sorted_tables if t.name in present]
    return ordered + sorted(present - set(ordered))


def _pg_nonempty(conn: sa.Connection, tables: list[str]) -> list[str]:
    union = " UNION ALL ".join(f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables)
    return list(conn.exec_driver_sql(union).scalars())


def _pg_dump() -> PgRows:
    with db.engine.begin() as conn:
        tables = _pg_nonempty(conn, _pg_tables(conn))
        raw = conn.connection.driver_connection
        rows = {}
        with raw.cursor() as cursor:
            for table in tables:
                with cursor.copy(f'COPY "{table}" TO STDOUT (FORMAT binary)') as copy:
                    rows[table] = b"".join(bytes(chunk) for chunk in copy)
        sequences = dict(conn.exec_driver_sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), last_value FROM pg_sequences"
            " WHERE schemaname = current_schema()").all())
    return PgRows(rows, sequences)


def _pg_load(rows: PgRows | None) -> None:
    """Empty every table that holds rows and write ``rows`` back (None: leave them empty), and set
    every sequence where it was (None: at its start, as TRUNCATE … RESTART IDENTITY would), in one
    transaction. Foreign keys are not checked meanwhile (the rows were consistent when kept)."""
    rows = rows or PgRows({}, {})
    with db.engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        tables = _pg_tables(conn)
        present = _pg_nonempty(conn, tables)
        for table in present:  # DELETE: TRUNCATE makes new files for every table (~1 s for them all)
            conn.exec_driver_sql(f'DELETE FROM "{table}"')
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            for table in tables:
                if table in rows.tables:
                    with cursor.copy(f'COPY "{table}" FROM STDIN (FORMAT binary)') as copy:
                        copy.write(rows.tables[table])
        sequences = conn.exec_driver_sql(
            "SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename), start_value, last_value"
            " FROM pg_sequences WHERE schemaname = current_schema()").all()
        calls = []
        for name, start, last in sequences:
            value = rows.sequences.get(name)
            if value is not None:
                calls.append(f"setval('{name}', {int(value)}, true)")
            elif last is not None:  # moved since: back to its start
                calls.append(f"setval('{name}', {int(start)}, false)")
        if calls:
            conn.exec_driver_sql("SELECT " + ", ".join(calls))


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
            user = User(mobile=mobile or f"1390000{next(counter):04d}", role=role, name=fields.pop("name", role.value),
                        password_hash=quick_hash(password), **fields)
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
    fraction of that. SQLite: a copy of the file. PostgreSQL: every table's rows and sequence,
    kept in memory and written back (COPY) into the emptied tables: far quicker than a template
    database, which copies the whole catalog and checkpoints each time.

    Under pytest-xdist, what :meth:`obtain` makes (the seeded counties, a pure function of their
    name) is also written to a folder the workers share: a county is seeded once per run, by the
    first worker that needs it, and the others load it."""

    def __init__(self, app: Flask, folder: Path, shared: Path | None = None) -> None:
        self.app = app
        self.url = sa.engine.make_url(app.config["SQLALCHEMY_DATABASE_URI"])
        self.postgres = self.url.get_backend_name() == "postgresql"
        self.folder = folder
        self.shared = shared
        self.saved: dict[str, dict[str, int]] = {}
        self._rows: dict[str, PgRows] = {}

    def _quiesce(self) -> None:
        from marketplace.planning import promise

        promise.invalidate()
        with self.app.app_context():
            db.session.remove()
            if not self.postgres:  # the file is replaced under it
                db.engine.dispose()

    def _copy_path(self, name: str) -> Path:
        return self.folder / f"{name}.sqlite3"

    def save(self, name: str, counts: dict[str, int]) -> None:
        self._quiesce()
        if self.postgres:
            with self.app.app_context():
                self._rows[name] = _pg_dump()
        else:
            shutil.copyfile(self.url.database, self._copy_path(name))
        self.saved[name] = counts

    def restore(self, name: str) -> dict[str, int]:
        self._quiesce()
        if self.postgres:
            with self.app.app_context():
                _pg_load(self._rows[name])
        else:
            shutil.copyfile(self._copy_path(name), self.url.database)
        return self.saved[name]

    def obtain(self, name: str, make) -> dict[str, int]:
        """Restore ``name``; the first time, load it from the shared folder or ``make()`` it (which
        saves it as ``name``) and share it."""
        if name in self.saved:
            return self.restore(name)
        if self.shared is None:
            return make()
        import fcntl
        import pickle

        published = self.shared / f"{name}.snapshot"
        with open(self.shared / f"{name}.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # another worker making it: wait for it
            if published.exists():
                counts, rows = pickle.loads(published.read_bytes())
                if self.postgres:
                    self._rows[name] = rows
                else:
                    self._copy_path(name).write_bytes(rows)
                self.saved[name] = counts
                return self.restore(name)
            counts = make()
            assert name in self.saved, f"make() did not save the snapshot {name}"
            rows = self._rows[name] if self.postgres else self._copy_path(name).read_bytes()
            partial = published.with_suffix(".partial")
            partial.write_bytes(pickle.dumps((counts, rows)))
            partial.rename(published)
            return counts


@pytest.fixture(scope="session")
def snapshots(app: Flask, tmp_path_factory: pytest.TempPathFactory) -> Snapshots:
    shared = None
    if xdist_worker():  # the workers' temporary folders are popen-gw0… in the run's own
        shared = tmp_path_factory.getbasetemp().parent / "shared-snapshots"
        shared.mkdir(exist_ok=True)
    return Snapshots(app, tmp_path_factory.mktemp("snapshots"), shared)


def _quick_demo_passwords() -> None:
    """The seeded accounts' password (the demo password) hashed quickly (see :data:`QUICK_HASH`)."""
    from werkzeug.security import check_password_hash

    from seed.load import DEMO_PASSWORD

    for hashed in db.session.scalars(sa.select(User.password_hash).distinct()).all():
        if hashed and not hashed.startswith(QUICK_HASH) and check_password_hash(hashed, DEMO_PASSWORD):
            db.session.execute(sa.update(User).where(User.password_hash == hashed)
                               .values(password_hash=quick_hash(DEMO_PASSWORD)))
    db.session.commit()


def seed_snapshot(app: Flask, snapshots: Snapshots, name: str, instant: datetime, history_days: int = 2,
                  plan: bool = True) -> dict[str, int]:
    """The demo county seeded on a clock stopped at ``instant`` (the same instant always yields
    the same county) with ``history_days`` of history (two by default, to keep tests quick) and,
    with ``plan``, a current plan for every warehouse; kept as the snapshot ``name`` (seeded the
    first time, restored after)."""

    def make() -> dict[str, int]:
        from marketplace.planning import services as planning
        from seed import load

        _wipe(app)
        with time_machine.travel(instant, tick=False), app.app_context():
            load.seed_all(history_days=history_days, progress=False)
            _quick_demo_passwords()
            if plan:
                planning.replan_all(seconds=0.5)  # every warehouse has a current plan to quote against
            counts = load.row_counts()
            db.session.remove()
        snapshots.save(name, counts)
        return counts

    return snapshots.obtain(name, make)


@pytest.fixture
def seeded(app: Flask, snapshots: Snapshots) -> dict[str, int]:
    """The demo county as of the session clock's start (whatever ran before, and for how long),
    restored from a snapshot after the first time."""
    return seed_snapshot(app, snapshots, "seeded", session_instant())


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
        counts = seed_snapshot(app, snapshots, name, instant)
        clock.move_to(instant)
        return counts

    return at


SCREENSHOTS = Path(__file__).parent / "browser" / "screenshots"
