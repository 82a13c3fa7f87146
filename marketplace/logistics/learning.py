r"""The feedback loop: delivery records and complaints update the logistics parameters.

Run by the scheduler every 15 minutes (:func:`run`). Every estimate is a function of a *set of
records* (deliveries made, complaints filed) in a window, never an increment applied per run: a
record is therefore never counted twice, running the job twice changes nothing the second time,
and the records behind a change are named in its provenance (``source_refs``). A parameter that
staff set or reverted learns only from records made after that (``services.learn_since``), so
the learner never undoes a revert with the evidence the revert overruled.

Zones (from delivery records)
-----------------------------

*Travel-time factor.* For every leg a van drove (its previous actual departure — a stop made, or
its depot when the route was started — to the next stop's actual arrival, at most 4 h apart) the
one travel model's duration at factor 1, :math:`\hat t` (great-circle × detour ÷ the van's
speed), gives a sample :math:`r = t_{actual} / \hat t` (legs under 60 s modelled are left out:
parking dominates them; :math:`r` is capped at 3). A leg belongs to the zone of the place it
reaches. With the zone's last :math:`n \le 200` samples in 14 days, oldest first, weighted
:math:`w_i = \lambda^{n-1-i}` (:math:`\lambda = 0.97`, an effective memory of about 33 legs), the
factor is the weighted 0.9-quantile

.. math:: f = \min\{x : \textstyle\sum_{r_i \le x} w_i \ge 0.9 \sum_i w_i\},

capped by the third-largest sample (below), clamped to [0.8, 2.5] and rounded to 0.01: nine legs in ten, recent ones counting most, fit in
the planned time. Nothing changes with fewer than 8 samples or when :math:`|f - f_{now}| < 0.05`
(dead band). Because the samples do not depend on the factor the plans used, the estimate is a
fixed point: once the factor is right, on-time legs keep it; legs faster than planned pull it
back towards 1.0 as they outweigh the old slow ones.

*Promise margin.* For every delivery made, the ETA error :math:`e = t_{actual} - t_{planned}`
(planned arrival as the plan in force stored it). The margin is
:math:`m = \mathrm{clamp}(m_0 + \max(0, q^w_{0.9}(e)), 0, 3600)` s, rounded to 30 s, with the same
weights, minimum of 8 deliveries and a dead band of 60 s; :math:`m_0` is the base margin (the
seeded or staff-set value, else 0). As the factor learns, planned arrivals move later, errors
shrink and the margin decays back to :math:`m_0`.

*Why the tail needs three witnesses.* A 0.9-quantile over an effective memory of a few dozen
samples rests on its top two or three: with :math:`\lambda = 0.95` (the first version) one
late run among the last few set it (on the demo county's first run, town 300 → 3600 s). Two
guards, both functions of the record set (so the job stays idempotent, unlike a cap on one
run's step): the memory is longer (:math:`\lambda = 0.97`), and a quantile is never above what
at least three samples reach — for the margin, three distinct *runs* (routes): the deliveries of
one van's run share its late start, so a breakdown counts once however many doors it delays.
Three late runs in a zone are evidence and move the margin at once; one or two are noise the
suspension rule (below) and the watchdog already deal with. The legs' factor counts three
legs (each leg is its own drive).

*Suspended windows.* A class (every class but the longest) is suspended in a zone when at least
3 of its last 10 deliveries there were late (arrived after the deadline), counting deliveries
since the class was last suspended or resumed there; it resumes after 10 consecutive on-time
deliveries of the longer classes in the zone since it was suspended (or by a staff revert).

Complaints
----------

Counted by distinct order (a flood of complaints about one order counts once), in a window:

- *damaged* (90 days), per product: handling flag ``fragile`` from one order, ``no_stacking``
  from three; ``service_s_extra`` = 60 s per order, at most 600 s (the planner adds it to the
  service time of stops of orders holding the product);
- *wrong or missing item* (60 days), per location the goods were picked at: ``pick_time_s`` = 60 s
  per order, at most 600 s (extra loading time at a cooperative; at a warehouse, the time before
  the goods can leave); a cooperative with two such orders gets the ``pick_errors`` flag;
- *quality*, per cooperative: :math:`s = 100 - (100 - s_0) e^{-(t - t_0)/\tau} - \sum_k 15\,
  e^{-a_k/\tau}` with :math:`\tau` = 30 days, :math:`a_k` the age of the k-th order's first
  quality complaint since :math:`t_0` (the last staff change, value :math:`s_0`; else
  :math:`s_0 = 100`), clamped to 0–100, dead band 2 points. Crossing below 60 puts the
  cooperative's active listings on review (the operator restores them);
- *courier conduct* (30 days), per driver: ``conduct_flag`` from one order.

A value whose evidence has aged out of its window goes back to its default; a staff-set value is
kept until there is new evidence or a whole window has passed since it was set.
"""

