"""Plain typed inputs and outputs of the planner (frozen dataclasses).

Times are integer seconds relative to the problem's epoch (``Problem.epoch`` is only kept for
display); weights in grams, volumes in cm³, distances in the matrix provider's unit (metres for
:class:`~delivery.matrix.HaversineMatrix`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from functools import cached_property
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from delivery.matrix import TravelMatrix


class OrderKind(StrEnum):
    """What moving an order's goods takes."""

    #: goods are in a depot (middle warehouse) and loaded when the route starts there
    DELIVERY = "delivery"
    #: goods are only at a cooperative: pickup, then delivery on the same vehicle
    PICKUP_DELIVERY = "pickup_delivery"
    #: cooperative → warehouse milk run: optional, no deadline, worth ``value``
    REPLENISHMENT = "replenishment"


class Role(StrEnum):
    START = "start"
    PICKUP = "pickup"
    DELIVERY = "delivery"
    END = "end"


# Machine-readable reasons for an order that is not in the plan.
REASONS: dict[str, str] = {
    "deadline_passed": "the deadline is already past",
    "no_vehicle": "no vehicle may serve this order (depot, pin or fleet)",
    "capacity": "the order is heavier or bulkier than every vehicle that may serve it",
    "unreachable": "the address cannot be reached from the vehicles' locations",
    "no_vehicle_reaches_in_time": "no vehicle can reach the address before the deadline",
    "shift_ends": "no vehicle can serve it and return to its depot before its shift ends",
    "fleet_busy": "the fleet's time and capacity are taken by other orders",
    "before_shift": "no vehicle is on shift before this window would end",
    "goods_at_cooperative": "the goods must first be collected from a cooperative, which takes longer",
    "not_scheduled": "optional task not worth scheduling in this plan",
}


@dataclass(frozen=True, slots=True)
class Location:
    """A place: depot, cooperative or consumer address.

    Give ``lat``/``lon`` (degrees) for the haversine provider or ``x``/``y`` for Euclidean
    benchmarks. ``service_time`` (s) is added to every visit here (parking, stairs...).
    """

    id: str
    lat: float | None = None
    lon: float | None = None
    zone: str | None = None
    x: float | None = None
    y: float | None = None
    service_time: int = 0


@dataclass(frozen=True, slots=True)
class StopRef:
    """One stop of an order: its pickup or its delivery."""

    order_id: str
    role: Role = Role.DELIVERY


@dataclass(frozen=True)
class Vehicle:
    """A vehicle and its shift.

    A vehicle whose route has already started gives ``start_location`` (where it is now, or
    where its current stop is) and ``available_from`` (when it is free there); stops already
    done are simply left out of the problem. ``onboard`` lists orders whose goods are already
    on the vehicle (it must deliver them), ``locked_stops`` the next stops that must be made
    first, in this order. A vehicle away from its depot cannot take new depot deliveries (its
    goods were loaded at the depot); express a reload as a ``PICKUP_DELIVERY`` from the depot.
    ``departed``: the vehicle has left its depot (even if ``start_location`` is the depot's
    place): it takes no more goods from the depot and is never re-timed to a later start.
    """

    id: str
    depot: str
    capacity_weight: int
    capacity_volume: int | None = None  # None: volume not limiting
    shift_start: int = 0
    shift_end: int = 24 * 3600
    speed_kmh: float = 30.0
    fixed_cost: int | None = None  # None: Problem.vehicle_fixed_cost
    start_location: str | None = None  # None: at its depot
    available_from: int | None = None  # None: shift_start
    onboard: tuple[str, ...] = ()
    locked_stops: tuple[StopRef, ...] = ()
    departed: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "onboard", tuple(self.onboard))
        object.__setattr__(
            self,
            "locked_stops",
            tuple(s if isinstance(s, StopRef) else StopRef(*s) for s in self.locked_stops),
        )

    @property
    def origin(self) -> str:
        return self.start_location or self.depot

    @property
    def at_depot(self) -> bool:
        """Still at its depot, where it can load the depot's goods."""
        return not self.departed and self.origin == self.depot

    @property
    def start_time(self) -> int:
        return self.shift_start if self.available_from is None else self.available_from


