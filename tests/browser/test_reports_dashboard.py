"""The operator's dashboard in a real Chromium, on the demo county with its 14 days of history
(and a few travel-factor changes the feedback loop made in it): every chart drawn by
static/js/charts.js with the vendored ECharts, the tiles holding the service's numbers, on a
desktop in Chinese, on a phone (nothing wider than the screen) and in English; no console error,
no CSP violation.

Screenshots: tests/browser/screenshots/reports-dashboard-*.png.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.logistics import services as logistics
from marketplace.models import ChangeSource, ParameterChange, ParameterScope, Zone
from marketplace.reports import dashboard
from tests.browser.test_coop_stats import county  # noqa: F401 (the fixture: the demo county, 14 days)
from tests.browser.test_csp import OPERATOR, sign_in, visit, watch_page

pytestmark = pytest.mark.browser

CHARTS = 8  # sales, on time by window and by zone, offers, complaints, cooperatives, changes, factors


def shoot(page: Page, screenshots: Path, name: str, full: bool = False) -> None:
    page.screenshot(path=str(screenshots / f"reports-dashboard-{name}.png"), full_page=full)


@pytest.fixture
def learned(app: Flask, county: str) -> str:  # noqa: F811
    """Travel factors of three zones the feedback loop changed over the last days."""
    with app.app_context():
        now = utcnow()
        # the seed's initial values were set when its history began, before the loop learned
        db.session.execute(sa.update(ParameterChange).where(ParameterChange.source == ChangeSource.SEED)
                           .values(created_at=now - timedelta(days=14)))
        zones = db.session.scalars(sa.select(Zone.id).order_by(Zone.code).limit(3)).all()
        for n, zone_id in enumerate(zones):
            for days_ago, value in ((9, 1.1 + n * 0.05), (5, 1.2 + n * 0.05), (2, 1.15 + n * 0.1)):
                logistics.set_value(ParameterScope.ZONE, zone_id, "travel_factor", round(value, 2),
                                    source=ChangeSource.DELIVERIES, reason="browser test",
                                    now=now - timedelta(days=days_ago, hours=n))
        db.session.commit()
        db.session.remove()
    return county


def drawn(page: Page) -> None:
    expect(page.locator(".chart.chart-on")).to_have_count(CHARTS)
    expect(page.locator(".chart.chart-on canvas")).to_have_count(CHARTS)
    page.wait_for_timeout(1200)  # the bars' animation


def overflow(page: Page) -> int:
    """How many pixels the page is wider than its screen."""
    return page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")


def test_the_dashboard_on_a_desktop_and_a_phone_in_chinese_and_english(page: Page, phone_page: Page, learned: str,
                                                                      app: Flask, screenshots: Path) -> None:
    site = learned
    watch = watch_page(page)
    sign_in(page, site, OPERATOR)
    visit(page, f"{site}/reports/")
    expect(page.locator("h1")).to_contain_text("看板")
    expect(page.locator(".stats-preset.active")).to_have_text("近 30 天")
    drawn(page)

    with app.app_context():
        d = dashboard.dashboard(dashboard.parse_filters({}))
        db.session.remove()
    assert d.kpis.orders > 100 and d.quotes > 0 and d.factors, "the demo county should fill the dashboard"
    tiles = page.locator(".dash-kpis .stat .value")
    expect(tiles.nth(0)).to_have_text(str(d.kpis.orders))
    expect(tiles.nth(1)).to_have_text(f"¥{d.kpis.sales_fen // 100}.{d.kpis.sales_fen % 100:02d}")
    expect(tiles.nth(2)).to_have_text(f"{d.kpis.on_time.rate * 100:.1f}%")
    # what ECharts was given: the sales bars are the service's days
    option = page.evaluate("""() => echarts.getInstanceByDom(document.querySelector('.chart')).getOption()
                                      .series.map(s => ({name: s.name, data: s.data}))""")
    assert option[0]["data"] == [round(x.sales_fen / 100, 2) for x in d.days]
    factors = json.loads(page.locator(".chart").last.get_attribute("data-chart"))
    assert factors["time"] and len(factors["series"]) == len(d.factors)
    assert overflow(page) <= 0
    shoot(page, screenshots, "desktop-zh")
    shoot(page, screenshots, "desktop-zh-full", full=True)
    page.locator("#changes-title").scroll_into_view_if_needed()
    shoot(page, screenshots, "desktop-changes-zh")

    # a zone: its name in the title, the km tile says why it has no number
    zone_id = d.factors[0].zone.id
    visit(page, f"{site}/reports/?period=90&zone={zone_id}")
    expect(page.locator("h1 small")).to_have_text(d.factors[0].zone.name_zh)
    expect(page.locator(".dash-kpis .stat").nth(6)).to_contain_text("仅全县可算")
    drawn(page)
    shoot(page, screenshots, "desktop-zone-zh")

    # a phone: the tiles wrap two by two, the charts take the width, nothing sticks out
    phone = phone_page
    phone_watch = watch_page(phone)
    sign_in(phone, site, OPERATOR)
    visit(phone, f"{site}/reports/?period=7")
    drawn(phone)
    assert overflow(phone) <= 0
    boxes = phone.locator(".dash-kpis .stat").evaluate_all(
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.left, r.width]; })")
    assert len({round(left) for left, _w in boxes}) == 2 and all(w < 200 for _l, w in boxes)
    widths = phone.locator(".chart.chart-on").evaluate_all("els => els.map(e => e.getBoundingClientRect().width)")
    assert all(w >= 340 for w in widths), widths
    shoot(phone, screenshots, "phone-zh")
    phone.locator("#ontime-title").scroll_into_view_if_needed()
    shoot(phone, screenshots, "phone-ontime-zh")
    phone.locator("#coops-title").scroll_into_view_if_needed()
    shoot(phone, screenshots, "phone-coops-zh")

    # English
    phone.locator("header .lang-switch button[lang=en]").click()
    phone.wait_for_load_state()
    expect(phone.locator("h1")).to_contain_text("Dashboard")
    drawn(phone)
    spec = json.loads(phone.locator(".chart").first.get_attribute("data-chart"))
    assert spec["axes"][0]["name"] == "Sales (¥)" and not any("日" in c for c in spec["categories"])
    assert overflow(phone) <= 0
    shoot(phone, screenshots, "phone-en")
    phone.locator("#offers-title").scroll_into_view_if_needed()
    shoot(phone, screenshots, "phone-offers-en")

    # a bad period: the form says why in English, no chart (its 422 is the one console message)
    visit(phone, f"{site}/reports/?period=custom&from=2026-11-20&to=2026-11-10", status=422)
    expect(phone.locator(".field-error")).to_contain_text("must not be after")
    expect(phone.locator(".chart")).to_have_count(0)
    expect(phone.locator("input[name=from]")).to_have_attribute("aria-invalid", "true")  # that field, not the others
    expect(phone.locator("[aria-invalid]")).to_have_count(1)
    shoot(phone, screenshots, "phone-bad-period-en")

    watch.assert_clean()
    assert phone_watch.violations == [] and phone_watch.errors == []
    assert [m for m in phone_watch.console_errors() if "status of 422" not in m[1]] == []
