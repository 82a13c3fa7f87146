"""Quotes run the planner's feasibility check: each account gets QUOTE_RATE_LIMIT of them."""

from __future__ import annotations

from tests.conftest import csrf_token, login


def test_the_checkout_quote_is_rate_limited_per_account(app, client, shop, make_user):
    login(client, shop.mobile)
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "1",
                                   "csrf_token": csrf_token(client, f"/p/{shop.product_id}")})
    default = app.config["QUOTE_RATE_LIMIT"]
    app.config["QUOTE_RATE_LIMIT"] = "3 per minute"
    try:
        statuses = [client.get("/checkout/").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = client.get("/checkout/")
        assert "请求过于频繁" in limited.get_data(as_text=True) or "稍后" in limited.get_data(as_text=True)
        # Another account (from the same address) has its own budget.
        other = app.test_client()
        make_user(mobile="13811110009")
        login(other, "13811110009")
        assert other.get("/checkout/").status_code in (200, 302)
    finally:
        app.config["QUOTE_RATE_LIMIT"] = default
