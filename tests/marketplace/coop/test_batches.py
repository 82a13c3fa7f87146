"""Production batches (/coop/batches): a batch is received into the cooperative site's stock in
one transaction, its production date is checked against today and the shelf life, and the batch
an order's units come from is recorded at checkout (first in, first out at the line's source
location) and shown on the order and product pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.coop import stock as service
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    Batch,
    Cooperative,
    Location,
    LocationKind,
    Order,
    Product,
    Role,
    Stock,
    StockMovement,
)
from tests.conftest import csrf_token, login
from tests.marketplace.checkout.conftest import hold_only_at_cooperative, make_shop, place_offered


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Services called outside a request, and pages without a language choice, speak the default
    language: English here, so that the messages can be read in the assertions."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def head(app, seeded, make_user):
    """The head of the cooperative whose product the shop sells, and that product's facts."""
    shop = make_shop(app, make_user)
    with app.app_context():
        product = db.session.get(Product, shop.product_id)
        site = db.session.scalar(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE,
                                                           Location.cooperative_id == product.cooperative_id))
        coop = db.session.get(Cooperative, product.cooperative_id)
        facts = {"coop_id": coop.id, "coop_code": coop.code, "village_id": coop.village_id, "site_id": site.id,
                 "product_id": product.id, "shelf_life": product.shelf_life_days}
    user = make_user(Role.COOP_HEAD, mobile="13700001111", cooperative_id=facts["coop_id"])
    return {**facts, "user_id": user.id, "mobile": user.mobile, "shop": shop}


def site_stock(head) -> Stock | None:
    return db.session.scalar(sa.select(Stock).where(Stock.product_id == head["product_id"],
                                                    Stock.location_id == head["site_id"]))


def test_a_batch_is_received_at_the_site_with_a_numbered_code(app, head):
    today = service.local_today()
    with app.app_context():
        before = site_stock(head).on_hand if site_stock(head) else 0
        first = service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=today,
                                  origin_village_id=head["village_id"], quantity=12, actor_id=head["user_id"])
        second = service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=today,
                                   origin_village_id=head["village_id"], quantity=3, actor_id=head["user_id"])
        assert first.code == f"{head['coop_code']}-{today:%Y%m%d}-01"
        assert second.code == f"{head['coop_code']}-{today:%Y%m%d}-02"
        stock = site_stock(head)
        assert stock.on_hand == before + 15
        receipts = db.session.scalars(sa.select(StockMovement).where(
            StockMovement.stock_id == stock.id, StockMovement.reason == "receipt").order_by(StockMovement.id)).all()
        assert [(m.batch_id, m.delta_on_hand, m.actor_user_id) for m in receipts[-2:]] == [
            (first.id, 12, head["user_id"]), (second.id, 3, head["user_id"])]


@pytest.mark.parametrize("days_ago, message", [
    (-1, "cannot be in the future"),
    ("expired", "past their shelf life"),
])
def test_a_production_date_in_the_future_or_past_the_shelf_life_is_refused(app, head, days_ago, message):
    today = service.local_today()
    with app.app_context():
        product = db.session.get(Product, head["product_id"])
        product.shelf_life_days = 30
        db.session.commit()
        produced = today - timedelta(days=30 if days_ago == "expired" else days_ago)
        batches = db.session.scalar(sa.select(sa.func.count()).select_from(Batch))
        on_hand = site_stock(head).on_hand if site_stock(head) else 0
        with pytest.raises(ValidationFailed, match=message) as refused:
            service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=produced,
                              origin_village_id=head["village_id"], quantity=5, actor_id=head["user_id"])
        assert refused.value.field == "production_date"
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Batch)) == batches  # nothing written
        assert (site_stock(head).on_hand if site_stock(head) else 0) == on_hand
        # the last day of the shelf life is still fine
        batch = service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=today - timedelta(days=29),
                                  origin_village_id=head["village_id"], quantity=5, actor_id=head["user_id"])
        assert batch.production_date == today - timedelta(days=29)


def test_another_cooperatives_product_or_a_village_outside_the_county_is_refused(app, head):
    with app.app_context():
        other = db.session.scalar(sa.select(Product.id).where(Product.cooperative_id != head["coop_id"]).limit(1))
        with pytest.raises(NotFound):
            service.add_batch(head["coop_id"], product_id=other, production_date=service.local_today(),
                              origin_village_id=head["village_id"], quantity=1, actor_id=head["user_id"])
        with pytest.raises(ValidationFailed, match="quantity from 1"):
            service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=service.local_today(),
                              origin_village_id=head["village_id"], quantity=0, actor_id=head["user_id"])
        with pytest.raises(ValidationFailed, match="village"):
            service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=service.local_today(),
                              origin_village_id=10**6, quantity=1, actor_id=head["user_id"])


