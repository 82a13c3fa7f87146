"""The cart: quantities checked, signed-out cart merges at sign-in, staff cannot shop."""

from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import CartItem, Product, ProductStatus, Role, Stock
from tests.conftest import csrf_token, login


def _product(app) -> tuple[int, int]:
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.status == ProductStatus.ACTIVE).order_by(Product.id))
        available = sum(s.on_hand - s.reserved for s in db.session.scalars(sa.select(Stock).where(Stock.product_id == product.id)))
        return product.id, available


def _add(client, product_id, quantity):
    token = csrf_token(client)  # starts a session: from here on the token is required
    return client.post("/cart/add", data={"product_id": product_id, "quantity": quantity, "csrf_token": token},
                       follow_redirects=True)


def test_bad_quantities_are_refused_with_a_message(app, client, seeded):
    product_id, _ = _product(app)
    for bad, message in [("0", "1 到 99"), ("-1", "1 到 99"), ("1000000000", "1 到 99"), ("abc", "整数"),
                         ("2.5", "整数")]:
        page = _add(client, product_id, bad).get_data(as_text=True)
        assert message in page, bad
    assert "购物车是空的" in client.get("/cart/").get_data(as_text=True)


def test_more_than_available_is_refused(app, client, seeded):
    product_id, available = _product(app)
    with app.app_context():
        for stock in db.session.scalars(sa.select(Stock).where(Stock.product_id == product_id)):
            stock.on_hand, stock.reserved = 2, 0
        db.session.commit()
    page = _add(client, product_id, "5").get_data(as_text=True)
    assert "仅剩" in page


def test_guest_cart_merges_into_the_stored_cart_at_sign_in(app, client, seeded, make_user):
    product_id, _ = _product(app)
    _add(client, product_id, "2")
    user = make_user(mobile="13811112222")
    login(client, user.mobile)
    with app.app_context():
        items = db.session.scalars(sa.select(CartItem)).all()
        assert [(i.product_id, i.quantity) for i in items] == [(product_id, 2)]
    assert "购物车" in client.get("/cart/").get_data(as_text=True)


def test_unknown_product_is_404(client, seeded):
    token = csrf_token(client, "/login")
    response = client.post("/cart/add", data={"product_id": "999999", "quantity": "1", "csrf_token": token})
    assert response.status_code == 404


def test_staff_cannot_use_the_cart(client, make_user):
    user = make_user(Role.DISPATCHER)
    login(client, user.mobile)
    assert client.get("/cart/").status_code == 403


def test_the_cart_link_shows_how_many_units_the_cart_holds(app, client, seeded):
    product_id, _ = _product(app)
    page = client.get("/").get_data(as_text=True)
    assert 'class="count"' not in page  # an empty cart shows no badge
    _add(client, product_id, "3")
    page = client.get("/").get_data(as_text=True)
    assert re.findall(r'<span class="count"[^>]*>(\d+)</span>', page) == ["3", "3"]  # nav and tab bar
