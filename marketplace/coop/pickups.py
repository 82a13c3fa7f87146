"""Pick lists and handovers at a cooperative's site (后厂 → the van).

A *pickup* is one van's visit to one of the cooperative's sites: the consecutive pickup stops
of a route of the active plans there (goods of orders picked up for delivery, and milk runs to
a warehouse), with what to prepare for each. A pick list is the day's pickups (Shanghai day),
by time and van. When the van collects, the head records a handover: who handed over, when, a
count per line; a count other than expected is a mismatch, recorded and alerted to the
dispatcher of the route's warehouse (dispatch alert ``handover_mismatch``). Nothing of the
orders' stock changes because of a mismatch: the dispatcher decides.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from ..catalog.models import Product
from ..columns import utcnow
from ..dispatch.models import (
    Alert,
    AlertSeverity,
    Plan,
    PlanStatus,
    Replenishment,
    Route,
    Stop,
    StopKind,
    StopStatus,
)
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..inventory.models import Location
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order, OrderLine
from .models import Cooperative, Handover, HandoverLine

SHANGHAI = ZoneInfo("Asia/Shanghai")
PICKUP_KINDS = (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
MADE = (StopStatus.DONE, StopStatus.FAILED)
NAME_MAX = 64
NOTE_MAX = 300
MAX_COUNT = 9999
#: a handover may be recorded this long after it happened (a head catching up in the evening)
BACKDATE_LIMIT = timedelta(days=2)
#: phones' clocks run a little ahead: a time this far past ours is taken as now
CLOCK_SKEW = timedelta(minutes=2)

STATE_NAMES = {
    "to_prepare": _l("To prepare"),
    "partly": _l("Partly handed over"),
    "handed_over": _l("Handed over"),
    "mismatch": _l("Mismatch"),
}


class HandoverInvalid(ValidationFailed):
    code = "handover_invalid"


# --- what a pickup is ---------------------------------------------------------------------------


@dataclass
class PickItem:
    """One line to prepare: a product's units for one order, or for one milk run."""

    key: str  # "O<order>-<product>" or "R<move>-<product>"
    product: Product
    quantity: int
    order: Order | None = None
    move: Replenishment | None = None
    counted: int | None = None  # once handed over
    handed: bool = False

    @property
    def differs(self) -> bool:
        return self.handed and self.counted != self.quantity


@dataclass
class Pickup:
    stops: list[Stop]
    route: Route
    vehicle: Vehicle
    location: Location
    warehouse: Warehouse | None
    items: list[PickItem] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)

    @property
    def id(self) -> int:
        """The pickup's stop id (its first stop) in URLs."""
        return self.stops[0].id

    @property
    def planned_at(self) -> datetime:
        return self.stops[0].planned_arrival_at

    @property
    def made_at(self) -> datetime | None:
        made = [s.actual_departure_at for s in self.stops if s.status in MADE and s.actual_departure_at]
        return max(made) if made else None

    @property
    def driver_done(self) -> bool:
        return all(s.status == StopStatus.DONE for s in self.stops)

    @property
    def remaining(self) -> list[PickItem]:
        return [item for item in self.items if not item.handed]

    @property
    def state(self) -> str:
        handed = [item for item in self.items if item.handed]
        if not handed:
            return "to_prepare"
        if len(handed) < len(self.items):
            return "partly"
        return "mismatch" if any(item.differs for item in handed) or any(h.mismatch for h in self.handovers) \
            else "handed_over"

    @property
    def state_name(self) -> str:
        return str(STATE_NAMES[self.state])

    def totals(self) -> list[tuple[Product, int]]:
        return _totals(self.items)


@dataclass
class PickDay:
    day: date
    pickups: list[Pickup]

    def totals(self) -> list[tuple[Product, int]]:
        return _totals([item for pickup in self.pickups for item in pickup.items])


