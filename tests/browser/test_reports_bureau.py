"""The bureau reports in a real Chromium, as the demo county's operator: the history page and its
form, a report computed for the last two days (tables, charts, downloads), a bad period refused,
no console error and no CSP violation.

Screenshots: tests/browser/screenshots/reports-bureau-*.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.coop.stats import today_local
from tests.browser.test_csp import sign_in, visit, watch_page

pytestmark = pytest.mark.browser

OPERATOR = "13957800099"  # the demo county's operator


def shoot(page: Page, screenshots: Path, name: str, full: bool = False) -> None:
    page.screenshot(path=str(screenshots / f"reports-bureau-{name}.png"), full_page=full)


def test_an_operator_computes_and_reads_a_bureau_report(page: Page, site: str, app: Flask, screenshots: Path) -> None:
    watch = watch_page(page)
    sign_in(page, site, OPERATOR)
    visit(page, f"{site}/reports/bureau")
    expect(page.locator("h1")).to_have_text("商务局统计报表")
    expect(page.locator("#bureau-history tbody")).to_contain_text("尚未保存任何报表")
    shoot(page, screenshots, "empty")

    today = today_local()
    page.locator("input[name=start]").fill((today - timedelta(days=1)).isoformat())
    page.locator("input[name=end]").fill(today.isoformat())
    page.locator("form.bureau-generate button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_have_text("山货平台统计报表（报县商务局）")
    expect(page.locator(".flash-success")).to_contain_text("报表已生成并保存")
    expect(page.locator("table[data-table=by_category] tfoot")).to_contain_text("合计")
    expect(page.locator(".chart.chart-on canvas")).to_have_count(2)
    page.wait_for_timeout(1000)  # the bars' animation
    shoot(page, screenshots, "report-top")
    page.locator("#part-cooperatives").scroll_into_view_if_needed()
    shoot(page, screenshots, "report-cooperatives")
    page.locator("#part-delivery").scroll_into_view_if_needed()
    shoot(page, screenshots, "report-delivery")
    page.locator("#definitions-title").scroll_into_view_if_needed()
    shoot(page, screenshots, "report-definitions")

    pdf = page.locator("a[href$='.pdf?lang=zh_CN']").get_attribute("href")
    response = page.request.get(site + pdf)
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF-")

    visit(page, f"{site}/reports/bureau")
    expect(page.locator("#bureau-history tbody tr")).to_have_count(1)
    shoot(page, screenshots, "history")
    watch.assert_clean()

    # a bad period: the form says why (its 422 is the one console message)
    page.locator("input[name=start]").fill(today.isoformat())
    page.locator("input[name=end]").fill((today - timedelta(days=3)).isoformat())
    page.locator("form.bureau-generate button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator(".field-error")).to_have_text("开始日期不能晚于结束日期。")
    shoot(page, screenshots, "bad-period")
    assert watch.violations == [] and watch.errors == []
    assert [m for m in watch.console_errors() if "status of 422" not in m[1]] == []
