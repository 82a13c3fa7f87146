"""Stock per location (/coop/stock), adjustments with a reason, low-stock thresholds and the ledger
(/coop/stock/ledger, .csv): what the page shows equals the rows, an adjustment never leaves fewer
units than are reserved for orders (nothing written when refused), another cooperative's ids are
404, and a quote sees an adjustment at once."""

from __future__ import annotations

import csv
import io
import re

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.coop import stock as service
from marketplace.dispatch.models import ReplenishmentStatus
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.inventory.services import StockRefused
from marketplace.models import (
    Location,
    LocationKind,
    Product,
    Replenishment,
    Role,
    Stock,
    StockMovement,
)
from tests.conftest import csrf_token, login
from tests.marketplace.checkout.conftest import make_shop, place_offered


@pytest.fixture(autouse=True)
def english(app, monkeypatch):
    """Services called outside a request, and pages without a language choice, speak the default
    language: English here, so that the messages can be read in the assertions."""
    monkeypatch.setitem(app.config, "BABEL_DEFAULT_LOCALE", "en")


@pytest.fixture
def head(app, seeded, make_user):
    """The head of the shop product's cooperative; the product's stock row at the warehouse."""
    shop = make_shop(app, make_user)
    with app.app_context():
        product = db.session.get(Product, shop.product_id)
        site = db.session.scalar(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE,
                                                           Location.cooperative_id == product.cooperative_id))
        facts = {"coop_id": product.cooperative_id, "product_id": product.id, "site_id": site.id}
    user = make_user(Role.COOP_HEAD, mobile="13700002222", cooperative_id=facts["coop_id"], name="王社长")
    return {**facts, "user_id": user.id, "mobile": user.mobile, "shop": shop, "stock_id": shop.stock_id}


def figures(app, stock_id: int) -> tuple[int, int]:
    with app.app_context():
        stock = db.session.get(Stock, stock_id)
        return stock.on_hand, stock.reserved


def movements(app, stock_id: int) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(StockMovement)
                                 .where(StockMovement.stock_id == stock_id))


def test_adjustments_move_on_hand_with_their_reason_actor_and_note(app, head):
    stock_id = head["stock_id"]
    on_hand, reserved = figures(app, stock_id)
    with app.app_context():
        service.adjust_stock(head["coop_id"], stock_id, reason="damage", quantity=2, note="箱子压坏",
                             actor_id=head["user_id"])
        service.adjust_stock(head["coop_id"], stock_id, reason="found", quantity=1, note="",
                             actor_id=head["user_id"])
        service.adjust_stock(head["coop_id"], stock_id, reason="count", quantity=on_hand + 4, note="月底盘点",
                             actor_id=head["user_id"])
        service.adjust_stock(head["coop_id"], stock_id, reason="other", quantity=-1, note="样品送检",
                             actor_id=head["user_id"])
        made = db.session.scalars(sa.select(StockMovement).where(StockMovement.stock_id == stock_id)
                                  .order_by(StockMovement.id.desc()).limit(4)).all()[::-1]
    assert [(m.reason, m.delta_on_hand, m.note, m.actor_user_id) for m in made] == [
        ("damage", -2, "箱子压坏", head["user_id"]), ("found", 1, "", head["user_id"]),
        ("count", 5, "月底盘点", head["user_id"]), ("other", -1, "样品送检", head["user_id"])]
    assert figures(app, stock_id) == (on_hand + 3, reserved)


