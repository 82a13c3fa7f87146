"""The feedback loop end to end, through the real services: late deliveries recorded by drivers on
a real plan → the learning job → the next quote to that zone no longer offers 2h and the next plan
budgets more time there; a staff revert brings it back. Damaged complaints → the product's service
time in the next plan grows. A flood of complaints about one order changes a parameter once. The
job run twice changes nothing the second time."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.dispatch import services as dispatch
from marketplace.extensions import db
from marketplace.geo import services as geo
from marketplace.logistics import learning
from marketplace.logistics import services as parameters
from marketplace.models import (
    Complaint,
    LogisticsParameter,
    Order,
    ParameterChange,
    Plan,
    Role,
    Route,
    Stop,
    StopStatus,
    Village,
    Warehouse,
    Zone,
)
from marketplace.planning import services as planning
from tests.marketplace.checkout.conftest import make_shop


def _active_stop(order_id: int) -> Stop:
    return db.session.scalar(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan).where(
        Plan.status == "active", Stop.order_id == order_id, Stop.kind == "delivery"))


def _offered(user_id: int, address_id: int, product_id: int) -> dict[str, str | None]:
    """Window code → None when offered, else the reason code."""
    return {w.code: (None if w.feasible else w.reason_code)
            for w in checkout.quote(user_id, address_id, {product_id: 1}).windows}


def _place(user_id: int, address_id: int, product_id: int, window: str) -> Order:
    return checkout.place_order(user_id, address_id, window, "cod", uuid.uuid4().hex, cart_items={product_id: 1})


def _zone_addresses(user_id: int, zone_id: int, n: int) -> list[int]:
    villages = db.session.scalars(sa.select(Village).where(Village.zone_id == zone_id).order_by(Village.id)).all()
    return [geo.add_address(user_id, village_id=v.id, detail=f"测试路 {i} 号", recipient_name="测试",
                            recipient_mobile="13811110000").id for i, v in enumerate(villages[:n])]


def _planned_leg_minutes(zone_id: int) -> float:
    """The median planned drive into the zone's delivery stops in the warehouse's active plan."""
    plan_id = db.session.scalar(sa.select(sa.func.max(Plan.id)))
    rows = db.session.execute(
        sa.select(Stop.route_id, Stop.planned_arrival_at, Stop.planned_departure_at, Order.zone_id)
        .join(Route, Route.id == Stop.route_id).outerjoin(Order, Order.id == Stop.order_id)
        .where(Route.plan_id == plan_id).order_by(Stop.route_id, Stop.sequence)).all()
    legs, previous = [], None
    for row in rows:
        if row.zone_id == zone_id and previous is not None and previous.route_id == row.route_id:
            legs.append((row.planned_arrival_at - previous.planned_departure_at).total_seconds() / 60)
        previous = row
    assert legs, "no planned leg into the zone"
    legs.sort()
    return legs[len(legs) // 2]


def test_late_deliveries_suspend_2h_and_lengthen_the_plan_and_a_revert_brings_it_back(app, seeded_at, make_user,
                                                                                      clock, ctx):
    seeded_at("09:00")  # a morning of 2h orders, whatever the session's clock
    shop = make_shop(app, make_user)
    zone_id = db.session.scalar(sa.select(Village.zone_id).where(Village.code == "V001"))
    zone_code = db.session.get(Zone, zone_id).code
    learning.run()  # the demo county's history is learned first: what follows is the test's own
    suspended_before = parameters.get("zone", zone_id, "suspended_windows")
    assert "2h" not in suspended_before
    addresses = _zone_addresses(shop.user_id, zone_id, 9)
    assert _offered(shop.user_id, addresses[0], shop.product_id)["2h"] is None, "2h offered before"
    orders = [_place(shop.user_id, a, shop.product_id, "2h") for a in addresses[:8]]
    waiting = _place(shop.user_id, addresses[8], shop.product_id, "18h")  # stays on the plan
    warehouse_id = orders[0].warehouse_id
    planning.plan_warehouse(warehouse_id, seconds=1)
    leg_before = _planned_leg_minutes(zone_id)
    factor_before = float(parameters.get("zone", zone_id, "travel_factor"))

    # the vans leave now and reach every address late: 20 minutes after the deadline, and later
    start = clock.now()
    stops = [_active_stop(o.id) for o in orders]
    for route_id in {s.route_id for s in stops}:
        dispatch.start_route(route_id, at=start)
    late_from = max(o.deadline_at for o in orders) + timedelta(minutes=20)
    stops.sort(key=lambda s: (s.route_id, s.sequence))
    for i, stop in enumerate(stops):
        dispatch.record_stop(stop.id, StopStatus.DONE, at=late_from + timedelta(minutes=6 * i))
    clock.move_to(late_from + timedelta(minutes=60))

    summary = learning.run()
    assert "suspended_windows" in summary and "travel_factor" in summary, summary
    assert parameters.get("zone", zone_id, "suspended_windows") == [*suspended_before, "2h"]
    factor = float(parameters.get("zone", zone_id, "travel_factor"))
    assert factor > factor_before and factor <= learning.FACTOR_BOUNDS[1]
    margin = int(parameters.get("zone", zone_id, "promise_margin_s"))
    assert 0 < margin <= 3600
    change = db.session.scalar(sa.select(ParameterChange).join(LogisticsParameter).where(
        LogisticsParameter.scope == "zone", LogisticsParameter.scope_id == zone_id,
        LogisticsParameter.key == "suspended_windows").order_by(ParameterChange.id.desc()).limit(1))
    assert change.source == "deliveries" and set(change.source_refs["stops"]) >= {s.id for s in stops[:3]} - set()
    assert len(change.source_refs["stops"]) <= 10

    # the next quote: no 2h there (suspended); the next plan budgets the zone's slower roads
    assert _offered(shop.user_id, addresses[0], shop.product_id)["2h"] == "suspended"
    planning.plan_warehouse(warehouse_id, seconds=1)
    assert planning.build_problem(warehouse_id).problem.matrix.zone_factors[zone_code] == pytest.approx(factor)
    assert _planned_leg_minutes(zone_id) > leg_before * 1.2
    assert db.session.get(Order, waiting.id).status != "cancelled"

    # the job again: nothing new, nothing changes
    assert learning.run() == "no parameter changed"

    # staff revert the three changes: 2h comes back, and the learner does not undo the reverts
    operator = make_user(role=Role.OPERATOR)
    for key in ("suspended_windows", "promise_margin_s", "travel_factor"):
        latest = db.session.scalar(sa.select(ParameterChange).join(LogisticsParameter).where(
            LogisticsParameter.scope == "zone", LogisticsParameter.scope_id == zone_id,
            LogisticsParameter.key == key).order_by(ParameterChange.id.desc()).limit(1))
        parameters.revert(latest.id, actor_id=operator.id, reason="road works finished")
    assert parameters.get("zone", zone_id, "suspended_windows") == suspended_before
    assert float(parameters.get("zone", zone_id, "travel_factor")) == pytest.approx(factor_before)
    assert _offered(shop.user_id, addresses[0], shop.product_id)["2h"] is None
    assert learning.run() == "no parameter changed"
    versions = db.session.scalar(sa.select(Warehouse.plan_version).where(Warehouse.id == warehouse_id))
    assert versions > 0


def _deliver_now(order: Order, clock) -> Stop:
    stop = _active_stop(order.id)
    dispatch.start_route(stop.route_id, at=clock.now())
    return dispatch.record_stop(stop.id, StopStatus.DONE, at=clock.now() + timedelta(minutes=20))


def _complain(order: Order, category: str, n: int = 1, product_id: int | None = None) -> list[int]:
    ids = []
    for _ in range(n):
        complaint = Complaint(number=f"C{uuid.uuid4().hex[:12]}", order_id=order.id, user_id=order.user_id,
                              category=category, description="包装破了，茶叶洒了", product_id=product_id)
        db.session.add(complaint)
        db.session.flush()
        ids.append(complaint.id)
    db.session.commit()
    return ids


def _service_time(order_id: int) -> int:
    stop = _active_stop(order_id)
    return int((stop.planned_departure_at - stop.planned_arrival_at).total_seconds())


def test_damaged_complaints_lengthen_the_products_service_time_in_the_next_plan(app, seeded, make_user, clock, ctx):
    shop = make_shop(app, make_user)
    learning.run()
    delivered = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
    _deliver_now(delivered, clock)
    pending = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
    planning.plan_warehouse(pending.warehouse_id, seconds=1)
    before = _service_time(pending.id)

    complaint_ids = _complain(delivered, "damaged", product_id=shop.product_id)
    learning.run()
    assert parameters.get("product", shop.product_id, "service_s_extra") == learning.PER_ORDER_S
    assert "fragile" in parameters.get("product", shop.product_id, "handling_flags")
    from marketplace.models import Product
    assert "fragile" in db.session.get(Product, shop.product_id).handling_flags
    planning.plan_warehouse(pending.warehouse_id, seconds=1)
    assert _service_time(pending.id) == before + learning.PER_ORDER_S
    change = db.session.scalar(sa.select(ParameterChange).join(LogisticsParameter).where(
        LogisticsParameter.key == "service_s_extra", LogisticsParameter.scope_id == shop.product_id))
    assert change.source == "complaints" and change.source_refs["complaints"] == complaint_ids
    assert change.source_refs["orders"] == [delivered.id]


def test_a_flood_of_complaints_about_one_order_changes_a_parameter_once(app, seeded, make_user, clock, ctx):
    shop = make_shop(app, make_user)
    learning.run()
    order = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
    _deliver_now(order, clock)
    _complain(order, "damaged", n=12, product_id=shop.product_id)
    learning.run()
    learning.run()
    changes = db.session.scalars(sa.select(ParameterChange).join(LogisticsParameter).where(
        LogisticsParameter.scope == "product", LogisticsParameter.scope_id == shop.product_id,
        LogisticsParameter.key == "service_s_extra")).all()
    assert len(changes) == 1
    assert changes[0].new_value == learning.PER_ORDER_S  # one order, not twelve complaints
    assert len(changes[0].source_refs["complaints"]) == 12


def test_quality_complaints_put_the_cooperatives_listings_on_review(app, seeded, make_user, clock, ctx):
    from marketplace.models import Cooperative, Product

    shop = make_shop(app, make_user)
    learning.run()
    coop_id = db.session.get(Product, shop.product_id).cooperative_id
    for _ in range(3):
        order = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
        _deliver_now(order, clock)
        _complain(order, "quality", n=2)
    learning.run()
    score = parameters.get("cooperative", coop_id, "quality_score")
    assert score == 100 - 3 * learning.QUALITY_PENALTY
    assert db.session.get(Cooperative, coop_id).quality_score == score
    assert db.session.get(Product, shop.product_id).status == "review"
    # without new complaints the score recovers over time; the listings stay for the operator
    clock.shift(timedelta(days=60))
    learning.run()
    assert parameters.get("cooperative", coop_id, "quality_score") > score
    assert db.session.get(Product, shop.product_id).status == "review"


def test_courier_conduct_flags_the_driver_on_the_dispatch_console(app, seeded, make_user, clock, ctx):
    from marketplace.models import Vehicle

    shop = make_shop(app, make_user)
    learning.run()
    order = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
    stop = _deliver_now(order, clock)
    vehicle = db.session.get(Vehicle, stop.route.vehicle_id)
    _complain(order, "courier_conduct")
    learning.run()
    assert parameters.get("driver", vehicle.driver_id, "conduct_flag") is True
    assert vehicle.driver_id in dispatch.flagged_drivers()


def test_wrong_items_add_pick_time_at_the_location_and_flag_the_cooperative(app, seeded, make_user, clock, ctx):
    from marketplace.models import Cooperative, OrderLine, Product

    shop = make_shop(app, make_user)
    learning.run()
    coop_id = db.session.get(Product, shop.product_id).cooperative_id
    for category in ("wrong_item", "missing_item"):
        order = _place(shop.user_id, shop.address_id, shop.product_id, "18h")
        _deliver_now(order, clock)
        _complain(order, category)
    location_id = db.session.scalar(sa.select(OrderLine.source_location_id).where(OrderLine.order_id == order.id))
    before = parameters.get("location", location_id, "pick_time_s")
    learning.run()
    assert parameters.get("location", location_id, "pick_time_s") >= before + learning.PER_ORDER_S
    assert "pick_errors" in db.session.get(Cooperative, coop_id).flags
    extra, pick = planning.handling_parameters()
    assert pick[location_id] == parameters.get("location", location_id, "pick_time_s")


@pytest.mark.parametrize("hhmm", ["05:00", "12:00", "23:50"])
def test_the_job_at_any_hour_learns_once(app, seeded_at, make_user, clock, hhmm):
    """Night, midday and just before midnight in Shanghai: the job learns from the records and a
    second run changes nothing (no wall clock: the deliveries are stored rows)."""
    seeded_at(hhmm)
    with app.app_context():
        learning.run()
        zone_id = db.session.scalar(sa.select(Village.zone_id).where(Village.code == "V001"))
        # ten late 2h deliveries in the zone, recorded as rows (vans at night do not drive)
        order = db.session.scalar(sa.select(Order).where(Order.zone_id == zone_id).limit(1))
        route = db.session.scalar(sa.select(Route).order_by(Route.id.desc()).limit(1))
        from marketplace.models import WindowClass
        two_h = db.session.scalar(sa.select(WindowClass).where(WindowClass.code == "2h"))
        now = clock.now()
        for i in range(10):
            clone = Order(**{c.key: getattr(order, c.key) for c in Order.__table__.columns
                             if c.key not in ("id", "number", "idempotency_key")},
                          number=f"T{hhmm.replace(':', '')}{i:03d}")
            clone.window_class_id = two_h.id
            clone.deadline_at = now - timedelta(hours=3) + timedelta(minutes=i)
            db.session.add(clone)
            db.session.flush()
            db.session.add(Stop(route_id=route.id, sequence=1000 + i, kind="delivery", order_id=clone.id,
                                lat=clone.lat, lon=clone.lon, deadline_at=clone.deadline_at,
                                planned_arrival_at=clone.deadline_at - timedelta(minutes=30),
                                planned_departure_at=clone.deadline_at - timedelta(minutes=27),
                                actual_arrival_at=clone.deadline_at + timedelta(minutes=25),
                                actual_departure_at=clone.deadline_at + timedelta(minutes=28), status="done"))
        db.session.commit()
        first = learning.run()
        assert "suspended_windows" in first, first
        assert "2h" in parameters.get("zone", zone_id, "suspended_windows")
        assert learning.run() == "no parameter changed"
