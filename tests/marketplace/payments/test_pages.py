"""The provider's hosted page, the return page, and the whole flow a consumer goes through."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
from werkzeug.serving import make_server

from marketplace.extensions import db
from marketplace.models import Order, OrderStatus, Payment, PaymentCallback, PaymentStatus
from tests.conftest import CSRF_RE, login

from .conftest import DEMO_PASSWORD, OTHER_MOBILE, OWNER_MOBILE

STATE_RE = re.compile(r'data-payment-state="([a-z]+)"')


def sign_in(client, mobile: str = OWNER_MOBILE) -> None:
    assert login(client, mobile, DEMO_PASSWORD).status_code == 302


def page_token(html: str) -> str:
    match = CSRF_RE.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def state_of(response) -> str:
    match = STATE_RE.search(response.get_data(as_text=True))
    assert match, "no payment state on the return page"
    return match.group(1)


def order_status(app, order_id: int) -> OrderStatus:
    with app.app_context():
        status = db.session.get(Order, order_id).status
        db.session.remove()
        return status


@pytest.fixture
def inline_delivery(app, monkeypatch):
    monkeypatch.setitem(app.config, "PAYMENT_SANDBOX_DELIVERY", "inline")


def test_full_page_flow_pays_the_order(app, client, pending_order, inline_delivery):
    sign_in(client)
    page = client.get(f"/pay/sandbox/{pending_order.provider_ref}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    amount = f"¥{pending_order.amount_fen // 100}.{pending_order.amount_fen % 100:02d}"
    for text in (amount, pending_order.number, "山货 Shanhuo", pending_order.provider_ref):
        assert text in html
    assert 'value="pay"' in html and 'value="cancel"' in html
    countdown = re.search(r'data-seconds-left="(\d+)">([^<]+)<', html)  # the countdown, as text
    assert countdown and 14 * 60 <= int(countdown.group(1)) <= 15 * 60
    assert str(int(countdown.group(1)) // 60) in countdown.group(2)

    paid = client.post(f"/pay/sandbox/{pending_order.provider_ref}/pay", data={"csrf_token": page_token(html)})
    assert paid.status_code == 302
    assert paid.headers["Location"].endswith(f"/pay/return/{pending_order.provider_ref}")
    back = client.get(paid.headers["Location"])
    assert back.status_code == 200
    assert state_of(back) == "confirmed"
    assert "Refresh" not in back.headers
    assert f"/orders/{pending_order.number}" in back.get_data(as_text=True)
    assert order_status(app, pending_order.order_id) == OrderStatus.CONFIRMED
    # The provider page of a paid payment sends the consumer to the confirmation.
    assert client.get(f"/pay/sandbox/{pending_order.provider_ref}").status_code == 302


def test_pay_needs_a_csrf_token(app, client, pending_order, inline_delivery):
    sign_in(client)
    response = client.post(f"/pay/sandbox/{pending_order.provider_ref}/pay")
    assert response.status_code == 400
    assert order_status(app, pending_order.order_id) == OrderStatus.PENDING_PAYMENT


def test_return_page_waits_for_the_bank(client, pending_order):
    sign_in(client)
    response = client.get(f"/pay/return/{pending_order.provider_ref}")
    assert state_of(response) == "waiting"
    assert response.headers["Refresh"] == "2"
    assert '<meta http-equiv="refresh" content="2">' in response.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/pay/sandbox/{ref}", "/pay/return/{ref}"])
def test_another_consumer_cannot_open_the_payment(client, pending_order, path):
    sign_in(client, OTHER_MOBILE)
    assert client.get(path.format(ref=pending_order.provider_ref)).status_code == 404


def test_another_consumer_cannot_pay_or_cancel(app, client, pending_order, inline_delivery):
    sign_in(client, OTHER_MOBILE)
    token = page_token(client.get("/account").get_data(as_text=True))
    for action in ("pay", "cancel"):
        response = client.post(f"/pay/sandbox/{pending_order.provider_ref}/{action}", data={"csrf_token": token})
        assert response.status_code == 404
    assert order_status(app, pending_order.order_id) == OrderStatus.PENDING_PAYMENT


def test_staff_cannot_open_a_consumers_payment(client, pending_order):
    sign_in(client, "13957800010")  # the demo dispatcher
    assert client.get(f"/pay/sandbox/{pending_order.provider_ref}").status_code == 404


def test_signed_out_visitor_is_sent_to_sign_in(client, pending_order):
    response = client.get(f"/pay/sandbox/{pending_order.provider_ref}")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_cancel_goes_back_to_the_order_and_keeps_the_payment_open(app, client, pending_order, inline_delivery):
    sign_in(client)
    html = client.get(f"/pay/sandbox/{pending_order.provider_ref}").get_data(as_text=True)
    response = client.post(f"/pay/sandbox/{pending_order.provider_ref}/cancel", data={"csrf_token": page_token(html)})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/orders/{pending_order.number}")
    with app.app_context():
        payment = db.session.scalar(sa.select(Payment).filter_by(provider_ref=pending_order.provider_ref))
        assert payment.status == PaymentStatus.PENDING
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentCallback)) == 0


def test_expired_payment_cannot_be_paid(app, client, make_pending_order, inline_delivery):
    made = make_pending_order(expires_in=timedelta(seconds=-1))
    sign_in(client)
    page = client.get(f"/pay/sandbox/{made.provider_ref}")
    html = page.get_data(as_text=True)
    assert 'value="pay"' not in html
    response = client.post(f"/pay/sandbox/{made.provider_ref}/pay", data={"csrf_token": page_token(html)})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(PaymentCallback)) == 0
        assert db.session.get(Order, made.order_id).status == OrderStatus.PENDING_PAYMENT


def test_a_declined_payment_can_be_paid_again(app, client, pending_order, notification, send_callback,
                                              inline_delivery):
    assert send_callback({**notification, "status": "failed", "paid_at": None}).get_json() == {"result": "failed"}
    sign_in(client)
    back = client.get(f"/pay/return/{pending_order.provider_ref}")
    assert state_of(back) == "failed"
    again = client.post(f"/pay/orders/{pending_order.number}", data={"csrf_token": page_token(back.get_data(as_text=True))})
    assert again.status_code == 302
    new_page = again.headers["Location"]
    assert "/pay/sandbox/sbx_" in new_page and pending_order.provider_ref not in new_page
    html = client.get(new_page).get_data(as_text=True)
    paid = client.post(new_page + "/pay", data={"csrf_token": page_token(html)})
    assert state_of(client.get(paid.headers["Location"])) == "confirmed"


@pytest.fixture
def live_server(app, monkeypatch):
    """The app served over real HTTP, so that the provider's notification travels by HTTP."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setitem(app.config, "EXTERNAL_BASE_URL", f"http://127.0.0.1:{server.server_port}")
    monkeypatch.setitem(app.config, "PAYMENT_SANDBOX_DELIVERY", "http")
    yield server
    server.shutdown()
    thread.join(timeout=5)


