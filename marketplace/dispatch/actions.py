"""The dispatcher's hand on the day's plan: re-plan now (and see what changed), lock a route,
pin an order to a vehicle, move a stop, mark a vehicle broken down.

A manual change of routes is built as candidate routes and put to the independent checker
(:func:`delivery.check.check`, the one the planner's results are held to) against the problem
the planner would solve now (:func:`planning.services.build_problem`: open orders, vans under
way with their goods, locked routes, pins, vehicles out of service). It is stored only when the
checker finds nothing wrong that the current routes did not already have (a promise late, a
capacity or a shift exceeded, a locked route, a pin or goods on board ignored), in one
transaction under the warehouse's lock (the plan version bump locks its row, as a re-plan's
store does), with the plan version bumped and a :class:`PlanEvent` naming who did it. A refused
change leaves everything as it was and says why, in the page's language.
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from delivery import model as dm
from delivery import replan as dreplan
from delivery.check import Violation
from delivery.check import check as check_plan

from ..columns import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order
from ..planning import services as planning
from .models import (
    Alert,
    AlertSeverity,
    DispatchRequest,
    OrderPin,
    Plan,
    PlanEvent,
    PlanStatus,
    PlanTrigger,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
    UnassignedOrder,
    VehicleBreakdown,
)

log = logging.getLogger("shanhuo.dispatch")

#: a re-plan's diff lists deliveries whose ETA moved by more than this
ETA_SHIFT_MINUTES = 10
#: seconds of solving per warehouse for "re-plan now" (``DISPATCH_REPLAN_SECONDS`` overrides)
REPLAN_SECONDS = 3.0
#: the one-time token of a re-plan form
TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{16,64}")


class Refused(Conflict):
    """The checker found that a manual change would break something: nothing was changed."""

    code = "refused"
    default_message = _l("The change was refused.")

    def __init__(self, reasons: Sequence[str], *, what: str = "move") -> None:
        self.reasons = list(reasons)
        self.what = what
        prefix = {"move": _("Move refused:"), "pin": _("Pin refused:")}.get(what, _("Refused:"))
        super().__init__(f"{prefix} {' '.join(self.reasons)}")


class NotInActivePlan(Conflict):
    code = "not_in_active_plan"
    default_message = _l("This route is no longer part of the current plan; reload the page.")


class StopNotMovable(Conflict):
    code = "stop_not_movable"
    default_message = _l("Only stops still to be made can be moved.")


class OrderNotOpen(Conflict):
    code = "order_not_open"
    default_message = _l("Only orders still to be delivered can be pinned.")


class NoPlan(Conflict):
    code = "no_plan"
    default_message = _l("This warehouse has no current plan yet: re-plan it first.")


# --- the objects of one warehouse, by id (404 for another warehouse's) ---------------------------


def warehouse(warehouse_id: int) -> Warehouse:
    found = db.session.get(Warehouse, warehouse_id)
    if found is None:
        raise NotFound()
    return found


def vehicle_of(warehouse_id: int, vehicle_id: int | None) -> Vehicle:
    if vehicle_id is None:
        raise ValidationFailed(_l("Choose a vehicle."), field="vehicle_id")
    found = db.session.get(Vehicle, vehicle_id)
    if found is None or found.warehouse_id != warehouse_id:
        raise NotFound()
    return found


def order_of(warehouse_id: int, order_id: int | None) -> Order:
    if order_id is None:
        raise ValidationFailed(_l("Choose an order."), field="order_id")
    found = db.session.get(Order, order_id)
    if found is None or found.warehouse_id != warehouse_id:
        raise NotFound()
    return found


def _plan_row(plan_id: int, warehouse_id: int, *, fresh: bool = False) -> Plan:
    plan = db.session.get(Plan, plan_id, populate_existing=fresh)
    if plan is None or plan.warehouse_id != warehouse_id:
        raise NotFound()
    if plan.status != PlanStatus.ACTIVE:
        raise NotInActivePlan()
    return plan


def route_of(warehouse_id: int, route_id: int | None) -> Route:
    if route_id is None:
        raise ValidationFailed(_l("Choose a route."), field="route_id")
    route = db.session.get(Route, route_id)
    if route is None:
        raise NotFound()
    _plan_row(route.plan_id, warehouse_id)
    return route


def stop_of(warehouse_id: int, stop_id: int | None) -> Stop:
    if stop_id is None:
        raise ValidationFailed(_l("Choose a stop."), field="stop_id")
    stop = db.session.get(Stop, stop_id)
    if stop is None:
        raise NotFound()
    _plan_row(stop.route.plan_id, warehouse_id)
    return stop


class Busy(Conflict):
    code = "busy"
    default_message = _l("A driver or another dispatcher is changing this route right now. Please try again in a moment.")


def _lock(warehouse_id: int) -> int:
    """The warehouse's lock for this transaction (its row, by the plan version bump, taken first
    as a re-plan's store and a checkout take it): the new plan version. The caller commits or
    rolls back."""
    version, _reset = planning.bump_plan_versions(warehouse_id)
    return version


_LOCK_NOT_AVAILABLE = "55P03"


def _without_waiting(statement: sa.Select) -> None:
    """Lock rows under the warehouse's lock without waiting for them: a driver's record (or a
    payment) holding one of them waits for the warehouse's lock next, so waiting here would
    deadlock. :class:`Busy` when one is held (PostgreSQL; SQLite serializes writers)."""
    try:
        db.session.execute(statement)
    except sa.exc.OperationalError as error:
        if getattr(error.orig, "sqlstate", None) == _LOCK_NOT_AVAILABLE:
            db.session.rollback()
            raise Busy() from None
        raise


def _hold_routes(plan_id: int, vehicle_ids: Iterable[int]) -> None:
    """The rows a change of these vehicles' routes writes: their routes and stops."""
    ids = sorted(set(vehicle_ids))
    routes = sa.select(Route.id).where(Route.plan_id == plan_id, Route.vehicle_id.in_(ids))
    _without_waiting(routes.order_by(Route.id).with_for_update(nowait=True))
    _without_waiting(sa.select(Stop.id).where(Stop.route_id.in_(routes)).order_by(Stop.id)
                     .with_for_update(nowait=True))


