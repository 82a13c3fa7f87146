"""Input validation: bad input raises :class:`ProblemError` naming the field."""

from __future__ import annotations

import math
from collections.abc import Container, Mapping

from delivery.errors import ProblemError
from delivery.model import Location, Order, OrderKind, Problem, Role, StopRef, Vehicle


def _int(value: object, field: str, *, minimum: int | None = 0) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ProblemError(field, f"must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        raise ProblemError(field, f"must be >= {minimum}, got {value}")


def _check_location(i: int, loc: Location) -> None:
    f = f"locations[{i}]"
    if not isinstance(loc.id, str) or not loc.id:
        raise ProblemError(f"{f}.id", "must be a non-empty string")
    for name in ("lat", "lon", "x", "y"):
        v = getattr(loc, name)
        if v is not None and (not isinstance(v, int | float) or not math.isfinite(v)):
            raise ProblemError(f"{f}.{name}", f"must be a finite number, got {v!r}")
    if (loc.lat is None) != (loc.lon is None):
        raise ProblemError(f"{f}.lat", "lat and lon must be given together")
    if loc.lat is not None and not -90 <= loc.lat <= 90:
        raise ProblemError(f"{f}.lat", f"latitude out of range: {loc.lat}")
    if loc.lon is not None and not -180 <= loc.lon <= 180:
        raise ProblemError(f"{f}.lon", f"longitude out of range: {loc.lon}")
    _int(loc.service_time, f"{f}.service_time")


def _check_vehicle(i: int, v: Vehicle, locs: Container[str]) -> None:
    f = f"vehicles[{i}]"
    if not isinstance(v.id, str) or not v.id:
        raise ProblemError(f"{f}.id", "must be a non-empty string")
    if v.depot not in locs:
        raise ProblemError(f"{f}.depot", f"unknown location id {v.depot!r}")
    if v.start_location is not None and v.start_location not in locs:
        raise ProblemError(f"{f}.start_location", f"unknown location id {v.start_location!r}")
    _int(v.capacity_weight, f"{f}.capacity_weight")
    if v.capacity_volume is not None:
        _int(v.capacity_volume, f"{f}.capacity_volume")
    _int(v.shift_start, f"{f}.shift_start", minimum=None)
    _int(v.shift_end, f"{f}.shift_end", minimum=None)
    if v.shift_end < v.shift_start:
        raise ProblemError(f"{f}.shift_end", f"shift ends ({v.shift_end}) before it starts")
    if v.available_from is not None:
        _int(v.available_from, f"{f}.available_from", minimum=None)
    if not isinstance(v.speed_kmh, int | float) or not v.speed_kmh > 0:
        raise ProblemError(f"{f}.speed_kmh", f"must be positive, got {v.speed_kmh!r}")
    if v.fixed_cost is not None:
        _int(v.fixed_cost, f"{f}.fixed_cost")


def _check_order(i: int, o: Order, locs: Container[str], vehicles: set[str]) -> None:
    f = f"orders[{i}]"
    if not isinstance(o.id, str) or not o.id:
        raise ProblemError(f"{f}.id", "must be a non-empty string")
    try:
        kind = OrderKind(o.kind)
    except ValueError:
        raise ProblemError(f"{f}.kind", f"unknown order kind {o.kind!r}") from None
    if o.delivery not in locs:
        raise ProblemError(f"{f}.delivery", f"unknown location id {o.delivery!r}")
    if o.pickup is not None and o.pickup not in locs:
        raise ProblemError(f"{f}.pickup", f"unknown location id {o.pickup!r}")
    if kind is not OrderKind.DELIVERY and o.pickup is None:
        raise ProblemError(f"{f}.pickup", f"a {kind.value} order needs a pickup location")
    for name in ("weight", "volume", "pickup_service", "delivery_service", "value"):
        _int(getattr(o, name), f"{f}.{name}")
    _int(o.ready, f"{f}.ready", minimum=None)
    for name in ("deadline", "pickup_due", "delivery_ready", "target"):
        if getattr(o, name) is not None:
            _int(getattr(o, name), f"{f}.{name}", minimum=None)
    lo, hi = o.delivery_window
    if hi is not None and hi < lo:
        raise ProblemError(f"{f}.deadline", f"window ends ({hi}) before it starts ({lo})")
    if kind is not OrderKind.DELIVERY:
        plo, phi = o.pickup_window
        if phi is not None and phi < plo:
            raise ProblemError(f"{f}.pickup_due", f"window ends ({phi}) before it starts ({plo})")
    if o.pinned_vehicle is not None and o.pinned_vehicle not in vehicles:
        raise ProblemError(f"{f}.pinned_vehicle", f"unknown vehicle id {o.pinned_vehicle!r}")


def _unique_after(items: tuple, start: int, known: Mapping[str, object], what: str) -> None:
    """Ids of ``items[start:]`` unique among themselves and not among ``known`` (the ids of
    ``items[:start]``, already unique)."""
    seen: set[str] = set()
    for i in range(start, len(items)):
        x = items[i].id
        if x in known or x in seen:
            raise ProblemError(f"{what}[{i}].id", f"duplicate id {x!r}")
        seen.add(x)


def _unique(ids: list[str], what: str) -> None:
    seen: set[str] = set()
    for i, x in enumerate(ids):
        if x in seen:
            raise ProblemError(f"{what}[{i}].id", f"duplicate id {x!r}")
        seen.add(x)


def _kept(old: tuple, new: tuple) -> int:
    """How many of ``new``'s first items are ``old``'s, unchanged (all of ``old`` or none)."""
    n = len(old)
    return n if len(new) >= n and all(a is b for a, b in zip(old, new, strict=False)) else 0


def validate(problem: Problem, *, base: Problem | None = None) -> None:
    """Raise :class:`ProblemError` if ``problem`` is inconsistent; return None if it is fine.

    ``base``: a valid problem whose locations and orders ``problem`` starts with (the same
    objects, e.g. a plan's problem grown by a new order). Those locations and orders are not
    checked one by one again; ids, vehicles and what refers across them still are.
    """
    if not isinstance(problem, Problem):
        raise ProblemError("problem", f"expected a Problem, got {type(problem).__name__}")
    same_vehicles = base is not None and {v.id for v in base.vehicles} == {
        v.id for v in problem.vehicles
    }
    kept_locs = _kept(base.locations, problem.locations) if base is not None else 0
    kept_orders = _kept(base.orders, problem.orders) if same_vehicles and kept_locs else 0
    for i, loc in enumerate(problem.locations[kept_locs:], start=kept_locs):
        if not isinstance(loc, Location):
            raise ProblemError(f"locations[{i}]", "expected a Location")
        _check_location(i, loc)
    if kept_locs:
        _unique_after(problem.locations, kept_locs, base.location_index, "locations")  # type: ignore[union-attr]
    else:
        _unique([loc.id for loc in problem.locations], "locations")
    locs = problem.location_index.keys()
    base_vehicles = base.vehicles if base is not None and kept_locs else ()
    for i, v in enumerate(problem.vehicles):
        if i < len(base_vehicles) and v is base_vehicles[i]:
            continue  # checked in the base, against locations that are all still there
        if not isinstance(v, Vehicle):
            raise ProblemError(f"vehicles[{i}]", "expected a Vehicle")
        _check_vehicle(i, v, locs)
    _unique([v.id for v in problem.vehicles], "vehicles")
    vids = {v.id for v in problem.vehicles}
    for i, o in enumerate(problem.orders[kept_orders:], start=kept_orders):
        if not isinstance(o, Order):
            raise ProblemError(f"orders[{i}]", "expected an Order")
        _check_order(i, o, locs, vids)
    if kept_orders:
        _unique_after(problem.orders, kept_orders, base.order_by_id, "orders")  # type: ignore[union-attr]
    else:
        _unique([o.id for o in problem.orders], "orders")
    if problem.vehicle_fixed_cost is not None:
        _int(problem.vehicle_fixed_cost, "vehicle_fixed_cost")
    _int(problem.target_cost, "target_cost")
    _int(problem.now, "now", minimum=None)

    orders = problem.order_by_id
    carried: dict[str, str] = {}
    locked: dict[StopRef, str] = {}
    for i, v in enumerate(problem.vehicles):
        for j, oid in enumerate(v.onboard):
            if oid not in orders:
                raise ProblemError(f"vehicles[{i}].onboard[{j}]", f"unknown order id {oid!r}")
            if oid in carried:
                raise ProblemError(
                    f"vehicles[{i}].onboard[{j}]", f"order {oid!r} is on two vehicles"
                )
            carried[oid] = v.id
            pin = orders[oid].pinned_vehicle
            if pin is not None and pin != v.id:
                raise ProblemError(
                    f"vehicles[{i}].onboard[{j}]", f"order {oid!r} is pinned to {pin!r}"
                )
    for i, v in enumerate(problem.vehicles):
        for j, ref in enumerate(v.locked_stops):
            f = f"vehicles[{i}].locked_stops[{j}]"
            if ref.order_id not in orders:
                raise ProblemError(f, f"unknown order id {ref.order_id!r}")
            try:
                role = Role(ref.role)
            except ValueError:
                raise ProblemError(f, f"unknown role {ref.role!r}") from None
            order = orders[ref.order_id]
            if role not in (Role.PICKUP, Role.DELIVERY):
                raise ProblemError(f, "a locked stop is a pickup or a delivery")
            if role is Role.PICKUP and (not order.has_pickup_stop or ref.order_id in carried):
                raise ProblemError(f, f"order {ref.order_id!r} has no pickup stop to lock")
            if ref in locked:
                raise ProblemError(f, f"stop {ref} is locked twice")
            carrier = carried.get(ref.order_id)
            if carrier is not None and carrier != v.id:
                raise ProblemError(f, f"order {ref.order_id!r} is on vehicle {carrier!r}")
            pin = order.pinned_vehicle
            if pin is not None and pin != v.id:
                raise ProblemError(f, f"order {ref.order_id!r} is pinned to {pin!r}")
            locked[ref] = v.id
        # a locked delivery of a pickup order needs its pickup locked before it (or on board)
        seen: set[StopRef] = set()
        for j, ref in enumerate(v.locked_stops):
            order = orders[ref.order_id]
            if (
                ref.role == Role.DELIVERY
                and order.has_pickup_stop
                and ref.order_id not in carried
                and StopRef(ref.order_id, Role.PICKUP) not in seen
            ):
                raise ProblemError(
                    f"vehicles[{i}].locked_stops[{j}]",
                    f"delivery of {ref.order_id!r} is locked before its pickup",
                )
            seen.add(ref)
    for ref, vid in locked.items():
        if ref.role == Role.PICKUP:
            d = StopRef(ref.order_id, Role.DELIVERY)
            if d in locked and locked[d] != vid:
                raise ProblemError("vehicles.locked_stops", f"order {ref.order_id!r} split")
