"""A consumer with an address in the county town and a product stocked at its warehouse."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.geo import services as geo
from marketplace.models import Location, Product, Stock, User, Village, Warehouse


@dataclass
class Shop:
    user_id: int
    mobile: str
    address_id: int
    product_id: int
    stock_id: int
    warehouse_id: int


def make_shop(app, make_user, mobile: str = "13811110000", on_hand: int | None = None) -> Shop:
    user = make_user(mobile=mobile)
    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V001"))
        address = geo.add_address(user.id, village_id=village.id, detail="园区路 18 号", recipient_name="测试",
                                  recipient_mobile=mobile)
        warehouse = geo.warehouse_for_zone(village.zone_id)
        stock = db.session.scalar(
            sa.select(Stock).join(Stock.product).where(Stock.location_id == warehouse.location_id,
                                                       Stock.on_hand - Stock.reserved >= 10)
            .order_by(Product.weight_g).limit(1))
        if on_hand is not None:  # the product exists only here, with exactly this many units
            for other in db.session.scalars(sa.select(Stock).where(Stock.product_id == stock.product_id)):
                other.on_hand, other.reserved = 0, 0
            stock.on_hand = on_hand
            db.session.commit()
        return Shop(user.id, mobile, address.id, stock.product_id, stock.id, warehouse.id)


@pytest.fixture
def shop(app, seeded, make_user) -> Shop:
    return make_shop(app, make_user)


def stock_of(app, stock_id: int) -> tuple[int, int]:
    with app.app_context():
        stock = db.session.get(Stock, stock_id)
        return stock.on_hand, stock.reserved


__all__ = ["Location", "Shop", "User", "Warehouse", "make_shop", "stock_of"]


def place_offered(shop: Shop, wanted: str = "18h", method: str = "cod", cart: dict[int, int] | None = None):
    """Place the shop's cart as a consumer would at any hour: the ``wanted`` window when the
    quote offers it, else the fastest offered one (at night the short ones are not offered)."""
    import uuid

    from marketplace.checkout import services as checkout

    cart = cart or {shop.product_id: 1}
    offered = [w.code for w in checkout.quote(shop.user_id, shop.address_id, cart).windows if w.feasible]
    assert offered, "no window offered"
    window = wanted if wanted in offered else offered[0]
    return checkout.place_order(shop.user_id, shop.address_id, window, method, uuid.uuid4().hex, cart_items=cart)


def hold_only_at_cooperative(product_id: int, farm_id: int, on_hand: int = 5) -> None:
    """The product's stock is only at this cooperative site (its goods are picked up there)."""
    for stock in db.session.scalars(sa.select(Stock).where(Stock.product_id == product_id)):
        stock.on_hand, stock.reserved = 0, 0
    held = db.session.scalar(sa.select(Stock).where(Stock.product_id == product_id, Stock.location_id == farm_id))
    if held is None:
        held = Stock(product_id=product_id, location_id=farm_id)
        db.session.add(held)
    held.on_hand = on_hand
    db.session.commit()


def travel_factor_row(zone_id: int):
    """The zone's learned travel-factor parameter row (added at 1.0 when the zone has none yet)."""
    from marketplace.models import LogisticsParameter

    row = db.session.scalar(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope == "zone", LogisticsParameter.scope_id == zone_id,
        LogisticsParameter.key == "travel_factor"))
    if row is None:
        row = LogisticsParameter(scope="zone", scope_id=zone_id, key="travel_factor", value=1.0)
        db.session.add(row)
    return row
