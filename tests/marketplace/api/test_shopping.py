"""Shopping through the API on the demo county: catalog, addresses, cart, quote, orders."""

from __future__ import annotations

import re
import uuid

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import LogisticsParameter, Order, OrderStatus, Stock, Village

from .conftest import new_address

Z_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def _key() -> str:
    return uuid.uuid4().hex


def _feasible(quote: dict) -> str:
    return next(w["window"] for w in quote["windows"] if w["feasible"])


def _reserved(app, product_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.sum(Stock.reserved)).where(Stock.product_id == product_id)) or 0


def test_catalog_and_places_in_both_languages(api, place):
    categories = api.get("/categories").get_json()["items"]
    assert categories and all(c["name_zh"] and c["name_en"] for c in categories)

    page = api.get("/products?sort=price_asc").get_json()
    assert page["total"] > 0 and page["page"] == 1 and page["items"]
    prices = [p["price_fen"] for p in page["items"]]
    assert prices == sorted(prices) and all(isinstance(p, int) for p in prices)
    category = page["items"][0]["category"]["id"]
    narrowed = api.get(f"/products?category={category}&certified=0&min_fen=0&max_fen=100000000").get_json()
    assert narrowed["items"] and {p["category"]["id"] for p in narrowed["items"]} == {category}
    assert api.get("/products?page=999999").get_json()["page"] == page["pages"]  # clamped to the last page
    assert api.get("/products?within=2").status_code == 200

    detail = api.get(f"/products/{place.product_id}").get_json()
    assert detail["id"] == place.product_id and detail["name_zh"] and detail["name_en"]
    assert detail["stock"]["available"] >= 10
    fastest = detail["fastest_delivery"]
    if fastest is not None:
        assert Z_TIME.match(fastest["deadline_at"]) and fastest["window"] in ("2h", "6h", "12h", "18h")

    towns = api.get("/towns").get_json()["items"]
    assert place.town_id in {t["id"] for t in towns}
    villages = api.get(f"/towns/{place.town_id}/villages").get_json()["items"]
    assert place.village_id in {v["id"] for v in villages}
    assert all(v["town_id"] == place.town_id for v in villages)


def test_register_cart_quote_order_cash_on_delivery_list_detail_cancel(app, api, place):
    token = api.register("13911112222", name="小王")

    address_id = new_address(api, token, place)
    addresses = api.get("/addresses", token=token).get_json()["items"]
    assert [a["id"] for a in addresses] == [address_id] and addresses[0]["is_default"]

    cart = api.put(f"/cart/items/{place.product_id}", {"quantity": 2}, token=token).get_json()
    cart = api.put(f"/cart/items/{place.product_id}", {"quantity": 3}, token=token).get_json()  # sets, not adds
    assert [(i["product"]["id"], i["quantity"]) for i in cart["items"]] == [(place.product_id, 3)]
    price = cart["items"][0]["product"]["price_fen"]
    assert cart["subtotal_fen"] == 3 * price == cart["items"][0]["line_total_fen"]
    assert api.get("/cart", token=token).get_json() == cart

    quote = api.post("/quote", {"address_id": address_id}, token=token).get_json()
    assert [w["window"] for w in quote["windows"]] == ["2h", "6h", "12h", "18h"]
    assert quote["subtotal_fen"] == 3 * price
    for window in quote["windows"]:
        assert Z_TIME.match(window["deadline_at"])
        assert window["feasible"] or (window["reason_code"] and window["reason"])
    window = _feasible(quote)
    fee = next(w["fee_fen"] for w in quote["windows"] if w["window"] == window)

    reserved = _reserved(app, place.product_id)
    response = api.post("/orders", {"address_id": address_id, "window": window, "payment_method": "cod",
                                    "idempotency_key": _key(), "total_fen": 1, "price": 0, "delivery_fee_fen": 0},
                        token=token)
    assert response.status_code == 201, response.get_json()
    order = response.get_json()
    assert order["status"] == "confirmed" and order["payment_method"] == "cod" and order["payment_url"] is None
    assert order["window"] == window and order["window_name_zh"] and order["window_name_en"]
    assert (order["subtotal_fen"], order["delivery_fee_fen"], order["total_fen"]) == (3 * price, fee, 3 * price + fee)
    assert Z_TIME.match(order["placed_at"]) and Z_TIME.match(order["deadline_at"])
    assert order["promised_eta_at"] <= order["deadline_at"]
    assert [e["kind"] for e in order["events"]] == ["placed"]
    assert order["cancellable"] is True
    assert _reserved(app, place.product_id) == reserved + 3
    assert api.get("/cart", token=token).get_json()["items"] == []  # ordered goods leave the cart

    listed = api.get("/orders", token=token).get_json()["items"]
    assert [o["number"] for o in listed] == [order["number"]]

    detail = api.get(f"/orders/{order['number']}", token=token).get_json()
    assert detail["deadline_at"] == order["deadline_at"] and detail["address_text"]
    if detail["tracking"] is not None:
        assert detail["tracking"]["eta_at"] is None or Z_TIME.match(detail["tracking"]["eta_at"])

    cancelled = api.post(f"/orders/{order['number']}/cancel", {"reason": "买错了"}, token=token)
    assert cancelled.status_code == 200
    body = cancelled.get_json()
    assert body["status"] == "cancelled" and body["cancellable"] is False and body["cancel_reason"] == "买错了"
    assert [e["kind"] for e in body["events"]][:1] == ["placed"] and "cancelled" in [e["kind"] for e in body["events"]]
    assert _reserved(app, place.product_id) == reserved
    again = api.post(f"/orders/{order['number']}/cancel", token=token)
    assert again.status_code == 409 and again.get_json()["error"] == "cannot_cancel"


