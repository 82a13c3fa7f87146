"""Replenishment (brief C): window misses recorded on the checkout quote, suggestions from
sales and misses, accepting (units reserved at the cooperative), the real planner putting the
move on a route and keeping it there, the van loading (in transit) and unloading (on hand at
the warehouse), cancelling, a failed pickup, and the refusals."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.checkout import services as checkout
from marketplace.coop import replenishment as milk_runs
from marketplace.coop.models import Cooperative, CooperativeStatus
from marketplace.dispatch import services as dispatch
from marketplace.dispatch.models import (
    Plan,
    PlanStatus,
    Replenishment,
    ReplenishmentStatus,
    Route,
    Stop,
    StopKind,
    StopStatus,
)
from marketplace.errors import Conflict, NotFound
from marketplace.extensions import db
from marketplace.inventory.models import Location, LocationKind, Stock, StockMovement
from marketplace.inventory.services import OutOfStock
from marketplace.logistics.models import Warehouse
from marketplace.planning import services as planning
from marketplace.planning.models import WindowMiss
from tests.conftest import csrf_token, login
from tests.marketplace.checkout.conftest import hold_only_at_cooperative, make_shop
from tests.marketplace.coop.pickup_helpers import head_of


@pytest.fixture
def farm_shop(app, seeded_at, make_user):
    """A consumer, and a product of the cooperative farthest from the consumer's warehouse held
    only at that cooperative's site (50 units): its goods must be picked up first. At noon in
    Shanghai, whatever the session's clock (at night no window is offered for any goods)."""
    from marketplace.catalog.models import Product, ProductStatus

    seeded_at("12:00")
    shop = make_shop(app, make_user)
    with app.app_context():
        depot = db.session.get(Warehouse, shop.warehouse_id).location
        sites = db.session.scalars(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE)).all()
        far = sorted(sites, key=lambda s: (s.lat - depot.lat) ** 2 + (s.lon - depot.lon) ** 2, reverse=True)
        for site in far:
            product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == site.cooperative_id,
                                                                 Product.status == ProductStatus.ACTIVE)
                                        .order_by(Product.weight_g).limit(1))
            if product is not None and site.cooperative.status == CooperativeStatus.APPROVED:
                break
        hold_only_at_cooperative(product.id, site.id, on_hand=50)
        shop.product_id, shop.site_id, shop.coop_id = product.id, site.id, product.cooperative_id
    return shop


def _stock(product_id: int, location_id: int) -> tuple[int, int]:
    stock = db.session.scalar(sa.select(Stock).where(Stock.product_id == product_id, Stock.location_id == location_id)
                              .execution_options(populate_existing=True))
    return (stock.on_hand, stock.reserved) if stock else (0, 0)


def _active_stops(move_id: int) -> list[Stop]:
    return list(db.session.scalars(sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan)
                                   .where(Stop.replenishment_id == move_id, Plan.status == PlanStatus.ACTIVE)
                                   .order_by(Stop.sequence)))


def test_a_quote_that_cannot_offer_a_short_window_for_farm_goods_records_one_miss_per_hour(app, farm_shop, clock):
    with app.app_context():
        quote = checkout.quote(farm_shop.user_id, farm_shop.address_id, {farm_shop.product_id: 2})
        missed = {w.code for w in quote.windows if not w.feasible and w.reason_code == "goods_at_cooperative"}
        assert missed, "a short window is lost to goods at the cooperative"
        checkout.quote(farm_shop.user_id, farm_shop.address_id, {farm_shop.product_id: 2})  # the same hour again
        rows = db.session.scalars(sa.select(WindowMiss).where(WindowMiss.user_id == farm_shop.user_id)).all()
        assert sorted(r.window_code for r in rows) == sorted(missed)
        assert all(r.product_id == farm_shop.product_id and r.warehouse_id == farm_shop.warehouse_id
                   and r.user_id == farm_shop.user_id and r.quantity == 2 for r in rows)
        clock.shift(timedelta(hours=1))
        checkout.quote(farm_shop.user_id, farm_shop.address_id, {farm_shop.product_id: 2})
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WindowMiss)
                                 .where(WindowMiss.user_id == farm_shop.user_id)) == 2 * len(missed)


def test_a_quote_of_warehouse_goods_records_nothing(app, seeded, make_user):
    shop = make_shop(app, make_user)
    with app.app_context():
        before = db.session.scalar(sa.select(sa.func.count()).select_from(WindowMiss))
        checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1})
        assert db.session.scalar(sa.select(sa.func.count()).select_from(WindowMiss)) == before


