"""The Content-Security-Policy in a real Chromium: the consumer's journey and the staff areas run
with no CSP violation (``securitypolicyviolation`` events and console messages are watched), and
every behaviour that moved out of the templates into static/js still works: the checkout's address
switch (data-navigate), the fee and total that follow the chosen window (checkout.js), the cancel
confirmation (data-confirm), the villages of a town (address.js). Without JavaScript the pages
still place and cancel orders as before.

Screenshots: tests/browser/screenshots/csp-*.png.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import BrowserContext, ConsoleMessage, Page, Response, expect
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import Order

pytestmark = pytest.mark.browser

DEMO_PASSWORD = "shanhuo123"
REGULAR_CONSUMER = "13657800000"  # has a default address and an order history
OPERATOR = "13957800099"
COOP_HEAD = "13757801236"

# Reports every violation of the page's policy to Python (an init script is not itself subject
# to the page's CSP; the exposed function survives navigations).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolation({directive: e.effectiveDirective, blocked: e.blockedURI,
                         source: e.sourceFile, line: e.lineNumber, sample: e.sample,
                         page: location.href});
}, true);
"""


@dataclass
class Watch:
    """What the browser said while a test ran."""

    violations: list[dict] = field(default_factory=list)
    console: list[tuple[str, str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    documents: list[tuple[str, int, str | None]] = field(default_factory=list)
    missing_on_purpose: set[str] = field(default_factory=set)  # pages visited for their 404

    def console_errors(self) -> list[tuple[str, str, str]]:
        return [m for m in self.console if m[0] in ("error", "warning") and not (
            m[2] in self.missing_on_purpose and "status of 404" in m[1])]

    def assert_clean(self) -> None:
        assert self.violations == [], f"CSP violations: {self.violations}"
        assert self.console_errors() == [], f"console errors/warnings: {self.console_errors()}"
        assert self.errors == [], f"page errors: {self.errors}"
        assert self.documents, "no page was loaded"
        for url, status, csp in self.documents:
            assert csp and "script-src 'self'" in csp and "style-src 'self'" in csp, (url, status, csp)
            assert "unsafe-inline" not in csp, (url, csp)


def watch_page(page: Page) -> Watch:
    watch = Watch()
    page.expose_function("__cspViolation", lambda violation: watch.violations.append(violation))
    page.add_init_script(REPORT_VIOLATIONS)

    def on_console(message: ConsoleMessage) -> None:
        watch.console.append((message.type, message.text, page.url))

    def on_response(response: Response) -> None:
        if response.request.resource_type == "document" and response.request.frame == page.main_frame:
            watch.documents.append((response.url, response.status, response.headers.get("content-security-policy")))

    page.on("console", on_console)
    page.on("pageerror", lambda error: watch.errors.append(str(error)))
    page.on("response", on_response)
    return watch


@pytest.fixture
def watched(page: Page) -> tuple[Page, Watch]:
    return page, watch_page(page)


def visit(page: Page, url: str, status: int = 200) -> None:
    response = page.goto(url)
    assert response is not None and response.status == status, (url, response and response.status)
    page.wait_for_load_state("load")


def sign_in(page: Page, site: str, mobile: str) -> None:
    visit(page, f"{site}/login")
    page.locator("input[name=mobile]").fill(mobile)
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()
    expect(page.locator("header a[href$='/login']")).to_be_visible()


def yuan(fen: int) -> str:
    return f"¥{fen // 100}.{fen % 100:02d}"


def fen(text: str) -> int:
    match = re.search(r"¥\s?([\d,]+)\.(\d{2})", text)
    assert match, text
    return int(match.group(1).replace(",", "")) * 100 + int(match.group(2))


def add_first_search_result(page: Page, site: str, word: str) -> str:
    visit(page, f"{site}/")
    box = page.locator("header form.search")
    box.locator("input[name=q]").fill(word)
    box.locator("button[type=submit]").click()
    page.wait_for_load_state()
    first = page.locator(".product-card").first
    title = first.locator(".title").inner_text().strip()
    first.click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/p/\d+$"))
    page.locator("form.buy-form button[type=submit]").click()
    page.wait_for_load_state()
    return title


def add_address(page: Page, site: str, detail: str) -> None:
    """The new-address form: choosing a town fills its villages (address.js fetches them)."""
    visit(page, f"{site}/addresses/new")
    town = page.locator("select#town_id")
    town.select_option(index=2)
    village = page.locator("select#village_id")
    expect(village.locator("option")).not_to_have_count(1)
    village.select_option(index=1)
    page.locator("input#detail").fill(detail)
    page.locator("input#recipient_name").fill("李四")
    page.locator("input#recipient_mobile").fill("13811225566")
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("main")).to_contain_text(detail)


def test_the_browser_enforces_the_policy_and_the_watch_sees_it(watched: tuple[Page, Watch], site: str) -> None:
    """The watch can fail: script and style injected inline are blocked and reported."""
    page, watch = watched
    visit(page, f"{site}/")
    page.evaluate("""() => {
      const s = document.createElement("script");
      s.textContent = "window.__inlineRan = true";
      document.body.appendChild(s);
      document.querySelector("h1, main").setAttribute("style", "color: red");
    }""")
    page.wait_for_timeout(200)
    assert page.evaluate("window.__inlineRan === undefined")
    directives = {v["directive"] for v in watch.violations}
    assert {"script-src-elem", "style-src-attr"} <= directives, watch.violations
    assert any("Content Security Policy" in text for _, text, _ in watch.console_errors()), watch.console
    watch.violations.clear()
    watch.console.clear()
    watch.assert_clean()


def test_consumer_journey_has_no_csp_violation_and_every_moved_behaviour_works(
    watched: tuple[Page, Watch], site: str, app: Flask, screenshots: Path
) -> None:
    page, watch = watched
    # A guest browses.
    visit(page, f"{site}/")
    visit(page, f"{site}/categories")
    visit(page, f"{site}/register")
    watch.missing_on_purpose.add(f"{site}/no-such-page")
    visit(page, f"{site}/no-such-page", status=404)

    sign_in(page, site, REGULAR_CONSUMER)
    add_address(page, site, "新华路 7 号")
    visit(page, f"{site}/addresses/")
    title = add_first_search_result(page, site, "笋干")
    visit(page, f"{site}/cart/")
    expect(page.locator(".cart-line", has_text=title)).to_have_count(1)
    page.locator("a.btn[href$='/checkout/']").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/checkout/$"))

    # The address switch: choosing another address re-quotes the windows for it (data-navigate).
    radios = page.locator("input[name=address_id]")
    assert radios.count() >= 2, "the consumer should have two addresses"
    checked = page.locator("input[name=address_id]:checked").get_attribute("value")
    other = next(v for v in radios.evaluate_all("els => els.map(e => e.value)") if v != checked)
    page.locator(f"label.window-option:has(input[name=address_id][value='{other}'])").click()
    page.wait_for_url(re.compile(rf"/checkout/\?address={other}$"))
    page.wait_for_load_state()
    expect(page.locator(f"input[name=address_id][value='{other}']")).to_be_checked()
    expect(page.locator(f"input[name=address_id][value='{checked}']")).not_to_be_checked()
    # ...and back.
    page.locator(f"label.window-option:has(input[name=address_id][value='{checked}'])").click()
    page.wait_for_url(re.compile(rf"/checkout/\?address={checked}$"))
    page.wait_for_load_state()
    expect(page.locator(f"input[name=address_id][value='{checked}']")).to_be_checked()

    # The fee and the total follow the chosen window (checkout.js).
    subtotal = int(page.locator("#total").get_attribute("data-subtotal"))
    enabled = page.locator("input[name=window]:not([disabled])")
    assert enabled.count() >= 1, page.locator(".windows-list").inner_text()
    fees = enabled.evaluate_all("els => els.map(e => [e.value, parseInt(e.dataset.fee, 10)])")
    assert len({f for _, f in fees}) >= 2, f"want two windows of different fees to switch between: {fees}"
    for code, window_fee in sorted(fees, key=lambda cf: -cf[1]):  # dearest first: a change shows
        page.locator(f"label.window-option[data-window='{code}']").click()
        expect(page.locator(f"input[name=window][value='{code}']")).to_be_checked()
        expect(page.locator("#fee")).to_have_text(yuan(window_fee))
        expect(page.locator("#total")).to_have_text(yuan(subtotal + window_fee))
    chosen_code, chosen_fee = max(fees, key=lambda cf: cf[1])
    page.locator(f"label.window-option[data-window='{chosen_code}']").click()
    expect(page.locator("#total")).to_have_text(yuan(subtotal + chosen_fee))
    page.locator("label.window-option:has(input[value=online])").click()
    page.screenshot(path=str(screenshots / "csp-checkout.png"), full_page=True)

    # Pay on the sandbox provider's page (a form post within the app: form-action 'self').
    page.locator("form.checkout button[type=submit]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/pay/sandbox/[^/]+$"))
    assert fen(page.locator("section[data-payment] p.price").inner_text()) == subtotal + chosen_fee
    page.locator("button[value=pay]").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/pay/return/[^/]+$"))
    expect(page.locator("[data-payment-state]")).to_have_attribute("data-payment-state", "confirmed", timeout=20_000)
    page.locator("main a.btn[href*='/orders/']").click()
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/orders/[^/?]+$"))
    number = page.url.rstrip("/").rsplit("/", 1)[1]
    status = page.locator("dl.facts dt:has-text('状态') + dd")
    expect(status).to_have_text("已确认")
    expect(page.locator("table.data")).to_contain_text(title)
    page.screenshot(path=str(screenshots / "csp-order.png"), full_page=True)

    # The cancel confirmation (data-confirm): "no" keeps the order, "yes" cancels it.
    cancel = page.locator("form[data-confirm] button[type=submit]")
    expect(page.locator("form[data-confirm]")).to_have_attribute("data-confirm", "确定取消该订单吗？")
    asked: list[str] = []

    def dismiss(dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    cancel.click()
    page.wait_for_timeout(300)
    assert asked == ["确定取消该订单吗？"]
    expect(status).to_have_text("已确认")
    assert _status_of(app, number) == "confirmed"

    page.once("dialog", lambda dialog: dialog.accept())
    cancel.click()
    page.wait_for_load_state()
    expect(status).to_have_text("已取消")
    assert _status_of(app, number) == "cancelled"

    visit(page, f"{site}/orders/")
    expect(page.locator(f"a.card-link[href$='/orders/{number}']")).to_be_visible()
    visit(page, f"{site}/account")
    # The language switch is a form post that redirects back (form-action 'self').
    page.locator("header .lang-switch button[lang=en]").click()
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.locator("header .lang-switch button[lang=zh-CN]").click()
    page.wait_for_load_state()
    sign_out(page)
    watch.assert_clean()


def _status_of(app: Flask, number: str) -> str:
    with app.app_context():
        try:
            return db.session.scalar(select(Order.status).where(Order.number == number)).value
        finally:
            db.session.remove()


def test_staff_areas_have_no_csp_violation(watched: tuple[Page, Watch], site: str) -> None:
    page, watch = watched
    sign_in(page, site, OPERATOR)
    for path in ("/admin/", "/dispatch/", "/reports/", "/account", "/complaints/"):
        visit(page, site + path)
        expect(page.locator("main h1").first).to_be_visible()
    page.locator("a.stat").first.click()  # a complaints tally is a link (a.stat)
    page.wait_for_load_state()
    expect(page).to_have_url(re.compile(r"/complaints/\?status="))
    sign_out(page)
    sign_in(page, site, COOP_HEAD)
    visit(page, f"{site}/coop/")
    expect(page.locator("main h1").first).to_be_visible()
    sign_out(page)
    watch.assert_clean()


def test_without_javascript_checkout_and_cancel_work_as_before(
    browser, browser_context_args: dict, site: str, app: Flask
) -> None:
    """No script runs: the fee shown is the preselected window's (rendered by the server), the
    order is placed, and the cancel button cancels without a question (as it always did)."""
    context: BrowserContext = browser.new_context(**browser_context_args, java_script_enabled=False)
    try:
        page = context.new_page()
        watch = watch_page(page)
        sign_in(page, site, REGULAR_CONSUMER)
        add_first_search_result(page, site, "笋干")
        visit(page, f"{site}/checkout/")
        expect(page.locator("button[formaction$='/checkout/']")).to_be_visible()  # <noscript>
        chosen = page.locator("input[name=window]:checked")
        fee = int(chosen.get_attribute("data-fee"))
        expect(page.locator("#fee")).to_have_text(yuan(fee))
        page.locator("label.window-option:has(input[value=cod])").click()
        page.locator("form.checkout button[type=submit]").click()
        page.wait_for_load_state()
        expect(page).to_have_url(re.compile(r"/orders/[^/?]+$"))
        number = page.url.rstrip("/").rsplit("/", 1)[1]
        assert _status_of(app, number) == "confirmed"
        page.locator("form[data-confirm] button[type=submit]").click()
        page.wait_for_load_state()
        expect(page.locator("dl.facts dt:has-text('状态') + dd")).to_have_text("已取消")
        assert _status_of(app, number) == "cancelled"
        assert watch.documents and all("script-src 'self'" in (csp or "") for _, _, csp in watch.documents)
    finally:
        context.close()
