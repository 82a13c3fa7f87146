"""Complaints through the API: filed on one of my orders (photos as base64 in the JSON body, one
complaint per idempotency key), read back with the staff's replies and never their internal notes,
refused with a named field, and another consumer's order or complaint is 404. Every response is
checked against the OpenAPI document by the ``api`` client."""

from __future__ import annotations

import base64
import os
import uuid

import pytest
import sqlalchemy as sa

from marketplace.auth import services as auth_services
from marketplace.extensions import db
from marketplace.models import Complaint, Role, User
from tests.marketplace.complaints.conftest import delivered_order
from tests.marketplace.images import jpeg_bytes, png_bytes

#: complaints filed through intake (the demo's history has complaints of its own, without a key)
FILED = sa.select(sa.func.count()).select_from(Complaint).where(Complaint.idempotency_key.is_not(None))


@pytest.fixture(autouse=True)
def _own_upload_dir(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield
    app.config["UPLOAD_DIR"] = before


def _token(app, user_id: int) -> str:
    with app.app_context():
        return auth_services.issue_token(db.session.get(User, user_id), "test")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _noise_png(width: int, height: int) -> bytes:
    import io
    import random

    from PIL import Image

    noise = random.Random(7).randbytes(width * height * 3)
    out = io.BytesIO()
    Image.frombytes("RGB", (width, height), noise).save(out, "PNG")
    return out.getvalue()


def _filed(app) -> int:
    with app.app_context():
        return db.session.scalar(FILED)


@pytest.fixture
def mine(app, seeded):
    order = delivered_order(app)
    return order, _token(app, order.user_id)


def _body(**fields):
    return {"category": "damaged", "text": "The jar arrived broken, tea everywhere.",
            "idempotency_key": uuid.uuid4().hex, **fields}


def test_a_consumer_files_a_complaint_with_a_photo_and_a_retry_returns_it(app, api, mine):
    order, token = mine
    body = _body(line_ids=[order.line_ids[0]], photos=[_b64(jpeg_bytes((1200, 900)))])
    response = api.post(f"/orders/{order.number}/complaints", body, token=token)
    assert response.status_code == 201, response.get_json()
    filed = response.get_json()
    assert filed["order_number"] == order.number and filed["status"] == "open"
    assert (filed["category"], filed["channel"], filed["line_ids"]) == ("damaged", "api", [order.line_ids[0]])
    assert filed["text"] == body["text"] and filed["replies"] == [] and len(filed["photos"]) == 1
    assert [e["kind"] for e in filed["events"]] == ["filed"]

    with app.app_context():  # linked to the delivery record like a complaint filed on the page
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == filed["number"]))
        assert (c.stop_id, c.route_id, c.vehicle_id) == (order.stop_id, order.route_id, order.vehicle_id)
        assert c.first_response_due_at is not None and c.filed_by_id == order.user_id

    photo = api.get(filed["photos"][0]["url"].split("/api/v1", 1)[1], token=token)
    assert photo.status_code == 200 and photo.mimetype == "image/jpeg" and photo.data[:2] == b"\xff\xd8"

    again = api.post(f"/orders/{order.number}/complaints", body, token=token)  # a retry: the same one
    assert again.status_code == 200 and again.get_json()["number"] == filed["number"]
    by_header = api.post(f"/orders/{order.number}/complaints", {**body, "idempotency_key": None},
                         token=token, headers={"Idempotency-Key": body["idempotency_key"]})
    assert by_header.status_code == 422  # null is not a key: the body's field must be text when sent
    header_only = {k: v for k, v in body.items() if k != "idempotency_key"}
    by_header = api.post(f"/orders/{order.number}/complaints", header_only, token=token,
                         headers={"Idempotency-Key": body["idempotency_key"]})
    assert by_header.status_code == 200 and by_header.get_json()["number"] == filed["number"]
    assert _filed(app) == 1

    listed = api.get(f"/orders/{order.number}/complaints", token=token).get_json()["items"]
    assert filed["number"] in [c["number"] for c in listed]


def test_the_consumer_sees_replies_and_states_never_internal_notes(app, api, mine):
    from marketplace.complaints import services

    order, token = mine
    number = api.post(f"/orders/{order.number}/complaints", _body(category="late", text="Two hours late."),
                      token=token).get_json()["number"]
    with app.app_context():
        staff = db.session.scalar(sa.select(User).where(User.role == Role.COMPLAINT_STAFF))
        services.add_note(number, "Driver says the road was closed (internal).", staff.id)
        services.reply(number, "Sorry! We are checking with the driver.", staff.id)
        key = services.new_key()
        services.coupon(number, 500, key, staff.id, note="goodwill")
        services.coupon(number, 500, key, staff.id, note="goodwill")  # submitted twice: one coupon
    seen = api.get(f"/complaints/{number}", token=token)
    assert seen.status_code == 200
    body = seen.get_json()
    assert body["status"] == "in_progress" and body["first_responded_at"] is not None
    assert [r["body"] for r in body["replies"]] == ["Sorry! We are checking with the driver."]
    assert [(e["kind"], e["to_status"], e["amount_fen"]) for e in body["events"]] == [
        ("filed", "open", None), ("status", "in_progress", None), ("coupon", None, 500)]
    assert "internal" not in seen.get_data(as_text=True)


