"""Delivery-window quotes against the current plan.

A window class is offered only if the new order can be inserted into the current plan (its
pickup, if any, then its delivery) without breaking any later stop's deadline, a capacity or a
shift, and reach the address by ``now + window`` after the zone's safety margin. Build a
:class:`PromiseIndex` once per plan (per-route slack arrays); each :meth:`PromiseIndex.quote`
is then a few vectorised checks per route. :meth:`PromiseIndex.apply` re-verifies the chosen
insertion from scratch and returns the index of the updated plan, built incrementally
(:meth:`PromiseIndex.commit` returns the updated problem and plan).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from delivery._context import Context
from delivery.check import check_route
from delivery.errors import InsertionError, ProblemError
from delivery.insertion import Candidates, RouteState
from delivery.model import REASONS, Location, Order, OrderKind, Plan, Problem, Role, StopRef


@dataclass(frozen=True)
class WindowClass:
    """A guaranteed delivery window: deadline = order time + ``seconds``."""

    code: str
    seconds: int
    fee_fen: int = 0


DEFAULT_WINDOW_CLASSES: tuple[WindowClass, ...] = (
    WindowClass("2h", 2 * 3600),
    WindowClass("6h", 6 * 3600),
    WindowClass("12h", 12 * 3600),
    WindowClass("18h", 18 * 3600),
)


@dataclass(frozen=True)
class Insertion:
    """Where the new order goes: indices into the vehicle's stop list (before insertion)."""

    vehicle_id: str
    pickup_index: int | None
    delivery_index: int
    eta: int  # planned arrival at the delivery address (s from the epoch)
    added_distance: int


@dataclass(frozen=True)
class Quote:
    window: str
    feasible: bool
    deadline: int
    fee_fen: int
    eta: int | None = None  # earliest planned arrival among feasible insertions
    reason_code: str | None = None
    reason: str = ""
    insertion: Insertion | None = None


def latest_departure(st: RouteState) -> int | None:
    """The latest start of a route that keeps every stop on time and the shift end (None when
    no start at or after the vehicle's shift start does, or a load exceeds a capacity)."""
    latest = int(st.latest[0])
    vehicle = st.vi.vehicle
    if latest < vehicle.shift_start or not bool(np.all(st.load_w <= st.vi.cap_w)):
        return None
    return latest


def loaded_at_depot(problem: Problem, refs: Sequence[StopRef]) -> tuple[str, ...]:
    """The orders of a route whose goods a van loads at its depot before it leaves."""
    orders = problem.order_by_id
    return tuple(
        r.order_id
        for r in refs
        if r.role == Role.DELIVERY and orders[r.order_id].kind is OrderKind.DELIVERY
    )


def _leave(st: RouteState, keep_slack: int, earliest: int) -> int | None:
    """When a van at its depot with this route leaves: ``keep_slack`` before its latest
    departure, not before ``earliest`` (None: it has no route, or no start keeps it)."""
    latest = latest_departure(st) if st.k and not st.vi.vehicle.departed else None
    if latest is None or latest < earliest:
        return None
    return max(earliest, latest - keep_slack)


def departures(
    problem: Problem,
    routes: dict[str, Sequence[StopRef]],
    now: int,
    keep_slack: int = 0,
    earliest: dict[str, int] | None = None,
) -> dict[str, int]:
    """Vehicles still at their depot whose route (``routes``) had to start before ``now`` (see
    :meth:`PromiseIndex.at`; not before their shift, nor before ``earliest`` per vehicle, when
    their goods were last loaded): vehicle id -> when it left."""
    index = PromiseIndex.from_routes(problem, routes)
    earliest = earliest or {}
    out = {}
    for st in index.states:
        vehicle = st.vi.vehicle
        leave = _leave(st, keep_slack, max(vehicle.shift_start, earliest.get(vehicle.id, 0)))
        if leave is not None and leave < now:
            out[st.vi.vehicle.id] = leave
    return out