def test_notification_travels_server_to_server_over_http(app, pending_order, live_server):
    client = app.test_client()
    sign_in(client)
    html = client.get(f"/pay/sandbox/{pending_order.provider_ref}").get_data(as_text=True)
    paid = client.post(f"/pay/sandbox/{pending_order.provider_ref}/pay", data={"csrf_token": page_token(html)})
    deadline = time.monotonic() + 15
    while True:
        state = state_of(client.get(paid.headers["Location"]))
        if state == "confirmed" or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert state == "confirmed"
    with app.app_context():
        [row] = db.session.scalars(sa.select(PaymentCallback)).all()
        assert (row.signature_valid, row.outcome) == (True, "paid")


def test_the_notification_goes_to_the_configured_base_whatever_the_host_header(app, pending_order, monkeypatch):
    from marketplace.payments import sandbox

    monkeypatch.setitem(app.config, "PAYMENT_SANDBOX_DELIVERY", "http")
    monkeypatch.setitem(app.config, "EXTERNAL_BASE_URL", "https://shop.example")
    sent: list[str] = []
    done = threading.Event()

    def record(url, body, signature):
        sent.append(url)
        done.set()

    monkeypatch.setattr(sandbox, "post_notification", record)
    client = app.test_client()
    client.environ_base["HTTP_HOST"] = "evil.example"  # every request of this visit names another host
    sign_in(client)
    html = client.get(f"/pay/sandbox/{pending_order.provider_ref}").get_data(as_text=True)
    client.post(f"/pay/sandbox/{pending_order.provider_ref}/pay", data={"csrf_token": page_token(html)})
    assert done.wait(10)
    assert sent == ["https://shop.example/pay/callback"]
