"""Security headers on every response (Flask-Talisman): a Content-Security-Policy that allows no
inline script or style, nosniff, Referrer-Policy, X-Frame-Options; HSTS, secure cookies and a
redirect to HTTPS only for a deployment reached over HTTPS (EXTERNAL_BASE_URL https://). Templates
carry no inline script, on…= handler, javascript: URL or style attribute, which the policy would
block."""

from __future__ import annotations

import re
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from marketplace import create_app
from marketplace.config import TestConfig
from marketplace.extensions import db
from marketplace.models import Order, Role
from tests.conftest import PASSWORD, csrf_token, login
from tests.marketplace.checkout.conftest import make_shop, place_offered

MARKETPLACE = Path(__file__).resolve().parents[2] / "marketplace"

POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def directives(header: str) -> dict[str, str]:
    parts = (part.strip().split(None, 1) for part in header.split(";") if part.strip())
    return {part[0]: (part[1] if len(part) > 1 else "") for part in parts}


def assert_secure_headers(response, what: str) -> None:
    headers = response.headers
    csp = headers.get("Content-Security-Policy")
    assert csp, f"{what}: no Content-Security-Policy"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, f"{what}: {csp}"
    assert directives(csp) == POLICY, f"{what}: {csp}"
    assert headers["X-Content-Type-Options"] == "nosniff", what
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", what
    assert headers["X-Frame-Options"] == "DENY", what
    assert "Strict-Transport-Security" not in headers, f"{what}: HSTS on a plain-HTTP deployment"


def get_ok(client: FlaskClient, path: str, status: int = 200):
    response = client.get(path)
    assert response.status_code == status, f"{path}: {response.status_code}"
    return response


def sign_in_as(app: Flask, client: FlaskClient, make_user, role: Role, mobile: str) -> None:
    make_user(role=role, mobile=mobile)
    assert login(client, mobile).status_code == 302


# --- every kind of page -----------------------------------------------------------------------


def test_every_kind_of_response_sends_the_policy(app: Flask, client: FlaskClient, seeded, make_user):
    shop = make_shop(app, make_user, mobile="13811117001")
    pages = ["/", f"/p/{shop.product_id}", "/categories", "/search?q=%E7%AC%8B", "/login", "/register",
             "/static/css/shanhuo.css", "/static/js/shanhuo.js", "/static/js/checkout.js",
             "/static/img/logo.svg", "/api/v1/", "/api/v1/categories", "/api/v1/openapi.json"]
    for path in pages:
        assert_secure_headers(get_ok(client, path), path)
    assert get_ok(client, "/api/v1/categories").is_json
    assert_secure_headers(get_ok(client, "/no-such-page", 404), "404 page")
    assert_secure_headers(get_ok(client, "/api/v1/no-such-thing", 404), "API 404")
    assert_secure_headers(get_ok(client, "/orders/", 302), "redirect to sign in")

    # The consumer's journey: cart, checkout, orders, the payment pages.
    login(client, shop.mobile)
    token = csrf_token(client, f"/p/{shop.product_id}")
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "1", "csrf_token": token})
    cart = get_ok(client, "/cart/")
    assert f"/p/{shop.product_id}" in cart.get_data(as_text=True)
    assert_secure_headers(cart, "cart")
    checkout = get_ok(client, "/checkout/")
    assert 'name="window"' in checkout.get_data(as_text=True)
    assert_secure_headers(checkout, "checkout")
    with app.app_context():
        number = place_offered(shop, method="online").number
    for path in ("/orders/", f"/orders/{number}", "/addresses/", "/addresses/new", "/account"):
        assert_secure_headers(get_ok(client, path), path)
    pay = client.post(f"/pay/orders/{number}", data={"csrf_token": csrf_token(client, f"/orders/{number}")})
    assert pay.status_code == 302 and "/pay/sandbox/" in pay.headers["Location"]
    assert_secure_headers(pay, "pay redirect")
    sandbox = get_ok(client, pay.headers["Location"])
    assert_secure_headers(sandbox, "sandbox payment page")
    reference = pay.headers["Location"].rstrip("/").rsplit("/", 1)[1]
    assert_secure_headers(get_ok(client, f"/pay/return/{reference}"), "payment return page")

    # Staff areas.
    staff = app.test_client()
    sign_in_as(app, staff, make_user, Role.OPERATOR, "13811117002")
    for path in ("/admin/", "/dispatch/", "/complaints/", "/reports/"):
        assert_secure_headers(get_ok(staff, path), path)
    coop = app.test_client()
    sign_in_as(app, coop, make_user, Role.COOP_HEAD, "13811117003")
    assert_secure_headers(get_ok(coop, "/coop/"), "/coop/")