def test_an_adjustment_never_leaves_fewer_units_than_are_reserved(app, head):
    shop = head["shop"]
    with app.test_request_context():
        place_offered(shop, cart={shop.product_id: 3})
    stock_id = head["stock_id"]
    on_hand, reserved = figures(app, stock_id)
    assert reserved >= 3
    before = movements(app, stock_id)
    with app.app_context():
        with pytest.raises(StockRefused, match=f"{reserved} units are reserved"):
            service.adjust_stock(head["coop_id"], stock_id, reason="spoilage", quantity=on_hand - reserved + 1,
                                 note="", actor_id=head["user_id"])
        with pytest.raises(StockRefused, match="reserved"):
            service.adjust_stock(head["coop_id"], stock_id, reason="count", quantity=reserved - 1, note="",
                                 actor_id=head["user_id"])
        with pytest.raises(ValidationFailed, match="cannot be negative"):
            service.adjust_stock(head["coop_id"], stock_id, reason="count", quantity=-1, note="",
                                 actor_id=head["user_id"])
        with pytest.raises(ValidationFailed, match="note"):
            service.adjust_stock(head["coop_id"], stock_id, reason="other", quantity=-1, note="  ",
                                 actor_id=head["user_id"])
        with pytest.raises(ValidationFailed, match="reason"):
            service.adjust_stock(head["coop_id"], stock_id, reason="theft", quantity=1, note="",
                                 actor_id=head["user_id"])
    assert figures(app, stock_id) == (on_hand, reserved)
    assert movements(app, stock_id) == before  # nothing written
    with app.app_context():  # exactly down to the reserved units is fine
        service.adjust_stock(head["coop_id"], stock_id, reason="spoilage", quantity=on_hand - reserved, note="",
                             actor_id=head["user_id"])
    assert figures(app, stock_id) == (reserved, reserved)


def test_a_quote_sees_an_adjustment_at_once(app, head):
    """Quotes read stock afresh (planning.promise.pick_sources), not from the cached plan state:
    no plan version needs bumping for a stock change."""
    shop = head["shop"]
    with app.app_context():
        for stock in db.session.scalars(sa.select(Stock).where(Stock.product_id == shop.product_id)):
            if stock.id != shop.stock_id:
                stock.on_hand, stock.reserved = 0, 0
        db.session.commit()
    with app.test_request_context():
        assert checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).any_feasible  # warms the cache
        on_hand, reserved = figures(app, shop.stock_id)
        service.adjust_stock(head["coop_id"], shop.stock_id, reason="count", quantity=reserved, note="",
                             actor_id=head["user_id"])
        with pytest.raises(checkout.inventory.OutOfStock):
            checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})


def test_the_stock_page_shows_every_location_with_transit_and_low_stock(app, client, head):
    stock_id = head["stock_id"]
    with app.app_context():
        stock = db.session.get(Stock, stock_id)
        db.session.add(Replenishment(product_id=head["product_id"], from_location_id=head["site_id"],
                                     to_location_id=stock.location_id, quantity=7,
                                     status=ReplenishmentStatus.IN_TRANSIT))
        service.set_threshold(head["coop_id"], stock_id, stock.on_hand - stock.reserved)  # exactly at it: low
        expected = (stock.on_hand, stock.reserved, stock.on_hand - stock.reserved)
        rows = service.stock_overview(head["coop_id"])
        [group] = [g for g in rows if g.product.id == head["product_id"]]
        [line] = [ln for ln in group.lines if ln.stock.id == stock_id]
        assert (line.in_transit, line.low) == (7, True)
        assert any(item.location.id == stock.location_id and item.product.id == head["product_id"]
                   for item in service.low_stock(head["coop_id"]))
    login(client, head["mobile"])
    html = client.get("/coop/stock").get_data(as_text=True)
    block = html[html.index(f'id="stock-{stock_id}"'):]
    block = block[:block.index("</dl>")]
    assert "is-low" in html[html.index(f'id="stock-{stock_id}"') - 40:html.index(f'id="stock-{stock_id}"')]
    numbers = [int(n) for n in re.findall(r"<dd>(?:<strong>)?(\d+)", block)]
    assert numbers == [*expected, 7]
    with app.app_context():  # a threshold below the available units: no longer low
        service.set_threshold(head["coop_id"], stock_id, expected[2] - 1)
        assert stock_id not in {line.stock.id for g in service.stock_overview(head["coop_id"])
                                for line in g.lines if line.low}


