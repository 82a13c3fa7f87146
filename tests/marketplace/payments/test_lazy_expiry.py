"""Unpaid orders expire without a scheduler (issue 19, item 8): a checkout expires overdue ones
before it counts and reserves, and opening an overdue order's page or payment page expires it,
through the one expiry service. On the frozen clock, at several hours of the day."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.labels import LABELS
from marketplace.models import (
    Order,
    OrderEvent,
    OrderStatus,
    Payment,
    PaymentStatus,
    Stock,
    StockMovement,
)
from marketplace.payments import services
from tests.conftest import login
from tests.marketplace.checkout.conftest import make_shop, place_offered

from .conftest import DEMO_PASSWORD, OWNER_MOBILE, QUANTITY

HOURS = ["03:30", "10:00", "21:50", "23:50"]  # before the first shift, morning, last shift, to midnight
TIMEOUT = timedelta(minutes=15)


def _state(app, order_id: int, stock_id: int) -> tuple[OrderStatus, int, list[str], list[PaymentStatus]]:
    with app.app_context():
        order = db.session.get(Order, order_id)
        events = [e.kind for e in db.session.scalars(sa.select(OrderEvent).where(OrderEvent.order_id == order_id))]
        payments = list(db.session.scalars(sa.select(Payment.status).where(Payment.order_id == order_id)))
        state = (order.status, db.session.get(Stock, stock_id).reserved, events, payments)
        db.session.remove()
        return state


def _label(app, status: str) -> str:
    with app.test_request_context():
        return str(LABELS["order_status_names"][status])


@pytest.mark.parametrize("hhmm", HOURS)
def test_opening_an_overdue_orders_page_expires_it_and_gives_its_stock_back(
        app, client, seeded_at, make_pending_order, clock, hhmm):
    seeded_at(hhmm)
    made = make_pending_order()
    reserved = _state(app, made.order_id, made.stock_id)[1]
    assert login(client, OWNER_MOBILE, DEMO_PASSWORD).status_code == 302

    clock.shift(TIMEOUT + timedelta(seconds=30))  # overdue, but a late notice of a payment may still come
    assert _label(app, "pending_payment") in client.get(f"/orders/{made.number}").get_data(as_text=True)
    assert _state(app, made.order_id, made.stock_id)[0] == OrderStatus.PENDING_PAYMENT

    clock.shift(timedelta(minutes=1))  # no scheduler ran
    page = client.get(f"/orders/{made.number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert _label(app, "expired") in html and _label(app, "pending_payment") not in html
    assert _state(app, made.order_id, made.stock_id) == (
        OrderStatus.EXPIRED, reserved - QUANTITY, ["placed", "expired"], [PaymentStatus.EXPIRED])
    client.get(f"/orders/{made.number}")  # once
    assert _state(app, made.order_id, made.stock_id)[2] == ["placed", "expired"]


@pytest.mark.parametrize("hhmm", ["03:30", "23:50"])
def test_opening_an_overdue_orders_payment_page_expires_it(app, client, seeded_at, make_pending_order, clock, hhmm):
    seeded_at(hhmm)
    made = make_pending_order()
    reserved = _state(app, made.order_id, made.stock_id)[1]
    assert login(client, OWNER_MOBILE, DEMO_PASSWORD).status_code == 302
    clock.shift(TIMEOUT + timedelta(minutes=2))
    back = client.get(f"/pay/return/{made.provider_ref}")
    assert re.search(r'data-payment-state="([a-z]+)"', back.get_data(as_text=True)).group(1) == "closed"
    assert "Refresh" not in back.headers
    assert _state(app, made.order_id, made.stock_id)[:2] == (OrderStatus.EXPIRED, reserved - QUANTITY)
    hosted = client.get(f"/pay/sandbox/{made.provider_ref}").get_data(as_text=True)
    assert 'value="pay"' not in hosted
    # coming back to pay says why it cannot
    again = client.post(f"/pay/orders/{made.number}", data={"csrf_token": _token(hosted)})
    assert again.status_code == 409
    assert _state(app, made.order_id, made.stock_id)[2] == ["placed", "expired"]


def _token(html: str) -> str:
    return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html).group(1)


def test_opening_the_list_of_ones_orders_expires_the_overdue_ones(app, client, make_pending_order, clock):
    made = [make_pending_order(), make_pending_order(expires_in=TIMEOUT + timedelta(hours=1))]
    assert login(client, OWNER_MOBILE, DEMO_PASSWORD).status_code == 302
    clock.shift(TIMEOUT + timedelta(minutes=2))
    assert client.get("/orders/").status_code == 200
    assert [_state(app, m.order_id, m.stock_id)[0] for m in made] == [OrderStatus.EXPIRED, OrderStatus.PENDING_PAYMENT]


def test_the_api_order_detail_goes_through_the_same_lazy_expiry(app, make_pending_order, clock):
    from marketplace.models import User
    from marketplace.orders import services as orders

    made = make_pending_order()
    clock.shift(TIMEOUT + timedelta(minutes=2))
    with app.app_context():
        user_id = db.session.scalar(sa.select(User.id).where(User.mobile == OWNER_MOBILE))
        assert orders.order_of(user_id, made.number).status == OrderStatus.EXPIRED


@pytest.mark.parametrize("hhmm", HOURS)
def test_a_checkout_expires_overdue_orders_anywhere_before_reserving_a_bounded_batch_oldest_first(
        app, seeded_at, make_user, make_pending_order, clock, hhmm):
    seeded_at(hhmm)
    overdue = services.LAZY_EXPIRY_BATCH + 3
    made = [make_pending_order(expires_in=TIMEOUT + timedelta(seconds=n)) for n in range(overdue)]
    shop = make_shop(app, make_user)  # someone else
    cart = {shop.product_id: 1}
    with app.app_context():
        offered = [w.code for w in checkout.quote(shop.user_id, shop.address_id, cart).windows if w.feasible]
    clock.shift(TIMEOUT + timedelta(minutes=1) + timedelta(seconds=overdue))
    with app.app_context():
        order = checkout.place_order(shop.user_id, shop.address_id, offered[-1], "cod", uuid.uuid4().hex,
                                     cart_items=cart)
        assert order.status == OrderStatus.CONFIRMED
        statuses = [db.session.get(Order, m.order_id).status for m in made]
        freed = db.session.scalar(sa.select(-sa.func.sum(StockMovement.delta_reserved)).where(
            StockMovement.reason == "expired"))
    assert statuses == [OrderStatus.EXPIRED] * services.LAZY_EXPIRY_BATCH + [OrderStatus.PENDING_PAYMENT] * 3
    assert freed == services.LAZY_EXPIRY_BATCH * QUANTITY
    with app.app_context():  # the next checkout (or the quote before it) takes the rest
        checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})
        assert {db.session.get(Order, m.order_id).status for m in made} == {OrderStatus.EXPIRED}


@pytest.mark.parametrize("hhmm", HOURS)
def test_a_consumers_overdue_orders_leave_the_cap_and_give_their_stock_back(
        app, seeded_at, make_user, clock, hhmm):
    seeded_at(hhmm)
    shop = make_shop(app, make_user, on_hand=30)
    with app.app_context():
        placed = [place_offered(shop, method="online", cart={shop.product_id: 6}).id for _ in range(3)]
        with pytest.raises(checkout.TooManyUnpaidOrders):
            place_offered(shop, method="online", cart={shop.product_id: 1})
        db.session.rollback()
    clock.shift(TIMEOUT + timedelta(seconds=5))  # nothing expired them: no scheduler
    with app.app_context():
        order = place_offered(shop, method="online", cart={shop.product_id: 20})
        assert order.status == OrderStatus.PENDING_PAYMENT
        assert [db.session.get(Order, i).status for i in placed] == [OrderStatus.EXPIRED] * 3
        assert db.session.get(Stock, shop.stock_id).reserved == 20


def test_nothing_overdue_costs_one_query_per_lookup_and_no_transaction(app, pending_order):
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", record)
        try:
            assert services.expire_due(None) == 0
            assert services.expire_due(1) == 0
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", record)
    assert len(statements) == 3 and all(s.lstrip().upper().startswith("SELECT") for s in statements), statements


def test_the_scheduler_job_is_still_there():
    from marketplace.scheduler import JOBS

    assert ("expire_unpaid", "marketplace.payments.services:expire_unpaid", {"minutes": 1}) in JOBS