def test_the_pages_load_their_behaviour_from_static_files(app: Flask, client: FlaskClient, seeded, make_user):
    """The checkout's address switch and the cancel confirmation are data-* attributes that the
    static scripts act on; the fee/total script is a file of its own."""
    shop = make_shop(app, make_user, mobile="13811117004")
    login(client, shop.mobile)
    token = csrf_token(client, f"/p/{shop.product_id}")
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": "1", "csrf_token": token})
    page = get_ok(client, "/checkout/").get_data(as_text=True)
    assert f'data-navigate="/checkout/?address={shop.address_id}"' in page
    assert '<script src="/static/js/checkout.js"></script>' in page
    assert '<script src="/static/js/shanhuo.js" defer></script>' in page
    with app.app_context():
        number = place_offered(shop, method="cod").number
        assert db.session.scalar(sa.select(Order.status).where(Order.number == number)).value == "confirmed"
    detail = get_ok(client, f"/orders/{number}").get_data(as_text=True)
    assert 'data-confirm="确定取消该订单吗？"' in detail
    assert "onsubmit" not in detail and "<script>" not in detail


# --- the templates ------------------------------------------------------------------------------

JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.S)
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.S | re.I)
TAG = re.compile(r"<[a-zA-Z][^<>]*>")
HANDLER = re.compile(r"\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"\sstyle\s*=", re.I)
STYLE_BLOCK = re.compile(r"<style\b", re.I)
JAVASCRIPT_URL = re.compile(r"javascript\s*:", re.I)


def inline_code(text: str) -> list[str]:
    """What a strict CSP (script-src/style-src 'self') would block in this template."""
    problems = []
    if JAVASCRIPT_URL.search(text):
        problems.append("javascript: URL")
    markup = JINJA.sub("", text)  # the markup around Jinja's own {{ … }} and {% … %}
    for attributes, body in SCRIPT.findall(markup):
        if body.strip():
            problems.append("inline <script> with a body")
        elif "src" not in attributes.lower():
            problems.append("<script> without src")
    for tag in TAG.findall(markup):
        if HANDLER.search(tag):
            problems.append(f"event handler attribute: {tag}")
        if STYLE_ATTRIBUTE.search(tag):
            problems.append(f"style attribute: {tag}")
    if STYLE_BLOCK.search(markup):
        problems.append("inline <style> block")
    return problems


@pytest.mark.parametrize("snippet", [
    '<script>alert(1)</script>',
    '<script type="module">\n  go();\n</script>',
    '<input type="radio" onchange="location.href=\'{{ url }}\'">',
    '<form method="post"\n      onsubmit="return confirm(\'{{ _("Sure?") }}\')">',
    '<a href="javascript:void(0)">x</a>',
    '<a href="{{ url }}" ONCLICK="go()">x</a>',
    '<p class="muted" style="margin:0">x</p>',
    '<style>body { margin: 0 }</style>',
])
def test_the_template_scan_finds_inline_code(snippet: str):
    assert inline_code(snippet)


def test_the_template_scan_lets_external_scripts_and_data_attributes_pass():
    assert inline_code(
        '<script src="{{ url_for(\'static\', filename=\'js/x.js\') }}" defer></script>\n'
        '<form data-confirm="{{ _(\'Cancel?\') }}" class="action-form"><button>x</button></form>\n'
        '<input data-navigate="/checkout/?address=1"><p>Turn on the lights</p>'
    ) == []


def test_no_template_carries_inline_script_or_style():
    files = sorted(MARKETPLACE.rglob("*.html"))
    assert len(files) >= 25, files  # the templates are found at all
    found = {str(f.relative_to(MARKETPLACE)): inline_code(f.read_text(encoding="utf-8")) for f in files}
    assert {name: problems for name, problems in found.items() if problems} == {}


# --- HTTPS from the configuration ---------------------------------------------------------------


@pytest.fixture
def https_app(app: Flask, database_uri: str) -> Iterator[Flask]:
    """The same database served as a deployment whose EXTERNAL_BASE_URL is https://."""
    config = type("HttpsTestConfig", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_uri, "EXTERNAL_BASE_URL": "https://shop.example"})
    https = create_app(config)
    yield https
    with https.app_context():
        db.engine.dispose()


