"""The promise watchdog: orders at risk are alerted once and the alert clears by itself; an order
whose deadline passes undelivered is marked late once; a missed guarantee is compensated exactly
once — stepped by how late, capped, refunded to an online payment (never more than is left of
it) or given as a coupon — also when the job runs twice, and at once on PostgreSQL."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from marketplace.columns import utcnow
from marketplace.dispatch import services as dispatch
from marketplace.extensions import db
from marketplace.models import (
    Alert,
    Compensation,
    Order,
    OrderEvent,
    Payment,
    Plan,
    Refund,
    Route,
    Stop,
    StopStatus,
    WindowClass,
)
from marketplace.payments import sandbox
from marketplace.payments import services as payments
from marketplace.planning import watchdog
from seed import data
from tests.conftest import login
from tests.invariants import check_invariants

from ..api.conftest import Api
from ..checkout.conftest import make_shop, place_offered

MINUTE = timedelta(minutes=1)


def expected_fen(window_code: str, late_seconds: int, *, cap: bool = False) -> int:
    """The seed's rule for a window class, read independently: the largest step reached, capped."""
    rule = next(w["compensation"] for w in data.WINDOW_CLASSES if w["code"] == window_code)
    if cap:
        return rule["cap_fen"]
    reached = [fen for threshold, fen in rule["steps"] if late_seconds >= threshold]
    return min(reached[-1] if reached else 0, rule["cap_fen"])


def place(shop, window: str = "2h", method: str = "cod", *, exact: bool = True) -> Order:
    order = place_offered(shop, window, method)
    if exact:
        assert order.window_class.code == window, "the window is not offered at this hour"
    if method == "online":
        pay(order.id)
    return db.session.get(Order, order.id)


def pay(order_id: int) -> None:
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id, Payment.status == "pending"))
    raw = json.dumps({"notification_id": "ntf_" + uuid.uuid4().hex, "provider_ref": payment.provider_ref,
                      "amount_fen": payment.amount_fen, "status": "succeeded",
                      "paid_at": utcnow().isoformat()}, separators=(",", ":")).encode()
    assert payments.handle_callback(raw, sandbox.sign(raw)).outcome == "paid"


def delivery_stop(order_id: int) -> Stop:
    return db.session.scalar(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan).where(
        Plan.status == "active", Stop.order_id == order_id, Stop.kind == "delivery"))


def deliver(order_id: int, at: datetime) -> None:
    dispatch.record_stop(delivery_stop(order_id).id, StopStatus.DONE, at=at)


def alerts(order_id: int, kind: str) -> list[Alert]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Alert).where(Alert.order_id == order_id, Alert.kind == kind)
                                   .order_by(Alert.id)))


def compensations(order_id: int) -> list[Compensation]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Compensation).where(Compensation.order_id == order_id)))


def refunds(order_id: int) -> list[Refund]:
    return list(db.session.scalars(sa.select(Refund).where(Refund.order_id == order_id).order_by(Refund.id)))


def events(order_id: int, kind: str) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(OrderEvent).where(
        OrderEvent.order_id == order_id, OrderEvent.kind == kind))


def check(clock) -> watchdog.WatchdogRun:
    return watchdog.check_promises(clock.now())


def margin_of(order: Order) -> int:
    return int(watchdog.planning.zone_parameters("promise_margin_s").get(order.zone_id, 0))


# --- at risk --------------------------------------------------------------------------------------


