"""One consumer cannot hold a product's stock with unpaid online orders: at most
UNPAID_ORDERS_MAX orders awaiting payment, at most UNPAID_UNITS_MAX units of one product across
them (the order being placed included), counted under a lock (issue 19, item 6)."""

from __future__ import annotations

import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, Payment
from marketplace.orders import services as orders
from marketplace.payments import sandbox
from marketplace.payments import services as payments
from tests.conftest import csrf_token, login

from .conftest import make_shop, place_offered, stock_of


def _unpaid(app, user_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.user_id == user_id, Order.status == OrderStatus.PENDING_PAYMENT))


def _pay(order_id: int) -> None:
    payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
    body = sandbox.notification_body(payment, "succeeded", payment.created_at)
    assert payments.handle_callback(body, sandbox.sign(body)).outcome == "paid"


def test_the_defaults_are_three_orders_and_twenty_units(app):
    assert (app.config["UNPAID_ORDERS_MAX"], app.config["UNPAID_UNITS_MAX"]) == (3, 20)


def test_a_fourth_unpaid_online_order_is_refused_until_one_is_paid_or_cancelled(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=50)
    with app.app_context():
        placed = [place_offered(shop, method="online") for _ in range(3)]
        numbers, ids = [o.number for o in placed], [o.id for o in placed]
        assert [o.status for o in placed] == [OrderStatus.PENDING_PAYMENT] * 3
        with pytest.raises(checkout.TooManyUnpaidOrders) as refused:
            place_offered(shop, method="online")
        assert (refused.value.status, refused.value.code) == (409, "too_many_unpaid_orders")
        assert "3" in refused.value.message
        db.session.rollback()
    assert _unpaid(app, shop.user_id) == 3
    assert stock_of(app, shop.stock_id) == (50, 3)  # the refused order reserved nothing
    with app.app_context():
        # cash on delivery is not capped: it is confirmed at once, nothing waits for a payment
        assert place_offered(shop, method="cod").status == OrderStatus.CONFIRMED
        _pay(ids[0])  # paid: no longer awaiting payment
        assert place_offered(shop, method="online").status == OrderStatus.PENDING_PAYMENT
        with pytest.raises(checkout.TooManyUnpaidOrders):
            place_offered(shop, method="online")
        db.session.rollback()
        orders.cancel(shop.user_id, numbers[1])  # cancelled: no longer awaiting payment either
        assert place_offered(shop, method="online").status == OrderStatus.PENDING_PAYMENT
    assert _unpaid(app, shop.user_id) == 3


def test_units_of_one_product_across_unpaid_orders_are_capped_the_new_order_included(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=100)
    with app.app_context():
        with pytest.raises(checkout.TooManyUnpaidUnits) as refused:  # one order alone over the cap
            place_offered(shop, method="online", cart={shop.product_id: 21})
        db.session.rollback()
        assert (refused.value.status, refused.value.code) == (409, "too_many_unpaid_units")
        assert "20" in refused.value.message and "21" in refused.value.message
        place_offered(shop, method="online", cart={shop.product_id: 15})
        with pytest.raises(checkout.TooManyUnpaidUnits) as refused:
            place_offered(shop, method="online", cart={shop.product_id: 6})
        db.session.rollback()
        assert "21" in refused.value.message
        place_offered(shop, method="online", cart={shop.product_id: 5})  # exactly 20: under the cap
        # cash on delivery is not capped
        assert place_offered(shop, method="cod", cart={shop.product_id: 30}).status == OrderStatus.CONFIRMED
    assert stock_of(app, shop.stock_id) == (100, 50)


def test_another_consumer_is_not_held_by_someone_elses_unpaid_orders(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=100)
    other = make_shop(app, make_user, mobile="13811110001")
    with app.app_context():
        for _ in range(3):
            place_offered(shop, method="online", cart={shop.product_id: 6})
        other_cart = {shop.product_id: 20}
        offered = [w.code for w in checkout.quote(other.user_id, other.address_id, other_cart).windows if w.feasible]
        order = checkout.place_order(other.user_id, other.address_id, offered[-1], "online", uuid.uuid4().hex,
                                     cart_items=other_cart)
        assert order.status == OrderStatus.PENDING_PAYMENT


def test_the_checkout_page_says_what_to_do(app, client, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=50)
    with app.app_context():
        for _ in range(3):
            place_offered(shop, method="online")
    login(client, shop.mobile)
    token = csrf_token(client, f"/p/{shop.product_id}")
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "1", "csrf_token": token})
    page = client.get("/checkout/").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    with app.app_context():
        quote = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})
        window = next(w.code for w in quote.windows if w.feasible)
    response = client.post("/checkout/place", data={
        "csrf_token": token, "address_id": shop.address_id, "window": window, "payment_method": "online",
        "idempotency_key": key})
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    with app.test_request_context():  # the flashed message, as the page's language renders it
        message = checkout.TooManyUnpaidOrders(3).message
    assert message in html
    assert _unpaid(app, shop.user_id) == 3


# --- PostgreSQL: two placements of one consumer at once ---------------------------------------------


def _race(app, shop, carts: list[dict[int, int]]) -> list[str]:
    """Place these carts for the shop's consumer at once (online, one thread each)."""
    with app.app_context():
        offered = [w.code for w in checkout.quote(shop.user_id, shop.address_id, carts[0]).windows if w.feasible]
        window = "18h" if "18h" in offered else offered[-1]
        db.session.remove()
    start = threading.Barrier(len(carts))

    def place(cart: dict[int, int]) -> str:
        with app.app_context():
            start.wait()
            try:
                checkout.place_order(shop.user_id, shop.address_id, window, "online", uuid.uuid4().hex,
                                     cart_items=cart)
                return "ok"
            except DomainError as error:
                return error.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(carts)) as pool:
        return list(pool.map(place, carts))


@pytest.fixture
def _postgres_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serializes writers)")


@pytest.mark.usefixtures("_postgres_only")
def test_concurrent_placements_of_one_consumer_cannot_pass_the_order_cap_together(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=100)
    results = _race(app, shop, [{shop.product_id: 1}] * 6)
    assert sorted(results) == ["ok"] * 3 + ["too_many_unpaid_orders"] * 3, results
    assert _unpaid(app, shop.user_id) == 3
    assert stock_of(app, shop.stock_id) == (100, 3)


@pytest.mark.usefixtures("_postgres_only")
def test_concurrent_placements_of_one_consumer_cannot_pass_the_unit_cap_together(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=100)
    results = _race(app, shop, [{shop.product_id: 8}] * 3)
    assert sorted(results) == ["ok", "ok", "too_many_unpaid_units"], results
    assert stock_of(app, shop.stock_id) == (100, 16)
