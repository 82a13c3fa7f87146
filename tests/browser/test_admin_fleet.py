"""The operator's fleet pages in a real Chromium (desktop): each list, and a vehicle form that
refuses a shift ending before it starts, with the message on the field and nothing changed. No
CSP violation, no console error.

Screenshots: tests/browser/screenshots/admin-users.png, admin-warehouses.png, admin-vehicles.png,
admin-drivers.png, admin-window-classes.png, admin-vehicle-error.png."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.models import Vehicle
from tests.browser.test_csp import sign_in, visit, watch_page

pytestmark = pytest.mark.browser

OPERATOR = "13957800099"  # the demo county's operator


def test_fleet_lists_and_a_validation_error(page: Page, site: str, app, screenshots) -> None:
    watch = watch_page(page)
    sign_in(page, site, OPERATOR)
    for path, name, table in [("/admin/users", "admin-users", "#users"),
                              ("/admin/warehouses", "admin-warehouses", "#warehouses"),
                              ("/admin/vehicles", "admin-vehicles", "#vehicles"),
                              ("/admin/drivers", "admin-drivers", "#drivers"),
                              ("/admin/window-classes", "admin-window-classes", "#window-classes")]:
        visit(page, site + path)
        expect(page.locator(f"{table} tbody tr").first).to_be_visible()
        expect(page.locator("nav.sectionnav a.active")).to_have_count(1)
        page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)
    with app.app_context():
        vehicle = db.session.scalar(sa.select(Vehicle).order_by(Vehicle.id).limit(1))
        vid, end = vehicle.id, vehicle.shift_end
        db.session.remove()
    visit(page, f"{site}/admin/vehicles/{vid}")
    page.locator("input[name=shift_start]").fill("18:00")
    page.locator("input[name=shift_end]").fill("08:00")
    page.locator("form.fleet-form button[type=submit]").click()
    page.wait_for_load_state()
    error = page.locator(".field.has-error:has(input[name=shift_end]) .field-error")
    expect(error).to_contain_text("班次结束时间须晚于开始时间")
    page.screenshot(path=str(screenshots / "admin-vehicle-error.png"), full_page=True)
    with app.app_context():
        assert db.session.get(Vehicle, vid).shift_end == end
        db.session.remove()
    assert watch.violations == []
    # (the refused form's page is answered 422 on purpose; Chromium logs any 4xx document)
    assert [e for e in watch.console_errors() if "status of 422" not in e[1]] == []
