"""The promise engine as the shop uses it: quotes for a cart and address against the
warehouse's current plan, and committing a promise under a per-warehouse lock.

A warehouse's quoting state (its problem, plan and :class:`delivery.promise.PromiseIndex`) is
built from the database and cached per process under the warehouse's ``plan_version``. Every
change to its plan or open orders (a re-plan, an order placed, cancelled or expired, in any
process) bumps that version in the same transaction, so one cheap read tells whether the cache
is current; under the warehouse's lock the version comes with the lock itself. An order placed
also marks its route with the new version (``Route.changed_version``); any other change also
sets ``plan_reset_version``. A process whose state is behind only by orders placed elsewhere
catches up by reloading just the marked routes; otherwise it rebuilds the state.

Locks, always in this order: stock rows (by id), then the warehouse row (FOR NO KEY UPDATE).
The checkout writes the order, its stock reservation and payment first and holds the
warehouse's lock only to re-check the promise and update the route.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask import g
from flask_babel import lazy_gettext as _l

from delivery import model as dm
from delivery import promise as dpromise
from delivery.errors import ProblemError

from ..columns import utcnow
from ..dispatch.models import PlanTrigger, Route, RouteStatus, Stop, StopKind, StopStatus
from ..extensions import db
from ..geo.models import Address, Village
from ..inventory.models import Location, LocationKind
from ..logistics.models import LogisticsParameter, ParameterScope, Warehouse, WindowClass
from ..orders.models import Order
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
    "before_shift": _l("Our vans are not on the road before this window would end."),
    "goods_at_cooperative": _l("These goods are collected from the cooperative first, which takes longer than this window."),
    "recovering": _l("Our vans are first catching up with delayed orders; please try again a little later."),
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


@dataclass(frozen=True)
class _State:
    version: int  # the warehouse's plan_version this state reflects
    plan_id: int  # the active plan
    ctx: services.ProblemContext
    index: dpromise.PromiseIndex
    #: accepted orders on no route of the plan (not even late): until they are recovered, no
    #: new van time of this warehouse is sold
    unrouted: frozenset[str] = frozenset()


_cache: dict[int, _State] = {}
_locks: dict[int, threading.Lock] = {}
_locks_guard = threading.Lock()


Versions = tuple[int, int]  # a warehouse's (plan_version, plan_reset_version)


def _version(warehouse_id: int, read: Versions | None = None) -> Versions:
    """The warehouse's plan versions: as read with its row lock when this transaction holds it
    (nothing else can change them then), else as the caller just ``read`` them, else one query."""
    locked = g.get("promise_locked")
    if locked is not None and locked[0] == warehouse_id:
        return locked[1]  # (before this transaction's own bump)
    if read is not None:
        return read
    row = db.session.execute(
        sa.select(Warehouse.plan_version, Warehouse.plan_reset_version).where(Warehouse.id == warehouse_id)).first()
    return (row[0], row[1]) if row is not None else (0, 0)


def _state(warehouse_id: int, version_read: Versions | None = None, placing: int | None = None) -> _State:
    pending: _State | None = g.get("promise_pending")
    if pending is not None and pending.ctx.warehouse_id == warehouse_id:
        return pending  # this transaction's own, with the order it placed: not for the cache yet
    # The version is read before the rows the state is built from, so a state is never newer
    # than its version says (a change committed meanwhile only causes one more rebuild).
    version, reset = _version(warehouse_id, version_read)
    cached = _cache.get(warehouse_id)
    if cached is not None and cached.version == version:
        return cached
    if cached is not None and reset <= cached.version < version:
        # since the cached state, other processes only inserted orders into routes
        state = _caught_up(cached, version)
        if state is not None:
            _cache[warehouse_id] = state
            return state
    plan_id = services.active_plan_id(warehouse_id)
    if plan_id is None and placing is not None:  # (planning commits: not inside an order's transaction)
        raise PromiseBroken(_infeasible(window_classes(), utcnow(), "no_plan"))
    if plan_id is None:  # no plan yet: make a quick one now (the scheduler refines it), quote on it
        services.plan_warehouse(warehouse_id, seconds=ON_DEMAND_PLAN_SECONDS, trigger=PlanTrigger.SCHEDULE)
        (version, reset), plan_id = _version(warehouse_id), services.active_plan_id(warehouse_id)
        assert plan_id is not None
    ctx = services.build_problem(warehouse_id, exclude=placing)
    if _raced(warehouse_id, version, reset):  # open orders and routes read across a change: read again
        version, reset = _version(warehouse_id)
        ctx = services.build_problem(warehouse_id, exclude=placing)
    index = dpromise.PromiseIndex.from_routes(ctx.problem, ctx.routes)
    routed = {visit.order_id for route in index.plan.routes for visit in route.stops}
    unrouted = frozenset(o.id for o in ctx.problem.orders if not o.optional and o.id not in routed)
    if unrouted:
        unrouted -= _failed_deliveries(ctx, unrouted)
    state = _State(version, ctx.plan_id or plan_id, ctx, index, unrouted)
    _cache[warehouse_id] = state
    return state


def _failed_deliveries(ctx: services.ProblemContext, keys: frozenset[str]) -> frozenset[str]:
    """Of these open orders off the routes, those whose delivery was attempted and failed (the
    consumer not at home…). They do not hold the warehouse's sales as a lost order does: the
    van tried, the order waits for its re-attempt, which dispatch.services.record_stop asks of a
    re-plan at once, and a re-plan is monotonic — it never trades a kept promise for it, so
    refusing new orders meanwhile would not help it; its promise is the watchdog's as before."""
    ids = {ctx.orders[k]: k for k in keys if k in ctx.orders}
    if not ids:
        return frozenset()
    failed = db.session.scalars(sa.select(Stop.order_id).where(
        Stop.order_id.in_(list(ids)), Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.FAILED).distinct())
    return frozenset(ids[order_id] for order_id in failed)


