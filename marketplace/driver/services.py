"""The driver's day: their own route of the active plan, stop by stop, and what they record at
each stop (start, arrived, made with proof, not made with a reason). Scoping lives here: a driver
reaches only the routes and stops of the vehicles they drive, today; anything else is not
found. Recording goes through :mod:`marketplace.dispatch.services` (the execution record the
planner continues the day from)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import selectinload

from .. import uploads as photos
from ..auth.models import Role, User
from ..columns import utcnow
from ..dispatch import services as dispatch
from ..dispatch.models import Plan, PlanStatus, Route, RouteStatus, Stop, StopKind, StopStatus
from ..errors import NotFound, ValidationFailed
from ..extensions import db
from ..logistics.models import Driver, Vehicle
from ..orders.models import Order, OrderLine, OrderStatus, PaymentMethod

SHANGHAI = ZoneInfo("Asia/Shanghai")

#: why a stop could not be made (stored as the code; shown in the page's language)
FAILURE_REASONS = {
    "not_home": _l("Nobody at home"),
    "refused": _l("Refused by the recipient"),
    "address_wrong": _l("Address wrong or not found"),
    "damaged": _l("Goods damaged"),
}
NAME_MAX = 64
NOTE_MAX = 200
MADE = (StopStatus.DONE, StopStatus.FAILED)
PICKUP_KINDS = (StopKind.PICKUP, StopKind.REPLENISH_PICKUP)
CLOSED_ORDERS = (OrderStatus.DELIVERED, OrderStatus.CANCELLED, OrderStatus.EXPIRED)


class ProofMissing(ValidationFailed):
    code = "proof_missing"
    default_message = _l("Enter the name of the person who took the goods, or take a photo.")


class ReasonMissing(ValidationFailed):
    code = "reason_missing"
    default_message = _l("Choose why the stop could not be made.")


# --- what a driver may reach ----------------------------------------------------------------


def day_start(now: datetime | None = None) -> datetime:
    """Midnight in Shanghai of the day ``now`` falls on, in UTC: "today" for a driver."""
    local = (now or utcnow()).astimezone(SHANGHAI)
    return datetime.combine(local.date(), time(0), SHANGHAI).astimezone(UTC)


def driver_of(user_id: int) -> Driver | None:
    return db.session.scalar(sa.select(Driver).where(Driver.user_id == user_id, Driver.active.is_(True))
                             .order_by(Driver.id).limit(1))


def _vehicles_of(user_id: int) -> sa.Select:
    return sa.select(Vehicle.id).join(Driver, Driver.id == Vehicle.driver_id).where(
        Driver.user_id == user_id, Driver.active.is_(True))


def _todays_routes(user_id: int) -> sa.Select:
    """Routes of the driver's vehicles in an active plan, or started or planned today (a re-plan
    leaves the stops made earlier on the superseded plan's routes)."""
    return (sa.select(Route.id).join(Plan, Plan.id == Route.plan_id)
            .where(Route.vehicle_id.in_(_vehicles_of(user_id)),
                   sa.or_(Plan.status == PlanStatus.ACTIVE, Route.start_at >= day_start())))


def own_route(user_id: int, route_id: int) -> Route:
    route = db.session.scalar(sa.select(Route).where(Route.id == route_id, Route.id.in_(_todays_routes(user_id))))
    if route is None:
        raise NotFound()
    return route


def own_stop(user_id: int, stop_id: int) -> Stop:
    stop = db.session.scalar(sa.select(Stop).where(Stop.id == stop_id, Stop.route_id.in_(_todays_routes(user_id))))
    if stop is None:
        raise NotFound()
    return stop


def _active_route_of(vehicle_id: int) -> Route | None:
    return db.session.scalar(sa.select(Route).join(Plan, Plan.id == Route.plan_id)
                             .where(Route.vehicle_id == vehicle_id, Plan.status == PlanStatus.ACTIVE)
                             .order_by(Route.id.desc()).limit(1))


def _current_route(route: Route) -> Route:
    """The route as the active plan has it now (a page opened before a re-plan names the old one)."""
    if route.plan.status == PlanStatus.ACTIVE:
        return route
    current = _active_route_of(route.vehicle_id)
    if current is None:
        raise dispatch.NotInActivePlan()
    return current


