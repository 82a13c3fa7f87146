"""What a suspension does outside the admin pages: the cooperative's goods leave the storefront
(lists, search, product and cooperative pages, the API, the page cache), carts holding them say
so and leave them out of the total, checkout refuses them — also for a cart read before the
suspension — and reinstating brings everything back."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from marketplace import pagecache
from marketplace.admin import coops
from marketplace.auth import services as auth_services
from marketplace.auth.models import Role, User
from marketplace.cart.models import Cart, CartItem
from marketplace.catalog.models import Product
from marketplace.checkout import services as checkout
from marketplace.coop.models import Cooperative, CooperativeStatus
from marketplace.extensions import db
from marketplace.orders.models import Order
from marketplace.pagecache import PageCache
from tests.conftest import login
from tests.marketplace.api.conftest import Api
from tests.marketplace.checkout.conftest import Shop, make_shop, place_offered


@pytest.fixture
def shop(app, seeded, make_user) -> Shop:
    return make_shop(app, make_user)


@pytest.fixture
def operator_id(make_user) -> int:
    return make_user(Role.OPERATOR, mobile="16612349999").id


def product_and_coop(app, product_id: int) -> tuple[Product, Cooperative]:
    with app.app_context():
        product = db.session.get(Product, product_id)
        coop = product.cooperative
        db.session.expunge_all()
        return product, coop


def set_status(app, operator_id: int, coop_id: int, action: str) -> None:
    with app.app_context():
        assert coops.change_status(operator_id, coop_id, action, f"test {action}") is True
        db.session.remove()


def put_in_cart(app, user_id: int, product_id: int, quantity: int = 2) -> None:
    with app.app_context():
        cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == user_id))
        if cart is None:
            cart = Cart(user_id=user_id)
            db.session.add(cart)
        cart.items.append(CartItem(product_id=product_id, quantity=quantity))
        db.session.commit()
        db.session.remove()


def another_product(app, shop: Shop, product: Product) -> Product:
    """An on-sale product of another cooperative stocked at the shop's warehouse."""
    from marketplace.catalog import services as catalog
    from marketplace.inventory.models import Stock
    from marketplace.logistics.models import Warehouse

    with app.app_context():
        warehouse = db.session.get(Warehouse, shop.warehouse_id)
        other = db.session.scalars(
            catalog.on_sale(for_display=False).join(Stock, Stock.product_id == Product.id)
            .where(Product.cooperative_id != product.cooperative_id, Stock.location_id == warehouse.location_id,
                   Stock.on_hand - Stock.reserved >= 5).order_by(Product.id)).first()
        db.session.expunge_all()
        return other


def test_suspended_cooperatives_goods_leave_every_storefront_path_and_come_back(app, shop, operator_id):
    product, coop = product_and_coop(app, shop.product_id)
    anon = app.test_client()
    api = Api(app)
    name = product.name_zh

    with app.app_context():
        slug = db.session.get(Product, product.id).category.slug
        db.session.remove()

    def in_category() -> bool:
        return any(f"/p/{product.id}\"" in anon.get(f"/c/{slug}?page={page}").get_data(as_text=True)
                   for page in range(1, 4))

    def visible() -> dict[str, bool]:
        return {
            "product page": anon.get(f"/p/{product.id}").status_code == 200,
            "cooperative page": anon.get(f"/co/{coop.id}").status_code == 200,
            "search": f"/p/{product.id}\"" in anon.get(f"/search?q={name}").get_data(as_text=True),
            "category": in_category(),
            "api product": api.get(f"/products/{product.id}").status_code == 200,
            "api search": product.id in [p["id"] for p in
                                         api.get("/products", query_string={"q": name}).get_json()["items"]],
        }

    before = visible()
    assert all(before.values()), before

    set_status(app, operator_id, coop.id, "suspend")
    assert anon.get(f"/p/{product.id}").status_code == 404
    assert anon.get(f"/co/{coop.id}").status_code == 404
    assert f"/p/{product.id}\"" not in anon.get(f"/search?q={name}").get_data(as_text=True)
    assert f"/p/{product.id}\"" not in anon.get("/search").get_data(as_text=True)
    assert f"/co/{coop.id}\"" not in anon.get("/").get_data(as_text=True)
    assert not in_category()
    assert api.get(f"/products/{product.id}").status_code == 404
    listed = api.get("/products", query_string={"q": name}).get_json()["items"]
    assert product.id not in [p["id"] for p in listed]
    assert all(p["cooperative"]["id"] != coop.id for page in range(1, 4)
               for p in api.get("/products", query_string={"page": page}).get_json()["items"])

    set_status(app, operator_id, coop.id, "reinstate")
    assert visible() == before


