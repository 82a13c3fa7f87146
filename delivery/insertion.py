"""Cheap insertion checks with forward time slack (used by the fallback and the promise).

A :class:`RouteState` holds, for one scheduled route, the arrays that make an insertion
check O(1) per position: departure times, the latest feasible service start of every position
(``latest``: arriving there later would break a later deadline or the shift end), cumulative
waiting (a push-forward is absorbed by waiting), and the load after every position.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np

from delivery._context import Context, StopInfo
from delivery.model import Role, StopRef

INF = np.iinfo(np.int64).max // 4


@dataclass
class Candidates:
    """Feasible insertions: cost increase, ETA at the (delivery) stop, gaps i (pickup) and j."""

    cost: np.ndarray
    eta: np.ndarray
    i: np.ndarray
    j: np.ndarray

    @classmethod
    def empty(cls) -> Candidates:
        z = np.zeros(0, dtype=np.int64)
        return cls(z, z, z, z)

    def __len__(self) -> int:
        return len(self.cost)


class RouteState:
    """Slack arrays of vehicle ``v`` visiting ``refs`` (positions: 0 start, 1..k stops, k+1 end).

    Gap ``g`` means "insert between position g and g+1"; gaps before the end of the locked
    prefix are not offered.
    """

    def __init__(self, ctx: Context, v: int, refs: list[StopRef]):
        self.ctx, self.v, self.refs = ctx, v, list(refs)
        vi = ctx.vehicles[v]
        self.vi = vi
        infos = [ctx.stops[r] for r in refs]
        k = len(infos)
        self.k = k
        self.loc = np.array([vi.origin] + [s.loc for s in infos] + [vi.depot], dtype=np.int64)
        self.ready = np.array([vi.start_time] + [s.ready for s in infos] + [0], dtype=np.int64)
        self.due = np.array(
            [max(vi.shift_end, vi.start_time)] + [s.due for s in infos] + [vi.shift_end],
            dtype=np.int64,
        )
        self.service = np.array([0] + [s.service for s in infos] + [0], dtype=np.int64)
        dur = ctx.dur(vi.speed)
        self.dur = dur
        t_next = dur[self.loc[:-1], self.loc[1:]]
        self.d_next = ctx.dist[self.loc[:-1], self.loc[1:]]
        arr = np.empty(k + 2, dtype=np.int64)
        start = np.empty(k + 2, dtype=np.int64)
        arr[0] = start[0] = vi.start_time
        t = vi.start_time
        for p in range(1, k + 2):
            a = t + int(t_next[p - 1])
            arr[p] = a
            start[p] = max(a, int(self.ready[p]))
            t = int(start[p] + self.service[p])
        self.arr, self.start = arr, start
        self.dep = start + self.service
        latest = np.empty(k + 2, dtype=np.int64)
        latest[k + 1] = self.due[k + 1]
        for p in range(k, -1, -1):
            latest[p] = min(int(self.due[p]), int(latest[p + 1] - self.service[p] - t_next[p]))
        self.latest = latest
        self.W = np.cumsum(start - arr)
        self.slack_w = (self.due - start) + self.W
        init_w = sum(-s.dw for s in infos if s.initial)
        init_v = sum(-s.dv for s in infos if s.initial)
        self.load_w = init_w + np.concatenate([[0], np.cumsum([s.dw for s in infos]), [0]])
        self.load_v = init_v + np.concatenate([[0], np.cumsum([s.dv for s in infos]), [0]])
        self.load_w[-1] = self.load_w[-2] if k else init_w
        self.load_v[-1] = self.load_v[-2] if k else init_v
        n_locked = 0
        locked = vi.locked
        while n_locked < min(len(locked), k) and refs[n_locked] == locked[n_locked]:
            n_locked += 1
        self.first_gap = n_locked
        self.feasible = bool(np.all(start <= self.due)) and bool(np.all(self.load_w <= vi.cap_w))

    def rebased(self, ctx: Context) -> RouteState:
        """This route on ``ctx``, a context grown from this one's (more locations and orders,
        see :class:`Context`'s ``base``): the slack arrays, indexed by route position, are
        shared rather than recomputed, unless the vehicle itself changed."""
        if ctx.vehicles[self.v].vehicle != self.vi.vehicle:
            return RouteState(ctx, self.v, self.refs)
        out = copy.copy(self)
        out.ctx, out.vi = ctx, ctx.vehicles[self.v]
        out.dur = ctx.dur(out.vi.speed)
        return out

    @property
    def distance(self) -> int:
        return int(self.d_next.sum())

    # -- single delivery stop loaded at the route start --------------------------------------
    def insert_delivery(
        self,
        to_x: np.ndarray,
        from_x: np.ndarray,
        dto_x: np.ndarray,
        dfrom_x: np.ndarray,
        ready: int,
        due: int,
        service: int,
        weight: int,
        volume: int,
        now: int | None = None,
    ) -> Candidates:
        """Feasible gaps for a depot delivery; vectors are indexed by route position.

        With ``now``, the goods must be loaded before the route leaves its start (an idle
        vehicle leaves at ``now`` at the earliest).
        """
        vi = self.vi
        g = np.arange(self.first_gap, self.k + 1)
        dep = self.dep[g]
        if now is not None:
            if self.k == 0:
                dep = np.maximum(dep, now)
            elif self.dep[0] < now:
                return Candidates.empty()
        if len(g) == 0:
            return Candidates.empty()
        a = dep + to_x[g]
        s = np.maximum(a, ready)
        nxt = s + service + from_x[g + 1]
        ok = (s <= due) & (nxt <= self.latest[g + 1])
        # goods are on board from the start up to the new stop
        ok &= np.maximum.accumulate(self.load_w)[g] + weight <= vi.cap_w
        ok &= np.maximum.accumulate(self.load_v)[g] + volume <= vi.cap_v
        cost = dto_x[g] + dfrom_x[g + 1] - self.d_next[g]
        return Candidates(cost[ok], a[ok], g[ok], g[ok])

    # -- pickup then delivery, same vehicle -------------------------------------------------
    def insert_pair(
        self,
        p: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, int],
        d: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int, int, int],
        t_pd: int,
        d_pd: int,
        weight: int,
        volume: int,
        now: int | None = None,
    ) -> Candidates:
        """Feasible (i, j) gaps for a pickup at gap i and its delivery at gap j >= i.

        ``p``/``d``: (to, from, dist_to, dist_from, ready, due, service) per stop. With
        ``now``, gaps after a position the vehicle has already left are not offered (an idle
        vehicle leaves at ``now`` at the earliest).
        """
        vi = self.vi
        to_p, from_p, dto_p, dfrom_p, rp, up, sp_ = p
        to_d, from_d, dto_d, dfrom_d, rd, ud, sd_ = d
        k = self.k
        costs, etas, iis, jjs = [], [], [], []
        cap_w, cap_v = vi.cap_w - weight, vi.cap_v - volume
        for i in range(self.first_gap, k + 1):
            if self.load_w[i] > cap_w or self.load_v[i] > cap_v:
                continue
            dep_i = int(self.dep[i])
            if now is not None and dep_i < now:
                if self.k:
                    continue
                dep_i = now
            a_p = dep_i + int(to_p[i])
            s_p = max(a_p, rp)
            if s_p > up:
                continue
            dep_p = s_p + sp_
            # delivery right after the pickup
            a_d = dep_p + t_pd
            s_d = max(a_d, rd)
            if s_d <= ud and s_d + sd_ + from_d[i + 1] <= self.latest[i + 1]:
                costs.append(int(dto_p[i] + d_pd + dfrom_d[i + 1] - self.d_next[i]))
                etas.append(a_d)
                iis.append(i)
                jjs.append(i)
            if i == k:
                continue
            # delivery later: the pickup pushes positions i+1..j forward
            a1 = dep_p + int(from_p[i + 1])
            push1 = max(0, a1 - int(self.start[i + 1]))
            js = np.arange(i + 1, k + 1)
            base = push1 + int(self.W[i + 1])
            ok = np.minimum.accumulate(self.slack_w[i + 1 : k + 1]) >= base
            # loads on the arcs after positions i..j all carry the new goods
            ok &= np.maximum.accumulate(self.load_w[i : k + 1])[1:] <= cap_w
            ok &= np.maximum.accumulate(self.load_v[i : k + 1])[1:] <= cap_v
            if not ok[0]:
                continue
            push = np.maximum(0, push1 - (self.W[js] - self.W[i + 1]))
            a = self.dep[js] + push + to_d[js]
            s = np.maximum(a, rd)
            ok &= (s <= ud) & (s + sd_ + from_d[js + 1] <= self.latest[js + 1])
            if ok.any():
                c = (dto_p[i] + dfrom_p[i + 1] - self.d_next[i]) + (
                    dto_d[js] + dfrom_d[js + 1] - self.d_next[js]
                )
                costs.append(c[ok])
                etas.append(a[ok])
                iis.append(np.full(int(ok.sum()), i))
                jjs.append(js[ok])
        if not costs:
            return Candidates.empty()
        cat = lambda xs: np.concatenate([np.atleast_1d(np.asarray(x, dtype=np.int64)) for x in xs])  # noqa: E731
        return Candidates(cat(costs), cat(etas), cat(iis), cat(jjs))

    # -- helpers for stops already in the context -------------------------------------------
    def vectors(self, s: StopInfo) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        to_x = self.dur[self.loc, s.loc]
        from_x = self.dur[s.loc, self.loc]
        return to_x, from_x, self.ctx.dist[self.loc, s.loc], self.ctx.dist[s.loc, self.loc]

    def candidates(self, order_id: str) -> Candidates:
        refs = self.ctx.order_stops[order_id]
        ds = self.ctx.stops[refs[-1]]
        o = ds.order
        if len(refs) == 1:
            if not ds.initial:
                return Candidates.empty()
            return self.insert_delivery(
                *self.vectors(ds), ds.ready, ds.due, ds.service, o.weight, o.volume
            )
        ps = self.ctx.stops[refs[0]]
        return self.insert_pair(
            (*self.vectors(ps), ps.ready, ps.due, ps.service),
            (*self.vectors(ds), ds.ready, ds.due, ds.service),
            int(self.dur[ps.loc, ds.loc]),
            int(self.ctx.dist[ps.loc, ds.loc]),
            o.weight,
            o.volume,
        )

    def inserted(self, refs_new: list[StopRef], i: int, j: int) -> list[StopRef]:
        """The route's refs with one (delivery) or two (pickup, delivery) stops inserted."""
        out = list(self.refs)
        if len(refs_new) == 1:
            out.insert(i, refs_new[0])
        else:
            out.insert(j, refs_new[1])
            out.insert(i, refs_new[0])
        return out


