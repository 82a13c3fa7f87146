"""A re-plan through the database: it starts from the active plan's routes, keeps every
promise they keep, and merges orders placed or cancelled while it solved."""

from __future__ import annotations

import contextlib

import sqlalchemy as sa

from delivery import replan as dreplan
from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.models import Alert, Order, Plan, Route, Stop
from marketplace.orders import services as orders
from marketplace.planning import services as planning

from ..checkout.conftest import make_shop, place_offered


def _place(shop, window: str = "18h") -> Order:
    return place_offered(shop, window)


def _routed(warehouse_id: int) -> dict[int, int]:
    """order id -> number of delivery stops in the warehouse's active plan"""
    rows = db.session.execute(
        sa.select(Stop.order_id, sa.func.count()).join(Route, Route.id == Stop.route_id).join(Plan)
        .where(Plan.warehouse_id == warehouse_id, Plan.status == "active", Stop.kind == "delivery",
               Stop.order_id.is_not(None)).group_by(Stop.order_id))
    return dict(rows.all())


def _open(warehouse_id: int) -> set[int]:
    return set(db.session.scalars(sa.select(Order.id).where(
        Order.warehouse_id == warehouse_id, Order.status.in_(planning.PLANNED_STATUSES))))


def test_orders_placed_and_cancelled_during_a_solve_are_merged_into_the_stored_plan(app, seeded, make_user,
                                                                                     monkeypatch):
    shop = make_shop(app, make_user)
    with app.app_context():
        first = [_place(shop, w) for w in ("18h", "12h", "18h")]
        cancel_number = first[0].number
        during: list[int] = []
        real = dreplan.replan

        def replan_while_the_shop_sells(problem, current, seconds, **kw):
            outcome = real(problem, current, seconds, **kw)
            # meanwhile, in other requests: two orders placed, one cancelled
            during.extend(_place(shop, w).id for w in ("18h", "12h"))
            orders.cancel(shop.user_id, cancel_number)
            return outcome

        monkeypatch.setattr(dreplan, "replan", replan_while_the_shop_sells)
        plan = planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        assert plan is not None and plan.status == "active"
        routed = _routed(shop.warehouse_id)
        assert all(routed.get(order_id) == 1 for order_id in during)
        assert first[0].id not in routed
        assert set(routed) == _open(shop.warehouse_id)  # every open order exactly once, nothing else


def test_a_short_re_plan_never_drops_an_order_the_active_plan_keeps(app, seeded, make_user):
    shop = make_shop(app, make_user)
    with app.app_context():
        for window in ("6h", "12h", "18h", "12h", "6h", "18h", "12h", "18h"):
            with contextlib.suppress(checkout.WindowUnavailable):
                _place(shop, window)
        kept_before = set(_routed(shop.warehouse_id))
        assert kept_before
        for _ in range(3):  # from-scratch solves this short used to leave on-time orders out
            planning.plan_warehouse(shop.warehouse_id, seconds=0.05)
            routed = _routed(shop.warehouse_id)
            assert kept_before <= set(routed) and set(routed.values()) == {1}
        late = db.session.execute(
            sa.select(Stop.id).join(Route, Route.id == Stop.route_id).join(Plan).join(Order, Order.id == Stop.order_id)
            .where(Plan.warehouse_id == shop.warehouse_id, Plan.status == "active", Stop.kind == "delivery",
                   Stop.planned_arrival_at > Order.deadline_at, Order.promise_broken_at.is_(None))).all()
        assert late == []


def test_a_failing_solver_keeps_the_active_plan_and_raises_an_alert(app, seeded, make_user, monkeypatch):
    shop = make_shop(app, make_user)
    with app.app_context():
        _place(shop)
        active = planning.active_plan_id(shop.warehouse_id)

        def crash(*a, **k):
            raise RuntimeError("solver crashed")

        monkeypatch.setattr(dreplan, "replan", crash)
        assert planning.plan_warehouse(shop.warehouse_id, seconds=0.1) is None
        assert planning.active_plan_id(shop.warehouse_id) == active
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
            Alert.kind == "replan_failed", Alert.warehouse_id == shop.warehouse_id)) == 1


def test_an_accepted_order_on_no_route_stops_sales_until_a_re_plan_recovers_it(app, seeded, make_user):
    shop = make_shop(app, make_user)
    with app.app_context():
        order = _place(shop)
        # a plan that lost it (as a from-scratch re-plan used to): its van time must not be sold again
        db.session.execute(sa.delete(Stop).where(Stop.order_id == order.id))
        planning.bump_plan_version(shop.warehouse_id)
        db.session.commit()
        windows = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows
        assert not any(w.feasible for w in windows) and {w.reason_code for w in windows} == {"recovering"}
        assert windows[0].reason  # a sentence for the consumer
        planning.plan_warehouse(shop.warehouse_id, seconds=0.3)
        assert _routed(shop.warehouse_id).get(order.id) == 1
        windows = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows
        assert any(w.feasible for w in windows)


def test_an_order_past_its_deadline_undelivered_is_a_broken_promise_not_a_crash(app, seeded_at, make_user, clock):
    """Goods picked up at a cooperative for an order whose deadline passed: planning and quoting
    go on; the order is marked broken, alerted, and still routed."""
    from datetime import timedelta

    from marketplace.models import Location, LocationKind, Product

    from ..checkout.conftest import hold_only_at_cooperative

    seeded_at("10:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        product = db.session.get(Product, shop.product_id)
        farm = db.session.scalar(sa.select(Location).where(
            Location.kind == LocationKind.COOPERATIVE, Location.cooperative_id == product.cooperative_id))
        hold_only_at_cooperative(product.id, farm.id)
        order = _place(shop, "6h")
        order_id, deadline = order.id, order.deadline_at
        clock.move_to(deadline + timedelta(minutes=5))  # no driver came: the deadline passed
        assert planning.plan_warehouse(shop.warehouse_id, seconds=0.3) is not None
        order = db.session.get(Order, order_id)
        assert order.promise_broken_at is not None and _routed(shop.warehouse_id).get(order_id) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert).where(
            Alert.kind == "promise_broken", Alert.order_id == order_id)) == 1
        checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})  # quoting goes on