def test_another_consumers_order_and_complaint_are_not_found(app, api, mine, make_user):
    order, token = mine
    filed = api.post(f"/orders/{order.number}/complaints", _body(photos=[_b64(png_bytes())]), token=token).get_json()
    photo_path = filed["photos"][0]["url"].split("/api/v1", 1)[1]
    other = _token(app, make_user(mobile="13700002222").id)
    before = _filed(app)
    for response in (
        api.post(f"/orders/{order.number}/complaints", _body(), token=other),
        api.get(f"/orders/{order.number}/complaints", token=other),
        api.get(f"/complaints/{filed['number']}", token=other),
        api.get(photo_path, token=other),
        api.get(f"/complaints/{filed['number']}/photos/1-{'0' * 32}", token=token),  # not one of its photos
        api.get("/complaints/CP000", token=token),
        api.get("/orders/SH1/complaints", token=token),
    ):
        assert response.status_code == 404 and response.get_json()["error"] == "not_found"
    assert _filed(app) == before
    assert api.get(f"/complaints/{filed['number']}").status_code == 401  # no token


@pytest.mark.parametrize(("fields", "field"), [
    ({"category": "rude"}, "category"),
    ({"text": "bad"}, "text"),
    ({"text": "x" * 2001}, "text"),
    ({"line_ids": [2147483647]}, "line_ids"),
    ({"line_ids": ["1"]}, "line_ids"),
    ({"line_ids": 1}, "line_ids"),
    ({"photos": ["not base64!"]}, "photos"),
    ({"photos": ["QUJD"]}, "photos"),  # base64 of "ABC": not a picture
    ({"photos": ["QUJ"]}, "photos"),  # broken padding
    ({"photos": [_b64(png_bytes((8, 8)))] * 4}, "photos"),
    ({"idempotency_key": "short"}, "idempotency_key"),
])
def test_bad_input_is_refused_naming_the_field_and_nothing_is_stored(app, api, mine, fields, field):
    order, token = mine
    response = api.post(f"/orders/{order.number}/complaints", _body(**fields), token=token)
    assert response.status_code == 422, response.get_json()
    assert response.get_json()["field"] == field
    assert _filed(app) == 0
    folder = app.config["UPLOAD_DIR"] + "/complaint"
    assert not os.path.isdir(folder) or not os.listdir(folder)


def test_a_key_is_required_and_an_unknown_field_is_400(api, mine):
    order, token = mine
    body = _body()
    del body["idempotency_key"]
    response = api.post(f"/orders/{order.number}/complaints", body, token=token)
    assert response.status_code == 422 and response.get_json()["field"] == "idempotency_key"
    response = api.post(f"/orders/{order.number}/complaints", _body(priority=1), token=token)
    assert response.status_code == 400 and response.get_json()["field"] == "priority"


def test_photos_may_make_the_body_larger_than_other_bodies_but_not_without_bound(app, api, mine):
    order, token = mine
    app.config["UPLOAD_MAX_BYTES"] = 200_000
    try:
        big = _b64(_noise_png(200, 150))  # noise does not compress: about 90 kB
        assert len(big) > 64 * 1024 and len(base64.b64decode(big)) < 200_000
        response = api.post(f"/orders/{order.number}/complaints", _body(photos=[big]), token=token)
        assert response.status_code == 201, response.get_json()
        huge = "A" * (4 * 200_000)
        response = api.post(f"/orders/{order.number}/complaints", _body(photos=[huge] * 3), token=token)
        assert response.status_code == 413
    finally:
        app.config.pop("UPLOAD_MAX_BYTES")


def test_the_document_describes_photos_as_base64_in_json(api):
    document = api.get("/openapi.json").get_json()
    operation = document["paths"]["/orders/{number}/complaints"]["post"]
    assert set(operation["requestBody"]["content"]) == {"application/json"}
    schema = document["components"]["schemas"]["NewComplaint"]
    photos = schema["properties"]["photos"]
    assert photos["maxItems"] == 3 and photos["items"]["format"] == "byte"
    assert schema["required"] == ["category", "text"] and schema["additionalProperties"] is False
    assert {"200", "201", "400", "401", "403", "404", "409", "413", "422"} <= set(operation["responses"])