def _current_stop(stop: Stop) -> Stop:
    """The row to record on: the stop itself when it is made or in the active plan, else the same
    visit (van, order or replenishment, kind) on the active plan's route, or made since on another
    row (a second tap on a page older than the re-plan finds it made)."""
    if stop.status in MADE or stop.route.plan.status == PlanStatus.ACTIVE:
        return stop
    if stop.order_id is None and stop.replenishment_id is None:
        raise dispatch.NotInActivePlan()
    same_visit = sa.select(Stop).join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id).where(
        Route.vehicle_id == stop.route.vehicle_id, Stop.kind == stop.kind,
        (Stop.order_id == stop.order_id) if stop.order_id is not None else (
            Stop.replenishment_id == stop.replenishment_id))
    current = db.session.scalar(same_visit.where(Plan.status == PlanStatus.ACTIVE).order_by(Stop.id.desc()).limit(1))
    if current is None:
        current = db.session.scalar(same_visit.where(Stop.status.in_(MADE)).order_by(Stop.id.desc()).limit(1))
    if current is None:
        raise dispatch.NotInActivePlan()
    return current


# --- the day's page ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Goods:
    name_zh: str
    name_en: str
    unit_zh: str
    unit_en: str
    quantity: int


@dataclass(frozen=True)
class StopCard:
    """One stop as the driver needs it at the door."""

    stop: Stop
    number: int  # its place in the day, from 1
    kind: StopKind
    place: str  # who or where: the recipient, or the cooperative or warehouse
    address: str
    contact_name: str
    contact_mobile: str
    goods: tuple[Goods, ...]
    cod_fen: int | None  # cash to collect on delivery
    order_number: str | None
    arrived_at: datetime | None
    proof: dict = field(default_factory=dict)

    @property
    def pickup(self) -> bool:
        return self.kind in PICKUP_KINDS

    @property
    def made(self) -> bool:
        return self.stop.status in MADE

    @property
    def late(self) -> bool:
        """Planned to arrive after its deadline (a promise at risk)."""
        s = self.stop
        return s.deadline_at is not None and s.status == StopStatus.PENDING and s.planned_arrival_at > s.deadline_at

    @property
    def map_url(self) -> str:
        """A link that opens the phone's map app at the stop (no map library on the page)."""
        return f"geo:{self.stop.lat:.6f},{self.stop.lon:.6f}?q={self.stop.lat:.6f},{self.stop.lon:.6f}"

    @property
    def amap_url(self) -> str:
        return (f"https://uri.amap.com/marker?position={self.stop.lon:.6f},{self.stop.lat:.6f}"
                f"&coordinate=wgs84&callnative=1")


@dataclass(frozen=True)
class MapPoint:
    x: float
    y: float
    label: str
    state: str  # "depot", "made", "next", "todo"


@dataclass(frozen=True)
class MiniMap:
    """The day's stops drawn to scale in a small box (an SVG the page draws, no map tiles)."""

    width: int
    height: int
    points: tuple[MapPoint, ...]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)

    @property
    def drawn(self) -> tuple[MapPoint, ...]:
        """The points in drawing order: the next stop last, on top of any other at its place."""
        return tuple(sorted(self.points, key=lambda p: p.state == "next"))


@dataclass(frozen=True)
class DriverDay:
    driver: Driver | None
    route: Route | None
    next_stop: StopCard | None = None
    later: tuple[StopCard, ...] = ()
    made: tuple[StopCard, ...] = ()
    map: MiniMap | None = None

    @property
    def started(self) -> bool:
        return self.route is not None and self.route.status != RouteStatus.PLANNED

    @property
    def total(self) -> int:
        return len(self.made) + len(self.later) + (1 if self.next_stop else 0)


def todays_route(user_id: int) -> Route | None:
    """The driver's route in the active plan (the first still under way, if they drive two vans)."""
    routes = db.session.scalars(
        sa.select(Route).join(Plan, Plan.id == Route.plan_id)
        .where(Route.vehicle_id.in_(_vehicles_of(user_id)), Plan.status == PlanStatus.ACTIVE)
        .options(selectinload(Route.stops)).order_by(Route.start_at, Route.id)).all()
    for route in routes:
        if any(s.status == StopStatus.PENDING for s in route.stops):
            return route
    return routes[0] if routes else None