def _hold_order(order_id: int) -> None:
    """The order a pin refers to (its key, as the pin's foreign key would take it)."""
    _without_waiting(sa.select(Order.id).where(Order.id == order_id)
                     .with_for_update(nowait=True, read=True, key_share=True))


def _refreshed(row):
    """``row`` as the database has it now (under the lock: nobody changes it any more)."""
    db.session.refresh(row)
    return row


# --- what the console shows next to the routes ---------------------------------------------------


@dataclass(frozen=True)
class ActionState:
    """What the action forms of one warehouse need besides its plan: pins, vehicles out of
    service, and the open orders its active plan could not route (to pin one)."""

    warehouse_id: int
    pins: Mapping[int, int]  # order id -> vehicle id
    out_of_service: frozenset[int]  # vehicle ids
    unrouted: list[tuple[int, str]]  # (order id, number)
    plates: Mapping[int, str]  # vehicle id -> plate


def action_state(warehouse: int | str, now: datetime | None = None) -> ActionState:
    """For a warehouse by id or code."""
    if isinstance(warehouse, str):
        found = db.session.scalar(sa.select(Warehouse.id).where(Warehouse.code == warehouse))
        if found is None:
            raise NotFound()
        warehouse = found
    pins = dict(db.session.execute(
        sa.select(OrderPin.order_id, OrderPin.vehicle_id).join(Vehicle, Vehicle.id == OrderPin.vehicle_id)
        .where(Vehicle.warehouse_id == warehouse)).all())
    plan_id = planning.active_plan_id(warehouse)
    unrouted = [] if plan_id is None else [tuple(row) for row in db.session.execute(
        sa.select(Order.id, Order.number).join(UnassignedOrder, UnassignedOrder.order_id == Order.id)
        .where(UnassignedOrder.plan_id == plan_id, Order.status.in_(planning.PLANNED_STATUSES)).order_by(Order.number))]
    plates = dict(db.session.execute(sa.select(Vehicle.id, Vehicle.plate).where(Vehicle.warehouse_id == warehouse)).all())
    return ActionState(warehouse, pins, frozenset(planning.out_of_service(warehouse, now or utcnow())), unrouted,
                       plates)


# --- the checker's verdict on candidate routes ---------------------------------------------------

Routes = dict[str, list[dm.StopRef]]


@dataclass
class Verdict:
    routes: Routes
    plan: dm.Plan
    new: list[Violation]  # what the checker finds wrong that the current routes did not have

    @property
    def ok(self) -> bool:
        return not self.new

    @property
    def distance(self) -> int:
        return self.plan.distance


def _judge(problem: dm.Problem, before: list[Violation], routes: Routes) -> Verdict:
    """The checker on ``routes`` (scheduled at the earliest times): its violations that the
    current routes' violations (``before``) do not already have, or have less of."""
    plan = dreplan.schedule(problem, routes)
    had: dict[tuple, int] = {}
    for v in before:
        key = (v.code, v.vehicle_id, v.order_id)
        had[key] = max(had.get(key, 0), v.amount)
    new = [v for v in check_plan(problem, plan)
           if (v.code, v.vehicle_id, v.order_id) not in had or v.amount > had[(v.code, v.vehicle_id, v.order_id)]]
    return Verdict(routes, plan, new)


def _best(problem: dm.Problem, current: Routes, candidates: Iterable[Routes]) -> Verdict:
    """The shortest candidate the checker accepts, else the one with the fewest objections
    (whose objections are the reasons given)."""
    before = check_plan(problem, dreplan.schedule(problem, current))
    verdicts = [_judge(problem, before, routes) for routes in candidates]
    accepted = [v for v in verdicts if v.ok]
    if accepted:
        return min(accepted, key=lambda v: v.distance)
    return min(verdicts, key=lambda v: (len(v.new), v.distance))


