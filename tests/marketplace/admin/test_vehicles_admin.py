"""Vehicles (plate, kind, warehouse, driver, capacity, speed, shift, service) and drivers: every
rule, the audit, the started-route guard, and what the next plan sees."""

from __future__ import annotations

from datetime import time

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from marketplace.admin import fleet
from marketplace.dispatch.models import Plan, PlanStatus, Route, RouteStatus, Stop, StopStatus
from marketplace.extensions import db
from marketplace.models import Driver, Role, Vehicle, Warehouse
from marketplace.planning import services as planning
from tests.marketplace.admin.conftest import audits, operator_client, post


def _form(v: Vehicle, **changes) -> dict:
    data = {"plate": v.plate, "kind": v.kind.value, "warehouse_id": str(v.warehouse_id),
            "driver_id": str(v.driver_id or ""), "capacity_kg": str(v.capacity_weight_g / 1000),
            "capacity_l": str(v.capacity_volume_cm3 / 1000), "speed_kmh": str(v.speed_kmh),
            "shift_start": v.shift_start.strftime("%H:%M"), "shift_end": v.shift_end.strftime("%H:%M"),
            "active": "1" if v.active else "0"}
    data.update(changes)
    return data


def _idle_vehicle() -> Vehicle:
    """A vehicle of W-MG with no stop still to make in the active plan."""
    busy = sa.select(Route.vehicle_id).join(Plan, Plan.id == Route.plan_id).join(Stop, Stop.route_id == Route.id) \
        .where(Plan.status == PlanStatus.ACTIVE, Stop.status == StopStatus.PENDING)
    return db.session.scalar(sa.select(Vehicle).join(Warehouse).where(Warehouse.code == "W-MG",
                                                                        Vehicle.id.not_in(busy)).order_by(Vehicle.id))


def _busy_route() -> Route:
    return db.session.scalar(sa.select(Route).join(Plan, Plan.id == Route.plan_id).join(Stop, Stop.route_id == Route.id)
                             .where(Plan.status == PlanStatus.ACTIVE, Stop.status == StopStatus.PENDING)
                             .order_by(Route.id).limit(1))


@pytest.mark.parametrize("plate, ok", [
    ("浙K·D3A617", None), ("浙k5t828", "浙K·5T828"), ("浙K 12345", "浙K·12345"), ("浙KD12345", "浙K·D12345"),
    ("浙K·ABCDE", None), ("XK·12345", None), ("浙I·12345", None), ("浙K·1234", None), ("浙K·123456", None),
    ("浙K·O1234", None), ("", None)])
def test_plate_format(plate, ok):
    expected = ok if ok is not None else (plate if plate == "浙K·D3A617" else None)
    assert fleet.normalize_plate(plate) == expected


