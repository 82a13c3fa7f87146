"""Shared fixtures: one application per test session on a throwaway database built by the real
migrations (SQLite file by default, PostgreSQL when TEST_DATABASE_URL is set), and rows wiped
after every test."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.config import TestConfig, database_url
from marketplace.extensions import db, limiter
from marketplace.models import Role, User

PASSWORD = "Shanhuo2026"


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


@pytest.fixture
def seeded(app: Flask, snapshots: Snapshots) -> dict[str, int]:
    """The demo county (two days of history, to keep tests quick), restored from a snapshot
    after the first time."""
    if "seeded" in snapshots.saved:
        return snapshots.restore("seeded")
    from seed import load

    _wipe(app)
    from marketplace.planning import services as planning

    with app.app_context():
        load.seed_all(history_days=2, progress=False)
        planning.replan_all(seconds=0.5)  # every warehouse has a current plan to quote against
        counts = load.row_counts()
        db.session.remove()
    snapshots.save("seeded", counts)
    return counts


SCREENSHOTS = Path(__file__).parent / "browser" / "screenshots"