@dataclass
class _Names:
    """How the page names the planner's ids: vehicles by plate, orders by number."""

    ctx: planning.ProblemContext
    plates: dict[str, str] = field(default_factory=dict)
    numbers: dict[str, str] = field(default_factory=dict)
    done: dict[str, int] = field(default_factory=dict)  # vehicle key -> stops made on its route

    @classmethod
    def of(cls, ctx: planning.ProblemContext) -> _Names:
        names = cls(ctx)
        vehicles = db.session.execute(sa.select(Vehicle.id, Vehicle.plate).where(
            Vehicle.warehouse_id == ctx.warehouse_id)).all()
        names.plates = {f"V{vid}": plate for vid, plate in vehicles}
        ids = list(ctx.orders.values())
        if ids:
            names.numbers = {f"O{oid}": number for oid, number in db.session.execute(
                sa.select(Order.id, Order.number).where(Order.id.in_(ids)))}
        if ctx.plan_id is not None:
            names.done = {f"V{vid}": n for vid, n in db.session.execute(
                sa.select(Route.vehicle_id, sa.func.count(Stop.id)).join(Stop, Stop.route_id == Route.id)
                .where(Route.plan_id == ctx.plan_id, Stop.status != StopStatus.PENDING).group_by(Route.vehicle_id))}
        return names

    def vehicle(self, key: str | None) -> str:
        return self.plates.get(key or "", key or "?")

    def what(self, key: str | None) -> str:
        if key and key.startswith("R"):
            return _("replenishment %(id)s", id=key[1:])
        return self.numbers.get(key or "", key or "?")


def reason(v: Violation, names: _Names, problem: dm.Problem) -> str:
    """One objection of the checker as a sentence in the page's language."""
    vehicle, what = names.vehicle(v.vehicle_id), names.what(v.order_id)
    if v.code == "late":
        n = names.done.get(v.vehicle_id or "", 0) + (v.position or 0) + 1
        return _("Stop %(n)d on %(vehicle)s (%(what)s) would be %(minutes)d min late.",
                 n=n, vehicle=vehicle, what=what, minutes=max(1, math.ceil(v.amount / 60)))
    if v.code == "capacity" and v.unit == "cm3":
        return _("%(vehicle)s would be over its volume capacity by %(litres)s L.",
                 vehicle=vehicle, litres=f"{v.amount / 1000:.1f}")
    if v.code == "capacity":
        return _("%(vehicle)s would be over its weight capacity by %(kg)s kg.",
                 vehicle=vehicle, kg=f"{v.amount / 1000:.1f}")
    if v.code == "shift_ends":
        return _("%(vehicle)s would return %(minutes)d min after its shift ends.",
                 vehicle=vehicle, minutes=max(1, math.ceil(v.amount / 60)))
    if v.code == "locked_moved":
        return _("The route of %(vehicle)s is locked: its stops stay as they are (unlock it first).", vehicle=vehicle)
    if v.code == "pin":
        order = problem.order_by_id.get(v.order_id or "")
        return _("%(what)s is pinned to %(vehicle)s.", what=what,
                 vehicle=names.vehicle(order.pinned_vehicle if order else None))
    if v.code == "onboard":
        carrier = next((x.id for x in problem.vehicles if v.order_id in x.onboard), None)
        return _("The goods of %(what)s are already on %(vehicle)s.", what=what, vehicle=names.vehicle(carrier))
    if v.code == "wrong_depot":
        return _("%(vehicle)s has left the warehouse and takes no more goods from it.", vehicle=vehicle)
    if v.code == "precedence":
        return _("%(what)s would be delivered before it is picked up.", what=what)
    if v.code == "split":
        return _("%(what)s would be picked up and delivered by different vehicles.", what=what)
    if v.code == "bad_stop":
        return _("%(what)s is already on board: it has no pickup to move.", what=what)
    return _("The plan would not hold (%(detail)s).", detail=str(v))


def _reasons(verdict: Verdict, names: _Names, problem: dm.Problem) -> list[str]:
    out: list[str] = []
    for v in verdict.new:
        text = reason(v, names, problem)
        if text not in out:
            out.append(text)
    return out[:5]


# --- storing changed routes ----------------------------------------------------------------------


def _write_stop(stop: Stop, **values: Any) -> None:
    """One stop's new place and times (one of the writes of a stored change)."""
    for name, value in values.items():
        setattr(stop, name, value)


