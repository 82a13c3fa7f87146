"""Defect 7: sign-ins are recorded per device and revocable. A copy of the cookies taken before
sign-out or a password change no longer signs anybody in, and neither do the API tokens."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from marketplace import create_app
from marketplace.config import TestConfig
from marketplace.extensions import db
from marketplace.models import LoginSession
from tests.conftest import PASSWORD, csrf_token

MOBILE = "13812340001"


def _cookies(client) -> dict[str, str]:
    return {cookie.key: cookie.value for cookie in client._cookies.values()}


def _replay(app, cookies: dict[str, str]):
    """Another browser holding a copy of ``cookies``."""
    other = app.test_client()
    for key, value in cookies.items():
        other.set_cookie(key, value)
    return other


def _sign_in(client, remember: bool = False):
    data = {"mobile": MOBILE, "password": PASSWORD, "csrf_token": csrf_token(client)}
    if remember:
        data["remember"] = "y"
    assert client.post("/login", data=data).status_code == 302


def _token(app) -> str:
    response = app.test_client().post("/api/v1/auth/token", json={"mobile": MOBILE, "password": PASSWORD})
    assert response.status_code == 200
    return response.get_json()["token"]


def test_a_copied_session_cookie_stops_working_at_sign_out(app, client, make_user):
    make_user(mobile=MOBILE)
    _sign_in(client)
    stolen = _cookies(client)
    assert _replay(app, stolen).get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert client.get("/account").status_code == 302
    replayed = _replay(app, stolen).get("/account")
    assert replayed.status_code == 302 and "/login" in replayed.headers["Location"]


def test_a_copied_remember_me_cookie_stops_working_at_sign_out(app, client, make_user):
    make_user(mobile=MOBILE)
    _sign_in(client, remember=True)
    remember = {k: v for k, v in _cookies(client).items() if k == "remember_token"}
    assert remember, "remember-me sets its cookie"
    assert _replay(app, remember).get("/account").status_code == 200  # the remember cookie alone works
    client.post("/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert _replay(app, remember).get("/account").status_code == 302


def test_a_password_change_signs_out_every_other_device_and_token(app, client, make_user):
    make_user(mobile=MOBILE)
    token = _token(app)
    phone = app.test_client()
    _sign_in(phone, remember=True)
    _sign_in(client)
    response = client.post("/account/password", data={
        "current": PASSWORD, "password": "NewPass2027", "confirm": "NewPass2027",
        "csrf_token": csrf_token(client, "/account/password")})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # the device that changed it stays signed in
    assert phone.get("/account").status_code == 302
    assert app.test_client().get("/api/v1/cart", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_signing_out_other_devices_from_the_account_page(app, client, make_user):
    make_user(mobile=MOBILE)
    phone = app.test_client()
    _sign_in(phone)
    _sign_in(client)
    page = client.get("/account").get_data(as_text=True)
    assert page.count("<li>") == 2 and "本设备" in page
    client.post("/account/sessions/sign-out-others", data={"csrf_token": csrf_token(client, "/account")})
    assert phone.get("/account").status_code == 302
    assert client.get("/account").status_code == 200


def test_a_sign_in_expires(app, client, make_user, clock):
    make_user(mobile=MOBILE)
    _sign_in(client, remember=True)
    remember = {k: v for k, v in _cookies(client).items() if k == "remember_token"}
    clock.shift(timedelta(days=29))
    assert _replay(app, remember).get("/account").status_code == 200
    clock.shift(timedelta(days=2))
    assert _replay(app, remember).get("/account").status_code == 302
    with app.app_context():
        row = db.session.scalar(sa.select(LoginSession))
        assert row.remember and abs((row.expires_at - row.created_at) - timedelta(days=30)) < timedelta(seconds=5)


def test_cookies_of_a_plain_user_id_from_before_are_not_a_sign_in(app, make_user):
    user = make_user(mobile=MOBILE)
    other = app.test_client()
    with other.session_transaction() as session:
        session["_user_id"] = str(user.id)
        session["_fresh"] = True
    assert other.get("/account").status_code == 302


def test_remember_me_lasts_30_days_and_is_secure_over_https(database_uri):
    plain = create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri}))
    assert plain.config["REMEMBER_COOKIE_DURATION"] == timedelta(days=30)
    assert not plain.config["SESSION_COOKIE_SECURE"]
    https = create_app(type("C", (TestConfig,), {"SQLALCHEMY_DATABASE_URI": database_uri,
                                                 "EXTERNAL_BASE_URL": "https://shop.example"}))
    assert https.config["SESSION_COOKIE_SECURE"] and https.config["REMEMBER_COOKIE_SECURE"]
    assert https.config["REMEMBER_COOKIE_HTTPONLY"] and https.config["SESSION_COOKIE_HTTPONLY"]
