"""The planning adapter: database rows → ``delivery`` inputs, ``delivery`` plans → rows.

This is the one module that knows both the ORM and the pure planning core.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app

from delivery import matrix as dmatrix
from delivery import model as dm
from delivery import promise as dpromise
from delivery import replan as dreplan

from ..columns import utcnow
from ..dispatch.models import (
    Alert,
    AlertSeverity,
    OrderPin,
    Plan,
    PlanEvent,
    PlanStatus,
    PlanTrigger,
    Replenishment,
    ReplenishmentStatus,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
    UnassignedOrder,
    VehicleBreakdown,
)
from ..errors import NotFound
from ..extensions import db
from ..geo.models import Zone
from ..inventory.models import Location, LocationKind
from ..logistics.models import LogisticsParameter, ParameterScope, Vehicle, Warehouse, WindowClass
from ..orders.models import Order, OrderLine, OrderStatus

log = logging.getLogger("shanhuo.planning")
LOCAL = ZoneInfo("Asia/Shanghai")
DELIVERY_SERVICE_S = 180  # hand over at the door
ETA_TOLERANCE_S = 10 * 60  # a re-plan may move a delivery this much past the ETA shown, at no cost
PICKUP_SERVICE_S = 300  # load at a cooperative
DEFAULT_HORIZON = timedelta(hours=24)


@dataclass
class ProblemContext:
    """A built problem and how its string ids map back to row ids (plain values only, so a
    context can outlive the database session that built it)."""

    problem: dm.Problem
    warehouse_id: int
    warehouse_code: str
    depot_location_id: int
    epoch: datetime
    orders: dict[str, int] = field(default_factory=dict)
    replenishments: dict[str, int] = field(default_factory=dict)
    vehicles: dict[str, int] = field(default_factory=dict)
    locations: dict[str, tuple[float, float, int | None]] = field(default_factory=dict)
    zone_codes: dict[int, str] = field(default_factory=dict)
    pickups: dict[str, str] = field(default_factory=dict)  # order key -> where its goods are loaded
    now: int = 0  # "now" in seconds from the epoch
    plan_id: int | None = None  # the active plan the problem was read with
    routes: dict[str, list[dm.StopRef]] = field(default_factory=dict)  # its visiting orders
    departed: dict[str, int] = field(default_factory=dict)  # vans the plan sent off since: when
    route_starts: dict[str, int] = field(default_factory=dict)  # when their stored routes leave
    overdue: set[str] = field(default_factory=set)  # open orders past their deadline, not yet marked broken
    pins: dict[str, int] = field(default_factory=dict)  # order key -> the vehicle a dispatcher pinned it to
    #: vans whose trip is over (every stop made): vehicle id -> (the trip's route id, when the van
    #: is back at its depot, modelled); the next stored plan finishes that route
    returning: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    #: learned from complaints (logistics parameters): extra service time (s) at the stops of an
    #: order holding a product, and extra pick time (s) at a stock location
    service_extra: dict[int, int] = field(default_factory=dict)  # product id -> s
    pick_time: dict[int, int] = field(default_factory=dict)  # location id -> s

    def order_service_extra(self, product_ids) -> int:
        """The extra service time of an order holding these products (each counted once)."""
        return sum(self.service_extra.get(p, 0) for p in set(product_ids))

    def at(self, seconds: int) -> datetime:
        return self.epoch + timedelta(seconds=int(seconds))


def _seconds(ctx_epoch: datetime, moment: datetime) -> int:
    return int((moment - ctx_epoch).total_seconds())


def handling_parameters() -> tuple[dict[int, int], dict[int, int]]:
    """The learned extra service time per product (``service_s_extra``) and extra pick time per
    stock location (``pick_time_s``), positive values only (one query)."""
    extra: dict[int, int] = {}
    pick: dict[int, int] = {}
    rows = db.session.execute(sa.select(LogisticsParameter.scope, LogisticsParameter.scope_id, LogisticsParameter.value)
                              .where(LogisticsParameter.key.in_(["service_s_extra", "pick_time_s"])))
    for scope, scope_id, value in rows:
        seconds = int(value or 0) if isinstance(value, int | float) else 0
        if scope_id is None or seconds <= 0:
            continue
        if scope == ParameterScope.PRODUCT:
            extra[scope_id] = seconds
        elif scope == ParameterScope.LOCATION:
            pick[scope_id] = seconds
    return extra, pick


def zone_parameters(key: str) -> dict[int, float]:
    """A learned per-zone parameter (e.g. travel_factor, promise_margin_s) by zone id."""
    rows = db.session.scalars(
        sa.select(LogisticsParameter).where(
            LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.key == key
        )
    )
    return {row.scope_id: float(row.value) for row in rows if row.scope_id is not None}


def shift_window(vehicle: Vehicle, now: datetime) -> tuple[datetime, datetime]:
    """The vehicle's current or next shift as UTC datetimes (shifts are local wall-clock)."""
    local_now = now.astimezone(LOCAL)
    for day in (local_now.date(), local_now.date() + timedelta(days=1)):
        start = datetime.combine(day, vehicle.shift_start, LOCAL)
        end = datetime.combine(day, vehicle.shift_end, LOCAL)
        if end <= start:
            end += timedelta(days=1)
        if end > local_now:
            return start.astimezone(now.tzinfo), end.astimezone(now.tzinfo)
    raise AssertionError("unreachable")  # pragma: no cover


#: orders the plan must carry: confirmed ones, dispatched ones until they are delivered, and
#: online ones awaiting payment (their stock is reserved, so their place on a van is held too
#: until they are paid or expire)
PLANNED_STATUSES = (OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.DISPATCHED)


