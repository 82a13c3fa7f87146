"""API authentication: bearer tokens only — issued, used, revoked, expired — and never cookies."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.auth import services as auth_services
from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.models import ApiToken, Role, User
from tests.conftest import PASSWORD, csrf_token, login, texted_code

from .conftest import PREFIX, openapi_path

PUBLIC_ENDPOINTS = {"api.index", "api.openapi", "api.docs", "api.static", "api.register", "api.issue_token",
                    "api.request_code", "api.reset_password",
                    "api.categories", "api.products", "api.product", "api.towns", "api.villages"}


def _token_row(app, raw: str) -> ApiToken:
    with app.app_context():
        row = db.session.scalar(sa.select(ApiToken).where(
            ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest()))
        db.session.expunge(row)
        return row


def test_register_gives_a_consumer_a_working_token_and_no_cookie(api):
    code = api.code_for("139 1234 5678")
    response = api.post("/auth/register", {"mobile": "139 1234 5678", "password": "Shanhuo2026", "name": "小李",
                                           "code": code})
    assert response.status_code == 201
    body = response.get_json()
    assert body["token_type"] == "Bearer"
    assert body["user"] == {"id": body["user"]["id"], "mobile": "13912345678", "name": "小李", "role": "consumer",
                            "locale": None}
    assert "Set-Cookie" not in response.headers
    assert api.get("/addresses", token=body["token"]).status_code == 200


@pytest.mark.parametrize(("body", "field"), [
    ({"mobile": "12345", "password": "Shanhuo2026", "code": "123456"}, "mobile"),
    ({"mobile": "13912345678", "password": "short1", "code": "123456"}, "password"),
    ({"mobile": "13912345678", "password": "12345678", "code": "123456"}, "password"),
    ({"mobile": "13912345678", "code": "123456"}, "password"),
    ({"mobile": "13912345678", "password": "Shanhuo2026"}, "code"),
    ({"mobile": "13912345678", "password": "Shanhuo2026", "code": "12345a"}, "code"),
    ({"mobile": "13912345678", "password": "Shanhuo2026", "name": 7, "code": "123456"}, "name"),
])
def test_register_refuses_bad_input_naming_the_field(api, body, field):
    response = api.post("/auth/register", body)
    assert response.status_code == 422
    assert response.get_json()["field"] == field


def test_register_reveals_no_account_a_taken_number_gets_no_code(api, app, make_user):
    make_user(mobile="13912345678")
    taken = api.post("/auth/code", {"mobile": "13912345678", "purpose": "register"})
    fresh = api.post("/auth/code", {"mobile": "13912345679", "purpose": "register"})
    assert taken.status_code == fresh.status_code == 202
    assert taken.get_json()["sent_to"].replace("5678", "") == fresh.get_json()["sent_to"].replace("5679", "")
    assert texted_code(app, "13912345678") is None  # its owner was reminded to sign in instead
    response = api.post("/auth/register", {"mobile": "13912345678", "password": "Shanhuo2026", "code": "123456"})
    assert response.status_code == 422 and response.get_json()["error"] == "invalid_code"


def test_a_code_resets_the_password_and_ends_every_token(api, app, make_user):
    user = make_user(mobile="13912345678")
    old_token = api.token_for(user.mobile)
    nobody = api.post("/auth/code", {"mobile": "13912345670", "purpose": "reset"})
    assert nobody.status_code == 202 and texted_code(app, "13912345670") is None
    code = api.code_for(user.mobile, "reset")
    response = api.post("/auth/password/reset", {"mobile": user.mobile, "code": code, "password": "Fresh2027pw"})
    assert response.status_code == 204
    assert api.get("/addresses", token=old_token).status_code == 401
    assert api.token_for(user.mobile, "Fresh2027pw")
    again = api.post("/auth/password/reset", {"mobile": user.mobile, "code": code, "password": "Other2027pw"})
    assert again.status_code == 422  # used once


def test_codes_are_not_sent_twice_a_minute(api):
    assert api.post("/auth/code", {"mobile": "13912345678", "purpose": "register"}).status_code == 202
    again = api.post("/auth/code", {"mobile": "13912345678", "purpose": "register"})
    assert again.status_code == 429 and again.get_json()["error"] == "too_many_codes"


def test_token_is_issued_for_the_right_password_only(api, make_user):
    user = make_user(mobile="13900001234")
    ok = api.post("/auth/token", {"mobile": user.mobile, "password": PASSWORD})
    assert ok.status_code == 200
    assert ok.get_json()["user"]["id"] == user.id
    assert ok.get_json()["token"].startswith("shk_")
    wrong = api.post("/auth/token", {"mobile": user.mobile, "password": "Wrong2026x"})
    assert wrong.status_code == 401
    assert wrong.get_json()["error"] == "invalid_credentials"
    assert wrong.headers["WWW-Authenticate"].startswith("Bearer")
    nobody = api.post("/auth/token", {"mobile": "13999999999", "password": PASSWORD})
    assert nobody.status_code == 401


def test_only_the_sha256_of_a_token_is_stored(app, api, make_user):
    user = make_user(mobile="13900001234")
    raw = api.token_for(user.mobile)
    with app.app_context():
        hashes = db.session.scalars(sa.select(ApiToken.token_hash)).all()
    assert hashes == [hashlib.sha256(raw.encode()).hexdigest()]
    row = _token_row(app, raw)
    assert row.user_id == user.id
    assert row.expires_at > utcnow() + timedelta(days=29)


def test_a_revoked_token_stops_working_at_once(app, api, consumer):
    assert api.get("/cart", token=consumer).status_code == 200
    assert api.delete("/auth/token", token=consumer).status_code == 204
    assert _token_row(app, consumer).revoked_at is not None
    response = api.get("/cart", token=consumer)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="shanhuo", error="invalid_token"'
    assert api.delete("/auth/token", token=consumer).status_code == 401


def test_revoking_one_token_leaves_the_others(api, make_user):
    user = make_user(mobile="13900001234")
    phone, tablet = api.token_for(user.mobile), api.token_for(user.mobile)
    api.delete("/auth/token", token=phone)
    assert api.get("/cart", token=phone).status_code == 401
    assert api.get("/cart", token=tablet).status_code == 200


def test_an_expired_token_is_refused(app, api, consumer):
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    response = api.get("/cart", token=consumer)
    assert response.status_code == 401
    assert response.get_json()["error"] == "invalid_token"


def test_a_deactivated_users_token_is_refused(app, api, make_user):
    user = make_user(mobile="13900001234")
    token = api.token_for(user.mobile)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == user.id).values(active=False))
        db.session.commit()
    assert api.get("/cart", token=token).status_code == 401


def test_last_use_is_noted_at_most_once_a_minute(app, api, consumer):
    api.get("/cart", token=consumer)
    first = _token_row(app, consumer).last_used_at
    assert first is not None
    api.get("/cart", token=consumer)
    assert _token_row(app, consumer).last_used_at == first
    with app.app_context():
        db.session.execute(sa.update(ApiToken).values(last_used_at=first - timedelta(minutes=2)))
        db.session.commit()
    api.get("/cart", token=consumer)
    assert _token_row(app, consumer).last_used_at > first - timedelta(minutes=2)


def test_user_for_token_refuses_junk(app):
    with app.app_context():
        for raw in ("", "x" * 500, "shk_\x00", "shk_ü", "shk_unknown"):
            assert auth_services.user_for_token(raw) is None


def _private_calls(app) -> list[tuple[str, str]]:
    calls = []
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith(PREFIX) and rule.endpoint not in PUBLIC_ENDPOINTS:
            path = openapi_path(rule.rule).format(product_id=1, town_id=1, address_id=1, number="SH1",
                                                  complaint_number="CP1", complaint_photo_id="1-" + "0" * 32)
            calls += [(method, path) for method in sorted(rule.methods - {"HEAD", "OPTIONS"})]
    return calls


def test_every_private_endpoint_needs_a_token(app, api):
    calls = _private_calls(app)
    assert len(calls) >= 12
    for method, path in calls:
        response = api.call(method, path)
        assert response.status_code == 401, (method, path)
        assert response.get_json()["error"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="shanhuo"'


def test_a_browser_session_does_not_authorize_the_api(app, api, make_user):
    user = make_user(mobile="13900001234")
    browser = api.client
    assert login(browser, user.mobile).status_code == 302
    assert browser.get("/orders/").status_code == 200  # the session works on pages…
    for method, path in _private_calls(app):  # …but not on the API
        response = api.call(method, path, body={})
        assert response.status_code == 401, (method, path)
        assert response.headers["WWW-Authenticate"] == 'Bearer realm="shanhuo"'


def test_a_remember_me_cookie_does_not_authorize_the_api(app, api, make_user):
    user = make_user(mobile="13900001234")
    browser = api.client
    browser.post("/login", data={"mobile": user.mobile, "password": PASSWORD, "remember": "y",
                                 "csrf_token": csrf_token(browser)})
    assert browser.get_cookie("remember_token") is not None
    browser.delete_cookie("session")  # the browser was closed; only the remember-me cookie is left
    assert browser.get("/orders/").status_code == 200  # it signs the visitor in on pages…
    browser.delete_cookie("session")
    response = api.get("/orders")  # …but not on the API
    assert response.status_code == 401 and response.get_json()["error"] == "unauthorized"


def test_with_a_session_and_a_token_the_token_decides(api, make_user):
    consumer = make_user(mobile="13900001234")
    dispatcher = make_user(role=Role.DISPATCHER, mobile="13900005678")
    consumer_token, dispatcher_token = api.token_for(consumer.mobile), api.token_for(dispatcher.mobile)
    login(api.client, dispatcher.mobile)
    assert api.get("/cart", token=consumer_token).status_code == 200
    api.client = api.app.test_client()  # another browser
    login(api.client, consumer.mobile)
    assert api.get("/cart", token=dispatcher_token).status_code == 403


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc", "bearer nope"])
def test_anything_but_a_valid_bearer_token_is_401(api, header):
    response = api.get("/cart", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="shanhuo"')


@pytest.mark.parametrize("role", [Role.COOP_HEAD, Role.DISPATCHER, Role.COMPLAINT_STAFF, Role.OPERATOR])
def test_staff_accounts_are_refused_on_consumer_endpoints(api, make_user, role):
    staff = make_user(role=role, mobile="13900009999")
    token = api.token_for(staff.mobile)
    for method, path in (("GET", "/cart"), ("GET", "/orders"), ("GET", "/addresses"), ("POST", "/quote")):
        response = api.call(method, path, token=token)
        assert response.status_code == 403, (method, path)
        assert response.get_json()["error"] == "forbidden"
    assert api.get("/categories", token=token).status_code == 200
    assert api.delete("/auth/token", token=token).status_code == 204


def test_public_endpoints_serve_anonymous_callers(api):
    for path in ("/", "/openapi.json", "/docs", "/categories", "/products", "/towns"):
        assert api.get(path).status_code == 200, path
    assert api.get("/products", headers={"Authorization": "Bearer stale"}).status_code == 200


def test_the_token_endpoint_is_rate_limited(app, api):
    limit = int(app.config["LOGIN_RATE_LIMIT"].split()[0])
    statuses = [api.post("/auth/token", {"mobile": "13900001234", "password": "Wrong2026x"}).status_code
                for _ in range(limit + 1)]
    assert statuses[:limit] == [401] * limit
    assert statuses[-1] == 429