from __future__ import annotations

import logging
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa

from delivery import matrix as dmatrix
from delivery import model as dm

from ..columns import utcnow
from ..extensions import db
from . import services as store
from .models import ChangeSource, LogisticsParameter, ParameterChange, ParameterScope

log = logging.getLogger("shanhuo.learning")

QUANTILE = 0.9
RECENCY = 0.97  # weight of a sample relative to the next newer one (a memory of about 33)
MIN_TAIL = 3  # a high quantile never passes the MIN_TAIL-th largest sample
MAX_SAMPLES = 200
DELIVERY_WINDOW = timedelta(days=14)
MIN_SAMPLES = 8
FACTOR_BOUNDS = (0.8, 2.5)
FACTOR_DEAD_BAND = 0.05
RATIO_CAP = 3.0
MIN_MODELLED_LEG_S = 60
MAX_LEG_GAP = timedelta(hours=4)
MARGIN_BOUNDS = (0, 3600)
MARGIN_DEAD_BAND = 60
MARGIN_STEP = 30
LAST_DELIVERIES = 10
LATE_TO_SUSPEND = 3
ON_TIME_TO_RESUME = 10
SUSPENSION_LOOKBACK = timedelta(days=30)

DAMAGED_WINDOW = timedelta(days=90)
PICK_WINDOW = timedelta(days=60)
CONDUCT_WINDOW = timedelta(days=30)
QUALITY_TAU_DAYS = 30.0
QUALITY_PENALTY = 15
QUALITY_DEAD_BAND = 2
QUALITY_REVIEW_BELOW = 60
QUALITY_WINDOW = timedelta(days=180)
PER_ORDER_S = 60
EXTRA_CAP_S = 600
PICK_FLAG_ORDERS = 2
NO_STACKING_ORDERS = 3


# --- estimators (pure) ----------------------------------------------------------------------------


def weighted_quantile(samples: Sequence[float], q: float = QUANTILE, recency: float = RECENCY) -> float:
    """The q-quantile of ``samples`` (oldest first) with weights recency**(age rank)."""
    if not samples:
        raise ValueError("no samples")
    n = len(samples)
    weighted = sorted((x, recency ** (n - 1 - i)) for i, x in enumerate(samples))
    total = sum(w for _, w in weighted)
    cumulative = 0.0
    for x, w in weighted:
        cumulative += w
        if cumulative >= q * total - 1e-12:
            return x
    return weighted[-1][0]  # pragma: no cover (floating point)


def tail_quantile(samples: Sequence[float], q: float = QUANTILE, recency: float = RECENCY,
                  groups: Sequence[object] | None = None) -> float:
    """The recency-weighted q-quantile of ``samples`` (oldest first), but never above what at
    least MIN_TAIL samples reach, from MIN_TAIL distinct ``groups`` when given (samples of one
    group share one cause, e.g. the deliveries of one van's run share its late start): one or
    two outliers, however recent, cannot set a high quantile."""
    estimate = weighted_quantile(samples, q, recency)
    tops: dict[object, float] = {}
    for i, x in enumerate(samples):
        key = groups[i] if groups is not None else i
        tops[key] = max(x, tops.get(key, x))
    if len(tops) >= MIN_TAIL:
        estimate = min(estimate, sorted(tops.values())[-MIN_TAIL])
    return estimate