def day_of(user_id: int) -> DriverDay:
    """Everything the driver's page shows: the next stop, the later ones in order, and those
    made today (also on the routes of plans a re-plan superseded)."""
    driver = driver_of(user_id)
    route = todays_route(user_id)
    if route is None:
        return DriverDay(driver, None)
    made_rows = db.session.scalars(
        sa.select(Stop).join(Route, Route.id == Stop.route_id)
        .where(Route.vehicle_id == route.vehicle_id, Stop.status.in_(MADE),
               sa.or_(Stop.route_id == route.id, Stop.actual_departure_at >= day_start()))
        .options(*_card_loads()).order_by(Stop.actual_departure_at, Stop.id)).all()
    todo_rows = db.session.scalars(
        sa.select(Stop).where(Stop.route_id == route.id, Stop.status == StopStatus.PENDING)
        .options(*_card_loads()).order_by(Stop.sequence)).all()
    # a visit a re-plan has not yet caught up with (its order delivered on the old row) is not shown
    todo_rows = [s for s in todo_rows if s.order is None or s.order.status not in CLOSED_ORDERS]
    made = tuple(card(s, n) for n, s in enumerate(made_rows, start=1))
    todo = [card(s, n) for n, s in enumerate(todo_rows, start=len(made) + 1)]
    if todo and todo[0].arrived_at is None:  # arrived there before a re-plan remade the stop?
        todo[0] = replace(todo[0], arrived_at=dispatch.recorded_arrival(todo[0].stop))
    return DriverDay(driver, route, todo[0] if todo else None, tuple(todo[1:]), made,
                     _mini_map(route, made_rows, todo_rows))


def _card_loads() -> tuple:
    return (selectinload(Stop.order).selectinload(Order.lines).selectinload(OrderLine.product),
            selectinload(Stop.location))


def card(stop: Stop, number: int) -> StopCard:
    from ..catalog.models import Product
    from ..dispatch.models import Replenishment

    order = stop.order
    location = stop.location
    goods: tuple[Goods, ...] = ()
    place = address = contact_name = contact_mobile = ""
    if order is not None:
        lines = order.lines
        if stop.kind == StopKind.PICKUP:  # what this cooperative hands over for the order
            lines = [line for line in lines if line.source_location_id == stop.location_id]
        goods = tuple(Goods(line.product_name_zh, line.product_name_en, line.product.unit_zh,
                            line.product.unit_en, line.quantity) for line in lines)
    if stop.kind == StopKind.DELIVERY and order is not None:
        place, address = order.recipient_name, order.address_text
        contact_name, contact_mobile = order.recipient_name, order.recipient_mobile
    elif location is not None:
        place, address = location.name_zh, location.address_zh or location.name_zh
        if location.cooperative is not None:
            contact_name, contact_mobile = location.cooperative.head_name, location.cooperative.head_mobile
    if stop.replenishment_id is not None:
        move = db.session.get(Replenishment, stop.replenishment_id)
        product = db.session.get(Product, move.product_id) if move is not None else None
        if product is not None:
            goods = (Goods(product.name_zh, product.name_en, product.unit_zh, product.unit_en, move.quantity),)
    cod = None
    if (stop.kind == StopKind.DELIVERY and order is not None and order.payment_method == PaymentMethod.CASH_ON_DELIVERY
            and (stop.status == StopStatus.PENDING or stop.status == StopStatus.DONE)):
        cod = order.total_fen
    return StopCard(
        stop=stop, number=number, kind=stop.kind, place=place, address=address, contact_name=contact_name,
        contact_mobile=contact_mobile, goods=goods, cod_fen=cod, order_number=order.number if order else None,
        arrived_at=stop.actual_arrival_at,
        proof=dict(stop.proof or {}),
    )


MAP_WIDTH, MAP_HEIGHT, MAP_PAD = 320, 180, 14


