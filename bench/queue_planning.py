"""Prefecture planning: one planning cycle in-process against two Celery workers (run on purpose).

    .venv/bin/python bench/queue_planning.py [--copies 4] [--orders-factor 3] [--seconds 3] [--rounds 3]

Builds a prefecture in its own PostgreSQL database (dropped at the end): the demo county by the
real migrations and seed (as of now, on the real clock), its 3 warehouses replicated ``--copies``
times (each copy with the county's vans and open orders), every warehouse's open orders
multiplied by ``--orders-factor`` (copies placed up to ~1 km away), every warehouse planned once
so that each cycle measured is a warm rolling-horizon re-plan. That database is kept as a
template; then, in interleaved rounds, each from a fresh copy of it:

- ``inline``: ``replan_all`` in this process, one warehouse after another (the embedded default);
- ``celery``: ``replan_all`` with PLANNING_QUEUE=celery: one task per warehouse on a queue of
  this run's own, planned by two worker processes started here exactly as the README says
  (``celery -A marketplace.tasks worker -c 1 -Q <queue>``), waited for through Redis.

Prints each round's wall time, the CPU time the planning processes used (this process, or the
two workers: /proc), what the plans hold (km, vans used, orders not planned), the load average
before the round and, for the queue, how busy the two workers were (sum of the runs' durations
/ (2 × wall)).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REDIS = "redis://127.0.0.1:6379"


def admin(admin_url: str, *statements: str) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def clone(obj, **changes):
    """A new row of ``obj``'s model with its column values (but the primary key), changed by ``changes``."""
    import sqlalchemy as sa

    mapper = sa.inspect(type(obj))
    values = {a.key: getattr(obj, a.key) for a in mapper.column_attrs if not any(c.primary_key for c in a.columns)}
    return type(obj)(**{**values, **changes})


def build_prefecture(copies: int, orders_factor: int) -> None:
    """Replicate the seeded county's warehouses (with their vans and open orders) and multiply
    every warehouse's open orders."""
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.models import Order, Warehouse
    from marketplace.planning import services as planning

    rng = random.Random(7)
    originals = db.session.scalars(sa.select(Warehouse).order_by(Warehouse.id)).all()
    for warehouse in originals:
        orders = db.session.scalars(sa.select(Order).where(
            Order.warehouse_id == warehouse.id, Order.status.in_(planning.PLANNED_STATUSES))).all()
        for copy in range(copies):
            if copy == 0:
                target = warehouse
            else:
                location = clone(warehouse.location, code=f"{warehouse.location.code[:20]}~{copy}")
                db.session.add(location)
                db.session.flush()
                target = clone(warehouse, code=f"{warehouse.code}~{copy}", location_id=location.id,
                               plan_version=0, plan_reset_version=0)
                target.zones = list(warehouse.zones)
                db.session.add(target)
                db.session.flush()
                for vehicle in warehouse.vehicles:
                    db.session.add(clone(vehicle, plate=f"{vehicle.plate[:12]}~{copy}", warehouse_id=target.id))
            for order in orders:
                for k in range(orders_factor):
                    if copy == 0 and k == 0:
                        continue  # the original itself
                    twin = clone(order, number=f"{order.number[:18]}~{copy}{k}", idempotency_key=None,
                                 warehouse_id=target.id, lat=order.lat + rng.uniform(-0.008, 0.008) * (k > 0),
                                 lon=order.lon + rng.uniform(-0.008, 0.008) * (k > 0))
                    db.session.add(twin)
                    db.session.flush()
                    for line in order.lines:
                        db.session.add(clone(line, order_id=twin.id))
        db.session.commit()


def plan_summary(plan_ids: list[int | None]) -> dict[str, float]:
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.models import Plan

    plans = db.session.scalars(sa.select(Plan).where(Plan.id.in_([p for p in plan_ids if p is not None]))).all()
    return {"plans": len(plans), "km": sum(p.distance_m for p in plans) / 1000,
            "vans": sum(p.vehicles_used for p in plans), "orders": sum(p.stats["orders"] for p in plans),
            "not_planned": sum(p.stats["unassigned"] for p in plans), "broken": sum(p.stats["broken"] for p in plans)}


def busy_share(cycle: str, wall: float, workers: int) -> float:
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.models import PlanningRun

    runs = db.session.scalars(sa.select(PlanningRun).where(PlanningRun.cycle == cycle)).all()
    busy = sum((r.finished_at - r.started_at).total_seconds() for r in runs if r.finished_at)
    return busy / (workers * wall)


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes ``pids`` have used (Linux /proc)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / os.sysconf("SC_CLK_TCK")


