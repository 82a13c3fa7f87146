"""A cooperative head lists a product with a photo on a phone; the operator approves it at a desk;
it appears in the storefront with its photo.

Screenshots: listing-new.png (the head's form filled in, phone), listing-edit.png (the listing
after submitting: waiting for approval, its photo), listing-list.png (the head's listings),
listing-queue.png (the operator's review queue), listing-review.png (the revision page with the
proposed values and the photo), listing-shop.png (the product page in the storefront)."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from PIL import Image, ImageDraw
from playwright.sync_api import Browser, Page, expect

from marketplace.extensions import db
from marketplace.models import Category, Product, ProductStatus, Role
from tests.browser.test_driver import phone_shot, sign_in
from tests.conftest import PASSWORD


@pytest.fixture
def uploads(app: Flask, tmp_path: Path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


def shoots_picture(path: Path) -> Path:
    """Dried bamboo shoots in a basket, drawn."""
    image = Image.new("RGB", (1200, 900), (236, 226, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse((140, 420, 1060, 860), fill=(150, 105, 55), outline=(110, 75, 35), width=10)  # basket
    for i, x in enumerate(range(260, 940, 85)):
        top = 170 + (i % 3) * 40
        draw.polygon([(x, 640), (x + 70, 640), (x + 35, top)], fill=(196, 160, 90), outline=(140, 105, 50))
        for y in range(top + 60, 640, 55):
            draw.line((x + 10, y, x + 60, y - 12), fill=(150, 115, 60), width=4)
    draw.ellipse((140, 560, 1060, 860), outline=(110, 75, 35), width=10)
    image.save(path, "JPEG", quality=90)
    return path


def test_a_head_lists_a_product_the_operator_approves_it_and_it_is_sold_with_its_photo(
        phone_page: Page, browser: Browser, browser_context_args: dict, site: str, app: Flask, make_user,
        uploads: Path, tmp_path: Path, screenshots: Path):
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.status == ProductStatus.ACTIVE)
                                    .order_by(Product.id).limit(1))
        coop_id, price = product.cooperative_id, product.price_fen
        category_id = db.session.scalar(sa.select(Category.id).where(Category.slug == "dried-goods")) or product.category_id
    head = make_user(Role.COOP_HEAD, mobile="13700006666", cooperative_id=coop_id, name="周社长")
    operator = make_user(Role.OPERATOR, mobile="13700007777", name="审核员")

    page = phone_page
    sign_in(page, site, head.mobile, PASSWORD)
    page.goto(f"{site}/coop/listings")
    page.locator("a[href$='/coop/listings/new']").first.click()
    page.wait_for_load_state()
    page.locator("select[name=category_id]").select_option(str(category_id))
    page.locator("input[name=name_zh]").fill("高山冬笋干")
    page.locator("input[name=name_en]").fill("Highland winter bamboo shoots")
    page.locator("input[name=price]").fill(f"{price // 100}.{price % 100:02d}")
    page.locator("input[name=unit_zh]").fill("袋(250克)")
    page.locator("input[name=unit_en]").fill("bag (250 g)")
    page.locator("textarea[name=description_zh]").fill("海拔八百米竹林的冬笋，手工切片，炭火烘干。")
    page.locator("textarea[name=description_en]").fill("Winter shoots from groves at 800 m, hand-sliced, dried over charcoal.")
    page.locator("input[name=weight_g]").fill("300")
    page.locator("input[name=volume_cm3]").fill("1500")
    page.locator("input[name=shelf_life_days]").fill("365")
    page.locator("input[name=handling_flags][value=keep_dry]").check()
    page.locator("input[name=photos]").set_input_files(str(shoots_picture(tmp_path / "shoots.jpg")))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone_shot(page, screenshots, "listing-new.png")
    page.locator(".listing-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text("运营人员审核")
    expect(page.locator(".photo-grid img")).to_have_count(1)
    assert page.evaluate("document.querySelector('.photo-grid img').naturalWidth") > 0  # the private thumbnail loads
    phone_shot(page, screenshots, "listing-edit.png")
    product_id = int(page.url.rstrip("/").split("/")[-2])
    page.goto(f"{site}/coop/listings")
    expect(page.locator(".listing-card").first).to_contain_text("高山冬笋干")
    expect(page.locator(".listing-card").first).to_contain_text("待")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_shot(page, screenshots, "listing-list.png")
    assert page.context.new_page().goto(f"{site}/p/{product_id}").status == 404  # not sold yet

    desk = browser.new_context(**browser_context_args)
    try:
        admin = desk.new_page()
        sign_in(admin, site, operator.mobile, PASSWORD)
        admin.goto(f"{site}/admin/listings")
        row = admin.locator("table.review-queue tbody tr", has_text="高山冬笋干")
        expect(row).to_have_count(1)
        admin.screenshot(path=str(screenshots / "listing-queue.png"), full_page=True)
        row.locator("a").first.click()
        admin.wait_for_load_state()
        expect(admin.locator("table.listing-diff")).to_contain_text("Highland winter bamboo shoots")
        assert admin.evaluate("document.querySelector('.photo-grid img').naturalWidth") > 0
        admin.locator("#reason").fill("照片与描述一致，无认证要求。")
        admin.evaluate("window.scrollTo(0, 0)")  # the sticky bar at the top of the full-page shot
        admin.screenshot(path=str(screenshots / "listing-review.png"), full_page=True)
        admin.locator("button[name=decision][value=approve]").click()
        admin.wait_for_load_state()
        expect(admin.locator(".flash")).to_contain_text("已批准")

        shop = desk.new_page()
        shop.goto(f"{site}/p/{product_id}")
        expect(shop.locator("h1")).to_contain_text("高山冬笋干")
        photo = shop.locator("img[src*='/media/products/']").first
        expect(photo).to_be_visible()
        assert shop.evaluate("(img) => img.naturalWidth", photo.element_handle()) > 0
        shop.screenshot(path=str(screenshots / "listing-shop.png"), full_page=True)
    finally:
        desk.close()
    with app.app_context():
        assert db.session.get(Product, product_id).status == ProductStatus.ACTIVE