def _raced(warehouse_id: int, version: int, reset: int) -> bool:
    """Whether the warehouse's plan or open orders changed while a state was being built (its
    reads are separate statements: an order cancelled between them would look unrouted).
    Never under the warehouse's lock, where nothing else can change them."""
    if g.get("promise_locked") is not None:
        return False
    return _version(warehouse_id) != (version, reset)


def _caught_up(cached: _State, version: int) -> _State | None:
    """``cached`` brought to ``version`` by reloading only the routes changed since: one query
    for their stops, one for orders it does not know yet. None when that cannot be done (a
    stop of something unknown), and the caller rebuilds."""
    rows = db.session.execute(_changed_stops(), {"plan_id": cached.plan_id, "version": cached.version}).all()
    known = cached.ctx.problem.order_by_id
    ctx = replace(cached.ctx, orders=dict(cached.ctx.orders), locations=dict(cached.ctx.locations))
    new_ids = {row.order_id for row in rows if row.order_id and f"O{row.order_id}" not in known}
    tasks, places = services.order_tasks(ctx, ids=sorted(new_ids)) if new_ids else ([], [])
    tasks_by_id = {**known, **{t.id: t for t in tasks}}
    routes: dict[str, list[dm.StopRef]] = {}
    for row in rows:
        refs = routes.setdefault(f"V{row.vehicle_id}", [])
        key = f"O{row.order_id}" if row.order_id else f"R{row.replenishment_id}"
        if row.status != "pending" or (key not in tasks_by_id and row.order_id):
            continue  # done, or an order no longer open: as a rebuild would leave it out
        if key not in tasks_by_id:
            return None
        pickup = row.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
        refs.append(dm.StopRef(key, dm.Role.PICKUP if pickup else dm.Role.DELIVERY))
    try:
        index = cached.index.with_routes(routes, orders=tasks, locations=places)
    except ProblemError:
        return None
    return replace(cached, version=version, ctx=replace(ctx, problem=index.problem), index=index)


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _changed_stops() -> sa.Select:
    return (sa.select(Route.vehicle_id, Stop.order_id, Stop.replenishment_id, Stop.kind, Stop.status)
            .join(Stop, Stop.route_id == Route.id)
            .where(Route.plan_id == sa.bindparam("plan_id"), Route.changed_version > sa.bindparam("version"))
            .order_by(Route.id, Stop.sequence))


