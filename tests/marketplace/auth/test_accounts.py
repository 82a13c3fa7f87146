"""Register, sign in, sign out, change password — and every kind of bad input."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Role, User
from tests.conftest import PASSWORD, csrf_token, login


def _count_users(app, mobile: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.mobile == mobile))


def _register(client, mobile="13812345678", password="Shan2026huo", confirm=None, name="王晓丽", lang=None):
    if lang:
        client.get(f"/lang/{lang}")
    token = csrf_token(client, "/register")
    return client.post("/register", data={
        "mobile": mobile, "name": name, "password": password,
        "confirm": password if confirm is None else confirm, "csrf_token": token,
    })


def test_register_creates_a_consumer_and_signs_them_in(app, client):
    response = _register(client)
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.mobile == "13812345678"))
        assert user.role == Role.CONSUMER
        assert user.password_hash != "Shan2026huo" and user.check_password("Shan2026huo")
    account = client.get("/account")
    assert account.status_code == 200
    assert "13812345678" in account.get_data(as_text=True)


def test_duplicate_mobile_is_refused_in_chinese_and_creates_nothing(app, client, make_user):
    make_user(mobile="13812345678")
    response = _register(client)
    assert response.status_code == 409
    assert "该手机号已注册" in response.get_data(as_text=True)
    assert _count_users(app, "13812345678") == 1


def test_duplicate_mobile_message_follows_the_page_language(app, client, make_user):
    make_user(mobile="13812345678")
    response = _register(client, lang="en")
    assert response.status_code == 409
    assert "already registered" in response.get_data(as_text=True)


def test_malformed_mobile_numbers_are_refused(app, client):
    for bad in ("12345", "23812345678", "1381234567a", "138123456789", ""):
        response = _register(client, mobile=bad)
        assert response.status_code == 422, bad
        assert "11 位" in response.get_data(as_text=True) or "请输入手机号" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_weak_passwords_are_refused_with_the_reason(app, client):
    cases = {"short1": "至少 8 位", "abcdefghij": "字母和数字", "12345678": "字母和数字",
             "password1": "过于常见"}
    for password, reason in cases.items():
        response = _register(client, password=password)
        assert response.status_code == 422, password
        assert reason in response.get_data(as_text=True), password
    response = _register(client, confirm="Different123")
    assert response.status_code == 422
    assert "两次输入的密码不一致" in response.get_data(as_text=True)
    assert _count_users(app, "13812345678") == 0


def test_missing_csrf_token_is_a_clear_400(app, client):
    response = client.post("/register", data={"mobile": "13812345678", "password": "Shan2026huo",
                                              "confirm": "Shan2026huo"})
    assert response.status_code == 400
    assert "表单已过期" in response.get_data(as_text=True)
    assert _count_users(app, "13812345678") == 0
    client.get("/lang/en")
    response = client.post("/login", data={"mobile": "13812345678", "password": "x"})
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_sign_in_and_out(app, client, make_user):
    user = make_user(mobile="13811112222")
    response = login(client, "13811112222")
    assert response.status_code == 302
    assert client.get("/orders/").status_code == 200
    token = csrf_token(client, "/account")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/orders/").status_code == 302  # back to the sign-in page
    with app.app_context():
        assert db.session.get(User, user.id).last_login_at is not None


def test_wrong_password_and_unknown_number_get_the_same_answer(client, make_user):
    make_user(mobile="13811112222")
    wrong = login(client, "13811112222", "Wrong12345")
    unknown = login(client, "13899998888", "Wrong12345")
    assert wrong.status_code == unknown.status_code == 401
    for response in (wrong, unknown):
        assert "手机号或密码错误" in response.get_data(as_text=True)


def test_login_attempts_are_rate_limited(client, make_user):
    make_user(mobile="13811112222")
    statuses = [login(client, "13811112222", "Wrong12345").status_code for _ in range(12)]
    assert statuses[:10] == [401] * 10
    assert statuses[-1] == 429
    assert "尝试次数过多" in login(client, "13811112222", PASSWORD).get_data(as_text=True)


def test_change_password(app, client, make_user):
    make_user(mobile="13811112222")
    login(client, "13811112222")
    token = csrf_token(client, "/account/password")
    wrong = client.post("/account/password", data={"current": "nope", "password": "NewPass2026",
                                                   "confirm": "NewPass2026", "csrf_token": token})
    assert wrong.status_code == 401 and "当前密码错误" in wrong.get_data(as_text=True)
    weak = client.post("/account/password", data={"current": PASSWORD, "password": "short",
                                                  "confirm": "short", "csrf_token": token})
    assert weak.status_code == 422
    ok = client.post("/account/password", data={"current": PASSWORD, "password": "NewPass2026",
                                                "confirm": "NewPass2026", "csrf_token": token})
    assert ok.status_code == 302
    with app.app_context():
        user = db.session.scalar(sa.select(User).where(User.mobile == "13811112222"))
        assert user.check_password("NewPass2026") and not user.check_password(PASSWORD)


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    make_user(mobile="13811112222")
    token = csrf_token(client, "/login")
    response = client.post("/login?next=//evil.example/x", data={
        "mobile": "13811112222", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    assert "evil.example" not in response.headers["Location"]


def test_session_cookie_is_httponly_and_samesite(client):
    response = client.get("/login")
    cookie = response.headers.get("Set-Cookie", "")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
