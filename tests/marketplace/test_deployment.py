"""Defect 9: what a real deployment must not inherit from the demo. `flask seed` (published
passwords) needs --demo outside the embedded SQLite database; `flask create-user` makes the
first operator instead; the SQLite file is private to its owner."""

from __future__ import annotations

import os
import stat

import sqlalchemy as sa

from marketplace import create_app
from marketplace.config import TestConfig
from marketplace.extensions import db
from marketplace.models import Role, User


def _app(database_uri: str, **settings):
    return create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri, **settings}))


def test_seed_is_refused_on_a_deployment_without_demo(database_uri):
    for settings in ({"SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://x@127.0.0.1:1/prod"},
                     {"EXTERNAL_BASE_URL": "https://shop.example"}):
        app = _app(database_uri, **settings)
        result = app.test_cli_runner().invoke(args=["seed", "--quiet"])
        assert result.exit_code == 2, result.output
        assert "--demo" in result.output and "create-user" in result.output


def test_create_user_makes_an_operator_with_a_chosen_password(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-user", "--mobile", "13900000001", "--role", "operator", "--name", "运营"],
                           input="Strong2027pw\nStrong2027pw\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.mobile == "13900000001"))
        assert user.role == Role.OPERATOR and user.check_password("Strong2027pw")
    weak = runner.invoke(args=["create-user", "--mobile", "13900000002", "--role", "operator",
                               "--password", "shanhuo123"])
    assert weak.exit_code == 2
    head = runner.invoke(args=["create-user", "--mobile", "13900000003", "--role", "coop_head",
                               "--password", "Strong2027pw", "--cooperative", "NOPE"])
    assert head.exit_code == 2
    again = runner.invoke(args=["create-user", "--mobile", "13900000001", "--role", "consumer",
                                "--password", "Strong2027pw"])
    assert again.exit_code == 2
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 1


def test_the_sqlite_file_is_private(tmp_path):
    old = os.umask(0o022)
    try:
        path = tmp_path / "instance" / "shanhuo.db"
        _app(f"sqlite:///{path}")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
        path.chmod(0o644)  # a file from before: made private at the next start
        _app(f"sqlite:///{path}")
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        os.umask(old)