def _totals(items: list[PickItem]) -> list[tuple[Product, int]]:
    sums: OrderedDict[int, list] = OrderedDict()
    for item in sorted(items, key=lambda i: i.product.sku):
        sums.setdefault(item.product.id, [item.product, 0])[1] += item.quantity
    return [(product, quantity) for product, quantity in sums.values()]


def local_day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), SHANGHAI).astimezone(UTC)


def days_shown(now: datetime) -> list[date]:
    """Today and the next day, in Shanghai."""
    today = now.astimezone(SHANGHAI).date()
    return [today, today + timedelta(days=1)]


def _stop_query(cooperative_id: int) -> sa.Select:
    """Pickup stops at the cooperative's sites: on the active plans, or made (a re-plan leaves
    the stops made on the superseded plan's routes)."""
    return (sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
            .join(Location, Location.id == Stop.location_id)
            .where(Location.cooperative_id == cooperative_id, Stop.kind.in_(PICKUP_KINDS),
                   sa.or_(Plan.status == PlanStatus.ACTIVE, Stop.status.in_(MADE)))
            .options(joinedload(Stop.route).joinedload(Route.vehicle).joinedload(Vehicle.driver),
                     joinedload(Stop.route).joinedload(Route.plan),
                     joinedload(Stop.location),
                     selectinload(Stop.order).selectinload(Order.lines).joinedload(OrderLine.product))
            .order_by(Stop.route_id, Stop.sequence))


def _group(stops: list[Stop], sequences: dict[int, list[int]]) -> list[list[Stop]]:
    """Consecutive stops of one route at one site are one pickup (no other stop of the route
    between them; ``sequences``: each route's stop sequences in order, gaps included)."""
    groups: list[list[Stop]] = []
    for stop in stops:
        last = groups[-1][-1] if groups else None
        if last is not None and last.route_id == stop.route_id and last.location_id == stop.location_id:
            order = sequences.get(stop.route_id, [])
            if last.sequence in order and stop.sequence in order \
                    and order.index(stop.sequence) == order.index(last.sequence) + 1:
                groups[-1].append(stop)
                continue
        groups.append([stop])
    return groups


def _build(cooperative_id: int, stops: list[Stop]) -> list[Pickup]:
    """Pickups of these stops, with their items and what was handed over. A few queries."""
    if not stops:
        return []
    sequences: dict[int, list[int]] = {}
    for route_id, sequence in db.session.execute(
            sa.select(Stop.route_id, Stop.sequence).where(Stop.route_id.in_({s.route_id for s in stops}))
            .order_by(Stop.sequence)):
        sequences.setdefault(route_id, []).append(sequence)
    move_ids = {s.replenishment_id for s in stops if s.replenishment_id is not None}
    moves = {m.id: m for m in db.session.scalars(
        sa.select(Replenishment).where(Replenishment.id.in_(move_ids)).options(joinedload(Replenishment.product)))} \
        if move_ids else {}
    warehouses = {w.id: w for w in db.session.scalars(sa.select(Warehouse).options(joinedload(Warehouse.location)))}
    handed = _handed_lines(cooperative_id, stops)
    pickups = []
    for group in _group(stops, sequences):
        first = group[0]
        route = first.route
        pickup = Pickup(group, route, route.vehicle, first.location, warehouses.get(route.plan.warehouse_id))
        seen_handovers: dict[int, Handover] = {}
        for stop in group:
            for item in _items(stop, moves):
                line = handed.get((route.vehicle_id, item.key))
                if line is not None:
                    item.handed, item.counted = True, line.counted
                    seen_handovers[line.handover_id] = line.handover
                pickup.items.append(item)
        pickup.handovers = list(seen_handovers.values())
        pickups.append(pickup)
    pickups.sort(key=lambda p: (p.planned_at, p.vehicle.plate))
    return pickups


def _items(stop: Stop, moves: dict[int, Replenishment]) -> list[PickItem]:
    if stop.order is not None:
        return [PickItem(f"O{stop.order_id}-{line.product_id}", line.product, line.quantity, order=stop.order)
                for line in stop.order.lines if line.source_location_id == stop.location_id]
    move = moves.get(stop.replenishment_id or 0)
    if move is not None:
        return [PickItem(f"R{move.id}-{move.product_id}", move.product, move.quantity, move=move)]
    return []