def _ref_of(stop: Stop) -> dm.StopRef:
    key = f"O{stop.order_id}" if stop.order_id else f"R{stop.replenishment_id}"
    pickup = stop.kind in (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
    return dm.StopRef(key, dm.Role.PICKUP if pickup else dm.Role.DELIVERY)


def _store_routes(ctx: planning.ProblemContext, verdict: Verdict, vehicles: set[str], version: int) -> None:
    """Write the routes of ``vehicles`` as ``verdict`` schedules them into the active plan: the
    stops already made stay first, then the stops to be made in their new order (stops the
    problem does not know keep their times, last), with their planned times; routes' and the
    plan's totals follow. In the caller's transaction."""
    plan = db.session.get(Plan, ctx.plan_id)
    vehicle_ids = {ctx.vehicles[k]: k for k in vehicles}
    rows = {r.vehicle_id: r for r in db.session.scalars(
        sa.select(Route).where(Route.plan_id == plan.id, Route.vehicle_id.in_(list(vehicle_ids))))}
    stops = list(db.session.scalars(sa.select(Stop).where(Stop.route_id.in_([r.id for r in rows.values()]))
                                    .order_by(Stop.route_id, Stop.sequence))) if rows else []
    placed = {ref for key in vehicles for ref in verdict.routes.get(key, ())}
    by_ref = {_ref_of(s): s for s in stops if s.status == StopStatus.PENDING and _ref_of(s) in placed}
    scheduled = {r.vehicle_id: r for r in verdict.plan.routes}
    for stop in stops:  # off their numbers first: (route, sequence) is unique at every write
        _write_stop(stop, sequence=-stop.id)
    db.session.flush()
    for vehicle_id, key in vehicle_ids.items():
        route = rows.get(vehicle_id)
        sched = scheduled[key]
        if route is None:
            route = Route(plan_id=plan.id, vehicle_id=vehicle_id, status=RouteStatus.PLANNED, locked=False,
                          start_at=ctx.at(sched.visits[0].departure), end_at=ctx.at(sched.visits[-1].arrival))
            db.session.add(route)
            db.session.flush()
            rows[vehicle_id] = route
        mine = [s for s in stops if s.route_id == route.id]
        made = [s for s in mine if s.status != StopStatus.PENDING]
        unknown = [s for s in mine if s.status == StopStatus.PENDING and s not in by_ref.values()]
        sequence = 0
        for stop in made:
            sequence += 1
            _write_stop(stop, sequence=sequence)
        for ref, visit in zip(verdict.routes[key], sched.stops, strict=True):
            sequence += 1
            stop = by_ref.get(ref) or _new_stop(ctx, ref, visit)
            _write_stop(stop, route_id=route.id, sequence=sequence, planned_arrival_at=ctx.at(visit.arrival),
                        planned_departure_at=ctx.at(visit.departure))
        for stop in unknown:
            sequence += 1
            _write_stop(stop, sequence=sequence)
        if route.status == RouteStatus.PLANNED:  # (a started route keeps when it really left)
            route.start_at = ctx.at(sched.visits[0].departure)
        route.end_at = ctx.at(sched.visits[-1].arrival)
        route.distance_m = int(sched.distance)
        route.duration_s = int(sched.duration)
        route.changed_version = version
    db.session.flush()
    totals = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(Route.distance_m), 0), sa.func.coalesce(sa.func.sum(Route.duration_s), 0))
        .where(Route.plan_id == plan.id)).one()
    plan.distance_m, plan.duration_s = int(totals[0]), int(totals[1])
    plan.vehicles_used = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(Route.id))).join(Stop, Stop.route_id == Route.id)
        .where(Route.plan_id == plan.id, Stop.status == StopStatus.PENDING)) or 0


def _new_stop(ctx: planning.ProblemContext, ref: dm.StopRef, visit: dm.Visit) -> Stop:
    """A stop row for an order on no route of the plan until now (a pinned one)."""
    task = ctx.problem.order_by_id[ref.order_id]
    lat, lon, location_id = ctx.locations[visit.location]
    order = db.session.get(Order, ctx.orders[ref.order_id]) if ref.order_id in ctx.orders else None
    stop = Stop(kind=planning.STOP_KIND[(task.kind, ref.role)], order_id=order.id if order else None,
                replenishment_id=ctx.replenishments.get(ref.order_id), location_id=location_id, lat=lat, lon=lon,
                deadline_at=order.deadline_at if order is not None and ref.role == dm.Role.DELIVERY else None)
    db.session.add(stop)
    return stop


def _problem_now(warehouse_id: int, now: datetime) -> planning.ProblemContext:
    ctx = planning.build_problem(warehouse_id, now)
    if ctx.plan_id is None:
        raise NoPlan()
    return ctx


def _where(routes: Routes, ref: dm.StopRef) -> str | None:
    return next((vid for vid, refs in routes.items() if ref in refs), None)


# --- move a stop ---------------------------------------------------------------------------------


def _move_candidates(problem: dm.Problem, current: Routes, ref: dm.StopRef, source: str, target: str,
                     index: int) -> list[Routes]:
    """``ref`` taken from ``source`` to place ``index`` of ``target``; to another vehicle, its
    order's other stop goes along, at every place on the right side of it (one candidate
    each)."""
    partner_role = dm.Role.DELIVERY if ref.role == dm.Role.PICKUP else dm.Role.PICKUP
    partner = dm.StopRef(ref.order_id, partner_role)
    moves_partner = target != source and partner in current.get(source, ())
    routes = {vid: list(refs) for vid, refs in current.items()}
    routes[source] = [r for r in routes[source] if r != ref and not (moves_partner and r == partner)]
    line = routes[target]
    at = max(0, min(index, len(line)))
    line.insert(at, ref)
    if not moves_partner:
        return [routes]
    out = []
    spots = range(0, at + 1) if partner_role == dm.Role.PICKUP else range(at + 1, len(line) + 1)
    for spot in spots:
        candidate = {vid: list(refs) for vid, refs in routes.items()}
        candidate[target].insert(spot, partner)
        out.append(candidate)
    return out