def order_tasks(ctx: ProblemContext, warehouse_id: int | None = None, ids: list[int] | None = None,
                exclude: int | None = None) -> tuple[list[dm.Order], list[dm.Location]]:
    """A warehouse's open orders (or those of ``ids`` that are open; not ``exclude``) as planning
    tasks, with the places they need (their addresses, and the cooperatives their goods are
    picked up from); records their ids in ``ctx``. One query for the orders with their lines'
    totals, grouped by order, and one for their cooperatives' places if there are any."""
    query = _order_tasks(warehouse_id is not None, exclude is not None, ids is not None)
    rows = db.session.execute(query, {"warehouse_id": warehouse_id, "exclude": exclude, "ids": ids}).all()
    farm_ids = {row.farm_id for row in rows if row.farm_id is not None}
    farms = {farm.id: farm for farm in db.session.scalars(_locations(), {"ids": list(farm_ids)})} if farm_ids else {}
    extra = _order_service_extra(ctx, [row.id for row in rows])
    tasks: list[dm.Order] = []
    places: list[dm.Location] = []
    for row in rows:
        key, address = f"O{row.id}", f"A{row.id}"
        ctx.orders[key] = row.id
        if row.pinned_vehicle_id is not None:
            ctx.pins[key] = row.pinned_vehicle_id
        ctx.locations[address] = (row.lat, row.lon, None)
        places.append(dm.Location(address, lat=row.lat, lon=row.lon, zone=ctx.zone_codes.get(row.zone_id)))
        # a broken promise (or one whose deadline passed undelivered: broken too, see store_plan)
        # is still delivered, as early as the routes allow, without its deadline
        deadline = _seconds(ctx.epoch, row.deadline_at)
        if row.promise_broken_at is not None or deadline < ctx.now:
            if row.promise_broken_at is None:
                ctx.overdue.add(key)
            deadline = None
        # the ETA the consumer was shown at checkout, kept by re-plans as a soft bound
        target = (_seconds(ctx.epoch, row.promised_eta_at) + ETA_TOLERANCE_S
                  if row.promised_eta_at is not None and deadline is not None else None)
        common = {
            "weight": int(row.weight), "volume": int(row.volume), "deadline": deadline,
            "delivery_service": DELIVERY_SERVICE_S + extra.get(row.id, 0), "target": target,
        }
        if row.farm_id is None:
            ctx.pickups[key] = f"L{ctx.depot_location_id}"
            # a warehouse's learned pick time: its goods cannot leave before they are picked
            pick = ctx.pick_time.get(ctx.depot_location_id, 0)
            ready = {"ready": max(0, _seconds(ctx.epoch, row.placed_at) + pick)} if pick and row.placed_at else {}
            tasks.append(dm.Order(id=key, delivery=address, pickup=f"L{ctx.depot_location_id}", **common, **ready))
            continue
        # Goods held only at a cooperative: picked up there, delivered on the same vehicle.
        # (An order drawing on two cooperatives is planned from one of them: a limitation.)
        pickup = f"L{row.farm_id}"
        if pickup not in ctx.locations:  # (each cooperative's place once)
            places.append(site_location(ctx, farms[row.farm_id]))
        ctx.pickups[key] = pickup
        tasks.append(dm.Order(id=key, delivery=address, kind=dm.OrderKind.PICKUP_DELIVERY, pickup=pickup,
                              pickup_service=PICKUP_SERVICE_S + extra.get(row.id, 0) + ctx.pick_time.get(row.farm_id, 0),
                              ready=ctx.now, **common))
    return tasks, places


def _order_service_extra(ctx: ProblemContext, order_ids: list[int]) -> dict[int, int]:
    """Extra service time per order from the learned handling of the products it holds (one
    query, only when some product has any)."""
    if not ctx.service_extra or not order_ids:
        return {}
    products: dict[int, set[int]] = {}
    for order_id, product_id in db.session.execute(
            sa.select(OrderLine.order_id, OrderLine.product_id).where(
                OrderLine.order_id.in_(order_ids), OrderLine.product_id.in_(list(ctx.service_extra)))):
        products.setdefault(order_id, set()).add(product_id)
    return {order_id: ctx.order_service_extra(ids) for order_id, ids in products.items()}


@cache
def _locations() -> sa.Select:
    return sa.select(Location).where(Location.id.in_(sa.bindparam("ids", expanding=True)))


@cache
def _order_tasks(by_warehouse: bool, exclude: bool, by_ids: bool) -> sa.Select:
    farm_of_line = sa.case((Location.kind == LocationKind.COOPERATIVE, OrderLine.source_location_id))
    query = (
        sa.select(Order.id, Order.lat, Order.lon, Order.zone_id, Order.deadline_at, Order.promise_broken_at,
                  Order.promised_eta_at, Order.placed_at,
                  sa.func.sum(OrderLine.weight_g).label("weight"), sa.func.sum(OrderLine.volume_cm3).label("volume"),
                  sa.func.min(farm_of_line).label("farm_id"), sa.func.min(OrderPin.vehicle_id).label("pinned_vehicle_id"))
        .join(OrderLine, OrderLine.order_id == Order.id).join(Location, Location.id == OrderLine.source_location_id)
        .outerjoin(OrderPin, OrderPin.order_id == Order.id)
        .where(Order.status.in_(PLANNED_STATUSES)).group_by(Order.id).order_by(Order.deadline_at, Order.id)
    )
    if by_warehouse:
        query = query.where(Order.warehouse_id == sa.bindparam("warehouse_id"))
    if exclude:
        query = query.where(Order.id != sa.bindparam("exclude"))
    if by_ids:
        query = query.where(Order.id.in_(sa.bindparam("ids", expanding=True)))
    return query


@dataclass(frozen=True)
class UnderWay:
    """Where a van that has left its depot stands: its last stop made (or the depot, if none
    yet: it is away all the same, and takes no goods from the depot without a reload), the
    orders whose goods it carries, and, on a locked route, the stops it must make in order."""

    position: dm.Location | None
    onboard: tuple[str, ...]
    locked: tuple[dm.StopRef, ...]
    since: int = 0  # when it left its last known place (s from the epoch)
    #: its trip is over (every stop made, nothing on board): it drives back to its depot from
    #: ``position`` and starts a new trip there (the route of the trip, to finish)
    returning_route: int | None = None

    def vehicle_fields(self) -> dict:
        fields: dict = {"onboard": self.onboard, "locked_stops": self.locked}
        if self.position is not None:
            fields.update(start_location=self.position.id, available_from=self.since, departed=True)
        return fields


