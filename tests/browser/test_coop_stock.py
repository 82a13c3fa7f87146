"""The cooperative head on a phone (390 px wide): records a batch, writes off damaged units with a
reason, finds both in the stock ledger; the product page then shows the batch for traceability.

Screenshots: coop-batch.png (the batch recorded and listed), coop-stock-adjust.png (the adjust
form filled in), coop-stock.png (the stock page after it), coop-ledger.png (the ledger),
product-traceability.png (the product page's traceability section)."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.models import Location, LocationKind, Product, ProductStatus, Role, Stock
from tests.browser.test_driver import phone_shot, sign_in
from tests.conftest import PASSWORD


def test_a_head_records_a_batch_adjusts_stock_and_sees_the_ledger(phone_page: Page, site: str, app: Flask,
                                                                   make_user, screenshots: Path):
    with app.app_context():
        site_row = db.session.scalar(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE)
                                     .order_by(Location.id).limit(1))
        product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == site_row.cooperative_id,
                                                             Product.status == ProductStatus.ACTIVE)
                                    .order_by(Product.sku).limit(1))
        coop_id, product_id, sku = site_row.cooperative_id, product.id, product.sku
    head = make_user(Role.COOP_HEAD, mobile="13700005555", cooperative_id=coop_id, name="李社长")
    page = phone_page
    sign_in(page, site, head.mobile, PASSWORD)

    page.goto(f"{site}/coop/batches")
    page.locator("select[name=product_id]").select_option(str(product_id))
    page.locator("input[name=quantity]").fill("40")
    page.locator("#new-batch button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text("40")
    code = page.locator(f"#product-{product_id} tbody tr").first.locator("td").first.inner_text()
    assert code.startswith(code.split("-")[0]) and len(code.split("-")) == 3
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone_shot(page, screenshots, "coop-batch.png")

    with app.app_context():
        stock = db.session.scalar(sa.select(Stock).where(Stock.product_id == product_id,
                                                         Stock.location_id == site_row.id))
        stock_id, on_hand = stock.id, stock.on_hand
    page.goto(f"{site}/coop/stock")
    line = page.locator(f"#stock-{stock_id}")
    line.locator("summary").first.click()
    line.locator("select[name=reason]").select_option("damage")
    line.locator("input[name=quantity]").fill("3")
    line.locator("input[name=note]").fill("运输压坏三袋")
    page.screenshot(path=str(screenshots / "coop-stock-adjust.png"))
    line.locator("form[action$='/adjust'] button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".flash")).to_contain_text(str(on_hand - 3))
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_shot(page, screenshots, "coop-stock.png")

    page.locator("a[href$='/coop/stock/ledger']").first.click()
    page.wait_for_load_state()
    rows = page.locator("table.ledger tbody tr")
    expect(rows.first).to_contain_text("运输压坏三袋")
    expect(rows.first).to_contain_text("李社长")
    expect(rows.nth(1)).to_contain_text(code)
    phone_shot(page, screenshots, "coop-ledger.png")

    page.goto(f"{site}/p/{product_id}")
    expect(page.locator("#traceability")).to_contain_text(code)
    page.locator("#traceability").scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "product-traceability.png"))
    assert sku