def move_stop(warehouse_id: int, stop_id: int | None, vehicle_id: int | None, position: int | None, *,
              actor_id: int | None = None, now: datetime | None = None) -> bool:
    """Move a stop still to be made to ``position`` (1: the first stop still to be made) on the
    route of ``vehicle_id``, if the checker accepts the routes that makes (see the module);
    :class:`Refused` with its reasons otherwise. Returns False when the stop is already there."""
    now = now or utcnow()
    stop = stop_of(warehouse_id, stop_id)
    target = vehicle_of(warehouse_id, vehicle_id)
    if position is None or position < 1:
        raise ValidationFailed(_l("Give the stop's new position: 1 or more."), field="position")
    version = _lock(warehouse_id)
    try:
        stop = _refreshed(stop)
        _plan_row(stop.route.plan_id, warehouse_id, fresh=True)
        _hold_routes(stop.route.plan_id, {stop.route.vehicle_id, target.id})
        stop = _refreshed(stop)
        if stop.status != StopStatus.PENDING:
            raise StopNotMovable()
        ctx = _problem_now(warehouse_id, now)
        names = _Names.of(ctx)
        ref, to = _ref_of(stop), f"V{target.id}"
        if to not in ctx.problem.vehicle_by_id:
            raise Refused([_("%(vehicle)s is out of service.", vehicle=target.plate)])
        current = {vid: list(refs) for vid, refs in ctx.routes.items()}
        source = _where(current, ref)
        if source is None:
            raise StopNotMovable()
        candidates = _move_candidates(ctx.problem, current, ref, source, to, position - 1)
        if all(c == current for c in candidates):
            db.session.rollback()
            return False
        verdict = _best(ctx.problem, current, candidates)
        if not verdict.ok:
            raise Refused(_reasons(verdict, names, ctx.problem))
        _store_routes(ctx, verdict, {source, to}, version)
        db.session.add(PlanEvent(plan_id=ctx.plan_id, kind="stop_moved", actor_user_id=actor_id, data={
            "stop_id": stop.id, "order_id": stop.order_id, "from_vehicle_id": ctx.vehicles[source],
            "to_vehicle_id": target.id, "position": position}))
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise


# --- pin an order to a vehicle -------------------------------------------------------------------


def pin_order(warehouse_id: int, order_id: int | None, vehicle_id: int | None, *, actor_id: int | None = None,
              now: datetime | None = None) -> bool:
    """Pin an open order to a vehicle: the planner serves it with that vehicle only. An order on
    another vehicle's route moves to the pinned one now (cheapest place that keeps every
    promise, checked as a move is); :class:`Refused` when it cannot go there. Returns False
    when it is already pinned there."""
    now = now or utcnow()
    order = order_of(warehouse_id, order_id)
    target = vehicle_of(warehouse_id, vehicle_id)
    if order.status not in planning.PLANNED_STATUSES:
        raise OrderNotOpen()
    version = _lock(warehouse_id)
    try:
        _hold_order(order.id)
        pin = db.session.get(OrderPin, order.id, populate_existing=True)
        if pin is not None and pin.vehicle_id == target.id:
            db.session.rollback()
            return False
        ctx = _problem_now(warehouse_id, now)
        names = _Names.of(ctx)
        key, to = f"O{order.id}", f"V{target.id}"
        if key not in ctx.problem.order_by_id:
            raise OrderNotOpen()
        if to not in ctx.problem.vehicle_by_id:
            raise Refused([_("%(vehicle)s is out of service.", vehicle=target.plate)], what="pin")
        for van in ctx.problem.vehicles:  # goods on board, or a locked route, stay on their van
            if van.id != to and key in van.onboard:
                raise Refused([_("The goods of %(what)s are already on %(vehicle)s.", what=names.what(key),
                                 vehicle=names.vehicle(van.id))], what="pin")
            if van.id != to and any(r.order_id == key for r in van.locked_stops):
                raise Refused([_("The route of %(vehicle)s is locked: its stops stay as they are (unlock it first).",
                                 vehicle=names.vehicle(van.id))], what="pin")
        problem = replace(ctx.problem, orders=tuple(
            replace(o, pinned_vehicle=to) if o.id == key else o for o in ctx.problem.orders))
        current = {vid: list(refs) for vid, refs in ctx.routes.items()}
        on = {vid for vid, refs in current.items() if any(r.order_id == key for r in refs)}
        changed: set[str] = set()
        if on != {to}:
            rest = {vid: [r for r in refs if r.order_id != key] for vid, refs in current.items()}
            placed, left = dreplan.insert(problem, rest, [key])
            if left:  # at the end of its route then, for the checker to tell why it does not fit
                placed = {vid: list(refs) for vid, refs in rest.items()}
                placed[to] += [r for refs in current.values() for r in refs if r.order_id == key] or [
                    dm.StopRef(key, dm.Role.PICKUP), dm.StopRef(key, dm.Role.DELIVERY)]  # (unknown stops: left out)
            verdict = _best(problem, current, [placed])
            if not verdict.ok:
                raise Refused(_reasons(verdict, names, problem), what="pin")
            changed = on | {to}
        if changed:
            _hold_routes(ctx.plan_id, {ctx.vehicles[v] for v in changed})
            ctx.problem = problem
            _store_routes(ctx, verdict, changed, version)
        if pin is None:
            db.session.add(OrderPin(order_id=order.id, vehicle_id=target.id, pinned_by_id=actor_id, pinned_at=now))
        else:
            pin.vehicle_id, pin.pinned_by_id, pin.pinned_at = target.id, actor_id, now
        db.session.add(PlanEvent(plan_id=ctx.plan_id, kind="order_pinned", actor_user_id=actor_id, data={
            "order_id": order.id, "vehicle_id": target.id, "moved_from": sorted(ctx.vehicles[v] for v in on - {to})}))
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise


