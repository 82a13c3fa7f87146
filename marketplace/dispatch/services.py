"""Dispatch overview: warehouses, their fleet, their current plan and open alerts."""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload, selectinload

from ..columns import utcnow
from ..errors import Conflict, NotFound
from ..extensions import db
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order, OrderLine, OrderStatus
from .models import (
    Alert,
    AlertSeverity,
    Plan,
    PlanEvent,
    PlanStatus,
    Replenishment,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
    UnassignedOrder,
)


@dataclass(frozen=True)
class WarehouseBoard:
    warehouse: Warehouse
    plan: Plan | None
    open_orders: int


def active_plan(warehouse_id: int) -> Plan | None:
    return db.session.scalar(
        sa.select(Plan)
        .where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE)
        .order_by(Plan.id.desc())
        .limit(1)
    )


def boards() -> list[WarehouseBoard]:
    warehouses = db.session.scalars(
        sa.select(Warehouse)
        .options(selectinload(Warehouse.vehicles).selectinload(Vehicle.driver), selectinload(Warehouse.zones))
        .order_by(Warehouse.code)
    ).all()
    open_counts = dict(
        db.session.execute(
            sa.select(Order.warehouse_id, sa.func.count())
            .where(Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.DISPATCHED]))
            .group_by(Order.warehouse_id)
        ).all()
    )
    return [WarehouseBoard(w, active_plan(w.id), int(open_counts.get(w.id, 0))) for w in warehouses]


def open_alerts(limit: int = 50) -> list[Alert]:
    return list(
        db.session.scalars(
            sa.select(Alert).where(Alert.resolved_at.is_(None)).order_by(Alert.created_at.desc()).limit(limit)
        )
    )


# --- execution: what drivers record (the planner continues the day from it) --------------------


class NotInActivePlan(Conflict):
    code = "not_in_active_plan"
    default_message = _l("This route is no longer part of the current plan.")


def start_route(route_id: int, *, at: datetime | None = None, actor_id: int | None = None) -> Route:
    """The van leaves its depot: its route is under way (re-plans and quotes continue from
    where it is, with its goods on board) and its confirmed orders are dispatched. Idempotent."""
    from ..orders import services as orders
    from ..planning import services as planning

    at = at or utcnow()
    # populate_existing: the caller's session may hold the row as read before the lock was granted
    route = db.session.scalar(sa.select(Route).join(Plan).where(Route.id == route_id, Plan.status == PlanStatus.ACTIVE)
                              .with_for_update(of=Route).execution_options(populate_existing=True))
    if route is None:
        raise NotInActivePlan()
    if route.status != RouteStatus.PLANNED:
        # the plan sent the van off (at the latest departure that keeps its promises): the
        # driver's tap says when it really left, which the feedback loop measures legs from
        if route.status == RouteStatus.STARTED and not any(s.status != StopStatus.PENDING for s in route.stops) \
                and not _departure_recorded(route.id):
            db.session.add(PlanEvent(plan_id=route.plan_id, kind="route_started", actor_user_id=actor_id,
                                     data={"route_id": route.id, "at": at.isoformat(), "by": "driver"}))
            db.session.commit()
        return route
    route.status = RouteStatus.STARTED
    route.start_at = at
    for stop in route.stops:
        if stop.kind == StopKind.DELIVERY and stop.order is not None and stop.order.status == OrderStatus.CONFIRMED:
            orders.record_event(stop.order, "dispatched", to_status=OrderStatus.DISPATCHED, actor_id=actor_id,
                                data={"vehicle_id": route.vehicle_id})
    db.session.add(PlanEvent(plan_id=route.plan_id, kind="route_started", actor_user_id=actor_id,
                             data={"route_id": route.id, "at": at.isoformat(), "by": "driver"}))
    planning.bump_plan_version(route.plan.warehouse_id)
    db.session.commit()
    return route


def _departure_recorded(route_id: int) -> bool:
    return db.session.scalar(sa.select(PlanEvent.id).where(
        PlanEvent.kind == "route_started", PlanEvent.data["route_id"].as_integer() == route_id,
        PlanEvent.data["by"].as_string() == "driver").limit(1)) is not None


class StopsLeft(Conflict):
    code = "stops_left"
    default_message = _l("This route still has stops to make.")


def back_at_depot(vehicle_id: int, *, at: datetime | None = None, actor_id: int | None = None) -> Route | None:
    """The van is back at its depot after its trip: the trip's route (the vehicle's latest one
    under way or finished, every stop made) is finished at ``at``, and re-plans and quotes start
    the van's next trip from the depot from then on. A route the plan already finished with a
    modelled return time takes the driver's. Idempotent: the first return recorded counts.
    None when the van has no trip to finish."""
    from ..planning import services as planning

    at = at or utcnow()
    route = db.session.scalar(
        sa.select(Route).where(Route.vehicle_id == vehicle_id, Route.status.in_((RouteStatus.STARTED, RouteStatus.DONE)))
        .order_by(Route.id.desc()).limit(1).with_for_update().execution_options(populate_existing=True))
    if route is None:
        return None
    if route.status == RouteStatus.STARTED and route.plan.status == PlanStatus.ACTIVE \
            and any(stop.status == StopStatus.PENDING for stop in route.stops):
        raise StopsLeft()
    recorded = db.session.scalar(sa.select(PlanEvent.id).where(
        PlanEvent.kind == "route_finished", PlanEvent.plan_id == route.plan_id,
        PlanEvent.data["route_id"].as_integer() == route.id).limit(1))
    if recorded is not None:
        return route
    route.status, route.end_at = RouteStatus.DONE, at
    db.session.add(PlanEvent(plan_id=route.plan_id, kind="route_finished", actor_user_id=actor_id,
                             data={"route_id": route.id, "at": at.isoformat()}))
    planning.bump_plan_version(route.plan.warehouse_id)
    db.session.commit()
    return route