@cache
def _zone_parameters() -> sa.Select:
    return sa.select(LogisticsParameter.key, LogisticsParameter.value).where(
        LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.scope_id == sa.bindparam("zone_id"),
        LogisticsParameter.key.in_(["promise_margin_s", "suspended_windows"]))


@cache
def _route_stops() -> sa.Select:
    return (sa.select(Route.id.label("route_id"), Route.end_at, Stop.id.label("stop_id"), Stop.order_id,
                      Stop.replenishment_id, Stop.kind, Stop.sequence, Stop.planned_arrival_at,
                      Stop.planned_departure_at)
            .outerjoin(Stop, Stop.route_id == Route.id)
            .where(Route.plan_id == sa.bindparam("plan_id"), Route.vehicle_id == sa.bindparam("vehicle_id")))


@cache
def _mark_route() -> sa.Update:
    return sa.update(Route).where(Route.id == sa.bindparam("route_id")).values(
        start_at=sa.bindparam("start_at"), end_at=sa.bindparam("end_at"), status=sa.bindparam("status"),
        changed_version=sa.bindparam("version"))


def _index_at(state: _State, at: int) -> dpromise.PromiseIndex:
    """The state's index as if built ``at`` seconds after its epoch, as a rebuild from the
    database would be (vans still at their depot leave then, not when the state was built);
    kept in the cache for the next quote (same version, so the same plan)."""
    index = state.index.at(at, services.keep_slack_s())
    if index is not state.index and _cache.get(state.ctx.warehouse_id) is state:
        _cache[state.ctx.warehouse_id] = replace(state, index=index)
    return index


def prepare(warehouse_id: int, version_read: Versions | None = None, *, placing: int | None = None) -> None:
    """Make sure the warehouse has a plan and a fresh quoting state: before an order is placed
    (planning a warehouse that has no plan commits), and again under its lock, where ``placing``
    is the order being placed (written, not yet in the plan: a rebuild leaves it out).
    ``version_read``: its (plan_version, plan_reset_version) as the caller just loaded them with
    the warehouse (saves a query; under the lock the locked row's are used)."""
    _state(warehouse_id, version_read, placing)


def invalidate(warehouse_id: int | None = None) -> None:
    """Forget this process's cached quoting states (e.g. after the database was replaced)."""
    if warehouse_id is None:
        _cache.clear()
    else:
        _cache.pop(warehouse_id, None)


@contextmanager
def warehouse_lock(warehouse_id: int) -> Iterator[None]:
    """Serialize order placement per warehouse: a process lock (embedded deployment) and a row
    lock on the warehouse (several processes on PostgreSQL), held until the caller commits.
    The row lock is taken by the version bump of the insertion that :func:`commit` makes
    (:func:`services.bump_plan_versions` with ``inserted``): one statement locks, tells the
    version the quoting state must have, and versions the change; a refused order's rollback
    undoes it."""
    with _locks_guard:
        lock = _locks.setdefault(warehouse_id, threading.Lock())
    with lock:
        # (an UPDATE of non-key columns locks FOR NO KEY UPDATE on PostgreSQL: orders being placed
        # reference the warehouse, a key-share lock from their foreign key, before they wait here)
        version, reset = services.bump_plan_versions(warehouse_id, inserted=True)
        g.promise_locked = (warehouse_id, (version - 1, reset), version)
        try:
            yield
        finally:
            g.pop("promise_locked", None)
            g.pop("promise_pending", None)  # adopted by now, or its transaction did not commit


