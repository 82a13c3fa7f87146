"""Language: zh-CN by default, English on request, unknown codes refused."""

from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token, login

PAGES = ["/", "/login", "/register", "/categories", "/cart/", "/search?q=tea", "/nope"]


@pytest.mark.parametrize("path", PAGES)
def test_every_page_honours_the_language_switch(client, path):
    zh = client.get(path).get_data(as_text=True)
    assert '<html lang="zh-CN">' in zh
    assert "登录" in zh or "退出" in zh
    client.get("/lang/en")
    en = client.get(path).get_data(as_text=True)
    assert '<html lang="en">' in en
    assert "Sign in" in en
    assert not re.search(r"登录|购物车|首页", en)


def test_browser_language_is_used_when_no_choice_was_made(client):
    page = client.get("/", headers={"Accept-Language": "en-US,en;q=0.9"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_unknown_language_code_is_a_clear_400_in_the_page_language(client):
    response = client.get("/lang/klingon")
    assert response.status_code == 400
    assert "不支持的语言" in response.get_data(as_text=True)
    client.get("/lang/en")
    response = client.get("/lang/xx")
    assert response.status_code == 400
    assert "Unknown language" in response.get_data(as_text=True)


def test_signed_in_user_keeps_their_language(app, client, make_user):
    make_user(mobile="13811112222")
    login(client, "13811112222")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/account")})
    other = app.test_client()
    login(other, "13811112222")
    assert '<html lang="en">' in other.get("/account").get_data(as_text=True)


def test_error_pages_in_both_languages(client):
    assert "页面不存在" in client.get("/no-such-page").get_data(as_text=True)
    client.get("/lang/en")
    assert "Page not found" in client.get("/no-such-page").get_data(as_text=True)
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api.is_json and api.get_json()["error"] == "not_found"