def _classes(window_classes: Iterable[WindowClass | tuple]) -> list[WindowClass]:
    out = []
    for c in window_classes:
        out.append(c if isinstance(c, WindowClass) else WindowClass(*c))
    return out


class PromiseIndex:
    """Per-route slack arrays of one plan, for fast quotes."""

    def __init__(self, problem: Problem, plan: Plan):
        ctx = Context(problem)
        by_vehicle = {r.vehicle_id: r for r in plan.routes}
        states: list[RouteState] = []
        for v, vi in enumerate(ctx.vehicles):
            route = by_vehicle.get(vi.vehicle.id)
            refs = []
            if route is not None:
                refs = [StopRef(x.order_id or "", Role(x.role)) for x in route.stops]
            states.append(RouteState(ctx, v, refs))
        self._bind(problem, plan, ctx, states)

    @classmethod
    def from_routes(cls, problem: Problem, routes: dict[str, Sequence[StopRef]]) -> PromiseIndex:
        """The index of the plan that visits ``routes`` (vehicle id -> stops; stops the problem
        does not know are left out), scheduled at the earliest times."""
        ctx = Context(problem)
        states, plan_routes = [], []
        for v, vi in enumerate(ctx.vehicles):
            refs = [r for r in routes.get(vi.vehicle.id, ()) if r in ctx.stops]
            states.append(RouteState(ctx, v, refs))
            plan_routes.append(ctx.schedule(v, refs))
        return cls._of(problem, Plan(routes=tuple(plan_routes)), ctx, states)

    def _bind(self, problem: Problem, plan: Plan, ctx: Context, states: list[RouteState]) -> None:
        self.problem = problem
        self.plan = plan
        self.ctx = ctx
        self.matrix = ctx.matrix
        self.states = states
        self.speeds = sorted({vi.speed for vi in ctx.vehicles})

    @classmethod
    def _of(
        cls, problem: Problem, plan: Plan, ctx: Context, states: list[RouteState]
    ) -> PromiseIndex:
        index = cls.__new__(cls)
        index._bind(problem, plan, ctx, states)
        return index

    def at(self, now: int, keep_slack: int = 0) -> PromiseIndex:
        """This index as it stands at ``now``. A vehicle still at its depot waits there, taking
        goods for new orders, while its promises allow: one that would have started before
        ``now`` starts at ``now`` (quotes do not depend on how long ago the index was built).
        When waiting until ``now`` would make one of its stops late, it must have left at the
        latest start that keeps them all (:meth:`latest_departure`) less ``keep_slack`` (not
        before its start): it is ``departed`` from then on (no more depot goods, never re-timed
        again). ``keep_slack`` keeps ETAs that much ahead of the tightest deadline, at the cost
        of depot capacity for later orders. Matrices, stops and the other
        routes are reused; the changed vehicles' routes are rescheduled. Returns ``self`` when
        no vehicle changes.
        """
        vehicles = list(self.problem.vehicles)
        for k, v in enumerate(vehicles):
            if v.departed or v.start_time >= now:
                continue
            st = self.states[k]
            leave = _leave(st, keep_slack, v.start_time)
            if leave is not None and leave < now:  # it left with the depot goods of its route
                vehicles[k] = replace(v, available_from=leave, departed=True,
                                      onboard=(*v.onboard, *loaded_at_depot(self.problem, st.refs)))
            else:
                vehicles[k] = replace(v, available_from=now)
        retimed = [k for k, v in enumerate(vehicles) if v is not self.problem.vehicles[k]]
        if not retimed:
            return self
        problem = replace(self.problem, vehicles=tuple(vehicles))
        ctx = Context(problem, base=self.ctx)
        states = [
            RouteState(ctx, k, state.refs) if k in retimed else state.rebased(ctx)
            for k, state in enumerate(self.states)
        ]
        routes = {vehicles[k].id: ctx.schedule(k, states[k].refs) for k in retimed}
        plan = replace(
            self.plan, routes=tuple(routes.get(r.vehicle_id, r) for r in self.plan.routes)
        )
        return PromiseIndex._of(problem, plan, ctx, states)

    def latest_departure(self, k: int) -> int | None:
        """The latest start of vehicle ``k``'s route that keeps every stop on time and the
        shift (None when no start within its shift does, or a load is too much)."""
        return latest_departure(self.states[k])

    # -- vectors between the route positions and a (possibly new) location ------------------
    def _location(self, loc_id: str | None, extra: dict[str, Location], field: str) -> Location:
        if loc_id is None:
            raise ProblemError(field, "missing location")
        i = self.ctx.loc_index.get(loc_id)
        if i is not None:
            return self.problem.locations[i]
        if loc_id in extra:
            return extra[loc_id]
        raise ProblemError(field, f"unknown location id {loc_id!r}")

    def _vectors(self, x: Location) -> dict[float | str, tuple[np.ndarray, np.ndarray]]:
        """(to_x, from_x) over all problem locations, per speed, and distances under 'd'."""
        locs = self.problem.locations
        i = self.ctx.loc_index.get(x.id)
        out: dict[float | str, tuple[np.ndarray, np.ndarray]] = {}
        if i is not None and self.problem.locations[i] == x:
            out["d"] = (self.ctx.dist[:, i], self.ctx.dist[i, :])
            for s in self.speeds:
                m = self.ctx.dur(s)
                out[s] = (m[:, i], m[i, :])
            return out
        one = (x,)  # (the same tuples for every matrix: a provider may reuse what it computed)
        out["d"] = (
            np.asarray(self.matrix.distances(locs, one))[:, 0],
            np.asarray(self.matrix.distances(one, locs))[0, :],
        )
        for s in self.speeds:
            out[s] = (
                np.asarray(self.matrix.durations(locs, one, s))[:, 0],
                np.asarray(self.matrix.durations(one, locs, s))[0, :],
            )
        return out

    def _eligible(self, order: Order) -> list[int]:
        out = []
        for v, vi in enumerate(self.ctx.vehicles):
            if order.pinned_vehicle is not None and vi.vehicle.id != order.pinned_vehicle:
                continue
            if order.kind is OrderKind.DELIVERY:
                source = (
                    self.ctx.loc_index.get(order.pickup) if order.pickup is not None else vi.depot
                )
                if vi.origin != source or vi.vehicle.departed:
                    continue
            out.append(v)
        return out

    def _bookable(self, order: Order) -> list[int]:
        """The vehicles that may take ``order`` and whose route keeps every promise now: a
        route with a late stop takes no new order (:meth:`apply` would refuse it)."""
        return [v for v in self._eligible(order) if self.states[v].feasible]

    def candidates(
        self,
        order: Order,
        due: int,
        *,
        now: int,
        locations: Sequence[Location] = (),
    ) -> list[tuple[int, Candidates]]:
        """Feasible insertions per vehicle for ``order`` with delivery deadline ``due``."""
        extra = {loc.id: loc for loc in locations}
        dloc = self._location(order.delivery, extra, "order.delivery")
        dvec = self._vectors(dloc)
        d_service = order.delivery_service + dloc.service_time
        d_ready = max(order.delivery_window[0], now)
        out = []
        if order.kind is OrderKind.DELIVERY:
            for v in self._bookable(order):
                st = self.states[v]
                to_x, from_x = dvec[st.vi.speed]
                dto, dfrom = dvec["d"]
                c = st.insert_delivery(
                    to_x[st.loc], from_x[st.loc], dto[st.loc], dfrom[st.loc],
                    d_ready, due, d_service, order.weight, order.volume, now=now,
                )  # fmt: skip
                if len(c):
                    out.append((v, c))
            return out
        ploc = self._location(order.pickup, extra, "order.pickup")
        pvec = self._vectors(ploc)
        p_service = order.pickup_service + ploc.service_time
        p_ready, p_due = order.pickup_window
        p_due = due if p_due is None else min(p_due, due)
        pd_dist = int(np.asarray(self.matrix.distances([ploc], [dloc]))[0, 0])
        pd_time = {
            s: int(np.asarray(self.matrix.durations([ploc], [dloc], s))[0, 0]) for s in self.speeds
        }
        for v in self._bookable(order):
            st = self.states[v]
            s = st.vi.speed
            p = (
                pvec[s][0][st.loc], pvec[s][1][st.loc], pvec["d"][0][st.loc], pvec["d"][1][st.loc],
                max(p_ready, now), p_due, p_service,
            )  # fmt: skip
            d = (
                dvec[s][0][st.loc], dvec[s][1][st.loc], dvec["d"][0][st.loc], dvec["d"][1][st.loc],
                d_ready, due, d_service,
            )  # fmt: skip
            c = st.insert_pair(p, d, pd_time[s], pd_dist, order.weight, order.volume, now=now)
            if len(c):
                out.append((v, c))
        return out

    def quote(
        self,
        order: Order,
        window_classes: Iterable[WindowClass | tuple] = DEFAULT_WINDOW_CLASSES,
        *,
        now: int,
        margin_seconds: int = 0,
        margin_factor: float = 1.0,
        locations: Sequence[Location] = (),
    ) -> list[Quote]:
        """One :class:`Quote` per window class for ``order`` placed at ``now``.

        ``order.deadline`` is ignored (each class sets it). The zone's learned safety margin
        applies to the new stop: a class is feasible if
        ``now + (eta - now) * margin_factor + margin_seconds <= now + class.seconds``.
        ``locations`` supplies the new order's address (and cooperative) when they are not
        in the plan's problem.
        """
        classes = _classes(window_classes)
        if not classes:
            return []
        latest_deadline = now + max(c.seconds for c in classes)
        per_vehicle = self.candidates(order, latest_deadline, now=now, locations=locations)
        flat: list[tuple[int, int, int, int, int, int]] = []  # eta_eff, cost, v, i, j, eta
        for v, c in per_vehicle:
            eta_eff = now + np.ceil((c.eta - now) * margin_factor).astype(np.int64)
            eta_eff += margin_seconds
            flat.extend(
                zip(
                    eta_eff.tolist(), c.cost.tolist(), [v] * len(c), c.i.tolist(),
                    c.j.tolist(), c.eta.tolist(), strict=True,
                )
            )  # fmt: skip
        quotes = []
        empty_reason = None if flat else self._why_not(order, now, latest_deadline, locations)
        for cls in classes:
            deadline = now + cls.seconds
            ok = [f for f in flat if f[0] <= deadline]
            if not ok:
                code = empty_reason or self._late_reason(order, now, deadline)
                earliest = min((f[5] for f in flat), default=None)
                quotes.append(
                    Quote(cls.code, False, deadline, cls.fee_fen, earliest, code, REASONS[code])
                )
                continue
            # cheapest insertion that keeps this class; ETA reported is the earliest possible
            _, cost, v, i, j, eta = min(ok, key=lambda f: (f[1], f[0]))
            earliest = min(f[5] for f in ok)
            st = self.states[v]
            ins = Insertion(
                st.vi.vehicle.id, None if order.kind is OrderKind.DELIVERY else i, j, eta, cost
            )
            quotes.append(Quote(cls.code, True, deadline, cls.fee_fen, earliest, None, "", ins))
        return quotes

    def _late_reason(self, order: Order, now: int, deadline: int) -> str:
        """Why the insertions found all arrive after ``deadline``: no van starts its shift in
        time, the goods wait at a cooperative, or the vans cannot get there sooner."""
        starts = [
            max(self.ctx.vehicles[v].start_time, now) for v in self._eligible(order)
        ]
        if starts and min(starts) >= deadline:
            return "before_shift"
        if order.kind is not OrderKind.DELIVERY:
            return "goods_at_cooperative"
        return "no_vehicle_reaches_in_time"

    def _why_not(self, order: Order, now: int, due: int, locations: Sequence[Location]) -> str:
        elig = self._eligible(order)
        if not elig:
            return "no_vehicle"
        vis = self.ctx.vehicles
        if all(order.weight > vis[v].cap_w or order.volume > vis[v].cap_v for v in elig):
            return "capacity"
        extra = {loc.id: loc for loc in locations}
        dloc = self._location(order.delivery, extra, "order.delivery")
        vec = self._vectors(dloc)
        if all(vec["d"][0][vis[v].depot] >= 10**9 for v in elig):
            return "unreachable"
        if all(vis[v].shift_end <= now for v in elig):
            return "shift_ends"
        return "fleet_busy"

    # -- commit -------------------------------------------------------------------------------
    def apply(
        self,
        order: Order,
        insertion: Insertion,
        *,
        now: int,
        locations: Sequence[Location] = (),
        margin_seconds: int = 0,
        margin_factor: float = 1.0,
    ) -> PromiseIndex:
        """Insert ``order`` (with its promised ``deadline`` set) as ``insertion`` says and
        return the index of the new plan (its ``problem`` and ``plan`` are the updated ones).

        Re-verifies the affected route from scratch (and checks it with
        :func:`delivery.check.check_route`); raises :class:`InsertionError` if the insertion no
        longer keeps every promise. This index is left as it was. The new one is built
        incrementally: the travel matrices grow by the new locations only, and the other
        vehicles' routes (unchanged) keep their slack arrays.
        """
        if order.deadline is None and not order.optional:
            raise ProblemError("order.deadline", "commit needs the promised deadline")
        if order.id in self.problem.order_by_id:
            raise ProblemError("order.id", f"order {order.id!r} is already in the plan")
        new_locs = [loc for loc in locations if loc.id not in self.ctx.loc_index]
        vehicles = list(self.problem.vehicles)
        v = next((k for k, vi in enumerate(vehicles) if vi.id == insertion.vehicle_id), None)
        if v is None:
            raise ProblemError("insertion.vehicle_id", f"unknown vehicle {insertion.vehicle_id!r}")
        st = self.states[v]
        if v not in self._eligible(order):
            raise InsertionError("no_vehicle", f"{insertion.vehicle_id!r} cannot take {order.id!r}")
        if st.k == 0 and vehicles[v].start_time < now:
            # an idle vehicle leaves now, not at the (past) start of its shift
            vehicles[v] = replace(vehicles[v], available_from=now)
        problem = replace(
            self.problem,
            locations=(*self.problem.locations, *new_locs),
            vehicles=tuple(vehicles),
            orders=(*self.problem.orders, order),
        )
        ctx = Context(problem, base=self.ctx)
        refs = ctx.order_stops[order.id]
        if len(refs) == 2 and insertion.pickup_index is None:
            raise InsertionError("bad_insertion", "a pickup order needs a pickup index")
        i = insertion.pickup_index if len(refs) == 2 else insertion.delivery_index
        seq = st.inserted(refs, i, insertion.delivery_index)  # type: ignore[arg-type]
        route = ctx.schedule(v, seq)
        old = self.plan.route_of(vehicles[v].id)
        old_late = {(x.order_id, x.role) for x in old.visits if x.late > 0} if old else set()
        if any(x.late > 0 and (x.order_id, x.role) not in old_late for x in route.visits):
            raise InsertionError("no_longer_feasible", "the insertion makes a stop late")
        new_visit = next(
            x for x in route.visits if x.order_id == order.id and x.role == Role.DELIVERY
        )
        if order.deadline is not None:
            eta_eff = now + int(np.ceil((new_visit.arrival - now) * margin_factor))
            if eta_eff + margin_seconds > order.deadline:
                raise InsertionError("no_longer_feasible", "the promised deadline is not kept")
        routes = []
        for r in self.plan.routes:
            routes.append(route if r.vehicle_id == vehicles[v].id else r)
        if vehicles[v].id not in {r.vehicle_id for r in routes}:
            routes.append(route)
        plan = replace(self.plan, routes=tuple(routes))
        problems = check_route(problem, route)
        if problems:
            raise InsertionError("no_longer_feasible", str(problems[0]))
        states = [
            RouteState(ctx, k, seq) if k == v else state.rebased(ctx)
            for k, state in enumerate(self.states)
        ]
        return PromiseIndex._of(problem, plan, ctx, states)

    def with_routes(
        self,
        routes: dict[str, Sequence[StopRef]],
        *,
        orders: Sequence[Order] = (),
        locations: Sequence[Location] = (),
    ) -> PromiseIndex:
        """This index with the visiting order of some vehicles replaced, e.g. by orders that
        another process inserted, read back from storage. ``orders`` and ``locations`` that the
        problem does not know yet are added; the vehicles in ``routes`` (vehicle id -> stops)
        are rescheduled and the other routes keep their slack arrays. Nothing is re-verified:
        the routes are what was committed. Raises :class:`ProblemError` for an unknown vehicle
        or stop.
        """
        known = self.problem.order_by_id
        problem = replace(
            self.problem,
            locations=(
                *self.problem.locations,
                *(loc for loc in locations if loc.id not in self.ctx.loc_index),
            ),
            orders=(*self.problem.orders, *(o for o in orders if o.id not in known)),
        )
        ctx = Context(problem, base=self.ctx)
        index_of = {vi.vehicle.id: k for k, vi in enumerate(ctx.vehicles)}
        changed: dict[int, list[StopRef]] = {}
        for vehicle_id, refs in routes.items():
            if vehicle_id not in index_of:
                raise ProblemError("routes", f"unknown vehicle {vehicle_id!r}")
            unknown = [r for r in refs if r not in ctx.stops]
            if unknown:
                raise ProblemError("routes", f"unknown stop {unknown[0]} on {vehicle_id!r}")
            changed[index_of[vehicle_id]] = list(refs)
        states = [
            RouteState(ctx, k, changed[k]) if k in changed else state.rebased(ctx)
            for k, state in enumerate(self.states)
        ]
        by_vehicle = {r.vehicle_id: r for r in self.plan.routes}
        for k, refs in changed.items():
            by_vehicle[ctx.vehicles[k].vehicle.id] = ctx.schedule(k, refs)
        plan_routes = tuple(
            by_vehicle[v.id] for v in problem.vehicles if v.id in by_vehicle
        )
        return PromiseIndex._of(problem, replace(self.plan, routes=plan_routes), ctx, states)

    def commit(
        self,
        order: Order,
        insertion: Insertion,
        *,
        now: int,
        locations: Sequence[Location] = (),
        margin_seconds: int = 0,
        margin_factor: float = 1.0,
    ) -> tuple[Problem, Plan]:
        """Like :meth:`apply`, returning the new problem and plan (other routes unchanged)."""
        index = self.apply(
            order,
            insertion,
            now=now,
            locations=locations,
            margin_seconds=margin_seconds,
            margin_factor=margin_factor,
        )
        return index.problem, index.plan