@dataclass(frozen=True)
class Order:
    """A transport task.

    ``deadline`` is the latest arrival at the delivery address (order time + window class).
    For ``DELIVERY`` orders ``pickup`` names the depot holding the goods (None: any depot) and
    ``ready`` is the earliest delivery time; otherwise ``ready``/``pickup_due`` bound the
    pickup and ``delivery_ready`` (default 0) the delivery. ``value`` is what an optional
    replenishment is worth in objective units (distance units of driving).
    """

    id: str
    delivery: str
    kind: OrderKind = OrderKind.DELIVERY
    pickup: str | None = None
    weight: int = 0
    volume: int = 0
    ready: int = 0
    deadline: int | None = None
    pickup_due: int | None = None
    delivery_ready: int | None = None
    pickup_service: int = 0
    delivery_service: int = 0
    pinned_vehicle: str | None = None
    value: int = 0
    #: the delivery time the customer was told (s from the epoch): arriving later than this
    #: costs ``Problem.target_cost`` per second (a soft bound; ``deadline`` stays the hard one)
    target: int | None = None

    @property
    def has_pickup_stop(self) -> bool:
        return self.kind is not OrderKind.DELIVERY

    @property
    def optional(self) -> bool:
        return self.kind is OrderKind.REPLENISHMENT

    @property
    def delivery_window(self) -> tuple[int, int | None]:
        if self.kind is OrderKind.DELIVERY:
            lo = self.ready if self.delivery_ready is None else self.delivery_ready
        else:
            lo = self.delivery_ready or 0
        return lo, self.deadline

    @property
    def pickup_window(self) -> tuple[int, int | None]:
        due = self.pickup_due if self.pickup_due is not None else self.deadline
        return self.ready, due


@dataclass(frozen=True)
class Problem:
    """Everything one planning run needs.

    ``vehicle_fixed_cost``: None picks a cost larger than any route's distance (fewest vehicles
    first, then least distance); 0 minimises distance only. ``matrix``: None uses
    :class:`~delivery.matrix.HaversineMatrix` (or Euclidean when locations only have x/y).
    ``now`` is the planning time: deadlines before it are reported as ``deadline_passed``.
    ``target_cost``: see :attr:`Order.target`.
    """

    locations: tuple[Location, ...]
    vehicles: tuple[Vehicle, ...]
    orders: tuple[Order, ...]
    matrix: TravelMatrix | None = field(default=None, compare=False)
    now: int = 0
    vehicle_fixed_cost: int | None = None
    #: objective units (distance) per second a delivery arrives after its order's ``target``:
    #: 0 ignores targets; more keeps promised ETAs stable at the cost of distance
    target_cost: int = 0
    epoch: datetime | None = None
    name: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def __post_init__(self) -> None:
        for name in ("locations", "vehicles", "orders"):
            object.__setattr__(self, name, tuple(getattr(self, name)))

    @cached_property
    def location_index(self) -> dict[str, int]:
        return {loc.id: i for i, loc in enumerate(self.locations)}

    @cached_property
    def order_by_id(self) -> dict[str, Order]:
        return {o.id: o for o in self.orders}

    @cached_property
    def vehicle_by_id(self) -> dict[str, Vehicle]:
        return {v.id: v for v in self.vehicles}

    def travel_matrix(self) -> TravelMatrix:
        from delivery.matrix import default_matrix

        return self.matrix if self.matrix is not None else default_matrix(self.locations)


@dataclass(frozen=True, slots=True)
class Visit:
    """One point of a route with its planned times (seconds from the epoch).

    ``arrival`` is the ETA; ``start`` the service start (after waiting for a window);
    ``load_*`` the load on board when leaving. ``late`` > 0 only for a locked or on-board stop
    whose deadline can no longer be kept (it is still visited).
    """

    role: Role
    location: str
    order_id: str | None
    arrival: int
    start: int
    departure: int
    deadline: int | None = None
    load_weight: int = 0
    load_volume: int = 0
    locked: bool = False
    late: int = 0


@dataclass(frozen=True)
class Route:
    vehicle_id: str
    visits: tuple[Visit, ...]
    distance: int = 0
    duration: int = 0

    @property
    def stops(self) -> tuple[Visit, ...]:
        """The visits without the start and end points."""
        return tuple(v for v in self.visits if v.role in (Role.PICKUP, Role.DELIVERY))

    @property
    def is_empty(self) -> bool:
        return not self.stops

    @property
    def order_ids(self) -> list[str]:
        seen: dict[str, None] = {}
        for v in self.stops:
            seen.setdefault(v.order_id or "", None)
        return list(seen)


@dataclass(frozen=True, slots=True)
class Unassigned:
    order_id: str
    reason_code: str
    reason: str


@dataclass(frozen=True)
class Plan:
    """A solution: one route per vehicle (idle vehicles have empty routes) plus the orders
    that are not in it, each with a reason."""

    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...] = ()
    objective: int = 0
    fallback: bool = False
    solve_seconds: float = 0.0
    status: str = "solved"

    @property
    def used_routes(self) -> tuple[Route, ...]:
        return tuple(r for r in self.routes if not r.is_empty)

    @property
    def vehicles_used(self) -> int:
        return len(self.used_routes)

    @property
    def distance(self) -> int:
        return sum(r.distance for r in self.routes)

    @property
    def duration(self) -> int:
        return sum(r.duration for r in self.used_routes)

    @property
    def late_visits(self) -> list[Visit]:
        return [v for r in self.routes for v in r.visits if v.late > 0]

    def route_of(self, vehicle_id: str) -> Route | None:
        return next((r for r in self.routes if r.vehicle_id == vehicle_id), None)
