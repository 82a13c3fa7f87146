"""The storefront catalog: search in Chinese and English, filters, sorting, pages."""

from __future__ import annotations

import re

import sqlalchemy as sa

from marketplace.catalog import search
from marketplace.extensions import db
from marketplace.models import Cooperative, Product, ProductStatus


def _titles(html: str) -> list[str]:
    return re.findall(r'class="title">([^<]+)<', html)


def test_chinese_substring_search_finds_every_bamboo_shoot_product(app, client, seeded):
    titles = _titles(client.get("/search?q=笋干").get_data(as_text=True))
    with app.app_context():
        expected = set(db.session.scalars(sa.select(Product.name_zh).where(
            Product.status == ProductStatus.ACTIVE,
            sa.or_(Product.name_zh.contains("笋干"), Product.description_zh.contains("笋干")))))
    assert len(titles) >= 3
    assert set(titles) == expected


def test_english_search_and_english_names(client, seeded):
    client.get("/lang/en")
    titles = _titles(client.get("/search?q=charcoal").get_data(as_text=True))
    assert titles and all(re.search(r"[A-Za-z]", t) for t in titles)
    assert any("charcoal" in t.lower() for t in titles)


def test_search_index_terms_cover_chinese_bigrams_and_latin_trigrams():
    assert {"笋干"} == search.query_terms("笋干")
    assert {"cha", "har", "arc"} == search.query_terms("charc")
    assert search.query_terms("x") == set()


def test_filters_price_certification_and_sort(app, client, seeded):
    page = client.get("/search?min=20&max=60&certified=1&sort=price_asc").get_data(as_text=True)
    prices = [int(y) * 100 + int(f) for y, f in re.findall(r'class="price">¥(\d+)\.(\d\d)', page)]
    assert prices and prices == sorted(prices)
    assert all(2000 <= p <= 6000 for p in prices)
    with app.app_context():
        uncertified = db.session.scalars(sa.select(Product.name_zh).where(Product.certification_type == "none")).all()
    assert not set(_titles(page)) & set(uncertified)


def test_bad_price_filter_is_explained_not_a_crash(client, seeded):
    response = client.get("/search?min=abc")
    assert response.status_code == 200
    assert "请以元为单位" in response.get_data(as_text=True)


def test_within_two_hours_lists_only_goods_held_in_a_warehouse(app, client, seeded):
    quick = set(_titles(client.get("/search?within=2").get_data(as_text=True)))
    assert quick
    from marketplace.models import Location, LocationKind, Stock

    with app.app_context():
        held = set(db.session.scalars(sa.select(Product.name_zh).join(Stock, Stock.product_id == Product.id)
                                      .join(Location).where(Location.kind == LocationKind.WAREHOUSE)))
    assert quick <= held


def test_cooperative_village_category_and_product_pages(app, client, seeded):
    with app.app_context():
        coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.status == "approved").order_by(Cooperative.id))
        product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == coop.id,
                                                             Product.status == ProductStatus.ACTIVE))
        coop_id, village_id, product_id, name = coop.id, coop.village_id, product.id, product.name_zh
    assert name in client.get(f"/co/{coop_id}").get_data(as_text=True)
    assert client.get(f"/v/{village_id}").status_code == 200
    assert client.get("/c/tea").status_code == 200
    page = client.get(f"/p/{product_id}").get_data(as_text=True)
    assert name in page and "认证" in page and "送达" in page
    assert client.get("/p/999999").status_code == 404
    assert client.get("/c/no-such-category").status_code == 404


def test_pending_cooperatives_products_are_not_on_sale(app, client, seeded):
    with app.app_context():
        pending = db.session.scalar(sa.select(Product).join(Product.cooperative).where(Cooperative.status == "pending"))
        pid = pending.id
    assert client.get(f"/p/{pid}").status_code == 404