def _execution(ctx: ProblemContext, warehouse_id: int, known: set[str]) -> dict[int, UnderWay]:
    """The execution state of the warehouse's active routes, from what drivers recorded: a
    started route's van is where its last made stop is, with the goods of its open orders on
    board (depot goods since it left, cooperative goods once picked up); a locked route's
    pending stops stay as they are, in order. Two queries."""
    rows = db.session.execute(
        sa.select(Route.id, Route.vehicle_id, Route.status, Route.locked, Route.start_at, Stop.id.label("stop_id"),
                  Stop.order_id,
                  Stop.replenishment_id, Stop.kind, Stop.status.label("stop_status"), Stop.lat, Stop.lon,
                  Stop.location_id, Stop.actual_departure_at)
        .join(Plan, Plan.id == Route.plan_id).outerjoin(Stop, Stop.route_id == Route.id)
        .where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE,
               sa.or_(Route.status == RouteStatus.STARTED, Route.locked.is_(True)))
        .order_by(Route.id, Stop.sequence)).all()
    if not rows:
        return {}
    by_vehicle: dict[int, list[sa.Row]] = {}
    for row in rows:
        by_vehicle.setdefault(row.vehicle_id, []).append(row)
    # pickups made earlier today (on routes of superseded plans too) put goods on board
    picked = {(vehicle_id, order_id) for vehicle_id, order_id in db.session.execute(
        sa.select(Route.vehicle_id, Stop.order_id).join(Route, Route.id == Stop.route_id)
        .where(Route.vehicle_id.in_(list(by_vehicle)), Stop.kind == StopKind.PICKUP, Stop.status == StopStatus.DONE,
               Stop.order_id.is_not(None)))}
    # milk runs picked up (in transit) ride on the van that loaded them until their drop
    moves = {ctx.replenishments[key] for key in known if key in ctx.replenishments}
    loaded = {(vehicle_id, f"R{move_id}") for vehicle_id, move_id in db.session.execute(
        sa.select(Route.vehicle_id, Stop.replenishment_id).join(Route, Route.id == Stop.route_id)
        .join(Replenishment, Replenishment.id == Stop.replenishment_id)
        .where(Route.vehicle_id.in_(list(by_vehicle)), Stop.kind == StopKind.REPLENISH_PICKUP,
               Stop.status == StopStatus.DONE, Replenishment.status == ReplenishmentStatus.IN_TRANSIT,
               Stop.replenishment_id.in_(moves)))} if moves else set()
    out: dict[int, UnderWay] = {}
    for vehicle_id, stops in by_vehicle.items():
        started = stops[0].status == RouteStatus.STARTED
        pending = [r for r in stops if r.stop_id is not None and r.stop_status == StopStatus.PENDING]
        refs = []
        for r in pending:
            key = f"O{r.order_id}" if r.order_id else f"R{r.replenishment_id}"
            if key in known:
                pickup = r.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
                refs.append(dm.StopRef(key, dm.Role.PICKUP if pickup else dm.Role.DELIVERY))
        position, since = None, None
        onboard: list[str] = []
        if started:
            made = [r for r in stops if r.stop_id is not None and r.stop_status in (StopStatus.DONE, StopStatus.FAILED)
                    and r.actual_departure_at is not None]
            last = max(made, key=lambda r: r.actual_departure_at, default=None)
            if last is not None:
                position = dm.Location(f"P{vehicle_id}", lat=last.lat, lon=last.lon)
                since = last.actual_departure_at
            else:
                depot = ctx.locations[f"L{ctx.depot_location_id}"]
                position = dm.Location(f"P{vehicle_id}", lat=depot[0], lon=depot[1])
                since = stops[0].start_at
            ctx.locations[position.id] = (position.lat, position.lon, None)
            pickups = {ref.order_id for ref in refs if ref.role == dm.Role.PICKUP}
            for ref in refs:
                if ref.role == dm.Role.DELIVERY and (vehicle_id, ref.order_id) in loaded:
                    onboard.append(ref.order_id)
                    continue
                if ref.role != dm.Role.DELIVERY or ref.order_id in pickups or not ref.order_id.startswith("O"):
                    continue
                order_id = ctx.orders.get(ref.order_id)
                if (vehicle_id, order_id) in picked or ctx.pickups.get(ref.order_id) == f"L{ctx.depot_location_id}":
                    onboard.append(ref.order_id)
        # a locked route keeps its stops in order; a van under way keeps the stop it is driving to
        # (the driver's next stop is not moved away under the wheels)
        locked = tuple(refs) if stops[0].locked else (refs[0],) if started and refs else ()
        returning = stops[0].id if started and not refs and not onboard else None
        out[vehicle_id] = UnderWay(position, tuple(onboard), locked,
                                   max(0, _seconds(ctx.epoch, since)) if position is not None else 0, returning)
    return out


def back_at_depot(warehouse_id: int, now: datetime) -> dict[int, datetime]:
    """When each van of the warehouse that finished a trip in the last hours is (or was) back at
    its depot: its latest finished route's end (recorded by the driver, or modelled when the plan
    finished it)."""
    return dict(db.session.execute(
        sa.select(Route.vehicle_id, sa.func.max(Route.end_at)).join(Vehicle, Vehicle.id == Route.vehicle_id)
        .where(Vehicle.warehouse_id == warehouse_id, Route.status == RouteStatus.DONE,
               Route.end_at > now - LOOKBACK).group_by(Route.vehicle_id)).all())


