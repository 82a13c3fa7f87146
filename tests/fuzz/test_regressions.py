"""What the fuzz and its invariants found, one focused test each.

1. An id beyond 2^31-1 in DELETE /api/v1/cart/items/{id} answered 405, not 404: the PUT rule on the
   same path matched and recorded its method before the bounded converter refused the id (now the
   bound is in the converter's pattern).
2. A delivered order kept its units reserved for ever (record_stop never shipped the stock).
"""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, Plan, Route, Stop, StopStatus
from tests.invariants import check_invariants

BEYOND = 2**31 - 1 + 3_000_000_000  # an id no 32-bit integer column can hold


def test_an_id_beyond_the_id_range_is_not_found_whatever_the_method(app, make_user):
    from marketplace.auth import services as auth_services
    from marketplace.models import User

    user = make_user(mobile="13811117777")
    with app.app_context():
        token = auth_services.issue_token(db.session.get(User, user.id), "test")
        db.session.remove()
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    put = client.put(f"/api/v1/cart/items/{BEYOND}", json={"quantity": 1}, headers=headers)
    if put.status_code != 404:
        raise RuntimeError(f"PUT answers {put.status_code}: the premise of this test changed")
    assert client.delete(f"/api/v1/cart/items/{BEYOND}", headers=headers).status_code == 404


def test_a_delivered_order_holds_no_stock_any_more(app, world):
    from marketplace.dispatch import services as dispatch

    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == world.order_numbers[1]))
        stop = db.session.scalar(sa.select(Stop).join(Route).join(Plan).where(
            Stop.order_id == order.id, Stop.kind == "delivery", Plan.status == "active"))
        if stop is None:
            raise RuntimeError("the cash-on-delivery order is on no route of an active plan")
        dispatch.start_route(stop.route_id)
        dispatch.record_stop(stop.id, StopStatus.DONE)
        db.session.refresh(order)
        if order.status != "delivered":
            raise RuntimeError(f"the order is {order.status}, not delivered")
        db.session.remove()
        assert check_invariants() == []
