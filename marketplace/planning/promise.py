"""The promise engine as the shop uses it: quotes for a cart and address against the
warehouse's current plan, and committing a promise under a per-warehouse lock.

A warehouse's quoting state (its problem, plan and :class:`delivery.promise.PromiseIndex`) is
built from the database and cached per process; it is rebuilt when the plan in the database
changes (a re-plan, or an order committed by any process).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _l

from delivery import model as dm
from delivery import promise as dpromise

from ..columns import utcnow
from ..dispatch.models import Plan, PlanStatus, PlanTrigger, Route, Stop, StopKind
from ..extensions import db
from ..geo.models import Address, Village
from ..inventory.models import Location, LocationKind
from ..logistics.models import LogisticsParameter, ParameterScope, WindowClass
from ..orders.models import Order, OrderStatus
from . import services

NEW_ORDER = "NEW"
ON_DEMAND_PLAN_SECONDS = 0.5
NEW_ADDRESS = "NEW-A"

REASON_TEXT = {
    "deadline_passed": _l("The time for this window has already passed."),
    "no_vehicle": _l("No delivery vehicle serves this address."),
    "capacity": _l("The order is too heavy or bulky for our vans."),
    "unreachable": _l("This address cannot be reached by road from our warehouse."),
    "no_vehicle_reaches_in_time": _l("No vehicle can reach your address within this window."),
    "shift_ends": _l("Our vans' shifts end before this window could be kept."),
    "fleet_busy": _l("All vans are fully booked for this window."),
    "suspended": _l("This window is paused for your area while we fix late deliveries."),
    "outside_service_area": _l("We do not deliver to this village yet."),
    "several_cooperatives": _l("Items must be collected from more than one cooperative; please order them separately."),
    "no_plan": _l("Delivery planning is not available right now."),
}


@dataclass(frozen=True)
class LineSource:
    product_id: int
    quantity: int
    stock_id: int
    location: Location
    weight_g: int
    volume_cm3: int


@dataclass(frozen=True)
class WindowQuote:
    window_class_id: int
    code: str
    feasible: bool
    fee_fen: int
    deadline_at: datetime
    eta_at: datetime | None
    reason_code: str | None = None

    @property
    def reason(self) -> str:
        return str(REASON_TEXT.get(self.reason_code or "", "")) if self.reason_code else ""


@dataclass
class _State:
    key: tuple
    ctx: services.ProblemContext
    index: dpromise.PromiseIndex


_cache: dict[int, _State] = {}
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


def _plan_key(warehouse_id: int) -> tuple:
    """Changes whenever the warehouse's plan or open orders change, in any process."""
    plan_id, plan_made = db.session.execute(
        sa.select(Plan.id, Plan.created_at).where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.id.desc()).limit(1)
    ).first() or (None, None)
    stops = db.session.execute(
        sa.select(sa.func.count(Stop.id), sa.func.max(Stop.id)).join(Stop.route).where(Route.plan_id == plan_id)
    ).one()
    orders = db.session.execute(
        sa.select(sa.func.count(Order.id), sa.func.max(Order.id)).where(
            Order.warehouse_id == warehouse_id, Order.status == OrderStatus.CONFIRMED)
    ).one()
    return plan_id, plan_made, tuple(stops), tuple(orders)


def _plan_from_rows(ctx: services.ProblemContext, plan_id: int) -> dm.Plan:
    """The stored plan's visiting order as a ``delivery`` plan (times are recomputed)."""
    known = ctx.problem.order_by_id
    by_vehicle: dict[str, list[dm.Visit]] = {}
    stops = db.session.scalars(
        sa.select(Stop).join(Stop.route).where(Route.plan_id == plan_id).order_by(Stop.route_id, Stop.sequence)
    )
    for stop in stops:
        key = f"O{stop.order_id}" if stop.order_id else f"R{stop.replenishment_id}"
        task = known.get(key)
        if task is None or stop.status != "pending":
            continue
        pickup = stop.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
        role = dm.Role.PICKUP if pickup else dm.Role.DELIVERY
        location = task.pickup if pickup else task.delivery
        by_vehicle.setdefault(f"V{stop.route.vehicle_id}", []).append(
            dm.Visit(role, location or "", key, 0, 0, 0)
        )
    routes = tuple(dm.Route(v.id, tuple(by_vehicle.get(v.id, ()))) for v in ctx.problem.vehicles)
    return dm.Plan(routes=routes)


