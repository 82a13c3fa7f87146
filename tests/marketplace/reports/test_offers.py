"""The checkout quote records what it offered (one row per consumer, zone and 10-minute slot), and
the order placed after it records the class chosen."""

from __future__ import annotations

import uuid
from datetime import timedelta

import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.models import Address
from marketplace.reports import offers
from marketplace.reports.offers import WindowOffer
from tests.marketplace.checkout.conftest import make_shop


def _rows(user_id: int) -> list[WindowOffer]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(WindowOffer).where(WindowOffer.user_id == user_id)
                                   .order_by(WindowOffer.slot_at)))


def _codes(quote) -> str:
    return offers.offered_text(w.code for w in quote.windows if w.feasible)


def test_quotes_within_ten_minutes_update_one_row_and_the_order_fills_the_chosen_class(app, seeded, make_user,
                                                                                        clock):
    shop = make_shop(app, make_user)
    cart = {shop.product_id: 1}
    with app.app_context():
        start = offers.slot_of(clock.now()) + timedelta(minutes=1)
        clock.move_to(start)
        zone_id = db.session.get(Address, shop.address_id).village.zone_id
        first = checkout.quote(shop.user_id, shop.address_id, cart)
        clock.move_to(start + timedelta(minutes=4))
        second = checkout.quote(shop.user_id, shop.address_id, cart)
        clock.move_to(start + timedelta(minutes=7, seconds=30))
        third = checkout.quote(shop.user_id, shop.address_id, cart)
        # the quote's objects stay loaded (the page renders them without reading them again)
        assert not sa.inspect(third.address).expired_attributes
        assert all(not sa.inspect(p).expired_attributes for p, _ in third.lines)

        (row,) = _rows(shop.user_id)
        assert (row.zone_id, row.quotes, row.order_id, row.chosen_code) == (zone_id, 3, None, None)
        assert row.slot_at == start - timedelta(minutes=1)
        assert row.offered == _codes(third) and first.windows and second.windows
        assert row.quoted_at >= start + timedelta(minutes=7)

        # the next slot: a row of its own
        clock.move_to(start + timedelta(minutes=10))
        quote = checkout.quote(shop.user_id, shop.address_id, cart)
        feasible = [w.code for w in quote.windows if w.feasible]
        assert feasible, "the shop's cart should be deliverable"
        rows = _rows(shop.user_id)
        assert [r.quotes for r in rows] == [3, 1] and rows[1].offered == _codes(quote)

        chosen = feasible[-1]
        order = checkout.place_order(shop.user_id, shop.address_id, chosen, "cod", uuid.uuid4().hex, cart_items=cart)
        rows = _rows(shop.user_id)
        assert (rows[1].chosen_code, rows[1].order_id) == (chosen, order.id)
        assert (rows[0].chosen_code, rows[0].order_id) == (None, None)  # the latest quote was claimed
        assert order.number  # the order as placed, readable after the record's commit


def test_an_order_without_a_recent_quote_claims_nothing(app, seeded, make_user, clock):
    shop = make_shop(app, make_user)
    cart = {shop.product_id: 1}
    with app.app_context():
        quote = checkout.quote(shop.user_id, shop.address_id, cart)
        code = next(w.code for w in reversed(quote.windows) if w.feasible)
        clock.shift(offers.CHOICE_WITHIN + timedelta(minutes=1))
        checkout.place_order(shop.user_id, shop.address_id, code, "cod", uuid.uuid4().hex, cart_items=cart)
        (row,) = _rows(shop.user_id)
        assert (row.chosen_code, row.order_id) == (None, None)


def test_a_slot_is_ten_minutes_of_the_clock() -> None:
    from datetime import UTC, datetime

    assert offers.slot_of(datetime(2026, 12, 1, 2, 39, 59, 9, tzinfo=UTC)) == datetime(2026, 12, 1, 2, 30, tzinfo=UTC)
    assert offers.offered_text(["2h", "12h"]) == ",2h,12h," and offers.offered_text([]) == ""
    assert offers.offered_like("2h") == "%,2h,%" and ",2h," not in ",12h,6h,"  # 12h never matches 2h