def test_a_retried_order_returns_the_first_one(app, api, place):
    token = api.register("13911112222")
    address_id = new_address(api, token, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    window = _feasible(api.post("/quote", {"address_id": address_id}, token=token).get_json())
    body = {"address_id": address_id, "window": window, "payment_method": "cod"}
    key = {"Idempotency-Key": _key()}

    first = api.post("/orders", body, token=token, headers=key)
    assert first.status_code == 201
    replay = api.post("/orders", body, token=token, headers=key)
    assert replay.status_code == 200
    assert replay.get_json()["number"] == first.get_json()["number"]
    same_key_in_body = api.post("/orders", {**body, "idempotency_key": key["Idempotency-Key"]}, token=token)
    assert same_key_in_body.status_code == 200
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order)
                                 .where(Order.number == first.get_json()["number"])) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.idempotency_key == key["Idempotency-Key"])) == 1

    # A new key with the cart now empty is a new attempt: refused, nothing placed.
    empty = api.post("/orders", {**body, "idempotency_key": _key()}, token=token)
    assert empty.status_code == 422 and empty.get_json()["error"] == "empty_cart"
    unknown_window = api.post("/orders", {**body, "window": "3h", "idempotency_key": _key()}, token=token)
    assert unknown_window.status_code == 422 and unknown_window.get_json()["field"] == "window"


