"""The driver's day: their own route, next stop first; what they record at a stop is stored once
(a double tap changes nothing), survives a re-plan, and reaches the order and the planner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from marketplace import uploads as photos
from marketplace.dispatch.models import (
    Plan,
    PlanEvent,
    PlanStatus,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
)
from marketplace.driver import services
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, PaymentMethod, Role, Stock
from marketplace.planning import services as planning
from tests.marketplace.images import png_bytes

from .conftest import give_route, other_driver


def test_the_driver_sees_their_route_next_stop_first(app, day, ctx):
    today = services.day_of(day.user_id)
    assert today.route.id == day.route_id and not today.started
    shown = [today.next_stop, *today.later]
    assert [c.stop.id for c in shown] == day.stop_ids  # in visiting order
    assert [c.number for c in shown] == list(range(1, len(shown) + 1))
    assert today.made == () and today.total == len(shown)
    for c in shown:
        order = c.stop.order
        if c.kind == StopKind.DELIVERY:
            assert (c.place, c.address, c.contact_mobile) == (order.recipient_name, order.address_text,
                                                            order.recipient_mobile)
            assert sorted((g.name_zh, g.quantity) for g in c.goods) == sorted(
                (line.product_name_zh, line.quantity) for line in order.lines)
            cod = order.payment_method == PaymentMethod.CASH_ON_DELIVERY
            assert c.cod_fen == (order.total_fen if cod else None)
        elif c.kind == StopKind.PICKUP:  # only what this cooperative hands over
            assert c.goods and all(line.source_location_id == c.stop.location_id for line in order.lines
                                   if line.product_name_zh in {g.name_zh for g in c.goods})
            assert c.contact_mobile == c.stop.location.cooperative.head_mobile
    assert any(c.cod_fen for c in shown if c.kind == StopKind.DELIVERY), "the seed has cash-on-delivery orders"
    assert today.map is not None and [p.state for p in today.map.points][:2] == ["depot", "next"]
    assert all(0 <= p.x <= 320 and 0 <= p.y <= 180 for p in today.map.points)


def test_a_replenishment_stop_shows_what_moves_and_is_made_without_a_name(app, day, ctx):
    """A milk-run stop on the route (stock from a cooperative to the warehouse): its goods and
    the cooperative's head to call; "picked up" needs no recipient."""
    from marketplace.catalog.models import Product
    from marketplace.dispatch.models import Replenishment
    from marketplace.inventory.models import Location, LocationKind

    route = db.session.get(Route, day.route_id)
    farm = db.session.scalar(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE).order_by(Location.id))
    product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == farm.cooperative_id)
                                .order_by(Product.id))
    from marketplace.dispatch.models import ReplenishmentStatus
    from marketplace.inventory import services as inventory

    move = Replenishment(product_id=product.id, from_location_id=farm.id,
                         to_location_id=route.vehicle.warehouse.location_id, quantity=12)
    # an accepted move holds its units at the cooperative (coop.replenishment.accept)
    stock = inventory.ensure_stock(product.id, farm.id)
    inventory.receive(stock.id, 12, reason="receipt")
    inventory.reserve(stock.id, 12)
    db.session.flush()
    on_hand = db.session.scalar(sa.select(Stock.on_hand).where(Stock.id == stock.id))
    last = route.stops[-1]
    stop = Stop(route_id=route.id, sequence=last.sequence + 1, kind=StopKind.REPLENISH_PICKUP,
                location_id=farm.id, lat=farm.lat, lon=farm.lon, planned_arrival_at=last.planned_departure_at,
                planned_departure_at=last.planned_departure_at + timedelta(minutes=10))
    db.session.add(move)
    db.session.flush()
    stop.replenishment_id = move.id
    db.session.add(stop)
    db.session.commit()
    card = services.day_of(day.user_id).later[-1]
    assert card.stop.id == stop.id and card.pickup and card.cod_fen is None
    assert [(g.name_zh, g.quantity) for g in card.goods] == [(product.name_zh, 12)]
    assert (card.place, card.contact_mobile) == (farm.name_zh, farm.cooperative.head_mobile)
    made = services.deliver(day.user_id, stop.id)
    assert made.new and made.stop.status == StopStatus.DONE and made.stop.proof["name"] is None
    db.session.expire_all()  # loaded: the units left the cooperative and are on the van
    assert db.session.get(Replenishment, move.id).status == ReplenishmentStatus.IN_TRANSIT
    assert db.session.scalar(sa.select(Stock.on_hand).where(Stock.id == stock.id)) == on_hand - 12