def start_workers(n: int, queue: str, env: dict[str, str], same_session: bool = False) -> list[subprocess.Popen]:
    """``n`` workers, each in a session of its own as a service would be (with Linux's autogroup
    scheduling, the processes of one session share one session's fair share of the CPU)."""
    from marketplace import tasks

    names = [f"bench{i}-{queue}@bench" for i in range(n)]
    procs = [subprocess.Popen([sys.executable, "-m", "celery", "-A", "marketplace.tasks", "worker", "-c", "1",
                               "--pool=solo", "-Q", queue, "-n", name, "--without-gossip", "--without-mingle",
                               "--without-heartbeat", "-l", "WARNING"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=not same_session)
             for name in names]
    deadline = time.monotonic() + 60
    ready: set[str] = set()
    while ready != set(names):
        if time.monotonic() > deadline or any(p.poll() is not None for p in procs):
            raise RuntimeError("the workers did not start")
        for reply in tasks.celery.control.ping(destination=names, timeout=0.5):
            ready |= set(reply)
    return procs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres",
                    help="an administrative connection to the PostgreSQL server to build on")
    ap.add_argument("--copies", type=int, default=4, help="the county's 3 warehouses, this many times")
    ap.add_argument("--orders-factor", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=3.0, help="solve time limit per warehouse")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--same-session", action="store_true",
                    help="start the workers in this process's session (one autogroup: they share its CPU share)")
    args = ap.parse_args()

    name = f"bench_queue_{os.getpid()}"
    template = f"{name}_tmpl"
    queue = f"planning-bench-{uuid.uuid4().hex[:8]}"
    url = args.database_url.rsplit("/", 1)[0] + "/" + name
    settings = {"PLANNING_QUEUE": "inline", "PLANNING_QUEUE_NAME": queue, "CELERY_BROKER_URL": f"{REDIS}/9",
                "CELERY_RESULT_BACKEND": f"{REDIS}/10"}
    env = {**os.environ, **settings, "DATABASE_URL": url, "LOG_LEVEL": "WARNING", "SCHEDULER_ENABLED": "0",
           "SECRET_KEY": uuid.uuid4().hex, "PYTHONPATH": str(ROOT)}
    os.environ.update(env)  # (read by marketplace.config at import)

    import sqlalchemy as sa
    from flask_migrate import upgrade

    from marketplace import create_app, tasks
    from marketplace.extensions import db
    from marketplace.models import Warehouse
    from marketplace.planning import services as planning
    from seed import load

    admin(args.database_url, f'CREATE DATABASE "{name}"')
    workers: list[subprocess.Popen] = []
    app = create_app()
    try:
        t0 = time.monotonic()
        with app.app_context():
            upgrade()
            load.seed_all(history_days=1, progress=False)
            build_prefecture(args.copies, args.orders_factor)
            planning.replan_all(seconds=0.5)  # every warehouse has an active plan to re-plan from
            warehouses = db.session.scalar(sa.select(sa.func.count()).select_from(Warehouse))
            db.session.remove()
            db.engine.dispose()
        admin(args.database_url, f'CREATE DATABASE "{template}" TEMPLATE "{name}"')
        print(f"prefecture built in {time.monotonic() - t0:.0f} s: {warehouses} warehouses", flush=True)
        tasks.init_app(app)
        workers = start_workers(args.workers, queue, env, args.same_session)

        rows: list[dict] = []
        for rnd in range(args.rounds):
            modes = ("inline", "celery") if rnd % 2 == 0 else ("celery", "inline")
            for mode in modes:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
                admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
                      f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
                app.config["PLANNING_QUEUE"] = mode
                cycle = f"bench-{rnd}-{mode}"
                load1 = os.getloadavg()[0]
                planners = [os.getpid()] if mode == "inline" else [p.pid for p in workers]
                with app.app_context():
                    cpu = cpu_seconds(planners)
                    started = time.perf_counter()
                    plan_ids = planning.replan_all(seconds=args.seconds, cycle=cycle)
                    wall = time.perf_counter() - started
                    cpu = cpu_seconds(planners) - cpu
                    row = {"round": rnd + 1, "mode": mode, "wall": wall, "load": load1, **plan_summary(plan_ids),
                           "cpu": cpu, "cpu_share": cpu / (wall * len(planners)),
                           "busy": busy_share(cycle, wall, args.workers) if mode == "celery" else None}
                rows.append(row)
                print(f"round {row['round']} {mode:6s} {wall:6.1f} s  plans {row['plans']}  orders {row['orders']}  "
                      f"km {row['km']:.0f}  vans {row['vans']}  not planned {row['not_planned']}  "
                      f"broken {row['broken']}  load {load1:.2f}  planner CPU {cpu:.1f} s "
                      f"({row['cpu_share']:.0%} of its processes' wall time)"
                      + (f"  workers busy {row['busy']:.0%}" if row["busy"] is not None else ""), flush=True)
        report(rows, args, warehouses)
    finally:
        for proc in workers:
            proc.terminate()
        for proc in workers:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        admin(args.database_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)',
              f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        import redis

        redis.Redis.from_url(f"{REDIS}/9").delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")


def report(rows: list[dict], args, warehouses: int) -> None:
    print()
    print(f"{warehouses} warehouses, {args.seconds:g} s solve limit each, {args.workers} Celery workers "
          f"(--pool=solo -c 1, {'in this session' if args.same_session else 'each in its own session'}), "
          f"{os.cpu_count()} cores; median of {args.rounds} interleaved rounds")
    print()
    print("| mode | wall s (median) | rounds | planner CPU s | CPU / (wall × processes) | plans | orders | km | vans "
          "| not planned | broken |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    medians = {}
    for mode in ("inline", "celery"):
        mine = [r for r in rows if r["mode"] == mode]
        medians[mode] = statistics.median(r["wall"] for r in mine)
        last = mine[-1]
        walls = ", ".join(f"{r['wall']:.1f}" for r in mine)
        print(f"| {mode} | {medians[mode]:.1f} | {walls} | {statistics.median(r['cpu'] for r in mine):.1f} | "
              f"{statistics.median(r['cpu_share'] for r in mine):.0%} | {last['plans']} | "
              f"{last['orders']} | {statistics.median(r['km'] for r in mine):.0f} | "
              f"{statistics.median(r['vans'] for r in mine):.0f} | "
              f"{statistics.median(r['not_planned'] for r in mine):.0f} | "
              f"{statistics.median(r['broken'] for r in mine):.0f} |")
    busy = [r["busy"] for r in rows if r["busy"] is not None]
    print()
    print(f"in-process / queue: {medians['inline'] / medians['celery']:.2f}x; workers busy "
          f"{statistics.median(busy):.0%} of the queue's wall time (median)")


if __name__ == "__main__":
    main()
