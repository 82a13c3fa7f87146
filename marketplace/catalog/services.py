"""Catalog queries: what the storefront shows. Only active products of approved cooperatives."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..coop.models import Cooperative, CooperativeStatus
from ..errors import NotFound
from ..extensions import db
from ..geo.models import Village
from ..inventory.models import Location, LocationKind, Stock
from .models import Category, Product, ProductStatus

PAGE_SIZE = 24


def on_sale():
    """Products a consumer may buy: active, from an approved cooperative."""
    return (
        sa.select(Product)
        .join(Product.cooperative)
        .where(Product.status == ProductStatus.ACTIVE, Cooperative.status == CooperativeStatus.APPROVED)
        .options(joinedload(Product.cooperative).joinedload(Cooperative.village), joinedload(Product.category))
    )


def categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.sort, Category.id)))


def category_by_slug(slug: str) -> Category:
    category = db.session.scalar(sa.select(Category).where(Category.slug == slug))
    if category is None:
        raise NotFound()
    return category


def featured_products(limit: int = 8) -> list[Product]:
    query = on_sale().where(Product.featured.is_(True)).order_by(Product.id).limit(limit)
    return list(db.session.scalars(query).unique())


def featured_cooperatives(limit: int = 6) -> list[Cooperative]:
    query = (
        sa.select(Cooperative)
        .where(Cooperative.status == CooperativeStatus.APPROVED)
        .options(joinedload(Cooperative.village).joinedload(Village.town))
        .order_by(Cooperative.quality_score.desc(), Cooperative.id)
        .limit(limit)
    )
    return list(db.session.scalars(query))


@dataclass(frozen=True)
class ProductPage:
    items: list[Product]
    total: int
    page: int
    pages: int


def list_products(*, category_id: int | None = None, text: str = "", page: int = 1) -> ProductPage:
    query = on_sale()
    if category_id is not None:
        query = query.where(Product.category_id == category_id)
    text = text.strip()[:50]
    if text:
        pattern = f"%{text.replace('%', '').replace('_', '')}%"
        query = query.where(
            sa.or_(
                Product.name_zh.ilike(pattern),
                Product.name_en.ilike(pattern),
                Product.description_zh.ilike(pattern),
                Product.description_en.ilike(pattern),
            )
        )
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    items = db.session.scalars(
        query.order_by(Product.featured.desc(), Product.id).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)
    ).unique()
    return ProductPage(list(items), total, page, pages)


def product_for_sale(product_id: int) -> Product:
    product = db.session.scalar(on_sale().where(Product.id == product_id))
    if product is None:
        raise NotFound()
    return product


@dataclass(frozen=True)
class StockState:
    available: int
    at_warehouse: int
    at_cooperative: int


def stock_state(product_id: int) -> StockState:
    rows = db.session.execute(
        sa.select(Location.kind, sa.func.sum(Stock.on_hand - Stock.reserved))
        .join(Stock.location)
        .where(Stock.product_id == product_id)
        .group_by(Location.kind)
    ).all()
    by_kind = {kind: int(total or 0) for kind, total in rows}
    warehouse = by_kind.get(LocationKind.WAREHOUSE, 0)
    cooperative = by_kind.get(LocationKind.COOPERATIVE, 0)
    return StockState(warehouse + cooperative, warehouse, cooperative)