def unpin_order(warehouse_id: int, order_id: int | None, *, actor_id: int | None = None) -> bool:
    """The planner may serve the order with any vehicle again. False when it was not pinned."""
    order = order_of(warehouse_id, order_id)
    _lock(warehouse_id)
    try:
        _hold_order(order.id)
        pin = db.session.get(OrderPin, order.id, populate_existing=True)
        if pin is None:
            db.session.rollback()
            return False
        db.session.delete(pin)
        plan_id = planning.active_plan_id(warehouse_id)
        if plan_id is not None:
            db.session.add(PlanEvent(plan_id=plan_id, kind="order_unpinned", actor_user_id=actor_id,
                                     data={"order_id": order.id, "vehicle_id": pin.vehicle_id}))
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise


# --- lock a route --------------------------------------------------------------------------------


def set_route_locked(warehouse_id: int, route_id: int | None, locked: bool, *, actor_id: int | None = None) -> bool:
    """Lock (or unlock) a route of the active plan: re-plans keep its stops still to be made
    first on its vehicle, in their order (new stops may follow them). False when it already
    was."""
    route = route_of(warehouse_id, route_id)
    _lock(warehouse_id)
    try:
        route = _refreshed(route)
        _plan_row(route.plan_id, warehouse_id, fresh=True)
        _without_waiting(sa.select(Route.id).where(Route.id == route.id).with_for_update(nowait=True))
        if route.locked == locked:
            db.session.rollback()
            return False
        route.locked = locked
        db.session.add(PlanEvent(plan_id=route.plan_id, kind="route_locked" if locked else "route_unlocked",
                                 actor_user_id=actor_id, data={"route_id": route.id, "vehicle_id": route.vehicle_id}))
        db.session.commit()
        return True
    except BaseException:
        db.session.rollback()
        raise


# --- a vehicle breaks down -----------------------------------------------------------------------


@dataclass(frozen=True)
class Breakdown:
    vehicle_id: int
    until: datetime
    new_plan_id: int | None  # None: the re-plan failed (alerted); the next one takes it up
    already: bool = False


def mark_broken_down(warehouse_id: int, vehicle_id: int | None, *, actor_id: int | None = None,
                     now: datetime | None = None, seconds: float | None = None) -> Breakdown:
    """The vehicle is out of service until the end of its shift: recorded (with a critical
    alert and its pins released), then the warehouse is re-planned without it, so its stops
    still to be made go to the other vehicles; orders no route can keep any more are alerted
    and marked broken by the planner, as every re-plan does. Twice: nothing more happens."""
    now = now or utcnow()
    vehicle = vehicle_of(warehouse_id, vehicle_id)
    _lock(warehouse_id)
    try:
        current = db.session.scalar(
            sa.select(VehicleBreakdown).where(VehicleBreakdown.vehicle_id == vehicle.id,
                                              VehicleBreakdown.reported_at <= now, VehicleBreakdown.until > now)
            .order_by(VehicleBreakdown.id.desc()).limit(1))
        if current is not None:
            db.session.rollback()
            return Breakdown(vehicle.id, current.until, planning.active_plan_id(warehouse_id), already=True)
        _start, until = planning.shift_window(vehicle, now)
        db.session.add(VehicleBreakdown(vehicle_id=vehicle.id, reported_at=now, until=until, reported_by_id=actor_id))
        released = list(db.session.scalars(sa.select(OrderPin.order_id).where(OrderPin.vehicle_id == vehicle.id)))
        if released:
            db.session.execute(sa.delete(OrderPin).where(OrderPin.vehicle_id == vehicle.id))
        plan_id = planning.active_plan_id(warehouse_id)
        left = db.session.scalar(
            sa.select(sa.func.count(Stop.id)).join(Route, Route.id == Stop.route_id)
            .where(Route.plan_id == plan_id, Route.vehicle_id == vehicle.id, Stop.status == StopStatus.PENDING)) or 0
        db.session.add(Alert(kind="vehicle_broken_down", severity=AlertSeverity.CRITICAL, warehouse_id=warehouse_id,
                             vehicle_id=vehicle.id, plan_id=plan_id,
                             data={"vehicle": vehicle.plate, "stops": left, "until": until.isoformat()},
                             message=f"{vehicle.plate}: broken down; {left} stops still to be made are re-planned"
                                     f" onto the other vehicles"[:300]))
        if plan_id is not None:
            db.session.add(PlanEvent(plan_id=plan_id, kind="vehicle_broken_down", actor_user_id=actor_id, data={
                "vehicle_id": vehicle.id, "until": until.isoformat(), "stops": left, "unpinned": released}))
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    plan = planning.plan_warehouse(warehouse_id, seconds=_seconds(seconds), trigger=PlanTrigger.MANUAL,
                                   actor_id=actor_id, now=now)
    return Breakdown(vehicle.id, until, plan.id if plan is not None else None)