def zone_margin(zone_id: int) -> tuple[int, list[str]]:
    """The zone's learned promise margin (s) and the window classes suspended there."""
    values = dict(db.session.execute(_zone_parameters(), {"zone_id": zone_id}).all())
    margin, suspended = values.get("promise_margin_s"), values.get("suspended_windows")
    return (max(0, int(margin)) if isinstance(margin, int | float) else 0,
            [str(code) for code in suspended] if isinstance(suspended, list) else [])


def window_classes() -> list[WindowClass]:
    return list(db.session.scalars(sa.select(WindowClass).where(WindowClass.active.is_(True)).order_by(WindowClass.hours)))


def _task(sources: list[LineSource], ctx: services.ProblemContext, at: int = 0) -> tuple[dm.Order, list[dm.Location]]:
    """The planning task of goods from ``sources`` placed ``at`` (s from the epoch), with the
    places the problem may not know yet (a cooperative: in its zone, so that the leg into it has
    its zone's travel factor). Service and pick times as the planner's (learned handling of
    the products, pick time where they are taken from: read with the cached state)."""
    depot_key = f"L{ctx.depot_location_id}"
    farms = {s.location.id: s.location for s in sources if s.location.kind == LocationKind.COOPERATIVE}
    weight = sum(s.weight_g for s in sources)
    volume = sum(s.volume_cm3 for s in sources)
    handling = ctx.order_service_extra(s.product_id for s in sources)
    extra: list[dm.Location] = []
    if not farms:
        pick = ctx.pick_time.get(ctx.depot_location_id, 0)
        order = dm.Order(NEW_ORDER, NEW_ADDRESS, pickup=depot_key, weight=weight, volume=volume,
                         delivery_service=services.DELIVERY_SERVICE_S + handling, ready=at + pick if pick else 0)
    else:
        farm = next(iter(farms.values()))
        extra.append(dm.Location(f"L{farm.id}", lat=farm.lat, lon=farm.lon, zone=ctx.zone_codes.get(farm.zone_id)))
        order = dm.Order(NEW_ORDER, NEW_ADDRESS, kind=dm.OrderKind.PICKUP_DELIVERY, pickup=f"L{farm.id}",
                         weight=weight, volume=volume,
                         pickup_service=services.PICKUP_SERVICE_S + handling + ctx.pick_time.get(farm.id, 0),
                         delivery_service=services.DELIVERY_SERVICE_S + handling)
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
    if state.unrouted:
        return _infeasible(classes, now, "recovering")
    margin, suspended = zone_margin(zone_id)
    at = int((now - state.ctx.epoch).total_seconds())
    order, extra = _task(sources, state.ctx, at)
    address = dm.Location(NEW_ADDRESS, lat=lat, lon=lon, zone=state.ctx.zone_codes.get(zone_id))
    raw = _index_at(state, at).quote(order, [dpromise.WindowClass(c.code, c.hours * 3600, c.fee_fen) for c in classes],
                            now=at, margin_seconds=margin, locations=[address, *extra])
    out = []
    for cls, q in zip(classes, raw, strict=True):
        feasible, code = q.feasible, q.reason_code
        if cls.code in suspended:
            feasible, code = False, "suspended"
        out.append(WindowQuote(cls.id, cls.code, feasible, cls.fee_fen, now + timedelta(hours=cls.hours),
                               state.ctx.at(q.eta) if q.eta is not None else None, code))
    return out


class PromiseBroken(Exception):
    """The chosen window can no longer be kept (another order took the slack)."""

    def __init__(self, quotes: list[WindowQuote]):
        self.quotes = quotes
        super().__init__("window no longer available")