def test_the_adjust_form_refuses_with_a_clear_message_and_saves_a_good_one(app, client, head):
    stock_id = head["stock_id"]
    on_hand, reserved = figures(app, stock_id)
    login(client, head["mobile"])
    refused = client.post(f"/coop/stock/{stock_id}/adjust", data={
        "csrf_token": csrf_token(client, "/coop/stock"), "reason": "damage", "quantity": on_hand + 1, "note": ""})
    assert refused.status_code == 409
    assert figures(app, stock_id) == (on_hand, reserved)
    assert "<details class=\"stock-action\" open>" in refused.get_data(as_text=True)  # the form stays open
    done = client.post(f"/coop/stock/{stock_id}/adjust", data={
        "csrf_token": csrf_token(client, "/coop/stock"), "reason": "damage", "quantity": 1, "note": "破损"})
    assert done.status_code == 302
    assert figures(app, stock_id) == (on_hand - 1, reserved)
    threshold = client.post(f"/coop/stock/{stock_id}/threshold", data={
        "csrf_token": csrf_token(client, "/coop/stock"), "threshold": "-3"})
    assert threshold.status_code == 422
    assert client.post(f"/coop/stock/{stock_id}/threshold", data={
        "csrf_token": csrf_token(client, "/coop/stock"), "threshold": "12"}).status_code == 302
    with app.app_context():
        assert db.session.get(Stock, stock_id).low_stock_at == 12


def test_another_cooperatives_stock_is_not_found(app, client, head, make_user):
    with app.app_context():
        other_coop = db.session.scalar(sa.select(Product.cooperative_id)
                                       .where(Product.cooperative_id != head["coop_id"]).limit(1))
        with pytest.raises(NotFound):
            service.adjust_stock(other_coop, head["stock_id"], reason="found", quantity=1, note="", actor_id=None)
    other = make_user(Role.COOP_HEAD, mobile="13700003333", cooperative_id=other_coop)
    before = figures(app, head["stock_id"])
    login(client, other.mobile)
    token = csrf_token(client, "/coop/stock")
    assert client.post(f"/coop/stock/{head['stock_id']}/adjust",
                       data={"csrf_token": token, "reason": "found", "quantity": 5}).status_code == 404
    assert client.post(f"/coop/stock/{head['stock_id']}/threshold",
                       data={"csrf_token": token, "threshold": 5}).status_code == 404
    assert client.get(f"/coop/stock/ledger?product={head['product_id']}").status_code == 404
    assert client.get(f"/coop/stock/ledger.csv?product={head['product_id']}").status_code == 404
    assert figures(app, head["stock_id"]) == before


def test_the_ledger_lists_filters_pages_and_exports(app, client, head):
    shop = head["shop"]
    with app.test_request_context():
        number = place_offered(shop, cart={shop.product_id: 1}).number
    with app.app_context():
        for i in range(service.LEDGER_PAGE + 2):
            service.adjust_stock(head["coop_id"], head["stock_id"], reason="found", quantity=1, note=f"n{i}",
                                 actor_id=head["user_id"])
        service.adjust_stock(head["coop_id"], head["stock_id"], reason="damage", quantity=1, note="=cmd()",
                             actor_id=head["user_id"])
    login(client, head["mobile"])
    page = client.get("/coop/stock/ledger").get_data(as_text=True)
    assert page.index("=cmd()") < page.index(f"n{service.LEDGER_PAGE + 1}")  # newest first
    assert "王社长" in page  # who did it
    assert 'class="pager"' in page
    found = client.get(f"/coop/stock/ledger?reason=found&product={shop.product_id}").get_data(as_text=True)
    assert "=cmd()" not in found and "n0" not in found and "n1<" not in found  # page 1 of 2: the newest 50
    assert "n0" in client.get("/coop/stock/ledger?reason=found&page=2").get_data(as_text=True)
    reserve = client.get("/coop/stock/ledger?reason=reserve").get_data(as_text=True)
    assert number in reserve  # the order that reserved it
    assert shop.mobile not in reserve  # never the consumer's mobile (or name)
    assert client.get("/coop/stock/ledger?from=2026-12-09&to=2026-12-01").status_code == 422
    export = client.get("/coop/stock/ledger.csv?reason=damage")
    assert export.status_code == 200 and export.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(export.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][:5] == ["time", "sku", "product", "location", "reason"]
    assert [(r[4], r[6], r[11]) for r in rows[1:]][0] == ("damage", "-1", "'=cmd()")  # a formula stays text
    assert all(r[4] == "damage" for r in rows[1:])
