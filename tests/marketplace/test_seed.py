"""The demo county: big enough to be believable, and seeding twice changes nothing."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import (
    Category,
    Cooperative,
    Location,
    LocationKind,
    Order,
    Product,
    Role,
    Stock,
    User,
    Vehicle,
    Village,
    Warehouse,
)
from seed import load


def _count(model, *where) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


def test_seeding_twice_changes_nothing(app, seeded):
    with app.app_context():
        again = load.seed_all(history_days=2, progress=False)
    assert again == seeded


def test_demo_county_has_what_the_screens_need(app, seeded):
    with app.app_context():
        assert seeded["towns"] >= 10 and seeded["villages"] >= 80
        assert _count(Cooperative) == 12
        assert _count(Product) >= 60
        assert _count(Warehouse) == 3 and _count(Vehicle) == 15
        assert _count(Order) >= 40  # two days of history in this test; 14 by default
        for role in Role:
            assert _count(User, User.role == role) >= 1, role
        slugs = set(db.session.scalars(sa.select(Category.slug)))
        assert {"bamboo-charcoal", "dried-goods", "tea"} <= slugs
        product_names = " ".join(db.session.scalars(sa.select(Product.name_zh)))
        for word in ("竹炭包", "竹炭枕", "竹醋液", "笋干", "香菇"):
            assert word in product_names
        # Every product is held at its cooperative; some also sit in middle warehouses.
        at_warehouse = _count(Stock, Stock.location_id.in_(
            sa.select(Location.id).where(Location.kind == LocationKind.WAREHOUSE)))
        assert 0 < at_warehouse < _count(Stock)
        # Products carry zh and en names and certification data.
        assert _count(Product, (Product.name_en == "") | (Product.name_zh == "")) == 0


def test_villages_lie_in_a_mountain_county(app, seeded):
    with app.app_context():
        lat_min, lat_max, lon_min, lon_max = db.session.execute(
            sa.select(sa.func.min(Village.lat), sa.func.max(Village.lat), sa.func.min(Village.lon), sa.func.max(Village.lon))
        ).one()
    assert 28.2 < lat_min < lat_max < 28.9
    assert 118.8 < lon_min < lon_max < 119.6
