"""The storefront through a real browser: a new shopper finds dried bamboo shoots, fills the cart,
adds an address, picks a guaranteed delivery window, pays on the sandbox provider's page and sees
the confirmed order; and the same purchase on a phone with cash on delivery.

Screenshots of every step go to tests/browser/screenshots/ (store-*.png, phone-*.png).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Order, User

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
from tests.browser.accounts import register  # noqa: E402
from tests.browser.conftest import PHONE  # noqa: E402

# A shopper from the seeded order history: has a default address (the demo login 13957800001 has
# none, so it would be sent to the address form first).
REGULAR_CONSUMER = "13657800000"
DEMO_PASSWORD = "shanhuo123"
CLOCK = re.compile(r"\b\d{2}:\d{2}\b")
YUAN = re.compile(r"¥\s?\d")


def shot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / name), full_page=True)


def phone_shot(page: Page, directory: Path, name: str) -> None:
    """The whole page as a phone shows it: a full-page capture paints the sticky header and the
    fixed tab bar where the viewport happened to be, so grow the viewport to the page instead."""
    viewport = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": height})
    try:
        page.screenshot(path=str(directory / name))
    finally:
        page.set_viewport_size(viewport)


def sign_in(page: Page, site: str, mobile: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.locator("input[name=mobile]").fill(mobile)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()


def search_from_home(page: Page, site: str, word: str) -> None:
    page.goto(site + "/")
    box = page.locator("header form.search")
    box.locator("input[name=q]").fill(word)
    box.locator("button", has_text="搜索").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/search\?"))
    expect(page.locator(".product-card").first).to_be_visible()


def open_first_result(page: Page, word: str) -> str:
    """Open the first search result and check the buyer's facts; returns the product's name."""
    first = page.locator(".product-card").first
    title = first.locator(".title").inner_text().strip()
    assert word in title, f"first result for {word!r} is {title!r}"
    first.click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/p/\d+$"))
    expect(page.locator("main h1")).to_have_text(title)
    expect(page.locator(".product-detail .price")).to_contain_text("¥")
    facts = page.locator("dl.facts")
    for label in ("合作社", "产地", "认证", "当前批次"):
        expect(facts.locator("dt", has_text=label)).to_be_visible()
    fastest = page.locator("p.fastest")
    expect(fastest).to_contain_text("🚚")
    expect(fastest).to_contain_text("送至")
    return title


def add_to_cart(page: Page, quantity: int) -> None:
    page.locator("input#quantity").fill(str(quantity))
    page.locator("form.buy-form button", has_text="加入购物车").click()
    page.wait_for_load_state()


def fen(text: str) -> int:
    """¥96.00 → 9600; 免费 → 0."""
    match = re.search(r"¥\s?([\d,]+)\.(\d{2})", text)
    if match is None:
        assert "免费" in text, text
        return 0
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def assert_same_clock(shown: str, quoted: str) -> None:
    """The order's deadline is counted from the moment it was placed, a little after the quote."""
    match = CLOCK.search(shown)
    assert match, f"no clock time in {shown!r}"
    h1, m1 = map(int, match.group(0).split(":"))
    h2, m2 = map(int, quoted.split(":"))
    assert (h1 * 60 + m1 - h2 * 60 - m2) % 1440 <= 2, (
        f"deadline {shown!r}, checkout promised {quoted}"
    )


