"""A window that is not offered says why, in the consumer's terms: no van on the road yet, goods
that wait at a cooperative, a fleet that is full."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.models import Location, LocationKind, Product, Warehouse

from ..checkout.conftest import hold_only_at_cooperative, make_shop


def _windows(shop, cart=None) -> dict[str, tuple[bool, str | None, str]]:
    quote = checkout.quote(shop.user_id, shop.address_id, cart or {shop.product_id: 1})
    return {w.code: (w.feasible, w.reason_code, w.reason) for w in quote.windows}


def test_at_night_the_short_windows_wait_for_the_first_shift(app, seeded_at, make_user):
    seeded_at("03:30")
    shop = make_shop(app, make_user)
    with app.app_context():
        windows = _windows(shop)
        feasible, code, text = windows["2h"]
        assert not feasible and code == "before_shift" and text
        assert windows["12h"][0]  # a van on the morning shift keeps it


def test_goods_only_at_a_cooperative_say_so_when_a_short_window_is_out_of_reach(app, seeded_at, make_user):
    seeded_at("10:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        depot = db.session.get(Location, db.session.get(Warehouse, shop.warehouse_id).location_id)
        farms = db.session.scalars(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE)).all()
        farm = max(farms, key=lambda f: (f.lat - depot.lat) ** 2 + (f.lon - depot.lon) ** 2)  # the farthest
        product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == farm.cooperative_id,
                                                             Product.status == "active").order_by(Product.id))
        shop.product_id = product.id
        hold_only_at_cooperative(product.id, farm.id)
        windows = _windows(shop)
        refused = {code for feasible, code, _ in windows.values() if not feasible}
        assert refused, "a cooperative-only product is not offered every window"
        assert refused <= {"goods_at_cooperative", "fleet_busy"} and "goods_at_cooperative" in refused
