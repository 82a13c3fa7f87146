"""Filing a complaint: the consumer's page (phone first), the links to the delivery record, the
SLA due times, photos and their attacks, a double tap, another consumer's order, phone intake."""

from __future__ import annotations

import io

import sqlalchemy as sa

from marketplace import uploads
from marketplace.extensions import db
from marketplace.models import Complaint, ComplaintEvent, Role, Stop
from tests.conftest import login
from tests.marketplace.complaints.conftest import consumer_login, delivered_order, form_token
from tests.marketplace.images import bomb_png, jpeg_bytes, png_bytes

#: complaints filed through intake (the demo data has complaints of its own, without a key)
NEW = Complaint.idempotency_key.is_not(None)
NEW_COUNT = sa.select(sa.func.count()).select_from(Complaint).where(NEW)


def _post(client, number, token, key, **fields):
    data = {"csrf_token": token, "idempotency_key": key, "category": "damaged",
            "text": "The jar arrived broken, tea everywhere.", **fields}
    return client.post(f"/orders/{number}/complaint", data=data, content_type="multipart/form-data")


def test_consumer_files_a_complaint_linked_to_the_delivery_with_photos(app, delivered, client, clock):
    consumer_login(client, delivered.mobile)
    page = client.get(f"/orders/{delivered.number}")
    assert f'/orders/{delivered.number}/complaint' in page.get_data(as_text=True)
    token, key = form_token(client, f"/orders/{delivered.number}/complaint")
    clock.at_local("19:30", tick=False)
    response = _post(client, delivered.number, token, key, lines=[str(delivered.line_ids[0])],
                     photos=[(io.BytesIO(jpeg_bytes((1200, 900))), "a.jpg"), (io.BytesIO(png_bytes()), "b.png")])
    assert response.status_code == 302 and response.headers["Location"].endswith("#complaints")
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(NEW))
        stop = db.session.get(Stop, delivered.stop_id)
        assert (c.order_id, c.stop_id, c.route_id, c.vehicle_id) == (
            delivered.order_id, delivered.stop_id, delivered.route_id, delivered.vehicle_id)
        line = c.order.lines[0]
        assert c.product_id == line.product_id and c.cooperative_id == line.product.cooperative_id
        assert c.line_ids == [delivered.line_ids[0]] and c.batch_id == line.batch_id
        assert c.driver_id == stop.route.vehicle.driver_id
        assert c.category.value == "damaged" and c.status.value == "open" and c.channel == "web"
        assert len(c.photos) == 2 and all(uploads.path_of(p, "complaint").is_file() for p in c.photos)
        # filed 19:30 with a 60-minute first response: 30 minutes today, 30 from 08:00 tomorrow
        local = c.first_response_due_at.astimezone(clock.local_now().tzinfo)
        assert (local.hour, local.minute) == (8, 30) and local.date() > clock.local_now().date()
        assert [e.kind for e in c.events] == ["filed"]
        number = c.number
        photo = c.photos[0]
    detail = client.get(f"/orders/{delivered.number}").get_data(as_text=True)
    assert number in detail and "The jar arrived broken" in detail
    assert client.get(f"/orders/{delivered.number}/complaints/{number}/photos/{photo}").status_code == 200


def test_a_double_tap_files_one_complaint(app, delivered, client):
    consumer_login(client, delivered.mobile)
    token, key = form_token(client, f"/orders/{delivered.number}/complaint")
    first = _post(client, delivered.number, token, key)
    second = _post(client, delivered.number, token, key)
    assert first.status_code == second.status_code == 302
    with app.app_context():
        assert db.session.scalar(NEW_COUNT) == 1
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ComplaintEvent).join(Complaint).where(NEW)) == 1


def test_another_consumers_order_is_not_found(app, seeded, client):
    mine = delivered_order(app)
    theirs = delivered_order(app, not_of_user=mine.user_id)
    assert mine.user_id != theirs.user_id
    consumer_login(client, mine.mobile)
    assert client.get(f"/orders/{theirs.number}/complaint").status_code == 404
    token, key = form_token(client, f"/orders/{mine.number}/complaint")
    assert _post(client, theirs.number, token, key).status_code == 404
    with app.app_context():
        assert db.session.scalar(NEW_COUNT) == 0


