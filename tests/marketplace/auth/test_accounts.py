"""Register, sign in, sign out, change password — and every kind of bad input."""

from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Role, SmsMessage, User
from tests.conftest import PASSWORD, csrf_token, login, register, texted_code


def _count_users(app, mobile: str) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(User).where(User.mobile == mobile))


def _register(client, mobile="13812345678", password="Shan2026huo", confirm=None, name="王晓丽", lang=None):
    if lang:
        client.get(f"/lang/{lang}")
    return register(client.application, client, mobile, password, name, confirm)


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


def _ask_code(client, mobile: str):
    return client.post("/register/code", data={"send-mobile": mobile, "send-csrf_token": csrf_token(client)},
                       follow_redirects=True)


def test_registration_reveals_no_account_the_owner_gets_a_reminder(app, client, make_user):
    """Defect 8: asking to register a number answers the same whether it has an account or not;
    only the phone learns which (a reminder to sign in instead of a code)."""
    make_user(mobile="13812345678")
    taken = _ask_code(client, "13812345678")
    fresh = _ask_code(app.test_client(), "13812345679")
    assert taken.status_code == fresh.status_code == 200
    flash = re.compile(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', re.S)
    assert [m.replace("5678", "").replace("5679", "") for m in flash.findall(taken.get_data(as_text=True))] == \
        [m.replace("5678", "").replace("5679", "") for m in flash.findall(fresh.get_data(as_text=True))]
    assert texted_code(app, "13812345678") is None  # a reminder, not a code
    assert texted_code(app, "13812345679") is not None
    response = client.post("/register", data={"mobile": "13812345678", "code": "123456", "password": "Shan2026huo",
                                              "confirm": "Shan2026huo", "csrf_token": csrf_token(client)})
    assert response.status_code == 422
    assert "验证码错误或已过期" in response.get_data(as_text=True)
    assert _count_users(app, "13812345678") == 1


def test_a_code_is_tried_a_few_times_used_once_and_expires(app, client, clock):
    _ask_code(client, "13812345678")
    good = texted_code(app, "13812345678")

    def attempt(code: str) -> int:
        return client.post("/register", data={"mobile": "13812345678", "code": code, "password": "Shan2026huo",
                                              "confirm": "Shan2026huo", "csrf_token": csrf_token(client)}
                           ).status_code

    for _ in range(5):
        assert attempt(f"{(int(good) + 1) % 10**6:06d}") == 422
    assert attempt(good) == 422  # five wrong guesses spend the code
    clock.shift(61)
    _ask_code(client, "13812345678")
    good = texted_code(app, "13812345678")
    clock.shift(11 * 60)
    assert attempt(good) == 422  # expired after 10 minutes
    clock.shift(61)
    _ask_code(client, "13812345678")
    assert attempt(texted_code(app, "13812345678")) == 302
    assert _count_users(app, "13812345678") == 1


def test_codes_are_not_sent_more_than_once_a_minute(app, client):
    _ask_code(client, "13812345678")
    again = _ask_code(client, "13812345678").get_data(as_text=True)
    assert "请稍等一分钟" in again
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(SmsMessage)) == 1


def test_password_reset_reveals_no_account_and_ends_every_sign_in(app, client, make_user):
    make_user(mobile="13812345678")
    phone = app.test_client()
    login(phone, "13812345678")
    for mobile in ("13812345678", "13812345679"):
        answer = client.post("/password/code", data={"send-mobile": mobile,
                                                     "send-csrf_token": csrf_token(client)})
        assert answer.status_code == 302
    assert texted_code(app, "13812345679") is None  # no account: nothing is sent, the answer is the same
    code = texted_code(app, "13812345678")
    response = client.post("/password/reset", data={"mobile": "13812345678", "code": code, "password": "Fresh2027pw",
                                                    "confirm": "Fresh2027pw",
                                                    "csrf_token": csrf_token(client)})
    assert response.status_code == 302 and response.headers["Location"].endswith("/login")
    assert phone.get("/account").status_code == 302  # the other sign-in ended
    assert login(client, "13812345678", "Fresh2027pw").status_code == 302
    wrong = app.test_client()
    response = wrong.post("/password/reset", data={"mobile": "13812345679", "code": "000000", "password": "Fresh2027pw",
                                                   "confirm": "Fresh2027pw",
                                                   "csrf_token": csrf_token(wrong)})
    assert response.status_code == 422


def test_registration_is_rate_limited(app, client):
    statuses = [client.post("/register/code", data={"send-mobile": f"138{n:08d}",
                                                    "send-csrf_token": csrf_token(client)}).status_code
                for n in range(12)]
    assert statuses[:10] == [302] * 10 and statuses[-1] == 429


def test_password_changes_are_rate_limited_per_account(app, client, make_user):
    make_user(mobile="13811112222")
    login(client, "13811112222")
    statuses = [client.post("/account/password", data={
        "current": "wrong-one1", "password": "NewPass2027", "confirm": "NewPass2027",
        "csrf_token": csrf_token(client, "/account/password")}).status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429


def test_the_sandbox_inbox_is_off_unless_configured(app, client):
    assert client.get("/sandbox/sms").status_code == 404
    app.config["SMS_SANDBOX_INBOX"] = True
    try:
        _ask_code(client, "13812345678")
        page = client.get("/sandbox/sms").get_data(as_text=True)
        assert texted_code(app, "13812345678") in page
        app.config["HTTPS"] = True  # never on a real deployment, whatever the setting says
        assert client.get("/sandbox/sms").status_code == 404
    finally:
        app.config["HTTPS"] = False
        app.config["SMS_SANDBOX_INBOX"] = False


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