def cookies_set(response) -> dict[str, str]:
    """Cookie name → its Set-Cookie header."""
    found = {}
    for header in response.headers.getlist("Set-Cookie"):
        name = next(iter(SimpleCookie(header).keys()))
        found[name] = header
    return found


def test_an_https_deployment_redirects_http_and_sends_hsts_and_secure_cookies(https_app: Flask, make_user):
    assert https_app.config["HTTPS"] is True
    client = https_app.test_client()
    plain = client.get("/login", base_url="http://shop.example")
    assert plain.status_code == 302
    assert plain.headers["Location"] == "https://shop.example/login"
    api = client.get("/api/v1/categories?x=1", base_url="http://shop.example")
    assert api.status_code == 302 and api.headers["Location"] == "https://shop.example/api/v1/categories?x=1"

    page = client.get("/login", base_url="https://shop.example")
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert directives(page.headers["Content-Security-Policy"]) == POLICY
    assert "Secure" in cookies_set(page)["session"]

    make_user(mobile="13811117005")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    signed_in = client.post("/login", base_url="https://shop.example", headers={
        "Referer": "https://shop.example/login"}, data={  # Flask-WTF checks it over HTTPS
        "mobile": "13811117005", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert signed_in.status_code == 302
    cookies = cookies_set(signed_in)
    assert {"session", "remember_token"} <= set(cookies), cookies
    for name in ("session", "remember_token"):
        attributes = [part.strip().lower() for part in cookies[name].split(";")]
        assert "secure" in attributes and "httponly" in attributes, cookies[name]
        assert "samesite=lax" in attributes, cookies[name]
    assert signed_in.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


CSRF = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')


def test_a_plain_http_deployment_sends_no_hsts_and_no_secure_cookies(app: Flask, make_user):
    assert app.config["HTTPS"] is False
    client = app.test_client()
    page = client.get("/login")  # http://localhost
    assert page.status_code == 200  # no redirect
    assert "Strict-Transport-Security" not in page.headers
    assert "Strict-Transport-Security" not in client.get("/login", base_url="https://localhost").headers
    make_user(mobile="13811117006")
    token = CSRF.search(page.get_data(as_text=True)).group(1)
    signed_in = client.post("/login", data={
        "mobile": "13811117006", "password": PASSWORD, "remember": "y", "csrf_token": token})
    assert signed_in.status_code == 302
    cookies = cookies_set(signed_in)
    assert {"session", "remember_token"} <= set(cookies), cookies
    for name in ("session", "remember_token"):
        assert "secure" not in [part.strip().lower() for part in cookies[name].split(";")], cookies[name]
    assert app.config["SESSION_COOKIE_SECURE"] is False  # Talisman left the setting alone
