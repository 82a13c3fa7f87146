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


def test_without_script_the_address_button_requotes_for_the_chosen_address(app, client, shop):
    """The checkout's <noscript> button sends the radio's own name, address_id."""
    import sqlalchemy as sa

    from marketplace.extensions import db
    from marketplace.geo import services as geo
    from marketplace.models import Village

    login(client, shop.mobile)
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "1",
                                   "csrf_token": csrf_token(client, f"/p/{shop.product_id}")})
    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V002"))
        second = geo.add_address(shop.user_id, village_id=village.id, detail="山脚 2 号", recipient_name="第二",
                                 recipient_mobile=shop.mobile).id
    page = client.get(f"/checkout/?address_id={second}").get_data(as_text=True)
    assert f'value="{second}" checked' in page