def commit(order: Order, sources: list[LineSource], window: WindowClass, now: datetime,
           zone: tuple[int, list[str]] | None = None) -> datetime:
    """Insert a placed order into its warehouse's plan, or raise PromiseBroken with fresh quotes.

    Must run inside :func:`warehouse_lock`; the order row is flushed (has an id) but not
    committed. Writes the new stops into the stored route, marked with the plan_version that
    the lock bumped, and returns the planned arrival. Call :func:`adopt` after the transaction
    commits so the next quote starts from the new plan. ``zone``: the zone's :func:`zone_margin`, when the
    caller read it before taking the lock.
    """
    state = _state(order.warehouse_id)  # as of the version read with the lock
    margin, suspended = zone if zone is not None else zone_margin(order.zone_id)
    key, address_key = f"O{order.id}", f"A{order.id}"
    at = int((now - state.ctx.epoch).total_seconds())
    task, extra = _task(sources, state.ctx, at)
    task = replace(task, id=key, delivery=address_key)
    address = dm.Location(address_key, lat=order.lat, lon=order.lon, zone=state.ctx.zone_codes.get(order.zone_id))
    index = _index_at(state, at)
    cls = dpromise.WindowClass(window.code, window.hours * 3600, window.fee_fen)
    (chosen,) = index.quote(task, [cls], now=at, margin_seconds=margin, locations=[address, *extra])
    if not chosen.feasible or window.code in suspended or state.unrouted:
        raise PromiseBroken(quote(order.warehouse_id, order.lat, order.lon, order.zone_id, sources, now))
    task = replace(task, deadline=at + window.hours * 3600)
    try:
        index = index.apply(task, chosen.insertion, now=at, locations=[address, *extra], margin_seconds=margin)
    except ValueError as error:  # InsertionError / ProblemError: the slack is gone
        raise PromiseBroken(quote(order.warehouse_id, order.lat, order.lon, order.zone_id, sources, now)) from error
    route = index.plan.route_of(chosen.insertion.vehicle_id)
    assert route is not None
    ctx = replace(state.ctx, problem=index.problem, orders={**state.ctx.orders, key: order.id},
                  locations={**state.ctx.locations, address_key: (order.lat, order.lon, None),
                             **{loc.id: (loc.lat, loc.lon, int(loc.id[1:])) for loc in extra}})
    locked = g.get("promise_locked")
    assert locked is not None and locked[0] == order.warehouse_id, "commit() runs under warehouse_lock()"
    version = locked[2]
    _store_route(state.plan_id, ctx, route, order, sources, version)
    # The cached state stays right until this transaction commits (apply() changed nothing).
    g.promise_pending = replace(state, version=version, ctx=ctx, index=index)
    visit = next(v for v in route.stops if v.order_id == key and v.role == dm.Role.DELIVERY)
    return ctx.at(visit.arrival)


def adopt() -> None:
    """After the order's transaction committed (still under :func:`warehouse_lock`): cache the
    state that includes the order, so the next quote need not rebuild from the database."""
    pending: _State | None = g.pop("promise_pending", None)
    if pending is not None:
        _cache[pending.ctx.warehouse_id] = pending


