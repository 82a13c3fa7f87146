"""Catalog queries: what the storefront shows. Only active products of approved cooperatives."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from .. import uploads
from ..coop.models import Cooperative, CooperativeStatus
from ..errors import NotFound
from ..extensions import db
from ..geo.models import Village
from ..inventory.models import Location, LocationKind, Stock
from . import search
from .models import Category, CertificationType, Product, ProductPhoto, ProductStatus

PAGE_SIZE = 24


def on_sale(*, for_display: bool = True):
    """Products a consumer may buy: active, from an approved cooperative (with the cooperative,
    its village and the category loaded ``for_display``)."""
    query = (
        sa.select(Product)
        .join(Product.cooperative)
        .where(Product.status == ProductStatus.ACTIVE, Cooperative.status == CooperativeStatus.APPROVED)
    )
    if for_display:
        query = query.options(joinedload(Product.cooperative).joinedload(Cooperative.village),
                              joinedload(Product.category), selectinload(Product.photos))
    return query


def photo_file(file_id: str, size: int | None = None) -> Path:
    """Where the JPEG of a product photo is (at ``size``, one of uploads.SIZES, or as stored),
    only while its product is on sale; NotFound for anything else. The row is looked up by its
    id first: no part of the path comes from the request."""
    photo = db.session.scalar(
        sa.select(ProductPhoto).where(
            ProductPhoto.file_id == file_id[:64],
            ProductPhoto.product_id.in_(on_sale(for_display=False).with_only_columns(Product.id)),
        )
    )
    if photo is None or (size is not None and size not in uploads.SIZES):
        raise NotFound()
    path = uploads.path_of(photo.file_id, "product") if size is None else uploads.sized(photo.file_id, "product", size)
    if path is None or not path.is_file():
        raise NotFound()
    return path


def shown_photos(product: Product) -> list[ProductPhoto]:
    """The photos the shop shows of ``product``, in order: all of them while it is on sale, none
    otherwise (an order or a cart may outlive the listing; the photo route refuses those)."""
    if product.status != ProductStatus.ACTIVE or product.cooperative.status != CooperativeStatus.APPROVED:
        return []
    return list(product.photos)


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


@dataclass(frozen=True)
class Filters:
    """What a product listing may be narrowed and ordered by (parsed from the query string)."""

    text: str = ""
    category_id: int | None = None
    cooperative_id: int | None = None
    village_id: int | None = None
    min_price_fen: int | None = None
    max_price_fen: int | None = None
    certified_only: bool = False
    within_hours: int | None = None  # 2 or 6: goods close enough to be promised that fast
    near_location_id: int | None = None  # the warehouse serving the consumer, when known
    sort: str = "featured"
    page: int = 1


SORTS = {
    "featured": (Product.featured.desc(), Product.id),
    "price_asc": (Product.price_fen, Product.id),
    "price_desc": (Product.price_fen.desc(), Product.id),
    "newest": (Product.created_at.desc(), Product.id.desc()),
}


def _like(text: str) -> str:
    return "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"


def list_products(filters: Filters) -> ProductPage:
    query = on_sale()
    if filters.category_id is not None:
        query = query.where(Product.category_id == filters.category_id)
    if filters.cooperative_id is not None:
        query = query.where(Product.cooperative_id == filters.cooperative_id)
    if filters.village_id is not None:
        query = query.where(Cooperative.village_id == filters.village_id)
    if filters.min_price_fen is not None:
        query = query.where(Product.price_fen >= filters.min_price_fen)
    if filters.max_price_fen is not None:
        query = query.where(Product.price_fen <= filters.max_price_fen)
    if filters.certified_only:
        query = query.where(Product.certification_type != CertificationType.NONE)
    if filters.within_hours is not None:
        query = query.where(Product.id.in_(_stocked_for_window(filters.within_hours, filters.near_location_id)))
    text = filters.text.strip()[:50]
    if text:
        candidates = search.matching_ids(text)
        if candidates is not None:
            query = query.where(Product.id.in_(candidates))
        pattern = _like(text)
        query = query.where(sa.or_(
            Product.name_zh.ilike(pattern), Product.name_en.ilike(pattern),
            Product.description_zh.ilike(pattern), Product.description_en.ilike(pattern),
        ))
    total = db.session.scalar(sa.select(sa.func.count()).select_from(query.order_by(None).subquery()))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    order = SORTS.get(filters.sort, SORTS["featured"])
    items = db.session.scalars(query.order_by(*order).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).unique()
    return ProductPage(list(items), total, page, pages)


def _stocked_for_window(hours: int, near_location_id: int | None):
    """Products whose goods sit where a ``hours`` window can usually be kept: a warehouse
    (the consumer's, when known) for 2 h; any stock, warehouse or cooperative, for 6 h.
    The binding answer for a real address is the checkout quote against the current plan."""
    query = sa.select(Stock.product_id).join(Stock.location).where(Stock.on_hand > Stock.reserved)
    if hours <= 2:
        query = query.where(Location.kind == LocationKind.WAREHOUSE)
        if near_location_id is not None:
            query = query.where(Location.id == near_location_id)
    return query


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


def cooperative_for_sale(cooperative_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, cooperative_id)
    if coop is None or coop.status != CooperativeStatus.APPROVED:
        raise NotFound()
    return coop


def village(village_id: int) -> Village:
    found = db.session.get(Village, village_id)
    if found is None:
        raise NotFound()
    return found


def serving_location_for_current_user() -> int | None:
    """The stock location of the warehouse that serves the signed-in consumer's default address."""
    from flask_login import current_user

    from ..geo import services as geo_services

    if not current_user.is_authenticated:
        return None
    address = geo_services.default_address(current_user.id)
    if address is None:
        return None
    warehouse = geo_services.warehouse_for_zone(address.village.zone_id)
    return warehouse.location_id if warehouse else None


def fastest_delivery(product: Product):
    """(quote, place name): the fastest window the current plan can keep for one unit of
    ``product`` to the consumer's default address, or to the county town when unknown."""
    from flask_babel import gettext as _
    from flask_login import current_user

    from ..planning import promise

    user_id = current_user.id if current_user.is_authenticated else None
    quote, village = promise.fastest_for_product(product.id, user_id)
    from ..geo import services as geo

    mine = user_id is not None and geo.default_address(user_id) is not None
    from ..i18n import localized

    place = _("your address") if mine else (localized(village.town) if village else "")
    return quote, place
