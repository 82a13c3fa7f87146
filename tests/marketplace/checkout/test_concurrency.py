"""Races that SQLite would hide: run on PostgreSQL (make test's second pass)."""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.columns import utcnow
from marketplace.errors import DomainError
from marketplace.extensions import db
from marketplace.geo import services as geo
from marketplace.inventory import services as inventory
from marketplace.models import Order, OrderStatus, Role, Stock, Stop, User
from marketplace.orders import services as orders
from marketplace.planning import services as planning

from .conftest import make_shop, stock_of


@pytest.fixture(autouse=True)
def _postgres_only(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("concurrency is proven on PostgreSQL (SQLite serializes writers)")


def _consumers(app, shop, n: int) -> list[tuple[int, int]]:
    """n consumers with an address next to the shop's, as (user id, address id)."""
    with app.app_context():
        template = db.session.get(User, shop.user_id)
        village_id = geo.address_of(shop.user_id, shop.address_id).village_id
        people = []
        for i in range(n):
            user = User(mobile=f"1370000{i:04d}", role=Role.CONSUMER, password_hash=template.password_hash)
            db.session.add(user)
            db.session.flush()
            address = geo.add_address(user.id, village_id=village_id, detail=f"{i} 号", recipient_name="顾客",
                                      recipient_mobile=user.mobile)
            people.append((user.id, address.id))
        return people


def test_fifty_concurrent_checkouts_for_ten_units_make_exactly_ten_orders(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=10)
    people = _consumers(app, shop, 50)
    start = threading.Barrier(50)

    def buy(person: tuple[int, int]) -> str:
        user_id, address_id = person
        with app.app_context():
            start.wait()
            try:
                checkout.place_order(user_id, address_id, "18h", "cod", uuid.uuid4().hex,
                                     cart_items={shop.product_id: 1})
                return "ok"
            except DomainError as error:
                return error.code
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=50) as pool:
        results = list(pool.map(buy, people))
    assert results.count("ok") == 10, results
    assert set(results) <= {"ok", "out_of_stock"}
    assert stock_of(app, shop.stock_id) == (10, 10)
    with app.app_context():
        orders = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.user_id.in_([u for u, _ in people])))
        assert orders == 10


def test_the_stock_guard_holds_without_any_application_lock(app, seeded, make_user):
    shop = make_shop(app, make_user, on_hand=10)
    start = threading.Barrier(30)

    def reserve() -> bool:
        with app.app_context():
            start.wait()
            try:
                inventory.reserve(shop.stock_id, 1)
                db.session.commit()
                return True
            except inventory.OutOfStock:
                db.session.rollback()
                return False
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=30) as pool:
        results = list(pool.map(lambda _: reserve(), range(30)))
    assert results.count(True) == 10
    with app.app_context():
        stock = db.session.get(Stock, shop.stock_id)
        assert stock.reserved == 10 and stock.on_hand - stock.reserved == 0


def test_one_order_submitted_twice_at_once_is_one_order(app, seeded, make_user):
    shop = make_shop(app, make_user)
    key = uuid.uuid4().hex
    start = threading.Barrier(2)

    def submit() -> int:
        with app.app_context():
            start.wait()
            try:
                return checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", key,
                                            cart_items={shop.product_id: 1}).id
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        ids = list(pool.map(lambda _: submit(), range(2)))
    assert ids[0] == ids[1]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(Order.idempotency_key == key)) == 1


def test_a_cancellation_and_a_replan_of_the_same_warehouse_do_not_deadlock(app, seeded, make_user):
    shop = make_shop(app, make_user)
    with app.app_context():
        order = checkout.place_order(shop.user_id, shop.address_id, "18h", "cod", uuid.uuid4().hex,
                                     cart_items={shop.product_id: 1})
        number, order_id, lat, lon = order.number, order.id, order.lat, order.lon
        route_id = db.session.scalar(sa.select(Stop.route_id).where(Stop.order_id == order_id))
        db.session.remove()
    outcome: list[str] = []

    def cancel() -> None:
        with app.app_context():
            try:
                orders.cancel(shop.user_id, number)
                outcome.append("cancelled")
            except Exception as error:  # the outcome is what the test checks
                outcome.append(repr(error))
            finally:
                db.session.remove()

    with app.app_context():
        planning.bump_plan_version(shop.warehouse_id)  # a re-plan storing its plan holds the warehouse...
        worker = threading.Thread(target=cancel)
        worker.start()
        time.sleep(0.5)  # ...while the cancellation has locked the order and waits for the warehouse
        now = utcnow()
        db.session.add(Stop(route_id=route_id, sequence=10_000, kind="delivery", order_id=order_id, lat=lat, lon=lon,
                            planned_arrival_at=now, planned_departure_at=now))
        db.session.commit()  # routing the order (a foreign-key check on it) does not wait for the cancellation
        db.session.remove()
    worker.join(timeout=30)
    assert outcome == ["cancelled"]
    with app.app_context():
        assert db.session.get(Order, order_id).status == OrderStatus.CANCELLED
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(Stop.order_id == order_id)) == 0
