"""Product photos in the storefront: the public photo route (only while the product is on sale,
long-cached, conditional), the <img> of cards, product page, cart and API, the drawn placeholder,
and the drawn demo photos that `flask seed` gives every product."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from PIL import Image

from marketplace import uploads
from marketplace.catalog.models import Category, Product, ProductPhoto, ProductStatus
from marketplace.coop.models import Cooperative, CooperativeStatus
from marketplace.extensions import db
from seed import data, illustrations
from tests.conftest import csrf_token, login
from tests.marketplace.checkout.conftest import make_shop
from tests.marketplace.images import jpeg_bytes

YEAR = 365 * 24 * 3600


@pytest.fixture
def upload_dir(app, tmp_path) -> Path:
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield Path(app.config["UPLOAD_DIR"])
    app.config["UPLOAD_DIR"] = before


def _featured_product(app) -> tuple[int, str]:
    with app.app_context():
        product = db.session.scalar(sa.select(Product).join(Product.cooperative).where(
            Product.featured.is_(True), Product.status == ProductStatus.ACTIVE,
            Cooperative.status == CooperativeStatus.APPROVED).order_by(Product.id).limit(1))
        return product.id, product.name_zh


def _add_photos(app, product_id: int, count: int = 2) -> list[str]:
    """Photos as a cooperative's upload would store them (a camera-sized JPEG, re-encoded)."""
    with app.app_context():
        ids = []
        for position in range(count):
            file_id = uploads.store(product_id, jpeg_bytes((1200, 900)), "product")
            width, height = uploads.size_of(file_id, "product")
            db.session.add(ProductPhoto(product_id=product_id, file_id=file_id, position=position,
                                        width=width, height=height))
            ids.append(file_id)
        db.session.commit()
        return ids


def _set_status(app, product_id: int, product: ProductStatus | None = None,
                cooperative: CooperativeStatus | None = None) -> None:
    with app.app_context():
        row = db.session.get(Product, product_id)
        if product is not None:
            row.status = product
        if cooperative is not None:
            row.cooperative.status = cooperative
        db.session.commit()


# --- the route -----------------------------------------------------------------------------------