def choose_first_enabled_window(page: Page) -> tuple[str, str, int]:
    """Pick the first window that can be kept; returns its code, its deadline clock and its fee."""
    options = page.locator("label.window-option[data-window]")
    expect(options.first).to_be_visible()
    codes = options.evaluate_all("els => els.map(e => e.dataset.window)")
    assert set(codes) <= {"2h", "6h", "12h", "18h"} and codes, codes
    enabled = page.locator("label.window-option[data-window]:not(.disabled)")
    assert enabled.count() >= 1, (
        "no delivery window offered: " + page.locator(".windows-list").inner_text()
    )
    for i in range(enabled.count()):
        expect(enabled.nth(i)).to_contain_text("前送达")
        assert YUAN.search(enabled.nth(i).inner_text()) or "免" in enabled.nth(i).inner_text()
    # A window that cannot be kept says why, in Chinese.
    for i in range(page.locator("label.window-option.disabled").count()):
        reason = page.locator("label.window-option.disabled").nth(i).locator(".field-error")
        assert CJK.search(reason.inner_text()), reason.inner_text()
    first = enabled.first
    code = first.get_attribute("data-window")
    deadline = CLOCK.search(first.locator(".w-deadline").inner_text())
    assert deadline, first.inner_text()
    fee = fen(first.locator(".price").inner_text())
    first.click()
    expect(first.locator("input[name=window]")).to_be_checked()
    return code, deadline.group(0), fee


def test_new_consumer_buys_bamboo_shoots_with_a_guaranteed_window(
    page: Page, site: str, app: Flask, screenshots: Path
) -> None:
    register(page, site, app, "13811223344", "Shan2026huo", "陈山")

    # 1. Search from the box on the home page.
    search_from_home(page, site, "笋干")
    for title in page.locator(".product-card .title").all_inner_texts():
        assert CJK.search(title), title
    shot(page, screenshots, "store-01-search.png")

    # 2. The first result: price, origin, certification, batch, fastest delivery.
    title = open_first_result(page, "笋干")
    shot(page, screenshots, "store-02-product.png")

    # 3. Two into the cart, then the cart.
    add_to_cart(page, 2)
    page.goto(site + "/cart/")
    line = page.locator(".cart-line", has_text=title)
    expect(line).to_have_count(1)
    expect(line.locator("input.qty")).to_have_value("2")
    shot(page, screenshots, "store-03-cart.png")

    # 4. Checkout asks for an address first.
    page.locator("a.btn", has_text="去结算").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/addresses/new\?next=(/|%2F)checkout(/|%2F)"))
    town = page.locator("select#town_id")
    # The first town in the list (after the "choose a town" prompt) is the county seat.
    expect(town.locator("option").nth(1)).to_have_text("妙高街道")
    town.select_option(label="妙高街道")
    village = page.locator("select#village_id")
    expect(village.locator("option")).not_to_have_count(1)  # filled by address.js
    village_name = village.locator("option").nth(1).inner_text().strip()
    assert CJK.search(village_name), village_name
    village.select_option(index=1)
    page.locator("input#detail").fill("解放街 18 号 3 单元")
    page.locator("input#recipient_name").fill("陈山")
    page.locator("input#recipient_mobile").fill("13811223344")
    page.locator("input[name=make_default]").check()
    shot(page, screenshots, "store-04-address.png")
    page.locator("form button[type=submit]", has_text="保存地址").click()
    page.wait_for_load_state()

    # 5. Back at checkout: the windows the route plan can keep.
    expect(page).to_have_url(re.compile(r"/checkout/$"))
    expect(page.locator("main")).to_contain_text("妙高街道")
    expect(page.locator("main")).to_contain_text(village_name)
    window, deadline_clock, fee = choose_first_enabled_window(page)
    subtotal = fen(page.locator(".cart-total .section-head", has_text="小计").inner_text())
    online = page.locator("input[name=payment_method][value=online]")
    expect(online).to_be_checked()
    expect(page.locator("label.window-option:has(input[value=online])")).to_contain_text("在线支付")
    expect(page.locator(".cart-total")).to_contain_text(f"{title} × 2")
    shot(page, screenshots, "store-05-checkout.png")

    # 6. Place the order: off to the payment provider's page.
    page.locator("button[type=submit]", has_text="提交订单").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/pay/sandbox/[^/]+$"))
    card = page.locator("section[data-payment]")
    expect(card).to_contain_text("沙箱支付")
    amount = card.locator("p.price").inner_text().strip()
    assert fen(amount) == subtotal + fee, (amount, subtotal, fee)
    pay = card.locator("button[value=pay]")
    expect(pay).to_have_text(re.compile(r"^支付 ¥"))
    assert amount in pay.inner_text(), (amount, pay.inner_text())
    shot(page, screenshots, "store-06-pay.png")

    # 7. Pay: the provider calls back server to server, the shopper lands on the result page.
    pay.click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/pay/return/[^/]+$"))
    # "waiting" refreshes itself every few seconds until the signed callback arrives.
    result = page.locator("[data-payment-state]")
    expect(result).to_have_attribute("data-payment-state", "confirmed", timeout=20_000)
    expect(page.locator("main h1")).to_have_text("支付成功")
    expect(result).to_contain_text(amount)
    shot(page, screenshots, "store-07-paid.png")

    # 8. The order: confirmed, with its guaranteed deadline and a timeline.
    page.locator("a.btn", has_text="查看订单").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/orders/[^/]+$"))
    facts = page.locator("dl.facts")
    status = facts.locator("dt:has-text('状态') + dd")
    expect(status).to_have_text("已确认")
    deadline = facts.locator("dt:has-text('最晚送达') + dd")
    expect(deadline).to_have_text(CLOCK)
    assert_same_clock(deadline.inner_text(), deadline_clock)
    expect(facts).to_contain_text(amount)
    expect(page.locator("table.data")).to_contain_text(title)
    expect(page.locator("ul.timeline li")).not_to_have_count(0)
    for kind in page.locator("ul.timeline li strong").all_inner_texts():
        assert CJK.search(kind), f"timeline shows a raw event code: {kind!r}"
    shot(page, screenshots, "store-08-order.png")

    # The database agrees with the page: one confirmed online order with the chosen window.
    with app.app_context():
        try:
            orders = db.session.scalars(
                select(Order)
                .join(User, Order.user_id == User.id)
                .where(User.mobile == "13811223344")
            ).all()
            assert [
                (o.status.value, o.payment_method.value, o.window_class.code) for o in orders
            ] == [("confirmed", "online", window)]
            assert orders[0].number in page.url
        finally:
            db.session.remove()