def test_a_driver_without_a_van_has_no_route(app, seeded, make_user, ctx):
    user = make_user(Role.DRIVER)
    assert services.day_of(user.id).route is None


def test_starting_dispatches_the_route_once(app, day, ctx):
    route = services.start(day.user_id, day.route_id)
    assert route.status == RouteStatus.STARTED
    confirmed = [s.order for s in route.stops if s.kind == StopKind.DELIVERY and s.order.status != OrderStatus.PENDING_PAYMENT]
    assert confirmed and all(o.status == OrderStatus.DISPATCHED for o in confirmed)
    started_at = route.start_at
    services.start(day.user_id, day.route_id)  # a double tap
    assert db.session.get(Route, day.route_id).start_at == started_at
    events = db.session.scalars(sa.select(PlanEvent).where(PlanEvent.kind == "route_started")).all()
    assert len([e for e in events if e.data["route_id"] == day.route_id]) == 1  # (the history has its own)


def test_arriving_stores_the_time_and_keeps_the_stop_to_be_made(app, day, ctx, clock):
    services.start(day.user_id, day.route_id)
    clock.shift(600)
    first = services.arrive(day.user_id, day.stop_ids[0])
    assert first.new and first.stop.status == StopStatus.PENDING
    at = first.stop.actual_arrival_at
    assert abs(at - clock.now()) < timedelta(seconds=5)
    clock.shift(60)
    again = services.arrive(day.user_id, day.stop_ids[0])
    assert not again.new and db.session.get(Stop, day.stop_ids[0]).actual_arrival_at == at
    # the planner still counts it as a stop to make, on this van
    stop = db.session.get(Stop, day.stop_ids[0])
    problem = planning.build_problem(stop.route.plan.warehouse_id)
    key = f"O{stop.order_id}" if stop.order_id else f"R{stop.replenishment_id}"
    assert key in {ref.order_id for ref in problem.routes[f"V{stop.route.vehicle_id}"]}


def test_arriving_on_a_route_not_started_starts_it(app, day, ctx):
    services.arrive(day.user_id, day.stop_ids[0])
    assert db.session.get(Route, day.route_id).status == RouteStatus.STARTED


def test_a_delivery_needs_a_name_or_a_photo(app, day, ctx):
    with pytest.raises(services.ProofMissing):
        services.deliver(day.user_id, day.delivery_ids[0], name="   ")
    assert db.session.get(Stop, day.delivery_ids[0]).status == StopStatus.PENDING


def test_delivering_with_a_name_delivers_the_order_once(app, day, ctx, clock):
    services.start(day.user_id, day.route_id)
    stop_id = day.delivery_ids[0]
    services.arrive(day.user_id, stop_id)
    arrived = db.session.get(Stop, stop_id).actual_arrival_at
    clock.shift(240)
    position = services.Position.parse("28.59", "119.27", "12.5")
    device_at = services.device_time(str(int(clock.now().timestamp() * 1000)))
    done = services.deliver(day.user_id, stop_id, name="  王  小丽 ", position=position, device_at=device_at)
    stop = done.stop
    assert done.new and stop.status == StopStatus.DONE
    assert stop.actual_arrival_at == arrived and stop.actual_departure_at > arrived
    assert stop.proof["kind"] == "name" and stop.proof["name"] == "王 小丽" and stop.proof["photo"] is None
    assert (stop.proof["lat"], stop.proof["lon"], stop.proof["accuracy_m"]) == (28.59, 119.27, 12.5)
    assert stop.proof["device_at"] == device_at.isoformat()
    order = db.session.get(Order, stop.order_id)
    assert order.status == OrderStatus.DELIVERED and order.delivered_at == stop.actual_departure_at
    again = services.deliver(day.user_id, stop_id, name="someone else")
    assert not again.new and db.session.get(Stop, stop_id).proof["name"] == "王 小丽"
    assert sum(1 for e in order.events if e.kind == "delivered") == 1
    assert services.attempts_of(order.id)[0].delivered and services.attempts_of(order.id)[0].name == "王 小丽"


