"""The storefront catalog: home, categories, cooperatives, villages, search and product pages."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from flask import Blueprint, flash, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..i18n import localized
from . import services

bp = Blueprint("catalog", __name__, template_folder="templates")

SORT_LABELS = {
    "featured": _l("Recommended"),
    "price_asc": _l("Price: low to high"),
    "price_desc": _l("Price: high to low"),
    "newest": _l("Newest"),
}


def arg_id(name: str) -> int | None:
    """An id from the query string, or None when absent or not a valid id."""
    value = request.args.get(name, type=int)
    return value if value is not None and 0 < value < 2**31 else None


def _yuan_to_fen(name: str) -> int | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        value = Decimal(raw)
    except InvalidOperation:
        value = Decimal(-1)
    if not value.is_finite() or value < 0 or value > 100000:
        flash(_("Enter prices in yuan, e.g. 25 or 25.50."), "error")
        return None
    return int(value * 100)


def _filters(**fixed) -> services.Filters:
    within = request.args.get("within", type=int)
    sort = request.args.get("sort", "featured")
    return services.Filters(
        text=request.args.get("q", ""),
        min_price_fen=_yuan_to_fen("min"),
        max_price_fen=_yuan_to_fen("max"),
        certified_only=request.args.get("certified") == "1",
        within_hours=within if within in (2, 6) else None,
        near_location_id=services.serving_location_for_current_user(),
        sort=sort if sort in services.SORTS else "featured",
        page=min(max(1, request.args.get("page", 1, type=int)), 10_000),
        **fixed,
    )


def _listing(title: str, heading_icon: str = "", **fixed):
    filters = _filters(**fixed)
    return render_template(
        "catalog/list.html", title=title, icon=heading_icon, result=services.list_products(filters),
        filters=filters, sort_labels=SORT_LABELS, categories=services.categories(),
    )


@bp.get("/")
def home():
    return render_template(
        "catalog/home.html",
        categories=services.categories(),
        featured=services.featured_products(),
        cooperatives=services.featured_cooperatives(),
    )


@bp.get("/categories")
def categories():
    return render_template("catalog/categories.html", categories=services.categories())


@bp.get("/c/<slug>")
def category(slug: str):
    category = services.category_by_slug(slug)
    from ..i18n import localized

    return _listing(localized(category), category.icon, category_id=category.id)


@bp.get("/search")
def search():
    query = request.args.get("q", "").strip()
    title = _("Results for “%(q)s”", q=query[:50]) if query else _("All products")
    category_id = arg_id("category")
    return _listing(title, category_id=category_id)


@bp.get("/co/<int:cooperative_id>")
def cooperative(cooperative_id: int):
    coop = services.cooperative_for_sale(cooperative_id)
    filters = _filters(cooperative_id=coop.id)
    return render_template(
        "catalog/cooperative.html", coop=coop, result=services.list_products(filters), filters=filters,
        sort_labels=SORT_LABELS, categories=services.categories(),
    )


@bp.get("/v/<int:village_id>")
def village(village_id: int):
    village = services.village(village_id)
    from ..i18n import localized

    return _listing(f"{localized(village.town)} · {localized(village)}", "🏞️", village_id=village.id)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    product = services.product_for_sale(product_id)
    fastest, place = services.fastest_delivery(product)
    return render_template(
        "catalog/product.html", product=product, stock=services.stock_state(product.id),
        fastest=fastest, fastest_place=place,
    )


@dataclass(frozen=True)
class Picture:
    """What an <img> of a product needs: its address, its size in pixels, its alt text."""

    src: str
    width: int
    height: int
    alt: str
    placeholder: bool = False


def _scaled(photo, longest: int | None) -> tuple[int, int]:
    width, height = photo.width or 800, photo.height or 800
    if longest is None or max(width, height) <= longest:
        return width, height
    ratio = longest / max(width, height)
    return max(1, round(width * ratio)), max(1, round(height * ratio))


def _picture(product, photo, longest: int | None) -> Picture:
    width, height = _scaled(photo, longest)
    return Picture(url_for("catalog.product_photo", file_id=photo.file_id, w=longest), width, height,
                   localized(product))


@bp.app_template_global()
def product_pictures(product, longest: int | None = None) -> list[Picture]:
    """Every photo of ``product`` the shop shows (see services.shown_photos), as pictures at most
    ``longest`` pixels on their longest side (one of uploads.SIZES; None: as stored)."""
    return [_picture(product, photo, longest) for photo in services.shown_photos(product)]


@bp.app_template_global()
def product_picture(product, longest: int | None = 480) -> Picture:
    """The first photo of ``product``; without one, a drawn placeholder (never an emoji)."""
    pictures = product_pictures(product, longest)
    if pictures:
        return pictures[0]
    side = longest or 800
    return Picture(url_for("static", filename="img/no-photo.svg"), side, side, localized(product), placeholder=True)


#: a product photo's id never changes (a new picture gets a new id): browsers may keep it a year
PHOTO_MAX_AGE = 365 * 24 * 3600


@bp.get("/media/products/<file_id>.jpg")
def product_photo(file_id: str):
    """A product photo, while its product is on sale; ``?w=480`` or ``?w=160`` for a smaller copy."""
    size = request.args.get("w", type=int) if "w" in request.args else None
    if "w" in request.args and size is None:
        size = -1  # not a number: no such size
    path = services.photo_file(file_id, size)
    response = send_file(path, mimetype="image/jpeg", conditional=True, max_age=PHOTO_MAX_AGE)
    response.cache_control.public = True
    response.cache_control.immutable = True
    return response