def clamp(value: float, bounds: tuple[float, float]) -> float:
    return max(bounds[0], min(bounds[1], value))


def factor_estimate(ratios: Sequence[float], current: float) -> float | None:
    """The new travel factor from leg ratios (oldest first), or None: too few samples, or inside
    the dead band around ``current``."""
    ratios = list(ratios)[-MAX_SAMPLES:]
    if len(ratios) < MIN_SAMPLES:
        return None
    target = round(clamp(tail_quantile(ratios), FACTOR_BOUNDS), 2)
    if abs(target - current) < FACTOR_DEAD_BAND:
        return None
    return target


def margin_estimate(errors_s: Sequence[float], base: int, current: int,
                    runs: Sequence[object] | None = None) -> int | None:
    """The new promise margin (s) from ETA errors (oldest first) over the base margin, or None.
    ``runs``: the route of each delivery (its tail must come from MIN_TAIL distinct runs)."""
    errors_s = list(errors_s)[-MAX_SAMPLES:]
    runs = list(runs)[-MAX_SAMPLES:] if runs is not None else None
    if len(errors_s) < MIN_SAMPLES:
        return None
    raw = base + max(0.0, tail_quantile(errors_s, groups=runs))
    target = int(clamp(MARGIN_STEP * math.ceil(raw / MARGIN_STEP), MARGIN_BOUNDS))
    if abs(target - current) < MARGIN_DEAD_BAND:
        return None
    return target


def should_suspend(late: Sequence[bool]) -> bool:
    """Deliveries of a class (oldest first, True = late): too many of the last ones late."""
    return sum(late[-LAST_DELIVERIES:]) >= LATE_TO_SUSPEND


def should_resume(late: Sequence[bool]) -> bool:
    """Deliveries of the longer classes since the suspension (oldest first): the last
    ON_TIME_TO_RESUME all on time."""
    tail = list(late[-ON_TIME_TO_RESUME:])
    return len(tail) == ON_TIME_TO_RESUME and not any(tail)


def quality_score(start: float, since_start_days: float, ages_days: Iterable[float]) -> int:
    """The quality score: a deficit ``100 - start`` decaying since it was set, minus a decaying
    penalty per order complained about."""
    deficit = (100 - start) * math.exp(-max(0.0, since_start_days) / QUALITY_TAU_DAYS)
    deficit += sum(QUALITY_PENALTY * math.exp(-max(0.0, a) / QUALITY_TAU_DAYS) for a in ages_days)
    return int(clamp(round(100 - deficit), (0, 100)))


def per_order_extra(orders: int) -> int:
    return min(EXTRA_CAP_S, PER_ORDER_S * orders)


def handling_flags(orders: int) -> list[str]:
    flags = ["fragile"] if orders >= 1 else []
    return [*flags, "no_stacking"] if orders >= NO_STACKING_ORDERS else flags


# --- the job --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    changes: list[ParameterChange]

    def __str__(self) -> str:
        if not self.changes:
            return "no parameter changed"
        return f"{len(self.changes)} parameter change(s): " + ", ".join(
            f"{c.parameter.scope.value}:{c.parameter.scope_id}:{c.parameter.key}={c.new_value!r}" for c in self.changes)


def run(now: datetime | None = None) -> str:
    """The scheduled job: learn every parameter from the records, in one transaction."""
    now = now or utcnow()
    changes = learn_from_deliveries(now) + learn_from_complaints(now)
    db.session.commit()
    outcome = Outcome(changes)
    if changes:
        log.info("logistics parameters learned", extra={"changes": len(changes)})
    return str(outcome)


