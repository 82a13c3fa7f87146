"""Helpers of the listing tests (coop/test_listings.py, admin/test_listing_review.py,
catalog/test_rules.py): a head of a seeded cooperative, the values of a valid listing, pictures."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from flask import Flask

from marketplace.catalog.models import Product, ProductStatus
from marketplace.extensions import db
from marketplace.models import Role
from tests.conftest import csrf_token, login
from tests.marketplace.images import png_bytes


@dataclass
class Head:
    user_id: int
    mobile: str
    coop_id: int
    coop_code: str
    product_id: int  # one of its products on sale
    category_id: int  # that product's category (several products on sale)
    median_fen: int  # the median price of the category's products on sale
    other_coop_id: int
    other_mobile: str  # the head of another cooperative
    other_product_id: int  # a product of the other cooperative on sale


def make_head(app: Flask, make_user, *, mobile: str = "13700002222", other_mobile: str = "13700003333") -> Head:
    """The head of the cooperative of a product on sale in a category with at least 3 products on
    sale (needs ``seeded``), and the head of another cooperative."""
    with app.app_context():
        rows = db.session.execute(sa.select(Product.category_id, Product.price_fen, Product.id, Product.cooperative_id)
                                  .where(Product.status == ProductStatus.ACTIVE).order_by(Product.id)).all()
        by_category: dict[int, list] = {}
        for row in rows:
            by_category.setdefault(row.category_id, []).append(row)
        category_id, members = max(by_category.items(), key=lambda item: len(item[1]))
        product = members[0]
        other = next(r for r in rows if r.cooperative_id != product.cooperative_id)
        from marketplace.models import Cooperative

        code = db.session.get(Cooperative, product.cooperative_id).code
        median = int(statistics.median(r.price_fen for r in members))
    user = make_user(Role.COOP_HEAD, mobile=mobile, cooperative_id=product.cooperative_id, locale="en")
    make_user(Role.COOP_HEAD, mobile=other_mobile, cooperative_id=other.cooperative_id, locale="en")
    return Head(user.id, mobile, product.cooperative_id, code, product.id, category_id, median,
                other.cooperative_id, other_mobile, other.id)


def listing_values(head: Head, **changes) -> dict:
    values = {
        "category_id": head.category_id, "name_zh": "高山笋干", "name_en": "Mountain bamboo shoots",
        "description_zh": "遂昌高山竹林的春笋，晒干。", "description_en": "Spring shoots from high bamboo groves, sun-dried.",
        "unit_zh": "袋(250克)", "unit_en": "bag (250 g)", "price_fen": head.median_fen, "weight_g": 300,
        "volume_cm3": 1200, "shelf_life_days": 365, "handling_flags": ["keep_dry"],
        "certification_type": "none", "certification_no": "",
    }
    values.update(changes)
    return values


def form_data(values: dict, **extra) -> dict:
    """The listing form's fields for ``values`` (price in yuan)."""
    data = {k: v for k, v in values.items() if k not in ("price_fen", "handling_flags", "shelf_life_days")}
    data["price"] = f"{values['price_fen'] // 100}.{values['price_fen'] % 100:02d}"
    data["shelf_life_days"] = "" if values["shelf_life_days"] is None else str(values["shelf_life_days"])
    data["handling_flags"] = list(values["handling_flags"])
    data.update(extra)
    return data


def signed_in(app: Flask, mobile: str):
    client = app.test_client()
    assert login(client, mobile).status_code == 302
    return client


def post_form(client, path: str, data: dict, page: str | None = None):
    """Post a multipart form with the CSRF token of ``page`` (default ``path``). Files are given as
    (bytes, filename) values."""
    payload = {}
    for key, value in data.items():
        if isinstance(value, tuple):
            payload[key] = (io.BytesIO(value[0]), value[1])
        elif isinstance(value, list) and value and isinstance(value[0], tuple):
            payload[key] = [(io.BytesIO(v[0]), v[1]) for v in value]
        else:
            payload[key] = value
    payload["csrf_token"] = csrf_token(client, page or path)
    return client.post(path, data=payload, content_type="multipart/form-data")


def stored_files(upload_dir: Path) -> list[Path]:
    return sorted(p for p in upload_dir.rglob("*") if p.is_file())


def photo(colour=(160, 110, 60)) -> bytes:
    return png_bytes((800, 600), colour=colour)