def _return_time(matrix: dmatrix.HaversineMatrix, frm: dm.Location, depot: dm.Location, speed_kmh: float) -> int:
    """Seconds the travel model gives from where a van made its last stop back to its depot."""
    return int(matrix.durations((frm,), (depot,), speed_kmh)[0, 0])


def site_location(ctx: ProblemContext, location: Location) -> dm.Location:
    """A stock location (depot, cooperative) as a planning place; records its id in ``ctx``."""
    key = f"L{location.id}"
    ctx.locations[key] = (location.lat, location.lon, location.id)
    return dm.Location(key, lat=location.lat, lon=location.lon, zone=ctx.zone_codes.get(location.zone_id))


def build_problem(warehouse_id: int, now: datetime | None = None, exclude: int | None = None) -> ProblemContext:
    """Open orders (but ``exclude``, an order being placed), vehicles, stock locations and
    learned travel factors of one warehouse."""
    now = now or utcnow()
    warehouse = db.session.get(Warehouse, warehouse_id)
    if warehouse is None:
        raise NotFound()
    # Times are seconds from an epoch some hours back, so that vans under way since then keep
    # their real departure; nothing new happens before ``now``.
    epoch = (now - LOOKBACK).replace(microsecond=0)
    zone_codes = dict(db.session.execute(sa.select(Zone.id, Zone.code)).all())
    ctx = ProblemContext(problem=None, warehouse_id=warehouse.id, warehouse_code=warehouse.code,  # type: ignore[arg-type]
                         depot_location_id=warehouse.location_id, epoch=epoch, zone_codes=zone_codes,
                         now=_seconds(epoch, now))
    ctx.service_extra, ctx.pick_time = handling_parameters()
    depot = warehouse.location
    depot_id = f"L{depot.id}"
    locations: dict[str, dm.Location] = {depot_id: site_location(ctx, depot)}

    def site(location: Location) -> str:
        key = f"L{location.id}"
        if key not in locations:
            locations[key] = site_location(ctx, location)
        return key

    orders, places = order_tasks(ctx, warehouse.id, exclude=exclude)
    for place in places:
        locations.setdefault(place.id, place)
    # milk runs to this depot not yet unloaded: requested, on a route, or on a van (in transit:
    # carried by the van that picked them up, see _execution)
    for move in db.session.scalars(
        sa.select(Replenishment).where(
            Replenishment.to_location_id == depot.id, Replenishment.status.in_(MOVES_TO_PLAN)
        ).order_by(Replenishment.id)
    ):
        key = f"R{move.id}"
        ctx.replenishments[key] = move.id
        product = move.product
        frm = db.session.get(Location, move.from_location_id)
        orders.append(dm.Order(
            id=key, delivery=depot_id, kind=dm.OrderKind.REPLENISHMENT, pickup=site(frm),
            weight=product.weight_g * move.quantity, volume=product.volume_cm3 * move.quantity,
            pickup_service=PICKUP_SERVICE_S + ctx.pick_time.get(frm.id, 0), value=max(0, move.value_fen // 10),
        ))
    known = {o.id for o in orders}
    under_way = _execution(ctx, warehouse.id, known)
    factors = {zone_codes[zid]: f for zid, f in zone_parameters("travel_factor").items() if zid in zone_codes}
    matrix = dmatrix.HaversineMatrix(zone_factors=factors)
    back = back_at_depot(warehouse.id, now)

    broken = out_of_service(warehouse.id, now)
    vehicles = []
    for vehicle in warehouse.vehicles:
        if not vehicle.active or vehicle.id in broken:
            continue
        start, end = shift_window(vehicle, now)
        key = f"V{vehicle.id}"
        ctx.vehicles[key] = vehicle.id
        state = under_way.get(vehicle.id)
        shift_start = max(0, _seconds(epoch, start))
        # a van at its depot leaves now at the earliest (not before it is back from its last
        # trip); one under way goes on from its last place
        free = max(shift_start, ctx.now, _seconds(epoch, back[vehicle.id]) if vehicle.id in back else 0)
        if state is not None and state.returning_route is not None:
            # its trip is over: a new one from the depot, once the model has it back there
            assert state.position is not None
            home = state.since + _return_time(matrix, state.position, locations[depot_id], float(vehicle.speed_kmh))
            ctx.returning[vehicle.id] = (state.returning_route, ctx.at(home))
            state, free = None, max(free, home)
        if state is not None and state.position is not None:
            locations.setdefault(state.position.id, state.position)
        fields = {"available_from": free, **(state.vehicle_fields() if state else {})}
        vehicles.append(dm.Vehicle(
            id=key, depot=depot_id, capacity_weight=vehicle.capacity_weight_g,
            capacity_volume=vehicle.capacity_volume_cm3, shift_start=shift_start,
            shift_end=max(0, _seconds(epoch, end)), speed_kmh=float(vehicle.speed_kmh), **fields,
        ))

    ctx.problem = dm.Problem(
        locations=tuple(locations.values()), vehicles=tuple(vehicles), orders=tuple(orders),
        matrix=matrix, now=ctx.now, epoch=epoch,
        name=warehouse.code, target_cost=int(current_app.config["PROMISE_ETA_COST"]),
    )
    ctx.plan_id = active_plan_id(warehouse.id)
    if ctx.plan_id is not None:
        ctx.routes = stored_routes(ctx, ctx.plan_id)
        # a pickup not yet planned is made from now on; one on a route keeps its planned time
        # (on a van under way it may lie in the past: the van went on as planned)
        routed = {ref.order_id for refs in ctx.routes.values() for ref in refs}
        ctx.problem = replace(ctx.problem, orders=tuple(
            replace(o, ready=0) if o.id in routed and o.kind == dm.OrderKind.PICKUP_DELIVERY else o
            for o in ctx.problem.orders))
        _send_off(ctx)
    if ctx.pins:
        ctx.problem = replace(ctx.problem, orders=_pinned(ctx, ctx.problem.orders, ctx.problem.vehicles))
    return ctx


#: milk runs a plan carries: waiting for a route, on one, or on the van (not yet unloaded)
MOVES_TO_PLAN = (ReplenishmentStatus.REQUESTED, ReplenishmentStatus.PLANNED, ReplenishmentStatus.IN_TRANSIT)

#: how far back the times of a problem reach (vans under way since then keep their departure)
LOOKBACK = timedelta(hours=12)


def out_of_service(warehouse_id: int, now: datetime) -> set[int]:
    """The warehouse's vehicles a dispatcher marked broken down, until the end of that shift."""
    return set(db.session.scalars(
        sa.select(VehicleBreakdown.vehicle_id).join(Vehicle, Vehicle.id == VehicleBreakdown.vehicle_id)
        .where(Vehicle.warehouse_id == warehouse_id, VehicleBreakdown.reported_at <= now,
               VehicleBreakdown.until > now)))


def _pinned(ctx: ProblemContext, orders: tuple[dm.Order, ...], vehicles: tuple[dm.Vehicle, ...]) -> tuple[dm.Order, ...]:
    """Orders with the pins dispatchers set (a pin to a vehicle out of the problem, or of goods
    already on board or locked on another van, is left out: the problem stays valid)."""
    committed = {o: v.id for v in vehicles for o in (*v.onboard, *(r.order_id for r in v.locked_stops))}
    out = []
    for order in orders:
        vehicle = f"V{ctx.pins[order.id]}" if order.id in ctx.pins else None
        if vehicle in ctx.vehicles and committed.get(order.id, vehicle) == vehicle:
            order = replace(order, pinned_vehicle=vehicle)
        out.append(order)
    return tuple(out)


def keep_slack_s() -> int:
    """How long before the latest departure that keeps its promises a van leaves its depot
    (``PROMISE_KEEP_SLACK_MINUTES``): ETAs stay that far ahead of the tightest deadline, at the
    cost of depot capacity for later orders (measured in BENCHMARKS.md)."""
    return int(current_app.config["PROMISE_KEEP_SLACK_MINUTES"] * 60)


def _send_off(ctx: ProblemContext) -> None:
    """A van waits at its depot while its promises allow; one whose stored route had to leave
    before now to keep them left at the latest time that does (the plan sent it off): it
    carries its depot goods and takes no more. Recorded in ``ctx.departed``; the next stored
    plan marks its route started."""
    # (not before the route last left the depot in the plan: goods were loaded until then)
    ctx.departed = dpromise.departures(ctx.problem, ctx.routes, ctx.now, keep_slack_s(), ctx.route_starts)
    if not ctx.departed:
        return
    vehicles = []
    for vehicle in ctx.problem.vehicles:
        left = ctx.departed.get(vehicle.id)
        if left is not None:
            loaded = dpromise.loaded_at_depot(ctx.problem, ctx.routes.get(vehicle.id, ()))
            vehicle = replace(vehicle, available_from=left, departed=True, onboard=(*vehicle.onboard, *loaded))
        vehicles.append(vehicle)
    ctx.problem = replace(ctx.problem, vehicles=tuple(vehicles))


STOP_KIND = {
    (dm.OrderKind.DELIVERY, dm.Role.DELIVERY): StopKind.DELIVERY,
    (dm.OrderKind.PICKUP_DELIVERY, dm.Role.PICKUP): StopKind.PICKUP,
    (dm.OrderKind.PICKUP_DELIVERY, dm.Role.DELIVERY): StopKind.DELIVERY,
    (dm.OrderKind.REPLENISHMENT, dm.Role.PICKUP): StopKind.REPLENISH_PICKUP,
    (dm.OrderKind.REPLENISHMENT, dm.Role.DELIVERY): StopKind.REPLENISH_DROP,
}


def bump_plan_version(warehouse_id: int, *, inserted: bool = False) -> int:
    """Record, in the caller's transaction, that the warehouse's plan or open orders changed:
    every process's cached quoting state of it (see :mod:`.promise`) is then rebuilt, or, when
    the change only ``inserted`` an order into routes that carry the new version as their
    ``changed_version``, brought up to date route by route. Returns the new version. It locks
    the warehouse's row until the commit. Locks are always taken in one order: stock rows
    (by id) first, then the warehouse, as the checkout does — so call it after any change to
    stock in the same transaction."""
    return bump_plan_versions(warehouse_id, inserted=inserted)[0]


def bump_plan_versions(warehouse_id: int, *, inserted: bool = False) -> tuple[int, int]:
    """:func:`bump_plan_version`, returning the new (plan_version, plan_reset_version)."""
    version, reset = db.session.execute(_bump(inserted), {"warehouse_id": warehouse_id}).one()
    return version, reset


# (built once per process, as all statements of the order path: see checkout.services)
@cache
def _bump(inserted: bool) -> sa.Update:
    values = {"plan_version": Warehouse.plan_version + 1}
    if not inserted:
        values["plan_reset_version"] = Warehouse.plan_version + 1
    return (sa.update(Warehouse).where(Warehouse.id == sa.bindparam("warehouse_id")).values(**values)
            .returning(Warehouse.plan_version, Warehouse.plan_reset_version))


def take_out_of_plan(order_id: int) -> None:
    """A cancelled or expired order's stops that are still to be visited leave the routes of
    its warehouse's active plan (superseded plans are history and stay as they were). One
    statement: the visiting order of the other stops is kept by their sequence numbers, gaps
    included (every reader orders by sequence), so no renumbering can collide with the unique
    (route, sequence). The caller bumps the plan version and commits."""
    active_routes = (sa.select(Route.id).join(Plan, Plan.id == Route.plan_id)
                     .where(Plan.status == PlanStatus.ACTIVE))
    db.session.execute(
        sa.delete(Stop).where(Stop.order_id == order_id, Stop.status == StopStatus.PENDING,
                              Stop.route_id.in_(active_routes))
        .execution_options(synchronize_session=False))


def stored_routes(ctx: ProblemContext, plan_id: int) -> dict[str, list[dm.StopRef]]:
    """The visiting order of a stored plan's stops still to be made, per vehicle, restricted to
    what ``ctx``'s problem knows (open orders and requested replenishments)."""
    known = ctx.problem.order_by_id
    routes: dict[str, list[dm.StopRef]] = {v.id: [] for v in ctx.problem.vehicles}
    rows = db.session.execute(
        sa.select(Stop.order_id, Stop.replenishment_id, Stop.kind, Route.vehicle_id, Route.start_at).join(Stop.route)
        .where(Route.plan_id == plan_id, Stop.status == StopStatus.PENDING).order_by(Stop.route_id, Stop.sequence))
    for order_id, replenishment_id, kind, vehicle_id, start_at in rows:
        ctx.route_starts[f"V{vehicle_id}"] = max(0, _seconds(ctx.epoch, start_at))
        key = f"O{order_id}" if order_id else f"R{replenishment_id}"
        if key not in known or f"V{vehicle_id}" not in routes:
            continue
        pickup = kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
        routes[f"V{vehicle_id}"].append(dm.StopRef(key, dm.Role.PICKUP if pickup else dm.Role.DELIVERY))
    return routes


def active_plan_id(warehouse_id: int) -> int | None:
    return db.session.scalar(
        sa.select(Plan.id).where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.id.desc()).limit(1))