def test_the_page_cache_forgets_a_suspended_cooperatives_pages(app, shop, operator_id, tmp_path):
    product, coop = product_and_coop(app, shop.product_id)
    inner = app.wsgi_app
    cache = PageCache(inner, seconds=600, stamp_file=tmp_path / "pagecache.stamp")
    app.wsgi_app, app.extensions["page_cache"] = cache, cache  # type: ignore[method-assign]
    # a second process of the same server: its own cache, the same stamp file
    other = PageCache(inner, seconds=600, stamp_file=tmp_path / "pagecache.stamp")
    try:
        anon = app.test_client(use_cookies=False)
        assert anon.get(f"/p/{product.id}").headers["X-Cache"] == "miss"
        assert anon.get(f"/p/{product.id}").headers["X-Cache"] == "hit"
        statuses: list[str] = []

        def call_other() -> str:
            from werkzeug.test import EnvironBuilder

            env = EnvironBuilder(path=f"/p/{product.id}", base_url="http://localhost").get_environ()
            body = b"".join(other(env, lambda status, headers, exc=None: statuses.append(status)))
            return body.decode()

        call_other()
        call_other()
        assert other.hits == 1  # the other process holds the page too
        set_status(app, operator_id, coop.id, "suspend")
        after = anon.get(f"/p/{product.id}")
        assert after.status_code == 404 and after.headers["X-Cache"] == "miss"
        call_other()
        assert statuses[-1].startswith("404") and other.hits == 1  # its stored page was not served
        set_status(app, operator_id, coop.id, "reinstate")
        assert anon.get(f"/p/{product.id}").status_code == 200
    finally:
        app.wsgi_app = inner  # type: ignore[method-assign]
        app.extensions.pop("page_cache", None)


def test_invalidate_without_a_page_cache_does_nothing(app):
    with app.app_context():
        pagecache.invalidate()  # the test configuration has no cache: no error, no file


def test_cart_marks_the_line_leaves_it_out_of_the_total_and_refuses_checkout(app, shop, operator_id, client):
    product, coop = product_and_coop(app, shop.product_id)
    other = another_product(app, shop, product)
    put_in_cart(app, shop.user_id, product.id, 2)
    put_in_cart(app, shop.user_id, other.id, 1)
    with app.app_context():
        db.session.execute(sa.update(User).where(User.id == shop.user_id).values(locale="en"))
        db.session.commit()
    login(client, shop.mobile)
    page = client.get("/cart/").get_data(as_text=True)
    assert "not selling" not in page and 'href="/checkout/"' in page

    set_status(app, operator_id, coop.id, "suspend")
    page = client.get("/cart/").get_data(as_text=True)
    assert "This cooperative is not selling at the moment." in page
    assert "Some items in your cart cannot be bought at the moment." in page
    assert f'data-product="{product.id}"' in page
    subtotal = page.split("Subtotal")[1].split("</span></div>")[0]
    assert f"¥{other.price_fen // 100}.{other.price_fen % 100:02d}" in subtotal  # only the other line
    assert 'href="/checkout/"' not in page
    # the checkout page sends the consumer back to the cart with the reason
    response = client.get("/checkout/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/cart/")
    # the service refuses, naming the product; nothing is ordered, nothing reserved
    with app.app_context():
        with pytest.raises(checkout.NotSelling) as refused:
            checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", uuid.uuid4().hex,
                                 cart_items={product.id: 2, other.id: 1})
        assert product.name_zh in refused.value.message
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.user_id == shop.user_id)) == 0
        db.session.remove()
    # removing the line lets the rest be checked out
    set_status(app, operator_id, coop.id, "reinstate")
    page = client.get("/cart/").get_data(as_text=True)
    assert "not selling" not in page and 'href="/checkout/"' in page  # back as it was


