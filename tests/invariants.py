"""Invariants of the stored data that no request, job or race may break, read with plain SQL.

:func:`check_invariants` returns every violation as a line of text (an empty list: all hold):

1. stock is never negative: on hand ≥ 0, 0 ≤ reserved ≤ on hand, batch quantities ≥ 0;
2. reserved stock is exactly what the open orders' lines hold, per stock row (a line reserves
   its units at its ``source_location_id`` when the order is placed; a cancellation or an expiry
   releases them), and no open order holds units where there is no stock row;
3. no more money goes back than came in: a payment's refunds (those not failed) never exceed its
   amount, an order's refunds never exceed what was paid for it (its succeeded payments, plus the
   payments returned after the fact, each at most once), and every refund names a payment of
   its own order;
4. no order without lines.

Used by the fuzz tests (tests/fuzz) and the promise state machine
(tests/marketplace/planning/test_promise_machine.py). Pass a connection to check one snapshot
(a REPEATABLE READ transaction); without one, what is committed is read.
"""

from __future__ import annotations

from collections import defaultdict

import sqlalchemy as sa

from marketplace.catalog.models import Batch
from marketplace.extensions import db
from marketplace.inventory.models import Stock
from marketplace.orders.models import Order, OrderLine, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus, Refund, RefundStatus

#: the orders whose lines hold reserved units (placed and not yet cancelled, expired or delivered)
OPEN_STATUSES = (OrderStatus.PENDING_PAYMENT.value, OrderStatus.CONFIRMED.value, OrderStatus.DISPATCHED.value)


def stock_violations(conn: sa.Connection) -> list[str]:
    """Invariants 1 and 2: stock never negative, reserved = the open orders' quantities."""
    problems: list[str] = []
    wanted = {(product_id, location_id): int(quantity) for product_id, location_id, quantity in conn.execute(
        sa.select(OrderLine.product_id, OrderLine.source_location_id, sa.func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id).where(Order.status.in_(OPEN_STATUSES))
        .group_by(OrderLine.product_id, OrderLine.source_location_id))}
    for stock in conn.execute(sa.select(Stock.id, Stock.product_id, Stock.location_id, Stock.on_hand, Stock.reserved)
                              .order_by(Stock.id)):
        want = wanted.pop((stock.product_id, stock.location_id), 0)
        if stock.reserved != want:
            problems.append(f"stock {stock.id}: reserved {stock.reserved}, open orders hold {want}")
        if stock.on_hand < 0 or stock.reserved < 0 or stock.reserved > stock.on_hand:
            problems.append(f"stock {stock.id}: on hand {stock.on_hand}, reserved {stock.reserved}")
    for (product_id, location_id), quantity in sorted(wanted.items()):
        problems.append(f"open orders hold {quantity} of product {product_id} at {location_id}: no stock row")
    for batch_id, quantity in conn.execute(sa.select(Batch.id, Batch.quantity).where(Batch.quantity < 0)):
        problems.append(f"batch {batch_id}: quantity {quantity}")
    return problems


def money_violations(conn: sa.Connection) -> list[str]:
    """Invariant 3: paid ≥ refunded, per payment and per order."""
    problems: list[str] = []
    payments = {row.id: row for row in conn.execute(
        sa.select(Payment.id, Payment.order_id, Payment.amount_fen, Payment.status))}
    refunded_of_payment: dict[int, int] = defaultdict(int)
    refunds_of_payment: dict[int, int] = defaultdict(int)
    refunded_of_order: dict[int, int] = defaultdict(int)
    for refund in conn.execute(sa.select(Refund.id, Refund.order_id, Refund.payment_id, Refund.amount_fen)
                               .where(Refund.status != RefundStatus.FAILED.value).order_by(Refund.id)):
        refunded_of_order[refund.order_id] += refund.amount_fen
        payment = payments.get(refund.payment_id)
        if payment is None:
            problems.append(f"refund {refund.id} of order {refund.order_id}: no payment")
            continue
        if payment.order_id != refund.order_id:
            problems.append(f"refund {refund.id} of order {refund.order_id} against payment {payment.id} "
                            f"of order {payment.order_id}")
        refunded_of_payment[payment.id] += refund.amount_fen
        refunds_of_payment[payment.id] += 1
    paid_for_order: dict[int, int] = defaultdict(int)
    for payment in payments.values():
        refunded = refunded_of_payment.get(payment.id, 0)
        if refunded > payment.amount_fen:
            problems.append(f"payment {payment.id} ({payment.status}) of {payment.amount_fen} fen: "
                            f"{refunded} fen refunded")
        if payment.status == PaymentStatus.SUCCEEDED.value:
            paid_for_order[payment.order_id] += payment.amount_fen
        elif refunded:  # money taken after the order could take it, given back (once)
            if refunds_of_payment[payment.id] > 1:
                problems.append(f"payment {payment.id} ({payment.status}) returned "
                                f"{refunds_of_payment[payment.id]} times")
            paid_for_order[payment.order_id] += payment.amount_fen
    for order_id, refunded in sorted(refunded_of_order.items()):
        if refunded > paid_for_order.get(order_id, 0):
            problems.append(f"order {order_id}: {refunded} fen refunded, {paid_for_order.get(order_id, 0)} fen paid")
    return problems


def order_violations(conn: sa.Connection) -> list[str]:
    """Invariant 4: every order has lines."""
    lineless = conn.scalars(sa.select(Order.id).where(~sa.exists().where(OrderLine.order_id == Order.id))
                            .order_by(Order.id))
    return [f"order {order_id}: no lines" for order_id in lineless]


def check_invariants(conn: sa.Connection | None = None) -> list[str]:
    """Every violation of the invariants above (empty: they all hold). Needs an app context."""
    if conn is None:
        with db.engine.connect() as own:
            return check_invariants(own)
    return stock_violations(conn) + money_violations(conn) + order_violations(conn)