def _set(scope: ParameterScope, scope_id: int, key: str, value, source: ChangeSource, refs: dict, reason: str,
         now: datetime, out: list[ParameterChange]) -> ParameterChange | None:
    change = store.set_value(scope, scope_id, key, value, source=source, refs=refs, reason=reason, now=now)
    if change is not None:
        out.append(change)
    return change


def _parameters(scope: ParameterScope, key: str) -> dict[int, LogisticsParameter]:
    return {p.scope_id: p for p in db.session.scalars(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope == scope, LogisticsParameter.key == key)) if p.scope_id is not None}


def _since(parameter: LogisticsParameter | None, floor: datetime) -> datetime:
    staff = store.learn_since(parameter)
    return max(floor, staff) if staff is not None else floor


# --- deliveries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Made:
    """A stop made, as recorded."""

    stop_id: int
    vehicle_id: int
    route_id: int
    zone_id: int | None
    lat: float
    lon: float
    arrival: datetime
    departure: datetime
    planned_arrival: datetime
    deadline: datetime | None
    window: str | None  # the order's window class (deliveries of orders)
    delivered: bool  # a delivery made (not failed, not a pickup)


def _made_stops(since: datetime) -> list[Made]:
    from ..dispatch.models import Route, Stop, StopKind, StopStatus
    from ..inventory.models import Location
    from ..orders.models import Order
    from .models import WindowClass

    rows = db.session.execute(
        sa.select(Stop.id, Route.vehicle_id, Stop.route_id, Stop.kind, Stop.status, Stop.lat, Stop.lon, Stop.actual_arrival_at,
                  Stop.actual_departure_at, Stop.planned_arrival_at, Stop.deadline_at,
                  sa.case((Stop.kind == StopKind.DELIVERY, Order.zone_id), else_=Location.zone_id).label("zone_id"),
                  WindowClass.code)
        .join(Route, Route.id == Stop.route_id)
        .outerjoin(Order, Order.id == Stop.order_id).outerjoin(Location, Location.id == Stop.location_id)
        .outerjoin(WindowClass, WindowClass.id == Order.window_class_id)
        .where(Stop.status.in_([StopStatus.DONE, StopStatus.FAILED]), Stop.actual_arrival_at.is_not(None),
               Stop.actual_departure_at.is_not(None), Stop.actual_arrival_at >= since)
        .order_by(Stop.actual_arrival_at, Stop.id)).all()
    return [Made(r.id, r.vehicle_id, r.route_id, r.zone_id, r.lat, r.lon, r.actual_arrival_at, r.actual_departure_at,
                 r.planned_arrival_at, r.deadline_at, r.code if r.kind == StopKind.DELIVERY else None,
                 r.kind == StopKind.DELIVERY and r.status == StopStatus.DONE and r.deadline_at is not None)
            for r in rows]


def _route_starts(since: datetime) -> dict[int, list[datetime]]:
    """When each van left its depot (routes started by their drivers), by vehicle."""
    from ..dispatch.models import PlanEvent, Route

    events = db.session.execute(sa.select(PlanEvent.data).where(
        PlanEvent.kind == "route_started", PlanEvent.created_at >= since - MAX_LEG_GAP)).scalars().all()
    route_ids = {int(d["route_id"]) for d in events if d and d.get("route_id") and d.get("at")}
    vehicles = dict(db.session.execute(sa.select(Route.id, Route.vehicle_id).where(Route.id.in_(route_ids)))
                    .all()) if route_ids else {}
    out: dict[int, list[datetime]] = defaultdict(list)
    for d in events:
        if d and d.get("route_id") in vehicles and d.get("at"):
            out[vehicles[d["route_id"]]].append(datetime.fromisoformat(d["at"]))
    return out