def _mini_map(route: Route, made: list[Stop], todo: list[Stop]) -> MiniMap | None:
    depot = route.vehicle.warehouse.location
    places = [(depot.lat, depot.lon, "", "depot")]
    places += [(s.lat, s.lon, str(n), "made") for n, s in enumerate(made, start=1)]
    places += [(s.lat, s.lon, str(n), "next" if i == 0 else "todo")
               for i, (n, s) in enumerate(enumerate(todo, start=len(made) + 1))]
    if len(places) < 2:
        return None
    mid_lat = sum(p[0] for p in places) / len(places)
    squeeze = math.cos(math.radians(mid_lat))  # a degree of longitude is shorter than one of latitude
    xs = [p[1] * squeeze for p in places]
    ys = [p[0] for p in places]
    span = max(max(xs) - min(xs), max(ys) - min(ys)) or 1e-6
    scale = min((MAP_WIDTH - 2 * MAP_PAD) / max(max(xs) - min(xs), span / 10),
                (MAP_HEIGHT - 2 * MAP_PAD) / max(max(ys) - min(ys), span / 10))
    x0 = (MAP_WIDTH - (max(xs) - min(xs)) * scale) / 2
    y0 = (MAP_HEIGHT - (max(ys) - min(ys)) * scale) / 2
    points = tuple(MapPoint(x0 + (x - min(xs)) * scale, MAP_HEIGHT - y0 - (y - min(ys)) * scale, label, state)
                   for x, y, (_, _, label, state) in zip(xs, ys, places, strict=True))
    return MiniMap(MAP_WIDTH, MAP_HEIGHT, points)


# --- what the driver records ----------------------------------------------------------------


@dataclass(frozen=True)
class Position:
    """Where the phone was (from the browser's geolocation, when it gave one)."""

    lat: float
    lon: float
    accuracy_m: float | None = None

    @classmethod
    def parse(cls, lat: str | None, lon: str | None, accuracy: str | None = None) -> Position | None:
        """A position from form text; None for anything missing, not a number or out of range
        (a position is a help, never a reason to refuse a delivery)."""
        try:
            la, lo = float(lat or ""), float(lon or "")
        except ValueError:
            return None
        if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
            return None
        try:
            acc = float(accuracy) if accuracy else None
        except ValueError:
            acc = None
        if acc is not None and not (math.isfinite(acc) and 0 <= acc <= 100_000):
            acc = None
        return cls(round(la, 6), round(lo, 6), round(acc, 1) if acc is not None else None)


