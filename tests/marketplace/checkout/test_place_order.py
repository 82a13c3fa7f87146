"""Placing an order: the quote, the promise commit, stock reservation and bad input."""

from __future__ import annotations

import re
import uuid

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.errors import DomainError, NotFound
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, Stop
from tests.conftest import csrf_token, login

from .conftest import stock_of


def _key() -> str:
    return uuid.uuid4().hex


def test_quote_offers_windows_with_deadlines_and_reasons(app, shop):
    with app.app_context():
        quote = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})
        codes = [w.code for w in quote.windows]
        assert codes == ["2h", "6h", "12h", "18h"]
        for w in quote.windows:
            assert w.deadline_at > quote.windows[0].deadline_at or w.code == "2h"
            assert w.feasible or w.reason  # a refused window always says why
        assert any(w.feasible for w in quote.windows)


def test_placing_reserves_stock_records_the_promise_and_puts_the_order_in_the_plan(app, shop):
    before = stock_of(app, shop.stock_id)
    with app.app_context():
        quote = checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 2})
        window = next(w for w in quote.windows if w.feasible)
        order = checkout.place_order(shop.user_id, shop.address_id, window.code, "cod", _key(),
                                     cart_items={shop.product_id: 2})
        assert order.status == OrderStatus.CONFIRMED
        assert order.window_class.code == window.code
        assert order.total_fen == order.subtotal_fen + window.fee_fen
        assert order.promised_eta_at <= order.deadline_at
        stop = db.session.scalar(sa.select(Stop).where(Stop.order_id == order.id, Stop.kind == "delivery"))
        assert stop is not None and stop.planned_arrival_at <= order.deadline_at
        assert [e.kind for e in order.events] == ["placed"]
    assert stock_of(app, shop.stock_id) == (before[0], before[1] + 2)


def test_same_idempotency_key_gives_one_order(app, shop):
    key = _key()
    with app.app_context():
        first = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key, cart_items={shop.product_id: 1})
        second = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key, cart_items={shop.product_id: 1})
        assert first.id == second.id
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.user_id == shop.user_id)) == 1


def test_a_retry_after_the_order_went_through_gets_it_even_when_it_would_now_fail(app, seeded, make_user):
    """The key is looked up only when placing fails: a retry whose cart is gone, or whose
    stock the first submission took, still answers with the first order."""
    from .conftest import make_shop

    shop = make_shop(app, make_user, on_hand=1)
    key = _key()
    with app.app_context():
        first = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key, cart_items={shop.product_id: 1})
        sold_out = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key,
                                        cart_items={shop.product_id: 1})
        cart_gone = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key, cart_items={})
        assert sold_out.id == cart_gone.id == first.id
        with pytest.raises(DomainError) as raised:  # another key: a new order, and the stock is gone
            checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 1})
        assert raised.value.code == "out_of_stock"
    assert stock_of(app, shop.stock_id) == (1, 1)


def test_an_order_number_taken_in_the_same_minute_is_drawn_again(app, shop, monkeypatch):
    before = stock_of(app, shop.stock_id)
    with app.app_context():
        first = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 1})
        drawn = iter([first.number, "SH2611240000123456789012"])
        monkeypatch.setattr(checkout, "_order_number", lambda now: next(drawn))
        second = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(),
                                      cart_items={shop.product_id: 1})
        assert second.number == "SH2611240000123456789012" and second.id != first.id
        assert [e.kind for e in second.events] == ["placed"]
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.user_id == shop.user_id)) == 2
    assert stock_of(app, shop.stock_id) == (before[0], before[1] + 2)  # the failed attempt left no reservation


@pytest.mark.parametrize(("field", "value"), [("window", "3h"), ("window", ""), ("method", "bitcoin"), ("key", "x")])
def test_bad_input_is_refused_and_writes_nothing(app, shop, field, value):
    args = {"window": "18h", "method": "cod", "key": _key()}
    args[field] = value
    before = stock_of(app, shop.stock_id)
    with app.app_context(), pytest.raises(DomainError):
        checkout.place_order(shop.user_id, shop.address_id, args["window"], args["method"], args["key"],
                             cart_items={shop.product_id: 1})
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.user_id == shop.user_id)) == 0
    assert stock_of(app, shop.stock_id) == before


def test_someone_elses_address_is_not_found(app, shop, make_user):
    other = make_user(mobile="13822223333")
    with app.app_context(), pytest.raises(NotFound):
        checkout.place_order(other.id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 1})


def test_more_than_in_stock_is_refused(app, seeded, make_user):
    from .conftest import make_shop

    shop = make_shop(app, make_user, on_hand=3)
    with app.app_context(), pytest.raises(DomainError) as raised:
        checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 5})
    assert raised.value.code == "out_of_stock"
    assert stock_of(app, shop.stock_id) == (3, 0)


def test_checkout_page_shows_clock_time_deadlines_and_ignores_client_prices(app, client, shop):
    login(client, shop.mobile)
    token = csrf_token(client, f"/p/{shop.product_id}")
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "2", "csrf_token": token})
    page = client.get("/checkout/").get_data(as_text=True)
    assert re.search(r"\d{2}:\d{2} 前送达", page), "deadlines shown as clock times"
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    response = client.post("/checkout/place", data={
        "csrf_token": token, "address_id": shop.address_id, "window": "18h", "payment_method": "cod",
        "idempotency_key": key, "total_fen": "1", "price_fen": "1", "subtotal_fen": "1"})
    assert response.status_code == 302
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.user_id == shop.user_id))
        assert order.subtotal_fen == sum(line.unit_price_fen * line.quantity for line in order.lines) > 2
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert order.number in detail and "最晚送达" in detail


def test_cancel_before_dispatch_releases_stock_and_leaves_the_plan(app, client, shop):
    before = stock_of(app, shop.stock_id)
    with app.app_context():
        order = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 2})
        number, order_id = order.number, order.id
    assert stock_of(app, shop.stock_id) == (before[0], before[1] + 2)
    login(client, shop.mobile)
    token = csrf_token(client, f"/orders/{number}")
    assert client.post(f"/orders/{number}/cancel", data={"csrf_token": token}).status_code == 302
    assert stock_of(app, shop.stock_id) == before
    with app.app_context():
        assert db.session.get(Order, order_id).status == OrderStatus.CANCELLED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(Stop.order_id == order_id)) == 0
    # A second cancel changes nothing.
    client.post(f"/orders/{number}/cancel", data={"csrf_token": token})
    assert stock_of(app, shop.stock_id) == before


def test_another_consumers_order_is_404(app, client, shop, make_user):
    with app.app_context():
        order = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", _key(), cart_items={shop.product_id: 1})
        number = order.number
    other = make_user(mobile="13822223333")
    login(client, other.mobile)
    assert client.get(f"/orders/{number}").status_code == 404
    token = csrf_token(client, "/account")
    assert client.post(f"/orders/{number}/cancel", data={"csrf_token": token}).status_code == 404