def cheapest_insertion(
    ctx: Context, states: list[RouteState], order_id: str, *, feasible_only: bool = False
) -> tuple[int, int, int, int] | None:
    """(cost, vehicle index, i, j) of the cheapest feasible insertion of an order of ``ctx``
    into the routes ``states`` (a vehicle's fixed cost counts when its route is empty); None
    when there is none. ``feasible_only``: leave out routes that already miss a promise."""
    best = None
    for v in ctx.eligible[order_id]:
        st = states[v]
        if feasible_only and not st.feasible:
            continue
        cand = st.candidates(order_id)
        if not len(cand):
            continue
        n = int(np.argmin(cand.cost))
        cost = int(cand.cost[n]) + (ctx.vehicles[v].fixed_cost if st.k == 0 else 0)
        if best is None or cost < best[0]:
            best = (cost, v, int(cand.i[n]), int(cand.j[n]))
    return best


def greedy_routes(ctx: Context) -> list[list[tuple[str, str]]]:
    """Cheapest feasible insertion, earliest deadline first (the never-empty fallback).

    Locked prefixes are kept; on-board deliveries are always placed (at the end if nothing
    feasible exists: they are then late and reported as such). Orders that fit nowhere are
    left out (the plan reports them with a reason).
    """
    routes: list[list[StopRef]] = [list(vi.locked) for vi in ctx.vehicles]
    placed = {r.order_id for vi in ctx.vehicles for r in vi.locked}
    states = [RouteState(ctx, v, routes[v]) for v in range(len(ctx.vehicles))]
    # an order with a locked pickup but unlocked delivery: add its delivery
    for v, vi in enumerate(ctx.vehicles):
        for ref in vi.locked:
            d = StopRef(ref.order_id, Role.DELIVERY)
            if ref.role == Role.PICKUP and d not in vi.locked:
                routes[v].append(d)
        states[v] = RouteState(ctx, v, routes[v])
    pending = [o for o in ctx.problem.orders if o.id not in placed]
    pending.sort(
        key=lambda o: (
            o.id not in ctx.carrier,
            o.optional,
            o.deadline if o.deadline is not None else 1 << 62,
        )
    )
    for o in pending:
        committed = o.id in ctx.carrier
        if not committed and ctx.diagnose(o.id) is not None:
            continue
        best = cheapest_insertion(ctx, states, o.id)
        refs_new = ctx.order_stops[o.id]
        if best is not None and o.optional and best[0] >= o.value:
            continue  # not worth the detour
        if best is None:
            if committed:
                v = ctx.carrier[o.id]
                routes[v] = routes[v] + [r for r in refs_new if r not in routes[v]]
                states[v] = RouteState(ctx, v, routes[v])
            continue
        _, v, i, j = best
        routes[v] = states[v].inserted(refs_new, i, j)
        states[v] = RouteState(ctx, v, routes[v])
    return [[(r.order_id, str(r.role)) for r in seq] for seq in routes]