def arrive(stop_id: int, *, at: datetime | None = None, actor_id: int | None = None) -> Stop:
    """The driver is at the stop: its actual arrival is stored (the first one counts; a stop
    already made is left as it is). The stop stays pending for the planner, which reads pending
    stops as still to be made and made ones as where the van is. Idempotent."""
    at = at or utcnow()
    stop = db.session.scalar(sa.select(Stop).where(Stop.id == stop_id).with_for_update()
                             .execution_options(populate_existing=True))  # as it is once locked
    if stop is None:
        raise NotFound()
    if stop.status != StopStatus.PENDING or stop.actual_arrival_at is not None:
        return stop
    stop.actual_arrival_at = recorded_arrival(stop) or at
    db.session.add(PlanEvent(plan_id=stop.route.plan_id, kind="stop_arrived", actor_user_id=actor_id,
                             data={"stop_id": stop.id, "at": at.isoformat()}))
    db.session.commit()
    return stop


def recorded_arrival(stop: Stop) -> datetime | None:
    """When the driver recorded arriving at the stop: on its row, or on the row an earlier plan
    had for the same visit (same van, order or replenishment, kind) when a re-plan remade it."""
    if stop.actual_arrival_at is not None:
        return stop.actual_arrival_at
    if stop.order_id is not None:
        same_visit = Stop.order_id == stop.order_id
    elif stop.replenishment_id is not None:
        same_visit = Stop.replenishment_id == stop.replenishment_id
    else:
        return None
    return db.session.scalar(
        sa.select(Stop.actual_arrival_at).join(Route, Route.id == Stop.route_id)
        .where(Route.vehicle_id == stop.route.vehicle_id, Stop.id != stop.id, Stop.kind == stop.kind, same_visit,
               Stop.status == StopStatus.PENDING, Stop.actual_arrival_at.is_not(None))
        .order_by(Stop.actual_arrival_at.desc()).limit(1))


def record_stop(stop_id: int, outcome: StopStatus, *, at: datetime | None = None, actor_id: int | None = None,
                proof: dict | None = None) -> Stop:
    """A stop made (``DONE``) or not (``FAILED``): actual times stored (the delivery record the
    feedback loop learns from; an arrival recorded before a re-plan counts), the proof kept
    (recipient name, photo id, position, time, or a failure's reason and note); a delivery done
    delivers its order (and a cash-on-delivery order's cash is collected); a delivery failed
    leaves its order open and asks a re-plan of the warehouse at once, which puts the order back
    on a route (its re-attempt). Idempotent: a stop already made keeps its first outcome."""
    from ..inventory import services as inventory
    from ..orders import services as orders
    from ..orders.models import PaymentMethod
    from ..payments import services as payments
    from ..planning import services as planning

    if outcome not in (StopStatus.DONE, StopStatus.FAILED):
        raise ValueError(outcome)
    at = at or utcnow()
    stop = db.session.scalar(sa.select(Stop).where(Stop.id == stop_id).with_for_update()
                             .execution_options(populate_existing=True))  # as it is once locked
    if stop is None:
        raise NotFound()
    if stop.status in (StopStatus.DONE, StopStatus.FAILED):
        return stop
    stop.status = outcome
    stop.actual_arrival_at = recorded_arrival(stop) or at
    stop.actual_departure_at = at
    stop.proof = proof
    order = stop.order
    if order is not None and stop.kind == StopKind.DELIVERY and outcome == StopStatus.DONE \
            and order.status in (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.PENDING_PAYMENT):
        order.delivered_at = at
        orders.record_event(order, "delivered", to_status=OrderStatus.DELIVERED, actor_id=actor_id,
                            data={"stop_id": stop.id})
        if order.payment_method == PaymentMethod.CASH_ON_DELIVERY:  # handed over against the cash
            payments.mark_cod_collected(order, actor_id=actor_id, collected_at=at)
        for line in order.lines:  # handed over: the reserved units leave the books of their location
            source = inventory.stock_row(line.product_id, line.source_location_id)
            if source is not None:
                inventory.ship(source.id, line.quantity, order_id=order.id)
    if stop.replenishment_id is not None:  # a milk run loaded or unloaded: its stock moves with it
        from ..coop import replenishment as milk_runs

        milk_runs.stop_recorded(stop, outcome, at, actor_id=actor_id)
    data = {"stop_id": stop.id, "at": at.isoformat()}
    if outcome == StopStatus.FAILED and proof and proof.get("reason"):
        data["reason"] = proof["reason"]
    db.session.add(PlanEvent(plan_id=stop.route.plan_id, kind=f"stop_{outcome.value}", actor_user_id=actor_id,
                             data=data))
    warehouse_id = stop.route.plan.warehouse_id
    planning.bump_plan_version(warehouse_id)
    db.session.commit()
    if outcome == StopStatus.FAILED and stop.kind == StopKind.DELIVERY and order is not None \
            and order.status in planning.PLANNED_STATUSES:
        # the order is re-attempted: back into the plan at once, not at the next scheduled re-plan
        stop_id = stop.id
        planning.request_replan(warehouse_id, reason="failed-delivery")
        stop = db.session.get(Stop, stop_id)
    return stop


# --- the console: one warehouse's day per vehicle and per stop, and its alerts -------------------
#
# The console reads the active plan as stored (routes, stops with planned and actual times) and
# projects the stops still to be made the way the promise watchdog does (planning/watchdog.py): a
# van behind its plan at its next stop (it should have reached it, or left it once arrived, by
# now) delays that stop and every later one by as much. A delivery is *at risk* when its slack
# (deadline − projected arrival) is below its zone's promise margin (the logistics parameter
# ``promise_margin_s``), *late* when the slack is negative. The watchdog raises the at-risk and
# late alerts; the console raises two of its own, per vehicle: a driver who has not started
# (the route was to leave more than NOT_STARTED_AFTER ago) and a load beyond the vehicle's
# capacity, both resolved by themselves once the condition clears.

NOT_STARTED = "not_started"
OVER_CAPACITY = "over_capacity"
NOT_STARTED_AFTER = timedelta(minutes=15)
#: one colour per vehicle of a warehouse (in plate order), on the map and in its legend
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
           "#7f7f7f", "#bcbd22")
TIMELINE_UNITS = 1000  # a timeline is drawn on an SVG this many units wide