def _handed_lines(cooperative_id: int, stops: list[Stop]) -> dict[tuple[int, str], HandoverLine]:
    """(vehicle, item key) → the handover line that recorded it (a visit remade by a re-plan
    keeps its handover: matched by van, order or move, and product)."""
    order_ids = {s.order_id for s in stops if s.order_id is not None}
    move_ids = {s.replenishment_id for s in stops if s.replenishment_id is not None}
    if not order_ids and not move_ids:
        return {}
    lines = db.session.scalars(
        sa.select(HandoverLine).join(Handover, Handover.id == HandoverLine.handover_id)
        .where(Handover.cooperative_id == cooperative_id,
               sa.or_(HandoverLine.order_id.in_(order_ids), HandoverLine.replenishment_id.in_(move_ids)))
        .options(joinedload(HandoverLine.handover)).order_by(HandoverLine.id))
    out = {}
    for line in lines:
        key = f"O{line.order_id}-{line.product_id}" if line.order_id else f"R{line.replenishment_id}-{line.product_id}"
        out.setdefault((line.handover.vehicle_id, key), line)
    return out


def pick_days(cooperative_id: int, now: datetime | None = None) -> list[PickDay]:
    """The cooperative's pickups today and the next day (Shanghai), by planned time and van."""
    now = now or utcnow()
    days = days_shown(now)
    start, end = local_day_start(days[0]), local_day_start(days[-1] + timedelta(days=1))
    stops = list(db.session.scalars(_stop_query(cooperative_id).where(
        Stop.planned_arrival_at >= start, Stop.planned_arrival_at < end)).unique())
    pickups = _build(cooperative_id, stops)
    return [PickDay(day, [p for p in pickups if p.planned_at.astimezone(SHANGHAI).date() == day]) for day in days]


def pickup_of(cooperative_id: int, stop_id: int) -> Pickup:
    """The pickup a stop of the cooperative belongs to (another cooperative's stop, or a stop
    that is no pickup: not found)."""
    stop = db.session.scalar(_stop_query(cooperative_id).where(Stop.id == stop_id))
    if stop is None:
        raise NotFound()
    siblings = list(db.session.scalars(_stop_query(cooperative_id).where(
        Stop.route_id == stop.route_id, Stop.location_id == stop.location_id)).unique())
    for pickup in _build(cooperative_id, siblings):
        if any(s.id == stop_id for s in pickup.stops):
            return pickup
    raise NotFound()  # pragma: no cover (the stop is among its siblings)


# --- the handover -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recorded:
    handover: Handover
    new: bool  # False: already recorded (a second submission, or another phone)