def store_plan(ctx: ProblemContext, result: dm.Plan, trigger: PlanTrigger, actor_id: int | None = None, *,
               based_on: int | None = None, broken: frozenset[str] = frozenset(),
               kept_current: bool = False) -> Plan | None:
    """Save a solved plan as the warehouse's active plan (the previous one is superseded),
    with an alert for every order it could not keep and for every promise it found broken.
    One transaction, which holds the warehouse's row lock only while it stores.

    ``based_on``: the warehouse's plan_version when ``ctx`` was read. Orders placed, cancelled
    or expired since are merged into ``result`` first (under the lock); when an order placed
    meanwhile fits nowhere on time, nothing is stored (the active plan, which holds it, stays)
    and None is returned."""
    version, _ = bump_plan_versions(ctx.warehouse_id)  # locks the warehouse's row
    if based_on is not None and version - 1 != based_on:
        merged = _merge_changes(ctx, result)
        if merged is None:
            db.session.rollback()
            log.warning("re-plan not stored: orders placed during the solve fit nowhere on its routes",
                        extra={"warehouse": ctx.warehouse_code})
            return None
        result = merged
    previous = db.session.scalars(
        sa.select(Plan).where(Plan.warehouse_id == ctx.warehouse_id, Plan.status == PlanStatus.ACTIVE)
    ).all()
    for old in previous:
        old.status = PlanStatus.SUPERSEDED
    horizon_end = max([ctx.at(v.shift_end) for v in ctx.problem.vehicles] or [ctx.epoch + DEFAULT_HORIZON])
    plan = Plan(
        warehouse_id=ctx.warehouse_id, status=PlanStatus.ACTIVE, trigger=trigger, created_by_id=actor_id,
        horizon_start=ctx.at(ctx.now), horizon_end=horizon_end, solve_seconds=round(result.solve_seconds, 3),
        vehicles_used=result.vehicles_used, distance_m=int(result.distance), duration_s=int(result.duration),
        fallback=result.fallback,
        stats={"orders": len(ctx.problem.orders), "unassigned": len(result.unassigned), "status": result.status,
               "kept_current": kept_current, "broken": len(broken)},
    )
    db.session.add(plan)
    orders = ctx.problem.order_by_id
    rows = {o.id: o for o in db.session.scalars(sa.select(Order).where(Order.id.in_(ctx.orders.values())))}
    # a van under way stays under way (and a locked route locked) in the new plan, even with
    # nothing left to do: where it is comes from its route's execution record
    carried = {vehicle_id: (status, locked) for vehicle_id, status, locked in db.session.execute(
        sa.select(Route.vehicle_id, Route.status, Route.locked).where(
            Route.plan_id.in_([old.id for old in previous]),
            sa.or_(Route.status == RouteStatus.STARTED, Route.locked.is_(True))))}
    # a van whose trip is over is not under way any more: that route is finished (back at the
    # depot when the model says, unless the driver says otherwise), and a new trip starts planned
    for vehicle_id, (route_id, home) in ctx.returning.items():
        carried.pop(vehicle_id, None)
        db.session.execute(sa.update(Route).where(Route.id == route_id, Route.status == RouteStatus.STARTED)
                           .values(status=RouteStatus.DONE, end_at=home).execution_options(synchronize_session=False))
    for key in ctx.departed:  # sent off by the plan since it was stored
        vehicle_id = ctx.vehicles[key]
        carried[vehicle_id] = (RouteStatus.STARTED, carried.get(vehicle_id, (None, False))[1])
    dispatched: dict[int, int] = {}
    sent_off: list[tuple[Route, datetime]] = []
    for route in result.routes:
        vehicle_id = ctx.vehicles[route.vehicle_id]
        if route.is_empty and vehicle_id not in carried:
            continue
        status, locked = carried.get(vehicle_id, (RouteStatus.PLANNED, False))
        row = Route(plan=plan, vehicle_id=vehicle_id, status=status, locked=locked,
                    start_at=ctx.at(route.visits[0].departure), end_at=ctx.at(route.visits[-1].arrival),
                    distance_m=int(route.distance), duration_s=int(route.duration))
        db.session.add(row)
        if route.vehicle_id in ctx.departed and status == RouteStatus.STARTED:
            sent_off.append((row, ctx.at(ctx.departed[route.vehicle_id])))
        for sequence, visit in enumerate(route.stops, start=1):
            task = orders[visit.order_id]
            lat, lon, location_id = ctx.locations[visit.location]
            order = rows.get(ctx.orders.get(visit.order_id, 0))
            move = db.session.get(Replenishment, ctx.replenishments[visit.order_id]) if visit.order_id in ctx.replenishments else None
            row.stops.append(Stop(
                sequence=sequence, kind=STOP_KIND[(task.kind, visit.role)], order=order,
                replenishment_id=move.id if move else None, location_id=location_id, lat=lat, lon=lon,
                deadline_at=order.deadline_at if order is not None and visit.role == dm.Role.DELIVERY else None,
                planned_arrival_at=ctx.at(visit.arrival), planned_departure_at=ctx.at(visit.departure),
            ))
            if move is not None and move.status == ReplenishmentStatus.REQUESTED:
                move.status = ReplenishmentStatus.PLANNED
            if status == RouteStatus.STARTED and order is not None and visit.role == dm.Role.DELIVERY:
                dispatched[order.id] = vehicle_id  # its goods left with the van
    if sent_off:  # when the vans the plan sent off left their depot (a driver's tap overrides it)
        db.session.flush()
        for row, left in sent_off:
            db.session.add(PlanEvent(plan=plan, kind="route_started",
                                     data={"route_id": row.id, "at": left.isoformat(), "by": "plan"}))
    # a planned milk run this plan leaves out waits for the next one (its units stay reserved)
    visited = {visit.order_id for route in result.routes for visit in route.stops}
    left_out = [move_id for key, move_id in ctx.replenishments.items() if key not in visited]
    if left_out:
        db.session.execute(sa.update(Replenishment).where(
            Replenishment.id.in_(left_out), Replenishment.status == ReplenishmentStatus.PLANNED)
            .values(status=ReplenishmentStatus.REQUESTED).execution_options(synchronize_session=False))
    alerted = set(db.session.scalars(
        sa.select(Alert.order_id).where(Alert.kind.in_(["unassigned", "promise_broken"]), Alert.resolved_at.is_(None))
    ))
    for missing in result.unassigned:
        order = rows.get(ctx.orders.get(missing.order_id, 0))
        move_id = ctx.replenishments.get(missing.order_id)
        db.session.add(UnassignedOrder(
            plan=plan, order_id=order.id if order else None, replenishment_id=move_id,
            reason_code=missing.reason_code, reason=missing.reason[:300],
        ))
        if order is not None and order.id not in alerted:  # a promise at risk: tell the dispatcher once
            alerted.add(order.id)
            db.session.add(Alert(
                kind="unassigned", severity=AlertSeverity.CRITICAL, warehouse_id=ctx.warehouse_id,
                order_id=order.id, plan=plan, message=f"{order.number}: {missing.reason}"[:300],
            ))
    db.session.add(PlanEvent(plan=plan, kind="created", actor_user_id=actor_id,
                             data={"trigger": trigger.value, "fallback": result.fallback, "kept_current": kept_current}))
    db.session.commit()
    _record_order_states(ctx, plan, dispatched, {ctx.orders[k] for k in {*broken, *ctx.overdue} if k in ctx.orders},
                         alerted)
    return plan