def test_photo_of_a_product_on_sale_is_served_long_cached_and_conditional(app, client, seeded, upload_dir):
    product_id, _ = _featured_product(app)
    file_id = _add_photos(app, product_id, 1)[0]

    response = client.get(f"/media/products/{file_id}.jpg")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.data[:3] == b"\xff\xd8\xff"
    assert Image.open(io.BytesIO(response.data)).size == (1200, 900)
    cache = response.cache_control
    assert cache.public and cache.immutable and cache.max_age == YEAR
    assert response.headers["ETag"] and response.headers["Last-Modified"]
    assert "Set-Cookie" not in response.headers

    again = client.get(f"/media/products/{file_id}.jpg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""
    since = client.get(f"/media/products/{file_id}.jpg", headers={"If-Modified-Since": response.headers["Last-Modified"]})
    assert since.status_code == 304


def test_card_and_thumbnail_sizes_are_made_once_and_other_sizes_refused(app, client, seeded, upload_dir):
    product_id, _ = _featured_product(app)
    file_id = _add_photos(app, product_id, 1)[0]

    for size, expected in ((480, (480, 360)), (160, (160, 120))):
        response = client.get(f"/media/products/{file_id}.jpg?w={size}")
        assert response.status_code == 200, size
        assert Image.open(io.BytesIO(response.data)).size == expected
        assert response.cache_control.immutable
    made = upload_dir / "product" / "sized" / f"{file_id}-480.jpg"
    assert made.is_file()
    stamp = made.stat().st_mtime_ns
    client.get(f"/media/products/{file_id}.jpg?w=480")
    assert made.stat().st_mtime_ns == stamp  # kept, not made again

    for bad in ("123", "0", "-1", "abc", "4800", ""):
        assert client.get(f"/media/products/{file_id}.jpg?w={bad}").status_code == 404, bad
    assert not list((upload_dir / "product" / "sized").glob("*-123.jpg"))


@pytest.mark.parametrize("state", ["pending", "review", "delisted", "cooperative_suspended", "cooperative_pending"])
def test_photo_of_a_product_not_on_sale_is_404(app, client, seeded, upload_dir, state):
    product_id, _ = _featured_product(app)
    file_id = _add_photos(app, product_id, 1)[0]
    assert client.get(f"/media/products/{file_id}.jpg").status_code == 200
    if state.startswith("cooperative_"):
        _set_status(app, product_id, cooperative=CooperativeStatus(state.removeprefix("cooperative_")))
    else:
        _set_status(app, product_id, product=ProductStatus(state))
    assert client.get(f"/media/products/{file_id}.jpg").status_code == 404
    assert client.get(f"/media/products/{file_id}.jpg?w=480").status_code == 404


def test_unknown_and_path_like_ids_are_404(app, client, seeded, upload_dir):
    product_id, _ = _featured_product(app)
    file_id = _add_photos(app, product_id, 1)[0]
    # a file in the folder that no photo row names is not served either
    (upload_dir / "product" / f"{product_id}-{'0' * 32}.jpg").write_bytes(
        (upload_dir / "product" / f"{file_id}.jpg").read_bytes())
    for bad in (f"{product_id}-{'0' * 32}", "1-" + "f" * 32, "..%2F..%2Fetc%2Fpasswd", "..", "%2e%2e",
                f"{file_id}.jpg", file_id.upper(), "x" * 300):
        assert client.get(f"/media/products/{bad}.jpg").status_code == 404, bad
    assert client.get(f"/media/products/{file_id}%00.jpg").status_code == 400  # a control character: refused
    assert client.get(f"/media/products/{file_id}").status_code == 404  # no extension: no route


# --- the pages -----------------------------------------------------------------------------------

def _imgs(html: str) -> list[dict[str, str]]:
    return [dict(re.findall(r'([a-z-]+)="([^"]*)"', tag)) for tag in re.findall(r"<img\b[^>]*>", html)]


def test_cards_and_product_page_show_the_photos_and_no_emoji(app, client, seeded, upload_dir):
    product_id, name = _featured_product(app)
    first, second = _add_photos(app, product_id, 2)
    with app.app_context():
        icons = [c.icon for c in db.session.scalars(sa.select(Category)) if c.icon]

    home = client.get("/").get_data(as_text=True)
    grid = home[home.index('class="product-grid"'):]
    card = next(i for i in _imgs(grid) if first in i.get("src", ""))
    assert card["src"] == f"/media/products/{first}.jpg?w=480"
    assert (card["width"], card["height"]) == ("480", "360")
    assert card["alt"] == name and card["loading"] == "lazy"
    assert not any(icon in grid for icon in icons)
    assert client.get(card["src"]).status_code == 200

    page = client.get(f"/p/{product_id}").get_data(as_text=True)
    images = _imgs(page)
    main = [i for i in images if i.get("src", "").startswith("/media/products/") and "?w=" not in i["src"]]
    assert [i["src"] for i in main] == [f"/media/products/{first}.jpg", f"/media/products/{second}.jpg"]
    assert main[0]["alt"].startswith(name) and "loading" not in main[0] and main[1]["loading"] == "lazy"
    thumbs = [i["src"] for i in images if "?w=160" in i.get("src", "")]
    assert thumbs == [f"/media/products/{first}.jpg?w=160", f"/media/products/{second}.jpg?w=160"]
    assert 'href="#photo-2"' in page and 'id="photo-2"' in page
    assert not any(icon in page[page.index('class="product-detail"'):] for icon in icons)


def test_a_product_without_photos_shows_the_drawn_placeholder(app, client, seeded, upload_dir):
    product_id, name = _featured_product(app)
    page = client.get(f"/p/{product_id}").get_data(as_text=True)
    placeholder = [i for i in _imgs(page) if i.get("src", "").endswith("/static/img/no-photo.svg")]
    assert len(placeholder) == 1 and placeholder[0]["alt"] == name
    assert client.get("/static/img/no-photo.svg").status_code == 200
    home = client.get("/").get_data(as_text=True)
    assert "no-photo.svg" in home and "/media/products/" not in home


def test_cart_and_api_show_photos_and_hide_them_when_the_product_is_not_on_sale(app, client, seeded, make_user,
                                                                               upload_dir):
    shop = make_shop(app, make_user)
    first = _add_photos(app, shop.product_id, 1)[0]
    login(client, shop.mobile)
    client.post("/cart/add", data={"product_id": shop.product_id, "quantity": 1, "csrf_token": csrf_token(client, f"/p/{shop.product_id}")})
    cart = client.get("/cart/").get_data(as_text=True)
    assert f"/media/products/{first}.jpg?w=160" in cart

    body = client.get(f"/api/v1/products/{shop.product_id}").get_json()
    assert body["photos"] == [{"url": f"http://localhost/media/products/{first}.jpg",
                               "card_url": f"http://localhost/media/products/{first}.jpg?w=480",
                               "width": 1200, "height": 900}]
    listed = client.get("/api/v1/products").get_json()["items"]
    assert all(isinstance(item["photos"], list) for item in listed)

    _set_status(app, shop.product_id, product=ProductStatus.REVIEW)
    cart = client.get("/cart/").get_data(as_text=True)
    assert "/media/products/" not in cart and "no-photo.svg" in cart


# --- the demo photos -----------------------------------------------------------------------------

def test_every_seeded_product_kind_is_drawn():
    assert {p["sku"] for p in data.PRODUCTS} <= set(illustrations.KINDS)
    assert set(illustrations.KINDS.values()) <= set(illustrations._looks())


def test_illustrations_are_deterministic_square_and_differ_by_kind():
    honey = illustrations.jpeg(illustrations.draw("honey", 0, "SC-HP-001"))
    assert honey == illustrations.jpeg(illustrations.draw("honey", 0, "SC-HP-001"))
    picture = Image.open(io.BytesIO(honey))
    assert picture.size == (illustrations.SIZE, illustrations.SIZE) and picture.format == "JPEG"
    tea = illustrations.draw("yinhou", 0, "SC-TE-001")
    assert tea.tobytes() != picture.tobytes()
    # not a flat picture: there is something drawn on it
    assert len(tea.resize((64, 64)).getcolors(64 * 64)) > 200


def test_seed_gives_every_product_two_drawn_photos_and_again_changes_nothing(app, client, seeded, upload_dir):
    from seed import load

    with app.app_context():
        load.seed_photos()
        db.session.commit()
        photos = db.session.execute(sa.select(ProductPhoto.product_id, ProductPhoto.file_id, ProductPhoto.width)).all()
        products = db.session.scalars(sa.select(Product.id)).all()
        db.session.remove()
    by_product: dict[int, list[str]] = {}
    for product_id, file_id, width in photos:
        by_product.setdefault(product_id, []).append(file_id)
        assert width == illustrations.SIZE
    assert set(by_product) == set(products)
    assert all(len(ids) == 2 for ids in by_product.values())
    stored = sorted(p.name for p in (upload_dir / "product").glob("*.jpg"))
    assert len(stored) == 2 * len(products)

    with app.app_context():
        load.seed_photos()
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ProductPhoto)) == len(photos)
        db.session.remove()
    assert sorted(p.name for p in (upload_dir / "product").glob("*.jpg")) == stored

    home = client.get("/").get_data(as_text=True)
    assert "no-photo.svg" not in home
    src = re.search(r'src="(/media/products/[^"]+)"', home).group(1)
    assert Image.open(io.BytesIO(client.get(src).data)).size == (480, 480)