def test_validation_refuses_with_a_message_and_stores_nothing(app, delivered, client):
    consumer_login(client, delivered.mobile)
    token, key = form_token(client, f"/orders/{delivered.number}/complaint")
    cases = [
        ({"text": ""}, "Tell us what happened"),
        ({"text": "x" * 2001}, "Between"),
        ({"category": "bored"}, "complaint-categories has-error"),
        ({"photos": [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(4)]}, "At most 3 photos"),
    ]
    for fields, message in cases:
        response = client.post(f"/orders/{delivered.number}/complaint", content_type="multipart/form-data",
                               data={"csrf_token": token, "idempotency_key": key, "category": "late",
                                     "text": "It came two hours late.", **fields})
        assert response.status_code == 200, fields
        assert message in response.get_data(as_text=True), fields
    with app.app_context():
        assert db.session.scalar(NEW_COUNT) == 0


def test_photo_attacks_are_refused_and_nothing_is_stored(app, delivered, client):
    consumer_login(client, delivered.mobile)
    token, key = form_token(client, f"/orders/{delivered.number}/complaint")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    attacks = [
        (b"%PDF-1.4 not a picture", "x.jpg", "not a photo"),
        (svg, "x.svg", "not a photo"),
        (bomb_png(), "bomb.png", "megapixels"),
        (b"\xff\xd8\xff" + b"0" * (uploads.MAX_BYTES + 10), "big.jpg", "larger than"),
    ]
    for data, name, message in attacks:
        response = client.post(f"/orders/{delivered.number}/complaint", content_type="multipart/form-data",
                               data={"csrf_token": token, "idempotency_key": key, "category": "damaged",
                                     "text": "Broken on arrival.",
                                     "photos": [(io.BytesIO(png_bytes()), "good.png"), (io.BytesIO(data), name)]})
        assert response.status_code == 200, name
        assert message in response.get_data(as_text=True), name
    with app.app_context():
        assert db.session.scalar(NEW_COUNT) == 0
        stored = uploads.folder("complaint")
        assert not stored.exists() or not [p for p in stored.rglob("*") if p.is_file()]
    # a path in the file's name is never used: the photo is stored under a generated name
    ok = client.post(f"/orders/{delivered.number}/complaint", content_type="multipart/form-data",
                     data={"csrf_token": token, "idempotency_key": key, "category": "damaged", "text": "Broken.....",
                           "photos": [(io.BytesIO(png_bytes()), "../../../etc/passwd.png")]})
    assert ok.status_code == 302
    with app.app_context():
        photo = db.session.scalar(sa.select(Complaint).where(NEW)).photos[0]
        assert uploads.PHOTO_ID.fullmatch(photo) and uploads.path_of(photo, "complaint").is_file()


def test_staff_file_a_complaint_for_a_phone_call(app, delivered, client, make_user):
    staff = make_user(role=Role.COMPLAINT_STAFF, name="Li")
    login(client, staff.mobile)
    found = client.get(f"/complaints/new?q={delivered.mobile}").get_data(as_text=True)
    assert delivered.number in found
    by_number = client.get(f"/complaints/new?q={delivered.number}").get_data(as_text=True)
    assert f"/complaints/new?order={delivered.number}" in by_number
    path = f"/complaints/new?order={delivered.number}"
    token, key = form_token(client, path)
    response = client.post(path, data={"csrf_token": token, "idempotency_key": key, "category": "courier_conduct",
                                       "text": "The driver was rude on the phone."})
    assert response.status_code == 302
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(NEW))
        assert c.user_id == delivered.user_id and c.filed_by_id == staff.id and c.channel == "phone"
        assert c.route_id == delivered.route_id
    assert client.get("/complaints/new?order=SH000000000000").status_code == 404
