"""The dispatch console on a full day's plan (run on purpose, not in CI):

    .venv/bin/python bench/dispatch_console.py [--database-url postgresql://postgres@127.0.0.1:5432/postgres]
                                               [--orders 500] [--seconds 10] [--repeat 20]

Builds the demo county in a throwaway database (PostgreSQL: created and dropped on the server
given; ``--database-url sqlite`` for a temporary SQLite file) by the real migrations and seed, on
a clock stopped at 10:30 Shanghai time, multiplies every warehouse's open orders (copies placed
up to ~1 km away, same windows and deadlines) to about ``--orders`` in all, plans every
warehouse (``--seconds`` each), then times, signed in as a dispatcher, in this process (Flask's
test client: the application's time, no network):

- the console page ``/dispatch/<warehouse>/`` (median of ``--repeat``);
- ``state.json``: the first request of the process (cold: statements compiled, templates
  loaded), a full build (no If-None-Match: the state a poll gets after any change; median), and
  an unchanged state (If-None-Match: 304; median);

for each warehouse, with its size (vehicles, routes, stops) and the JSON's size.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CLOCK = datetime(2026, 12, 1, 2, 30, tzinfo=UTC)  # 10:30 in Shanghai: every van is on its shift


def clone(obj, **changes):
    """A new row of ``obj``'s model with its column values (but the primary key), changed by ``changes``."""
    import sqlalchemy as sa

    mapper = sa.inspect(type(obj))
    values = {a.key: getattr(obj, a.key) for a in mapper.column_attrs if not any(c.primary_key for c in a.columns)}
    return type(obj)(**{**values, **changes})


def admin(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def multiply_orders(target: int) -> int:
    """Copies of the open orders of every warehouse (with their lines), ~1 km from the original,
    until there are about ``target`` open orders. Returns how many there are."""
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.models import Order
    from marketplace.planning import services as planning

    rng = random.Random(20)
    orders = db.session.scalars(sa.select(Order).where(Order.status.in_(planning.PLANNED_STATUSES))
                                .order_by(Order.id)).all()
    factor = max(1, round(target / max(1, len(orders))))
    for order in orders:
        for k in range(1, factor):
            twin = clone(order, number=f"{order.number[:20]}~{k:02d}", idempotency_key=None,
                         lat=order.lat + rng.uniform(-0.008, 0.008), lon=order.lon + rng.uniform(-0.008, 0.008))
            db.session.add(twin)
            db.session.flush()
            for line in order.lines:
                db.session.add(clone(line, order_id=twin.id))
    db.session.commit()
    return len(orders) * factor


def timed(call, repeat: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        call()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="an administrative connection to a PostgreSQL server, or 'sqlite'")
    ap.add_argument("--orders", type=int, default=500, help="open orders in all, about")
    ap.add_argument("--seconds", type=float, default=10.0, help="solve time limit per warehouse")
    ap.add_argument("--repeat", type=int, default=20)
    args = ap.parse_args()

    import time_machine

    postgres = args.database_url != "sqlite"
    name = f"bench_console_{os.getpid()}"
    if postgres:
        url = args.database_url.rsplit("/", 1)[0] + "/" + name
        admin(args.database_url, f'CREATE DATABASE "{name}"')
    else:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='bench-console-')}/console.db"
    os.environ.update({"DATABASE_URL": url, "LOG_LEVEL": "WARNING", "SCHEDULER_ENABLED": "0",
                       "SECRET_KEY": uuid.uuid4().hex})

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from marketplace import create_app
    from marketplace.dispatch.models import Plan, PlanStatus, Route, Stop
    from marketplace.extensions import db
    from marketplace.models import Role, User, Warehouse
    from marketplace.planning import services as planning
    from seed import load

    app = create_app()
    app.config.update(WTF_CSRF_ENABLED=False, RATELIMIT_ENABLED=False)
    try:
        with time_machine.travel(CLOCK, tick=False):
            t0 = time.monotonic()
            with app.app_context():
                upgrade()
                load.seed_all(history_days=1, progress=False)
                orders = multiply_orders(args.orders)
                planning.replan_all(seconds=args.seconds)
                user = User(mobile="16699990000", role=Role.DISPATCHER, name="bench")
                user.set_password("Bench-2026-console")
                db.session.add(user)
                db.session.commit()
                sizes = {}
                for w in db.session.scalars(sa.select(Warehouse).order_by(Warehouse.code)):
                    plan = db.session.scalar(sa.select(Plan.id).where(Plan.warehouse_id == w.id,
                                                                      Plan.status == PlanStatus.ACTIVE))
                    routes = db.session.scalar(sa.select(sa.func.count()).select_from(Route).where(Route.plan_id == plan))
                    stops = db.session.scalar(sa.select(sa.func.count()).select_from(Stop).join(Route)
                                              .where(Route.plan_id == plan))
                    unplanned = db.session.scalar(sa.select(Plan.stats).where(Plan.id == plan))["unassigned"]
                    sizes[w.code] = (len([v for v in w.vehicles if v.active]), routes, stops, unplanned)
                db.session.remove()
            print(f"{'PostgreSQL' if postgres else 'SQLite'}: county built and planned in {time.monotonic() - t0:.0f} s: "
                  f"{orders} open orders; per warehouse (vehicles, routes, stops, not planned): {sizes}", flush=True)

            client = app.test_client()
            response = client.post("/login", data={"mobile": "16699990000", "password": "Bench-2026-console"})
            assert response.status_code == 302, response.status_code
            print(f"{'warehouse':10} {'page ms':>8} {'state cold':>11} {'state ms':>9} {'304 ms':>7} {'JSON KB':>8}")
            for code, (vehicles, routes, stops, _unplanned) in sizes.items():
                url = f"/dispatch/{code}/state.json"
                t0 = time.perf_counter()
                first = client.get(url)
                cold = (time.perf_counter() - t0) * 1000
                assert first.status_code == 200
                etag = first.headers["ETag"]
                page, _ = timed(lambda code=code: client.get(f"/dispatch/{code}/"), args.repeat)
                full, _ = timed(lambda url=url: client.get(url), args.repeat)
                same, _ = timed(lambda url=url, etag=etag: client.get(url, headers={"If-None-Match": etag}), args.repeat)
                assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
                print(f"{code:10} {page:8.1f} {cold:11.1f} {full:9.1f} {same:7.1f} {len(first.data) / 1024:8.0f}"
                      f"   ({vehicles} vehicles, {routes} routes, {stops} stops)", flush=True)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        if postgres:
            admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