def _store_route(plan_id: int, ctx: services.ProblemContext, route: dm.Route, order: Order,
                 sources: list[LineSource], version: int) -> None:
    """Write the vehicle's new visiting order (with the new order's stops) into the active plan:
    the new stops are inserted, and only the stops whose place or planned times changed are
    updated: in one statement on PostgreSQL, where the unique (route, sequence) is checked at
    the statement's end; elsewhere after moving those whose place changes out of the way. The
    route is marked with the new plan ``version``."""
    vehicle_id = ctx.vehicles[route.vehicle_id]
    rows = db.session.execute(_route_stops(), {"plan_id": plan_id, "vehicle_id": vehicle_id}).all()
    start_at, end_at = ctx.at(route.visits[0].departure), ctx.at(route.visits[-1].arrival)
    # a van the promise engine found had to leave (see delivery.promise.PromiseIndex.at) is under way
    status = RouteStatus.STARTED if ctx.problem.vehicle_by_id[route.vehicle_id].departed else RouteStatus.PLANNED
    if rows:
        route_id = rows[0].route_id
        db.session.execute(_mark_route(), {"route_id": route_id, "start_at": start_at, "end_at": end_at,
                                           "status": status.value, "version": version})
    else:
        row = Route(plan_id=plan_id, vehicle_id=vehicle_id, start_at=start_at, end_at=end_at, status=status,
                    changed_version=version)
        db.session.add(row)
        db.session.flush()
        route_id = row.id
    existing = {(r.order_id or f"R{r.replenishment_id}", r.kind): r for r in rows if r.stop_id is not None}
    farm = next((s.location for s in sources if s.location.kind == LocationKind.COOPERATIVE), None)
    new_stops: list[Stop] = []
    changes: list[dict[str, Any]] = []
    moved: list[int] = []

    def place(stop: sa.Row, sequence: int, arrival: datetime, departure: datetime) -> None:
        if (stop.sequence, stop.planned_arrival_at, stop.planned_departure_at) != (sequence, arrival, departure):
            changes.append({"id": stop.stop_id, "sequence": sequence, "planned_arrival_at": arrival,
                            "planned_departure_at": departure})
            if stop.sequence != sequence:
                moved.append(stop.stop_id)

    for sequence, visit in enumerate(route.stops, start=1):
        task = ctx.problem.order_by_id[visit.order_id]
        kind = services.STOP_KIND[(task.kind, visit.role)]
        arrival, departure = ctx.at(visit.arrival), ctx.at(visit.departure)
        if visit.order_id == f"O{order.id}":
            location = farm if visit.role == dm.Role.PICKUP else None
            new_stops.append(Stop(
                route_id=route_id, sequence=sequence, kind=kind, order_id=order.id,
                location_id=location.id if location else None,
                lat=location.lat if location else order.lat, lon=location.lon if location else order.lon,
                deadline_at=order.deadline_at if visit.role == dm.Role.DELIVERY else None,
                planned_arrival_at=arrival, planned_departure_at=departure,
            ))
            continue
        stop = existing.pop((ctx.orders.get(visit.order_id, visit.order_id), kind), None)
        if stop is not None:
            place(stop, sequence, arrival, departure)
    # Stops the plan no longer holds (done or left out) keep their place at the end.
    for tail, stop in enumerate(sorted(existing.values(), key=lambda r: r.sequence), start=len(route.stops) + 1):
        place(stop, tail, stop.planned_arrival_at, stop.planned_departure_at)
    if changes and db.engine.dialect.name == "postgresql":
        # one statement: (route, sequence) is checked at its end there (deferrable constraint)
        db.session.execute(_RENUMBER_STOPS, {
            "ids": [c["id"] for c in changes], "sequences": [c["sequence"] for c in changes],
            "arrivals": [c["planned_arrival_at"] for c in changes],
            "departures": [c["planned_departure_at"] for c in changes]})
    elif changes:
        if moved:  # negative places cannot collide with any final one
            db.session.execute(sa.update(Stop).where(Stop.id.in_(moved)).values(sequence=-Stop.sequence)
                               .execution_options(synchronize_session=False))
        db.session.execute(sa.update(Stop), changes)  # one executemany by primary key
    db.session.add_all(new_stops)


_RENUMBER_STOPS = sa.text(
    "UPDATE stops SET sequence = v.sequence, planned_arrival_at = v.arrival, planned_departure_at = v.departure "
    "FROM unnest(CAST(:ids AS integer[]), CAST(:sequences AS integer[]), CAST(:arrivals AS timestamptz[]), "
    "CAST(:departures AS timestamptz[])) AS v(id, sequence, arrival, departure) WHERE stops.id = v.id")


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
