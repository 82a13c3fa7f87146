"""The cooperative head's pick list, handover and replenishment in a real Chromium (brief C):
the head (phone) records a handover with a mismatch, the dispatcher (desktop) sees the alert on
the console; the head accepts a replenishment suggestion and, after a re-plan, sees the van that
will collect it, and the console shows the stock pickup on that van's route.

Screenshots: coop-pickups.png, coop-handover.png, coop-handover-done.png,
dispatch-handover-alert.png, coop-replenishment.png, coop-replenishment-planned.png,
dispatch-replenishment.png."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.coop import pickups as pick
from marketplace.dispatch.models import Replenishment, ReplenishmentStatus
from marketplace.extensions import db
from marketplace.inventory.models import Location, LocationKind
from marketplace.logistics.models import Warehouse
from marketplace.models import Role
from marketplace.planning import services as planning
from marketplace.planning.models import WindowMiss
from tests.browser.test_csp import sign_in as demo_sign_in
from tests.browser.test_foundation import sign_in
from tests.conftest import PASSWORD
from tests.marketplace.checkout.conftest import hold_only_at_cooperative
from tests.marketplace.coop.pickup_helpers import coop_with_pickups

DISPATCHER = "13957800010"
HEAD = "16612345678"


def test_head_hands_over_with_a_mismatch_and_moves_stock_to_the_warehouse(
        phone_page: Page, page: Page, site: str, app: Flask, make_user, screenshots: Path) -> None:
    with app.app_context():
        coop_id = coop_with_pickups()
        first = next(p for d in pick.pick_days(coop_id) for p in d.pickups)
        pickup_id, plate, warehouse_code = first.id, first.vehicle.plate, first.warehouse.code
        expected = first.items[0].quantity
        warehouse_id = first.warehouse.id
    make_user(Role.COOP_HEAD, mobile=HEAD, name="测试社长", cooperative_id=coop_id, password=PASSWORD)

    head = phone_page
    sign_in(head, site, HEAD, PASSWORD)
    head.goto(f"{site}/coop/pickups")
    card = head.locator(f"#pickup-{pickup_id}")
    expect(card).to_contain_text(plate)
    expect(card).to_contain_text("待备货")
    head.screenshot(path=str(screenshots / "coop-pickups.png"), full_page=True)
    card.get_by_role("link", name="登记交接").click()
    head.wait_for_load_state()
    count = head.locator("input[name=count_0]")
    expect(count).to_have_value(str(expected))
    count.fill(str(expected - 1))
    head.locator("textarea[name=note]").fill("少了一件，已告知司机")
    head.screenshot(path=str(screenshots / "coop-handover.png"), full_page=True)
    head.get_by_role("button", name="登记交接").click()
    head.wait_for_load_state()
    expect(head.locator(".flash")).to_contain_text("数量不符")
    expect(head.locator(f"#pickup-{pickup_id}")).to_contain_text("数量不符")
    head.screenshot(path=str(screenshots / "coop-handover-done.png"), full_page=True)

    demo_sign_in(page, site, DISPATCHER)
    page.goto(f"{site}/dispatch/{warehouse_code}/")
    alerts = page.locator("#alerts")
    expect(alerts).to_contain_text("交接不符")
    expect(alerts).to_contain_text(plate)
    expect(alerts).to_contain_text(f"清点 {expected - 1}，应为 {expected}")
    alerts.screenshot(path=str(screenshots / "dispatch-handover-alert.png"))

    # replenishment: a product of the head's cooperative held only at its site, short windows
    # lost to it at the warehouse of the pickup's van
    with app.app_context():
        site_row = db.session.scalar(sa.select(Location).where(Location.cooperative_id == coop_id,
                                                               Location.kind == LocationKind.COOPERATIVE))
        product_id = first_product = db.session.scalar(sa.select(pick.Product.id).where(
            pick.Product.cooperative_id == coop_id, pick.Product.status == "active").order_by(pick.Product.id))
        hold_only_at_cooperative(first_product, site_row.id, on_hand=40)
        now = pick.utcnow()
        for n in range(4):
            db.session.add(WindowMiss(product_id=product_id, warehouse_id=warehouse_id, window_code="2h",
                                      user_id=None, quantity=2, created_at=now - pick.timedelta(hours=n + 1)))
        db.session.commit()
    head.goto(f"{site}/coop/replenishment")
    suggestion = head.locator(f"#suggest-{product_id}-{warehouse_id}")
    expect(suggestion).to_contain_text("4 次报价无法提供 2h 时段")
    head.screenshot(path=str(screenshots / "coop-replenishment.png"), full_page=True)
    suggestion.locator("input[name=quantity]").fill("5")
    suggestion.get_by_role("button", name="接受").click()
    head.wait_for_load_state()
    expect(head.locator(".flash")).to_contain_text("已申请调拨 5 件")
    with app.app_context():
        move = db.session.scalar(sa.select(Replenishment))
        assert move.status == ReplenishmentStatus.REQUESTED
        planning.plan_warehouse(warehouse_id, seconds=2)
        move = db.session.get(Replenishment, move.id)
        assert move.status == ReplenishmentStatus.PLANNED
        move_id = move.id
        code = db.session.get(Warehouse, warehouse_id).code
    head.reload()
    row = head.locator(f"#move-{move_id}")
    expect(row).to_contain_text("已排入路线")
    expect(row).to_contain_text("取货")
    head.screenshot(path=str(screenshots / "coop-replenishment-planned.png"), full_page=True)
    van = row.locator(".rp-van").inner_text().strip()
    page.goto(f"{site}/dispatch/{code}/")
    expect(page.locator("body")).to_contain_text("补货取货")
    expect(page.locator("body")).to_contain_text(van)
    page.screenshot(path=str(screenshots / "dispatch-replenishment.png"), full_page=True)