def leg_samples(stops: list[Made], now: datetime) -> dict[int, list[tuple[datetime, int, float]]]:
    """Per zone, (arrival, stop id, actual ÷ modelled leg time at factor 1) of every leg driven
    into it, oldest first (see the module's docstring)."""
    from ..inventory.models import Location
    from .models import Vehicle, Warehouse

    since = min((s.arrival for s in stops), default=now)
    starts = _route_starts(since)
    vehicles = {v.id: v for v in db.session.scalars(sa.select(Vehicle).where(
        Vehicle.id.in_({s.vehicle_id for s in stops})))}
    depots = dict(db.session.execute(sa.select(Warehouse.id, Location).join(Location, Location.id == Warehouse.location_id)
                                     ).all())
    model = dmatrix.HaversineMatrix()  # factor 1 everywhere: the sample is the factor itself
    by_vehicle: dict[int, list[Made]] = defaultdict(list)
    for stop in stops:
        by_vehicle[stop.vehicle_id].append(stop)
    out: dict[int, list[tuple[datetime, int, float]]] = defaultdict(list)
    for vehicle_id, made in by_vehicle.items():
        vehicle = vehicles.get(vehicle_id)
        if vehicle is None:
            continue
        depot = depots.get(vehicle.warehouse_id)
        for i, stop in enumerate(made):
            if stop.zone_id is None:
                continue
            # where the van came from: its last stop made, or its depot if it left it since
            before = made[i - 1] if i > 0 and made[i - 1].departure <= stop.arrival else None
            left, origin = (before.departure, (before.lat, before.lon)) if before else (None, None)
            start = max((t for t in starts.get(vehicle_id, []) if t <= stop.arrival), default=None)
            if start is not None and depot is not None and (left is None or start > left):
                left, origin = start, (depot.lat, depot.lon)
            if left is None or stop.arrival - left > MAX_LEG_GAP:
                continue
            modelled = float(model.durations([dm.Location("o", lat=origin[0], lon=origin[1])],
                                             [dm.Location("d", lat=stop.lat, lon=stop.lon)],
                                             float(vehicle.speed_kmh))[0, 0])
            if modelled < MIN_MODELLED_LEG_S:
                continue
            actual = (stop.arrival - left).total_seconds()
            out[stop.zone_id].append((stop.arrival, stop.stop_id, min(RATIO_CAP, max(0.0, actual / modelled))))
    return {zone: sorted(samples) for zone, samples in out.items()}


def _base_margin(parameter: LogisticsParameter | None) -> int:
    """The margin the learned part is added to: the latest seeded or staff-set value, else 0."""
    if parameter is None:
        return 0
    value = db.session.scalar(sa.select(ParameterChange.new_value).where(
        ParameterChange.parameter_id == parameter.id,
        ParameterChange.source.in_([ChangeSource.SEED, ChangeSource.STAFF])).order_by(ParameterChange.id.desc()).limit(1))
    return int(value or 0)


def learn_from_deliveries(now: datetime) -> list[ParameterChange]:
    from ..geo.models import Zone
    from .models import WindowClass

    out: list[ParameterChange] = []
    floor = now - DELIVERY_WINDOW
    stops = _made_stops(min(floor, now - SUSPENSION_LOOKBACK))
    zones = list(db.session.scalars(sa.select(Zone.id)))
    factors = _parameters(ParameterScope.ZONE, "travel_factor")
    margins = _parameters(ParameterScope.ZONE, "promise_margin_s")
    suspensions = _parameters(ParameterScope.ZONE, "suspended_windows")
    legs = leg_samples([s for s in stops if s.arrival >= floor], now)
    classes = list(db.session.execute(sa.select(WindowClass.code, WindowClass.hours).where(
        WindowClass.active.is_(True)).order_by(WindowClass.hours)))
    for zone_id in zones:
        # travel factor
        parameter = factors.get(zone_id)
        since = _since(parameter, floor)
        samples = [(sid, r) for at, sid, r in legs.get(zone_id, []) if at >= since][-MAX_SAMPLES:]
        current = float(parameter.value) if parameter is not None else 1.0
        target = factor_estimate([r for _, r in samples], current)
        if target is not None:
            _set(ParameterScope.ZONE, zone_id, "travel_factor", target, ChangeSource.DELIVERIES,
                 {"stops": [sid for sid, _ in samples]},
                 f"0.9-quantile of {len(samples)} legs' actual/modelled time", now, out)
        # promise margin
        parameter = margins.get(zone_id)
        since = _since(parameter, floor)
        made = [s for s in stops if s.zone_id == zone_id and s.delivered and s.arrival >= since][-MAX_SAMPLES:]
        current_margin = int(parameter.value or 0) if parameter is not None else 0
        margin = margin_estimate([(s.arrival - s.planned_arrival).total_seconds() for s in made],
                                 _base_margin(parameter), current_margin, runs=[s.route_id for s in made])
        if margin is not None:
            _set(ParameterScope.ZONE, zone_id, "promise_margin_s", margin, ChangeSource.DELIVERIES,
                 {"stops": [s.stop_id for s in made]},
                 f"base margin + 0.9-quantile of {len(made)} deliveries' ETA error", now, out)
        _learn_suspensions(zone_id, suspensions.get(zone_id), classes, stops, now, out)
    return out