def test_the_batches_page_adds_a_batch_and_lists_it(app, client, head):
    login(client, head["mobile"])
    page = client.get("/coop/batches")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert f'<option selected value="{head["village_id"]}"' in html  # the cooperative's village by default
    today = service.local_today()
    bad = client.post("/coop/batches", data={
        "csrf_token": csrf_token(client, "/coop/batches"), "product_id": head["product_id"],
        "production_date": (today + timedelta(days=2)).isoformat(), "origin_village_id": head["village_id"],
        "quantity": 4})
    assert bad.status_code == 422
    assert "cannot be in the future" in bad.get_data(as_text=True)
    done = client.post("/coop/batches", data={
        "csrf_token": csrf_token(client, "/coop/batches"), "product_id": head["product_id"],
        "production_date": today.isoformat(), "origin_village_id": head["village_id"], "quantity": 4},
        follow_redirects=True)
    assert done.status_code == 200
    code = f"{head['coop_code']}-{today:%Y%m%d}-01"
    assert code in done.get_data(as_text=True)


def _line_batch(app, order_number: str) -> int | None:
    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.number == order_number))
        return order.lines[0].batch_id


def test_checkout_records_the_batch_first_in_first_out_at_the_source(app, client, head):
    """Goods only at the cooperative's site: 2 units of an unrecorded opening stock, then batch A
    (2 units), then batch B (5). Orders take them oldest first: the opening stock (no batch known),
    then A, then B once A's units are all taken; a cancelled order gives its units back first."""
    shop = head["shop"]
    today = service.local_today()
    with app.app_context():
        hold_only_at_cooperative(head["product_id"], head["site_id"], on_hand=2)  # no batch on record
        a = service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=today - timedelta(days=2),
                              origin_village_id=head["village_id"], quantity=2, actor_id=head["user_id"]).id
        b = service.add_batch(head["coop_id"], product_id=head["product_id"], production_date=today,
                              origin_village_id=head["village_id"], quantity=5, actor_id=head["user_id"]).id
    with app.test_request_context():
        first = place_offered(shop, cart={head["product_id"]: 2}).number  # the 2 unrecorded units
        second = place_offered(shop, cart={head["product_id"]: 1}).number  # A's first
        third = place_offered(shop, cart={head["product_id"]: 2}).number  # A's second (then B's first)
        fourth = place_offered(shop, cart={head["product_id"]: 1}).number  # B
    assert [_line_batch(app, n) for n in (first, second, third, fourth)] == [None, a, a, b]

    # the consumer's order page names the batch; the product page lists the batches
    login(client, shop.mobile)
    html = client.get(f"/orders/{fourth}").get_data(as_text=True)
    with app.app_context():
        code_b = db.session.get(Batch, b).code
        code_a = db.session.get(Batch, a).code
    assert re.search(rf"{code_b}.*{today.isoformat()}", html)
    assert 'id="traceability"' in html
    assert 'id="traceability"' not in client.get(f"/orders/{first}").get_data(as_text=True)  # none known
    product_page = client.get(f"/p/{head['product_id']}").get_data(as_text=True)
    assert 'id="traceability"' in product_page
    assert product_page.index(code_b) < product_page.index(code_a)  # newest first


def test_the_batches_page_counts_the_units_ordered_from_each_batch(app, client, head):
    shop = head["shop"]
    with app.app_context():
        hold_only_at_cooperative(head["product_id"], head["site_id"], on_hand=0)
        batch_id = service.add_batch(head["coop_id"], product_id=head["product_id"],
                                     production_date=service.local_today(), origin_village_id=head["village_id"],
                                     quantity=6, actor_id=head["user_id"]).id
    with app.test_request_context():
        place_offered(shop, cart={head["product_id"]: 3})
        cancelled = place_offered(shop, cart={head["product_id"]: 2})
        from marketplace.orders import services as orders

        orders.cancel(shop.user_id, cancelled.number)
    with app.app_context():
        [(product, rows)] = [g for g in service.batches(head["coop_id"]) if g[0].id == head["product_id"]]
        assert (rows[0].batch.id, rows[0].ordered) == (batch_id, 3)  # the cancelled order's 2 do not count
        assert rows[0].batch.production_date == service.local_today()
    login(client, head["mobile"])
    html = client.get("/coop/batches").get_data(as_text=True)
    assert re.search(r"<td class=\"num\">6</td><td class=\"num\">3</td>", html)