def test_accepted_move_is_planned_carried_and_received(app, farm_shop, make_user, client):
    with app.app_context():
        for n in range(3):  # three consumers' quotes could not offer the short windows
            consumer = make_shop(app, make_user, mobile=f"1382222{n:04d}")
            checkout.quote(consumer.user_id, consumer.address_id, {farm_shop.product_id: 1})
    head = head_of(make_user, farm_shop.coop_id)
    login(client, head.mobile)
    html = client.get("/coop/replenishment").get_data(as_text=True)
    assert "quotes could not offer" in html or "次报价无法提供" in html
    with app.app_context():
        coop = db.session.get(Cooperative, farm_shop.coop_id)
        page = milk_runs.page(coop)
        suggestion = next(s for s in page.suggestions if s.product.id == farm_shop.product_id
                          and s.warehouse.id == farm_shop.warehouse_id)
        assert sum(suggestion.misses.values()) >= 3 and suggestion.quantity >= 3
        assert suggestion.quantity <= suggestion.available == 50
    token = csrf_token(client, "/coop/replenishment")
    response = client.post("/coop/replenishment/accept", data={
        "csrf_token": token, "product_id": farm_shop.product_id, "warehouse_id": farm_shop.warehouse_id,
        "quantity": "6"})
    assert response.status_code == 303
    with app.app_context():
        move = db.session.scalar(sa.select(Replenishment))
        assert (move.status, move.quantity, move.requested_by_id) == (ReplenishmentStatus.REQUESTED, 6, head.id)
        assert move.from_location_id == farm_shop.site_id and move.batch_id is not None
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (50, 6)  # reserved: not sold meanwhile
        warehouse = db.session.get(Warehouse, farm_shop.warehouse_id)
        warehouse_id, depot_id = warehouse.id, warehouse.location_id
        # already on its way: the suggestion shrinks by as much
        again = next((s for s in milk_runs.page(db.session.get(Cooperative, farm_shop.coop_id)).suggestions
                      if s.product.id == farm_shop.product_id and s.warehouse.id == warehouse.id), None)
        assert again is None or again.on_the_way == 6

        planning.plan_warehouse(warehouse_id, seconds=2)
        move = db.session.get(Replenishment, move.id)
        assert move.status == ReplenishmentStatus.PLANNED
        stops = _active_stops(move.id)
        assert [s.kind for s in stops] == [StopKind.REPLENISH_PICKUP, StopKind.REPLENISH_DROP]
        assert stops[0].route_id == stops[1].route_id and stops[0].location_id == farm_shop.site_id
        plate = db.session.get(Route, stops[0].route_id).vehicle.plate
        # a second re-plan keeps the planned move on a route (it is still to be made)
        planning.plan_warehouse(warehouse_id, seconds=1)
        assert db.session.get(Replenishment, move.id).status == ReplenishmentStatus.PLANNED
        stops = _active_stops(move.id)
        assert [s.kind for s in stops] == [StopKind.REPLENISH_PICKUP, StopKind.REPLENISH_DROP]
        pickup_id, route_id = stops[0].id, stops[0].route_id
        move_id = move.id
    page_html = client.get("/coop/replenishment").get_data(as_text=True)
    assert plate in page_html and f'id="move-{move_id}"' in page_html
    assert plate in client.get("/coop/pickups").get_data(as_text=True)  # on the pick list too
    with app.app_context():
        dispatch.start_route(route_id)
        dispatch.record_stop(pickup_id, StopStatus.DONE)
        move = db.session.get(Replenishment, move_id)
        assert move.status == ReplenishmentStatus.IN_TRANSIT and move.picked_up_at is not None
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (44, 0)  # off the cooperative's books
        with pytest.raises(Conflict):  # on the van: too late to cancel
            milk_runs.cancel(farm_shop.coop_id, move_id, head.id)
        dispatch.record_stop(pickup_id, StopStatus.DONE)  # a double tap moves nothing twice
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (44, 0)
        # a re-plan while it rides on the van keeps its drop on that van (not a second pickup)
        planning.plan_warehouse(warehouse_id, seconds=1)
        stops = _active_stops(move_id)
        assert [s.kind for s in stops] == [StopKind.REPLENISH_DROP]
        assert db.session.get(Route, stops[0].route_id).vehicle.plate == plate
        version = db.session.get(Warehouse, warehouse_id).plan_version
        dispatch.record_stop(stops[0].id, StopStatus.DONE)
        move = db.session.get(Replenishment, move_id)
        assert move.status == ReplenishmentStatus.DONE and move.quantity_delivered == 6 and move.delivered_at
        assert _stock(farm_shop.product_id, depot_id)[0] == 6
        receipt = db.session.scalar(sa.select(StockMovement).where(StockMovement.reason == "receipt")
                                    .order_by(StockMovement.id.desc()).limit(1))
        assert receipt.delta_on_hand == 6 and receipt.batch_id == move.batch_id
        assert db.session.get(Warehouse, warehouse_id).plan_version > version
        dispatch.record_stop(stops[0].id, StopStatus.DONE)
        assert _stock(farm_shop.product_id, depot_id)[0] == 6