def _membership_changed_at(parameter: LogisticsParameter | None, code: str) -> datetime | None:
    """When ``code`` last entered or left the zone's suspended windows (or staff changed them)."""
    if parameter is None:
        return None
    latest = None
    for change in parameter.changes:
        was, now_in = code in (change.old_value or []), code in (change.new_value or [])
        if was != now_in or change.source in (ChangeSource.STAFF, ChangeSource.REVERT):
            latest = change.created_at
    return latest


def _learn_suspensions(zone_id: int, parameter: LogisticsParameter | None, classes: list[tuple[str, int]],
                       stops: list[Made], now: datetime, out: list[ParameterChange]) -> None:
    suspended = list(parameter.value or []) if parameter is not None else []
    hours = dict(classes)
    deliveries = [s for s in stops if s.zone_id == zone_id and s.delivered and s.window in hours]
    updated = list(suspended)
    refs: list[int] = []
    reasons: list[str] = []
    for code, h in classes[:-1]:  # the longest class is never suspended
        since = _membership_changed_at(parameter, code) or (now - SUSPENSION_LOOKBACK)
        if code not in suspended:
            own = [s for s in deliveries if s.window == code and s.arrival > since][-LAST_DELIVERIES:]
            late = [s.arrival > s.deadline for s in own]
            if should_suspend(late):
                updated.append(code)
                refs += [s.stop_id for s in own]
                reasons.append(f"{code}: {sum(late)} of the last {len(own)} late")
        else:
            longer = [s for s in deliveries if hours[s.window] > h and s.arrival > since]
            late = [s.arrival > s.deadline for s in longer]
            if should_resume(late):
                updated.remove(code)
                refs += [s.stop_id for s in longer[-ON_TIME_TO_RESUME:]]
                reasons.append(f"{code}: {ON_TIME_TO_RESUME} longer-class deliveries on time")
    if sorted(updated) != sorted(suspended):
        order = {code: i for i, (code, _) in enumerate(classes)}
        _set(ParameterScope.ZONE, zone_id, "suspended_windows", sorted(set(updated), key=lambda c: order.get(c, 99)),
             ChangeSource.DELIVERIES, {"stops": refs}, "; ".join(reasons), now, out)


# --- complaints -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filed:
    complaint_id: int
    order_id: int
    category: str
    at: datetime
    cooperative_ids: frozenset[int]
    product_ids: frozenset[int]
    location_ids: frozenset[int]
    driver_id: int | None


