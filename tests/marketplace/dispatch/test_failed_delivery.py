"""A failed delivery (nobody at home) must not stop sales at its warehouse: the order goes back
into the plan at once (a re-plan of that warehouse right after the failure), quotes there go on
offering windows meanwhile, and its promise is the watchdog's as before."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.dispatch import services as dispatch
from marketplace.extensions import db
from marketplace.models import Order, OrderEvent, Plan, Route, Stop, StopStatus
from marketplace.planning import promise, watchdog
from marketplace.planning import services as planning
from tests.marketplace.checkout.conftest import make_shop

NOT_HOME = {"kind": "failure", "value": "not_home", "reason": "not_home"}


def _active_stop(order_id: int) -> Stop | None:
    return db.session.scalar(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan).where(
        Plan.status == "active", Stop.order_id == order_id, Stop.kind == "delivery", Stop.status == "pending"))


def _offered(shop) -> dict[str, str | None]:
    """Window code → None when offered, else the reason code; quoted on a state rebuilt from the
    database (as another process would, or this one after any change that is not an insertion)."""
    promise._cache.clear()
    return {w.code: (None if w.feasible else w.reason_code)
            for w in checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows}


def _fail_on_the_road(shop, clock) -> tuple[Order, Stop]:
    order = checkout.place_order(shop.user_id, shop.address_id, "6h", "cod", uuid.uuid4().hex,
                                 cart_items={shop.product_id: 1})
    stop = _active_stop(order.id)
    dispatch.start_route(stop.route_id, at=clock.now())
    clock.move_to(clock.now() + timedelta(minutes=25))
    failed = dispatch.record_stop(stop.id, StopStatus.FAILED, proof=NOT_HOME)
    assert failed.status == StopStatus.FAILED
    return db.session.get(Order, order.id), failed


def test_a_failed_delivery_goes_back_into_the_plan_and_sales_go_on(app, seeded_at, make_user, clock):
    seeded_at("10:35")
    shop = make_shop(app, make_user)
    with app.app_context():
        assert all(reason != "recovering" for reason in _offered(shop).values())
        order, failed = _fail_on_the_road(shop, clock)  # at 11:00
        assert order.status in planning.PLANNED_STATUSES and order.delivered_at is None
        # re-planned at once: a new delivery stop for the order, in a newer plan
        again = _active_stop(order.id)
        assert again is not None and again.id != failed.id
        assert again.route.plan_id != failed.route.plan_id
        assert again.planned_arrival_at >= clock.now()
        # a moment later, a quote at that warehouse still offers windows
        clock.move_to(clock.now() + timedelta(seconds=30))
        offered = _offered(shop)
        assert "recovering" not in offered.values()
        assert any(reason is None for reason in offered.values()), offered
        # the re-attempt is made on time: no late mark, no compensation
        dispatch.record_stop(again.id, StopStatus.DONE, proof={"kind": "name", "value": "测试"})
        watchdog.check_promises(clock.now())
        order = db.session.get(Order, order.id)
        assert order.status == "delivered" and order.promise_broken_at is None and order.compensations == []


def test_quotes_go_on_while_a_failed_delivery_waits_for_its_re_plan(app, seeded_at, make_user, clock, monkeypatch):
    """Even before the re-plan (it failed, or the queue has not run it): a failed delivery is no
    lost order. An accepted order that lost its route otherwise still holds the warehouse's
    sales (DESIGN: recovered first)."""
    seeded_at("10:35")
    shop = make_shop(app, make_user)
    with app.app_context():
        asked = []
        monkeypatch.setattr(planning, "request_replan", lambda wid, **kw: asked.append((wid, kw["reason"])))
        order, failed = _fail_on_the_road(shop, clock)
        assert asked == [(order.warehouse_id, "failed-delivery")]
        assert _active_stop(order.id) is None  # off the routes until the re-plan
        offered = _offered(shop)
        assert "recovering" not in offered.values() and any(r is None for r in offered.values()), offered

        # its promise stays the watchdog's: past the deadline undelivered, it is late once
        clock.move_to(order.deadline_at + timedelta(minutes=2))
        watchdog.check_promises(clock.now())
        order = db.session.get(Order, order.id)
        assert order.promise_broken_at is not None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(
            OrderEvent.order_id == order.id, OrderEvent.kind == "late")) == 1


def test_an_order_lost_from_the_routes_still_holds_sales(app, seeded_at, make_user, clock):
    """The counter-case: an accepted order on no route that no van tried is recovered first."""
    seeded_at("10:35")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = checkout.place_order(shop.user_id, shop.address_id, "6h", "cod", uuid.uuid4().hex,
                                     cart_items={shop.product_id: 1})
        stop = _active_stop(order.id)
        db.session.delete(stop)
        planning.bump_plan_version(order.warehouse_id)
        db.session.commit()
        assert set(_offered(shop).values()) == {"recovering"}
