"""Complaints in a real Chromium: a consumer complains on a phone with a photo, complaint staff at
a desk see it in the queue with its SLA timers, open it (the order's route, planned and actual
stop times, the proof of delivery photo), reply and record a refund; the consumer's order page on
the phone then shows the complaint, the reply and the refund. No CSP violation on the way.

Screenshots: tests/browser/screenshots/complaints-*.png.
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace import uploads
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, Stop, StopKind, StopStatus, User
from tests.browser.test_csp import REGULAR_CONSUMER, sign_in, visit, watch_page
from tests.marketplace.images import jpeg_bytes, png_bytes

pytestmark = pytest.mark.browser

STAFF = "13957800020"


def _delivered_with_photo_proof(app: Flask) -> str:
    """The regular consumer's latest delivered order, its stop given a proof-of-delivery photo as
    the driver's app would record it."""
    with app.app_context():
        stop = db.session.scalars(
            sa.select(Stop).join(Order, Order.id == Stop.order_id).join(User, User.id == Order.user_id)
            .where(User.mobile == REGULAR_CONSUMER, Order.status == OrderStatus.DELIVERED,
                   Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.DONE)
            .order_by(Order.delivered_at.desc()).limit(1)).one()
        photo = uploads.store(stop.id, png_bytes((800, 600), colour=(150, 110, 60)), "proof")
        stop.proof = {**(stop.proof or {}), "kind": "photo", "photo": photo}
        number = stop.order.number
        db.session.commit()
        db.session.remove()
        return number


def test_a_complaint_from_a_phone_to_a_refund_at_the_desk(app, site, phone_page: Page, page: Page, screenshots,
                                                          tmp_path):
    number = _delivered_with_photo_proof(app)
    photo = tmp_path / "broken-jar.jpg"
    photo.write_bytes(jpeg_bytes((1200, 900)))

    # the consumer, on a phone
    phone = phone_page
    phone_watch = watch_page(phone)
    sign_in(phone, site, REGULAR_CONSUMER)
    visit(phone, f"{site}/orders/{number}")
    phone.locator(f"a[href$='/orders/{number}/complaint']").click()
    phone.wait_for_load_state()
    phone.locator("input[name=category][value=damaged]").check()
    phone.locator("fieldset.complaint-lines input[type=checkbox]").first.check()
    phone.locator("textarea[name=text]").fill("罐子碎了，茶叶撒了一箱子。")
    phone.locator("input[name=photos]").set_input_files(str(photo))
    expect(phone.locator("[data-photo-previews] img")).to_have_count(1)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    phone.screenshot(path=str(screenshots / "complaints-form-phone.png"), full_page=True)
    phone.locator("form.complaint-form button[type=submit]").click()
    phone.wait_for_load_state()
    card = phone.locator("#complaints .complaint-card").last
    expect(card).to_contain_text("罐子碎了")
    expect(card.locator(".photo-previews img")).to_have_count(1)
    complaint_number = card.locator("header").inner_text().split("·")[1].split()[0]
    assert complaint_number.startswith("CP")

    # complaint staff, at a desk: the queue with its SLA timers
    desk_watch = watch_page(page)
    sign_in(page, site, STAFF)
    visit(page, f"{site}/complaints/")
    row = page.locator("tr", has_text=complaint_number)
    expect(row).to_be_visible()
    expect(row).to_contain_text("商品破损")  # the category, in Chinese
    expect(row).to_contain_text("首次响应")  # and its SLA clocks
    expect(page.locator("nav.sectionnav a[aria-current=page]")).to_have_text("投诉队列")
    page.screenshot(path=str(screenshots / "complaints-queue.png"), full_page=True)

    # the complaint: what happened (route, stop times, proof), then a reply
    row.locator(f"a[href$='/complaints/{complaint_number}']").first.click()
    page.wait_for_load_state()
    facts = page.locator("dl.facts")
    expect(facts).to_contain_text("路线")
    expect(facts.locator("img.proof-photo")).to_be_visible()
    expect(facts).not_to_contain_text("UTC")  # the proof's time in Shanghai time, like every other
    assert page.evaluate("document.querySelector('img.proof-photo').naturalWidth") > 0
    assert page.evaluate("document.querySelector('.complaint-main .photo-previews img').naturalWidth") > 0
    page.locator("form[action$='/reply'] textarea[name=body]").fill("很抱歉！已为您退款，请查收。")
    page.locator("form[action$='/reply'] button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("ul.conversation")).to_contain_text("很抱歉！已为您退款")
    page.screenshot(path=str(screenshots / "complaints-detail.png"), full_page=True)

    # a refund recorded (submitted twice: paid once)
    refund = page.locator("form[action$='/refund']")
    refund.locator("input[name=amount]").fill("5.00")
    refund.locator("button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("ul.conversation")).to_contain_text("¥5.00")
    page.screenshot(path=str(screenshots / "complaints-refund.png"), full_page=True)
    with app.app_context():
        from marketplace.models import Complaint, ComplaintResolution

        complaint_id = db.session.scalar(sa.select(Complaint.id).where(Complaint.number == complaint_number))
        kinds = db.session.scalars(sa.select(ComplaintResolution.kind)
                                   .where(ComplaintResolution.complaint_id == complaint_id)).all()
        assert [k.value for k in kinds] == ["refund"]
        db.session.remove()

    # the consumer's order page shows the reply and the refund
    visit(phone, f"{site}/orders/{number}")
    card = phone.locator("#complaints .complaint-card", has_text=complaint_number)
    expect(card.locator(".conversation")).to_contain_text("很抱歉！已为您退款")
    expect(card.locator(".conversation")).to_contain_text("¥5.00")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(screenshots / "complaints-order-reply-phone.png"), full_page=True)
    card.screenshot(path=str(screenshots / "complaints-order-reply-card-phone.png"))

    phone_watch.assert_clean()
    desk_watch.assert_clean()