def _record_order_states(ctx: ProblemContext, plan: Plan, dispatched: dict[int, int], broken: set[int],
                         alerted: set[int]) -> None:
    """After a plan is stored, in a transaction of its own that locks order rows only (never
    the warehouse: a cancel or an expiry locks its order before the warehouse): orders whose
    goods left with a van are dispatched, and the promises the plan found no route can keep
    are broken (state, event, and a critical alert once per order)."""
    from ..orders import services as order_services

    def lock(ids, *where) -> list[Order]:
        return list(db.session.scalars(sa.select(Order).where(Order.id.in_(ids), *where).order_by(Order.id)
                                       .with_for_update(key_share=True, skip_locked=True)
                                       .execution_options(populate_existing=True))) if ids else []

    for order in lock(list(dispatched), Order.status == OrderStatus.CONFIRMED):
        order_services.record_event(order, "dispatched", to_status=OrderStatus.DISPATCHED,
                                    data={"vehicle_id": dispatched[order.id]})
    for order in lock(list(broken), Order.promise_broken_at.is_(None), Order.status.in_(PLANNED_STATUSES)):
        order.promise_broken_at = ctx.at(ctx.now)
        order_services.record_event(order, "promise_broken", data={"deadline_at": order.deadline_at.isoformat()})
        if order.id not in alerted:
            db.session.add(Alert(
                kind="promise_broken", severity=AlertSeverity.CRITICAL, warehouse_id=ctx.warehouse_id,
                order_id=order.id, plan_id=plan.id,
                message=f"{order.number}: no route can keep its deadline any more; delivered as early as possible"[:300],
            ))
    db.session.commit()