ALERT_KINDS = {
    "unassigned": _l("Cannot be planned"), "at_risk": _l("At risk"), "late": _l("Late"),
    "promise_broken": _l("Promise broken"), "replan_failed": _l("Re-plan failed"),
    NOT_STARTED: _l("Not started"), OVER_CAPACITY: _l("Over capacity"), "vehicle_broken_down": _l("Vehicle broken down"),
    "handover_mismatch": _l("Handover mismatch"),
}
#: the planner's reasons (delivery.model.REASONS), worded for a dispatcher
PLANNER_REASONS = {
    "deadline_passed": _l("the deadline has already passed"),
    "no_vehicle": _l("no vehicle may serve this order"),
    "capacity": _l("it is heavier or bulkier than every vehicle that may serve it"),
    "unreachable": _l("the address cannot be reached from the vehicles' locations"),
    "no_vehicle_reaches_in_time": _l("no vehicle can reach the address before the deadline"),
    "shift_ends": _l("no vehicle can serve it and return to its depot before its shift ends"),
    "fleet_busy": _l("the fleet's time and capacity are taken by other orders"),
    "before_shift": _l("no vehicle is on shift before this window would end"),
    "goods_at_cooperative": _l("the goods must first be collected from a cooperative, which takes longer"),
    "not_scheduled": _l("optional task not worth scheduling in this plan"),
}
STOP_STATES = {"on_time": _l("On time"), "at_risk": _l("At risk"), "late": _l("Late"), "failed": _l("Failed"),
               "none": _l("No deadline")}
STOP_KINDS = {StopKind.DELIVERY: _l("Delivery"), StopKind.PICKUP: _l("Pickup"),
              StopKind.REPLENISH_PICKUP: _l("Stock pickup"), StopKind.REPLENISH_DROP: _l("Stock drop")}
STOP_STATUSES = {StopStatus.PENDING: _l("To go"), StopStatus.ARRIVED: _l("Arrived"), StopStatus.DONE: _l("Done"),
                 StopStatus.FAILED: _l("Failed")}
ROUTE_STATUSES = {RouteStatus.PLANNED: _l("Not started"), RouteStatus.STARTED: _l("On the road"),
                  RouteStatus.DONE: _l("Finished")}
SEGMENT_KINDS = {"idle": _l("At the depot"), "drive": _l("Driving"), "wait": _l("Waiting"), "service": _l("Service"),
                 "slack": _l("Slack"), "overtime": _l("Past the shift's end")}


@dataclass
class StopLine:
    """A stop as the console shows it: its projected (to go) or actual (made) times."""

    stop: Stop
    arrival: datetime  # projected arrival, or the actual one once made
    departure: datetime
    made: bool
    slack_s: int | None = None  # deadline − arrival; None without a deadline
    margin_s: int = 0  # the zone's promise margin
    state: str = "none"  # on_time, at_risk, late, failed, none


@dataclass
class Segment:
    kind: str  # idle, drive, wait, service, slack, overtime
    start: datetime
    end: datetime


@dataclass
class VehicleLine:
    vehicle: Vehicle
    colour: str
    shift_start: datetime
    shift_end: datetime
    route: Route | None = None
    stops: list[StopLine] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    end: datetime | None = None  # projected return to the depot
    peak_weight_g: int = 0
    peak_volume_cm3: int = 0
    origin: tuple[float, float] = (0.0, 0.0)  # where the rest of the route starts: depot or last stop made

    @property
    def made(self) -> int:
        return sum(1 for s in self.stops if s.made)

    @property
    def to_go(self) -> int:
        return sum(1 for s in self.stops if not s.made)

    @property
    def over_capacity(self) -> bool:
        return (self.peak_weight_g > self.vehicle.capacity_weight_g
                or self.peak_volume_cm3 > self.vehicle.capacity_volume_cm3)

    def not_started(self, now: datetime) -> bool:
        """Its route was to leave more than NOT_STARTED_AFTER ago, with stops to make, and has not."""
        return (self.route is not None and self.route.status == RouteStatus.PLANNED and self.to_go > 0
                and now - self.route.start_at > NOT_STARTED_AFTER)


@dataclass
class ConsoleState:
    warehouse: Warehouse
    plan: Plan | None
    now: datetime
    vehicles: list[VehicleLine]
    alerts: list[Alert]
    unassigned: list[UnassignedOrder]
    axis_start: datetime
    axis_end: datetime
    reasons: dict[int, str] = field(default_factory=dict)  # alert id → the planner's reason code


def warehouse_by_code(code: str) -> Warehouse:
    warehouse = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == code))
    if warehouse is None:
        raise NotFound()
    return warehouse


def route_of(warehouse: Warehouse, route_id: int) -> Route:
    """A route of one of the warehouse's plans (another warehouse's: not found)."""
    route = db.session.scalar(
        sa.select(Route).join(Plan, Plan.id == Route.plan_id)
        .where(Route.id == route_id, Plan.warehouse_id == warehouse.id)
        .options(selectinload(Route.stops).joinedload(Stop.order).selectinload(Order.lines),
                 selectinload(Route.stops).joinedload(Stop.location), joinedload(Route.vehicle).joinedload(Vehicle.driver)))
    if route is None:
        raise NotFound()
    return route


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _service_s(kind: StopKind) -> int:
    from ..planning import services as planning

    return planning.PICKUP_SERVICE_S if kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP) else \
        planning.DELIVERY_SERVICE_S if kind == StopKind.DELIVERY else 0


def _is_arrived(stop: Stop) -> bool:
    return stop.status == StopStatus.ARRIVED or (stop.status == StopStatus.PENDING and stop.actual_arrival_at is not None)


def _project(pending: list[Stop], now: datetime) -> tuple[list[tuple[Stop, datetime, datetime]], timedelta]:
    """(stop, projected arrival, projected departure) of a route's stops still to be made, in
    order, and the delay they carry (the watchdog's rule: see the section's comment)."""
    if not pending:
        return [], timedelta(0)
    first = pending[0]
    due = first.planned_departure_at if _is_arrived(first) else first.planned_arrival_at
    delay = max(timedelta(0), now - due)
    out = []
    for stop in pending:
        arrival = stop.actual_arrival_at if _is_arrived(stop) else stop.planned_arrival_at + delay
        out.append((stop, arrival, max(arrival, stop.planned_departure_at + delay)))
    return out, delay


