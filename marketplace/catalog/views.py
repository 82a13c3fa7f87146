"""The storefront catalog: home, categories, search and product pages (public)."""

from __future__ import annotations

from flask import Blueprint, render_template, request

from . import services

bp = Blueprint("catalog", __name__, template_folder="templates")


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
    page = services.list_products(category_id=category.id, page=request.args.get("page", 1, type=int))
    return render_template("catalog/list.html", category=category, result=page, query="")


@bp.get("/search")
def search():
    query = request.args.get("q", "")
    page = services.list_products(text=query, page=request.args.get("page", 1, type=int))
    return render_template("catalog/list.html", category=None, result=page, query=query)


@bp.get("/p/<int:product_id>")
def product(product_id: int):
    product = services.product_for_sale(product_id)
    return render_template(
        "catalog/product.html", product=product, stock=services.stock_state(product.id)
    )


@bp.app_context_processor
def _catalog_names() -> dict:
    from flask_babel import lazy_gettext as _l

    return {
        "cert_names": {
            "none": _l("None"),
            "green_food": _l("Green Food"),
            "organic": _l("Organic"),
            "geo_indication": _l("Geographical Indication"),
            "sc_licence": _l("SC food production licence"),
        }
    }