def test_every_vehicle_rule_has_its_message_and_nothing_is_written(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    with app.app_context():
        v = _idle_vehicle()
        vid, data, taken = v.id, _form(v), db.session.scalar(sa.select(Vehicle.plate).where(Vehicle.id != v.id))
        before = fleet._vehicle_fields(v)
    cases = {
        "plate": ({"plate": "ABC123"}, "Enter a Chinese number plate"),
        "plate taken": ({"plate": taken}, "Another vehicle has this plate."),
        "weight 0": ({"capacity_kg": "0"}, "Enter the load it carries in kg, more than 0"),
        "weight negative": ({"capacity_kg": "-5"}, "Enter the load it carries in kg, more than 0"),
        "weight text": ({"capacity_kg": "lots"}, "Enter the load it carries in kg, more than 0"),
        "volume 0": ({"capacity_l": "0"}, "Enter its load space in litres, more than 0"),
        "speed low": ({"speed_kmh": "4"}, "Enter an average speed of 5 to 120 km/h."),
        "speed high": ({"speed_kmh": "121"}, "Enter an average speed of 5 to 120 km/h."),
        "speed fraction": ({"speed_kmh": "50.5"}, "Enter an average speed of 5 to 120 km/h."),
        "shift order": ({"shift_start": "18:00", "shift_end": "08:00"}, "The shift must end after it starts"),
        "shift equal": ({"shift_start": "08:00", "shift_end": "08:00"}, "The shift must end after it starts"),
        "shift format": ({"shift_start": "25:00"}, "Enter a time of day as HH:MM"),
        "kind": ({"kind": "rocket"}, "Choose the kind of vehicle."),
        "warehouse": ({"warehouse_id": "999999"}, "Choose its warehouse."),
        "driver": ({"driver_id": "999999"}, "Choose an active driver, or none."),
        "active": ({"active": "perhaps"}, "Choose yes or no."),
    }
    for name, (change, message) in cases.items():
        response = post(client, f"/admin/vehicles/{vid}", {**data, **change})
        assert response.status_code == 422, name
        assert message in response.get_data(as_text=True).replace("&#39;", "'"), name
    with app.app_context():
        assert fleet._vehicle_fields(db.session.get(Vehicle, vid)) == before
    assert audits(app, "vehicle.update") == []


def test_a_new_shift_is_audited_and_used_by_the_next_plan(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    with app.app_context():
        v = _idle_vehicle()
        vid, wid, data = v.id, v.warehouse_id, _form(v, shift_start="09:15", shift_end="16:45",
                                                     capacity_kg="612.5", capacity_l="3000", speed_kmh="40")
        old = fleet._vehicle_fields(v)
        version = db.session.get(Warehouse, wid).plan_version
    response = post(client, f"/admin/vehicles/{vid}", data)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "the next re-plan" in page  # no stops of its own: quotes now, routes from the next re-plan
    with app.app_context():
        v = db.session.get(Vehicle, vid)
        assert (v.shift_start, v.shift_end) == (time(9, 15), time(16, 45))
        assert (v.capacity_weight_g, v.capacity_volume_cm3, v.speed_kmh) == (612_500, 3_000_000, 40)
        assert db.session.get(Warehouse, wid).plan_version > version
        ctx = planning.build_problem(wid)
        planned = next(x for x in ctx.problem.vehicles if x.id == f"V{vid}")
        start, end = planning.shift_window(v, planning.utcnow())
        assert planned.shift_end == int((end - ctx.epoch).total_seconds())
        assert ctx.at(planned.shift_end).astimezone(planning.LOCAL).time() == time(16, 45)
        assert planned.capacity_weight == 612_500 and planned.speed_kmh == 40
    [entry] = audits(app, "vehicle.update")
    assert entry.actor_user_id == op.id and entry.object_id == vid
    assert entry.data["before"] == {k: old[k] for k in entry.data["after"]}
    assert entry.data["after"] == {"shift_start": "09:15", "shift_end": "16:45", "capacity_weight_g": 612_500,
                                   "capacity_volume_cm3": 3_000_000, "speed_kmh": 40}
    assert post(client, f"/admin/vehicles/{vid}", data).status_code == 303  # twice: once
    assert len(audits(app, "vehicle.update")) == 1


def test_a_vehicle_out_on_a_started_route_keeps_its_planning_fields(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    with app.app_context():
        route = _busy_route()
        route.status = RouteStatus.STARTED
        db.session.commit()
        v = db.session.get(Vehicle, route.vehicle_id)
        vid, data, before = v.id, _form(v), fleet._vehicle_fields(v)
    for change in ({"shift_end": "23:00"}, {"active": "0"}, {"capacity_kg": "1"}, {"driver_id": ""}):
        response = post(client, f"/admin/vehicles/{vid}", {**data, **change})
        assert response.status_code == 422, change
        assert "is out on its route" in response.get_data(as_text=True), change
    assert "Out on its route now" in client.get(f"/admin/vehicles/{vid}").get_data(as_text=True)
    # what does not touch the plan may change (a repainted plate is still the same van)
    response = post(client, f"/admin/vehicles/{vid}", {**data, "kind": "cold_van"})
    assert response.status_code == 303
    with app.app_context():
        after = fleet._vehicle_fields(db.session.get(Vehicle, vid))
        assert after == {**before, "kind": "cold_van"}


def test_a_change_under_planned_stops_re_plans_its_warehouse_at_once(app, seeded, make_user):
    _client, op = operator_client(app, make_user)
    with app.app_context():
        route = _busy_route()
        v = db.session.get(Vehicle, route.vehicle_id)
        vid, wid, data = v.id, v.warehouse_id, _form(v, active="0")
        db.session.remove()
        replanned: list[int] = []
        with force_locale("en"):
            outcome = fleet.save_vehicle(op.id, vid, data, replan=replanned.append)
        assert outcome.changed and replanned == [wid] and "re-planned" in outcome.note
        assert not db.session.get(Vehicle, vid).active
        ctx = planning.build_problem(wid)
        assert f"V{vid}" not in {x.id for x in ctx.problem.vehicles}  # out of service: not planned
        # with the real re-plan, its stops go to the other vans
        db.session.remove()
        planning.plan_warehouse(wid, seconds=0.5)
        left = db.session.scalar(sa.select(sa.func.count(Stop.id)).join(Route).join(Plan, Plan.id == Route.plan_id)
                                 .where(Plan.status == PlanStatus.ACTIVE, Route.vehicle_id == vid,
                                        Stop.status == StopStatus.PENDING))
        assert left == 0


def test_create_a_vehicle_once_with_a_driver(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    with app.app_context():
        wid = db.session.scalar(sa.select(Warehouse.id).where(Warehouse.code == "W-MG"))
        free = Driver(name="新司机", mobile="13911112222")
        db.session.add(free)
        db.session.commit()
        free_id = free.id
        busy = db.session.scalar(sa.select(Vehicle).where(Vehicle.driver_id.is_not(None), Vehicle.active.is_(True)))
        busy_driver = busy.driver_id
    data = {"plate": "浙K·F12345", "kind": "van", "warehouse_id": str(wid), "driver_id": str(busy_driver),
            "capacity_kg": "800", "capacity_l": "4500", "speed_kmh": "50", "shift_start": "07:00",
            "shift_end": "19:00", "active": "1", "once": "v1"}
    refused = post(client, "/admin/vehicles/new", data)
    assert refused.status_code == 422 and "assign them one vehicle at a time" in refused.get_data(as_text=True)
    data["driver_id"] = str(free_id)
    first = post(client, "/admin/vehicles/new", data)
    second = post(client, "/admin/vehicles/new", data)
    assert first.status_code == second.status_code == 303 and first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        v = db.session.scalar(sa.select(Vehicle).where(Vehicle.plate == "浙K·F12345"))
        assert v.driver_id == free_id and v.capacity_weight_g == 800_000 and v.capacity_volume_cm3 == 4_500_000
    [entry] = audits(app, "vehicle.create")
    assert entry.actor_user_id == op.id and entry.data["after"]["plate"] == "浙K·F12345"
    page = client.get("/admin/vehicles").get_data(as_text=True)
    assert "浙K·F12345" in page and "新司机" in page


def test_drivers_mobile_unique_account_of_role_driver_and_one_vehicle(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    driver_user = make_user(Role.DRIVER, mobile="13922223333", name="Driver Account")
    consumer = make_user(Role.CONSUMER, mobile="13922224444")
    with app.app_context():
        v = _idle_vehicle()
        vid, old_driver = v.id, v.driver_id
        taken = db.session.scalar(sa.select(Driver.mobile).order_by(Driver.id))
    base = {"name": "陈师傅", "mobile": "13922223333", "user_id": str(driver_user.id), "vehicle_id": str(vid),
            "active": "1", "once": "d1"}
    bad = post(client, "/admin/drivers/new", {**base, "name": "", "mobile": taken, "user_id": str(consumer.id),
                                              "vehicle_id": "999999", "active": ""})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True).replace("&#39;", "'")
    for message in ("Enter the driver's name.", "Another driver has this mobile number.",
                    "Choose an account of role driver, or none.", "Choose an active vehicle, or none.",
                    "Choose yes or no."):
        assert message in text, message
    ok = post(client, "/admin/drivers/new", base)
    assert ok.status_code == 303
    assert post(client, "/admin/drivers/new", base).headers["Location"] == ok.headers["Location"]
    with app.app_context():
        d = db.session.scalar(sa.select(Driver).where(Driver.mobile == "13922223333"))
        assert d.user_id == driver_user.id and d.active
        assert db.session.get(Vehicle, vid).driver_id == d.id  # the vehicle's previous driver is off it
        did = d.id
    [entry] = audits(app, "driver.create")
    assert entry.actor_user_id == op.id and entry.data["after"]["vehicle_id"] == vid
    # the account cannot be linked to a second driver record
    other = post(client, "/admin/drivers/new", {**base, "mobile": "13922225555", "vehicle_id": "", "once": "d2"})
    assert other.status_code == 422 and "linked to another driver" in other.get_data(as_text=True)
    # deactivated, they drive nothing; the edit is audited with before/after
    edit = post(client, f"/admin/drivers/{did}", {**base, "active": "0", "vehicle_id": ""})
    assert edit.status_code == 303
    [update] = audits(app, "driver.update")
    assert update.data == {"before": {"active": True, "vehicle_id": vid}, "after": {"active": False, "vehicle_id": None}}
    with app.app_context():
        assert db.session.get(Vehicle, vid).driver_id is None
    assert old_driver is None or old_driver != did
    assert "陈师傅" in client.get("/admin/drivers").get_data(as_text=True)