def _judge(line: StopLine, stop: Stop, margins: dict[int, float]) -> None:
    if stop.status == StopStatus.FAILED:
        line.state = "failed"
        return
    if stop.deadline_at is None or stop.kind != StopKind.DELIVERY:
        return
    line.slack_s = _seconds(stop.deadline_at - line.arrival)
    line.margin_s = int(margins.get(stop.order.zone_id, 0)) if stop.order is not None else 0
    if line.slack_s < 0:
        line.state = "late"
    elif not line.made and line.slack_s < line.margin_s:
        line.state = "at_risk"
    else:
        line.state = "on_time"


def _timeline(line: VehicleLine, now: datetime) -> None:
    """Idle at the depot, then per stop driving to it, waiting there and serving it, driving back,
    and the slack left before the shift ends (or the time past it)."""
    segments: list[Segment] = []
    if line.route is None:
        line.segments = [Segment("slack", line.shift_start, line.shift_end)]
        return
    leaves = line.route.start_at if line.route.status != RouteStatus.PLANNED else max(line.route.start_at, now)
    cursor = min([leaves, *(s.arrival for s in line.stops[:1])])
    if cursor > line.shift_start:
        segments.append(Segment("idle", line.shift_start, cursor))
    for s in line.stops:
        if s.arrival > cursor:
            segments.append(Segment("drive", cursor, s.arrival))
        begin = max(s.arrival, s.departure - timedelta(seconds=_service_s(s.stop.kind)))
        if begin > s.arrival:
            segments.append(Segment("wait", s.arrival, begin))
        if s.departure > begin:
            segments.append(Segment("service", begin, s.departure))
        cursor = max(cursor, s.departure)
    end = max(cursor, line.end or cursor)
    if end > cursor:
        segments.append(Segment("drive", cursor, end))
    if end < line.shift_end:
        segments.append(Segment("slack", end, line.shift_end))
    elif end > line.shift_end:
        segments.append(Segment("overtime", max(line.shift_end, line.shift_start), end))
    line.segments = segments


def _peak_load(stops: list[Stop], loads: dict[tuple[str, int], tuple[int, int]]) -> tuple[int, int]:
    """The most weight and volume on board along the stops still to be made: what leaves with the
    van (deliveries with no pickup of theirs ahead), plus each pickup, minus each delivery."""
    def key(stop: Stop) -> tuple[str, int] | None:
        if stop.order_id is not None:
            return ("O", stop.order_id)
        if stop.replenishment_id is not None:
            return ("R", stop.replenishment_id)
        return None

    picked_ahead = {key(s) for s in stops if s.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)}
    weight = volume = 0
    for s in stops:
        if s.kind in (StopKind.DELIVERY, StopKind.REPLENISH_DROP) and key(s) not in picked_ahead:
            w, v = loads.get(key(s), (0, 0))
            weight, volume = weight + w, volume + v
    peak_w, peak_v = weight, volume
    for s in stops:
        w, v = loads.get(key(s), (0, 0))
        sign = 1 if s.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP) else -1
        weight, volume = weight + sign * w, volume + sign * v
        peak_w, peak_v = max(peak_w, weight), max(peak_v, volume)
    return peak_w, peak_v


def _loads(stops: list[Stop]) -> dict[tuple[str, int], tuple[int, int]]:
    """(weight g, volume cm³) of the orders and replenishments of ``stops``. Two queries at most."""
    from ..catalog.models import Product

    order_ids = {s.order_id for s in stops if s.order_id is not None}
    moves = {s.replenishment_id for s in stops if s.replenishment_id is not None}
    out: dict[tuple[str, int], tuple[int, int]] = {}
    if order_ids:
        for order_id, weight, volume in db.session.execute(
                sa.select(OrderLine.order_id, sa.func.sum(OrderLine.weight_g), sa.func.sum(OrderLine.volume_cm3))
                .where(OrderLine.order_id.in_(order_ids)).group_by(OrderLine.order_id)):
            out[("O", order_id)] = (int(weight or 0), int(volume or 0))
    if moves:
        for move_id, weight, volume in db.session.execute(
                sa.select(Replenishment.id, Product.weight_g * Replenishment.quantity,
                          Product.volume_cm3 * Replenishment.quantity)
                .join(Product, Product.id == Replenishment.product_id).where(Replenishment.id.in_(moves))):
            out[("R", move_id)] = (int(weight), int(volume))
    return out


