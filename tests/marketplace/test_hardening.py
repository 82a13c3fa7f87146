"""Regression tests of what an outside attack found (issue #19): open redirects, ids that overflow,
look-alike mobile numbers, control characters in forms, and a GET that changed stored data."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.inputs import safe_next
from marketplace.models import Address, Product, ProductStatus, User, Village
from tests.conftest import PASSWORD, csrf_token, login

HUGE = "9" * 20
OFF_SITE = ["//evil.example/x", "/\t/evil.example/x", "/\n/evil.example/x", "/\\evil.example/x",
            "\\\\evil.example/x", " //evil.example/x", "https://evil.example/x", "/\x00/evil.example"]


@pytest.mark.parametrize("target", OFF_SITE)
def test_safe_next_refuses_every_way_off_the_site(target):
    assert safe_next(target, "/home") == "/home"


def test_safe_next_keeps_same_site_paths():
    assert safe_next("/search?q=tea&page=2", "/home") == "/search?q=tea&page=2"


def _product_id(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(Product.id).where(Product.status == ProductStatus.ACTIVE)
                                 .order_by(Product.id).limit(1))


def _village_id(app) -> tuple[int, int]:
    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V001"))
        return village.town_id, village.id


@pytest.mark.parametrize("target", ["/\t/evil.example/x", "//evil.example/x", "/\\evil.example/x"])
def test_adding_to_the_cart_never_redirects_off_the_site(app, client, seeded, target):
    response = client.post("/cart/add", data={"product_id": _product_id(app), "quantity": "1",
                                               "next": target, "csrf_token": csrf_token(client)})
    assert response.status_code == 302
    assert response.headers["Location"] == "/cart/"


def test_saving_an_address_never_redirects_off_the_site(app, client, seeded, make_user):
    make_user(mobile="13811115555")
    login(client, "13811115555")
    town_id, village_id = _village_id(app)
    response = client.post("/addresses/new?next=/%09/evil.example/x", data={
        "town_id": town_id, "village_id": village_id, "detail": "园区路 18 号", "recipient_name": "测试",
        "recipient_mobile": "13811115555", "csrf_token": csrf_token(client, "/addresses/new")})
    assert response.status_code == 302
    assert response.headers["Location"] == "/addresses/"


def test_signing_in_never_redirects_off_the_site(client, make_user):
    make_user(mobile="13811116666")
    token = csrf_token(client)
    response = client.post("/login?next=/%09/evil.example/x", data={
        "mobile": "13811116666", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_huge_product_id_in_the_cart_form_is_not_a_500(client, seeded):
    response = client.post("/cart/add", data={"product_id": HUGE, "quantity": "1",
                                               "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"] == "/cart/"


def test_huge_village_ids_in_the_address_form_are_a_422(app, client, seeded, make_user):
    make_user(mobile="13811117777")
    login(client, "13811117777")
    for town_id, village_id in [(HUGE, HUGE), (_village_id(app)[0], HUGE)]:
        response = client.post("/addresses/new", data={
            "town_id": town_id, "village_id": village_id, "detail": "园区路 18 号", "recipient_name": "测试",
            "recipient_mobile": "13811117777", "csrf_token": csrf_token(client, "/addresses/new")})
        assert response.status_code == 422
    assert client.get(f"/addresses/new?town={HUGE}").status_code == 200
    assert client.get(f"/addresses/villages?town={HUGE}").get_json() == []


def test_huge_address_ids_at_checkout_are_not_a_500(app, client, seeded, make_user):
    make_user(mobile="13811118888")
    login(client, "13811118888")
    client.post("/cart/add", data={"product_id": _product_id(app), "quantity": "1",
                                   "csrf_token": csrf_token(client, "/cart/")})
    town_id, village_id = _village_id(app)
    client.post("/addresses/new", data={
        "town_id": town_id, "village_id": village_id, "detail": "园区路 18 号", "recipient_name": "测试",
        "recipient_mobile": "13811118888", "csrf_token": csrf_token(client, "/addresses/new")})
    assert client.get(f"/checkout/?address={HUGE}").status_code == 404
    assert client.get("/checkout/?address=-1").status_code == 404
    placed = client.post("/checkout/place", data={
        "address_id": HUGE, "window": "18h", "payment_method": "cod",
        "idempotency_key": "k" * 16, "csrf_token": csrf_token(client, "/cart/")})
    assert 400 <= placed.status_code < 500


@pytest.mark.parametrize("mobile", ["13９５７８００００１", "１３957800001", "1395780000\u0661"])
def test_mobile_numbers_with_non_ascii_digits_are_refused(client, mobile):
    response = client.post("/register", data={"mobile": mobile, "password": PASSWORD,
                                              "confirm": PASSWORD, "csrf_token": csrf_token(client)})
    assert response.status_code == 422


def test_api_refuses_full_width_mobile_numbers(app):
    client = app.test_client()
    response = client.post("/api/v1/auth/register", json={"mobile": "13９５７８００００１", "password": PASSWORD})
    assert response.status_code == 422 and response.get_json()["field"] == "mobile"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_address_recipient_mobile_must_be_ascii(app, seeded, make_user):
    from marketplace.errors import ValidationFailed
    from marketplace.geo import services as geo

    user = make_user(mobile="13811119999")
    with app.app_context(), pytest.raises(ValidationFailed):
        geo.add_address(user.id, village_id=_village_id(app)[1], detail="园区路 18 号", recipient_name="测试",
                        recipient_mobile="13９１１１１９９９９")


@pytest.mark.parametrize("bad", ["园区路\x00 18 号", "园区路\x1b 18 号", "园区路\x7f18号"])
def test_forms_refuse_control_characters(app, client, seeded, make_user, bad):
    user = make_user(mobile="13811110001")
    login(client, "13811110001")
    town_id, village_id = _village_id(app)
    response = client.post("/addresses/new", data={
        "town_id": town_id, "village_id": village_id, "detail": bad, "recipient_name": "测试",
        "recipient_mobile": "13811110001", "csrf_token": csrf_token(client, "/addresses/new")})
    assert response.status_code == 400
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Address)
                                 .where(Address.user_id == user.id)) == 0


def test_an_idempotency_key_with_a_trailing_newline_is_refused(app, make_user):
    from marketplace.errors import ValidationFailed

    user = make_user(mobile="13811110002")
    with app.app_context(), pytest.raises(ValidationFailed) as refused:
        checkout.place_order(user.id, 1, "18h", "cod", "k" * 64 + "\n")  # 65 characters for a 64 column
    assert refused.value.field == "idempotency_key"


def test_a_get_of_the_language_switch_changes_no_stored_data(app, client, make_user):
    user = make_user(mobile="13811110003")
    login(client, "13811110003")
    response = client.get("/lang/en")
    assert response.status_code == 302
    assert '<html lang="en">' in client.get("/account").get_data(as_text=True)  # this session: English
    with app.app_context():
        assert db.session.get(User, user.id).locale is None


def test_the_language_post_needs_the_csrf_token(app, client, make_user):
    user = make_user(mobile="13811110004")
    login(client, "13811110004")
    assert client.post("/lang/en").status_code == 400
    with app.app_context():
        assert db.session.get(User, user.id).locale is None


@pytest.mark.parametrize("path", ["/", "/login", "/no-such-page", "/api/v1/no-such-thing"])
def test_every_response_carries_the_security_headers(client, path):
    headers = client.get(path).headers
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]


@pytest.mark.parametrize("origin", [None, "https://evil.example", "null", "http://localhost.evil.example"])
def test_a_cross_site_cart_post_neither_adds_nor_signs_the_user_out(app, seeded, make_user, origin):
    """Defect 3: a signed-in browser sends no (SameSite=Lax) cookie with another site's post; the
    cookie-less post used to be answered with a new guest session, which replaced the sign-in."""
    anon = app.test_client(use_cookies=False)
    headers = {"Origin": origin} if origin else {}
    response = anon.post("/cart/add", data={"product_id": _product_id(app), "quantity": "5"}, headers=headers)
    assert response.status_code == 403
    assert "Set-Cookie" not in response.headers  # the browser's sign-in cookie stays
    assert "另一个网站" in response.get_data(as_text=True)
