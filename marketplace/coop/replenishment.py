"""Replenishment (milk runs, 后厂 → 中仓): suggested moves of a cooperative's fast sellers to the
middle warehouses, accepting and cancelling them, and their stock as the van loads and unloads.

A suggestion per (product, active warehouse) comes from two kinds of demand over the last
:data:`LOOKBACK_DAYS`: units delivered from that warehouse, and the short windows quotes there
could not offer because the units sat only at the cooperative (:class:`WindowMiss`, recorded by
:func:`record_window_misses` on the checkout quote). It covers :data:`COVER_DAYS` of that demand,
minus what the warehouse holds and what is already on its way, capped by what the cooperative's
site has available.

An accepted move reserves its units at the cooperative's site (so the shop does not sell them
meanwhile) and waits (REQUESTED) for the next re-plan of the warehouse, which puts it on a route
(PLANNED). Loaded at its pickup stop the units leave the site (IN_TRANSIT); unloaded at the drop
they are on hand at the warehouse (DONE). Cancelling while REQUESTED or PLANNED gives the units
back and takes its stops out of the active plan.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..catalog.models import Batch, Product, ProductStatus
from ..columns import utcnow
from ..dispatch.models import (
    Plan,
    PlanStatus,
    Replenishment,
    ReplenishmentStatus,
    Route,
    Stop,
    StopKind,
    StopStatus,
)
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..inventory import services as inventory
from ..inventory.models import Location, LocationKind, Stock
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order, OrderLine, OrderStatus
from ..planning.models import WindowMiss
from .models import Cooperative, CooperativeStatus
from .services import own_product

LOOKBACK_DAYS = 14
COVER_DAYS = 3  # a warehouse should hold this many days of its recent demand
MAX_MOVE = 9999
#: what a move is worth to the planner (its objective counts value_fen / 10 against metres
#: driven): enough that a van with the time makes the detour, or one more van goes; promises
#: (hard constraints) are never traded for it
VALUE_FLOOR_FEN = 50_000_000
OPEN = (ReplenishmentStatus.REQUESTED, ReplenishmentStatus.PLANNED, ReplenishmentStatus.IN_TRANSIT)
CANCELLABLE = (ReplenishmentStatus.REQUESTED, ReplenishmentStatus.PLANNED)

STATUS_NAMES = {
    ReplenishmentStatus.REQUESTED: _l("Waiting for a van"),
    ReplenishmentStatus.PLANNED: _l("On a route"),
    ReplenishmentStatus.IN_TRANSIT: _l("On the van"),
    ReplenishmentStatus.DONE: _l("At the warehouse"),
    ReplenishmentStatus.CANCELLED: _l("Cancelled"),
}


class CooperativeSuspended(Conflict):
    code = "cooperative_suspended"
    default_message = _l("Your cooperative is suspended: no stock can be moved until it is reinstated.")


class MoveNotCancellable(Conflict):
    code = "move_not_cancellable"
    default_message = _l("This move can no longer be cancelled: the van has already loaded it.")


class BadQuantity(ValidationFailed):
    code = "bad_quantity"


# --- window misses: the hot path of the checkout quote ---------------------------------------------


@cache
def _insert_miss() -> sa.Insert:
    # one statement per missed (product, window): inserted unless the same consumer missed the
    # same window for the same product at the same warehouse within this clock hour (the
    # columns' own types bind the values, so times compare as stored on every database)
    t = WindowMiss.__table__

    def param(name: str) -> sa.BindParameter:
        return sa.bindparam(name, type_=t.c[name].type)

    hour = t.c.created_at.type
    seen = sa.exists().where(
        t.c.product_id == param("product_id"), t.c.warehouse_id == param("warehouse_id"),
        t.c.window_code == param("window_code"),
        sa.or_(t.c.user_id == param("user_id"), sa.and_(t.c.user_id.is_(None), param("user_id").is_(None))),
        t.c.created_at >= sa.bindparam("hour_start", type_=hour), t.c.created_at < sa.bindparam("hour_end", type_=hour))
    columns = ["product_id", "warehouse_id", "window_code", "user_id", "quantity", "created_at"]
    return sa.insert(t).from_select(columns, sa.select(*(param(c) for c in columns)).where(~seen))


def record_window_misses(warehouse_id: int | None, user_id: int | None, sources, windows,
                         now: datetime | None = None) -> int:
    """After a quote: the window classes it could not offer because the goods must first be
    collected from the cooperative (reason ``goods_at_cooperative``), one row per cooperative
    line's product and class (and consumer, per hour). Nothing is read or written when the quote
    missed nothing. Commits what it writes. Returns the number of (product, class) pairs seen."""
    if warehouse_id is None:
        return 0
    missed = [w.code for w in windows if not w.feasible and w.reason_code == "goods_at_cooperative"]
    if not missed:
        return 0
    lines = [s for s in sources if s.location.kind == LocationKind.COOPERATIVE]
    if not lines:
        return 0
    now = now or utcnow()
    hour = now.replace(minute=0, second=0, microsecond=0)
    params = [{"product_id": s.product_id, "warehouse_id": warehouse_id, "window_code": code, "user_id": user_id,
               "quantity": s.quantity, "created_at": now, "hour_start": hour, "hour_end": hour + timedelta(hours=1)}
              for s in lines for code in missed]
    db.session.execute(_insert_miss(), params)
    db.session.commit()
    return len(params)


# --- suggestions ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    product: Product
    warehouse: Warehouse
    site: Location  # the cooperative's site the units leave from
    sold: int  # units delivered from the warehouse in the last LOOKBACK_DAYS
    misses: dict[str, int]  # window code → quotes that could not offer it
    missed_units: int
    held: int  # available at the warehouse now
    on_the_way: int  # requested, planned or in transit to it
    available: int  # available at the cooperative's site
    quantity: int  # suggested

    @property
    def capped(self) -> bool:
        return self.quantity >= self.available


@dataclass(frozen=True)
class MoveRow:
    move: Replenishment
    product: Product
    warehouse: Warehouse | None
    site: Location
    vehicle: Vehicle | None = None
    pickup_at: datetime | None = None  # planned (or made) pickup
    drop_at: datetime | None = None

    @property
    def cancellable(self) -> bool:
        return self.move.status in CANCELLABLE

    @property
    def status_name(self) -> str:
        return str(STATUS_NAMES[self.move.status])


@dataclass
class ReplenishmentPage:
    cooperative: Cooperative
    suspended: bool
    suggestions: list[Suggestion] = field(default_factory=list)
    moves: list[MoveRow] = field(default_factory=list)
    lookback_days: int = LOOKBACK_DAYS
    cover_days: int = COVER_DAYS


def sites_of(cooperative_id: int) -> list[Location]:
    return list(db.session.scalars(sa.select(Location).where(
        Location.cooperative_id == cooperative_id, Location.kind == LocationKind.COOPERATIVE).order_by(Location.id)))


def _suggested(sold: int, missed_units: int, held: int, on_the_way: int, available: int) -> int:
    demand = sold + missed_units
    if demand <= 0:
        return 0
    target = math.ceil(demand / LOOKBACK_DAYS * COVER_DAYS)
    if missed_units:  # a window was lost: at least what was missed should wait at the warehouse
        target = max(target, missed_units)
    return max(0, min(target - held - on_the_way, available, MAX_MOVE))


def page(cooperative: Cooperative, now: datetime | None = None) -> ReplenishmentPage:
    """The cooperative's suggestions (none while it is suspended) and its moves of the last
    LOOKBACK_DAYS or still open, newest first. A handful of queries."""
    now = now or utcnow()
    since = now - timedelta(days=LOOKBACK_DAYS)
    suspended = cooperative.status == CooperativeStatus.SUSPENDED
    out = ReplenishmentPage(cooperative, suspended)
    out.moves = moves_of(cooperative.id, since)
    if suspended:
        return out
    sites = sites_of(cooperative.id)
    products = list(db.session.scalars(sa.select(Product).where(
        Product.cooperative_id == cooperative.id, Product.status == ProductStatus.ACTIVE).order_by(Product.sku)))
    warehouses = list(db.session.scalars(sa.select(Warehouse).where(Warehouse.active.is_(True))
                                         .order_by(Warehouse.code)))
    if not sites or not products or not warehouses:
        return out
    product_ids = [p.id for p in products]
    site_ids = [s.id for s in sites]
    depots = {w.location_id: w for w in warehouses}
    sold = {(p, w): int(n) for p, w, n in db.session.execute(
        sa.select(OrderLine.product_id, Order.warehouse_id, sa.func.sum(OrderLine.quantity))
        .join(Order, Order.id == OrderLine.order_id)
        .where(OrderLine.product_id.in_(product_ids), Order.status == OrderStatus.DELIVERED,
               Order.delivered_at >= since, Order.warehouse_id.in_(list(w.id for w in warehouses)))
        .group_by(OrderLine.product_id, Order.warehouse_id))}
    misses: dict[tuple[int, int], dict[str, int]] = {}
    missed_units: dict[tuple[int, int], int] = {}
    for p, w, code, n, units in db.session.execute(
            sa.select(WindowMiss.product_id, WindowMiss.warehouse_id, WindowMiss.window_code, sa.func.count(),
                      sa.func.sum(WindowMiss.quantity))
            .where(WindowMiss.product_id.in_(product_ids), WindowMiss.created_at >= since)
            .group_by(WindowMiss.product_id, WindowMiss.warehouse_id, WindowMiss.window_code)):
        misses.setdefault((p, w), {})[code] = int(n)
        missed_units[(p, w)] = missed_units.get((p, w), 0) + int(units or 0)
    stocks = list(db.session.scalars(sa.select(Stock).where(
        Stock.product_id.in_(product_ids), Stock.location_id.in_([*site_ids, *depots]))))
    held = {(s.product_id, depots[s.location_id].id): s.available for s in stocks if s.location_id in depots}
    at_site: dict[int, Stock] = {}
    for s in stocks:  # the site with the most available units of each product
        if s.location_id in site_ids and (s.product_id not in at_site or s.available > at_site[s.product_id].available):
            at_site[s.product_id] = s
    on_the_way = {(p, depot): int(n) for p, depot, n in db.session.execute(
        sa.select(Replenishment.product_id, Replenishment.to_location_id, sa.func.sum(Replenishment.quantity))
        .where(Replenishment.product_id.in_(product_ids), Replenishment.status.in_(OPEN))
        .group_by(Replenishment.product_id, Replenishment.to_location_id))}
    site_by_id = {s.id: s for s in sites}
    for product in products:
        source = at_site.get(product.id)
        available = source.available if source is not None else 0
        for warehouse in warehouses:
            key = (product.id, warehouse.id)
            n_sold, n_missed = sold.get(key, 0), missed_units.get(key, 0)
            coming = on_the_way.get((product.id, warehouse.location_id), 0)
            quantity = _suggested(n_sold, n_missed, held.get(key, 0), coming, available)
            if quantity <= 0:
                continue
            out.suggestions.append(Suggestion(
                product, warehouse, site_by_id[source.location_id], n_sold, misses.get(key, {}), n_missed,
                held.get(key, 0), coming, available, quantity))
    out.suggestions.sort(key=lambda s: (-(s.sold + s.missed_units), s.product.sku, s.warehouse.code))
    return out


def moves_of(cooperative_id: int, since: datetime) -> list[MoveRow]:
    """The cooperative's moves still open or changed since ``since``, with the van and the
    planned pickup and drop times of the active plan (or the times they were made)."""
    site_ids = sa.select(Location.id).where(Location.cooperative_id == cooperative_id)
    moves = list(db.session.scalars(
        sa.select(Replenishment).where(Replenishment.from_location_id.in_(site_ids),
                                       sa.or_(Replenishment.status.in_(OPEN), Replenishment.created_at >= since))
        .order_by(Replenishment.id.desc()).limit(100)))
    if not moves:
        return []
    products = {p.id: p for p in db.session.scalars(sa.select(Product).where(
        Product.id.in_({m.product_id for m in moves})))}
    locations = {loc.id: loc for loc in db.session.scalars(sa.select(Location).where(
        Location.id.in_({m.from_location_id for m in moves} | {m.to_location_id for m in moves})))}
    warehouses = {w.location_id: w for w in db.session.scalars(sa.select(Warehouse).where(
        Warehouse.location_id.in_({m.to_location_id for m in moves})))}
    # the stops of each move: on the active plan, or made (on any plan)
    stops: dict[int, dict[StopKind, tuple[Stop, int]]] = {}
    for stop, vehicle_id in db.session.execute(
            sa.select(Stop, Route.vehicle_id).join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
            .where(Stop.replenishment_id.in_([m.id for m in moves]),
                   sa.or_(Plan.status == PlanStatus.ACTIVE, Stop.status.in_([StopStatus.DONE, StopStatus.FAILED])))
            .order_by(Stop.id)):
        kinds = stops.setdefault(stop.replenishment_id, {})
        current = kinds.get(stop.kind)
        # a stop made wins over a later plan's pending one of the same kind; else the newest
        if current is None or stop.status == StopStatus.DONE or current[0].status != StopStatus.DONE:
            kinds[stop.kind] = (stop, vehicle_id)
    vehicle_ids = {v for kinds in stops.values() for _, v in kinds.values()}
    vehicles = {v.id: v for v in db.session.scalars(sa.select(Vehicle).where(Vehicle.id.in_(vehicle_ids)))} \
        if vehicle_ids else {}
    rows = []
    for move in moves:
        kinds = stops.get(move.id, {})
        pickup, drop = kinds.get(StopKind.REPLENISH_PICKUP), kinds.get(StopKind.REPLENISH_DROP)
        vehicle = None
        if move.status in (ReplenishmentStatus.PLANNED, ReplenishmentStatus.IN_TRANSIT, ReplenishmentStatus.DONE):
            vehicle = vehicles.get((pickup or drop)[1]) if (pickup or drop) else None

        def when(found):
            if found is None:
                return None
            stop = found[0]
            return stop.actual_departure_at if stop.status == StopStatus.DONE else stop.planned_arrival_at

        show = move.status != ReplenishmentStatus.CANCELLED and move.status != ReplenishmentStatus.REQUESTED
        rows.append(MoveRow(move, products[move.product_id], warehouses.get(move.to_location_id),
                            locations[move.from_location_id], vehicle,
                            move.picked_up_at or (when(pickup) if show else None),
                            move.delivered_at or (when(drop) if show else None)))
    return rows


# --- accept and cancel ------------------------------------------------------------------------------


def accept(cooperative_id: int, user_id: int, product_id: int, warehouse_id: int, quantity: int,
           now: datetime | None = None) -> Replenishment:
    """A move of ``quantity`` units of the cooperative's product from its site to an active
    warehouse: REQUESTED, its units reserved at the site (OutOfStock when they are not there),
    the latest batch of the product named. Another cooperative's product or an unknown or
    inactive warehouse: not found. One transaction: stock row first, then the warehouse."""
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound()
    if cooperative.status == CooperativeStatus.SUSPENDED:
        raise CooperativeSuspended()
    product = own_product(cooperative_id, product_id)
    warehouse = db.session.get(Warehouse, warehouse_id)
    if warehouse is None or not warehouse.active:
        raise NotFound()
    if not isinstance(quantity, int) or not 1 <= quantity <= MAX_MOVE:
        raise BadQuantity(_l("Enter a quantity between 1 and %(most)d.", most=MAX_MOVE), field="quantity")
    stocks = [s for s in db.session.scalars(
        sa.select(Stock).join(Location, Location.id == Stock.location_id)
        .where(Stock.product_id == product.id, Location.cooperative_id == cooperative_id,
               Location.kind == LocationKind.COOPERATIVE).order_by(Stock.id))]
    source = max(stocks, key=lambda s: s.available, default=None)
    if source is None or source.available < quantity:
        raise inventory.OutOfStock(_l("Only %(n)d units are available at your site.",
                                      n=source.available if source else 0))
    batch_id = db.session.scalar(sa.select(Batch.id).where(Batch.product_id == product.id)
                                 .order_by(Batch.production_date.desc(), Batch.id.desc()).limit(1))
    move = Replenishment(product_id=product.id, from_location_id=source.location_id,
                         to_location_id=warehouse.location_id, quantity=quantity,
                         value_fen=max(VALUE_FLOOR_FEN, product.price_fen * quantity),
                         status=ReplenishmentStatus.REQUESTED, requested_by_id=user_id, batch_id=batch_id)
    db.session.add(move)
    db.session.flush()
    inventory.reserve(source.id, quantity, actor_id=user_id)  # atomic: OutOfStock if sold meanwhile
    _note_move(source.id, move.id)
    _bump(warehouse.id)  # the next quote and re-plan of the warehouse read it
    db.session.commit()
    return move


def _note_move(stock_id: int, move_id: int) -> None:
    """The ledger line just written (reserve/release/ship) names the move."""
    for obj in db.session.new:
        if getattr(obj, "stock_id", None) == stock_id and not getattr(obj, "note", ""):
            obj.note = f"replenishment {move_id}"


def _bump(warehouse_id: int) -> None:
    from ..planning import services as planning

    planning.bump_plan_version(warehouse_id)


def own_move(cooperative_id: int, move_id: int) -> Replenishment:
    move = db.session.scalar(
        sa.select(Replenishment).join(Location, Location.id == Replenishment.from_location_id)
        .where(Replenishment.id == move_id, Location.cooperative_id == cooperative_id))
    if move is None:
        raise NotFound()
    return move


def cancel(cooperative_id: int, move_id: int, user_id: int) -> tuple[Replenishment, bool]:
    """Cancel a move still waiting for or planned on a van: its reserved units are given back at
    the site and its stops leave the active plan (the next re-plan has nothing of it). Returns
    (move, cancelled now); a move already cancelled is left as it is (False). Once loaded it can
    no longer be cancelled."""
    own_move(cooperative_id, move_id)
    move = db.session.scalar(sa.select(Replenishment).where(Replenishment.id == move_id).with_for_update()
                             .execution_options(populate_existing=True))
    if move.status == ReplenishmentStatus.CANCELLED:
        db.session.rollback()
        return move, False
    if move.status not in CANCELLABLE:
        db.session.rollback()
        raise MoveNotCancellable()
    move.status = ReplenishmentStatus.CANCELLED
    stock = inventory.stock_row(move.product_id, move.from_location_id)
    if stock is not None:
        inventory.release(stock.id, move.quantity, reason="release", actor_id=user_id)
        _note_move(stock.id, move.id)
    active_routes = sa.select(Route.id).join(Plan, Plan.id == Route.plan_id).where(Plan.status == PlanStatus.ACTIVE)
    db.session.execute(sa.delete(Stop).where(Stop.replenishment_id == move.id, Stop.status == StopStatus.PENDING,
                                             Stop.route_id.in_(active_routes))
                       .execution_options(synchronize_session=False))
    warehouse_id = db.session.scalar(sa.select(Warehouse.id).where(Warehouse.location_id == move.to_location_id))
    if warehouse_id is not None:
        _bump(warehouse_id)
    db.session.commit()
    return move, True


# --- the van loads and unloads (dispatch.services.record_stop) ---------------------------------------


def stop_recorded(stop: Stop, outcome: StopStatus, at: datetime, *, actor_id: int | None = None) -> None:
    """A milk run's stop made or failed, in record_stop's transaction (which bumps the plan
    version of the route's warehouse, the move's destination, and commits). Loaded: the units
    leave the cooperative's site (on hand and reserved drop) and the move is in transit.
    Unloaded: they are received on hand at the warehouse with their batch, the move done. A
    failed pickup leaves the units reserved and the move waiting for the next plan. Each
    transition happens once (the move's row is locked and its status checked)."""
    move = db.session.scalar(sa.select(Replenishment).where(Replenishment.id == stop.replenishment_id)
                             .with_for_update().execution_options(populate_existing=True))
    if move is None or move.status == ReplenishmentStatus.CANCELLED:
        return
    waiting = (ReplenishmentStatus.REQUESTED, ReplenishmentStatus.PLANNED)
    if stop.kind == StopKind.REPLENISH_PICKUP:
        if outcome == StopStatus.DONE and move.status in waiting:
            _load(move, at)
        elif outcome == StopStatus.FAILED and move.status == ReplenishmentStatus.PLANNED:
            move.status = ReplenishmentStatus.REQUESTED
    elif stop.kind == StopKind.REPLENISH_DROP and outcome == StopStatus.DONE:
        if move.status in waiting:  # unloaded with no pickup recorded: it was loaded all the same
            _load(move, at)
        if move.status == ReplenishmentStatus.IN_TRANSIT:
            inventory.receive_move(move.product_id, move.to_location_id, move.quantity, batch_id=move.batch_id,
                                   actor_id=actor_id, note=f"replenishment {move.id}")
            move.status = ReplenishmentStatus.DONE
            move.delivered_at = at
            move.quantity_delivered = move.quantity


def _load(move: Replenishment, at: datetime) -> None:
    stock = inventory.stock_row(move.product_id, move.from_location_id)
    if stock is not None:
        inventory.ship(stock.id, move.quantity)
        _note_move(stock.id, move.id)
    move.status = ReplenishmentStatus.IN_TRANSIT
    move.picked_up_at = at
