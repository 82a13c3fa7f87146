"""The operator's logistics parameters page in a real Chromium (desktop): every parameter, a
parameter's history with its provenance (the complaints behind a change) and its effect, and an
undo with a reason. No CSP violation.

Screenshots: tests/browser/screenshots/admin-parameters.png (the list), admin-parameter.png (a
product's extra service time learned from damaged complaints, with provenance and the undo form),
admin-parameter-reverted.png (after the undo), admin-parameter-zone.png (a zone's margin and its
effect)."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from marketplace.extensions import db
from marketplace.logistics import learning
from marketplace.logistics import services as parameters
from marketplace.models import Complaint, LogisticsParameter, Order
from tests.browser.test_csp import sign_in, visit, watch_page

pytestmark = pytest.mark.browser

OPERATOR = "13957800099"  # the demo county's operator


def _learned(app) -> tuple[int, int]:
    """Damaged complaints about two delivered orders of one product, learned: (product's
    service-time parameter, a zone parameter the deliveries changed)."""
    with app.app_context():
        orders = db.session.scalars(sa.select(Order).where(Order.status == "delivered").order_by(Order.id).limit(40)).all()
        product_id = orders[0].lines[0].product_id
        mine = [o for o in orders if any(line.product_id == product_id for line in o.lines)][:2]
        numbers = []
        for order in mine:
            for text in ("瓶子碎了，酱洒了一箱", "外箱压扁，里面的罐子裂了"):
                numbers.append(f"C{uuid.uuid4().hex[:10].upper()}")
                db.session.add(Complaint(number=numbers[-1], order_id=order.id,
                                         user_id=order.user_id, category="damaged", description=text,
                                         product_id=product_id))
        db.session.commit()
        learning.run()
        service = parameters.find("product", product_id, "service_s_extra")
        zone = db.session.scalar(sa.select(LogisticsParameter).where(
            LogisticsParameter.key == "promise_margin_s").order_by(LogisticsParameter.updated_at.desc()).limit(1))
        found = service.id, zone.id, numbers
        db.session.remove()
        return found


def test_parameters_with_provenance_and_an_undo(page: Page, site: str, app, screenshots) -> None:
    service_id, zone_id, numbers = _learned(app)
    page.set_viewport_size({"width": 1280, "height": 900})
    watch = watch_page(page)
    sign_in(page, site, OPERATOR)
    visit(page, f"{site}/admin/parameters")
    expect(page.locator(f"#parameters tbody tr[data-key=service_s_extra][data-parameter='{service_id}']")).to_have_count(1)
    expect(page.locator("nav.sectionnav a.active")).to_have_count(1)
    page.screenshot(path=str(screenshots / "admin-parameters.png"), full_page=True)

    visit(page, f"{site}/admin/parameters/{service_id}")
    # the change's provenance names the complaints behind it, ours among them
    expect(page.locator("#history li[data-source=complaints] [data-complaint]")).not_to_have_count(0)
    listed = page.locator("#history li[data-source=complaints]").first.inner_text()
    assert any(number in listed for number in numbers), listed
    expect(page.locator("#effect")).to_be_visible()
    page.screenshot(path=str(screenshots / "admin-parameter.png"), full_page=True)
    page.locator("#revert-reason").fill("重新包装后不再破损 (repacked in foam)")
    page.locator("#revert-form button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("#history li[data-source=revert]")).to_have_count(1)
    expect(page.locator("#history [data-field=reverted]")).to_have_count(1)
    expect(page.locator("#parameter-value [data-field=value]")).to_contain_text("0")
    page.screenshot(path=str(screenshots / "admin-parameter-reverted.png"), full_page=True)

    visit(page, f"{site}/admin/parameters/{zone_id}")
    expect(page.locator("#effect tr[data-measure=slack]")).to_be_visible()
    expect(page.locator("#history li[data-source=deliveries] details.provenance")).not_to_have_count(0)
    page.locator("#history li[data-source=deliveries] details.provenance summary").first.click()
    page.screenshot(path=str(screenshots / "admin-parameter-zone.png"), full_page=True)
    with app.app_context():
        assert parameters.get("product", db.session.get(LogisticsParameter, service_id).scope_id,
                              "service_s_extra") == 0
        db.session.remove()
    assert watch.violations == []
