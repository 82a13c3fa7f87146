"""Compiled form of a :class:`Problem` shared by the solver, the fallback and the promise index.

Not part of the public API. (The checker in :mod:`delivery.check` deliberately does not use
it.)
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from delivery.matrix import UNREACHABLE, TravelMatrix
from delivery.model import (
    REASONS,
    Location,
    Order,
    OrderKind,
    Problem,
    Role,
    Route,
    StopRef,
    Unassigned,
    Vehicle,
    Visit,
)
from delivery.validate import _kept, validate


@dataclass(slots=True)
class StopInfo:
    ref: StopRef
    order: Order
    loc: int
    ready: int
    due: int
    service: int
    dw: int  # signed load change (weight)
    dv: int  # signed load change (volume)
    initial: bool  # its goods are on board when the route starts (depot delivery, on board)
    committed: bool  # locked or on board: must be visited, deadline is soft


@dataclass(slots=True)
class VehicleInfo:
    vehicle: Vehicle
    index: int
    origin: int
    depot: int
    start_time: int
    shift_end: int
    cap_w: int
    cap_v: int
    speed: float
    fixed_cost: int
    locked: list[StopRef] = field(default_factory=list)


BIG_VOLUME = 10**15


def _finite_max(d: np.ndarray) -> int:
    finite = d[d < UNREACHABLE]
    return int(finite.max()) if finite.size else 0


class _Square:
    """A square matrix in a buffer with room to grow: its first ``used`` rows and columns are
    filled, and every context holds a view of the first n (n <= used) of them. A context may
    write the next rows and columns in place only when its view is the largest (nobody grew
    past it yet); any other grows into a copy. So adding a location to a plan costs O(n),
    not an O(n²) copy, and no view ever sees its values change."""

    __slots__ = ("buf", "used")
    _claim = threading.Lock()

    def __init__(self, m: np.ndarray, room_for: int):
        n = m.shape[0]
        self.buf = np.empty((max(64, room_for + room_for // 2),) * 2, dtype=np.int64)
        self.buf[:n, :n] = m
        self.used = n

    def view(self, n: int) -> np.ndarray:
        return self.buf[:n, :n]

    def grown(
        self,
        n0: int,
        locs: Sequence[Location],
        between: Callable[[Sequence[Location], Sequence[Location]], np.ndarray],
        old: Sequence[Location] | None = None,
        new: Sequence[Location] | None = None,
    ) -> _Square:
        """The square holding the view of the first ``n0`` locations grown to all of ``locs``
        (only the new rows and columns are asked of the provider; ``old`` and ``new`` are
        ``locs[:n0]`` and ``locs[n0:]`` when the caller has them)."""
        n = len(locs)
        if n == n0:
            return self
        with _Square._claim:
            mine = self.used == n0 and self.buf.shape[0] >= n
            if mine:
                self.used = n
        sq = self if mine else _Square(self.view(n0), n)
        sq.used = n
        old = locs[:n0] if old is None else old
        new = locs[n0:] if new is None else new
        sq.buf[:n0, n0:n] = np.asarray(between(old, new), dtype=np.int64).reshape(n0, n - n0)
        sq.buf[n0:n, :n] = np.asarray(between(new, locs), dtype=np.int64).reshape(n - n0, n)
        return sq


class Context:
    """Matrices, stop nodes and eligibility of a validated problem."""

    def __init__(
        self, problem: Problem, matrix: TravelMatrix | None = None, *, base: Context | None = None
    ):
        """``base``: the context of a problem that ``problem`` grows by appending locations
        (so their indices hold) and orders; its vehicles may differ. Its travel matrix is used
        (``matrix`` is ignored) and its distance and duration matrices are reused: only the
        rows and columns of the added locations are computed. Orders it already had keep
        their stops and eligibility when the vehicles allow it, and are not validated again.
        """
        validate(problem, base=None if base is None else base.problem)
        self.problem = problem
        locs = problem.locations
        self.loc_index = problem.location_index
        n = len(locs)
        self._dur: dict[float, np.ndarray] = {}
        self._squares: dict[float | None, _Square] = {}  # None: distances; else a speed
        if base is None:
            self.matrix = matrix if matrix is not None else problem.travel_matrix()
            dist = np.asarray(self.matrix.distances(locs, locs), dtype=np.int64)
            self._squares[None] = _Square(dist, n)
            self._dmax = _finite_max(dist)
        else:
            n0 = len(base.problem.locations)
            if locs[:n0] != base.problem.locations:
                raise ValueError("the base context's locations must come first, unchanged")
            self.matrix = m = base.matrix
            old, new = locs[:n0], locs[n0:]  # (the same sequences for every matrix: see HaversineMatrix)
            for key, sq in list(base._squares.items()):
                if key is None:
                    self._squares[key] = sq.grown(n0, locs, m.distances, old, new)
                else:
                    self._squares[key] = sq.grown(n0, locs, lambda a, b, s=key: m.durations(a, b, s), old, new)
            grown = self._squares[None].view(n)
            self._dmax = max(base._dmax, _finite_max(grown[n0:, :]), _finite_max(grown[:n0, n0:]))
        self.dist = self._squares[None].view(n)
        for key, sq in self._squares.items():
            if key is not None:
                self._dur[key] = sq.view(n)
        self.horizon = max([v.shift_end for v in problem.vehicles] + [problem.now + 1, 1])
        self.vehicles: list[VehicleInfo] = []
        for i, v in enumerate(problem.vehicles):
            self.vehicles.append(
                VehicleInfo(
                    vehicle=v,
                    index=i,
                    origin=self.loc_index[v.origin],
                    depot=self.loc_index[v.depot],
                    start_time=v.start_time,
                    shift_end=v.shift_end,
                    cap_w=v.capacity_weight,
                    cap_v=BIG_VOLUME if v.capacity_volume is None else v.capacity_volume,
                    speed=float(v.speed_kmh),
                    fixed_cost=0,
                    locked=list(v.locked_stops),
                )
            )
        self.carrier: dict[str, int] = {}
        self.locked_on: dict[str, int] = {}
        for vi in self.vehicles:
            for oid in vi.vehicle.onboard:
                self.carrier[oid] = vi.index
            for ref in vi.locked:
                self.locked_on[ref.order_id] = vi.index

        self.stops: dict[StopRef, StopInfo] = {}
        self.order_stops: dict[str, list[StopRef]] = {}
        self.eligible: dict[str, list[int]] = {}
        # An order's stops and eligibility depend on it, the location indices (kept), the
        # horizon and where the vehicles are and what they carry.
        same_fleet = base is not None and (
            base.horizon == self.horizon
            and base.carrier == self.carrier
            and base.locked_on == self.locked_on
            and [(vi.vehicle.id, vi.origin, vi.depot, vi.vehicle.departed) for vi in base.vehicles]
            == [(vi.vehicle.id, vi.origin, vi.depot, vi.vehicle.departed) for vi in self.vehicles]
        )
        prior = base if same_fleet else None
        orders = problem.orders
        if prior is not None:
            k = _kept(prior.problem.orders, orders)
            if k:
                # appended to (the usual growth): the base's stops are taken over wholesale
                self.stops = dict(prior.stops)
                self.order_stops = dict(prior.order_stops)
                self.eligible = dict(prior.eligible)
                orders = orders[k:]
        for o in orders:
            if prior is not None and prior.problem.order_by_id.get(o.id) is o:
                refs = self.order_stops[o.id] = prior.order_stops[o.id]
                for ref in refs:
                    self.stops[ref] = prior.stops[ref]
                self.eligible[o.id] = prior.eligible[o.id]
            else:
                self._add_order(o)
        self._fixed_costs()

    def _add_order(self, o: Order) -> None:
        """The order's stop nodes and the vehicles that may serve it."""
        problem = self.problem
        refs = []
        committed = o.id in self.carrier or o.id in self.locked_on
        if o.has_pickup_stop and o.id not in self.carrier:
            lo, hi = o.pickup_window
            pl = problem.locations[self.loc_index[o.pickup]]  # type: ignore[index]
            ref = StopRef(o.id, Role.PICKUP)
            self.stops[ref] = StopInfo(
                ref,
                o,
                self.loc_index[pl.id],
                lo,
                self._due(hi),
                o.pickup_service + pl.service_time,
                o.weight,
                o.volume,
                False,
                committed,
            )
            refs.append(ref)
        lo, hi = o.delivery_window
        dl = problem.locations[self.loc_index[o.delivery]]
        ref = StopRef(o.id, Role.DELIVERY)
        initial = o.kind is OrderKind.DELIVERY or o.id in self.carrier
        self.stops[ref] = StopInfo(
            ref,
            o,
            self.loc_index[dl.id],
            lo,
            self._due(hi),
            o.delivery_service + dl.service_time,
            -o.weight,
            -o.volume,
            initial,
            committed,
        )
        refs.append(ref)
        self.order_stops[o.id] = refs
        self.eligible[o.id] = self._eligible(o)

    # -- matrices -----------------------------------------------------------------------
    def _due(self, hi: int | None) -> int:
        return self.horizon if hi is None else min(hi, self.horizon)

    def dur(self, speed: float) -> np.ndarray:
        m = self._dur.get(speed)
        if m is None:
            locs = self.problem.locations
            sq = _Square(np.asarray(self.matrix.durations(locs, locs, speed), dtype=np.int64), len(locs))
            self._squares[speed] = sq
            m = self._dur[speed] = sq.view(len(locs))
        return m

    def _eligible(self, o: Order) -> list[int]:
        if o.id in self.carrier:
            return [self.carrier[o.id]]
        if o.id in self.locked_on:
            return [self.locked_on[o.id]]
        out = []
        for vi in self.vehicles:
            if o.pinned_vehicle is not None and vi.vehicle.id != o.pinned_vehicle:
                continue
            if o.kind is OrderKind.DELIVERY:
                source = self.loc_index[o.pickup] if o.pickup is not None else vi.depot
                if vi.origin != source or vi.vehicle.departed:
                    continue
            out.append(vi.index)
        return out

    def _fixed_costs(self) -> None:
        dmax = self._dmax
        n_nodes = len(self.stops) + len(self.vehicles)
        self.distance_bound = max(1, dmax) * max(1, n_nodes) * 2
        default = self.problem.vehicle_fixed_cost
        if default is None:
            default = self.distance_bound + 1
        for vi in self.vehicles:
            fc = vi.vehicle.fixed_cost
            vi.fixed_cost = default if fc is None else fc
        total_fixed = sum(vi.fixed_cost for vi in self.vehicles)
        self.drop_penalty = min(10 * (total_fixed + self.distance_bound) + 10**6, 2**52)

    # -- diagnostics ----------------------------------------------------------------------
    def diagnose(self, order_id: str) -> str | None:
        """Why this order cannot be served even alone; None if one vehicle could do it alone."""
        o = self.problem.order_by_id[order_id]
        vs = self.eligible[order_id]
        if not vs:
            return "no_vehicle"
        if o.deadline is not None and o.deadline < self.problem.now:
            return "deadline_passed"
        vs = [
            v
            for v in vs
            if o.weight <= self.vehicles[v].cap_w and o.volume <= self.vehicles[v].cap_v
        ]
        if not vs:
            return "capacity"
        refs = self.order_stops[order_id]
        reachable = []
        for v in vs:
            vi = self.vehicles[v]
            path = [vi.origin] + [self.stops[r].loc for r in refs] + [vi.depot]
            if all(self.dist[a, b] < UNREACHABLE for a, b in zip(path, path[1:], strict=False)):
                reachable.append(v)
        if not reachable:
            return "unreachable"
        in_time = False
        for v in reachable:
            vi = self.vehicles[v]
            dur = self.dur(vi.speed)
            t, here, ok = vi.start_time, vi.origin, True
            for r in refs:
                s = self.stops[r]
                t = max(t + int(dur[here, s.loc]), s.ready)
                if t > s.due:
                    ok = False
                    break
                t += s.service
                here = s.loc
            if not ok:
                continue
            in_time = True
            if t + int(dur[here, vi.depot]) <= vi.shift_end:
                return None
        return "shift_ends" if in_time else "no_vehicle_reaches_in_time"

    def unassigned(self, order_id: str, code: str | None = None) -> Unassigned:
        if code is None:
            code = self.diagnose(order_id) or (
                "not_scheduled" if self.problem.order_by_id[order_id].optional else "fleet_busy"
            )
        return Unassigned(order_id, code, REASONS[code])

    # -- schedules ------------------------------------------------------------------------
    def schedule(self, v: int, refs: list[StopRef]) -> Route:
        """Earliest-time schedule of vehicle ``v`` visiting ``refs`` (start/end added)."""
        vi = self.vehicles[v]
        dur = self.dur(vi.speed)
        locs = self.problem.locations
        infos = [self.stops[r] for r in refs]
        load_w = sum(-s.dw for s in infos if s.initial)
        load_v = sum(-s.dv for s in infos if s.initial)
        locked = set(vi.locked)
        t = vi.start_time
        visits = [Visit(Role.START, locs[vi.origin].id, None, t, t, t, None, load_w, load_v)]
        here, dist = vi.origin, 0
        for s in infos:
            arrival = t + int(dur[here, s.loc])
            dist += int(self.dist[here, s.loc])
            start = max(arrival, s.ready)
            load_w += s.dw
            load_v += s.dv
            deadline = s.order.deadline if s.ref.role == Role.DELIVERY else s.order.pickup_due
            if s.ref.role == Role.PICKUP and deadline is None:
                deadline = s.order.deadline
            visits.append(
                Visit(
                    s.ref.role,
                    locs[s.loc].id,
                    s.order.id,
                    arrival,
                    start,
                    start + s.service,
                    deadline,
                    load_w,
                    load_v,
                    s.ref in locked,
                    max(0, start - s.due),
                )
            )
            t, here = start + s.service, s.loc
        arrival = t + int(dur[here, vi.depot])
        dist += int(self.dist[here, vi.depot])
        visits.append(
            Visit(
                Role.END,
                locs[vi.depot].id,
                None,
                arrival,
                arrival,
                arrival,
                vi.shift_end,
                load_w,
                load_v,
                False,
                max(0, arrival - vi.shift_end),
            )
        )
        return Route(vi.vehicle.id, tuple(visits), dist, arrival - vi.start_time)
