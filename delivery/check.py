"""Independent plan checker.

Recomputes every route from the problem and its travel matrix alone (it does not use the
solver's model or helpers) and lists what is wrong: deadlines and windows, shifts, weight and
volume loads along the route (with pickups and deliveries), pickup before delivery on the same
vehicle, pins, depots, locked prefixes, and that every order is either routed exactly once or
reported as unassigned with a known reason. An empty list means the plan is feasible.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace

import numpy as np

from delivery.model import REASONS, OrderKind, Plan, Problem, Role, Route, StopRef


@dataclass(frozen=True)
class Violation:
    """What is wrong, where, and by how much: ``amount`` in ``unit`` ("s" late, "g" or "cm3"
    over capacity) and ``position``, the 0-based index of the stop on its route, where the
    violation is at one stop (so a caller can word it without parsing ``message``)."""

    code: str
    message: str
    vehicle_id: str | None = None
    order_id: str | None = None
    amount: int = 0
    unit: str = ""
    position: int | None = None

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


def check(problem: Problem, plan: Plan, *, check_times: bool = True) -> list[Violation]:
    """Return the violations of ``plan`` against ``problem`` (empty list: feasible).

    ``check_times`` also compares the plan's stated arrival times and distances with the
    recomputed ones.
    """
    out: list[Violation] = []

    def bad(code: str, msg: str, vid: str | None = None, oid: str | None = None, **detail) -> None:
        out.append(Violation(code, msg, vid, oid, **detail))

    def over(load_w: int, load_v: int, cap_w: int, cap_v: int | None) -> dict:
        if load_w > cap_w:
            return {"amount": load_w - cap_w, "unit": "g"}
        return {"amount": load_v - (cap_v or 0), "unit": "cm3"}

    matrix = problem.travel_matrix()
    locs = problem.locations
    index = {loc.id: i for i, loc in enumerate(locs)}
    dist = np.asarray(matrix.distances(locs, locs))
    durs: dict[float, np.ndarray] = {}
    orders = {o.id: o for o in problem.orders}
    vehicles = {v.id: v for v in problem.vehicles}
    carrier = {oid: v.id for v in problem.vehicles for oid in v.onboard}
    committed = set(carrier) | {r.order_id for v in problem.vehicles for r in v.locked_stops}

    seen_stops: Counter[StopRef] = Counter()
    stop_vehicle: dict[StopRef, str] = {}
    stop_pos: dict[StopRef, int] = {}
    route_vehicles: Counter[str] = Counter()

    for route in plan.routes:
        vid = route.vehicle_id
        route_vehicles[vid] += 1
        v = vehicles.get(vid)
        if v is None:
            bad("unknown_vehicle", f"route for unknown vehicle {vid!r}", vid)
            continue
        stops = [x for x in route.visits if x.role in (Role.PICKUP, Role.DELIVERY)]
        if not stops and route.distance == 0:
            continue
        if v.speed_kmh not in durs:
            durs[v.speed_kmh] = np.asarray(matrix.durations(locs, locs, v.speed_kmh))
        dur = durs[v.speed_kmh]
        origin = v.start_location or v.depot
        ends = [x for x in route.visits if x.role in (Role.START, Role.END)]
        if (
            route.visits
            and route.visits[0].role == Role.START
            and route.visits[0].location != origin
        ):
            bad("wrong_start", f"route starts at {route.visits[0].location}, not {origin}", vid)
        if (
            route.visits
            and route.visits[-1].role == Role.END
            and route.visits[-1].location != v.depot
        ):
            bad("wrong_end", f"route ends at {route.visits[-1].location}, not {v.depot}", vid)
        if (
            len(ends) != 2
            or route.visits[0].role != Role.START
            or route.visits[-1].role != Role.END
        ):
            bad("malformed_route", "a route starts with START and ends with END", vid)

        # locked prefix
        refs = [StopRef(x.order_id or "", Role(x.role)) for x in stops]
        if tuple(refs[: len(v.locked_stops)]) != tuple(v.locked_stops):
            bad("locked_moved", f"locked stops of {vid} are not its first stops in order", vid)

        # loads: depot deliveries and on-board goods are loaded at the start
        load_w = load_v = 0
        for r in refs:
            o = orders.get(r.order_id)
            if o is None:
                continue
            if r.role == Role.DELIVERY and (o.kind is OrderKind.DELIVERY or o.id in carrier):
                load_w += o.weight
                load_v += o.volume

        t = v.shift_start if v.available_from is None else v.available_from
        here = index[origin]
        total = 0
        cap_v = v.capacity_volume
        if load_w > v.capacity_weight or (cap_v is not None and load_v > cap_v):
            bad("capacity", f"{vid} leaves overloaded ({load_w} g, {load_v} cm3)", vid,
                **over(load_w, load_v, v.capacity_weight, cap_v))
        for pos, (x, r) in enumerate(zip(stops, refs, strict=True)):
            o = orders.get(r.order_id)
            if o is None:
                bad("unknown_order", f"visit of unknown order {r.order_id!r}", vid)
                continue
            key = StopRef(o.id, r.role)
            seen_stops[key] += 1
            stop_vehicle[key] = vid
            stop_pos[key] = pos
            loc_id = o.pickup if r.role == Role.PICKUP else o.delivery
            if r.role == Role.PICKUP and o.kind is OrderKind.DELIVERY:
                bad("bad_stop", f"{o.id} is a depot delivery and has no pickup stop", vid, o.id)
                continue
            if r.role == Role.PICKUP and o.id in carrier:
                bad("bad_stop", f"{o.id} is already on board, it has no pickup", vid, o.id, position=pos)
            if x.location != loc_id:
                bad("wrong_location", f"{o.id} {r.role} at {x.location}, not {loc_id}", vid, o.id)
            li = index[loc_id]  # type: ignore[index]
            arrival = t + int(dur[here, li])
            total += int(dist[here, li])
            if r.role == Role.PICKUP:
                lo, hi = o.ready, (o.pickup_due if o.pickup_due is not None else o.deadline)
                service = o.pickup_service
            else:
                if o.kind is OrderKind.DELIVERY:
                    lo = o.ready if o.delivery_ready is None else o.delivery_ready
                else:
                    lo = o.delivery_ready or 0
                hi = o.deadline
                service = o.delivery_service
            service += locs[li].service_time
            start = max(arrival, lo)
            if hi is not None and start > hi:
                bad("late", f"{o.id} {r.role} starts at {start} after {hi}", vid, o.id,
                    amount=start - hi, unit="s", position=pos)
            if check_times and x.arrival != arrival:
                bad(
                    "time_mismatch",
                    f"{o.id} {r.role}: plan says {x.arrival}, is {arrival}",
                    vid,
                    o.id,
                )
            t = start + service
            here = li
            sign = 1 if r.role == Role.PICKUP else -1
            load_w += sign * o.weight
            load_v += sign * o.volume
            if load_w > v.capacity_weight or (cap_v is not None and load_v > cap_v):
                bad("capacity", f"{vid} overloaded after {o.id} {r.role}", vid, o.id,
                    position=pos, **over(load_w, load_v, v.capacity_weight, cap_v))
            if load_w < 0 or load_v < 0:
                bad("capacity", f"negative load after {o.id} {r.role}", vid, o.id)
            if o.pinned_vehicle is not None and o.pinned_vehicle != vid:
                bad("pin", f"{o.id} is pinned to {o.pinned_vehicle}, routed on {vid}", vid, o.id, position=pos)
            if o.id in carrier and carrier[o.id] != vid:
                bad("onboard", f"{o.id} is on {carrier[o.id]}, routed on {vid}", vid, o.id, position=pos)
            if o.kind is OrderKind.DELIVERY and o.id not in carrier and r.role == Role.DELIVERY:
                source = o.pickup or v.depot
                if origin != source or v.departed:
                    bad(
                        "wrong_depot",
                        f"{o.id} ships from {source}, {vid} starts at {origin}",
                        vid,
                        o.id,
                    )
        d_end = index[v.depot]
        arrival = t + int(dur[here, d_end])
        total += int(dist[here, d_end])
        if arrival > v.shift_end:
            bad("shift_ends", f"{vid} returns at {arrival} after its shift end {v.shift_end}", vid,
                amount=arrival - v.shift_end, unit="s")
        if check_times and route.visits and route.visits[-1].arrival != arrival:
            bad(
                "time_mismatch",
                f"{vid} end: plan says {route.visits[-1].arrival}, is {arrival}",
                vid,
            )
        if check_times and route.distance != total:
            bad("distance_mismatch", f"{vid}: plan says {route.distance}, is {total}", vid)

    for vid, n in route_vehicles.items():
        if n > 1:
            bad("duplicate_route", f"vehicle {vid} has {n} routes", vid)

    unassigned = Counter(u.order_id for u in plan.unassigned)
    for u in plan.unassigned:
        if u.order_id not in orders:
            bad(
                "unknown_order",
                f"unassigned entry for unknown order {u.order_id!r}",
                None,
                u.order_id,
            )
        if u.reason_code not in REASONS or not u.reason:
            bad("no_reason", f"{u.order_id} unassigned without a known reason", None, u.order_id)
    for o in problem.orders:
        needs = [StopRef(o.id, Role.DELIVERY)]
        if o.kind is not OrderKind.DELIVERY and o.id not in carrier:
            needs.insert(0, StopRef(o.id, Role.PICKUP))
        counts = [seen_stops[r] for r in needs]
        if unassigned[o.id] > 1:
            bad("duplicate_unassigned", f"{o.id} listed {unassigned[o.id]} times", None, o.id)
        if all(c == 0 for c in counts):
            if not unassigned[o.id]:
                bad("dropped", f"{o.id} is neither routed nor reported unassigned", None, o.id)
            elif o.id in committed:
                bad("dropped", f"{o.id} is on board or locked but not routed", None, o.id)
            continue
        if unassigned[o.id]:
            bad("routed_and_unassigned", f"{o.id} is routed and reported unassigned", None, o.id)
        if any(c != 1 for c in counts):
            bad("visit_count", f"{o.id} stops visited {counts} times", None, o.id)
            continue
        if len(needs) == 2:
            p, d = needs
            if stop_vehicle[p] != stop_vehicle[d]:
                bad("split", f"{o.id} picked up and delivered by different vehicles", None, o.id)
            elif stop_pos[p] > stop_pos[d]:
                bad("precedence", f"{o.id} delivered before it is picked up", stop_vehicle[p], o.id)
    return out


def check_route(problem: Problem, route: Route, *, check_times: bool = True) -> list[Violation]:
    """:func:`check` of one route on its own: the sub-problem of its vehicle, the orders it
    visits and their locations (as cheap as the route is short). Orders on other routes are
    not looked at."""
    vehicle = problem.vehicle_by_id[route.vehicle_id]
    known = problem.order_by_id
    orders = tuple(known[oid] for oid in route.order_ids if oid in known)
    used = {vehicle.depot, vehicle.origin}
    for o in orders:
        used.update(x for x in (o.pickup, o.delivery) if x is not None)
    sub = replace(
        problem,
        locations=tuple(loc for loc in problem.locations if loc.id in used),
        vehicles=(vehicle,),
        orders=orders,
        matrix=problem.travel_matrix(),
    )
    return check(sub, Plan(routes=(route,)), check_times=check_times)
