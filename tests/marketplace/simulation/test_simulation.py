"""The simulator (marketplace/simulation): a tiny run on its own SQLite database, twice with one
seed: what can be reproducible is, and the report says what the database holds. And it never
touches a database that holds data it did not make."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.simulation import engine, world

START = datetime(2026, 12, 2, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai: the morning peak


def _tiny(seed: int) -> engine.Settings:
    # 4 simulated hours with the orders of a 60-a-day profile, short solves, a re-plan every 20 min
    return engine.Settings(days=1, hours=4, orders_per_day=60, seed=seed, solve_seconds=0.1, replan_minutes=20)


def _database_truth(url: str, user_ids_prefix: str = engine.MOBILE_PREFIX) -> dict:
    """The same numbers read back with plain SQL, sharing no code with kpi.py."""
    eng = sa.create_engine(url)
    with eng.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT w.code, o.status, o.delivered_at, o.deadline_at FROM orders o"
            " JOIN users u ON u.id = o.user_id JOIN window_classes w ON w.id = o.window_class_id"
            " WHERE u.mobile LIKE :p"), {"p": user_ids_prefix + "%"}).all()
        comp = conn.execute(sa.text(
            "SELECT COALESCE(SUM(c.amount_fen), 0) FROM compensations c JOIN orders o ON o.id = c.order_id"
            " JOIN users u ON u.id = o.user_id WHERE u.mobile LIKE :p"), {"p": user_ids_prefix + "%"}).scalar()
        complaints = conn.execute(sa.text(
            "SELECT COUNT(*) FROM complaints c JOIN users u ON u.id = c.user_id WHERE u.mobile LIKE :p"),
            {"p": user_ids_prefix + "%"}).scalar()
    eng.dispose()
    on_time: dict[str, list[int]] = {}
    for code, status, delivered_at, deadline_at in rows:
        if status == "delivered":
            pair = on_time.setdefault(code, [0, 0])
            pair[0 if delivered_at <= deadline_at else 1] += 1  # (ISO text in SQLite: compares as time)
    return {"orders": len(rows), "on_time": on_time, "compensation_fen": comp, "complaints": complaints,
            "delivered": sum(1 for r in rows if r[1] == "delivered")}


def test_a_tiny_simulation_is_reproducible_and_its_report_is_the_database(tmp_path: Path) -> None:
    settings = _tiny(seed=7)
    settings.start = START
    first = engine.run(settings, f"sqlite:///{tmp_path / 'a.db'}")
    second_settings = _tiny(seed=7)
    second_settings.start = START
    second = engine.run(second_settings, f"sqlite:///{tmp_path / 'b.db'}")
    a, b = first.report, second.report

    # the demand and the world are the seed's: the same consumers asked for the same windows
    assert a["demand"]["attempts"] == b["demand"]["attempts"] > 5
    assert {k: w["requested"] for k, w in a["windows"].items()} == {k: w["requested"] for k, w in b["windows"].items()}
    assert {z: f["hidden"] for z, f in a["zone_factors"].items()} == {z: f["hidden"] for z, f in b["zone_factors"].items()}
    hidden = {z: f["hidden"] for z, f in a["zone_factors"].items()}
    initial = {z: f["initial"] for z, f in a["zone_factors"].items()}
    assert hidden != initial and all(1.0 <= h <= 1.9 for h in hidden.values())
    # the demand stream is the seed's alone, and another seed is another day of demand
    day = START.date()
    assert world.wishes(day, 60, 40, [1, 2, 3], random.Random("7:demand")) == \
        world.wishes(day, 60, 40, [1, 2, 3], random.Random("7:demand"))
    assert world.wishes(day, 60, 40, [1, 2, 3], random.Random("7:demand")) != \
        world.wishes(day, 60, 40, [1, 2, 3], random.Random("8:demand"))

    # real orders went through checkout, were driven and delivered
    assert a["orders_taken"] > 0 and a["deliveries_made"] > 0 and a["km_total"] > 0
    assert a["planning"]["cycles"] > 5 and a["planning"]["cycle_seconds_p95"] >= a["planning"]["cycle_seconds_p50"]

    # the report is the database
    for outcome in (first, second):
        r, truth = outcome.report, _database_truth(outcome.url)
        assert r["orders_taken"] == truth["orders"]
        assert r["orders_by_status"].get("delivered", 0) == truth["delivered"]
        for code, (on_time, late) in truth["on_time"].items():
            assert (r["on_time"][code]["on_time"], r["on_time"][code]["late"]) == (on_time, late)
        assert r["compensation"]["fen"] == truth["compensation_fen"]
        assert r["complaints"]["count"] == truth["complaints"]
        json.dumps(r)  # (the --report file)


def test_it_refuses_a_database_holding_data_it_did_not_make(tmp_path: Path) -> None:
    real = tmp_path / "real.db"
    eng = sa.create_engine(f"sqlite:///{real}")
    with eng.begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY, mobile TEXT)"))
        conn.execute(sa.text("CREATE TABLE audit_log (id INTEGER PRIMARY KEY, action TEXT)"))
        conn.execute(sa.text("INSERT INTO users (mobile) VALUES ('13957800099')"))
    with pytest.raises(engine.RefusedDatabase):
        engine.prepare_database(f"sqlite:///{real}")
    assert real.exists()  # untouched
    with eng.begin() as conn:
        assert conn.execute(sa.text("SELECT COUNT(*) FROM users")).scalar() == 1

    other = tmp_path / "other.db"
    with sa.create_engine(f"sqlite:///{other}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE invoices (id INTEGER PRIMARY KEY)"))
    with pytest.raises(engine.RefusedDatabase):
        engine.prepare_database(f"sqlite:///{other}")

    # one a simulation made is emptied for the next run; an empty one is taken as it is
    with eng.begin() as conn:
        conn.execute(sa.text("INSERT INTO audit_log (action) VALUES (:a)"), {"a": engine.MARKER})
    eng.dispose()
    assert engine.prepare_database(f"sqlite:///{real}") == "simulation"
    assert not real.exists()
    assert engine.prepare_database(f"sqlite:///{tmp_path / 'new.db'}") == "empty"


def test_the_command_refuses_the_apps_own_and_foreign_databases(app, tmp_path: Path) -> None:
    runner = app.test_cli_runner()
    result = runner.invoke(args=["simulate", "--database-url", app.config["SQLALCHEMY_DATABASE_URI"]])
    assert result.exit_code == 2 and "own database" in result.output
    real = tmp_path / "real.db"
    with sa.create_engine(f"sqlite:///{real}").begin() as conn:
        conn.execute(sa.text("CREATE TABLE users (id INTEGER PRIMARY KEY)"))
        conn.execute(sa.text("INSERT INTO users DEFAULT VALUES"))
    result = runner.invoke(args=["simulate", "--database-url", f"sqlite:///{real}"])
    assert result.exit_code == 2 and "refused" in result.output