def console_state(warehouse: Warehouse, now: datetime | None = None, *, raise_alerts: bool = True) -> ConsoleState:
    """The warehouse's day as the console shows it: per vehicle its shift, its route in the active
    plan (stops made today on any of the warehouse's plans, then the stops to go, projected), the
    timeline, the peak load; the open alerts (after raising and clearing the console's own, when
    ``raise_alerts``); the orders the plan could not keep. A handful of queries, whatever the
    number of stops."""
    from ..planning import services as planning

    now = now or utcnow()
    plan = active_plan(warehouse.id)
    stop_options = (selectinload(Route.stops).joinedload(Stop.order).joinedload(Order.window_class),
                    selectinload(Route.stops).joinedload(Stop.location))
    routes: dict[int, Route] = {}
    if plan is not None:
        routes = {r.vehicle_id: r for r in db.session.scalars(
            sa.select(Route).where(Route.plan_id == plan.id).options(*stop_options))}
    vehicles = [v for v in db.session.scalars(
        sa.select(Vehicle).where(Vehicle.warehouse_id == warehouse.id).options(joinedload(Vehicle.driver))
        .order_by(Vehicle.plate)) if v.active or v.id in routes]
    shifts = {v.id: planning.shift_window(v, routes[v.id].start_at if v.id in routes else now) for v in vehicles}
    day_start = min([s for s, _ in shifts.values()] or [now])
    # stops made today on superseded plans (a re-plan carries only what is still to be made)
    earlier: dict[int, list[Stop]] = {}
    for stop in db.session.scalars(
            sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
            .where(Plan.warehouse_id == warehouse.id, Plan.id != (plan.id if plan else -1),
                   Stop.status.in_([StopStatus.DONE, StopStatus.FAILED]), Stop.actual_departure_at >= day_start)
            .options(joinedload(Stop.order).joinedload(Order.window_class), joinedload(Stop.location),
                     joinedload(Stop.route))):
        earlier.setdefault(stop.route.vehicle_id, []).append(stop)
    margins = planning.zone_parameters("promise_margin_s")
    loads = _loads([s for r in routes.values() for s in r.stops if s.status in (StopStatus.PENDING, StopStatus.ARRIVED)])
    depot = (warehouse.location.lat, warehouse.location.lon)
    lines = []
    for index, vehicle in enumerate(vehicles):
        route = routes.get(vehicle.id)
        line = VehicleLine(vehicle, PALETTE[index % len(PALETTE)], *shifts[vehicle.id], route=route, origin=depot)
        made = [*earlier.get(vehicle.id, []),
                *(s for s in (route.stops if route else []) if s.status in (StopStatus.DONE, StopStatus.FAILED))]
        made.sort(key=lambda s: (s.actual_arrival_at or s.actual_departure_at, s.id))
        for stop in made:
            arrival = stop.actual_arrival_at or stop.actual_departure_at
            line.stops.append(StopLine(stop, arrival, stop.actual_departure_at or arrival, made=True))
        pending = [s for s in (route.stops if route else []) if s.status in (StopStatus.PENDING, StopStatus.ARRIVED)]
        projected, delay = _project(pending, now)
        for stop, arrival, departure in projected:
            line.stops.append(StopLine(stop, arrival, departure, made=False))
        for s in line.stops:
            _judge(s, s.stop, margins)
        if route is not None:
            line.end = route.end_at + (delay if pending else timedelta(0))
            if route.status == RouteStatus.STARTED and made:
                line.origin = (made[-1].lat, made[-1].lon)
        line.peak_weight_g, line.peak_volume_cm3 = _peak_load(pending, loads)
        _timeline(line, now)
        lines.append(line)
    starts = [line.shift_start for line in lines] + [s.start for line in lines for s in line.segments]
    ends = [line.shift_end for line in lines] + [s.end for line in lines for s in line.segments]
    if raise_alerts:
        sync_console_alerts(warehouse, plan, lines, now)
    alerts = open_alerts_of(warehouse.id)
    unassigned = list(db.session.scalars(
        sa.select(UnassignedOrder).where(UnassignedOrder.plan_id == plan.id).options(joinedload(UnassignedOrder.order))
        .order_by(UnassignedOrder.id))) if plan is not None else []
    return ConsoleState(warehouse, plan, now, lines, alerts, unassigned, min(starts or [now]),
                        max(ends or [now + timedelta(hours=1)]), reasons=alert_reasons(alerts))


# --- alerts ---------------------------------------------------------------------------------------

_alerts_lock = threading.Lock()  # SQLite (one process): one console raises its alerts at a time


def open_alerts_of(warehouse_id: int, limit: int = 100) -> list[Alert]:
    """The warehouse's unresolved alerts: not yet acknowledged first, the most severe first, newest first."""
    severity = sa.case({AlertSeverity.CRITICAL: 0, AlertSeverity.WARNING: 1}, value=Alert.severity, else_=2)
    return list(db.session.scalars(
        sa.select(Alert).where(Alert.warehouse_id == warehouse_id, Alert.resolved_at.is_(None))
        .options(joinedload(Alert.order), joinedload(Alert.vehicle).joinedload(Vehicle.driver),
                 joinedload(Alert.acknowledged_by))
        .order_by(Alert.acknowledged_at.is_not(None), severity, Alert.created_at.desc(), Alert.id.desc())
        .limit(limit)))


def sync_console_alerts(warehouse: Warehouse, plan: Plan | None, lines: list[VehicleLine], now: datetime) -> None:
    """Raise the console's own alerts (a driver who has not started, a vehicle over capacity),
    one open alert per vehicle and kind, and resolve by no one those whose condition cleared.
    Writes (and locks: the active plan's row on PostgreSQL) only when something changes."""
    wanted: dict[tuple[str, int], dict] = {}
    for line in lines:
        if line.not_started(now):
            wanted[(NOT_STARTED, line.vehicle.id)] = {
                "vehicle": line.vehicle.plate, "driver": line.vehicle.driver.name if line.vehicle.driver else "",
                "start_at": line.route.start_at.isoformat(), "route_id": line.route.id}
        if line.over_capacity:
            wanted[(OVER_CAPACITY, line.vehicle.id)] = {
                "vehicle": line.vehicle.plate, "route_id": line.route.id if line.route else None,
                "weight_g": line.peak_weight_g, "capacity_weight_g": line.vehicle.capacity_weight_g,
                "volume_cm3": line.peak_volume_cm3, "capacity_volume_cm3": line.vehicle.capacity_volume_cm3}

    def open_ones() -> dict[tuple[str, int], Alert]:
        return {(a.kind, a.vehicle_id): a for a in db.session.scalars(
            sa.select(Alert).where(Alert.warehouse_id == warehouse.id, Alert.resolved_at.is_(None),
                                   Alert.kind.in_([NOT_STARTED, OVER_CAPACITY])))}

    if set(open_ones()) == set(wanted):
        return
    with _alerts_lock:
        if plan is not None:  # serialises two consoles of the warehouse (PostgreSQL)
            db.session.execute(sa.select(Plan.id).where(Plan.id == plan.id).with_for_update())
        current = open_ones()
        for key, data in wanted.items():
            if key in current:
                continue
            kind, vehicle_id = key
            severity = AlertSeverity.WARNING if kind == NOT_STARTED else AlertSeverity.CRITICAL
            message = (f"{data['vehicle']} has not started: its route was to leave at {data['start_at']}"
                       if kind == NOT_STARTED else
                       f"{data['vehicle']} loaded beyond capacity: {data['weight_g']} g of {data['capacity_weight_g']} g,"
                       f" {data['volume_cm3']} cm3 of {data['capacity_volume_cm3']} cm3")
            db.session.add(Alert(kind=kind, severity=severity, warehouse_id=warehouse.id, vehicle_id=vehicle_id,
                                 plan_id=plan.id if plan else None, message=message[:300], data=data, created_at=now))
        for key, alert in current.items():
            if key not in wanted:
                alert.resolved_at = now
        db.session.commit()


