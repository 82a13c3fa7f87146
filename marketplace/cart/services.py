"""Cart contents: the session cart of a guest, the stored cart of a signed-in consumer."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import session
from flask_login import current_user

from ..catalog.models import Product
from ..extensions import db
from .models import Cart


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int

    @property
    def total_fen(self) -> int:
        return self.product.price_fen * self.quantity


@dataclass(frozen=True)
class CartView:
    lines: list[CartLine]

    @property
    def subtotal_fen(self) -> int:
        return sum(line.total_fen for line in self.lines)


def _raw_items() -> dict[int, int]:
    if current_user.is_authenticated:
        cart = db.session.scalar(sa.select(Cart).where(Cart.user_id == current_user.id))
        return {item.product_id: item.quantity for item in cart.items} if cart else {}
    raw = session.get("cart", {})
    return {int(k): int(v) for k, v in raw.items() if str(k).isdigit() and int(v) > 0}


def current_cart() -> CartView:
    items = _raw_items()
    if not items:
        return CartView([])
    products = db.session.scalars(sa.select(Product).where(Product.id.in_(items))).all()
    return CartView([CartLine(p, items[p.id]) for p in sorted(products, key=lambda p: p.id)])
