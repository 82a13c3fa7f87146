"""Helpers of the complaint tests: a delivered demo order with its stop, route and vehicle, and
its consumer signed in."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, Stop
from seed.load import DEMO_PASSWORD
from tests.conftest import csrf_token, login


@dataclass
class Delivered:
    number: str
    order_id: int
    user_id: int
    mobile: str
    stop_id: int
    route_id: int
    vehicle_id: int
    line_ids: list[int]


def delivered_order(app, not_of_user: int | None = None) -> Delivered:
    with app.app_context():
        stop = db.session.scalars(
            sa.select(Stop).join(Order, Order.id == Stop.order_id)
            .where(Stop.kind == "delivery", Stop.status == "done", Order.status == "delivered",
                   Order.user_id != (not_of_user or 0))
            .order_by(Stop.id).limit(1)).one()
        order = stop.order
        found = Delivered(order.number, order.id, order.user_id, order.user.mobile, stop.id, stop.route_id,
                          stop.route.vehicle_id, [line.id for line in order.lines])
        db.session.remove()
        return found


@pytest.fixture(autouse=True)
def _own_upload_dir(request, tmp_path):
    """Photos of these tests go to a folder of their own (so "nothing stored" can be checked)."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield
    app.config["UPLOAD_DIR"] = before


@pytest.fixture
def delivered(app, seeded_at) -> Delivered:
    """At 10:30 in Shanghai whatever the session's clock: the tests move the clock forward
    through the business day (SLA clocks), after signing in."""
    seeded_at("10:30")
    return delivered_order(app)


def consumer_login(client, mobile: str) -> None:
    response = login(client, mobile, DEMO_PASSWORD)
    assert response.status_code == 302
    english(client)


def english(client) -> None:
    """The pages in English (messages are asserted in English)."""
    with client.session_transaction() as session:
        session["lang"] = "en"


def form_token(client, path: str) -> tuple[str, str]:
    """(csrf token, idempotency key) of the form at ``path``."""
    import re

    html = client.get(path).get_data(as_text=True)
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="idempotency_key"', html)
    assert key, f"no idempotency key on {path}"
    return csrf_token(client, path), key.group(1)