# --- re-plan now, and what changed -----------------------------------------------------------------


def _seconds(seconds: float | None) -> float:
    if seconds is not None:
        return seconds
    return float(current_app.config.get("DISPATCH_REPLAN_SECONDS", REPLAN_SECONDS))


@dataclass(frozen=True)
class _Snapshot:
    plan_id: int | None
    distance_m: int
    vehicles_used: int
    # order id -> (vehicle id, position among its route's deliveries, planned arrival)
    deliveries: dict[int, tuple[int, int, datetime]]
    numbers: dict[int, str]


def _snapshot(warehouse_id: int) -> _Snapshot:
    """The active plan's deliveries still to be made: where each order is and when."""
    plan = db.session.scalar(sa.select(Plan).where(Plan.warehouse_id == warehouse_id, Plan.status == PlanStatus.ACTIVE)
                             .order_by(Plan.id.desc()).limit(1))
    if plan is None:
        return _Snapshot(None, 0, 0, {}, {})
    rows = db.session.execute(
        sa.select(Stop.order_id, Route.vehicle_id, Stop.planned_arrival_at, Order.number)
        .join(Route, Route.id == Stop.route_id).join(Order, Order.id == Stop.order_id)
        .where(Route.plan_id == plan.id, Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.PENDING)
        .order_by(Route.vehicle_id, Stop.sequence)).all()
    deliveries: dict[int, tuple[int, int, datetime]] = {}
    numbers: dict[int, str] = {}
    position: dict[int, int] = {}
    for order_id, vehicle_id, eta, number in rows:
        position[vehicle_id] = position.get(vehicle_id, 0) + 1
        deliveries[order_id] = (vehicle_id, position[vehicle_id], eta)
        numbers[order_id] = number
    return _Snapshot(plan.id, plan.distance_m, plan.vehicles_used, deliveries, numbers)


def _diff(before: _Snapshot, after: _Snapshot, plates: dict[int, str]) -> dict[str, Any]:
    """What a re-plan changed, as plain data (kept as JSON with the request)."""
    numbers = {**before.numbers, **after.numbers}
    moved, shifted = [], []
    for order_id, (vehicle, _pos, eta) in after.deliveries.items():
        was = before.deliveries.get(order_id)
        if was is None:
            continue
        if was[0] != vehicle:
            moved.append({"order": numbers[order_id], "from": plates.get(was[0], "?"), "to": plates.get(vehicle, "?")})
        minutes = round((eta - was[2]).total_seconds() / 60)
        if abs(minutes) > ETA_SHIFT_MINUTES:
            shifted.append({"order": numbers[order_id], "before": was[2].isoformat(), "after": eta.isoformat(),
                            "minutes": minutes})
    reordered = []
    for vehicle in sorted({v for v, _p, _e in after.deliveries.values()}, key=lambda v: plates.get(v, "")):
        kept = [o for o, (v, _p, _e) in sorted(after.deliveries.items(), key=lambda x: x[1][1]) if v == vehicle]
        common = [o for o in kept if before.deliveries.get(o, (None,))[0] == vehicle]
        was = sorted(common, key=lambda o: before.deliveries[o][1])
        if common != was:
            changed = sum(1 for a, b in zip(common, was, strict=True) if a != b)
            reordered.append({"vehicle": plates.get(vehicle, "?"), "stops": changed,
                              "before": [numbers[o] for o in was], "after": [numbers[o] for o in common]})
    return {
        "plan_before": before.plan_id, "plan_after": after.plan_id,
        "km_before": round(before.distance_m / 1000, 1), "km_after": round(after.distance_m / 1000, 1),
        "vehicles_before": before.vehicles_used, "vehicles_after": after.vehicles_used,
        "moved": moved, "reordered": reordered, "eta_shifts": sorted(shifted, key=lambda s: -abs(s["minutes"])),
        "routed": sorted(numbers[o] for o in set(after.deliveries) - set(before.deliveries)),
        "unrouted": sorted(numbers[o] for o in set(before.deliveries) - set(after.deliveries)),
    }