def alert_reasons(alerts: list[Alert]) -> dict[int, str]:
    """Alert id → the planner's reason code, for "cannot be planned" alerts (from their data, or
    the plan's record of the order when the data has none). One query at most."""
    out: dict[int, str] = {}
    missing = []
    for alert in alerts:
        if alert.kind != "unassigned":
            continue
        code = (alert.data or {}).get("reason_code")
        if code:
            out[alert.id] = code
        elif alert.plan_id is not None and alert.order_id is not None:
            missing.append(alert)
    if missing:
        found = {(plan_id, order_id): code for plan_id, order_id, code in db.session.execute(
            sa.select(UnassignedOrder.plan_id, UnassignedOrder.order_id, UnassignedOrder.reason_code)
            .where(UnassignedOrder.plan_id.in_({a.plan_id for a in missing}),
                   UnassignedOrder.order_id.in_({a.order_id for a in missing})))}
        for alert in missing:
            if (alert.plan_id, alert.order_id) in found:
                out[alert.id] = found[(alert.plan_id, alert.order_id)]
    return out


def _at(value: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except ValueError:
        return None


def _clock(value: datetime | None, now: datetime | None = None) -> str:
    """A time in Shanghai: HH:mm today, MM-dd HH:mm on another day (digits in every language:
    formatted directly, thousands of times per state, not through Babel)."""
    from ..i18n import LOCAL_TZ

    if value is None:
        return ""
    local = value.astimezone(LOCAL_TZ)
    if now is not None and local.date() != now.astimezone(LOCAL_TZ).date():
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%H:%M")


def duration_text(seconds: int | None) -> str:
    """A signed duration in minutes or hours and minutes (−12 min, 1 h 05 min)."""
    if seconds is None:
        return "—"
    sign = "−" if seconds < 0 else ""
    minutes = abs(int(seconds)) // 60
    if minutes < 60:
        return sign + _("%(minutes)d min", minutes=minutes)
    return sign + _("%(hours)d h %(minutes)02d min", hours=minutes // 60, minutes=minutes % 60)


def _kg(grams: int) -> str:
    return f"{grams / 1000:.0f} kg" if grams >= 10_000 else f"{grams / 1000:.1f} kg"


def _m3(cm3: int) -> str:
    return f"{cm3 / 1_000_000:.2f} m³"


def alert_text(alert: Alert, reason_code: str | None = None, now: datetime | None = None) -> str:
    """The alert in the reader's language, from its kind and data (the stored message is English,
    for logs; it is shown only for a kind this console does not know)."""
    data = alert.data or {}
    order = data.get("order") or (alert.order.number if alert.order is not None else "")
    vehicle = data.get("vehicle") or (alert.vehicle.plate if alert.vehicle is not None else "")
    if alert.kind == "at_risk":
        return _("%(order)s: expected at %(eta)s, deadline %(deadline)s (slack %(slack)s, below the zone's margin of %(margin)s)",
                 order=order, eta=_clock(_at(data.get("eta_at")), now), deadline=_clock(_at(data.get("deadline_at")), now),
                 slack=duration_text(data.get("slack_s")), margin=duration_text(data.get("margin_s")))
    if alert.kind == "late":
        deadline = _at(data.get("deadline_at")) or (alert.order.deadline_at if alert.order is not None else None)
        return _("%(order)s is late: its deadline %(deadline)s passed before delivery", order=order,
                 deadline=_clock(deadline, now))
    if alert.kind == "unassigned":
        reason = PLANNER_REASONS.get(reason_code or "")
        return _("%(order)s: the plan cannot keep it: %(reason)s", order=order,
                 reason=reason if reason is not None else _("no reason given"))
    if alert.kind == "promise_broken":
        return _("%(order)s: no route can keep its deadline any more; it is delivered as early as possible", order=order)
    if alert.kind == "replan_failed":
        return _("Re-planning failed; the current plan stays.")
    if alert.kind == NOT_STARTED:
        driver = data.get("driver") or (alert.vehicle.driver.name if alert.vehicle and alert.vehicle.driver else "—")
        return _("%(vehicle)s (%(driver)s) has not started: its route was to leave at %(start)s",
                 vehicle=vehicle, driver=driver, start=_clock(_at(data.get("start_at")), now))
    if alert.kind == OVER_CAPACITY:
        return _("%(vehicle)s is loaded beyond its capacity: %(weight)s of %(capacity_weight)s, %(volume)s of %(capacity_volume)s",
                 vehicle=vehicle, weight=_kg(int(data.get("weight_g", 0))),
                 capacity_weight=_kg(int(data.get("capacity_weight_g", 0))), volume=_m3(int(data.get("volume_cm3", 0))),
                 capacity_volume=_m3(int(data.get("capacity_volume_cm3", 0))))
    if alert.kind == "handover_mismatch":
        return handover_mismatch_text(data, now)
    if alert.kind == "vehicle_broken_down":
        return _("%(vehicle)s is out of service until %(until)s: its %(stops)d stops still to be made were re-planned "
                 "onto the other vehicles", vehicle=vehicle, until=_clock(_at(data.get("until")), now),
                 stops=int(data.get("stops", 0)))
    return alert.message


def handover_mismatch_text(data: dict, now: datetime | None = None) -> str:
    """A cooperative handed a van other counts than its pick list: each line that differs."""
    from ..i18n import is_english

    english = is_english()
    lines = []
    for line in data.get("lines") or []:
        if int(line.get("counted", 0)) == int(line.get("expected", 0)):
            continue
        product = (line.get("product_en") if english else line.get("product_zh")) or line.get("product_zh") or ""
        what = _("%(product)s: %(counted)d counted, %(expected)d expected", product=product,
                 counted=int(line.get("counted", 0)), expected=int(line.get("expected", 0)))
        if line.get("order"):
            what += " (" + _("order %(number)s", number=line["order"]) + ")"
        elif line.get("replenishment_id"):
            what += " (" + _("stock move to the warehouse") + ")"
        lines.append(what)
    cooperative = (data.get("cooperative_en") if english else data.get("cooperative_zh")) or data.get("cooperative_zh", "")
    return _("%(cooperative)s handed %(vehicle)s other quantities than the pick list at %(time)s: %(lines)s",
             cooperative=cooperative, vehicle=data.get("vehicle", ""), time=_clock(_at(data.get("handed_at")), now),
             lines="; ".join(lines))


def _alert_row(warehouse_id: int, alert_id: int) -> Alert:
    alert = db.session.scalar(sa.select(Alert).where(Alert.id == alert_id, Alert.warehouse_id == warehouse_id)
                              .with_for_update())
    if alert is None:
        raise NotFound()
    return alert


def acknowledge_alert(warehouse_id: int, alert_id: int, actor_id: int, at: datetime | None = None) -> Alert:
    """A dispatcher has seen the alert and handles it: who and when are kept (the first
    acknowledgement counts). An alert of another warehouse is not found. Commits."""
    alert = _alert_row(warehouse_id, alert_id)
    if alert.acknowledged_at is None:
        alert.acknowledged_at, alert.acknowledged_by_id = at or utcnow(), actor_id
    db.session.commit()
    return alert


def resolve_alert(warehouse_id: int, alert_id: int, actor_id: int, at: datetime | None = None) -> Alert:
    """The alert is dealt with: who and when are kept (acknowledged too, if it was not). Idempotent:
    an alert already resolved keeps its first resolution. Commits."""
    alert = _alert_row(warehouse_id, alert_id)
    at = at or utcnow()
    if alert.resolved_at is None:
        alert.resolved_at, alert.resolved_by_id = at, actor_id
        if alert.acknowledged_at is None:
            alert.acknowledged_at, alert.acknowledged_by_id = at, actor_id
    db.session.commit()
    return alert


# --- what the page and its updates show -----------------------------------------------------------


def console_stamp(warehouse_id: int, now: datetime | None = None) -> str:
    """What the console's state depends on, cheaply: the warehouse's plan version (every change to
    its plan or open orders), the latest plan event of its active plan (a driver's arrival), its
    alerts (raised, acknowledged, resolved) and the minute (projections move with time). Two
    queries; the same stamp means the same state."""
    now = now or utcnow()
    version, event = db.session.execute(
        sa.select(Warehouse.plan_version,
                  sa.select(sa.func.max(PlanEvent.id)).join(Plan, Plan.id == PlanEvent.plan_id)
                  .where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE).scalar_subquery())
        .where(Warehouse.id == warehouse_id)).one()
    alerts = db.session.execute(
        sa.select(sa.func.count(), sa.func.max(Alert.id), sa.func.max(Alert.acknowledged_at), sa.func.max(Alert.resolved_at))
        .where(Alert.warehouse_id == warehouse_id)).one()
    raw = f"{version}|{event}|{'|'.join(map(str, alerts))}|{int(now.timestamp() // 60)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:20]


def _x(state: ConsoleState, moment: datetime) -> float:
    span = max(1.0, (state.axis_end - state.axis_start).total_seconds())
    return round(max(0.0, min(1.0, (moment - state.axis_start).total_seconds() / span)) * TIMELINE_UNITS, 1)


def _pct(value: int, capacity: int) -> int:
    return round(100 * value / capacity) if capacity else 0


def flagged_drivers() -> set[int]:
    """Drivers with the learned ``conduct_flag`` (courier-conduct complaints; see logistics.learning)."""
    from ..logistics import services as parameters
    from ..logistics.models import ParameterScope

    return {driver_id for driver_id, flag in parameters.values(ParameterScope.DRIVER, "conduct_flag").items() if flag}


def state_document(state: ConsoleState, urls: dict[str, str]) -> dict:
    """The console's state as plain values in the page's language: what the page is rendered from
    and what state.json sends (the page's script redraws the map, timelines, stops and alerts
    from it). ``urls``: URL templates with ``{route}``/``{alert}`` placeholders (manifest, ack,
    resolve)."""
    from ..i18n import localized

    now = state.now
    kinds, statuses, states, segment_kinds = ({key: str(label) for key, label in labels.items()} for labels in (
        STOP_KINDS, STOP_STATUSES, STOP_STATES, SEGMENT_KINDS))
    ticks = []
    hour = state.axis_start.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    step = timedelta(hours=1 if (state.axis_end - state.axis_start) <= timedelta(hours=16) else 2)
    while hour < state.axis_end:
        ticks.append({"x": _x(state, hour), "label": _clock(hour)})
        hour += step
    vehicles = []
    summary = {"stops": 0, "made": 0, "at_risk": 0, "late": 0}
    conduct = flagged_drivers()
    for line in state.vehicles:
        v, route = line.vehicle, line.route
        stops = []
        for n, s in enumerate(line.stops, start=1):
            stop, order = s.stop, s.stop.order
            summary["stops"] += 1
            summary["made"] += s.made
            summary["at_risk"] += s.state == "at_risk" and not s.made
            summary["late"] += s.state == "late" and not s.made
            place = (localized(stop.location) if stop.location is not None else
                     order.address_text if order is not None else "")
            stops.append({
                "id": stop.id, "n": n, "sequence": stop.sequence, "kind": stop.kind.value, "kind_label": kinds[stop.kind],
                "order": order.number if order is not None else "", "window": order.window_class.code if order is not None else "",
                "window_label": localized(order.window_class) if order is not None else "",
                "place": place, "lat": stop.lat, "lon": stop.lon,
                "deadline": _clock(stop.deadline_at, now), "planned": _clock(stop.planned_arrival_at, now),
                "eta": _clock(s.arrival, now) if not s.made else "", "actual": _clock(stop.actual_arrival_at or stop.actual_departure_at, now) if s.made else "",
                "status": stop.status.value, "status_label": statuses[stop.status], "made": s.made,
                "slack_s": s.slack_s, "slack": duration_text(s.slack_s) if s.slack_s is not None else "—",
                "margin_s": s.margin_s, "state": s.state, "state_label": states[s.state],
            })
        segments = [{"kind": g.kind, "label": f"{segment_kinds[g.kind]} {_clock(g.start, now)}–{_clock(g.end, now)}",
                     "x": _x(state, g.start), "w": max(0.5, round(_x(state, g.end) - _x(state, g.start), 1)),
                     "past": g.end <= now} for g in line.segments if g.end > g.start]
        to_go = [s for s in line.stops if not s.made]
        path = [list(line.origin), *([s.stop.lat, s.stop.lon] for s in to_go)]
        if route is not None and to_go:
            path.append([state.warehouse.location.lat, state.warehouse.location.lon])
        vehicles.append({
            "id": v.id, "plate": v.plate, "colour": line.colour, "kind": v.kind.value,
            "driver": v.driver.name if v.driver else "", "driver_mobile": v.driver.mobile if v.driver else "",
            "conduct_flag": v.driver_id in conduct,  # learned from courier-conduct complaints
            "shift": f"{_clock(line.shift_start, now)}–{_clock(line.shift_end, now)}",
            "route": None if route is None else {
                "id": route.id, "status": route.status.value, "status_label": str(ROUTE_STATUSES[route.status]),
                "locked": route.locked, "start": _clock(route.start_at, now), "end": _clock(line.end, now),
                "km": round(route.distance_m / 1000, 1), "manifest_url": urls["manifest"].replace("{route}", str(route.id))},
            "not_started": line.not_started(now),
            "progress": {"made": line.made, "to_go": line.to_go, "total": len(line.stops),
                         "label": _("%(made)d of %(total)d stops made, %(to_go)d to go", made=line.made,
                                    total=len(line.stops), to_go=line.to_go)},
            "load": {"weight_pct": _pct(line.peak_weight_g, v.capacity_weight_g),
                     "volume_pct": _pct(line.peak_volume_cm3, v.capacity_volume_cm3),
                     "weight": f"{_kg(line.peak_weight_g)} / {_kg(v.capacity_weight_g)}",
                     "volume": f"{_m3(line.peak_volume_cm3)} / {_m3(v.capacity_volume_cm3)}",
                     "over": line.over_capacity},
            "segments": segments, "now_x": _x(state, now), "stops": stops, "path": path,
        })
    plan = state.plan
    return {
        "warehouse": {"code": state.warehouse.code, "name": localized(state.warehouse.location),
                      "lat": state.warehouse.location.lat, "lon": state.warehouse.location.lon},
        "plan": None if plan is None else {
            "id": plan.id, "fallback": plan.fallback,
            "label": _("Current plan #%(id)d, made %(time)s", id=plan.id, time=_clock(plan.created_at, now))},
        "version": state.warehouse.plan_version, "now": now.isoformat(), "now_label": _clock(now),
        "axis": {"units": TIMELINE_UNITS, "ticks": ticks, "now_x": _x(state, now)},
        "summary": summary, "vehicles": vehicles,
        "alerts": [{
            "id": a.id, "kind": a.kind, "kind_label": str(ALERT_KINDS.get(a.kind, a.kind)), "severity": a.severity.value,
            "text": alert_text(a, state.reasons.get(a.id), now), "created": _clock(a.created_at, now),
            "acknowledged": None if a.acknowledged_at is None else {
                "by": (a.acknowledged_by.name or a.acknowledged_by.mobile) if a.acknowledged_by else "",
                "at": _clock(a.acknowledged_at, now),
                "label": _("Acknowledged by %(name)s at %(time)s", time=_clock(a.acknowledged_at, now),
                           name=(a.acknowledged_by.name or a.acknowledged_by.mobile) if a.acknowledged_by else "—")},
            "acknowledge_url": urls["acknowledge"].replace("{alert}", str(a.id)),
            "resolve_url": urls["resolve"].replace("{alert}", str(a.id)),
        } for a in state.alerts],
        "unassigned": [{"order": u.order.number if u.order is not None else "",
                        "reason": str(PLANNER_REASONS.get(u.reason_code, u.reason))} for u in state.unassigned],
    }


# --- the driver's manifest ------------------------------------------------------------------------


@dataclass(frozen=True)
class ManifestRow:
    number: int
    stop: Stop
    name: str  # recipient, or the cooperative / stock location
    phone: str
    address: str
    goods: list[tuple[str, int]]  # (product, quantity)
    cod_fen: int | None  # cash to collect on delivery
    made: bool


def manifest(route: Route) -> list[ManifestRow]:
    """The route's stops in order, as a driver needs them on paper: who, where, what, the cash to
    collect (cash on delivery: the order's total) and the times."""
    from ..catalog.models import Product
    from ..i18n import is_english, localized
    from ..orders.models import PaymentMethod

    english = is_english()
    move_ids = {s.replenishment_id for s in route.stops if s.replenishment_id is not None}
    moves = {move_id: (product, quantity) for move_id, product, quantity in db.session.execute(
        sa.select(Replenishment.id, Product, Replenishment.quantity).join(Product, Product.id == Replenishment.product_id)
        .where(Replenishment.id.in_(move_ids)))} if move_ids else {}
    rows = []
    for n, stop in enumerate(route.stops, start=1):
        order, place = stop.order, stop.location
        goods: list[tuple[str, int]] = []
        cod = None
        if stop.kind == StopKind.DELIVERY and order is not None:
            name, phone, address = order.recipient_name, order.recipient_mobile, order.address_text
            goods = [(line.product_name_en if english else line.product_name_zh, line.quantity) for line in order.lines]
            if order.payment_method == PaymentMethod.CASH_ON_DELIVERY:
                cod = order.total_fen
        else:
            name = localized(place) if place is not None else ""
            coop = place.cooperative if place is not None else None
            phone = coop.head_mobile if coop is not None else ""
            address = (place.address_zh or localized(place.village)) if place is not None else ""
            if order is not None:
                goods = [(line.product_name_en if english else line.product_name_zh, line.quantity)
                         for line in order.lines if place is None or line.source_location_id == place.id]
            elif stop.replenishment_id in moves:
                product, quantity = moves[stop.replenishment_id]
                goods = [(localized(product), quantity)]
        rows.append(ManifestRow(n, stop, name, phone, address, goods, cod,
                                stop.status in (StopStatus.DONE, StopStatus.FAILED)))
    return rows


def warehouses() -> list[Warehouse]:
    """Every active warehouse, by code (the console's links from one warehouse to another)."""
    return list(db.session.scalars(sa.select(Warehouse).where(Warehouse.active.is_(True))
                                   .options(joinedload(Warehouse.location)).order_by(Warehouse.code)))
