"""The storefront's product photos on a phone: the home page, a category and a product page show
the drawn demo photos (seed/illustrations.py, stored by seed_photos) where the category emoji
used to be; the product page's photo strip swipes and its thumbnails choose a photo.

Screenshots: tests/browser/screenshots/photos-*.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.models import Category, Product

pytestmark = pytest.mark.browser


@pytest.fixture
def photo_site(app: Flask, site: str, tmp_path: Path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    from seed import load

    with app.app_context():
        load.seed_photos()
        db.session.commit()
        db.session.remove()
    try:
        yield site
    finally:
        app.config["UPLOAD_DIR"] = before


def phone_shot(page: Page, directory: Path, name: str) -> None:
    viewport = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    height = min(page.evaluate("document.documentElement.scrollHeight"), 3000)
    page.set_viewport_size({"width": viewport["width"], "height": height})
    try:
        page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
        page.screenshot(path=str(directory / name))
    finally:
        page.set_viewport_size(viewport)


def _all_images_loaded(page: Page) -> None:
    """Every <img> in view loaded and drew something (a broken one has naturalWidth 0)."""
    page.evaluate("window.scrollTo(0, document.documentElement.scrollHeight)")
    page.wait_for_function("() => Array.from(document.images).every(i => i.complete)")
    broken = page.evaluate("Array.from(document.images).filter(i => i.naturalWidth === 0).map(i => i.src)")
    assert broken == []


def test_home_category_and_product_page_show_drawn_photos_on_a_phone(app, photo_site, phone_page: Page, screenshots):
    page = phone_page
    with app.app_context():
        icons = [c.icon for c in db.session.scalars(sa.select(Category)) if c.icon]
        product = db.session.scalar(sa.select(Product).where(Product.sku == "SC-DG-012"))
        product_id, name = product.id, product.name_zh

    page.goto(photo_site + "/")
    cards = page.locator(".product-grid .product-card img")
    expect(cards.first).to_be_visible()
    assert cards.count() >= 4
    for i in range(cards.count()):
        src = cards.nth(i).get_attribute("src")
        assert src.startswith("/media/products/") and src.endswith("?w=480"), src
    grid_text = page.locator(".product-grid").inner_text()
    assert not any(icon in grid_text for icon in icons)
    _all_images_loaded(page)
    phone_shot(page, screenshots, "photos-home-phone.png")

    page.goto(photo_site + "/c/dried-goods")
    expect(page.locator(".product-grid .product-card img").first).to_be_visible()
    width = page.locator(".product-grid .product-card img").first.bounding_box()["width"]
    assert 150 < width < 200  # two columns on a 390-pixel phone
    _all_images_loaded(page)
    phone_shot(page, screenshots, "photos-category-phone.png")

    page.goto(f"{photo_site}/p/{product_id}")
    slides = page.locator(".gallery-strip img")
    expect(slides).to_have_count(2)
    expect(slides.first).to_have_attribute("alt", f"{name} (1/2)")
    box = slides.first.bounding_box()
    assert box["width"] > 340 and abs(box["width"] - box["height"]) < 2  # full width, square
    thumbs = page.locator(".gallery-thumbs a")
    expect(thumbs).to_have_count(2)
    expect(thumbs.first).to_have_attribute("aria-current", "true")
    _all_images_loaded(page)
    page.evaluate("window.scrollTo(0, 0)")
    phone_shot(page, screenshots, "photos-product-phone.png")

    # the second thumbnail brings the second photo into the strip without moving the page
    thumbs.nth(1).click()
    page.wait_for_function("() => document.querySelector('.gallery-strip').scrollLeft > 300")
    expect(thumbs.nth(1)).to_have_attribute("aria-current", "true")
    assert page.evaluate("window.scrollY") < 50
    page.screenshot(path=str(screenshots / "photos-product-second-phone.png"))
