"""The driver on a phone (390 px wide): the demo driver signs in, starts the route, records the
first delivery with the recipient's name and a photo (the phone's position granted), and the
consumer's order page then shows it delivered with that proof; after the last stop, the driver
taps "back at the warehouse".

Screenshots: driver-route.png (the route as it opens), driver-deliver.png (the proof filled in),
driver-next.png (after it: the next stop first, its "could not deliver" form open, the stop made
below), consumer-delivered.png (the consumer's order page), driver-back.png (every stop made)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect

from marketplace.dispatch.models import Stop, StopStatus
from marketplace.extensions import db
from tests.marketplace.driver.conftest import DEMO_DRIVER, DEMO_PASSWORD, give_route
from tests.marketplace.images import parcel_png

POSITION = {"latitude": 28.5921, "longitude": 119.2754, "accuracy": 15}


@pytest.fixture
def uploads(app: Flask, tmp_path: Path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


def phone_shot(page: Page, directory: Path, name: str) -> None:
    """The whole page at the phone's width (the viewport grown to the page's height)."""
    viewport = page.viewport_size
    page.evaluate("window.scrollTo(0, 0)")
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": viewport["width"], "height": height})
    try:
        page.screenshot(path=str(directory / name))
    finally:
        page.set_viewport_size(viewport)


def sign_in(page: Page, site: str, mobile: str, password: str) -> None:
    page.goto(f"{site}/login")
    page.locator("input[name=mobile]").fill(mobile)
    page.locator("input[name=password]").fill(password)
    page.locator("form:has(input[name=password]) button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()


def sign_out(page: Page) -> None:
    page.locator("header form[action$='/logout'] button").click()
    page.wait_for_load_state()


def test_the_driver_delivers_with_proof_and_the_consumer_sees_it(
    phone_page: Page, site: str, app: Flask, uploads: Path, screenshots: Path
) -> None:
    page = phone_page
    day = give_route(app)
    stop_id = day.delivery_ids[0]
    with app.app_context():
        order = db.session.get(Stop, stop_id).order
        consumer_mobile, number, recipient = order.user.mobile, order.number, order.recipient_name
        db.session.remove()
    page.context.grant_permissions(["geolocation"], origin=site)
    page.context.set_geolocation(POSITION)

    sign_in(page, site, DEMO_DRIVER, DEMO_PASSWORD)
    assert page.url.rstrip("/").endswith("/driver")  # a driver lands on the route
    next_card = page.locator("section.drv-next")
    expect(next_card).to_be_visible()
    start = page.locator("form.drv-start button")
    expect(start).to_be_visible()
    box = start.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 48  # a big button across the phone
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    expect(next_card.locator("a[href^='tel:']")).to_be_visible()
    expect(next_card.locator("svg.drv-map")).to_be_visible()
    phone_shot(page, screenshots, "driver-route.png")

    start.click()
    page.wait_for_load_state()
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator("form.drv-start")).to_have_count(0)

    card = page.locator(f"#stop-{stop_id}")
    if card.evaluate("e => e.tagName") == "DETAILS":  # a pickup comes first: open the delivery's card
        card.locator("summary").click()
    card.locator(f"#name-{stop_id}").fill(recipient)
    card.locator(f"#photo-{stop_id}").set_input_files(
        {"name": "proof.png", "mimeType": "image/png", "buffer": parcel_png()})
    deliver = card.locator(f"form[action$='/stops/{stop_id}/deliver'] button[type=submit]")
    deliver.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "driver-deliver.png"))
    deliver.click()
    page.wait_for_url(re.compile(r"/driver/$"))
    expect(page.locator(".flash-success")).to_be_visible()

    with app.app_context():
        stop = db.session.get(Stop, stop_id)
        assert stop.status == StopStatus.DONE and stop.proof["name"] == recipient
        assert (stop.proof["lat"], stop.proof["lon"]) == (POSITION["latitude"], POSITION["longitude"])
        assert "device_at" in stop.proof  # the phone's clock, from the page's script
        photo_id = stop.proof["photo"]
        db.session.remove()
    assert (uploads / "proof" / f"{photo_id}.jpg").is_file()
    made = page.locator("details.drv-made")
    expect(made).to_be_visible()
    if not made.evaluate("d => d.open"):
        made.locator("summary").click()
    expect(made.locator(f"a[href='/driver/photos/{photo_id}']")).to_be_visible()

    # the next stop is first now; its "could not deliver" form opens in place
    fail = page.locator("section.drv-next details.drv-fail")
    fail.locator("summary").click()
    expect(fail.locator("input[name=reason]").first).to_be_visible()
    phone_shot(page, screenshots, "driver-next.png")

    sign_out(page)
    sign_in(page, site, consumer_mobile, DEMO_PASSWORD)
    page.goto(f"{site}/orders/{number}")
    delivery = page.locator("#delivery")
    expect(delivery).to_be_visible()
    expect(delivery).to_contain_text(recipient)
    photo = delivery.locator(f"img[src='/driver/photos/{photo_id}']")
    expect(photo).to_be_visible()
    photo.scroll_into_view_if_needed()
    assert photo.evaluate("img => img.complete && img.naturalWidth") > 0  # served to its consumer
    phone_shot(page, screenshots, "consumer-delivered.png")


def test_back_at_the_warehouse_after_the_last_stop_on_a_phone(
    phone_page: Page, site: str, app: Flask, screenshots: Path
) -> None:
    """Every stop made: the page says to drive back and offers "已回到中仓" (back at the warehouse),
    a big button; tapping it finishes the trip (screenshot driver-back.png, before the tap)."""
    from marketplace.dispatch import services as dispatch
    from marketplace.dispatch.models import Route, RouteStatus

    page = phone_page
    day = give_route(app)
    with app.app_context():
        dispatch.start_route(day.route_id)
        for stop_id in day.stop_ids:
            dispatch.record_stop(stop_id, StopStatus.DONE, proof={"kind": "name", "name": "王晓丽"})
        db.session.remove()
    sign_in(page, site, DEMO_DRIVER, DEMO_PASSWORD)
    back = page.locator(f"form[action$='/routes/{day.route_id}/back'] button")
    expect(back).to_be_visible()
    expect(back).to_have_text("已回到中仓")
    box = back.bounding_box()
    assert box["width"] >= 300 and box["height"] >= 48
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    phone_shot(page, screenshots, "driver-back.png")
    back.click()
    page.wait_for_url(re.compile(r"/driver/$"))
    expect(page.locator(".flash-success")).to_be_visible()
    expect(page.locator(f"form[action$='/routes/{day.route_id}/back']")).to_have_count(0)
    with app.app_context():
        assert db.session.get(Route, day.route_id).status == RouteStatus.DONE
        db.session.remove()