def _state(warehouse_id: int) -> _State:
    key = _plan_key(warehouse_id)
    cached = _cache.get(warehouse_id)
    if cached is not None and cached.key == key:
        return cached
    if key[0] is None:  # no plan yet: make a quick one now (the scheduler refines it), quote on it
        services.plan_warehouse(warehouse_id, seconds=ON_DEMAND_PLAN_SECONDS, trigger=PlanTrigger.SCHEDULE)
        key = _plan_key(warehouse_id)
    ctx = services.build_problem(warehouse_id)
    plan = _plan_from_rows(ctx, key[0])
    state = _State(key, ctx, dpromise.PromiseIndex(ctx.problem, plan))
    _cache[warehouse_id] = state
    return state


def prepare(warehouse_id: int) -> None:
    """Make sure the warehouse has a plan and a fresh quoting state: before taking its lock
    (planning a warehouse that has no plan commits), and again under the lock before the new
    order is written."""
    _state(warehouse_id)


def invalidate(warehouse_id: int | None = None) -> None:
    if warehouse_id is None:
        _cache.clear()
    else:
        _cache.pop(warehouse_id, None)


@contextmanager
def warehouse_lock(warehouse_id: int) -> Iterator[None]:
    """Serialize promise commits per warehouse: a process lock (embedded deployment) and a row
    lock on the warehouse (several processes on PostgreSQL), held until the caller commits."""
    with _locks_guard:
        lock = _locks.setdefault(warehouse_id, threading.Lock())
    with lock:
        from ..logistics.models import Warehouse

        db.session.execute(sa.select(Warehouse.id).where(Warehouse.id == warehouse_id).with_for_update())
        yield


def zone_margin(zone_id: int) -> tuple[int, list[str]]:
    """The zone's learned promise margin (s) and the window classes suspended there."""
    rows = db.session.scalars(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.scope_id == zone_id,
        LogisticsParameter.key.in_(["promise_margin_s", "suspended_windows"])))
    values = {row.key: row.value for row in rows}
    return int(values.get("promise_margin_s", 0) or 0), list(values.get("suspended_windows", []) or [])


def window_classes() -> list[WindowClass]:
    return list(db.session.scalars(sa.select(WindowClass).where(WindowClass.active.is_(True)).order_by(WindowClass.hours)))


def _task(sources: list[LineSource], depot_key: str) -> tuple[dm.Order, list[dm.Location]]:
    farms = {s.location.id: s.location for s in sources if s.location.kind == LocationKind.COOPERATIVE}
    weight = sum(s.weight_g for s in sources)
    volume = sum(s.volume_cm3 for s in sources)
    extra: list[dm.Location] = []
    if not farms:
        order = dm.Order(NEW_ORDER, NEW_ADDRESS, pickup=depot_key, weight=weight, volume=volume,
                         delivery_service=services.DELIVERY_SERVICE_S)
    else:
        farm = next(iter(farms.values()))
        extra.append(dm.Location(f"L{farm.id}", lat=farm.lat, lon=farm.lon))
        order = dm.Order(NEW_ORDER, NEW_ADDRESS, kind=dm.OrderKind.PICKUP_DELIVERY, pickup=f"L{farm.id}",
                         weight=weight, volume=volume, pickup_service=services.PICKUP_SERVICE_S,
                         delivery_service=services.DELIVERY_SERVICE_S)
    return order, extra


def _infeasible(classes: list[WindowClass], now: datetime, code: str) -> list[WindowQuote]:
    return [WindowQuote(c.id, c.code, False, c.fee_fen, now + timedelta(hours=c.hours), None, code) for c in classes]


