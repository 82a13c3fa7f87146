"""The operator's cooperatives in a real Chromium: approve the pending cooperative (desktop), then
suspend one whose product a consumer has in the cart — the product leaves the storefront (phone
screenshots before and after) and the consumer's cart says so (phone). No CSP violation.

Screenshots (tests/browser/screenshots/): admin-cooperatives.png, admin-cooperative-approved.png,
coop-suspend-before-phone.png,
coop-suspend-before-search-phone.png, admin-cooperative-suspended.png, coop-suspend-after-phone.png,
cart-suspended-phone.png."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from marketplace.catalog import services as catalog
from marketplace.catalog.models import Product
from marketplace.coop.models import Cooperative, CooperativeStatus
from marketplace.extensions import db
from tests.browser.test_csp import sign_in, visit, watch_page

pytestmark = pytest.mark.browser

OPERATOR = "13957800099"
CONSUMER = "13957800001"


def test_approve_then_suspend_and_the_goods_vanish(page: Page, phone_page: Page, site: str, app, screenshots):
    watch = watch_page(page)
    phone_watch = watch_page(phone_page)
    with app.app_context():
        c01 = db.session.scalar(sa.select(Cooperative).where(Cooperative.code == "C01"))
        product = db.session.scalars(catalog.on_sale(for_display=False)
                                     .where(Product.cooperative_id == c01.id).order_by(Product.id)).first()
        c01_id, c12_id = c01.id, db.session.scalar(sa.select(Cooperative.id).where(Cooperative.code == "C12"))
        product_id, product_name = product.id, product.name_zh
        db.session.remove()

    # the operator approves the pending cooperative (it is listed first)
    sign_in(page, site, OPERATOR)
    visit(page, f"{site}/admin/cooperatives")
    first = page.locator("li.admin-coop").first
    expect(first).to_have_attribute("data-code", "C12")
    page.screenshot(path=str(screenshots / "admin-cooperatives.png"), full_page=True)
    first.locator("a").first.click()
    page.wait_for_load_state()
    page.locator("#approve textarea[name=reason]").fill("营业执照与现场核验一致")
    page.locator("#approve button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#coop-status")).to_have_text("已批准")
    expect(page.locator(".flash").first).to_contain_text("已批准")
    page.screenshot(path=str(screenshots / "admin-cooperative-approved.png"), full_page=True)
    with app.app_context():
        assert db.session.get(Cooperative, c12_id).status == CooperativeStatus.APPROVED
        db.session.remove()

    # a consumer puts C01's product in the cart; the storefront shows it
    sign_in(phone_page, site, CONSUMER)
    visit(phone_page, f"{site}/p/{product_id}")
    phone_page.locator("form.buy-form button[type=submit]").click()
    phone_page.wait_for_load_state()
    visit(phone_page, f"{site}/co/{c01_id}")
    expect(phone_page.locator(f"a[href$='/p/{product_id}']").first).to_be_visible()
    phone_page.screenshot(path=str(screenshots / "coop-suspend-before-phone.png"), full_page=True)
    visit(phone_page, f"{site}/search?q={product_name}")
    expect(phone_page.locator(f"a[href$='/p/{product_id}']").first).to_be_visible()
    phone_page.screenshot(path=str(screenshots / "coop-suspend-before-search-phone.png"), full_page=True)

    # the operator suspends C01
    visit(page, f"{site}/admin/cooperatives/{c01_id}")
    page.locator("#suspend textarea[name=reason]").fill("抽检发现竹炭包受潮霉变，暂停销售待复检")
    page.locator("#suspend button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#coop-status")).to_have_text("已暂停")
    page.screenshot(path=str(screenshots / "admin-cooperative-suspended.png"), full_page=True)

    # its goods are gone from the storefront
    visit(phone_page, f"{site}/p/{product_id}", status=404)
    visit(phone_page, f"{site}/co/{c01_id}", status=404)
    visit(phone_page, f"{site}/search?q={product_name}")
    expect(phone_page.locator(f"a[href$='/p/{product_id}']")).to_have_count(0)
    phone_page.screenshot(path=str(screenshots / "coop-suspend-after-phone.png"), full_page=True)

    # and the consumer's cart says so, leaves it out and offers no checkout
    visit(phone_page, f"{site}/cart/")
    line = phone_page.locator(f".cart-line.not-selling[data-product='{product_id}']")
    expect(line).to_contain_text("该合作社暂停销售")
    expect(phone_page.locator(".not-selling-notice")).to_be_visible()
    expect(phone_page.locator("a[href$='/checkout/']")).to_have_count(0)
    phone_page.screenshot(path=str(screenshots / "cart-suspended-phone.png"), full_page=True)

    assert watch.violations == [] and phone_watch.violations == []
    # (the 404 pages are answered on purpose; Chromium logs any 4xx document)
    assert [e for e in phone_watch.console_errors() if "status of 404" not in e[1]] == []
    assert watch.console_errors() == []
