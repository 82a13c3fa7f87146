"""The invariant checker the fuzz relies on finds each kind of broken data (a checker that always
says "fine" would make every fuzz run pass)."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.models import Order, OrderLine, Payment, Refund, Stock
from tests.invariants import check_invariants


def _violations(app) -> list[str]:
    with app.app_context():
        found = check_invariants()
        db.session.remove()
    return found


def test_the_checker_finds_each_kind_of_broken_data(app, world):
    assert _violations(app) == []
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == world.order_numbers[0]))
        line = order.lines[0]
        stock = db.session.scalar(sa.select(Stock).where(Stock.product_id == line.product_id,
                                                         Stock.location_id == line.source_location_id))
        stock.reserved -= 1  # one unit of an open order no longer reserved
        db.session.commit()
        stock_id, reserved, order_id = stock.id, stock.reserved, order.id
    assert _violations(app) == [f"stock {stock_id}: reserved {reserved}, open orders hold {reserved + 1}"]

    with app.app_context():
        db.session.get(Stock, stock_id).reserved += 1
        payment = db.session.scalar(sa.select(Payment).where(Payment.order_id == order_id))
        db.session.add(Refund(order_id=order_id, payment_id=payment.id, amount_fen=payment.amount_fen + 1,
                              status="succeeded"))  # more back than the payment (not even paid)
        db.session.commit()
        payment_id, amount = payment.id, payment.amount_fen
    found = _violations(app)
    assert f"payment {payment_id} (pending) of {amount} fen: {amount + 1} fen refunded" in found
    assert f"order {order_id}: {amount + 1} fen refunded, {amount} fen paid" in found

    with app.app_context():
        db.session.execute(sa.delete(Refund))
        cod = db.session.scalar(sa.select(Order).where(Order.number == world.order_numbers[1]))
        db.session.execute(sa.delete(OrderLine).where(OrderLine.order_id == cod.id))
        db.session.commit()
        cod_id = cod.id
    found = _violations(app)
    assert f"order {cod_id}: no lines" in found
    assert any(v.startswith(f"stock {stock_id}: reserved") for v in found)  # its units are still reserved
