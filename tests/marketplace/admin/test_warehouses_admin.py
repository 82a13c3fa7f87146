"""Warehouses and the zones they serve: edit (names, address, active, zones), create, and what
quotes see afterwards."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.geo import services as geo
from marketplace.models import Location, LocationKind, Village, Warehouse, Zone
from tests.marketplace.admin.conftest import audits, operator_client, post
from tests.marketplace.checkout.conftest import make_shop


def _warehouse(code: str) -> Warehouse:
    return db.session.scalar(sa.select(Warehouse).where(Warehouse.code == code))


def _zone(code: str) -> Zone:
    return db.session.scalar(sa.select(Zone).where(Zone.code == code))


def _form(w: Warehouse, **changes) -> dict:
    data = {"name_zh": w.location.name_zh, "name_en": w.location.name_en, "address_zh": w.location.address_zh,
            "active": "1" if w.active else "0", "zone_ids": [str(z.id) for z in w.zones]}
    data.update(changes)
    return data


def test_edit_names_address_and_zones_is_audited_and_bumps_the_plan_version(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    with app.app_context():
        w = _warehouse("W-BJ")
        wid, version = w.id, w.plan_version
        east = _zone("Z-EAST").id
        data = _form(w, name_en="Beijie NE Depot", address_zh="北界镇新路 1 号",
                     zone_ids=[str(z.id) for z in w.zones if z.id != east])
        before_zones = sorted(z.id for z in w.zones)
    response = post(client, f"/admin/warehouses/{wid}", data)
    assert response.status_code == 303
    with app.app_context():
        w = db.session.get(Warehouse, wid)
        assert w.location.name_en == "Beijie NE Depot" and w.location.address_zh == "北界镇新路 1 号"
        assert east not in [z.id for z in w.zones]
        assert w.plan_version > version
    [entry] = audits(app, "warehouse.update")
    assert entry.actor_user_id == op.id and entry.object_type == "warehouse" and entry.object_id == wid
    assert entry.data["before"]["zone_ids"] == before_zones and east not in entry.data["after"]["zone_ids"]
    assert entry.data["before"]["name_en"] == "Beijie North-East Depot"
    assert set(entry.data["after"]) == {"name_en", "address_zh", "zone_ids"}
    # the same form again: nothing changes, nothing is recorded
    assert post(client, f"/admin/warehouses/{wid}", data).status_code == 303
    assert len(audits(app, "warehouse.update")) == 1


def test_a_quote_after_a_zone_change_comes_from_the_warehouse_now_serving_it(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    shop = make_shop(app, make_user)
    with app.app_context():
        east = _zone("Z-EAST")
        village = db.session.scalar(sa.select(Village).where(Village.zone_id == east.id).order_by(Village.code))
        address = geo.add_address(shop.user_id, village_id=village.id, detail="东路 3 号", recipient_name="测试",
                                  recipient_mobile=shop.mobile)
        address_id = address.id
        first = checkout.quote(shop.user_id, address_id, {shop.product_id: 1})
        assert first.warehouse.code == "W-BJ"  # the first active warehouse serving the zone, by code
        w = _warehouse("W-BJ")
        wid, data = w.id, _form(w, zone_ids=[str(z.id) for z in w.zones if z.id != east.id])
        db.session.remove()
    assert post(client, f"/admin/warehouses/{wid}", data).status_code == 303
    with app.app_context():
        after = checkout.quote(shop.user_id, address_id, {shop.product_id: 1})
        assert after.warehouse.code == "W-MG"
        assert any(w.feasible for w in after.windows)


def test_every_zone_stays_served_and_a_warehouse_with_open_orders_stays_active(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    make_shop(app, make_user)
    with app.app_context():
        wck = _warehouse("W-WCK")
        west = _zone("Z-WEST").id  # served by W-WCK alone
        wid = wck.id
        without_west = _form(wck, zone_ids=[str(z.id) for z in wck.zones if z.id != west])
        off = _form(wck, active="0")
        mg = _warehouse("W-MG")
        mg_id, mg_off = mg.id, _form(mg, active="0")
        from marketplace.orders.models import Order
        open_at_mg = db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
            Order.warehouse_id == mg.id, Order.status.in_(["pending_payment", "confirmed", "dispatched"])))
        version = wck.plan_version
    response = post(client, f"/admin/warehouses/{wid}", without_west)
    assert response.status_code == 422
    assert "No other active warehouse serves Z-WEST" in response.get_data(as_text=True)
    response = post(client, f"/admin/warehouses/{wid}", off)
    assert response.status_code == 422 and "Z-WEST" in response.get_data(as_text=True)
    if open_at_mg:
        response = post(client, f"/admin/warehouses/{mg_id}", mg_off)
        assert response.status_code == 422 and "open orders are delivered from this warehouse" in \
            response.get_data(as_text=True)
    empty = post(client, f"/admin/warehouses/{wid}", {"name_zh": "", "name_en": "", "active": "", "zone_ids": []})
    assert empty.status_code == 422
    text = empty.get_data(as_text=True)
    assert "Enter the Chinese name." in text and "Enter the English name." in text and "Choose yes or no." in text
    bad_zone = post(client, f"/admin/warehouses/{wid}", {**_form_dict(app, wid), "zone_ids": ["999999"]})
    assert bad_zone.status_code == 422 and "Choose zones from the list." in bad_zone.get_data(as_text=True)
    with app.app_context():
        w = db.session.get(Warehouse, wid)
        assert w.active and west in [z.id for z in w.zones] and w.plan_version == version
    assert audits(app, "warehouse.update") == []
    # once another warehouse serves the west, W-WCK may stop serving it
    with app.app_context():
        mg = db.session.get(Warehouse, mg_id)
        served = _form(mg, zone_ids=[str(z.id) for z in mg.zones] + [str(west)])
    assert post(client, f"/admin/warehouses/{mg_id}", served).status_code == 303
    assert post(client, f"/admin/warehouses/{wid}", without_west).status_code == 303
    page = client.get("/admin/warehouses").get_data(as_text=True)
    assert "W-WCK" in page and 'id="unserved"' not in page


def _form_dict(app, wid: int) -> dict:
    with app.app_context():
        return _form(db.session.get(Warehouse, wid))


def test_create_a_warehouse_with_its_location_validated_and_once(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V002"))
        vid, vlat, vlon, vzone = village.id, village.lat, village.lon, village.zone_id
        zone_ids = [str(z.id) for z in db.session.scalars(sa.select(Zone).where(Zone.code.in_(["Z-CENTRE"])))]
    bad = post(client, "/admin/warehouses/new", {"code": "mg 2", "name_zh": "", "name_en": "X", "village_id": "",
                                                 "lat": "39.9", "lon": "abc", "zone_ids": [], "once": "a"})
    assert bad.status_code == 422
    text = bad.get_data(as_text=True)
    for message in ("A code like W-MG", "Enter the Chinese name.", "Choose the village it stands in.",
                    "inside the county", "An active warehouse serves at least one zone."):
        assert message in text, message
    taken = post(client, "/admin/warehouses/new", {"code": "W-MG", "name_zh": "新仓", "name_en": "New", "village_id": vid,
                                                   "lat": vlat, "lon": vlon, "zone_ids": zone_ids, "once": "b"})
    assert taken.status_code == 422 and "This code is taken." in taken.get_data(as_text=True)
    data = {"code": "w-cb", "name_zh": "城北仓", "name_en": "Chengbei Depot", "address_zh": "城北村 1 号",
            "village_id": vid, "lat": f"{vlat:.5f}", "lon": f"{vlon:.5f}", "zone_ids": zone_ids, "once": "c"}
    first = post(client, "/admin/warehouses/new", data)
    second = post(client, "/admin/warehouses/new", data)
    assert first.status_code == second.status_code == 303 and first.headers["Location"] == second.headers["Location"]
    with app.app_context():
        w = _warehouse("W-CB")
        assert w.active and [str(z.id) for z in w.zones] == zone_ids
        loc = db.session.get(Location, w.location_id)
        assert loc.kind == LocationKind.WAREHOUSE and loc.code == "L-W-CB" and loc.zone_id == vzone
        assert (loc.name_zh, loc.name_en, loc.address_zh) == ("城北仓", "Chengbei Depot", "城北村 1 号")
        assert abs(loc.lat - vlat) < 1e-5
        wid = w.id
    [entry] = audits(app, "warehouse.create")
    assert entry.object_id == wid and entry.actor_user_id == op.id and entry.data["after"]["code"] == "W-CB"
    assert client.get("/admin/warehouses").status_code == 200
    assert "W-CB" in client.get("/admin/warehouses").get_data(as_text=True)
    assert client.get(f"/admin/warehouses/{wid}").status_code == 200
    assert client.get("/admin/warehouses/999999").status_code == 404
