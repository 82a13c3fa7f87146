"""The console's action forms over HTTP: each a CSRF-checked POST for dispatchers and operators
that redirects back with what happened; a refused move shows the checker's reason on the
console in the reader's language; ids posted must be of the warehouse in the URL (404); a
re-plan form submitted twice plans once and shows one diff."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.dispatch.models import OrderPin, PlanEvent, Route, Stop, VehicleBreakdown
from marketplace.extensions import db
from marketplace.models import Order, Role, Vehicle, Warehouse
from tests.conftest import CSRF_RE, login

from .test_actions import busiest, idle_vehicle, most_stops, place_orders

CODE, OTHER = "W-MG", "W-BJ"
TOKEN_RE = re.compile(r'name="token" value="([^"]+)"')


@pytest.fixture
def console(app, seeded, make_user, client):
    """Five orders placed in W-MG, and ``client`` signed in as a dispatcher reading English."""
    place_orders(app, make_user)
    user = make_user(Role.DISPATCHER, mobile="13700000002", locale="en")
    assert login(client, user.mobile).status_code == 302
    app.config["DISPATCH_REPLAN_SECONDS"] = 0.3
    yield user
    app.config.pop("DISPATCH_REPLAN_SECONDS", None)


def page(client, code: str = CODE) -> str:
    response = client.get(f"/dispatch/{code}/")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def csrf(client) -> str:
    return CSRF_RE.search(page(client)).group(1)


def wid(code: str = CODE) -> int:
    return db.session.scalar(sa.select(Warehouse.id).where(Warehouse.code == code))


def flashes(html: str) -> list[str]:
    return [re.sub(r"\s+", " ", m) for m in re.findall(r'<div class="flash flash-\w+"[^>]*>(.*?)</div>', html, re.S)]


def test_the_console_carries_the_action_forms_without_inline_script(app, console, client):
    html = page(client)
    for action in ("replan", "lock", "move", "pin", "breakdown"):
        assert f'action="/dispatch/{CODE}/{action}"' in html
    assert 'action="/dispatch/replan"' in html
    tokens = TOKEN_RE.findall(html)
    assert len(tokens) == 2 and len(set(tokens)) == 2  # a fresh one-time token per re-plan form
    assert "/static/js/dispatch_actions.js" in html and "<script>" not in html


def test_a_refused_move_shows_the_checkers_reason_on_the_console(app, console, client):
    with app.app_context():
        _vehicle, stops = busiest(wid())
        target = idle_vehicle(wid())
        target.capacity_weight_g = 1
        db.session.commit()
        stop = next(s for s in stops if s.kind == "delivery")
        stop_id, route_id, target_id, plate = stop.id, stop.route_id, target.id, target.plate
    response = client.post(f"/dispatch/{CODE}/move", data={
        "csrf_token": csrf(client), "stop_id": stop_id, "vehicle_id": target_id, "position": 1,
        "next": f"/dispatch/{CODE}/"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"/dispatch/{CODE}/")
    shown = flashes(page(client))
    assert any(m.startswith("Move refused:") and f"{plate} would be over its weight capacity by" in m for m in shown)
    with app.app_context():
        assert db.session.get(Stop, stop_id).route_id == route_id


def test_the_reason_is_in_the_readers_language(app, seeded, make_user, client):
    from flask_babel import force_locale
    from flask_babel import gettext as _

    place_orders(app, make_user)
    user = make_user(Role.DISPATCHER, mobile="13700000003")  # (Chinese, the default)
    assert login(client, user.mobile).status_code == 302
    with app.app_context():
        _vehicle, stops = busiest(wid())
        target = idle_vehicle(wid())
        target.capacity_weight_g = 1
        db.session.commit()
        stop_id, target_id, plate = next(s.id for s in stops if s.kind == "delivery"), target.id, target.plate
    with app.test_request_context(), force_locale("zh_CN"):
        refused = _("Move refused:")
        over = _("%(vehicle)s would be over its weight capacity by %(kg)s kg.", vehicle=plate, kg="KG").split("KG")[0]
    assert refused != "Move refused:"  # (the catalog has it)
    client.post(f"/dispatch/{CODE}/move", data={"csrf_token": csrf(client), "stop_id": stop_id,
                                                "vehicle_id": target_id, "position": 1})
    shown = flashes(page(client))
    assert any(m.startswith(refused) and over in m for m in shown), shown


def test_an_accepted_move_through_the_form(app, console, client):
    with app.app_context():
        _vehicle, stops = busiest(wid())
        target = idle_vehicle(wid())
        stop_id, target_id = next(s.id for s in stops if s.kind == "delivery"), target.id
    form = {"csrf_token": csrf(client), "stop_id": stop_id, "vehicle_id": target_id, "position": 1}
    assert client.post(f"/dispatch/{CODE}/move", data=form).status_code == 303
    assert any("Stop moved" in m for m in flashes(page(client)))
    assert client.post(f"/dispatch/{CODE}/move", data=form).status_code == 303  # again: nothing more
    assert any("already there" in m for m in flashes(page(client)))
    with app.app_context():
        assert db.session.get(Stop, stop_id).route.vehicle_id == target_id
        assert db.session.scalar(sa.select(PlanEvent.actor_user_id).where(PlanEvent.kind == "stop_moved")) == console.id
        assert db.session.scalar(sa.select(sa.func.count(PlanEvent.id)).where(PlanEvent.kind == "stop_moved")) == 1


def test_lock_pin_and_their_undoing_through_the_forms(app, console, client):
    with app.app_context():
        vehicle, stops = busiest(wid())
        route_id, order_id = stops[0].route_id, next(s.order_id for s in stops if s.order_id)
    token = csrf(client)
    assert client.post(f"/dispatch/{CODE}/lock", data={"csrf_token": token, "route_id": route_id}).status_code == 303
    html = page(client)
    assert any("Route locked" in m for m in flashes(html)) and "Unlock route" in html
    client.post(f"/dispatch/{CODE}/lock", data={"csrf_token": token, "route_id": route_id})
    assert any("already locked" in m for m in flashes(page(client)))
    client.post(f"/dispatch/{CODE}/pin", data={"csrf_token": token, "order_id": order_id, "vehicle_id": vehicle})
    assert any("Order pinned" in m for m in flashes(page(client)))
    with app.app_context():
        assert db.session.get(Route, route_id).locked and db.session.get(OrderPin, order_id).vehicle_id == vehicle
    client.post(f"/dispatch/{CODE}/unpin", data={"csrf_token": token, "order_id": order_id})
    client.post(f"/dispatch/{CODE}/unlock", data={"csrf_token": token, "route_id": route_id})
    with app.app_context():
        assert not db.session.get(Route, route_id).locked and db.session.get(OrderPin, order_id) is None
        kinds = db.session.scalars(sa.select(PlanEvent.kind).where(PlanEvent.actor_user_id == console.id)
                                   .order_by(PlanEvent.id)).all()
        assert kinds == ["route_locked", "order_pinned", "order_unpinned", "route_unlocked"]


def test_ids_of_another_warehouse_are_not_found(app, console, client):
    with app.app_context():
        _v, theirs = most_stops(wid(OTHER))
        their_stop, their_route, their_order = theirs[0].id, theirs[0].route_id, theirs[0].order_id
        their_vehicle = db.session.scalar(sa.select(Vehicle.id).where(Vehicle.warehouse_id == wid(OTHER)))
        _v, ours = busiest(wid())
        our_stop, our_vehicle = ours[0].id, idle_vehicle(wid()).id
    token = csrf(client)
    attempts = {
        "move": [{"stop_id": their_stop, "vehicle_id": our_vehicle, "position": 1},
                 {"stop_id": our_stop, "vehicle_id": their_vehicle, "position": 1}],
        "lock": [{"route_id": their_route}], "unlock": [{"route_id": their_route}],
        "pin": [{"order_id": their_order, "vehicle_id": our_vehicle}, {"order_id": ours[0].order_id,
                                                                        "vehicle_id": their_vehicle}],
        "unpin": [{"order_id": their_order}],
        "breakdown": [{"vehicle_id": their_vehicle, "confirm": "1"}, {"vehicle_id": their_vehicle}],
    }
    for action, forms in attempts.items():
        for form in forms:
            response = client.post(f"/dispatch/{CODE}/{action}", data={"csrf_token": token, **form})
            assert response.status_code == 404, (action, form, response.status_code)
    assert client.post("/dispatch/NOPE/lock", data={"csrf_token": token, "route_id": their_route}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PlanEvent.id)).where(
            PlanEvent.actor_user_id == console.id)) == 0


def test_actions_need_the_csrf_token_and_a_dispatch_role(app, console, client, make_user):
    with app.app_context():
        _v, ours = busiest(wid())
        route_id = ours[0].route_id
    assert client.post(f"/dispatch/{CODE}/lock", data={"route_id": route_id}).status_code == 400  # no CSRF token
    for role in (Role.CONSUMER, Role.DRIVER, Role.COMPLAINT_STAFF):
        other = app.test_client()
        user = make_user(role)
        assert login(other, user.mobile).status_code == 302
        token = CSRF_RE.search(other.get("/account/password").get_data(as_text=True)).group(1)
        assert other.post(f"/dispatch/{CODE}/lock", data={"csrf_token": token, "route_id": route_id}).status_code == 403
    with app.app_context():
        assert not db.session.get(Route, route_id).locked


def test_a_breakdown_asks_for_confirmation_then_re_plans(app, console, client):
    with app.app_context():
        vehicle, _stops = most_stops(wid())
    token = csrf(client)
    assert client.post(f"/dispatch/{CODE}/breakdown", data={"csrf_token": token, "vehicle_id": vehicle}).status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VehicleBreakdown.id))) == 0
    response = client.post(f"/dispatch/{CODE}/breakdown", data={"csrf_token": token, "vehicle_id": vehicle,
                                                                "confirm": "1"})
    assert response.status_code == 303
    html = page(client)
    assert any("Vehicle out of service" in m for m in flashes(html)) and "Out of service today:" in html
    client.post(f"/dispatch/{CODE}/breakdown", data={"csrf_token": token, "vehicle_id": vehicle, "confirm": "1"})
    assert any("already out of service" in m for m in flashes(page(client)))
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(VehicleBreakdown.id))) == 1


def test_a_re_plan_form_sent_twice_plans_once_and_shows_what_changed(app, console, client):
    html = page(client)
    token = csrf(client)
    replan_token = TOKEN_RE.search(html).group(1)
    first = client.post(f"/dispatch/{CODE}/replan", data={"csrf_token": token, "token": replan_token})
    second = client.post(f"/dispatch/{CODE}/replan", data={"csrf_token": token, "token": replan_token})
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"] == f"/dispatch/replan?token={replan_token}"
    result = client.get(first.headers["Location"])
    text = result.get_data(as_text=True)
    assert result.status_code == 200 and "Re-plan: what changed" in text and "Planned km" in text
    assert f'data-warehouse="{CODE}"' in text and 'data-outcome="stored"' in text
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(PlanEvent.id)).where(PlanEvent.kind == "replanned")) == 1
    assert client.post(f"/dispatch/{CODE}/replan", data={"csrf_token": token}).status_code == 422  # no token
    assert client.get("/dispatch/replan?token=unknown").status_code == 302


def test_a_pin_for_an_order_no_route_carries_is_offered_on_the_console(app, console, client):
    from marketplace.dispatch.models import UnassignedOrder
    from marketplace.planning import services as planning

    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.warehouse_id == wid(),
                                                         Order.status.in_(planning.PLANNED_STATUSES)))
        db.session.add(UnassignedOrder(plan_id=planning.active_plan_id(wid()), order_id=order.id,
                                       reason_code="fleet_busy", reason="the fleet's time is taken"))
        db.session.commit()
        number = order.number
    html = page(client)
    assert "Order the plan could not keep" in html and f">{number}</option>" in html
