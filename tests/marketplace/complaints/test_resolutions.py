"""Resolutions in fen: a refund never more than paid less refunded, a coupon naming the complaint,
a reship through the real checkout; each exactly once even when submitted twice (and, on
PostgreSQL, when two submissions race)."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa

from marketplace.complaints import services
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import (
    Compensation,
    Complaint,
    ComplaintEvent,
    ComplaintResolution,
    Order,
    OrderStatus,
    Refund,
    Role,
)
from tests.conftest import csrf_token, login
from tests.marketplace.complaints.conftest import english
from tests.marketplace.complaints.test_console import file


def paid(app, delivered) -> int:
    """The courier collected the cash (the demo's delivered orders are collected already: this
    changes nothing then): the order's total is paid and refundable."""
    from marketplace.payments import services as payments

    with app.app_context():
        order = db.session.get(Order, delivered.order_id)
        payments.mark_cod_collected(order)
        db.session.commit()
        total = order.total_fen
        db.session.remove()
        return total


@pytest.fixture
def staff(app, make_user, client):
    user = make_user(role=Role.COMPLAINT_STAFF)
    login(client, user.mobile)
    english(client)
    return user


def refunds(app, order_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(Refund.amount_fen).where(Refund.order_id == order_id)))


def test_refund_bounds(app, delivered, staff):
    number = file(app, delivered)
    total = paid(app, delivered)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(Conflict, match="can still be refunded"):
            services.refund(number, total + 1, "k-over-00001", staff.id)
        services.refund(number, total - 500, "k-part-00001", staff.id)
        with pytest.raises(Conflict, match="can still be refunded"):
            services.refund(number, 501, "k-over-00002", staff.id)
        services.refund(number, 500, "k-rest-00001", staff.id)
        assert services.refundable(number) == 0
    assert sorted(refunds(app, delivered.order_id)) == sorted([total - 500, 500])
    with app.app_context():
        kinds = db.session.scalars(sa.select(ComplaintResolution.kind)).all()
        assert len(kinds) == 2  # the refused ones left nothing behind


def test_a_refund_submitted_twice_pays_once(app, delivered, client, staff):
    number = file(app, delivered)
    paid(app, delivered)
    page = client.get(f"/complaints/{number}").get_data(as_text=True)
    import re

    key = re.search(r'action="/complaints/[^"]+/refund"[^>]*>\s*<input[^>]*>\s*<input[^>]*value="([^"]+)"', page)
    assert key, "no idempotency key in the refund form"
    token = csrf_token(client, f"/complaints/{number}")
    for _ in range(2):
        response = client.post(f"/complaints/{number}/refund", data={
            "csrf_token": token, "idempotency_key": key.group(1), "amount": "3.50", "note": "broken jar"})
        assert response.status_code == 302
    assert refunds(app, delivered.order_id) == [350]
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert [e.kind for e in c.events].count("refund") == 1
    bad = client.post(f"/complaints/{number}/refund", data={"csrf_token": token, "idempotency_key": "k" * 20,
                                                           "amount": "-3"}, follow_redirects=True)
    assert "Enter an amount in yuan" in bad.get_data(as_text=True)


def test_coupon_is_a_compensation_naming_the_complaint(app, delivered, staff):
    number = file(app, delivered)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        first, new = services.coupon(number, 1000, "k-coupon-001", staff.id, "sorry")
        again, new_again = services.coupon(number, 1000, "k-coupon-001", staff.id, "sorry")
        assert new and not new_again and again.id == first.id
        comp = db.session.scalars(sa.select(Compensation).where(Compensation.complaint_id.is_not(None))).all()
        assert len(comp) == 1 and comp[0].amount_fen == 1000 and comp[0].order_id == delivered.order_id


def test_reship_places_a_new_order_through_the_checkout_once(app, delivered, staff):
    number = file(app, delivered)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        row, new = services.reship(number, delivered.line_ids[:1], "18h", "k-reship-0001", staff.id)
        again, new_again = services.reship(number, delivered.line_ids[:1], "18h", "k-reship-0001", staff.id)
        assert new and not new_again and again.reship_order_id == row.reship_order_id
        order = db.session.get(Order, row.reship_order_id)
        original = db.session.get(Order, delivered.order_id)
        assert order.user_id == original.user_id and order.address_id == original.address_id
        assert order.status == OrderStatus.CONFIRMED and order.window_class.code == "18h"
        assert order.deadline_at is not None and [line.product_id for line in order.lines] == [
            original.lines[0].product_id]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintEvent).where(
            ComplaintEvent.kind == "reship")) == 1


def test_two_racing_refunds_with_one_key_pay_once(app, delivered, make_user):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        pytest.skip("a race needs PostgreSQL (SQLite serializes writers)")
    staff = make_user(role=Role.COMPLAINT_STAFF)
    number = file(app, delivered)
    paid(app, delivered)
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def submit():
        with app.test_request_context(headers={"Accept-Language": "en"}):
            barrier.wait()
            try:
                outcomes.append(services.refund(number, 200, "k-race-000001", staff.id)[1])
            except Exception as error:  # noqa: BLE001 - recorded and asserted below
                outcomes.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=submit) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(map(str, outcomes)) == ["False", "True"], outcomes
    assert refunds(app, delivered.order_id) == [200]
