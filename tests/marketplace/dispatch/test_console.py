"""The dispatch console's read side: the state a dispatcher sees (vehicles, stops in order,
slack, on time / at risk / late against the zone's promise margin) at several hours, the alerts
rendered in the reader's language and acknowledged or resolved with who and when, updates that
cost a 304 while nothing changed, the driver manifest, and the county's GeoJSON being what its
generator makes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.dispatch import services as dispatch
from marketplace.dispatch.models import (
    Alert,
    AlertSeverity,
    Plan,
    PlanStatus,
    Route,
    RouteStatus,
    StopKind,
    StopStatus,
    UnassignedOrder,
)
from marketplace.extensions import db
from marketplace.logistics.models import LogisticsParameter, ParameterScope, Vehicle, Warehouse
from marketplace.models import Role, User
from marketplace.orders.models import Order, OrderLine, PaymentMethod
from tests.conftest import CSRF_RE, login

WAREHOUSE = "W-MG"
OTHER = "W-BJ"


@pytest.fixture
def at_hour(seeded_at, make_user, client):
    """``at_hour("10:30")``: the demo county as of then, and ``client`` signed in as a dispatcher
    (returned)."""

    def seed(hhmm: str) -> User:
        seeded_at(hhmm)
        user = make_user(Role.DISPATCHER, name="调度员甲")
        assert login(client, user.mobile).status_code == 302
        return user

    return seed


def state(client, code: str = WAREHOUSE, **headers) -> dict:
    response = client.get(f"/dispatch/{code}/state.json", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    return response.get_json()


def stops_by_id(doc: dict) -> dict[int, dict]:
    return {s["id"]: s for v in doc["vehicles"] for s in v["stops"]}


def margins() -> dict[int, int]:
    return {p.scope_id: int(p.value) for p in db.session.scalars(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.key == "promise_margin_s"))}


def active_routes(code: str = WAREHOUSE) -> list[Route]:
    return list(db.session.scalars(
        sa.select(Route).join(Plan, Plan.id == Route.plan_id).join(Warehouse, Warehouse.id == Plan.warehouse_id)
        .where(Warehouse.code == code, Plan.status == PlanStatus.ACTIVE).order_by(Route.id)))


def csrf(client, code: str = WAREHOUSE) -> str:
    match = CSRF_RE.search(client.get(f"/dispatch/{code}/").get_data(as_text=True))
    assert match
    return match.group(1)


# --- the state: vehicles, stops, slack, at risk ---------------------------------------------------


def test_state_lists_the_warehouses_vehicles_and_each_routes_stops_in_order(app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now(), tick=False)
    doc = state(client)
    with app.app_context():
        warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == WAREHOUSE))
        plates = [v.plate for v in db.session.scalars(sa.select(Vehicle).where(
            Vehicle.warehouse_id == warehouse.id, Vehicle.active.is_(True)).order_by(Vehicle.plate))]
        routes = {r.vehicle.plate: r for r in active_routes()}
        expected = {plate: [s.id for s in r.stops] for plate, r in routes.items()}
        plan_id = routes and next(iter(routes.values())).plan_id
        zone_margin = margins()
        rows = {s.id: s for r in routes.values() for s in r.stops}
        orders = {s.id: (s.order.number, s.order.window_class.code, s.order.zone_id) for s in rows.values() if s.order}
    assert doc["warehouse"]["code"] == WAREHOUSE
    assert [v["plate"] for v in doc["vehicles"]] == plates  # every active vehicle, by plate
    assert routes, "the seeded county has routes at 10:30"
    assert doc["plan"]["id"] == plan_id
    for v in doc["vehicles"]:
        assert [s["id"] for s in v["stops"]] == expected.get(v["plate"], [])  # the route's stops, in order
        assert (v["route"] is not None) == (v["plate"] in routes)
        assert [s["n"] for s in v["stops"]] == list(range(1, len(v["stops"]) + 1))
        assert v["progress"]["made"] == 0 and v["progress"]["to_go"] == len(v["stops"])
    assert len({v["colour"] for v in doc["vehicles"]}) == len(doc["vehicles"])  # one colour each
    found = stops_by_id(doc)
    for stop_id, row in rows.items():
        s = found[stop_id]
        if row.kind != StopKind.DELIVERY:
            assert s["state"] == "none" and s["slack_s"] is None
            continue
        number, window, zone_id = orders[stop_id]
        assert (s["order"], s["window"]) == (number, window)
        # a fresh plan, no van late yet: the slack is the deadline less the planned arrival
        assert s["slack_s"] == int((row.deadline_at - row.planned_arrival_at).total_seconds())
        assert s["margin_s"] == zone_margin[zone_id] > 0
        expected_state = "late" if s["slack_s"] < 0 else "at_risk" if s["slack_s"] < s["margin_s"] else "on_time"
        assert s["state"] == expected_state
        assert s["state_label"]  # words, not colour alone
    assert doc["summary"]["stops"] == len(rows)


def test_a_delivery_is_at_risk_below_its_zones_margin_and_late_below_zero(app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now(), tick=False)
    with app.app_context():
        deliveries = [s for r in active_routes() for s in r.stops if s.kind == StopKind.DELIVERY]
        assert len(deliveries) >= 3
        margin = margins()
        chosen = {}
        for stop, offset in zip(deliveries[:3], ("late", "at_risk", "on_time"), strict=True):
            m = margin[stop.order.zone_id]
            # projected arrival = planned arrival (no van behind yet); deadlines set around it
            delta = {"late": -60, "at_risk": m - 60, "on_time": m + 60}[offset]
            stop.deadline_at = stop.order.deadline_at = stop.planned_arrival_at + timedelta(seconds=delta)
            chosen[stop.id] = (offset, delta)
        db.session.commit()
    found = stops_by_id(state(client))
    for stop_id, (expected, slack) in chosen.items():
        assert found[stop_id]["state"] == expected, (stop_id, found[stop_id])
        assert found[stop_id]["slack_s"] == slack
    doc = state(client)
    assert doc["summary"]["late"] >= 1 and doc["summary"]["at_risk"] >= 1


def test_a_van_that_has_not_left_pushes_its_stops_back_and_is_alerted_after_15_minutes(
        app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now(), tick=False)
    with app.app_context():
        routes = [r for r in active_routes() if r.stops and r.status == RouteStatus.PLANNED]
        assert routes
        route = routes[0]
        first = route.stops[0].planned_arrival_at
        planned = {s.id: (s.planned_arrival_at, s.deadline_at) for s in route.stops}
        plate, vehicle_id = route.vehicle.plate, route.vehicle_id
        leaves = route.start_at
    # ten minutes after it should have left: not yet alerted, but its stops are later
    clock.move_to(leaves + timedelta(minutes=10), tick=False)
    doc = state(client)
    vehicle = next(v for v in doc["vehicles"] if v["plate"] == plate)
    assert not vehicle["not_started"]
    assert not [a for a in doc["alerts"] if a["kind"] == "not_started"]
    # forty minutes after: every stop to go is as late as its first one is behind
    now = clock.move_to(leaves + timedelta(minutes=40), tick=False)
    doc = state(client)
    delay = max(timedelta(0), now - first)
    vehicle = next(v for v in doc["vehicles"] if v["plate"] == plate)
    assert vehicle["not_started"]
    for s in vehicle["stops"]:
        arrival, deadline = planned[s["id"]]
        if deadline is not None and s["kind"] == "delivery":
            assert s["slack_s"] == int((deadline - (arrival + delay)).total_seconds())
    alerts = [a for a in doc["alerts"] if a["kind"] == "not_started"]
    with app.app_context():
        rows = db.session.scalars(sa.select(Alert).where(Alert.kind == "not_started",
                                                         Alert.vehicle_id == vehicle_id)).all()
        assert len(rows) == 1 and rows[0].resolved_at is None and rows[0].severity == AlertSeverity.WARNING
        assert rows[0].data["vehicle"] == plate
    assert any(plate in a["text"] for a in alerts)
    state(client)  # asked again: still one alert
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
            Alert.kind == "not_started", Alert.vehicle_id == vehicle_id)) == 1
        dispatch.start_route(route.id)
    doc = state(client)
    assert not next(v for v in doc["vehicles"] if v["plate"] == plate)["not_started"]
    with app.app_context():
        alert = db.session.scalar(sa.select(Alert).where(Alert.kind == "not_started", Alert.vehicle_id == vehicle_id))
        assert alert.resolved_at == now and alert.resolved_by_id is None  # cleared by itself


@pytest.mark.parametrize("late_by", [0, 40, 150])
def test_the_console_marks_at_risk_what_the_watchdog_alerts(app, at_hour, clock, client, late_by):
    """The console and the promise watchdog project arrivals the same way: the deliveries the
    console shows at risk or late (deadline still ahead, promise not broken) are exactly the
    orders the watchdog finds below their margin, whether the vans left on time or not."""
    from marketplace.planning import watchdog

    at_hour("10:30")
    now = clock.move_to(clock.now() + timedelta(minutes=late_by), tick=False)
    shown: set[str] = set()
    for code in (WAREHOUSE, OTHER, "W-WCK"):
        for v in state(client, code)["vehicles"]:
            shown |= {s["order"] for s in v["stops"] if not s["made"] and s["state"] in ("at_risk", "late")}
    with app.app_context():
        slack = watchdog.promise_slack(now)
        alerted = {s.number for s in slack.values() if s.at_risk}
        excused = set(db.session.scalars(sa.select(Order.number).where(
            sa.or_(Order.deadline_at <= now, Order.promise_broken_at.is_not(None)))))
    assert shown - excused == alerted
    if late_by >= 150:
        assert alerted  # by then some promise is short of its margin


@pytest.mark.parametrize("hhmm", ["03:30", "07:30", "21:50"])
def test_the_console_at_other_hours_judges_every_stop_to_go_by_its_projected_arrival(
        app, at_hour, clock, client, hhmm):
    """Before the first shift, at a shift's start, and just before the last shift ends: the
    console builds, each stop to go is judged by its slack against the zone's margin, and no van
    whose route starts later is called late to start."""
    at_hour(hhmm)
    now = clock.move_to(clock.now(), tick=False)
    for code in (WAREHOUSE, OTHER, "W-WCK"):
        doc = state(client, code)
        assert doc["warehouse"]["code"] == code
        for v in doc["vehicles"]:
            for s in v["stops"]:
                if s["slack_s"] is None:
                    continue
                assert s["state"] == ("late" if s["slack_s"] < 0 else "at_risk" if s["slack_s"] < s["margin_s"]
                                      else "on_time")
    with app.app_context():
        for route in db.session.scalars(sa.select(Route).join(Plan).where(Plan.status == PlanStatus.ACTIVE)):
            if route.start_at > now - timedelta(minutes=15):
                assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
                    Alert.kind == "not_started", Alert.vehicle_id == route.vehicle_id)) == 0


def test_a_made_stop_shows_its_actual_time_and_progress(app, at_hour, clock, client):
    at_hour("10:30")
    with app.app_context():
        route = next(r for r in active_routes() if r.stops)
        first = route.stops[0]
        dispatch.start_route(route.id)
        dispatch.record_stop(first.id, StopStatus.DONE)
        plate, stop_id, total = route.vehicle.plate, first.id, len(route.stops)
    doc = state(client)
    vehicle = next(v for v in doc["vehicles"] if v["plate"] == plate)
    made = stops_by_id(doc)[stop_id]
    assert made["made"] and made["actual"] and made["eta"] == ""
    assert vehicle["progress"]["made"] == 1 and vehicle["progress"]["to_go"] == total - 1
    assert vehicle["route"]["status"] == "started"


def test_a_vehicle_loaded_beyond_its_capacity_is_alerted_once_and_cleared(app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now(), tick=False)
    with app.app_context():
        route = next(r for r in active_routes() if any(s.kind == StopKind.DELIVERY for s in r.stops))
        stop = next(s for s in route.stops if s.kind == StopKind.DELIVERY)
        line = db.session.scalar(sa.select(OrderLine).where(OrderLine.order_id == stop.order_id).limit(1))
        before, line.weight_g = line.weight_g, route.vehicle.capacity_weight_g + 1000
        db.session.commit()
        plate, vehicle_id, line_id = route.vehicle.plate, route.vehicle_id, line.id
    doc = state(client)
    vehicle = next(v for v in doc["vehicles"] if v["plate"] == plate)
    assert vehicle["load"]["over"] and vehicle["load"]["weight_pct"] > 100
    over = [a for a in doc["alerts"] if a["kind"] == "over_capacity"]
    assert len(over) == 1 and over[0]["severity"] == "critical" and plate in over[0]["text"]
    state(client)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
            Alert.kind == "over_capacity", Alert.vehicle_id == vehicle_id)) == 1
        db.session.get(OrderLine, line_id).weight_g = before
        db.session.commit()
    doc = state(client)
    assert not [a for a in doc["alerts"] if a["kind"] == "over_capacity"]
    with app.app_context():
        alert = db.session.scalar(sa.select(Alert).where(Alert.kind == "over_capacity"))
        assert alert.resolved_at is not None and alert.resolved_by_id is None


def test_timeline_segments_follow_the_stored_route(app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now(), tick=False)
    doc = state(client)
    for v in doc["vehicles"]:
        xs = [(g["x"], g["x"] + g["w"]) for g in v["segments"]]
        assert all(0 <= a <= b <= doc["axis"]["units"] + 1 for a, b in xs)
        assert all(xs[i][0] <= xs[i + 1][0] for i in range(len(xs) - 1))  # in time order
        kinds = [g["kind"] for g in v["segments"]]
        if v["route"] and v["stops"]:
            assert kinds.count("service") == len(v["stops"])  # one service per stop
            assert "drive" in kinds
        else:
            assert kinds == ["slack"]  # a whole shift to spare


# --- alerts: in the reader's language, acknowledged and resolved with who and when ----------------


def _unassigned_alert(app, code: str = WAREHOUSE) -> tuple[int, str]:
    with app.app_context():
        warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == code))
        plan = db.session.scalar(sa.select(Plan).where(Plan.warehouse_id == warehouse.id, Plan.status == PlanStatus.ACTIVE))
        order = db.session.scalar(sa.select(Order).where(Order.warehouse_id == warehouse.id).limit(1))
        db.session.add(UnassignedOrder(plan_id=plan.id, order_id=order.id, reason_code="fleet_busy",
                                       reason="the fleet's time and capacity are taken by other orders"))
        alert = Alert(kind="unassigned", severity=AlertSeverity.CRITICAL, warehouse_id=warehouse.id,
                      order_id=order.id, plan_id=plan.id, message=f"STORED ENGLISH {order.number}")
        db.session.add(alert)
        db.session.commit()
        return alert.id, order.number


def test_alerts_are_rendered_from_kind_and_data_in_the_readers_language(app, at_hour, client):
    at_hour("10:30")
    alert_id, number = _unassigned_alert(app)
    zh = next(a for a in state(client, **{"Accept-Language": "zh-CN"})["alerts"] if a["id"] == alert_id)
    assert zh["kind_label"] == "无法排入计划"
    assert number in zh["text"] and "STORED ENGLISH" not in zh["text"]
    client.post(f"/lang/en?next=/dispatch/{WAREHOUSE}/", data={"csrf_token": csrf(client)})
    en = next(a for a in state(client)["alerts"] if a["id"] == alert_id)
    assert en["kind_label"] == "Cannot be planned"
    assert "the fleet's time and capacity are taken by other orders" in en["text"]
    assert "STORED ENGLISH" not in en["text"]
    page = client.get(f"/dispatch/{WAREHOUSE}/").get_data(as_text=True)
    assert "Cannot be planned" in page and "STORED ENGLISH" not in page
    assert "STORED ENGLISH" not in client.get("/dispatch/").get_data(as_text=True)


def test_acknowledge_and_resolve_keep_who_and_when(app, at_hour, clock, client):
    dispatcher = at_hour("10:30")
    alert_id, _ = _unassigned_alert(app)
    token = csrf(client)
    at = clock.move_to(clock.now(), tick=False)
    response = client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/dispatch/{WAREHOUSE}/#alerts")
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert (alert.acknowledged_by_id, alert.acknowledged_at, alert.resolved_at) == (dispatcher.id, at, None)
    acked = next(a for a in state(client)["alerts"] if a["id"] == alert_id)
    assert acked["acknowledged"]["by"] == "调度员甲" and acked["acknowledged"]["at"]
    # a second acknowledgement later keeps the first
    clock.move_to(at + timedelta(minutes=5), tick=False)
    client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/acknowledge", data={"csrf_token": token})
    resolved_at = clock.move_to(at + timedelta(minutes=7), tick=False)
    response = client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/resolve", data={"csrf_token": token},
                           headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.get_json()["resolved_by_id"] == dispatcher.id
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.acknowledged_at == at and alert.resolved_at == resolved_at and alert.resolved_by_id == dispatcher.id
    assert alert_id not in {a["id"] for a in state(client)["alerts"]}  # resolved: off the console
    clock.move_to(at + timedelta(minutes=9), tick=False)
    client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/resolve", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Alert, alert_id).resolved_at == resolved_at  # the first resolution stays


def test_resolving_an_unacknowledged_alert_acknowledges_it_too(app, at_hour, client):
    dispatcher = at_hour("10:30")
    alert_id, _ = _unassigned_alert(app)
    client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/resolve", data={"csrf_token": csrf(client)})
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.resolved_by_id == alert.acknowledged_by_id == dispatcher.id
        assert alert.resolved_at == alert.acknowledged_at is not None


def test_alert_actions_need_the_csrf_token_the_role_and_the_alerts_warehouse(app, seeded_at, make_user, client):
    seeded_at("10:30")
    alert_id, _ = _unassigned_alert(app)
    url = f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/acknowledge"
    # signed out: to the sign-in page
    response = client.post(url, data={})
    assert response.status_code in (302, 400)
    for role in (Role.CONSUMER, Role.DRIVER, Role.COOP_HEAD, Role.COMPLAINT_STAFF):
        other = app.test_client()
        user = make_user(role)
        login(other, user.mobile)
        token = CSRF_RE.search(other.get("/account/password").get_data(as_text=True)).group(1)
        assert other.post(url, data={"csrf_token": token}).status_code == 403, role
        assert other.get(f"/dispatch/{WAREHOUSE}/state.json").status_code == 403, role
    operator = make_user(Role.OPERATOR)
    staff = app.test_client()
    login(staff, operator.mobile)
    assert staff.post(url, data={}).status_code == 400  # no CSRF token
    token = csrf(staff)
    # the alert is W-MG's: through another warehouse's URL it does not exist
    assert staff.post(f"/dispatch/{OTHER}/alerts/{alert_id}/acknowledge", data={"csrf_token": token}).status_code == 404
    assert staff.post(f"/dispatch/NOPE/alerts/{alert_id}/resolve", data={"csrf_token": token}).status_code == 404
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        assert alert.acknowledged_at is None and alert.resolved_at is None
    assert staff.post(url, data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(Alert, alert_id).acknowledged_by_id == operator.id


# --- updates: an unchanged state costs a 304 ------------------------------------------------------


def test_state_answers_304_while_the_plan_and_alerts_are_unchanged(app, at_hour, clock, client):
    at_hour("10:30")
    clock.move_to(clock.now().replace(second=5), tick=False)
    url = f"/dispatch/{WAREHOUSE}/state.json"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag and "no-cache" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b"" and again.headers["ETag"] == etag
    # a driver records a stop: the plan version moves, the state is sent again
    with app.app_context():
        stop = next(s for r in active_routes() for s in r.stops)
        dispatch.record_stop(stop.id, StopStatus.DONE)
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["ETag"] != etag
    etag = changed.headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    # an alert acknowledged changes it too
    alert_id, _ = _unassigned_alert(app)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200  # raised
    etag = client.get(url).headers["ETag"]
    client.post(f"/dispatch/{WAREHOUSE}/alerts/{alert_id}/acknowledge", data={"csrf_token": csrf(client)})
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    etag = client.get(url).headers["ETag"]
    # and so does the minute (projections move with time), and the language
    clock.shift(60)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 200
    etag = client.get(url).headers["ETag"]
    assert client.get(url, headers={"If-None-Match": etag, "Accept-Language": "en"}).status_code == 200


def test_the_console_page_carries_the_map_and_no_inline_script(app, at_hour, client):
    at_hour("10:30")
    html = client.get(f"/dispatch/{WAREHOUSE}/").get_data(as_text=True)
    assert 'id="map"' in html and "/static/geo/county.geojson" in html
    assert "/static/vendor/leaflet/dist/leaflet.js?v=1.9.4" in html
    assert "/static/js/dispatch.js" in html
    assert "<script>" not in html and " style=" not in html and "http://" not in html.replace("http://www.w3.org", "")
    assert client.get("/dispatch/NOPE/").status_code == 404
    assert client.get("/dispatch/NOPE/state.json").status_code == 404


# --- the driver manifest --------------------------------------------------------------------------


def test_manifest_lists_the_routes_stops_in_order_with_phones_goods_cash_and_signatures(app, at_hour, client):
    at_hour("10:30")
    with app.app_context():
        route = next(r for r in active_routes() if len(r.stops) >= 2)
        rows = [(s.order.number, s.order.recipient_mobile, s.order.lines[0].product_name_zh, s.order.payment_method,
                 s.order.total_fen) for s in route.stops if s.kind == StopKind.DELIVERY]
        route_id, plate = route.id, route.vehicle.plate
        other = active_routes(OTHER)[0].id
    response = client.get(f"/dispatch/{WAREHOUSE}/routes/{route_id}/manifest")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert plate in html and 'class="signature"' in html
    positions = [html.rindex(number) for number, *_ in rows]  # (a pickup row may name the order first)
    assert positions == sorted(positions)  # in the route's order
    for _number, mobile, product, method, total in rows:
        assert mobile in html and product in html
        if method == PaymentMethod.CASH_ON_DELIVERY:
            assert f"¥{total // 100}.{total % 100:02d}" in html
    assert "@media print" in client.get("/static/css/dispatch.css").get_data(as_text=True)
    # another warehouse's route through this warehouse's URL: not found
    assert client.get(f"/dispatch/{WAREHOUSE}/routes/{other}/manifest").status_code == 404
    assert client.get(f"/dispatch/{OTHER}/routes/{other}/manifest").status_code == 200


# --- the county's GeoJSON ------------------------------------------------------------------------


def test_the_committed_county_geojson_is_what_the_generator_makes():
    from seed import data, geojson

    assert geojson.OUTPUT.read_text(encoding="utf-8") == geojson.generate(), "run python -m seed.geojson"
    features = json.loads(geojson.generate())["features"]
    kinds: dict[str, list[dict]] = {}
    for f in features:
        kinds.setdefault(f["properties"]["kind"], []).append(f)
    assert len(kinds["county"]) == 1 and kinds["county"][0]["geometry"]["type"] == "Polygon"
    assert {f["properties"]["code"] for f in kinds["town"]} == {t["code"] for t in data.TOWNS}
    assert {f["properties"]["code"] for f in kinds["village"]} == {v["code"] for v in data.VILLAGES}
    assert {f["properties"]["code"] for f in kinds["warehouse"]} == {w["code"] for w in data.WAREHOUSES}
    assert {f["properties"]["code"] for f in kinds["cooperative"]} == {c["code"] for c in data.COOPERATIVES}
    # the roads join every town: one network
    towns = {t["code"] for t in data.TOWNS}
    links = [f["properties"]["code"].split("-") for f in kinds["road"]]
    reached, frontier = {"T01"}, ["T01"]
    while frontier:
        here = frontier.pop()
        for a, b in links:
            for x, y in ((a, b), (b, a)):
                if x == here and y not in reached:
                    reached.add(y)
                    frontier.append(y)
    assert reached == towns
    # every village has its lane to its town (or is the town's own place)
    lanes = {f["properties"]["code"] for f in kinds["lane"]}
    assert all(f"{v['town']}-{v['code']}" in lanes for v in data.VILLAGES)
    # inside the outline: every place
    ring = kinds["county"][0]["geometry"]["coordinates"][0]
    for f in kinds["village"] + kinds["town"]:
        assert _inside(f["geometry"]["coordinates"], ring), f["properties"]["code"]


def _inside(point: list[float], ring: list[list[float]]) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
    return inside


def test_geojson_check_mode_says_when_the_file_is_stale(tmp_path):
    from seed import geojson

    out = tmp_path / "county.geojson"
    assert geojson.main(["--check", "--output", str(out)]) == 1
    assert geojson.main(["--output", str(out)]) == 0
    assert geojson.main(["--check", "--output", str(out)]) == 0
    out.write_text(out.read_text().replace("T01", "T99", 1))
    assert geojson.main(["--check", "--output", str(out)]) == 1