def test_cancel_while_planned_releases_the_units_and_leaves_the_plan(app, farm_shop, make_user, client):
    head = head_of(make_user, farm_shop.coop_id)
    with app.app_context():
        move = milk_runs.accept(farm_shop.coop_id, head.id, farm_shop.product_id, farm_shop.warehouse_id, 5)
        planning.plan_warehouse(farm_shop.warehouse_id, seconds=2)
        assert db.session.get(Replenishment, move.id).status == ReplenishmentStatus.PLANNED
        move_id = move.id
    login(client, head.mobile)
    token = csrf_token(client, "/coop/replenishment")
    assert client.post(f"/coop/replenishment/{move_id}/cancel", data={"csrf_token": token}).status_code == 303
    assert client.post(f"/coop/replenishment/{move_id}/cancel", data={"csrf_token": token}).status_code == 303
    with app.app_context():
        assert db.session.get(Replenishment, move_id).status == ReplenishmentStatus.CANCELLED
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (50, 0)  # released once
        assert _active_stops(move_id) == []
        planning.plan_warehouse(farm_shop.warehouse_id, seconds=1)
        assert _active_stops(move_id) == [] and db.session.get(Replenishment, move_id).status == "cancelled"


def test_a_failed_pickup_keeps_the_units_reserved_for_the_next_plan(app, farm_shop, make_user):
    head = head_of(make_user, farm_shop.coop_id)
    with app.app_context():
        move = milk_runs.accept(farm_shop.coop_id, head.id, farm_shop.product_id, farm_shop.warehouse_id, 4)
        planning.plan_warehouse(farm_shop.warehouse_id, seconds=2)
        pickup = _active_stops(move.id)[0]
        dispatch.start_route(pickup.route_id)
        dispatch.record_stop(pickup.id, StopStatus.FAILED, proof={"reason": "not_home"})
        move = db.session.get(Replenishment, move.id)
        assert move.status == ReplenishmentStatus.REQUESTED and move.picked_up_at is None
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (50, 4)
        milk_runs.cancel(farm_shop.coop_id, move.id, head.id)  # waiting again: it can be cancelled
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (50, 0)


def test_refusals_change_nothing(app, farm_shop, make_user, client):
    head = head_of(make_user, farm_shop.coop_id)
    with app.app_context():
        other = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.id != farm_shop.coop_id)
                                  .order_by(Cooperative.id))
        with pytest.raises(NotFound):  # another cooperative's product
            milk_runs.accept(other, head.id, farm_shop.product_id, farm_shop.warehouse_id, 1)
        with pytest.raises(OutOfStock):
            milk_runs.accept(farm_shop.coop_id, head.id, farm_shop.product_id, farm_shop.warehouse_id, 51)
        warehouse = db.session.get(Warehouse, farm_shop.warehouse_id)
        warehouse.active = False
        db.session.commit()
        with pytest.raises(NotFound):
            milk_runs.accept(farm_shop.coop_id, head.id, farm_shop.product_id, warehouse.id, 1)
        assert all(s.warehouse.id != warehouse.id
                   for s in milk_runs.page(db.session.get(Cooperative, farm_shop.coop_id)).suggestions)
        warehouse.active = True
        coop = db.session.get(Cooperative, farm_shop.coop_id)
        coop.status = CooperativeStatus.SUSPENDED
        db.session.commit()
        with pytest.raises(milk_runs.CooperativeSuspended):
            milk_runs.accept(farm_shop.coop_id, head.id, farm_shop.product_id, warehouse.id, 1)
        assert milk_runs.page(coop).suggestions == []
        coop.status = CooperativeStatus.APPROVED
        db.session.commit()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Replenishment)) == 0
        assert _stock(farm_shop.product_id, farm_shop.site_id) == (50, 0)
    login(client, head.mobile)
    token = csrf_token(client, "/coop/replenishment")
    assert client.post("/coop/replenishment/accept", data={
        "csrf_token": token, "product_id": farm_shop.product_id, "warehouse_id": "999999", "quantity": "1"}
    ).status_code == 404
    assert client.post("/coop/replenishment/accept", data={
        "csrf_token": token, "product_id": farm_shop.product_id, "warehouse_id": farm_shop.warehouse_id,
        "quantity": "0"}).status_code == 303
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Replenishment)) == 0
