"""A forger hammering POST /pay/callback (issue 19): the audit of refused callbacks stays bounded
(at most 1 KB of a body, with its length and SHA-256; past a few rows a minute, repeats are
counted on one row) and the endpoint is rate-limited per remote address, while the provider's
genuine notification still pays the order, once."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, PaymentCallback
from marketplace.payments import sandbox, services

from .conftest import encode

FORGER = "203.0.113.7"
PROVIDER = "198.51.100.20"
BODY_BYTES = 15 * 1024  # just under the 16 KB the endpoint reads


def forged_body(n: int, size: int = BODY_BYTES) -> bytes:
    body = {"notification_id": f"ntf_forged_{n}", "provider_ref": "sbx_forged", "amount_fen": 1,
            "status": "succeeded", "paid_at": "2026-12-01T00:00:00+00:00", "pad": ""}
    body["pad"] = "x" * (size - len(encode(body)))
    return encode(body)


@pytest.fixture
def post(client):
    def send(raw: bytes, *, source: str = FORGER, signature: str | None = "0" * 64):
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if signature:
            headers[sandbox.SIGNATURE_HEADER] = signature
        return client.post("/pay/callback", data=raw, headers=headers, environ_base={"REMOTE_ADDR": source})

    return send


def audit(app) -> list[PaymentCallback]:
    with app.app_context():
        rows = db.session.scalars(sa.select(PaymentCallback).order_by(PaymentCallback.id)).all()
        db.session.expunge_all()
        db.session.remove()
        return rows


def stored_bytes(rows: list[PaymentCallback]) -> int:
    return sum(len(json.dumps(row.payload)) for row in rows)


def test_the_default_limit_is_generous_for_a_provider_posting_once_per_payment(app):
    assert app.config["CALLBACK_RATE_LIMIT"] == "60 per minute"


def test_a_burst_of_forged_callbacks_costs_bounded_rows_and_bytes_then_429(app, post):
    statuses = [post(forged_body(n)).status_code for n in range(70)]
    assert statuses == [400] * 60 + [429] * 10
    rows = audit(app)
    assert len(rows) == services.AUDIT_ROWS_PER_SOURCE
    assert sum(row.repeats for row in rows) == 60  # every refused callback counted, none lost
    assert {(row.source, row.outcome, row.signature_valid) for row in rows} == {(FORGER, "bad_signature", False)}
    assert rows[-1].repeats == 60 - services.AUDIT_ROWS_PER_SOURCE + 1 and rows[-1].last_received_at is not None
    assert stored_bytes(rows) <= services.AUDIT_ROWS_PER_SOURCE * (services.AUDIT_PAYLOAD_BYTES + 200)
    refused = post(forged_body(99))
    assert refused.status_code == 429
    assert refused.get_json()["error"] == "rate_limited" and "Retry-After" in refused.headers


def test_a_long_body_is_kept_cut_to_one_kilobyte_with_its_length_and_hash(app, post):
    raw = forged_body(1)
    assert post(raw).status_code == 400
    [row] = audit(app)
    assert row.payload["truncated"] is True
    assert (row.payload["length"], row.payload["sha256"]) == (len(raw), hashlib.sha256(raw).hexdigest())
    kept = row.payload["raw"]
    assert raw.decode().startswith(kept) and 900 < len(json.dumps(kept)) <= services.AUDIT_PAYLOAD_BYTES + 2
    assert row.provider_ref == "sbx_forged"


@pytest.mark.parametrize("raw", [bytes(range(1, 32)) * 400, "山货".encode() * 2000, b"\xff\xfe" * 5000],
                         ids=["control characters", "chinese", "not utf-8"])
def test_a_body_that_escapes_badly_is_still_cut_to_one_kilobyte(app, post, raw):
    assert post(raw).status_code == 400
    [row] = audit(app)
    assert len(json.dumps(row.payload["raw"])) <= services.AUDIT_PAYLOAD_BYTES + 2  # (its quotes)
    assert row.payload["length"] == len(raw)


def test_short_bodies_are_kept_whole_as_before(app, post):
    assert post(b"amount=1").status_code == 400
    assert audit(app)[0].payload == {"raw": "amount=1"}


def test_many_addresses_together_are_bounded_too(app, post):
    senders = [f"203.0.113.{n}" for n in range(1, 16)]
    for n in range(8):
        for source in senders:
            assert post(forged_body(n, size=2048), source=source).status_code == 400
    rows = audit(app)
    assert len(rows) <= services.AUDIT_ROWS_PER_MINUTE + 1
    assert sum(row.repeats for row in rows) == 8 * len(senders)


def test_a_minute_later_refused_callbacks_get_rows_again(app, post, clock):
    for n in range(services.AUDIT_ROWS_PER_SOURCE + 5):
        post(forged_body(n, size=512))
    assert len(audit(app)) == services.AUDIT_ROWS_PER_SOURCE
    clock.shift(timedelta(seconds=61))
    assert post(forged_body(99, size=512)).status_code == 400
    assert len(audit(app)) == services.AUDIT_ROWS_PER_SOURCE + 1


def test_the_rate_limit_is_per_address_and_resets(app, post, clock):
    for n in range(60):
        post(forged_body(n, size=256))
    assert post(forged_body(60, size=256)).status_code == 429
    assert post(forged_body(61, size=256), source="203.0.113.99").status_code == 400  # another address
    clock.shift(timedelta(seconds=61))
    assert post(forged_body(62, size=256)).status_code == 400


def test_the_genuine_notification_still_pays_once_after_a_burst(app, post, pending_order, notification):
    while post(forged_body(0)).status_code != 429:
        pass
    raw = encode(notification)
    with app.app_context():
        signature = sandbox.sign(raw)
    paid = post(raw, source=PROVIDER, signature=signature)
    assert (paid.status_code, paid.get_json()) == (200, {"result": "paid"})
    again = post(raw, source=PROVIDER, signature=signature)
    assert (again.status_code, again.get_json()) == (200, {"result": "duplicate"})
    with app.app_context():
        assert db.session.get(Order, pending_order.order_id).status == OrderStatus.CONFIRMED
    rows = [r for r in audit(app) if r.source == PROVIDER]
    assert [(r.outcome, r.notification_id) for r in rows] == [
        ("paid", notification["notification_id"]), ("duplicate", None)]
    assert rows[0].payload == notification  # an applied notification is kept whole


def test_a_signed_but_refused_notification_is_audited_bounded_too(app, post, pending_order, notification):
    raw = encode({**notification, "provider_ref": "sbx_unknown"})
    with app.app_context():
        signature = sandbox.sign(raw)
    for _ in range(services.AUDIT_ROWS_PER_SOURCE + 3):
        assert post(raw, source=PROVIDER, signature=signature).status_code == 404
    rows = audit(app)
    assert len(rows) == services.AUDIT_ROWS_PER_SOURCE
    assert rows[-1].repeats == 4 and {r.outcome for r in rows} == {"unknown_payment"}
