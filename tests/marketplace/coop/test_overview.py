"""The cooperative portal's overview: what the head must do first — the pickups still to prepare,
low stock, listings waiting for review or sent back — for the head's own cooperative only."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.coop import pickups
from marketplace.extensions import db
from marketplace.models import Cooperative, CooperativeStatus, Role, Stock
from tests.conftest import login
from tests.marketplace.coop.pickup_helpers import coop_with_pickups, head_of


@pytest.mark.parametrize("hhmm", ["05:00", "12:00", "23:50"])
def test_the_overview_lists_the_pickups_to_prepare_and_the_low_stock(app, seeded_at, make_user, client, hhmm):
    seeded_at(hhmm)
    with app.app_context():
        coop_id = coop_with_pickups()
        assert coop_id is not None
        days = pickups.pick_days(coop_id, pickups.utcnow())
        plates = {p.vehicle.plate for d in days for p in d.pickups if p.state == "to_prepare"}
        stock = db.session.scalars(sa.select(Stock).join(Stock.location)
                                   .where(Stock.location.has(cooperative_id=coop_id))).first()
        stock.low_stock_at = stock.on_hand - stock.reserved + 1  # running low now
        low_name = stock.product.name_en
        other = db.session.scalars(sa.select(Cooperative).where(Cooperative.id != coop_id)).first()
        other_products = [p.name_en for p in other.products]
        db.session.commit()
    login(client, head_of(make_user, coop_id).mobile)
    client.get("/lang/en")
    html = client.get("/coop/").get_data(as_text=True)
    assert plates and all(plate in html for plate in plates)
    assert "Record handover" in html
    assert low_name in html.split("Low stock", 1)[1].split("Listings", 1)[0]
    assert not any(name in html for name in other_products)
    for section in ("/coop/listings", "/coop/stock", "/coop/pickups", "/coop/replenishment", "/coop/stats"):
        assert section in html


def test_a_suspended_cooperative_sees_why_on_its_overview(app, seeded, make_user, client):
    with app.app_context():
        coop = db.session.scalars(sa.select(Cooperative).order_by(Cooperative.id)).first()
        coop.status = CooperativeStatus.SUSPENDED
        coop.status_reason = "licence expired"
        db.session.commit()
        coop_id = coop.id
    login(client, head_of(make_user, coop_id).mobile)
    client.get("/lang/en")
    html = client.get("/coop/").get_data(as_text=True)
    assert "Your cooperative is suspended" in html and "licence expired" in html


def test_the_head_sees_the_cooperatives_own_licence_scan_and_no_other(app, seeded, make_user, client, tmp_path,
                                                                       monkeypatch):
    from marketplace.admin import coops
    from tests.marketplace.images import png_bytes

    monkeypatch.setitem(app.config, "UPLOAD_DIR", str(tmp_path))
    with app.app_context():
        mine, other = db.session.scalars(sa.select(Cooperative).order_by(Cooperative.id).limit(2)).all()
        operator = make_user(Role.OPERATOR, mobile="16612349999")
        coops.store_licence_scan(operator.id, mine.id, png_bytes(), "licence.png")
        db.session.commit()
        mine_id, other_id = mine.id, other.id
    login(client, head_of(make_user, mine_id).mobile)
    scan = client.get("/coop/licence")
    assert scan.status_code == 200 and scan.mimetype == "image/jpeg" and "private" in scan.headers["Cache-Control"]
    assert "/coop/licence" in client.get("/coop/").get_data(as_text=True)
    other_head = client.application.test_client()
    login(other_head, head_of(make_user, other_id, mobile="16612340002", name="社长乙").mobile)
    answer = other_head.get("/coop/licence")  # no scan of its own: back to its overview, nothing of mine
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/coop/")
