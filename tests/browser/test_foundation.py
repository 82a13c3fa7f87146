"""The foundation through a real browser: sign-up, sign-in, language switch, phone layout, the
registration errors, and where each staff role lands. Screenshots go to tests/browser/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import func, select

from marketplace.extensions import db
from marketplace.models import User
from tests.browser.accounts import fill_registration

pytestmark = pytest.mark.browser

CJK = re.compile(r"[\u4e00-\u9fff]")
DEMO_PASSWORD = "shanhuo123"
DEMO_CONSUMER = "13957800001"


def shot(page: Page, directory: Path, name: str) -> None:
    page.screenshot(path=str(directory / name), full_page=True)


def assert_speaks_chinese(page: Page) -> None:
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    # Interface strings from the zh_CN catalog, not only the seeded data.
    for selector in ("header .brand-name", "header .usernav", "nav.areanav", "footer"):
        text = page.locator(selector).first.inner_text()
        assert CJK.search(text), f"{selector} shows no Chinese on {page.url}: {text!r}"


def sign_in(page: Page, site: str, mobile: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.locator("input[name=mobile]").fill(mobile)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()
    expect(page.locator("header a[href$='/login']")).to_be_visible()


def user_count(app: Flask, mobile: str) -> int:
    with app.app_context():
        try:
            return db.session.scalar(
                select(func.count()).select_from(User).where(User.mobile == mobile)
            )
        finally:
            db.session.remove()


def test_register_sign_in_switch_language_with_screenshots(
    page: Page, site: str, app: Flask, screenshots: Path
) -> None:
    page.goto(site + "/")
    assert_speaks_chinese(page)
    expect(page.locator(".cat-grid")).to_contain_text("竹炭制品")
    expect(page.locator(".product-card").first).to_be_visible()
    shot(page, screenshots, "home-zh.png")

    # Register through the header link and the form.
    page.locator("header a[href$='/register']").click()
    expect(page).to_have_url(re.compile(r"/register$"))
    fill_registration(page, app, "13812345678", "Shan2026huo", "林小梅")
    shot(page, screenshots, "register-code-zh.png")
    page.locator("form:has(input[name=confirm]) button[type=submit]").click()
    page.wait_for_load_state()

    # Signed in: the header names the account and offers sign-out; a welcome shows in Chinese.
    expect(page.locator("header a.who")).to_have_text("林小梅")
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()
    welcome = page.locator(".flash-success")
    expect(welcome).to_be_visible()
    assert CJK.search(welcome.inner_text()), welcome.inner_text()
    assert user_count(app, "13812345678") == 1
    page.locator("header a.who").click()
    expect(page).to_have_url(re.compile(r"/account$"))
    expect(page.locator("main")).to_contain_text("13812345678")

    sign_out(page)
    expect(page.locator("header a.who")).to_have_count(0)

    sign_in(page, site, "13812345678", "Shan2026huo")
    expect(page).to_have_url(site + "/")
    expect(page.locator("header a.who")).to_have_text("林小梅")

    # Switch to English with the header switch (a form for a signed-in user: kept on the account).
    page.locator("header .lang-switch .lang:not(.current)", has_text="English").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("header .brand-name")).to_have_text("Shanhuo")
    expect(page.locator(".cat-grid")).to_contain_text("Bamboo charcoal goods")
    expect(page.locator(".cat-grid")).not_to_contain_text("竹炭制品")
    expect(page.locator("header .lang-switch .current")).to_have_text("English")
    shot(page, screenshots, "home-en.png")

    # The choice sticks across pages.
    page.goto(site + "/orders/")
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # And back to Chinese.
    page.locator("header .lang-switch .lang:not(.current)", has_text="简体中文").click()
    page.wait_for_load_state()
    assert_speaks_chinese(page)
    page.goto(site + "/")
    expect(page.locator(".cat-grid")).to_contain_text("竹炭制品")
    expect(page.locator(".cat-grid")).not_to_contain_text("Bamboo charcoal goods")


def test_phone_viewport_home(phone_page: Page, site: str, screenshots: Path) -> None:
    page = phone_page
    page.goto(site + "/")
    assert_speaks_chinese(page)
    expect(page.locator(".cat-grid")).to_contain_text("竹炭制品")

    tabbar = page.locator("nav.tabbar")
    expect(tabbar).to_be_visible()
    expect(tabbar.locator("a")).to_have_count(4)
    box = tabbar.bounding_box()
    assert box is not None and abs(box["y"] + box["height"] - 844) <= 1, box
    assert CJK.search(tabbar.inner_text()), tabbar.inner_text()

    # Nothing pushes the page sideways on a phone.
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"page is {scroll_width}px wide on a 390px phone"
    # The first screen as the shopper sees it (a full-page capture paints the fixed tab bar
    # mid-page), then the whole page.
    page.screenshot(path=str(screenshots / "home-phone-zh.png"))
    shot(page, screenshots, "home-phone-zh-full.png")


def test_bad_registration_shows_message_in_page_language(
    page: Page, site: str, app: Flask, screenshots: Path
) -> None:
    assert user_count(app, DEMO_CONSUMER) == 1
    page.goto(site + "/register")

    def submit(mobile: str) -> None:
        fill_registration(page, app, mobile, "Shan2026huo")
        page.locator("form:has(input[name=confirm]) button[type=submit]").click()
        page.wait_for_load_state()

    # A number that is already registered: its phone gets a reminder, not a code, so the
    # code is wrong, and the page says no more than that.
    submit(DEMO_CONSUMER)
    expect(page).to_have_url(re.compile(r"/register"))
    error = page.locator(".field.has-error .field-error")
    expect(error).to_have_count(1)
    expect(page.locator(".field.has-error input[name=code]")).to_be_visible()
    assert CJK.search(error.inner_text()), f"error not in Chinese: {error.inner_text()!r}"
    expect(page.locator("header a.who")).to_have_count(0)
    assert user_count(app, DEMO_CONSUMER) == 1

    # A malformed number.
    page.goto(site + "/register")
    page.locator("input[name='send-mobile']").fill("12345")
    page.locator("form.code-step button[type=submit]").click()
    page.wait_for_load_state()
    flash = page.locator(".flash-error")
    expect(flash).to_have_count(1)
    assert CJK.search(flash.inner_text()), f"error not in Chinese: {flash.inner_text()!r}"
    assert_speaks_chinese(page)
    shot(page, screenshots, "register-error-zh.png")
    assert user_count(app, "12345") == 0

    # The same mistake in English gets the English message.
    page.locator("header .lang-switch .lang:not(.current)", has_text="English").click()
    page.wait_for_load_state()
    page.locator("input[name='send-mobile']").fill("12345")
    page.locator("form.code-step button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator(".flash-error")).to_contain_text("11-digit")


AREAS = [
    # mobile, landing path, area-nav paths, screenshot
    ("13757801236", "/coop/", ["/coop/", "/"], "coop-zh.png"),
    ("13957800010", "/dispatch/", ["/dispatch/", "/"], "dispatch-zh.png"),
    ("13957800020", "/complaints/", ["/complaints/", "/"], "complaints-zh.png"),
    (
        "13957800099",
        "/admin/",
        ["/admin/", "/dispatch/", "/complaints/", "/reports/", "/"],
        "admin-zh.png",
    ),
]


def test_each_role_lands_on_its_area(page: Page, site: str, screenshots: Path) -> None:
    for mobile, landing, nav_paths, screenshot in AREAS:
        sign_in(page, site, mobile, DEMO_PASSWORD)
        expect(page).to_have_url(site + landing)
        assert_speaks_chinese(page)

        nav = page.locator("nav.areanav a")
        hrefs = [
            href.removeprefix(site) for href in nav.evaluate_all("links => links.map(a => a.href)")
        ]
        assert hrefs == nav_paths, (mobile, hrefs)
        expect(page.locator("nav.areanav a.active")).to_have_attribute("href", landing)
        for label in nav.all_inner_texts():
            assert CJK.search(label), f"area link {label!r} is not in Chinese"
        # Staff see no shopping chrome.
        expect(page.locator("header form.search")).to_have_count(0)
        expect(page.locator("nav.tabbar")).to_have_count(0)
        expect(page.locator("main h1")).to_be_visible()

        if screenshot:
            shot(page, screenshots, screenshot)
        sign_out(page)


def test_area_nav_highlights_only_the_current_page(page: Page, live_server: str) -> None:
    # No seeding needed: an empty shop still has its navigation.
    for path in ("/", "/categories"):
        page.goto(live_server + path)
        active = page.locator("nav.areanav a.active")
        expect(active).to_have_count(1)
        expect(active).to_have_attribute("href", path)


RAW_CODE = re.compile(r"^[a-z]+(?:_[a-z]+)*$")


def test_staff_tables_show_labels_not_codes_in_chinese(page: Page, site: str) -> None:
    for mobile, path, table in (("13757801236", "/coop/", "/coop/batches"),
                                ("13957800020", "/complaints/", "/complaints/")):
        sign_in(page, site, mobile, DEMO_PASSWORD)
        expect(page).to_have_url(site + path)
        page.goto(site + table)
        cells = page.locator("main table.data td").all_inner_texts()
        assert cells, f"no table on {table}"
        codes = sorted({text.strip() for text in cells if RAW_CODE.match(text.strip())})
        assert not codes, f"untranslated codes on {table}: {codes}"
        sign_out(page)