def record_handover(cooperative_id: int, stop_id: int, user_id: int, *, counts: dict[str, int],
                    handed_over_by: str, handed_at: datetime, note: str = "",
                    now: datetime | None = None) -> Recorded:
    """Record what was handed to the van at a pickup: one Handover (on the pickup's first stop
    not yet handed over) with a line per item still to hand over, counted as given in
    ``counts`` (item key → units). A count other than expected makes it a mismatch and raises
    a warning alert for the route's warehouse. Idempotent: a pickup whose items are all handed
    over returns the first handover (new=False). Invalid input changes nothing."""
    now = now or utcnow()
    pickup = pickup_of(cooperative_id, stop_id)
    remaining = pickup.remaining
    if not remaining:
        return Recorded(pickup.handovers[0], False) if pickup.handovers else _nothing_to_hand(pickup)
    name = " ".join((handed_over_by or "").split())
    if not name:
        raise HandoverInvalid(_l("Enter the name of who handed the goods over."), field="handed_over_by")
    if len(name) > NAME_MAX:
        raise HandoverInvalid(_l("The name is too long (at most %(n)d characters).", n=NAME_MAX),
                              field="handed_over_by")
    if handed_at.tzinfo is None:
        raise ValueError("handed_at must be aware")
    if handed_at > now + CLOCK_SKEW:
        raise HandoverInvalid(_l("The handover time cannot be in the future."), field="handed_at")
    if handed_at < now - BACKDATE_LIMIT:
        raise HandoverInvalid(_l("The handover time is more than two days ago."), field="handed_at")
    handed_at = min(handed_at, now)
    note = " ".join((note or "").split())
    if len(note) > NOTE_MAX:
        raise HandoverInvalid(_l("The note is too long (at most %(n)d characters).", n=NOTE_MAX), field="note")
    counted: dict[str, int] = {}
    for item in remaining:
        value = counts.get(item.key)
        if value is None or isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_COUNT:
            raise HandoverInvalid(_l("Enter a count between 0 and %(most)d for every line.", most=MAX_COUNT),
                                  field=f"count-{item.key}")
        counted[item.key] = value
    cooperative = db.session.get(Cooperative, cooperative_id)
    first = next(s for s in pickup.stops if any(i.key in counted for i in _items_for(pickup, s)))
    mismatch = any(counted[i.key] != i.quantity for i in remaining)
    handover = Handover(stop_id=first.id, cooperative_id=cooperative_id, location_id=pickup.location.id,
                        vehicle_id=pickup.vehicle.id, handed_over_by=name, handed_at=handed_at,
                        recorded_by_id=user_id, mismatch=mismatch, note=note, created_at=now)
    for item in remaining:
        handover.lines.append(HandoverLine(
            product_id=item.product.id, order_id=item.order.id if item.order else None,
            replenishment_id=item.move.id if item.move else None, expected=item.quantity, counted=counted[item.key]))
    db.session.add(handover)
    try:
        db.session.flush()
    except IntegrityError:  # another phone recorded this stop's handover a moment ago
        db.session.rollback()
        existing = db.session.scalar(sa.select(Handover).where(Handover.stop_id == first.id))
        if existing is None:
            raise
        return Recorded(existing, False)
    if mismatch:
        _alert(pickup, handover, cooperative, remaining, counted, now)
    db.session.commit()
    return Recorded(handover, True)


def _items_for(pickup: Pickup, stop: Stop) -> list[PickItem]:
    prefix = f"O{stop.order_id}-" if stop.order_id is not None else f"R{stop.replenishment_id}-"
    return [i for i in pickup.items if i.key.startswith(prefix)]


def _nothing_to_hand(pickup: Pickup) -> Recorded:
    raise HandoverInvalid(_l("This pickup has nothing to hand over."))


def _alert(pickup: Pickup, handover: Handover, cooperative: Cooperative, items: list[PickItem],
           counted: dict[str, int], now: datetime) -> None:
    lines = [{"product_id": i.product.id, "product_zh": i.product.name_zh, "product_en": i.product.name_en,
              "order": i.order.number if i.order else None, "replenishment_id": i.move.id if i.move else None,
              "expected": i.quantity, "counted": counted[i.key], "difference": counted[i.key] - i.quantity}
             for i in items]
    differing = [f"{line['product_en']} {line['counted']}/{line['expected']}" for line in lines
                 if line["difference"]]
    db.session.add(Alert(
        kind="handover_mismatch", severity=AlertSeverity.WARNING,
        warehouse_id=pickup.warehouse.id if pickup.warehouse else None, plan_id=pickup.route.plan_id,
        vehicle_id=pickup.vehicle.id, created_at=now,
        message=f"{cooperative.name_en} handed {pickup.vehicle.plate} other counts: {', '.join(differing)}"[:300],
        data={"cooperative_id": cooperative.id, "cooperative_zh": cooperative.name_zh,
              "cooperative_en": cooperative.name_en, "vehicle": pickup.vehicle.plate, "vehicle_id": pickup.vehicle.id,
              "handover_id": handover.id, "stop_id": handover.stop_id, "handed_at": handover.handed_at.isoformat(),
              "handed_over_by": handover.handed_over_by, "lines": lines},
    ))
