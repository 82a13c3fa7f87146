"""The dispatch console in a real Chromium: the county map drawn offline with the day's routes
(Leaflet vendored, GeoJSON from the repository: every request stays on the app), the vehicle
timelines, an at-risk stop and its alert, acknowledging an alert in place, updates without a
reload (a delivery recorded meanwhile shows up by polling), the driver manifest for print, and
no CSP violation anywhere.

Screenshots: tests/browser/screenshots/dispatch-map.png, dispatch-timeline.png,
dispatch-alert.png, dispatch-manifest.png.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.dispatch import services as dispatch
from marketplace.dispatch.models import Alert, AlertSeverity, StopKind, StopStatus
from marketplace.extensions import db
from marketplace.models import User
from tests.browser.test_csp import sign_in, visit, watch_page

pytestmark = pytest.mark.browser

DISPATCHER = "13957800010"  # the demo county's dispatcher (李慧敏)
WAREHOUSE = "W-MG"


def _make_one_stop_at_risk(app: Flask) -> tuple[int, str, int]:
    """A delivery to go on a route of W-MG gets a deadline 4 minutes after its projected
    arrival (below every zone's margin), and the watchdog's at-risk alert for it (as the
    watchdog raises it: kind at_risk with its data). Returns (stop id, order number, alert id)."""
    with app.app_context():
        warehouse = dispatch.warehouse_by_code(WAREHOUSE)
        state = dispatch.console_state(warehouse, raise_alerts=False)
        line, s = next((line, s) for line in state.vehicles for s in line.stops
                       if not s.made and s.stop.kind == StopKind.DELIVERY and s.stop.order is not None)
        deadline = s.arrival + timedelta(minutes=4)
        s.stop.deadline_at = s.stop.order.deadline_at = deadline
        alert = Alert(kind="at_risk", severity=AlertSeverity.WARNING, warehouse_id=warehouse.id,
                      order_id=s.stop.order_id, plan_id=state.plan.id, vehicle_id=line.vehicle.id,
                      message="at risk (browser test)",
                      data={"order": s.stop.order.number, "eta_at": s.arrival.isoformat(),
                            "deadline_at": deadline.isoformat(), "slack_s": 240, "margin_s": int(s.margin_s or 300)})
        db.session.add(alert)
        db.session.commit()
        found = (s.stop.id, s.stop.order.number, alert.id)
        db.session.remove()
        return found


def _deliver_first_stop_to_go(app: Flask) -> str:
    """A driver records the first delivery still to go on W-MG as done (the plan version moves)."""
    with app.app_context():
        state = dispatch.console_state(dispatch.warehouse_by_code(WAREHOUSE), raise_alerts=False)
        stop = next(s.stop for line in state.vehicles for s in line.stops
                    if not s.made and s.stop.kind == StopKind.DELIVERY and s.stop.order is not None)
        number = stop.order.number
        dispatch.record_stop(stop.id, StopStatus.DONE)
        db.session.remove()
        return number


def test_console_draws_the_county_and_routes_offline_and_updates_in_place(
    page: Page, site: str, app: Flask, screenshots: Path
) -> None:
    app.config["DISPATCH_POLL_SECONDS"] = 1
    try:
        _run_console(page, site, app, screenshots)
    finally:
        app.config.pop("DISPATCH_POLL_SECONDS", None)


def _run_console(page: Page, site: str, app: Flask, screenshots: Path) -> None:
    watch = watch_page(page)
    elsewhere: list[str] = []
    page.on("request", lambda request: None if request.url.startswith(site) or request.url.startswith("data:")
            else elsewhere.append(request.url))
    stop_id, number, alert_id = _make_one_stop_at_risk(app)

    sign_in(page, site, DISPATCHER)
    visit(page, f"{site}/dispatch/")
    page.locator(f"a[href$='/dispatch/{WAREHOUSE}/']").first.click()
    page.wait_for_load_state()
    console = page.locator("#console")
    expect(console).to_have_attribute("data-map-ready", "1", timeout=15_000)
    expect(console).not_to_have_attribute("data-updates", "0", timeout=15_000)
    drawn = int(console.get_attribute("data-routes-drawn"))
    routes = page.locator("article.vehicle[data-route]:not([data-route=''])").count()
    assert drawn == routes >= 1, (drawn, routes)

    # the map: county outline, roads, towns, the routes in their colours, numbered stops
    map_box = page.locator("#map")
    assert map_box.locator("path.geo-county").count() == 1
    assert map_box.locator("path.geo-road").count() >= 19  # at least a tree over the 20 towns
    assert map_box.locator(".town-label").count() == 20
    assert map_box.locator("path.route-line").count() == routes
    pins = map_box.locator(".map-pin.stop")
    assert pins.count() == page.locator("table.stops tbody tr").count()
    risky = map_box.locator(".map-pin.stop.state-at_risk")
    expect(risky.first).to_be_visible()
    assert map_box.locator(".map-pin.warehouse.here").count() == 1
    assert map_box.locator(".map-pin.cooperative").count() >= 10
    page.locator(".map-card").screenshot(path=str(screenshots / "dispatch-map.png"))

    # the at-risk stop in its vehicle's table: class and words
    row = page.locator(f"tr.stop[data-stop='{stop_id}']")
    expect(row).to_have_attribute("data-state", "at_risk")
    expect(row.locator(".state")).to_have_text("有超时风险")
    expect(row).to_contain_text(number)
    card = row.locator("xpath=ancestor::article[contains(@class,'vehicle')]")
    expect(card.locator("[data-field=over]")).to_be_hidden()  # a few kilos on a van
    expect(card.locator("[data-field=not-started]")).to_be_hidden()  # its route leaves about now
    expect(card.locator("[data-field=progress]")).to_contain_text("0")
    assert card.locator("svg.timeline rect.seg-drive").count() >= 1
    assert card.locator("svg.timeline rect.seg-service").count() >= 1
    card.locator("svg.timeline").scroll_into_view_if_needed()
    card.screenshot(path=str(screenshots / "dispatch-timeline.png"))

    # the alert, in the page's language, acknowledged in place (no navigation)
    item = page.locator(f"#alert-list li[data-alert='{alert_id}']")
    expect(item).to_contain_text("有超时风险")
    expect(item).to_contain_text(number)
    page.locator("#alerts").screenshot(path=str(screenshots / "dispatch-alert.png"))
    url = page.url
    item.locator("form[action$='/acknowledge'] button").click()
    expect(item.locator(".alert-ack")).to_contain_text("李慧敏", timeout=10_000)
    assert page.url == url
    with app.app_context():
        alert = db.session.get(Alert, alert_id)
        dispatcher = db.session.scalar(sa.select(User.id).where(User.mobile == DISPATCHER))
        assert alert.acknowledged_by_id == dispatcher and alert.acknowledged_at is not None
        assert alert.resolved_at is None
        db.session.remove()

    # a delivery recorded elsewhere shows up without a reload
    updates = int(console.get_attribute("data-updates"))
    delivered = _deliver_first_stop_to_go(app)
    made = page.locator("tr.stop.made", has_text=delivered)
    expect(made).to_have_count(1, timeout=15_000)
    assert int(console.get_attribute("data-updates")) > updates and page.url == url
    polls = int(console.get_attribute("data-polls"))
    page.wait_for_timeout(2500)  # nothing changed since: the polls cost 304s
    assert int(console.get_attribute("data-polls")) > polls

    # the driver manifest, as printed
    manifest = page.locator("article.vehicle .manifest-link").first
    manifest.click()
    page.wait_for_load_state()
    expect(page.locator("table.manifest-table tbody tr").first).to_be_visible()
    page.emulate_media(media="print")
    expect(page.locator("header.topbar")).to_be_hidden()
    page.screenshot(path=str(screenshots / "dispatch-manifest.png"), full_page=True)
    page.emulate_media(media="screen")

    assert elsewhere == [], f"requests that left the app: {elsewhere}"
    watch.assert_clean()