def test_a_checkout_that_read_the_cart_before_the_suspension_is_refused(app, shop, operator_id, monkeypatch):
    """The race: lines read while the cooperative was approved, the suspension committed before
    the order is written. The re-check under the share lock refuses it."""
    product, coop = product_and_coop(app, shop.product_id)
    real = checkout.cart_lines

    def stale(cart_items, *, for_display=True):
        lines = real(cart_items, for_display=for_display)
        set_status(app, operator_id, coop.id, "suspend")  # commits on its own connection
        return lines

    with app.app_context():
        cart = {product.id: 1}
        window = next(w.code for w in checkout.quote(shop.user_id, shop.address_id, cart).windows if w.feasible)
        monkeypatch.setattr(checkout, "cart_lines", stale)
        with pytest.raises(checkout.NotSelling):
            checkout.place_order(shop.user_id, shop.address_id, window, "cod", uuid.uuid4().hex, cart_items=cart)
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.user_id == shop.user_id)) == 0
        assert db.session.get(Cooperative, coop.id).status == CooperativeStatus.SUSPENDED
        db.session.remove()


def test_orders_placed_before_a_suspension_stay(app, shop, operator_id):
    product, coop = product_and_coop(app, shop.product_id)
    with app.app_context():
        order = place_offered(shop)
        number, status = order.number, order.status
        db.session.remove()
    set_status(app, operator_id, coop.id, "suspend")
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == number))
        assert order.status == status
        assert coops.detail(coop.id).open_orders >= 1
        db.session.remove()


def test_the_api_shows_unavailable_lines_and_refuses_the_order(app, shop, operator_id):
    product, coop = product_and_coop(app, shop.product_id)
    api = Api(app)
    with app.app_context():
        token = auth_services.issue_token(db.session.get(User, shop.user_id), "test")
    assert api.put(f"/cart/items/{product.id}", {"quantity": 2}, token=token).status_code == 200
    set_status(app, operator_id, coop.id, "suspend")
    cart = api.get("/cart", token=token).get_json()
    assert cart["items"] == [] and cart["subtotal_fen"] == 0
    assert [(u["product"]["id"], u["quantity"], u["reason"]) for u in cart["unavailable"]] == [
        (product.id, 2, "cooperative_not_selling")]
    assert api.put(f"/cart/items/{product.id}", {"quantity": 3}, token=token).status_code == 404
    quote = api.post("/quote", {"address_id": shop.address_id}, token=token)
    assert quote.status_code == 409 and quote.get_json()["error"] == "not_selling"
    placed = api.post("/orders", {"address_id": shop.address_id, "window": "18h", "payment_method": "cod",
                                  "idempotency_key": uuid.uuid4().hex}, token=token)
    assert placed.status_code == 409 and placed.get_json()["error"] == "not_selling"
    set_status(app, operator_id, coop.id, "reinstate")
    cart = api.get("/cart", token=token).get_json()
    assert [i["product"]["id"] for i in cart["items"]] == [product.id] and cart["unavailable"] == []


@pytest.fixture
def pg_only(app) -> Iterator[None]:
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("row locks: PostgreSQL only")
    yield


def test_a_suspension_waits_for_a_checkout_holding_the_cooperative(app, shop, operator_id, pg_only):
    """On PostgreSQL: while a checkout holds its share lock on the cooperative (between its check
    and its commit), the suspension's UPDATE waits; it applies once the order is committed."""
    import threading
    import time

    product, coop = product_and_coop(app, shop.product_id)
    done = threading.Event()

    def suspend() -> None:
        with app.app_context():
            coops.change_status(operator_id, coop.id, "suspend", "while an order is placed")
            db.session.remove()
        done.set()

    with app.app_context():
        checkout._check_selling([(db.session.get(Product, product.id), 1)])  # takes FOR SHARE
        worker = threading.Thread(target=suspend)
        worker.start()
        time.sleep(0.5)
        assert not done.is_set()  # blocked behind the checkout's lock
        db.session.commit()
        worker.join(10)
        assert done.is_set()
        assert db.session.get(Cooperative, coop.id).status == CooperativeStatus.SUSPENDED
        db.session.remove()
