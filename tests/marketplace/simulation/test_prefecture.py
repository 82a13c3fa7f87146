"""The simulator at prefecture scale (marketplace/simulation/prefecture.py) and on the job queue
(planning_queue.py): 18 warehouses whose copies do not collide, celery refused on SQLite, and a
cycle's simulated ``now`` reaching the planner through the queue's task."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace import tasks
from marketplace.extensions import db
from marketplace.models import Plan, Warehouse
from marketplace.planning import services as planning
from marketplace.simulation import engine, planning_queue, prefecture
from tests.conftest import session_instant

SECONDS = 0.2


def _warehouse_ids() -> list[int]:
    return list(db.session.scalars(sa.select(Warehouse.id).where(Warehouse.active.is_(True)).order_by(Warehouse.id)))


def test_a_cycles_now_reaches_the_planner_through_the_queue_task(app, seeded, monkeypatch):
    # a time the worker's clock is not at: the plan starts its horizon there
    now = (session_instant() + timedelta(hours=1, minutes=7)).replace(microsecond=0)
    with app.app_context():
        ids = _warehouse_ids()
        outcome = tasks.plan_warehouse_task(ids[0], SECONDS, "schedule", "c-direct", now=now.isoformat())
        assert outcome["status"] == "planned"
        assert db.session.get(Plan, outcome["plan_id"]).horizon_start == now

        # the whole way: the re-plan job on the queue sends it in each message (as JSON), the
        # task gives it to the planner (run eagerly here: no worker, no broker)
        later = now + timedelta(minutes=5)
        for key, value in {"PLANNING_QUEUE": "celery", "CELERY_BROKER_URL": "memory://",
                           "CELERY_RESULT_BACKEND": "cache+memory://"}.items():
            monkeypatch.setitem(app.config, key, value)
        for key in ("broker_url", "result_backend", "task_always_eager"):
            monkeypatch.setitem(tasks.celery.conf, key, tasks.celery.conf[key])  # (restored after the test)
        tasks.celery.conf["task_always_eager"] = True
        sent = []
        real_group = tasks.group

        def spy(signatures):
            signatures = list(signatures)
            sent.extend(signatures)
            return real_group(signatures)

        monkeypatch.setattr(tasks, "group", spy)
        plan_ids = planning.replan_all(seconds=SECONDS, cycle="c-queue", now=later)
        assert [json.loads(json.dumps(s.kwargs)) for s in sent] == [{"now": later.isoformat()}] * len(ids)
        assert None not in plan_ids and len(plan_ids) == len(ids)
        starts = db.session.scalars(sa.select(Plan.horizon_start).where(Plan.id.in_(plan_ids))).all()
        assert starts == [later] * len(ids)


def _copy(code: str) -> int:
    return int(code.rsplit("~", 1)[1]) if "~" in code else 0


def test_the_prefecture_is_18_warehouses_in_copies_that_do_not_collide(app, seeded):
    from marketplace.catalog.services import on_sale
    from marketplace.geo import services as geo
    from marketplace.models import LogisticsParameter, ParameterScope, Stock, Vehicle, Village, Zone

    with app.app_context():
        county = {w.code: (len(w.vehicles), sorted(z.code for z in w.zones))
                  for w in db.session.scalars(sa.select(Warehouse))}
        counts = prefecture.build(orders_per_day=34_000)
        warehouses = db.session.scalars(sa.select(Warehouse).order_by(Warehouse.id)).all()
        assert counts["warehouses"] == len(warehouses) == 18 == prefecture.COPIES * len(county)
        # each copy: the county's warehouses, vans and zones again, under codes of its own
        for w in warehouses:
            k, original = _copy(w.code), w.code.split("~")[0]
            vans, zones = county[original]
            assert len(w.vehicles) == vans and {_copy(v.plate) for v in w.vehicles} == {k}
            assert sorted(z.code.split("~")[0] for z in w.zones) == zones and {_copy(z.code) for z in w.zones} == {k}
            assert _copy(w.location.code) == k and _copy(w.location.zone.code) == k
        assert len({v.plate for v in db.session.scalars(sa.select(Vehicle))}) == counts["vehicles"] == 18 * 5
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Zone)) == 6 * 6
        # ... and places of its own: no two copies' boxes (villages and depots) overlap
        boxes: dict[int, list[float]] = {}
        points = [(v.code, v.lat, v.lon) for v in db.session.scalars(sa.select(Village))]
        points += [(w.location.code, w.location.lat, w.location.lon) for w in warehouses]
        for code, lat, lon in points:
            box = boxes.setdefault(_copy(code), [lat, lat, lon, lon])
            box[:] = [min(box[0], lat), max(box[1], lat), min(box[2], lon), max(box[3], lon)]
        assert sorted(boxes) == list(range(6))
        for a in boxes:
            for b in boxes:
                if a < b:
                    (s1, n1, w1, e1), (s2, n2, w2, e2) = boxes[a], boxes[b]
                    assert n1 < s2 or n2 < s1 or e1 < w2 or e2 < w1, (a, b)
        # a consumer of a copy is served by that copy's warehouse, which learns from its zones' own parameters
        for village in db.session.scalars(sa.select(Village).order_by(Village.id)):
            assert _copy(geo.warehouse_for_zone(village.zone_id).code) == _copy(village.code) == _copy(village.zone.code)
        factors = db.session.scalars(sa.select(LogisticsParameter).where(
            LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.key == "travel_factor")).all()
        assert len(factors) == 36
        # every warehouse is stocked with the whole catalogue for the day
        products = db.session.scalars(on_sale(for_display=False).with_only_columns(sa.text("products.id"))).all()
        units = prefecture.units_per_product(34_000, 18, len(products))
        held = db.session.execute(sa.select(Stock.location_id, Stock.product_id, Stock.on_hand).where(
            Stock.location_id.in_([w.location_id for w in warehouses]))).all()
        assert {(loc, p) for loc, p, n in held if n >= units} >= {(w.location_id, p) for w in warehouses for p in products}


def test_celery_planning_is_refused_on_sqlite(app, tmp_path):
    runner = app.test_cli_runner()
    for extra in ([], ["--database-url", f"sqlite:///{tmp_path / 'sim.db'}"]):
        result = runner.invoke(args=["simulate", "--queue", "celery", *extra])
        assert result.exit_code == 2 and "must be PostgreSQL" in result.output, result.output
    assert not (tmp_path / "sim.db").exists()
    with pytest.raises(planning_queue.QueueRefused):
        engine.run(engine.Settings(queue="celery", workers=2), f"sqlite:///{tmp_path / 'sim.db'}")
    assert not (tmp_path / "sim.db").exists()
    result = runner.invoke(args=["simulate", "--workers", "2", "--queue", "inline"])
    assert result.exit_code == 2 and "--queue celery only" in result.output