def device_time(millis: str | None, now: datetime | None = None) -> datetime | None:
    """The phone's own clock (ms since the epoch) when it is within a day of ours, else None."""
    now = now or utcnow()
    try:
        at = datetime.fromtimestamp(int(millis or "") / 1000, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return at if abs(at - now) <= timedelta(days=1) else None


@dataclass(frozen=True)
class Recorded:
    stop: Stop
    new: bool  # False: the stop had been recorded already (a double tap, or another device)


def start(user_id: int, route_id: int) -> Route:
    route = _current_route(own_route(user_id, route_id))
    return dispatch.start_route(route.id, actor_id=user_id)


def back(user_id: int, route_id: int) -> Route | None:
    """The driver is back at the warehouse: the van's trip is over (see dispatch.back_at_depot)."""
    return dispatch.back_at_depot(own_route(user_id, route_id).vehicle_id, actor_id=user_id)


def arrive(user_id: int, stop_id: int) -> Recorded:
    stop = _current_stop(own_stop(user_id, stop_id))
    if stop.status in MADE or stop.actual_arrival_at is not None:
        return Recorded(stop, False)
    _under_way(stop, user_id)
    return Recorded(dispatch.arrive(stop.id, actor_id=user_id), True)


def deliver(user_id: int, stop_id: int, *, name: str = "", photo: bytes | None = None,
            position: Position | None = None, device_at: datetime | None = None) -> Recorded:
    """The stop made: a delivery handed over (proof: the name of who took it and/or a photo), a
    pickup or replenishment stop loaded or unloaded (proof optional)."""
    stop = _current_stop(own_stop(user_id, stop_id))
    if stop.status in MADE:
        return Recorded(stop, False)
    name = " ".join(name.split())[:NAME_MAX]
    if stop.kind == StopKind.DELIVERY and not name and not photo:
        raise ProofMissing(field="name")
    photo_id = photos.store(stop.id, photo) if photo else None
    proof = _proof(kind="photo" if photo_id else "name", value=name or photo_id, name=name or None, photo=photo_id,
                   position=position, device_at=device_at)
    return _record(user_id, stop, StopStatus.DONE, proof, photo_id)


def fail(user_id: int, stop_id: int, *, reason: str, note: str = "", photo: bytes | None = None,
         position: Position | None = None, device_at: datetime | None = None) -> Recorded:
    """The stop could not be made, with one of :data:`FAILURE_REASONS` and a note."""
    stop = _current_stop(own_stop(user_id, stop_id))
    if stop.status in MADE:
        return Recorded(stop, False)
    if reason not in FAILURE_REASONS:
        raise ReasonMissing(field="reason")
    photo_id = photos.store(stop.id, photo) if photo else None
    proof = _proof(kind="failure", value=reason, reason=reason, note=" ".join(note.split())[:NOTE_MAX],
                   photo=photo_id, position=position, device_at=device_at)
    return _record(user_id, stop, StopStatus.FAILED, proof, photo_id)


def _under_way(stop: Stop, user_id: int) -> None:
    """A driver at a stop has left the depot, whether or not they tapped "start"."""
    if stop.route.status == RouteStatus.PLANNED:
        dispatch.start_route(stop.route_id, actor_id=user_id)


def _proof(*, kind: str, value: str | None, position: Position | None, device_at: datetime | None, **fields) -> dict:
    proof = {"kind": kind, "value": value, "at": utcnow().isoformat(), **fields}
    if position is not None:
        proof.update(lat=position.lat, lon=position.lon, accuracy_m=position.accuracy_m)
    if device_at is not None:
        proof["device_at"] = device_at.isoformat()
    return proof


def _record(user_id: int, stop: Stop, outcome: StopStatus, proof: dict, photo_id: str | None) -> Recorded:
    try:
        _under_way(stop, user_id)
        stop = dispatch.record_stop(stop.id, outcome, actor_id=user_id, proof=proof)
    except BaseException:
        if photo_id:
            photos.discard(photo_id)
        raise
    new = stop.proof == proof
    if photo_id and not new:  # another tap recorded the stop first: this photo proves nothing
        photos.discard(photo_id)
    return Recorded(stop, new)


# --- proof photos and the consumer's view of the delivery ------------------------------------


def photo_file(user: User, photo_id: str):
    """The stored photo ``photo_id`` if ``user`` may see it: the driver of its route (today),
    the consumer of its order, dispatchers and operators; anyone else: not found."""
    stop_id = photos.stop_of(photo_id)
    stop = db.session.get(Stop, stop_id) if stop_id is not None else None
    if stop is None or not stop.proof or stop.proof.get("photo") != photo_id:
        raise NotFound()
    if user.role == Role.DRIVER:
        own_stop(user.id, stop.id)
    elif user.role == Role.CONSUMER:
        if stop.order is None or stop.order.user_id != user.id:
            raise NotFound()
    elif user.role not in (Role.DISPATCHER, Role.OPERATOR):
        raise NotFound()
    path = photos.path_of(photo_id)
    if path is None or not path.is_file():
        raise NotFound()
    return path


@dataclass(frozen=True)
class Attempt:
    """A delivery attempt as the consumer sees it."""

    delivered: bool
    at: datetime | None
    name: str | None
    photo_id: str | None
    reason: str | None

    @property
    def reason_text(self) -> str:
        return str(FAILURE_REASONS.get(self.reason or "", "")) if self.reason else ""


def attempts_of(order_id: int) -> list[Attempt]:
    """The delivery stops made or failed for an order, oldest first (the driver's note stays
    with the staff)."""
    rows = db.session.scalars(
        sa.select(Stop).where(Stop.order_id == order_id, Stop.kind == StopKind.DELIVERY, Stop.status.in_(MADE))
        .order_by(Stop.actual_departure_at, Stop.id)).all()
    out = []
    for stop in rows:
        proof = stop.proof or {}
        out.append(Attempt(delivered=stop.status == StopStatus.DONE, at=stop.actual_departure_at,
                           name=proof.get("name") or (proof.get("value") if proof.get("kind") == "name" else None),
                           photo_id=proof.get("photo") if photos.PHOTO_ID.fullmatch(proof.get("photo") or "") else None,
                           reason=proof.get("reason") if stop.status == StopStatus.FAILED else None))
    return out
