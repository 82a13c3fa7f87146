"""The driver's page over HTTP: only drivers, only their own route (another driver's ids are
not found), every action a CSRF-checked POST that redirects back, photos checked and served
only to who may see them, and the consumer's order page showing the delivery."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from marketplace.dispatch.models import Route, RouteStatus, Stop, StopStatus
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, Role, User
from tests.conftest import CSRF_RE, login
from tests.marketplace.images import jpeg_bytes, noise_png, png_bytes

from .conftest import DEMO_DRIVER, DEMO_PASSWORD, other_driver


def signed_in(app, mobile: str, password: str = DEMO_PASSWORD, lang: str = "en"):
    """Signed in, reading the pages in English (the text checked below is the messages' own,
    whether or not the Chinese catalog has them yet)."""
    client = app.test_client()
    response = login(client, mobile, password)
    assert response.status_code == 302, response.status_code
    if lang == "en":
        client.post("/lang/en", data={"csrf_token": token(client, "/account/password")})
    return client


def token(client, path: str = "/driver/") -> str:
    return CSRF_RE.search(client.get(path).get_data(as_text=True)).group(1)


def post(client, path: str, data: dict | None = None, **files):
    form = {"csrf_token": token(client), **(data or {})}
    for name, (content, filename) in files.items():
        form[name] = (io.BytesIO(content), filename)
    return client.post(path, data=form, content_type="multipart/form-data" if files else None)


def follow(client, response) -> str:
    assert response.status_code == 303, response.status_code
    return client.get(response.headers["Location"]).get_data(as_text=True)


def consumer_of(app, stop_id: int) -> tuple[str, str]:
    with app.app_context():
        order = db.session.get(Stop, stop_id).order
        return order.user.mobile, order.number


def test_the_driver_lands_on_their_route(app, day):
    chinese = signed_in(app, DEMO_DRIVER, lang="zh_CN")
    assert chinese.get("/home").headers["Location"].endswith("/driver/")
    assert '<html lang="zh-CN">' in chinese.get("/driver/").get_data(as_text=True)  # Chinese by default
    client = signed_in(app, DEMO_DRIVER)
    page = client.get("/driver/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    with app.app_context():
        first = db.session.get(Stop, day.stop_ids[0])
        plate = first.route.vehicle.plate
        mobile = first.order.recipient_mobile if first.kind == "delivery" else first.location.cooperative.head_mobile
    assert "My route" in html and plate in html and "Next stop" in html
    assert "Start route" in html
    assert f'href="tel:{mobile}"' in html
    assert html.index(f'id="stop-{day.stop_ids[0]}"') < html.index(f'id="stop-{day.stop_ids[1]}"')
    assert 'src="/static/js/driver.js' in html and "<svg" in html


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.COOP_HEAD, Role.DISPATCHER, Role.COMPLAINT_STAFF, Role.OPERATOR])
def test_other_roles_are_refused(app, day, make_user, role):
    user = make_user(role)
    client = signed_in(app, user.mobile, "Shanhuo2026")
    assert client.get("/driver/").status_code == 403
    assert post(client, f"/driver/routes/{day.route_id}/start", ).status_code in (400, 403)


def test_signed_out_visitors_are_sent_to_sign_in(app, day):
    response = app.test_client().get("/driver/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_actions_need_the_csrf_token(app, day):
    client = signed_in(app, DEMO_DRIVER)
    assert client.post(f"/driver/routes/{day.route_id}/start").status_code == 400
    with app.app_context():
        assert db.session.get(Route, day.route_id).status == RouteStatus.PLANNED


def test_start_arrive_deliver_with_a_photo(app, day, uploads):
    client = signed_in(app, DEMO_DRIVER)
    html = follow(client, post(client, f"/driver/routes/{day.route_id}/start"))
    assert "Route started" in html and "Start route" not in html
    stop_id = day.delivery_ids[0]
    html = follow(client, post(client, f"/driver/stops/{stop_id}/arrive", {"lat": "28.6", "lon": "119.3"}))
    assert "Arrival recorded" in html
    response = post(client, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽", "lat": "28.6", "lon": "119.3",
                                                                 "accuracy": "8"},
                    photo=(jpeg_bytes((3000, 2000)), "IMG_0001.jpg"))
    assert response.headers["Location"].endswith("/driver/")  # the next stop is first there
    html = follow(client, response)
    assert "Delivered. Thank you!" in html
    with app.app_context():
        stop = db.session.get(Stop, stop_id)
        assert stop.status == StopStatus.DONE and stop.proof["name"] == "王晓丽"
        assert stop.proof["lat"] == 28.6 and stop.order.status == OrderStatus.DELIVERED
        photo_id = stop.proof["photo"]
    stored = list((uploads / "proof").iterdir())
    assert [p.name for p in stored] == [f"{photo_id}.jpg"]
    assert stored[0].read_bytes()[:3] == b"\xff\xd8\xff" and stored[0].stat().st_size < 400_000
    # a double tap: nothing new, no second file
    html = follow(client, post(client, f"/driver/stops/{stop_id}/deliver", {"name": "别人"},
                               photo=(png_bytes(), "again.png")))
    assert "already recorded" in html
    assert len(list((uploads / "proof").iterdir())) == 1
    with app.app_context():
        assert db.session.get(Stop, stop_id).proof["name"] == "王晓丽"
    # the stop is among those made, with its photo
    assert f'/driver/photos/{photo_id}' in client.get("/driver/").get_data(as_text=True)


def test_a_refused_photo_is_said_and_records_nothing(app, day, uploads):
    client = signed_in(app, DEMO_DRIVER)
    stop_id = day.delivery_ids[0]
    html = follow(client, post(client, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽"},
                               photo=(b"MZ\x90\x00 an executable, called a photo", "photo.jpg")))
    assert "This file is not a photo" in html
    html = follow(client, post(client, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽"},
                               photo=(noise_png((1800, 1700)), "huge.png")))
    assert "larger than 8 MB" in html
    with app.app_context():
        assert db.session.get(Stop, stop_id).status == StopStatus.PENDING
    assert not (uploads / "proof").exists() or not list((uploads / "proof").iterdir())


def test_a_request_far_over_the_limit_is_refused_with_the_same_message(app, day, uploads):
    client = signed_in(app, DEMO_DRIVER)
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 64 * 1024  # (a small limit: the test need not send 16 MB)
    try:
        response = post(client, f"/driver/stops/{day.delivery_ids[0]}/deliver", {"name": "王晓丽"},
                        photo=(noise_png((200, 200)), "big.png"))
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert "larger than 8 MB" in follow(client, response)


def test_delivering_without_proof_asks_for_it(app, day):
    client = signed_in(app, DEMO_DRIVER)
    html = follow(client, post(client, f"/driver/stops/{day.delivery_ids[0]}/deliver", {"name": " "}))
    assert "Enter the name of the person who took the goods, or take a photo." in html


def test_a_failed_delivery_shows_its_reason_to_the_consumer(app, day):
    client = signed_in(app, DEMO_DRIVER)
    stop_id = day.delivery_ids[0]
    html = follow(client, post(client, f"/driver/stops/{stop_id}/fail", {"reason": "nonsense"}))
    assert "Choose why the stop could not be made." in html
    html = follow(client, post(client, f"/driver/stops/{stop_id}/fail", {"reason": "refused", "note": "嫌贵 不要了"}))
    with app.app_context():
        stop = db.session.get(Stop, stop_id)
        assert stop.status == StopStatus.FAILED and stop.proof["note"] == "嫌贵 不要了"
    mobile, number = consumer_of(app, stop_id)
    consumer = signed_in(app, mobile)
    page = consumer.get(f"/orders/{number}").get_data(as_text=True)
    assert 'id="delivery"' in page and "Refused by the recipient" in page
    assert "嫌贵" not in page  # the driver's note is for the staff


def test_another_drivers_ids_are_not_found(app, day, make_user, uploads):
    other = other_driver(app, make_user)
    client = signed_in(app, "13800001111", "Shanhuo2026")
    assert client.get("/driver/").status_code == 200
    for path in (f"/driver/routes/{day.route_id}/start", f"/driver/stops/{day.stop_ids[0]}/arrive",
                 f"/driver/stops/{day.delivery_ids[0]}/deliver", f"/driver/stops/{day.delivery_ids[0]}/fail"):
        assert post(client, path, {"name": "x", "reason": "refused"}).status_code == 404, path
    with app.app_context():
        assert db.session.get(Route, day.route_id).status == RouteStatus.PLANNED
        assert db.session.get(Stop, day.delivery_ids[0]).status == StopStatus.PENDING
    # and their own route works
    assert post(client, f"/driver/routes/{other.route_id}/start").status_code == 303


def test_a_proof_photo_is_shown_only_to_who_may_see_it(app, day, make_user, uploads):
    driver = signed_in(app, DEMO_DRIVER)
    stop_id = day.delivery_ids[0]
    post(driver, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽"}, photo=(png_bytes(), "p.png"))
    with app.app_context():
        photo_id = db.session.get(Stop, stop_id).proof["photo"]
    url = f"/driver/photos/{photo_id}"
    mobile, number = consumer_of(app, stop_id)
    other_driver(app, make_user)
    staff = {role: make_user(role) for role in (Role.DISPATCHER, Role.OPERATOR, Role.COOP_HEAD, Role.COMPLAINT_STAFF,
                                                Role.CONSUMER)}
    expected = {
        "the route's driver": (driver, 200),
        "the order's consumer": (signed_in(app, mobile), 200),
        "a dispatcher": (signed_in(app, staff[Role.DISPATCHER].mobile, "Shanhuo2026"), 200),
        "an operator": (signed_in(app, staff[Role.OPERATOR].mobile, "Shanhuo2026"), 200),
        "another driver": (signed_in(app, "13800001111", "Shanhuo2026"), 404),
        "another consumer": (signed_in(app, staff[Role.CONSUMER].mobile, "Shanhuo2026"), 404),
        "a cooperative head": (signed_in(app, staff[Role.COOP_HEAD].mobile, "Shanhuo2026"), 403),
        "complaint staff": (signed_in(app, staff[Role.COMPLAINT_STAFF].mobile, "Shanhuo2026"), 403),
    }
    for who, (client, status) in expected.items():
        response = client.get(url)
        assert response.status_code == status, who
        if status == 200:
            assert response.mimetype == "image/jpeg" and response.data[:3] == b"\xff\xd8\xff", who
            assert "private" in response.headers["Cache-Control"], who
    signed_out = app.test_client().get(url)
    assert signed_out.status_code == 302 and "/login" in signed_out.headers["Location"]
    for bad in (f"{stop_id}-{'0' * 32}", "..%2F..%2Fsecret_key", f"{day.delivery_ids[1]}-{photo_id.split('-')[1]}",
                photo_id + ".jpg"):
        assert driver.get(f"/driver/photos/{bad}").status_code == 404, bad


def test_the_consumer_sees_the_delivery_with_its_proof(app, day, uploads):
    driver = signed_in(app, DEMO_DRIVER)
    stop_id = day.delivery_ids[0]
    post(driver, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽"}, photo=(png_bytes(), "p.png"))
    with app.app_context():
        stop = db.session.get(Stop, stop_id)
        photo_id, at = stop.proof["photo"], stop.actual_departure_at
    mobile, number = consumer_of(app, stop_id)
    consumer = signed_in(app, mobile)
    page = consumer.get(f"/orders/{number}").get_data(as_text=True)
    section = page[page.index('id="delivery"'):]
    assert "Delivered" in section and "Received by 王晓丽" in section
    from marketplace.i18n import local_time

    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert local_time(at, "yyyy-MM-dd HH:mm") in section
    assert re.search(rf'<img src="/driver/photos/{photo_id}"', section)
    assert consumer.get(f"/driver/photos/{photo_id}").status_code == 200


def test_an_order_not_delivered_yet_shows_no_delivery_section(app, day):
    mobile, number = consumer_of(app, day.delivery_ids[0])
    page = signed_in(app, mobile).get(f"/orders/{number}").get_data(as_text=True)
    assert 'id="delivery"' not in page
    with app.app_context():
        assert db.session.scalar(sa.select(Order.status).where(Order.number == number)) != OrderStatus.DELIVERED
        assert db.session.scalar(sa.select(User.id).where(User.mobile == mobile)) is not None


def test_back_at_the_warehouse_after_the_last_stop(app, day):
    """Every stop made: the page offers "Back at the warehouse", which finishes the trip (the van
    is at its depot for the next one); before that the button is not there and the action says
    stops are left."""
    client = signed_in(app, DEMO_DRIVER)
    follow(client, post(client, f"/driver/routes/{day.route_id}/start"))
    assert "Back at the warehouse" not in client.get("/driver/").get_data(as_text=True)
    assert "still has stops to make" in follow(client, post(client, f"/driver/routes/{day.route_id}/back"))
    for stop_id in day.stop_ids:
        post(client, f"/driver/stops/{stop_id}/deliver", {"name": "王晓丽"})
    html = client.get("/driver/").get_data(as_text=True)
    assert "Every stop is made" in html and "Back at the warehouse" in html
    html = follow(client, post(client, f"/driver/routes/{day.route_id}/back"))
    assert "ready for its next trip" in html
    with app.app_context():
        route = db.session.get(Route, day.route_id)
        assert route.status == RouteStatus.DONE
        ended = route.end_at
    follow(client, post(client, f"/driver/routes/{day.route_id}/back"))  # a double tap changes nothing
    with app.app_context():
        assert db.session.get(Route, day.route_id).end_at == ended
