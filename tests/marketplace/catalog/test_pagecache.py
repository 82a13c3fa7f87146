"""The anonymous catalog micro-cache: what is served from it, what never is."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask

from marketplace.extensions import db
from marketplace.models import Product, ProductStatus
from marketplace.pagecache import PageCache
from tests.conftest import login


@pytest.fixture
def cached_app(app: Flask) -> Iterator[PageCache]:
    inner = app.wsgi_app
    cache = PageCache(inner, seconds=60)
    app.wsgi_app = cache  # type: ignore[method-assign]
    try:
        yield cache
    finally:
        app.wsgi_app = inner  # type: ignore[method-assign]


def _product(app: Flask) -> Product:
    with app.app_context():
        return db.session.scalars(
            sa.select(Product).where(Product.status == ProductStatus.ACTIVE).order_by(Product.id)
        ).first()


def test_anonymous_catalog_page_is_served_from_the_cache_until_cleared(app, seeded, cached_app):
    anon = app.test_client(use_cookies=False)
    product = _product(app)
    first = anon.get(f"/p/{product.id}")
    assert first.status_code == 200 and first.headers["X-Cache"] == "miss"
    assert "Set-Cookie" not in first.headers  # nothing personal was rendered
    with app.app_context():
        db.session.execute(sa.update(Product).where(Product.id == product.id).values(price_fen=123456))
        db.session.commit()
    second = anon.get(f"/p/{product.id}")
    assert second.headers["X-Cache"] == "hit"
    assert second.data == first.data  # within the TTL the stored page is served
    # another language is another page
    english = anon.get(f"/p/{product.id}", headers={"Accept-Language": "en"})
    assert english.headers["X-Cache"] == "miss" and english.data != first.data
    cached_app.clear()
    fresh = anon.get(f"/p/{product.id}")
    assert fresh.headers["X-Cache"] == "miss"
    assert "¥1234.56" in fresh.get_data(as_text=True)


def test_expired_entries_are_rendered_again(app, seeded, cached_app):
    cached_app.seconds = 0.0
    anon = app.test_client(use_cookies=False)
    assert anon.get("/c/dried-goods").headers["X-Cache"] == "miss"
    assert anon.get("/c/dried-goods").headers["X-Cache"] == "miss"


def test_requests_with_cookies_or_sign_in_never_use_the_cache(app, seeded, cached_app, make_user):
    anon = app.test_client(use_cookies=False)
    anon.get("/c/dried-goods")
    with_cookie = anon.get("/c/dried-goods", headers={"Cookie": "session=abc"})
    assert "X-Cache" not in with_cookie.headers
    client = app.test_client()
    user = make_user(mobile="13900000111")
    login(client, user.mobile)
    page = client.get("/c/dried-goods")
    assert "X-Cache" not in page.headers
    assert 'href="/orders/"' in page.get_data(as_text=True)  # the signed-in tab bar


def test_a_page_that_starts_a_session_is_not_stored(app, seeded, cached_app):
    anon = app.test_client(use_cookies=False)
    bad = anon.get("/search?q=tea&min=abc")  # flashes an error: starts a session
    assert "Set-Cookie" in bad.headers
    assert anon.get("/search?q=tea&min=abc").headers["X-Cache"] == "miss"
    assert cached_app.misses == 0


def test_only_catalog_get_requests_are_cached(app, seeded, cached_app):
    anon = app.test_client(use_cookies=False)
    assert "X-Cache" not in anon.get("/login").headers
    assert "X-Cache" not in anon.get("/cart/").headers
    assert "X-Cache" not in anon.get("/api/v1/products").headers


def test_token_less_add_to_cart_works_only_without_cookies(app, seeded, cached_app):
    product = _product(app)
    anon = app.test_client(use_cookies=False)
    page = anon.get(f"/p/{product.id}").get_data(as_text=True)
    assert 'name="csrf_token"' not in page
    added = anon.post("/cart/add", data={"product_id": product.id, "quantity": "1"},
                      headers={"Origin": "http://localhost"})  # our own page's form
    assert added.status_code == 302
    cookie = added.headers["Set-Cookie"].split(";")[0]  # the new guest session with the cart
    forged = anon.post(
        "/cart/add", data={"product_id": product.id, "quantity": "1"}, headers={"Cookie": cookie}
    )
    assert forged.status_code == 400  # a session exists now: the CSRF token is required
    cart = anon.get("/cart/", headers={"Cookie": cookie}).get_data(as_text=True)
    assert 'value="1"' in cart  # one unit: the forged request added nothing


def test_a_page_cached_over_https_is_not_the_answer_to_plain_http(database_uri, seeded):
    """With HTTPS on, plain http is redirected (HSTS), also for a page the cache holds."""
    from marketplace import create_app
    from marketplace.config import TestConfig

    https_app = create_app(type("C", (TestConfig,), {
        "SQLALCHEMY_DATABASE_URI": database_uri, "EXTERNAL_BASE_URL": "https://shop.example",
        "PAGE_CACHE_SECONDS": 60.0, "PROXY_COUNT": 1}))
    anon = https_app.test_client(use_cookies=False)
    over_https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    assert anon.get("/categories", headers=over_https).status_code == 200
    assert anon.get("/categories", headers=over_https).headers["X-Cache"] == "hit"
    plain = anon.get("/categories", headers={"X-Forwarded-Proto": "http", "X-Forwarded-For": "203.0.113.9"})
    assert plain.status_code in (301, 302) and plain.headers["Location"].startswith("https://")