def _merge_changes(ctx: ProblemContext, result: dm.Plan) -> dm.Plan | None:
    """Under the warehouse's lock: ``result`` with the orders that left the open orders since
    ``ctx`` was built taken out, and those placed since inserted on time (None if one fits
    nowhere)."""
    open_ids = set(db.session.scalars(sa.select(Order.id).where(
        Order.warehouse_id == ctx.warehouse_id, Order.status.in_(PLANNED_STATUSES))))
    gone = [key for key, order_id in ctx.orders.items() if order_id not in open_ids]
    new_ids = sorted(open_ids - set(ctx.orders.values()))
    tasks, places = order_tasks(ctx, ids=new_ids) if new_ids else ([], [])
    merged = dreplan.merge(ctx.problem, result, remove=gone, add=tasks, locations=places)
    if merged is None:
        return None
    ctx.problem, plan = merged
    for key in gone:
        ctx.orders.pop(key, None)
    return plan


def plan_warehouse(warehouse_id: int, *, seconds: float = 5.0, trigger: PlanTrigger = PlanTrigger.MANUAL,
                   actor_id: int | None = None, now: datetime | None = None) -> Plan | None:
    """Re-plan one warehouse without losing a kept promise: solve warm-started from the active
    plan's routes (no lock held while solving), keep whichever keeps more promises, recover
    or mark broken what neither keeps, and store it with what changed meanwhile merged in.
    Returns the stored plan, or None when the active plan stays (see :func:`store_plan`)."""
    based_on = db.session.scalar(sa.select(Warehouse.plan_version).where(Warehouse.id == warehouse_id))
    try:
        ctx = build_problem(warehouse_id, now)
        current = ctx.routes if ctx.plan_id is not None else None
        db.session.rollback()  # no snapshot or lock is held while solving
        outcome = dreplan.replan(ctx.problem, current, seconds)
    except NotFound:
        raise
    except Exception:
        log.exception("re-plan failed; the active plan stays", extra={"warehouse_id": warehouse_id})
        db.session.rollback()
        db.session.add(Alert(kind="replan_failed", severity=AlertSeverity.WARNING, warehouse_id=warehouse_id,
                             plan_id=active_plan_id(warehouse_id),
                             message="re-plan failed; the current plan stays"))
        db.session.commit()
        return None
    ctx.problem = outcome.problem
    plan = store_plan(ctx, outcome.plan, trigger, actor_id, based_on=based_on, broken=outcome.broken,
                      kept_current=outcome.kept_current)
    log.info("planned warehouse", extra={"warehouse": ctx.warehouse_code, "plan": plan.id if plan else None,
                                         "orders": len(ctx.orders), "unassigned": len(outcome.plan.unassigned),
                                         "kept_current": outcome.kept_current, "lost_by_solver": len(outcome.lost),
                                         "broken": len(outcome.broken), "seconds": outcome.plan.solve_seconds})
    return plan


