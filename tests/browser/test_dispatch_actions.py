"""The dispatcher's actions in a real Chromium: a move the independent checker refuses shows its
reason on the console and changes nothing; an accepted move shows on the target vehicle's
route; "re-plan now" shows what changed. The reason is in the page's language (Chinese, then
English). No CSP violation.

Screenshots: tests/browser/screenshots/dispatch-move-form.png (the form on a route),
dispatch-move-refused.png (and -en.png), dispatch-move-accepted.png (and -route.png, the target
van's stops),
dispatch-replan-diff.png.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.dispatch.models import Stop
from marketplace.extensions import db
from marketplace.models import Order, Vehicle, Warehouse
from tests.browser.test_csp import sign_in, visit, watch_page
from tests.marketplace.dispatch.test_actions import active_routes, busiest, place_orders

pytestmark = pytest.mark.browser

DISPATCHER = "13957800010"  # the demo county's dispatcher (李慧敏)
WAREHOUSE = "W-MG"


def _setting(app: Flask, make_user) -> dict:
    """Orders on a van still at the depot, and two idle vans: one that can carry nothing."""
    place_orders(app, make_user)
    with app.app_context():
        wid = db.session.scalar(sa.select(Warehouse.id).where(Warehouse.code == WAREHOUSE))
        vehicle, stops = busiest(wid)
        idle = db.session.scalars(sa.select(Vehicle).where(
            Vehicle.warehouse_id == wid, Vehicle.active.is_(True), Vehicle.id.not_in(list(active_routes(wid))))
            .order_by(Vehicle.id)).all()
        assert len(idle) >= 2, "two idle vans are needed"
        weak, spare = idle[0], idle[1]
        weak.capacity_weight_g = 1
        db.session.commit()
        stop = next(s for s in stops if s.kind == "delivery")
        found = {"route": stop.route_id, "stop": stop.id, "number": db.session.get(Order, stop.order_id).number,
                 "weak": weak.id, "weak_plate": weak.plate, "spare": spare.id, "spare_plate": spare.plate,
                 "vehicle": vehicle}
        db.session.remove()
        return found


def _move(page: Page, route_id: int, stop_id: int, vehicle_id: int, shot: Path | None = None) -> None:
    box = page.locator(f"div.route-actions[data-route='{route_id}']")
    details = box.locator("details.route-action", has=page.locator("button[data-action=move]"))
    if details.get_attribute("open") is None:
        details.locator("summary").click()
    form = details.locator("form")
    form.locator("select[name=stop_id]").select_option(str(stop_id))
    form.locator("select[name=vehicle_id]").select_option(str(vehicle_id))
    form.locator("input[name=position]").fill("1")
    if shot is not None:
        box.locator("xpath=ancestor::article[contains(@class,'vehicle')]").screenshot(path=str(shot))
    form.locator("button[data-action=move]").click()
    page.wait_for_load_state()


def _language(page: Page, lang: str) -> None:
    page.locator(f"header .lang-switch button[lang={lang}]").click()
    page.wait_for_load_state()


def test_a_refused_and_an_accepted_move_and_a_re_plan(page: Page, site: str, app: Flask, make_user,
                                                     screenshots: Path) -> None:
    from flask_babel import force_locale
    from flask_babel import gettext as _

    watch = watch_page(page)
    setting = _setting(app, make_user)
    with app.test_request_context(), force_locale("zh_CN"):
        refused_zh = _("Move refused:")
        moved_zh = _("Stop moved: the checker found every promise and capacity still kept.")
    sign_in(page, site, DISPATCHER)
    visit(page, f"{site}/dispatch/{WAREHOUSE}/")
    expect(page.locator("#actions")).to_be_visible()

    # refused: the van that can carry nothing; the checker's reason on the console, in Chinese…
    _move(page, setting["route"], setting["stop"], setting["weak"], screenshots / "dispatch-move-form.png")
    flash = page.locator(".flash-error")
    expect(flash).to_contain_text(refused_zh)
    expect(flash).to_contain_text(setting["weak_plate"])
    page.screenshot(path=str(screenshots / "dispatch-move-refused.png"))
    # …and in English
    _language(page, "en")
    _move(page, setting["route"], setting["stop"], setting["weak"])
    expect(flash).to_contain_text("Move refused:")
    expect(flash).to_contain_text(f"{setting['weak_plate']} would be over its weight capacity by")
    page.screenshot(path=str(screenshots / "dispatch-move-refused-en.png"))
    with app.app_context():
        assert db.session.get(Stop, setting["stop"]).route_id == setting["route"]  # nothing changed
        db.session.remove()

    # accepted: the spare van; the stop shows on its route, the flash says the checker agreed
    _language(page, "zh-CN")
    _move(page, setting["route"], setting["stop"], setting["spare"])
    expect(page.locator(".flash-info")).to_contain_text(moved_zh)
    card = page.locator(f"article.vehicle[data-vehicle='{setting['spare']}']")
    expect(card.locator(f"tr.stop[data-stop='{setting['stop']}']")).to_contain_text(setting["number"])
    page.screenshot(path=str(screenshots / "dispatch-move-accepted.png"))
    card.scroll_into_view_if_needed()
    card.screenshot(path=str(screenshots / "dispatch-move-accepted-route.png"))

    # re-plan now: the page with what changed
    page.locator("#actions button[data-action=replan]").click()
    page.wait_for_url("**/dispatch/replan?token=*")
    section = page.locator(f"section.replan-warehouse[data-warehouse='{WAREHOUSE}']")
    expect(section).to_have_attribute("data-outcome", "stored")
    page.screenshot(path=str(screenshots / "dispatch-replan-diff.png"), full_page=True)
    watch.assert_clean()