def test_a_cash_on_delivery_order_delivered_has_its_cash_collected_once(app, day, ctx):
    from marketplace.payments.models import Payment, PaymentStatus

    cod = next(s for s in day.delivery_ids
               if db.session.get(Stop, s).order.payment_method == PaymentMethod.CASH_ON_DELIVERY)
    order_id = db.session.get(Stop, cod).order_id
    services.deliver(day.user_id, cod, name="王晓丽")
    services.deliver(day.user_id, cod, name="王晓丽")
    payments = db.session.scalars(sa.select(Payment).where(Payment.order_id == order_id)).all()
    order = db.session.get(Order, order_id)
    assert [p.status for p in payments] == [PaymentStatus.SUCCEEDED] and payments[0].amount_fen == order.total_fen
    assert payments[0].paid_at == db.session.get(Stop, cod).actual_departure_at
    assert [e.kind for e in order.events].count("cod_collected") == 1


def test_a_double_tap_with_a_photo_keeps_one_photo(app, day, ctx, uploads):
    stop_id = day.delivery_ids[0]
    first = services.deliver(day.user_id, stop_id, photo=png_bytes())
    photo_id = first.stop.proof["photo"]
    assert first.stop.proof["kind"] == "photo" and photos.path_of(photo_id).is_file()
    second = services.deliver(day.user_id, stop_id, photo=png_bytes())
    assert not second.new and second.stop.proof["photo"] == photo_id
    assert [p.name for p in (uploads / "proof").iterdir()] == [f"{photo_id}.jpg"]


def test_a_refused_photo_records_nothing(app, day, ctx, uploads):
    with pytest.raises(photos.PhotoRefused):
        services.deliver(day.user_id, day.delivery_ids[0], name="王小丽", photo=b"not a picture at all")
    assert db.session.get(Stop, day.delivery_ids[0]).status == StopStatus.PENDING


def test_a_failed_delivery_keeps_the_order_open_with_its_reason(app, day, english):
    services.start(day.user_id, day.route_id)
    stop_id = day.delivery_ids[0]
    with pytest.raises(services.ReasonMissing):
        services.fail(day.user_id, stop_id, reason="bored")
    failed = services.fail(day.user_id, stop_id, reason="not_home", note="  电话 无人接听 ")
    assert failed.new and failed.stop.status == StopStatus.FAILED
    assert failed.stop.proof["reason"] == "not_home" and failed.stop.proof["note"] == "电话 无人接听"
    order = db.session.get(Order, failed.stop.order_id)
    assert order.status == OrderStatus.DISPATCHED and order.delivered_at is None
    assert "cod_collected" not in [e.kind for e in order.events]  # no goods, no cash
    event = db.session.scalar(sa.select(PlanEvent).where(PlanEvent.kind == "stop_failed"))
    assert event.data["reason"] == "not_home"
    # a failed stop is made: a later "delivered" tap on it changes nothing
    assert not services.deliver(day.user_id, stop_id, name="王小丽").new
    attempt = services.attempts_of(order.id)[0]
    assert not attempt.delivered and attempt.reason == "not_home" and attempt.reason_text == "Nobody at home"


def test_stops_made_leave_the_list_and_the_next_one_moves_up(app, day, ctx):
    services.deliver(day.user_id, day.stop_ids[0], name="甲") if day.stop_ids[0] in day.delivery_ids else \
        services.deliver(day.user_id, day.stop_ids[0])
    today = services.day_of(day.user_id)
    assert today.next_stop.stop.id == day.stop_ids[1]
    assert [c.stop.id for c in today.made] == [day.stop_ids[0]]
    assert today.next_stop.number == 2 and today.started


def test_another_drivers_route_and_stops_are_not_found(app, day, make_user, ctx):
    other = other_driver(app, make_user)
    assert other.route_id != day.route_id
    for call in (lambda: services.start(other.user_id, day.route_id),
                 lambda: services.arrive(other.user_id, day.stop_ids[0]),
                 lambda: services.deliver(other.user_id, day.delivery_ids[0], name="x"),
                 lambda: services.fail(other.user_id, day.delivery_ids[0], reason="refused")):
        with pytest.raises(NotFound):
            call()
    assert db.session.get(Stop, day.delivery_ids[0]).status == StopStatus.PENDING
    assert db.session.get(Route, day.route_id).status == RouteStatus.PLANNED