#: the solve of the re-plan asked for after a failed delivery (the scheduler's next cycle refines it)
REATTEMPT_SOLVE_SECONDS = 1.0


def request_replan(warehouse_id: int, *, reason: str, now: datetime | None = None) -> int | None:
    """Re-plan one warehouse now, outside the schedule (a failed delivery waits for its
    re-attempt): on the planning queue when there is one (a task of a cycle of its own, not
    waited for), else in this process with a short solve. Never raises: the scheduled re-plan
    follows within REPLAN_MINUTES anyway. The new plan's id, when planned here and stored."""
    try:
        if current_app.config.get("PLANNING_QUEUE") == "celery":
            from .. import tasks

            tasks.init_app(current_app._get_current_object())  # type: ignore[attr-defined]
            tasks.send_cycle([warehouse_id], seconds=REATTEMPT_SOLVE_SECONDS, cycle=tasks.new_cycle(reason), now=now)
            return None
        plan = plan_warehouse(warehouse_id, seconds=REATTEMPT_SOLVE_SECONDS, trigger=PlanTrigger.SCHEDULE, now=now)
        return plan.id if plan is not None else None
    except Exception:
        log.exception("re-plan on request failed; the scheduled one follows",
                      extra={"warehouse_id": warehouse_id, "reason": reason})
        db.session.rollback()
        return None


def replan_all(seconds: float = 5.0, cycle: str | None = None, now: datetime | None = None) -> list[int | None]:
    """The scheduled job: re-plan every active warehouse (rolling horizon), one after another in
    this process; with ``PLANNING_QUEUE = "celery"`` as one queue task per warehouse, planned by
    the workers in parallel, once per ``cycle`` (default: the scheduled run's fire time; see
    :mod:`marketplace.tasks`). ``now``: the cycle's time, which the queue's tasks carry (default:
    the clock's, each worker's own). The new plans' ids (None: the active plan stays)."""
    ids = db.session.scalars(sa.select(Warehouse.id).where(Warehouse.active.is_(True)).order_by(Warehouse.id)).all()
    if current_app.config.get("PLANNING_QUEUE") == "celery":
        from .. import tasks

        return tasks.replan_all(ids, seconds=seconds, cycle=cycle, now=now)
    return [getattr(plan_warehouse(wid, seconds=seconds, trigger=PlanTrigger.SCHEDULE, now=now), "id", None)
            for wid in ids]


# --- every input of a quote invalidates it ---------------------------------------------------------

#: models whose rows are inputs of plans and quotes (travel factors and margins, vehicles and
#: their shifts, warehouses and their zones, window classes)
PLANNING_INPUTS = (LogisticsParameter, Vehicle, Warehouse, WindowClass, Zone)
_VERSION_COLUMNS = {"plan_version", "plan_reset_version"}


def _changes_planning_inputs(session: sa.orm.Session) -> bool:
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, PLANNING_INPUTS):
            return True
    for obj in session.dirty:
        if not isinstance(obj, PLANNING_INPUTS) or not session.is_modified(obj):
            continue
        state = sa.inspect(obj)
        changed = {a.key for a in state.attrs if a.history.has_changes()}
        if changed - _VERSION_COLUMNS:
            return True
    return False


@sa.event.listens_for(sa.orm.Session, "before_flush")
def _invalidate_quotes(session: sa.orm.Session, _context, _instances) -> None:
    """A change to any input of planning, in any process, bumps every warehouse's plan versions
    in the same transaction: each process's cached quoting states are then rebuilt from the new
    inputs (no manual invalidation anywhere). Bulk statements on these models are caught by
    :func:`_invalidate_quotes_bulk`."""
    if _changes_planning_inputs(session):
        _bump_all(session)


@sa.event.listens_for(sa.orm.Session, "do_orm_execute")
def _invalidate_quotes_bulk(state: sa.orm.ORMExecuteState) -> None:
    if (state.is_update or state.is_delete or state.is_insert) and state.bind_mapper is not None \
            and issubclass(state.bind_mapper.class_, PLANNING_INPUTS) and state.bind_mapper.class_ is not Warehouse:
        _bump_all(state.session)


def _bump_all(session: sa.orm.Session) -> None:
    table = Warehouse.__table__
    session.connection().execute(
        table.update().values(plan_version=table.c.plan_version + 1, plan_reset_version=table.c.plan_version + 1))