def quote(
    problem: Problem | PromiseIndex,
    plan: Plan | None,
    new_order: Order,
    window_classes: Iterable[WindowClass | tuple] = DEFAULT_WINDOW_CLASSES,
    *,
    now: int,
    margin_seconds: int = 0,
    margin_factor: float = 1.0,
    locations: Sequence[Location] = (),
) -> list[Quote]:
    """Quotes for ``new_order``; pass a :class:`PromiseIndex` to reuse its precomputation."""
    if isinstance(problem, PromiseIndex):
        index = problem
    else:
        if plan is None:
            raise ProblemError("plan", "quoting needs the current plan")
        index = PromiseIndex(problem, plan)
    return index.quote(
        new_order,
        window_classes,
        now=now,
        margin_seconds=margin_seconds,
        margin_factor=margin_factor,
        locations=locations,
    )


def commit(
    index: PromiseIndex,
    order: Order,
    insertion: Insertion,
    *,
    now: int,
    locations: Sequence[Location] = (),
    margin_seconds: int = 0,
    margin_factor: float = 1.0,
) -> tuple[Problem, Plan]:
    """Re-verify and apply an insertion (see :meth:`PromiseIndex.commit`)."""
    return index.commit(
        order,
        insertion,
        now=now,
        locations=locations,
        margin_seconds=margin_seconds,
        margin_factor=margin_factor,
    )