def test_phone_checkout(phone_page: Page, site: str, screenshots: Path) -> None:
    page = phone_page
    # A returning shopper with an address: checkout goes straight to the windows.
    sign_in(page, site, REGULAR_CONSUMER, DEMO_PASSWORD)
    search_from_home(page, site, "笋干")
    title = open_first_result(page, "笋干")
    add_to_cart(page, 1)
    page.goto(site + "/cart/")
    expect(page.locator(".cart-line", has_text=title)).to_have_count(1)
    page.locator("a.btn", has_text="去结算").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/checkout/$"))

    _, deadline_clock, _ = choose_first_enabled_window(page)
    page.locator("label.window-option:has(input[value=cod])").click()
    expect(page.locator("input[name=payment_method][value=cod]")).to_be_checked()
    expect(page.locator("label.window-option:has(input[value=cod])")).to_contain_text(
        "货到付款"
    )
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"checkout is {width}px wide on a 390px phone"
    phone_shot(page, screenshots, "phone-checkout.png")

    page.locator("button[type=submit]", has_text="提交订单").click()
    page.wait_for_load_state()
    # Cash on delivery: no payment page, straight to the order.
    expect(page).to_have_url(re.compile(r"/orders/[^/]+$"))
    facts = page.locator("dl.facts")
    expect(facts.locator("dt:has-text('状态') + dd")).to_have_text("已确认")
    deadline = facts.locator("dt:has-text('最晚送达') + dd")
    expect(deadline).to_have_text(CLOCK)
    assert_same_clock(deadline.inner_text(), deadline_clock)
    expect(page.locator("table.data")).to_contain_text(title)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"order page is {width}px wide on a 390px phone"
    phone_shot(page, screenshots, "phone-order.png")