def quote(warehouse_id: int | None, lat: float, lon: float, zone_id: int, sources: list[LineSource],
          now: datetime | None = None) -> list[WindowQuote]:
    """Which window classes the current plan can keep for these goods to this address."""
    now = now or utcnow()
    classes = window_classes()
    if warehouse_id is None:
        return _infeasible(classes, now, "outside_service_area")
    if len({s.location.id for s in sources if s.location.kind == LocationKind.COOPERATIVE}) > 1:
        return _infeasible(classes, now, "several_cooperatives")
    state = _state(warehouse_id)
    margin, suspended = zone_margin(zone_id)
    order, extra = _task(sources, f"L{state.ctx.depot_location_id}")
    address = dm.Location(NEW_ADDRESS, lat=lat, lon=lon, zone=_zone_code(zone_id))
    at = int((now - state.ctx.epoch).total_seconds())
    raw = state.index.quote(order, [dpromise.WindowClass(c.code, c.hours * 3600, c.fee_fen) for c in classes],
                            now=at, margin_seconds=margin, locations=[address, *extra])
    out = []
    for cls, q in zip(classes, raw, strict=True):
        feasible, code = q.feasible, q.reason_code
        if cls.code in suspended:
            feasible, code = False, "suspended"
        out.append(WindowQuote(cls.id, cls.code, feasible, cls.fee_fen, now + timedelta(hours=cls.hours),
                               state.ctx.at(q.eta) if q.eta is not None else None, code))
    return out


def _zone_code(zone_id: int) -> str | None:
    from ..geo.models import Zone

    return db.session.scalar(sa.select(Zone.code).where(Zone.id == zone_id))


class PromiseBroken(Exception):
    """The chosen window can no longer be kept (another order took the slack)."""

    def __init__(self, quotes: list[WindowQuote]):
        self.quotes = quotes
        super().__init__("window no longer available")


def commit(order: Order, sources: list[LineSource], window: WindowClass, now: datetime) -> datetime:
    """Insert a placed order into its warehouse's plan, or raise PromiseBroken with fresh quotes.

    Must run inside :func:`warehouse_lock`; the order row is flushed (has an id) but not
    committed. Writes the new stops into the stored route and returns the planned arrival.
    Call :func:`adopt` after the transaction commits so the next quote starts from the new plan.
    """
    # The state prepared before the order row was flushed (its key must not see the new order).
    state = _cache.get(order.warehouse_id) or _state(order.warehouse_id)
    margin, suspended = zone_margin(order.zone_id)
    key, address_key = f"O{order.id}", f"A{order.id}"
    task, extra = _task(sources, f"L{state.ctx.depot_location_id}")
    task = replace(task, id=key, delivery=address_key)
    address = dm.Location(address_key, lat=order.lat, lon=order.lon, zone=_zone_code(order.zone_id))
    at = int((now - state.ctx.epoch).total_seconds())
    cls = dpromise.WindowClass(window.code, window.hours * 3600, window.fee_fen)
    (chosen,) = state.index.quote(task, [cls], now=at, margin_seconds=margin, locations=[address, *extra])
    if not chosen.feasible or window.code in suspended:
        raise PromiseBroken(quote(order.warehouse_id, order.lat, order.lon, order.zone_id, sources, now))
    task = replace(task, deadline=at + window.hours * 3600)
    try:
        problem, plan = state.index.commit(task, chosen.insertion, now=at, locations=[address, *extra],
                                           margin_seconds=margin)
    except ValueError as error:  # InsertionError / ProblemError: the slack is gone
        raise PromiseBroken(quote(order.warehouse_id, order.lat, order.lon, order.zone_id, sources, now)) from error
    route = plan.route_of(chosen.insertion.vehicle_id)
    ctx = replace(state.ctx, problem=problem, orders={**state.ctx.orders, key: order.id},
                  locations={**state.ctx.locations, address_key: (order.lat, order.lon, None),
                             **{loc.id: (loc.lat, loc.lon, int(loc.id[1:])) for loc in extra}})
    _store_route(_State(state.key, ctx, state.index), route, order, sources)
    invalidate(order.warehouse_id)
    g.promise_pending = (order.warehouse_id, ctx, plan)
    visit = next(v for v in route.stops if v.order_id == key and v.role == dm.Role.DELIVERY)
    return ctx.at(visit.arrival)


def adopt() -> None:
    """After the order's transaction committed: cache the plan that includes it, so the next
    quote need not rebuild from the database."""
    pending = g.pop("promise_pending", None)
    if pending is None:
        return
    warehouse_id, ctx, plan = pending
    _cache[warehouse_id] = _State(_plan_key(warehouse_id), ctx, dpromise.PromiseIndex(ctx.problem, plan))