def complaints_since(since: datetime) -> list[Filed]:
    from ..catalog.models import Product
    from ..complaints.models import Complaint, ComplaintCategory
    from ..dispatch.models import Route, Stop, StopKind, StopStatus
    from ..orders.models import OrderLine
    from .models import Vehicle

    learned = [ComplaintCategory.DAMAGED, ComplaintCategory.WRONG_ITEM, ComplaintCategory.MISSING_ITEM,
               ComplaintCategory.QUALITY, ComplaintCategory.COURIER_CONDUCT]
    rows = db.session.execute(sa.select(
        Complaint.id, Complaint.order_id, Complaint.category, Complaint.created_at, Complaint.cooperative_id,
        Complaint.product_id, Complaint.vehicle_id, Complaint.route_id, Complaint.stop_id)
        .where(Complaint.category.in_(learned), Complaint.created_at >= since).order_by(Complaint.id)).all()
    if not rows:
        return []
    order_ids = {r.order_id for r in rows}
    lines: dict[int, list[tuple[int, int, int]]] = defaultdict(list)
    for order_id, product_id, location_id, coop_id in db.session.execute(
            sa.select(OrderLine.order_id, OrderLine.product_id, OrderLine.source_location_id, Product.cooperative_id)
            .join(Product, Product.id == OrderLine.product_id).where(OrderLine.order_id.in_(order_ids))):
        lines[order_id].append((product_id, location_id, coop_id))
    # the van that delivered each order (for complaints that do not name it)
    delivered_by = dict(db.session.execute(
        sa.select(Stop.order_id, Route.vehicle_id).join(Route, Route.id == Stop.route_id)
        .where(Stop.order_id.in_(order_ids), Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.DONE)).all())
    route_vehicle = dict(db.session.execute(sa.select(Route.id, Route.vehicle_id).where(
        Route.id.in_({r.route_id for r in rows if r.route_id}))).all())
    drivers = dict(db.session.execute(sa.select(Vehicle.id, Vehicle.driver_id)).all())
    out = []
    for r in rows:
        own = [line for line in lines[r.order_id] if r.product_id is None or line[0] == r.product_id]
        own = own or lines[r.order_id]
        vehicle = r.vehicle_id or route_vehicle.get(r.route_id) or delivered_by.get(r.order_id)
        coops = {r.cooperative_id} if r.cooperative_id else {c for _, _, c in own}
        out.append(Filed(r.id, r.order_id, ComplaintCategory(r.category).value, r.created_at, frozenset(coops),
                         frozenset(p for p, _, _ in own), frozenset(loc for _, loc, _ in own),
                         drivers.get(vehicle) if vehicle else None))
    return out


def _group(filed: Iterable[Filed], categories: set[str], key) -> dict[int, list[Filed]]:
    out: dict[int, list[Filed]] = defaultdict(list)
    for f in filed:
        if f.category in categories:
            for target in key(f):
                if target is not None:
                    out[target].append(f)
    return out


def _refs(evidence: list[Filed]) -> dict[str, list[int]]:
    return {"complaints": [f.complaint_id for f in evidence], "orders": sorted({f.order_id for f in evidence})}


def _count_rule(scope: ParameterScope, key: str, groups: dict[int, list[Filed]], window: timedelta, value_of,
                what: str, now: datetime, out: list[ParameterChange]) -> None:
    """Parameters that are a function of the number of distinct orders complained about in a
    window since the last staff change (see the module's docstring)."""
    parameters = _parameters(scope, key)
    for target in sorted(set(groups) | set(parameters)):
        parameter = parameters.get(target)
        staff = store.learn_since(parameter)
        since = _since(parameter, now - window)
        evidence = [f for f in groups.get(target, []) if f.at >= since]
        if staff is not None and not evidence and now - staff < window:
            continue  # a staff value stands until new evidence, or a whole window has passed
        orders = len({f.order_id for f in evidence})
        value = value_of(orders)
        current = parameter.value if parameter is not None else store.default(scope, key)
        if value == current:
            continue
        reason = (f"{orders} order(s) with {what} complaints in {window.days} days" if orders
                  else f"no {what} complaints in {window.days} days")
        _set(scope, target, key, value, ChangeSource.COMPLAINTS, _refs(evidence), reason, now, out)


