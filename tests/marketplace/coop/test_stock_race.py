"""Adjustments racing checkouts on PostgreSQL (SQLite serializes writers and would hide the race):
the totals stay right — on hand is the opening count plus every movement, reserved is what the
open orders hold, never more than on hand — and no unit is both sold and written off."""

from __future__ import annotations

import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.coop import stock as service
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.models import Product, Role, Stock, StockMovement
from tests.invariants import check_invariants
from tests.marketplace.checkout.conftest import make_shop


@pytest.fixture(autouse=True)
def _postgres_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serializes writers)")


def test_adjustments_racing_checkouts_keep_the_totals_right(app, seeded, make_user):
    opening = 12
    shop = make_shop(app, make_user, on_hand=opening)  # the product is only here, with 12 units
    with app.app_context():
        coop_id = db.session.get(Product, shop.product_id).cooperative_id
        first_movement = db.session.scalar(sa.select(sa.func.coalesce(sa.func.max(StockMovement.id), 0)))
    head = make_user(Role.COOP_HEAD, mobile="13700004444", cooperative_id=coop_id)
    buyers, damages = 10, 8  # 10 orders of 1 and 8 write-offs of 1 for 12 units: some must be refused
    start = threading.Barrier(buyers + damages + 1)

    def buy(_: int) -> str:
        with app.app_context():
            start.wait()
            try:
                checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", uuid.uuid4().hex,
                                     cart_items={shop.product_id: 1})
                return "ordered"
            except DomainError as error:
                return error.code
            finally:
                db.session.remove()

    def damage(_: int) -> str:
        with app.app_context():
            start.wait()
            try:
                service.adjust_stock(coop_id, shop.stock_id, reason="damage", quantity=1, note="race",
                                     actor_id=head.id)
                return "written_off"
            except DomainError as error:
                return error.code
            finally:
                db.session.remove()

    def count(_: int) -> str:  # a stock count to the number the books say at that moment, racing too
        with app.app_context():
            start.wait()
            try:
                on_hand = db.session.get(Stock, shop.stock_id).on_hand
                db.session.rollback()
                service.adjust_stock(coop_id, shop.stock_id, reason="count", quantity=on_hand, note="",
                                     actor_id=head.id)
                return "counted"
            except DomainError as error:
                return error.code
            finally:
                db.session.remove()

    jobs = [(buy, i) for i in range(buyers)] + [(damage, i) for i in range(damages)] + [(count, 0)]
    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        results = list(pool.map(lambda job: job[0](job[1]), jobs))
    ordered, written_off = results.count("ordered"), results.count("written_off")
    assert set(results) <= {"ordered", "written_off", "counted", "out_of_stock", "stock_refused",
                            "window_unavailable"}, results
    assert ordered + written_off <= opening + max(counted_delta(app, shop.stock_id), 0)  # none sold twice
    assert ordered >= 1 and written_off >= 1
    with app.app_context():
        stock = db.session.get(Stock, shop.stock_id)
        moved_on_hand, moved_reserved = db.session.execute(
            sa.select(sa.func.coalesce(sa.func.sum(StockMovement.delta_on_hand), 0),
                      sa.func.coalesce(sa.func.sum(StockMovement.delta_reserved), 0))
            .where(StockMovement.stock_id == shop.stock_id, StockMovement.id > first_movement)).one()
        counted = db.session.scalar(sa.select(StockMovement.delta_on_hand).where(
            StockMovement.stock_id == shop.stock_id, StockMovement.reason == "count"))
        # a count to what the books said may find a write-off committed after it read them: its
        # movement then records that difference, and the totals still add up
        assert stock.on_hand == opening + moved_on_hand
        assert stock.on_hand == opening - written_off + (counted or 0)
        assert stock.reserved == moved_reserved == ordered
        assert 0 <= stock.reserved <= stock.on_hand
        assert check_invariants() == []


def counted_delta(app, stock_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(StockMovement.delta_on_hand), 0)).where(
            StockMovement.stock_id == stock_id, StockMovement.reason == "count"))