def test_an_online_order_comes_with_where_to_pay(api, place):
    token = api.register("13911112222")
    address_id = new_address(api, token, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    window = _feasible(api.post("/quote", {"address_id": address_id}, token=token).get_json())
    key = _key()
    body = {"address_id": address_id, "window": window, "payment_method": "online", "idempotency_key": key}
    placed = api.post("/orders", body, token=token)
    assert placed.status_code == 201
    order = placed.get_json()
    assert order["status"] == "pending_payment"
    assert order["payment_url"].startswith("http://localhost/pay/")
    assert Z_TIME.match(order["payment_expires_at"])
    replay = api.post("/orders", body, token=token).get_json()
    assert replay["payment_url"] == order["payment_url"]  # the same open payment
    assert api.get(f"/orders/{order['number']}", token=token).get_json()["payment_url"] is None


def test_a_window_that_cannot_be_kept_is_409_with_fresh_windows(app, api, place):
    token = api.register("13911112222")
    address_id = new_address(api, token, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    window = _feasible(api.post("/quote", {"address_id": address_id}, token=token).get_json())
    with app.app_context():  # the window is suspended for the zone after the consumer saw the quote
        zone_id = db.session.get(Village, place.village_id).zone_id
        db.session.add(LogisticsParameter(scope="zone", scope_id=zone_id, key="suspended_windows", value=[window]))
        db.session.commit()  # (no invalidation needed: a parameter is an input of every quote)
    reserved = _reserved(app, place.product_id)
    response = api.post("/orders", {"address_id": address_id, "window": window, "payment_method": "cod",
                                    "idempotency_key": _key()}, token=token)
    assert response.status_code == 409
    problem = response.get_json()
    assert problem["error"] == "window_unavailable" and problem["message"]
    suspended = next(w for w in problem["windows"] if w["window"] == window)
    assert suspended["feasible"] is False and suspended["reason_code"] == "suspended"
    assert _reserved(app, place.product_id) == reserved
    assert api.get("/orders", token=token).get_json()["items"] == []


def test_cart_rules(app, api, place):
    token = api.register("13911112222")
    assert api.put("/cart/items/2147483647", {"quantity": 1}, token=token).status_code == 404
    assert api.delete(f"/cart/items/{place.product_id}", token=token).status_code == 404
    with app.app_context():
        available = db.session.scalar(sa.select(sa.func.sum(Stock.on_hand - Stock.reserved))
                                      .where(Stock.product_id == place.product_id))
    if available < 99:
        too_many = api.put(f"/cart/items/{place.product_id}", {"quantity": available + 1}, token=token)
        assert too_many.status_code == 409 and too_many.get_json()["error"] == "out_of_stock"
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    emptied = api.delete(f"/cart/items/{place.product_id}", token=token)
    assert emptied.status_code == 200 and emptied.get_json()["items"] == []
    address_id = new_address(api, token, place)
    empty = api.post("/quote", {"address_id": address_id}, token=token)
    assert empty.status_code == 422 and empty.get_json()["error"] == "empty_cart"


def test_another_consumers_addresses_and_orders_are_not_found(app, api, place):
    alice = api.register("13911112222")
    bob = api.register("13933334444")
    alices_address = new_address(api, alice, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=alice)
    window = _feasible(api.post("/quote", {"address_id": alices_address}, token=alice).get_json())
    number = api.post("/orders", {"address_id": alices_address, "window": window, "payment_method": "cod",
                                  "idempotency_key": _key()}, token=alice).get_json()["number"]

    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=bob)
    assert api.get("/addresses", token=bob).get_json()["items"] == []
    assert api.post("/quote", {"address_id": alices_address}, token=bob).status_code == 404
    assert api.post("/orders", {"address_id": alices_address, "window": window, "payment_method": "cod",
                                "idempotency_key": _key()}, token=bob).status_code == 404
    assert api.get("/orders", token=bob).get_json()["items"] == []
    assert api.get(f"/orders/{number}", token=bob).status_code == 404
    assert api.post(f"/orders/{number}/cancel", token=bob).status_code == 404
    assert api.delete(f"/addresses/{alices_address}", token=bob).status_code == 404

    with app.app_context():
        assert db.session.scalar(sa.select(Order.status).where(Order.number == number)) == OrderStatus.CONFIRMED
    assert api.delete(f"/addresses/{alices_address}", token=alice).status_code == 204
    assert api.get("/addresses", token=alice).get_json()["items"] == []


def test_payment_url_is_built_on_the_configured_base_not_the_host_header(api, place, app, monkeypatch):
    monkeypatch.setitem(app.config, "EXTERNAL_BASE_URL", "https://shop.example/")
    token = api.register("13911113333")
    address_id = new_address(api, token, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    window = _feasible(api.post("/quote", {"address_id": address_id}, token=token).get_json())
    body = {"address_id": address_id, "window": window, "payment_method": "online", "idempotency_key": _key()}
    placed = api.post("/orders", body, token=token, headers={"Host": "evil.example"})
    assert placed.status_code == 201
    assert placed.get_json()["payment_url"].startswith("https://shop.example/pay/sandbox/")


def test_quotes_are_rate_limited_per_account(app, api, place):
    token = api.register("13911113333")
    address_id = new_address(api, token, place)
    api.put(f"/cart/items/{place.product_id}", {"quantity": 1}, token=token)
    default = app.config["QUOTE_RATE_LIMIT"]
    app.config["QUOTE_RATE_LIMIT"] = "2 per minute"
    try:
        statuses = [api.post("/quote", {"address_id": address_id}, token=token).status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
    finally:
        app.config["QUOTE_RATE_LIMIT"] = default