def learn_from_complaints(now: datetime) -> list[ParameterChange]:
    out: list[ParameterChange] = []
    filed = complaints_since(now - QUALITY_WINDOW)
    damaged = _group(filed, {"damaged"}, lambda f: f.product_ids)
    _count_rule(ParameterScope.PRODUCT, "handling_flags", damaged, DAMAGED_WINDOW, handling_flags, "damaged", now, out)
    _count_rule(ParameterScope.PRODUCT, "service_s_extra", damaged, DAMAGED_WINDOW, per_order_extra, "damaged",
                now, out)
    picking = {"wrong_item", "missing_item"}
    _count_rule(ParameterScope.LOCATION, "pick_time_s", _group(filed, picking, lambda f: f.location_ids),
                PICK_WINDOW, per_order_extra, "wrong or missing item", now, out)
    _count_rule(ParameterScope.COOPERATIVE, "pick_errors", _group(filed, picking, lambda f: f.cooperative_ids),
                PICK_WINDOW, lambda n: n >= PICK_FLAG_ORDERS, "wrong or missing item", now, out)
    _count_rule(ParameterScope.DRIVER, "conduct_flag", _group(filed, {"courier_conduct"}, lambda f: [f.driver_id]),
                CONDUCT_WINDOW, lambda n: n >= 1, "courier conduct", now, out)
    _learn_quality(_group(filed, {"quality"}, lambda f: f.cooperative_ids), now, out)
    return out


def _learn_quality(groups: dict[int, list[Filed]], now: datetime, out: list[ParameterChange]) -> None:
    parameters = _parameters(ParameterScope.COOPERATIVE, "quality_score")
    for coop_id in sorted(set(groups) | set(parameters)):
        parameter = parameters.get(coop_id)
        staff = _staff_change(parameter)
        start, t0 = (float(staff.new_value), staff.created_at) if staff is not None else (100.0, None)
        evidence = [f for f in groups.get(coop_id, []) if t0 is None or f.at >= t0]
        first: dict[int, datetime] = {}
        for f in evidence:
            first[f.order_id] = min(first.get(f.order_id, f.at), f.at)
        days = lambda t: (now - t).total_seconds() / 86400  # noqa: E731
        score = quality_score(start, days(t0) if t0 is not None else 0.0, [days(t) for t in first.values()])
        current = int(parameter.value) if parameter is not None else 100
        if score == current or (abs(score - current) < QUALITY_DEAD_BAND and score != 100):
            continue  # (inside the dead band, but a full recovery is always recorded)
        reason = (f"{len(first)} order(s) with quality complaints" if first else "no recent quality complaints")
        change = _set(ParameterScope.COOPERATIVE, coop_id, "quality_score", score, ChangeSource.COMPLAINTS,
                      _refs(evidence), reason, now, out)
        if change is not None and current >= QUALITY_REVIEW_BELOW > score:
            _listings_to_review(coop_id, change, now)


def _staff_change(parameter: LogisticsParameter | None) -> ParameterChange | None:
    if parameter is None:
        return None
    return db.session.scalar(sa.select(ParameterChange).where(
        ParameterChange.parameter_id == parameter.id,
        ParameterChange.source.in_([ChangeSource.STAFF, ChangeSource.REVERT])).order_by(ParameterChange.id.desc()).limit(1))


def _listings_to_review(coop_id: int, change: ParameterChange, now: datetime) -> None:
    """The cooperative's listings on sale go to review (the operator restores them)."""
    from ..admin.services import audit
    from ..catalog.models import Product, ProductStatus

    products = list(db.session.scalars(sa.select(Product).where(
        Product.cooperative_id == coop_id, Product.status == ProductStatus.ACTIVE)))
    for product in products:
        product.status = ProductStatus.REVIEW
    if products:
        audit("listing.review", actor_id=None, object_type="cooperative", object_id=coop_id,
              data={"products": [p.id for p in products], "quality_score": change.new_value,
                    "parameter_change_id": change.id, "reason": "quality score below threshold"})
