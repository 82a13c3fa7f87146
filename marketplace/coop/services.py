"""The cooperative portal's operations, always scoped to the head's own cooperative."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..auth.models import User
from ..catalog.models import Product
from ..errors import NotAllowed
from ..extensions import db
from ..inventory.models import Stock
from ..orders.models import Order, OrderLine, OrderStatus
from .models import Cooperative


def cooperative_of(user: User) -> Cooperative:
    if user.cooperative_id is None:
        raise NotAllowed()
    return db.session.get(Cooperative, user.cooperative_id)


@dataclass(frozen=True)
class ProductStock:
    product: Product
    stocks: list[Stock]

    @property
    def available(self) -> int:
        return sum(s.available for s in self.stocks)


def products_with_stock(cooperative_id: int) -> list[ProductStock]:
    products = db.session.scalars(
        sa.select(Product).where(Product.cooperative_id == cooperative_id).order_by(Product.sku)
    ).all()
    stocks = db.session.scalars(
        sa.select(Stock)
        .join(Stock.product)
        .where(Product.cooperative_id == cooperative_id)
        .options(joinedload(Stock.location))
    ).all()
    by_product: dict[int, list[Stock]] = {}
    for stock in stocks:
        by_product.setdefault(stock.product_id, []).append(stock)
    return [ProductStock(p, by_product.get(p.id, [])) for p in products]


def sales_summary(cooperative_id: int) -> dict[str, int]:
    row = db.session.execute(
        sa.select(sa.func.count(sa.distinct(OrderLine.order_id)), sa.func.coalesce(sa.func.sum(OrderLine.line_total_fen), 0))
        .join(OrderLine.product)
        .join(OrderLine.order)
        .where(Product.cooperative_id == cooperative_id, Order.status != OrderStatus.CANCELLED, Order.status != OrderStatus.EXPIRED)
    ).one()
    return {"orders": int(row[0]), "revenue_fen": int(row[1])}