def _store_route(state: _State, route: dm.Route, order: Order, sources: list[LineSource]) -> None:
    """Write the vehicle's new visiting order (with the new order's stops) into the active plan."""
    ctx = state.ctx
    vehicle_id = ctx.vehicles[route.vehicle_id]
    plan_id = state.key[0]
    row = db.session.scalar(sa.select(Route).where(Route.plan_id == plan_id, Route.vehicle_id == vehicle_id))
    if row is None:
        row = Route(plan_id=plan_id, vehicle_id=vehicle_id, start_at=ctx.at(route.visits[0].departure),
                    end_at=ctx.at(route.visits[-1].arrival))
        db.session.add(row)
        db.session.flush()
    existing = {(s.order_id or f"R{s.replenishment_id}", s.kind): s for s in row.stops}
    # Move every stop out of the way first: (route, sequence) is unique.
    for stop in row.stops:
        stop.sequence += 100_000
    db.session.flush()
    farm = next((s.location for s in sources if s.location.kind == LocationKind.COOPERATIVE), None)
    for sequence, visit in enumerate(route.stops, start=1):
        is_new = visit.order_id == f"O{order.id}"
        task = ctx.problem.order_by_id[visit.order_id]
        kind = services.STOP_KIND[(task.kind, visit.role)]
        if is_new:
            location = farm if visit.role == dm.Role.PICKUP else None
            db.session.add(Stop(
                route_id=row.id, sequence=sequence, kind=kind, order_id=order.id,
                location_id=location.id if location else None,
                lat=location.lat if location else order.lat, lon=location.lon if location else order.lon,
                deadline_at=order.deadline_at if visit.role == dm.Role.DELIVERY else None,
                planned_arrival_at=ctx.at(visit.arrival), planned_departure_at=ctx.at(visit.departure),
            ))
            continue
        key = (ctx.orders.get(visit.order_id, visit.order_id), kind)
        stop = existing.pop(key, None)
        if stop is not None:
            stop.sequence = sequence
            stop.planned_arrival_at = ctx.at(visit.arrival)
            stop.planned_departure_at = ctx.at(visit.departure)
    # Stops the plan no longer holds (done or left out) keep their place at the end.
    tail = len(route.stops)
    for stop in sorted(existing.values(), key=lambda s: s.sequence):
        tail += 1
        stop.sequence = tail
    row.end_at = ctx.at(route.visits[-1].arrival)


def fastest_for_product(product_id: int, user_id: int | None) -> tuple[WindowQuote | None, Village | None]:
    """The fastest keepable window for one unit of a product to the user's default address
    (the county town when there is none)."""
    from ..catalog.models import Product
    from ..geo import services as geo

    product = db.session.get(Product, product_id)
    address = geo.default_address(user_id) if user_id else None
    if address is not None:
        village = address.village
        lat, lon = address.lat, address.lon
    else:
        village = geo.county_town()
        if village is None:
            return None, None
        lat, lon = village.lat, village.lon
    warehouse = geo.warehouse_for_zone(village.zone_id)
    sources = pick_sources([(product, 1)], warehouse.location_id if warehouse else None)
    if sources is None:
        return None, village
    quotes = quote(warehouse.id if warehouse else None, lat, lon, village.zone_id, sources)
    return next((q for q in quotes if q.feasible), None), village


def pick_sources(lines, warehouse_location_id: int | None) -> list[LineSource] | None:
    """Where each (product, quantity) is taken from: the serving warehouse when it holds
    enough, otherwise the product's cooperative. None if some line cannot be covered."""
    from ..inventory import services as inventory

    out = []
    for product, quantity in lines:
        stock = next((s for s in inventory.sources_for(product.id, warehouse_location_id)
                      if s.available >= quantity), None)
        if stock is None:
            return None
        out.append(LineSource(product.id, quantity, stock.id, stock.location, product.weight_g * quantity,
                              product.volume_cm3 * quantity))
    return out


def address_point(address: Address) -> tuple[float, float, int]:
    return address.lat, address.lon, address.village.zone_id