def replan_request(token: str) -> DispatchRequest | None:
    if not TOKEN_RE.fullmatch(token or ""):
        return None
    return db.session.scalar(sa.select(DispatchRequest).where(DispatchRequest.token == token))


def replan(warehouse_id: int | None, *, token: str, actor_id: int | None = None, seconds: float | None = None,
           now: datetime | None = None) -> DispatchRequest:
    """Re-plan one warehouse (or every active one) now, as the scheduler does, and keep what
    changed with the form's ``token``: the same token again returns the first request (its
    outcome, or that it is still planning) and plans nothing. A re-plan that fails or times
    out keeps the previous plan and raises an alert (:func:`planning.plan_warehouse`)."""
    if not TOKEN_RE.fullmatch(token or ""):
        raise ValidationFailed(_l("This form has expired. Please reload the page and try again."), field="token")
    if warehouse_id is not None:
        warehouse(warehouse_id)
        ids = [warehouse_id]
    else:
        ids = list(db.session.scalars(sa.select(Warehouse.id).where(Warehouse.active.is_(True))
                                      .order_by(Warehouse.id)))
    existing = replan_request(token)
    if existing is not None:
        return existing
    request = DispatchRequest(token=token, kind="replan", warehouse_id=warehouse_id, actor_user_id=actor_id,
                              created_at=utcnow())
    db.session.add(request)
    try:
        db.session.commit()  # the token is claimed: a second submit of the form finds it
    except sa.exc.IntegrityError:
        db.session.rollback()
        return replan_request(token)  # type: ignore[return-value]
    request_id = request.id
    outcomes = [_replan_one(wid, token, actor_id, _seconds(seconds), now) for wid in ids]
    request = db.session.get(DispatchRequest, request_id)
    request.result = {"warehouses": outcomes, "eta_shift_minutes": ETA_SHIFT_MINUTES}
    request.finished_at = utcnow()
    db.session.commit()
    return request


def _replan_one(warehouse_id: int, token: str, actor_id: int | None, seconds: float,
                now: datetime | None) -> dict[str, Any]:
    row = db.session.get(Warehouse, warehouse_id)
    code = row.code
    plates = dict(db.session.execute(sa.select(Vehicle.id, Vehicle.plate).where(Vehicle.warehouse_id == warehouse_id)).all())
    before = _snapshot(warehouse_id)
    last_alert = db.session.scalar(sa.select(sa.func.max(Alert.id))) or 0
    started = utcnow()
    try:
        plan = planning.plan_warehouse(warehouse_id, seconds=seconds, trigger=PlanTrigger.MANUAL, actor_id=actor_id,
                                       now=now)
    except Exception:  # (plan_warehouse keeps the plan on a solver failure; anything else too)
        log.exception("re-plan failed; the active plan stays", extra={"warehouse_id": warehouse_id})
        db.session.rollback()
        db.session.add(Alert(kind="replan_failed", severity=AlertSeverity.WARNING, warehouse_id=warehouse_id,
                             plan_id=planning.active_plan_id(warehouse_id),
                             message="re-plan failed; the current plan stays"))
        db.session.commit()
        plan = None
    after = _snapshot(warehouse_id)
    failed = plan is None and db.session.scalar(sa.select(sa.func.count(Alert.id)).where(
        Alert.id > last_alert, Alert.kind == "replan_failed", Alert.warehouse_id == warehouse_id)) > 0
    outcome = "stored" if plan is not None else ("failed" if failed else "kept")
    diff = {"warehouse_id": warehouse_id, "warehouse": code, "outcome": outcome,
            "kept_current": bool(plan is not None and (plan.stats or {}).get("kept_current")),
            "seconds": round((utcnow() - started).total_seconds(), 1), **_diff(before, after, plates)}
    plan_id = after.plan_id
    if plan_id is not None:
        db.session.add(PlanEvent(plan_id=plan_id, kind="replanned" if plan is not None else "replan_kept",
                                 actor_user_id=actor_id, data={
                                     "token": token, "outcome": outcome, "plan_before": before.plan_id,
                                     "moved": len(diff["moved"]), "eta_shifts": len(diff["eta_shifts"]),
                                     "km_before": diff["km_before"], "km_after": diff["km_after"]}))
        db.session.commit()
    return diff


@dataclass(frozen=True)
class Shift:
    order: str
    before: datetime
    after: datetime
    minutes: int


def eta_shifts(outcome: Mapping[str, Any]) -> list[Shift]:
    """A stored diff's ETA shifts with their times as datetimes (for the page's time filter)."""
    return [Shift(s["order"], datetime.fromisoformat(s["before"]), datetime.fromisoformat(s["after"]), s["minutes"])
            for s in outcome.get("eta_shifts", [])]


def request_age(request: DispatchRequest) -> timedelta:
    return utcnow() - request.created_at
