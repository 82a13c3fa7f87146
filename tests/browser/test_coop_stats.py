"""The cooperative head's statistics on a phone, on the demo county with its 14 days of history:
the three charts drawn by static/js/charts.js with the vendored ECharts, in Chinese and in
English, redrawn to the new width when the phone turns, with no console error and no CSP
violation; the tables hold the same numbers as the service.

Screenshots: tests/browser/screenshots/coop-stats-*.png.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.coop import stats
from marketplace.extensions import db
from marketplace.models import User
from tests.browser.test_csp import sign_in, visit, watch_page
from tests.conftest import Snapshots, seed_snapshot, session_instant

pytestmark = pytest.mark.browser

COOP_HEAD = "13757801236"  # 叶建国, head of cooperative C01
SNAPSHOT = "seeded_history_14"


@pytest.fixture
def county(app: Flask, snapshots: Snapshots, live_server: str) -> Iterator[str]:
    """The demo county with the 14 days of history ``make demo`` seeds (kept as a snapshot)."""
    seed_snapshot(app, snapshots, SNAPSHOT, session_instant(), history_days=14, plan=False)
    yield live_server


def shoot(page: Page, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"coop-stats-{name}.png"), full_page=False)


def chart_widths(page: Page) -> list[int]:
    return page.locator(".chart.chart-on canvas").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")


def test_the_heads_statistics_on_a_phone_in_chinese_and_english(phone_page: Page, county: str, app: Flask,
                                                                 screenshots: Path) -> None:
    page = phone_page
    watch = watch_page(page)
    sign_in(page, county, COOP_HEAD)
    visit(page, f"{county}/coop/stats?period=30")
    expect(page.locator("h1")).to_contain_text("统计")
    charts = page.locator(".chart.chart-on")
    expect(charts).to_have_count(3)
    expect(page.locator(".chart.chart-on canvas")).to_have_count(3)
    page.wait_for_timeout(1200)  # the bars' animation

    # the tables say what the service says
    with app.app_context():
        head = db.session.scalar(db.select(User).where(User.mobile == COOP_HEAD))
        period = stats.parse_period({"period": "30"})
        result = stats.cooperative_stats(head.cooperative_id, period)
        db.session.remove()
    assert result.sales.orders > 0 and result.on_time.judged > 0, "the demo history should have sales"
    expect(page.locator(".stats .stat .value").first).to_have_text(f"¥{result.sales.total.fen // 100:,}.{result.sales.total.fen % 100:02d}".replace(",", ""))
    spec = json.loads(page.locator(".chart").first.get_attribute("data-chart"))
    days_with_sales = sum(1 for d in period.days if result.sales.day_totals[d].units)
    assert days_with_sales >= 10 and len(spec["categories"]) == 30
    assert spec["categories"][-1].endswith("日")  # a Chinese day label on the axis
    # what ECharts was given: the stacked bars per product add up to the day's sales
    option = page.evaluate("""() => {
      const o = echarts.getInstanceByDom(document.querySelector('.chart')).getOption();
      return {legend: o.legend[0].data || o.series.map(s => s.name), series: o.series.map(s => ({name: s.name, type: s.type, data: s.data}))};
    }""")
    bars = [s for s in option["series"] if s["type"] == "bar"]
    last = period.days[-2]
    assert round(sum((s["data"][-2] or 0) for s in bars), 2) == pytest.approx(result.sales.day_totals[last].fen / 100)

    page.locator(".chart").first.scroll_into_view_if_needed()
    shoot(page, screenshots, "sales-zh")
    page.locator("#ontime-title").scroll_into_view_if_needed()
    shoot(page, screenshots, "ontime-zh")
    page.locator("#complaints-title").scroll_into_view_if_needed()
    shoot(page, screenshots, "complaints-zh")

    # turning the phone: the charts take the new width
    narrow = chart_widths(page)
    page.set_viewport_size({"width": 844, "height": 390})
    page.wait_for_timeout(600)
    wide = chart_widths(page)
    assert all(w > n + 200 for w, n in zip(wide, narrow, strict=True)), (narrow, wide)
    page.locator(".chart").first.scroll_into_view_if_needed()
    shoot(page, screenshots, "sales-landscape")
    page.set_viewport_size({"width": 390, "height": 844})

    # English: the labels of the charts follow the page's language
    page.locator("header .lang-switch button[lang=en]").click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text("Statistics")
    expect(page.locator(".chart.chart-on canvas")).to_have_count(3)
    spec = json.loads(page.locator(".chart").first.get_attribute("data-chart"))
    assert spec["axes"][0]["name"] == "Sales (¥)" and not any("日" in c for c in spec["categories"])
    page.wait_for_timeout(1200)
    page.locator(".chart").first.scroll_into_view_if_needed()
    shoot(page, screenshots, "sales-en")
    page.locator("#ontime-title").scroll_into_view_if_needed()
    shoot(page, screenshots, "ontime-en")

    # a period of 90 days (a slider to pan) and the CSV link of a table
    visit(page, f"{county}/coop/stats?period=90")
    expect(page.locator(".chart.chart-on canvas")).to_have_count(3)
    page.wait_for_timeout(1000)
    page.locator(".chart").first.scroll_into_view_if_needed()
    shoot(page, screenshots, "sales-90-en")
    href = page.locator("a.stats-csv").first.get_attribute("href")
    response = page.request.get(county + href)
    assert response.status == 200 and response.body().startswith(b"\xef\xbb\xbf")
    assert response.headers["content-disposition"].startswith('attachment; filename="C01-sales-')

    watch.assert_clean()

    # a bad period: the form says why, no chart (its 422 is the one console message)
    visit(page, f"{county}/coop/stats?period=custom&from=2026-11-20&to=2026-11-10", status=422)
    expect(page.locator(".field-error")).to_contain_text("must not be after")
    expect(page.locator(".chart")).to_have_count(0)
    shoot(page, screenshots, "bad-period-en")
    assert watch.violations == [] and watch.errors == []
    assert [m for m in watch.console_errors() if "status of 422" not in m[1]] == []