def test_a_tap_on_a_page_opened_before_a_re_plan_records_on_the_current_stop(app, day, ctx, clock):
    """The driver's page showed stop ids of the plan a re-plan has since superseded: the same
    visit on the new route is recorded (where the planner reads it), with the arrival made
    before the re-plan."""
    services.start(day.user_id, day.route_id)
    old_id = day.delivery_ids[-1]
    services.arrive(day.user_id, old_id)
    arrived = db.session.get(Stop, old_id).actual_arrival_at
    warehouse_id = db.session.get(Route, day.route_id).plan.warehouse_id
    clock.shift(120)
    assert planning.plan_warehouse(warehouse_id, seconds=0.3) is not None
    old = db.session.get(Stop, old_id)
    assert old.route.plan.status == PlanStatus.SUPERSEDED
    new = db.session.scalar(sa.select(Stop).join(Route).join(Plan).where(
        Plan.status == PlanStatus.ACTIVE, Stop.order_id == old.order_id, Stop.kind == StopKind.DELIVERY))
    assert new is not None and new.actual_arrival_at is None
    assert services.day_of(day.user_id).route.id == new.route_id
    clock.shift(120)
    done = services.deliver(day.user_id, old_id, name="乙").stop
    assert done.id == new.id and done.status == StopStatus.DONE and done.actual_arrival_at == arrived
    assert db.session.get(Stop, old_id).status == StopStatus.PENDING  # history stays as it was
    assert not services.deliver(day.user_id, old_id, name="乙").new  # and a second tap finds it made
    # the made stop shows on the driver's page among today's
    assert done.id in [c.stop.id for c in services.day_of(day.user_id).made]


def test_a_route_id_of_a_superseded_plan_starts_the_current_route(app, day, ctx):
    warehouse_id = db.session.get(Route, day.route_id).plan.warehouse_id
    assert planning.plan_warehouse(warehouse_id, seconds=0.3) is not None
    route = db.session.get(Route, day.route_id)
    if route.plan.status == PlanStatus.ACTIVE:
        pytest.skip("the re-plan kept the plan")
    current = services.todays_route(day.user_id)
    if current is None:
        pytest.skip("the re-plan gave the driver's van no route")
    assert services.start(day.user_id, day.route_id).id == current.id


@pytest.mark.parametrize(("local", "expected_utc"), [
    ("03:30", "2026-11-30T16:00:00"), ("07:00", "2026-11-30T16:00:00"), ("10:30", "2026-11-30T16:00:00"),
    ("23:50", "2026-11-30T16:00:00"), ("00:10", "2026-11-30T16:00:00")])
def test_today_is_the_shanghai_day(clock, local, expected_utc):
    from datetime import date

    day = date(2026, 12, 1)
    clock.at_local(local, day=day)
    assert services.day_start() == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC)
    clock.at_local(local, day=day + timedelta(days=1))
    assert services.day_start() == datetime.fromisoformat(expected_utc).replace(tzinfo=UTC) + timedelta(days=1)


@pytest.mark.parametrize("hhmm", ["03:30", "07:30", "21:50"])  # the hours the console tests seed too
def test_the_day_at_other_hours(app, seeded_at, ctx, hhmm):
    """Before the first shift, as the morning shifts start and late in the evening (the plan then
    holds the next morning's routes), the driver's page shows their route of the active plan,
    and the stop they make moves to "made today"."""
    seeded_at(hhmm)
    db.session.remove()
    day = give_route(app)
    today = services.day_of(day.user_id)
    assert today.route.id == day.route_id and today.next_stop.stop.id == day.stop_ids[0]
    services.deliver(day.user_id, day.stop_ids[0], name="丙") if day.stop_ids[0] in day.delivery_ids else \
        services.deliver(day.user_id, day.stop_ids[0])
    assert [c.stop.id for c in services.day_of(day.user_id).made] == [day.stop_ids[0]]


def test_positions_and_device_times_are_taken_only_when_sane(clock):
    assert services.Position.parse("28.5", "119.2") == services.Position(28.5, 119.2, None)
    assert services.Position.parse("91", "119") is None
    assert services.Position.parse("nan", "119") is None
    assert services.Position.parse("", "") is None
    assert services.Position.parse("28.5", "119.2", "-3").accuracy_m is None
    now = clock.now()
    assert services.device_time(str(int(now.timestamp() * 1000)), now) is not None
    assert services.device_time(str(int((now - timedelta(days=3)).timestamp() * 1000)), now) is None
    assert services.device_time("1e400", now) is None and services.device_time("soon", now) is None