def test_an_order_at_risk_is_alerted_once_and_the_alert_clears_when_the_slack_recovers(app, seeded_at, make_user,
                                                                                        clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "6h", exact=False)
        assert order.id not in check(clock).at_risk  # a fresh promise keeps the zone's margin
        margin = margin_of(order)
        assert margin > 0
        stop = delivery_stop(order.id)
        kept = stop.planned_arrival_at
        # a plan that leaves less slack than the margin (half of it)
        stop.planned_arrival_at = order.deadline_at - timedelta(seconds=margin // 2)
        db.session.commit()
        assert order.id in check(clock).at_risk
        assert order.id not in check(clock).at_risk  # not twice while one is open
        (alert,) = alerts(order.id, "at_risk")
        assert alert.severity == "warning" and alert.resolved_at is None
        assert alert.data["slack_s"] == margin // 2 and alert.data["margin_s"] == margin
        assert alert.data["order"] == order.number
        # a re-plan gives the slack back: resolved by itself, by no one
        stop = delivery_stop(order.id)
        stop.planned_arrival_at = kept
        db.session.commit()
        assert check(clock).resolved >= 1
        (alert,) = alerts(order.id, "at_risk")
        assert alert.resolved_at is not None and alert.resolved_by_id is None
        # at risk again: a new alert; delivered: cleared
        stop = delivery_stop(order.id)
        stop.planned_arrival_at = order.deadline_at - timedelta(seconds=margin // 2)
        db.session.commit()
        assert order.id in check(clock).at_risk
        deliver(order.id, clock.now())
        check(clock)
        assert [a.resolved_at is not None for a in alerts(order.id, "at_risk")] == [True, True]
        assert compensations(order.id) == []  # delivered in time
        assert check_invariants() == []


def test_a_van_behind_its_plan_puts_its_later_stops_at_risk(app, seeded_at, make_user, clock):
    seeded_at("23:50")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "18h", exact=False)
        margin = margin_of(order)
        assert order.id not in check(clock).at_risk
        # nothing recorded on its route since: by half a margin before its deadline the van is
        # behind every planned stop, so the order cannot keep the margin any more
        clock.move_to(order.deadline_at - timedelta(seconds=margin // 2))
        assert order.id in check(clock).at_risk
        # its deadline passes: late instead (critical), the at-risk alert resolved
        clock.move_to(order.deadline_at + MINUTE)
        assert order.id in check(clock).late
        assert [a.resolved_at is not None for a in alerts(order.id, "at_risk")] == [True]
        (late,) = alerts(order.id, "late")
        assert late.severity == "critical" and late.resolved_at is None


# --- late and compensated -------------------------------------------------------------------------


def test_late_deliveries_are_compensated_with_the_stepped_amount(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    lateness = [5 * 60, 30 * 60, 47 * 60, 61 * 60, 5 * 3600]
    with app.app_context():
        placed = [place(shop, "2h") for _ in lateness]
        for order, late in zip(placed, lateness, strict=True):
            deliver(order.id, order.deadline_at + timedelta(seconds=late))
        clock.move_to(max(o.deadline_at for o in placed) + timedelta(seconds=max(lateness)) + MINUTE)
        run = check(clock)
        assert sorted(run.compensated) == sorted(o.id for o in placed)
        for order, late in zip(placed, lateness, strict=True):
            (compensation,) = compensations(order.id)
            assert (compensation.kind, compensation.amount_fen, compensation.late_seconds, compensation.reason) == (
                "coupon", expected_fen("2h", late), late, "late_delivery")
            assert events(order.id, "compensated") == 1
            assert refunds(order.id) == []  # cash on delivery: a coupon, no money moves
        assert [compensations(o.id)[0].amount_fen for o in placed] == [500, 1000, 1000, 2000, 2000]
        assert check(clock).compensated == []  # the second run changes nothing
        assert check_invariants() == []


def test_the_compensation_is_capped(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        window = db.session.scalar(sa.select(WindowClass).where(WindowClass.code == "2h"))
        window.compensation_cap_fen = 1500
        db.session.commit()
        order = place(shop, "2h")
        deliver(order.id, order.deadline_at + timedelta(minutes=90))
        clock.move_to(order.deadline_at + timedelta(minutes=91))
        check(clock)
        assert [c.amount_fen for c in compensations(order.id)] == [1500]  # the 2000 step, capped


def test_an_online_order_delivered_late_is_refunded_once(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "2h", "online")
        paid = order.total_fen
        assert payments.refundable_fen(order.id) == paid
        deliver(order.id, order.deadline_at + timedelta(minutes=47))
        clock.move_to(order.deadline_at + timedelta(minutes=50))
        for _ in range(2):
            check(clock)
        (compensation,) = compensations(order.id)
        assert (compensation.kind, compensation.amount_fen) == ("refund", 1000)
        (refund,) = refunds(order.id)
        assert (refund.amount_fen, refund.status) == (1000, "succeeded")
        assert payments.refundable_fen(order.id) == paid - 1000
        assert events(order.id, "refunded") == 1 and events(order.id, "compensated") == 1
        assert check_invariants() == []


def test_a_refund_never_exceeds_what_is_left_of_the_payment(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "2h", "online")
        # most of the payment already went back (a goodwill refund): 3 yuan are left
        payments.refund(order, order.total_fen - 300, "goodwill")
        db.session.commit()
        deliver(order.id, order.deadline_at + timedelta(minutes=47))
        clock.move_to(order.deadline_at + timedelta(minutes=48))
        check(clock)
        (compensation,) = compensations(order.id)
        assert (compensation.kind, compensation.amount_fen) == ("coupon", 1000)  # the whole amount, as a coupon
        assert [r.amount_fen for r in refunds(order.id)] == [order.total_fen - 300]
        assert payments.refundable_fen(order.id) == 300
        assert check_invariants() == []


def test_an_order_never_delivered_is_marked_late_once_then_compensated_with_the_cap(app, seeded_at, make_user,
                                                                                   clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "2h", "online")
        clock.move_to(order.deadline_at + 5 * MINUTE)
        assert order.id in check(clock).late
        assert order.id not in check(clock).late
        db.session.expire_all()
        assert events(order.id, "late") == 1 and len(alerts(order.id, "late")) == 1
        assert db.session.get(Order, order.id).promise_broken_at is not None
        assert compensations(order.id) == []  # not yet: it may still come soon
        clock.move_to(order.deadline_at + timedelta(hours=24) - MINUTE)
        assert order.id not in check(clock).compensated
        clock.move_to(order.deadline_at + timedelta(hours=24) + MINUTE)
        assert order.id in check(clock).compensated
        (compensation,) = compensations(order.id)
        # still open (it may yet be cancelled for a full refund): a coupon of the cap
        assert (compensation.kind, compensation.amount_fen, compensation.reason) == (
            "coupon", expected_fen("2h", 0, cap=True), "undelivered")
        deliver(order.id, clock.now())
        clock.shift(MINUTE)
        check(clock)
        assert len(compensations(order.id)) == 1 and refunds(order.id) == []  # nothing more when it comes
        assert [a.resolved_at is not None for a in alerts(order.id, "late")] == [True]
        assert check_invariants() == []


@pytest.mark.parametrize("local_time", ["03:30", "10:30", "23:50"])
def test_late_at_any_hour_is_marked_then_compensated_at_delivery(app, seeded_at, make_user, clock, local_time):
    seeded_at(local_time)
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "6h", exact=False)  # at night only the long windows are offered
        code = order.window_class.code
        run = check(clock)
        assert order.id not in run.late + run.at_risk + run.compensated
        clock.move_to(order.deadline_at + 5 * MINUTE)
        assert order.id in check(clock).late
        clock.move_to(order.deadline_at + 47 * MINUTE)
        deliver(order.id, clock.now())
        clock.shift(MINUTE)
        assert order.id in check(clock).compensated
        (compensation,) = compensations(order.id)
        assert compensation.late_seconds == 47 * 60
        assert compensation.amount_fen == expected_fen(code, 47 * 60)
        assert check(clock).compensated == [] and len(compensations(order.id)) == 1
        assert check_invariants() == []


def test_across_midnight_the_order_page_shows_the_compensation(app, seeded_at, make_user, clock, client):
    seeded_at("23:50")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "6h", exact=False)
        code = order.window_class.code
        # a promise due at 23:40 (Shanghai), delivered at 00:27 the next day: 47 minutes late
        order.deadline_at = clock.now() - 10 * MINUTE
        db.session.commit()
        assert order.id in check(clock).late
        clock.move_to(order.deadline_at + 47 * MINUTE)
        deliver(order.id, clock.now())
        clock.shift(MINUTE)
        check(clock)
        (compensation,) = compensations(order.id)
        assert (compensation.late_seconds, compensation.amount_fen) == (47 * 60, expected_fen(code, 47 * 60))
        number, amount = order.number, compensation.amount_fen
    login(client, shop.mobile)
    english = client.get(f"/orders/{number}", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "delivered 47 min after the guaranteed time" in english, english[english.find("<main"):]
    assert f"{amount / 100:.2f}" in english and "coupon" in english
    chinese = client.get(f"/orders/{number}", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    assert f"{amount / 100:.2f}" in chinese and "47" in chinese
    api = Api(app)  # (its answers are checked against the OpenAPI document)
    response = api.get(f"/orders/{number}", token=api.token_for(shop.mobile), headers={"Accept-Language": "en"})
    assert response.status_code == 200
    (item,) = response.get_json()["compensations"]
    assert (item["amount_fen"], item["late_seconds"], item["kind"], item["reason"]) == (
        amount, 47 * 60, "coupon", "late_delivery")
    assert item["why"] == "delivered 47 min after the guaranteed time"


# --- exactly once ---------------------------------------------------------------------------------


def test_the_database_refuses_a_second_automatic_compensation(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        order = place(shop, "2h")
        db.session.add(Compensation(order_id=order.id, kind="coupon", amount_fen=500, reason="late_delivery"))
        db.session.commit()
        db.session.add(Compensation(order_id=order.id, kind="coupon", amount_fen=500, reason="late_delivery"))
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()


def _late_orders(app, shop, clock) -> list[int]:
    with app.app_context():
        placed = [place(shop, "2h", method) for method in ("online", "cod", "online")]
        for order in placed:
            deliver(order.id, order.deadline_at + timedelta(minutes=47))
        clock.move_to(max(o.deadline_at for o in placed) + timedelta(minutes=48))
        ids = [o.id for o in placed]
        db.session.remove()
    return ids


def _at_once(app, work, n: int = 2) -> list:
    start = threading.Barrier(n)
    results: list = []
    errors: list = []

    def one() -> None:
        with app.app_context():
            try:
                start.wait()
                results.append(work())
            except Exception as error:  # noqa: BLE001 (reported below)
                errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=one) for _ in range(n)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results + errors


def _once_each(app, ids: list[int]) -> None:
    with app.app_context():
        for order_id in ids:
            order = db.session.get(Order, order_id)
            assert len(compensations(order_id)) == 1
            assert events(order_id, "compensated") == 1
            assert len(refunds(order_id)) == (1 if order.payment_method == "online" else 0)
        assert check_invariants() == []


def test_two_watchdogs_one_after_the_other_compensate_once(app, seeded_at, make_user, clock):
    seeded_at("10:30")
    ids = _late_orders(app, make_shop(app, make_user), clock)
    with app.app_context():
        assert sorted(check(clock).compensated) == sorted(ids)
        assert check(clock).compensated == []
    _once_each(app, ids)


def test_two_watchdogs_at_once_compensate_once(app, seeded_at, make_user, clock, database_uri):
    if not database_uri.startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (TEST_DATABASE_URL)")
    seeded_at("10:30")
    ids = _late_orders(app, make_shop(app, make_user), clock)
    now = clock.now()
    runs = _at_once(app, lambda: watchdog.check_promises(now))
    assert all(isinstance(run, watchdog.WatchdogRun) for run in runs), runs
    assert sorted(i for run in runs for i in run.compensated) == sorted(ids)  # each by one of them
    _once_each(app, ids)


def test_two_compensations_racing_past_the_lock_leave_one(app, seeded_at, make_user, clock, database_uri,
                                                          monkeypatch):
    """Without the row lock and with the look-up blind (both believe the order not compensated
    yet), the unique index still lets one through: the other's claim fails before its refund."""
    if not database_uri.startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (TEST_DATABASE_URL)")
    seeded_at("10:30")
    ids = _late_orders(app, make_shop(app, make_user), clock)
    now = clock.now()
    monkeypatch.setattr(watchdog, "automatic_compensation", lambda order_id: None)

    def compensate_unlocked():
        order = db.session.get(Order, ids[0])
        compensation = watchdog.compensate(order, now=now)
        db.session.commit()
        return compensation.id

    outcomes = _at_once(app, compensate_unlocked)
    assert sorted(type(o).__name__ for o in outcomes) == ["IntegrityError", "int"], outcomes
    with app.app_context():
        assert len(compensations(ids[0])) == 1 and len(refunds(ids[0])) == 1
        assert check_invariants() == []
