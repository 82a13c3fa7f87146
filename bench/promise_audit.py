"""An independent audit of the delivery promise: orders through the JSON API, re-plans, cancels and
expiries on one simulated clock, and after every batch a checker that every accepted open order is
kept.

    python bench/promise_audit.py --orders 900 --clients 4 --replan-every 60 --clock "2026-12-01 19:47"
    python bench/promise_audit.py --check-only --database-url postgresql://postgres@127.0.0.1:5432/shanhuo

A run creates a throwaway PostgreSQL database (shanhuo_audit_<pid>), migrates and seeds it (the
demo county), plans it once, serves the app with gunicorn on 127.0.0.1, and drives it from
``--clients`` threads: each attempt is a random cart of 1-3 products (~30 % with a product the
serving warehouse does not hold, so goods come from a cooperative), a quote, a random feasible
window (the shortest at ``--prefer-short``) and an order (~20 % online; some paid through the
sandbox callback, the others left to expire). ~5 % of accepted orders are cancelled a little
later. Every ``--replan-every`` accepted orders ``flask plan`` re-plans every warehouse in a
subprocess while the clients keep ordering. The server, the re-plans, the expiry job and the
checker all run on one simulated clock: the whole script is re-executed under Debian's
``faketime`` (its children inherit it).

The checker (:func:`check_database`) shares no code with the product (no ``marketplace`` or
``delivery`` import): it reads the database with plain SQL in one REPEATABLE READ snapshot and
recomputes every route of every active plan with its own travel model. See ``--help`` and the
docstring of :func:`check_database` for exactly what it checks.

``--orders`` counts attempts (quotes asked for); a run also stops once ``--stop-after`` consecutive
quotes offered no window at all.

Clock: faketime -f "@<clock>" with FAKETIME_DONT_RESET=1 (children continue the clock) and
DONT_FAKE_MONOTONIC=1 (a faked monotonic clock hangs every lock wait with a timeout). With an
unfaked monotonic clock, Debian's libfaketime 0.9.10 makes CPython's time.sleep fail (EINVAL), so
flask, gunicorn and the expiry job are started as ``promise_audit.py _child PROJECT TOOL ...``,
which replaces time.sleep by a lock wait first. ``--project DIR`` serves another tree with this
venv, e.g. ``git archive <commit> | tar -x -C DIR`` to audit an older commit.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import http.client
import json
import math
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent.parent
VENV_BIN = HERE / ".venv" / "bin"
#: the tree whose app is audited (--project; e.g. a `git archive` of another commit, same venv)
PROJECT = Path(os.environ.get("PROMISE_AUDIT_PROJECT", HERE))
LOCAL = ZoneInfo("Asia/Shanghai")
FAKETIME_MARK = "PROMISE_AUDIT_CLOCK"

# --- the checker's own model (independent of delivery/ and marketplace/) ----------------------------
EARTH_RADIUS_M = 6_371_008.8
DETOUR = 1.3
SERVICE_S = {"delivery": 180, "pickup": 300, "replenish_pickup": 300, "replenish_drop": 0}
OPEN_STATUSES = ("pending_payment", "confirmed", "dispatched")
MISMATCH_S = 60


def _sleep_without_clock_nanosleep(seconds: float) -> None:
    """time.sleep for processes under libfaketime 0.9.10 with an unfaked monotonic clock: its
    clock_nanosleep(TIMER_ABSTIME) wrapper mistranslates CPython's absolute monotonic deadline
    (EINVAL); a lock wait with a timeout uses sem_clockwait, which it leaves alone."""
    if seconds > 0:
        threading.Event().wait(seconds)


def _under_faketime() -> bool:
    return "faketime" in os.environ.get("LD_PRELOAD", "")


# ==================================================================================================
# The checker
# ==================================================================================================


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(min(1.0, max(0.0, h))))


def travel_s(a: tuple[float, float], b: tuple[float, float], speed_kmh: float, factor: float) -> int:
    """Seconds from a to b: great circle × 1.3 ÷ speed × the destination zone's factor, rounded."""
    metres = haversine_m(a[0], a[1], b[0], b[1]) * DETOUR
    return int(round(metres / (speed_kmh / 3.6) * factor))


def shift_of(start: datetime, shift_start, shift_end) -> tuple[datetime | None, datetime]:
    """The (local wall-clock) shift containing ``start``, else the one following it. Returns
    (shift start if it contains ``start`` else None, shift end / following shift start)."""
    local = start.astimezone(LOCAL)
    shifts = []
    for delta in (-1, 0, 1, 2):
        day = local.date() + timedelta(days=delta)
        s = datetime.combine(day, shift_start, LOCAL)
        e = datetime.combine(day, shift_end, LOCAL)
        if e <= s:
            e += timedelta(days=1)
        shifts.append((s, e))
    for s, e in shifts:
        if s <= local < e:
            return s.astimezone(UTC), e.astimezone(UTC)
    following = min(s for s, _e in shifts if s > local)
    return None, following.astimezone(UTC)


@dataclass
class CheckResult:
    now: str
    open_orders: int = 0
    open_by_class: dict[str, int] = field(default_factory=dict)
    focus_open: int = 0  # open orders of the audit's own consumers (when it says which)
    active_plans: dict[str, int] = field(default_factory=dict)  # warehouse code -> plan id
    warehouses_without_plan: list[str] = field(default_factory=list)
    warehouses_with_several_active: list[str] = field(default_factory=list)
    routes: int = 0
    stops: int = 0
    off_route: list[dict] = field(default_factory=list)
    off_route_flagged: int = 0  # of which the product marked promise_broken_at
    multi_coop: list[dict] = field(default_factory=list)
    wrong_plan_stops: int = 0  # stops of an order in another warehouse's active plan
    ghost_stops: list[dict] = field(default_factory=list)  # pending stops of orders no longer open
    late: list[dict] = field(default_factory=list)
    late_flagged: int = 0
    mismatches: int = 0
    mismatch_max_s: int = 0
    # of which the stored time is EARLIER than the recomputed one: the plan believes it is there
    # sooner than it can be (the kind that hides a late delivery); the others are stale leftovers
    # of stops taken out (a cancel, an expiry), harmless for the promise
    mismatch_optimistic: int = 0
    mismatch_optimistic_max_s: int = 0
    mismatch_first_legs: dict[str, int] = field(default_factory=dict)
    mismatch_examples: list[dict] = field(default_factory=list)
    coord_mismatches: int = 0
    before_order: int = 0  # stops planned more than 60 s before their order was placed (informative)
    before_order_examples: list[dict] = field(default_factory=list)
    end_at_mismatches: int = 0
    shift_violations: list[dict] = field(default_factory=list)
    capacity_violations: list[dict] = field(default_factory=list)
    stock_negative: list[dict] = field(default_factory=list)
    stock_reserved_mismatch: list[dict] = field(default_factory=list)
    overdue_open: int = 0  # open orders whose deadline is already past (informative)
    # how early the plan keeps its promises: deadline − stored planned arrival of open deliveries,
    # and how far that arrival moved from the ETA the consumer was shown at checkout
    slack_s: list[int] = field(default_factory=list)
    eta_drift_s: list[int] = field(default_factory=list)
    route_m: float = 0.0  # driving distance of the active routes, recomputed
    focus_off_route: int = 0
    focus_late: int = 0
    seconds: float = 0.0

    @property
    def broken_orders(self) -> int:
        return len({o["order_id"] for o in self.off_route} | {o["order_id"] for o in self.late})

    def line(self) -> str:
        classes = " ".join(f"{k}:{v}" for k, v in self.open_by_class.items())
        legs = ", ".join(f"{k} {v}" for k, v in sorted(self.mismatch_first_legs.items(), key=lambda kv: -kv[1]))
        return (f"open {self.open_orders} ({classes})  OFF-ROUTE {len(self.off_route)}"
                f" (flagged {self.off_route_flagged})  LATE {len(self.late)}  shift {len(self.shift_violations)}"
                f"  cap {len(self.capacity_violations)}  before-order {self.before_order}  stock {len(self.stock_negative)}+"
                f"{len(self.stock_reserved_mismatch)}  ghost {len(self.ghost_stops)}  multi-coop {len(self.multi_coop)}"
                f"  mismatch {self.mismatches} (max {self.mismatch_max_s} s; optimistic {self.mismatch_optimistic}"
                f" max {self.mismatch_optimistic_max_s} s{'; first legs: ' + legs if legs else ''})")

    def violations(self) -> int:
        return (len(self.off_route) + len(self.late) + len(self.shift_violations) + len(self.capacity_violations)
                + len(self.stock_negative) + len(self.stock_reserved_mismatch))


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds") if value else None


def check_database(url: str, now: datetime | None = None, focus_user_ids: set[int] | None = None,
                   examples: int = 5) -> CheckResult:
    """Check, in one read-only REPEATABLE READ snapshot of the database at ``url``:

    1. routing: every open order (pending_payment, confirmed, dispatched) has exactly one delivery
       stop in the routes of its warehouse's active plan (the highest id with status 'active');
       one whose lines draw on a cooperative also exactly one pickup stop at that cooperative on
       the same route before its delivery. Otherwise it is OFF-ROUTE (with a reason).
    2. times: every route of every active plan is recomputed from its depot (warehouses →
       locations) at routes.start_at, stops in sequence order, each leg = haversine × 1.3 ÷
       (vehicles.speed_kmh) × the travel_factor of the destination's zone (orders.zone_id for a
       delivery, locations.zone_id for a cooperative or the depot; 1.0 if none), rounded to whole
       seconds; service 180 s at a delivery, 300 s at a pickup, no waiting. LATE: a delivery
       arriving after its order's deadline_at. MISMATCH (informative): a stop whose stored
       planned_arrival_at differs by more than 60 s. Shift: a route starting outside its vehicle's
       shift (local Asia/Shanghai wall clock) or returning to the depot after the shift's end.
       Capacity: the load (depot goods from the start, cooperative goods from pickup to delivery,
       order_lines.weight_g / volume_cm3) over the vehicle's capacity at any point.
    3. stock: no row with on_hand, reserved or on_hand - reserved below zero; reserved equals the
       open orders' line quantities per (product, source location).
    """
    import psycopg

    started = time.monotonic()
    with psycopg.connect(url, autocommit=False) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        cur = conn.cursor()
        cur.execute("SELECT 1")  # the snapshot starts here
        now = now or datetime.now(UTC)
        res = CheckResult(now=_iso(now))

        classes = {r[0]: r[1] for r in cur.execute("SELECT id, code FROM window_classes ORDER BY hours")}
        order_of_class = {code: i for i, code in enumerate(classes.values())}
        warehouses = {r[0]: {"code": r[1], "location_id": r[2]}
                      for r in cur.execute("SELECT id, code, location_id FROM warehouses")}
        locations = {r[0]: {"kind": r[1], "zone_id": r[2], "lat": r[3], "lon": r[4]}
                     for r in cur.execute("SELECT id, kind, zone_id, lat, lon FROM locations")}
        factors = {}
        for zone_id, value in cur.execute(
                "SELECT scope_id, value FROM logistics_parameters WHERE scope = 'zone' AND key = 'travel_factor'"):
            with contextlib.suppress(TypeError, ValueError):
                factors[zone_id] = float(value)
        vehicles = {r[0]: {"plate": r[1], "capacity_weight_g": r[2], "capacity_volume_cm3": r[3], "speed_kmh": r[4],
                           "shift_start": r[5], "shift_end": r[6], "warehouse_id": r[7]}
                    for r in cur.execute("SELECT id, plate, capacity_weight_g, capacity_volume_cm3, speed_kmh,"
                                         " shift_start, shift_end, warehouse_id FROM vehicles")}
        has_broken = bool(cur.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_name = 'orders'"
            " AND column_name = 'promise_broken_at' AND table_schema = current_schema()").fetchone())

        active: dict[int, int] = {}
        several = Counter()
        for plan_id, warehouse_id in cur.execute(
                "SELECT id, warehouse_id FROM plans WHERE status = 'active' ORDER BY warehouse_id, id"):
            active[warehouse_id] = plan_id  # the latest
            several[warehouse_id] += 1
        res.active_plans = {warehouses[w]["code"]: p for w, p in sorted(active.items())}
        res.warehouses_without_plan = sorted(w["code"] for wid, w in warehouses.items() if wid not in active)
        res.warehouses_with_several_active = sorted(warehouses[w]["code"] for w, n in several.items() if n > 1)
        plan_warehouse = {p: w for w, p in active.items()}
        plan_ids = list(active.values())

        routes = {}
        for r in cur.execute("SELECT id, plan_id, vehicle_id, start_at, end_at, status FROM routes"
                             " WHERE plan_id = ANY(%s) ORDER BY id", (plan_ids,)):
            routes[r[0]] = {"id": r[0], "plan_id": r[1], "vehicle_id": r[2], "start_at": r[3], "end_at": r[4],
                            "status": r[5], "stops": []}
        stops = []
        for r in cur.execute(
                "SELECT id, route_id, sequence, kind, order_id, replenishment_id, location_id, lat, lon, deadline_at,"
                " planned_arrival_at, planned_departure_at, actual_arrival_at, actual_departure_at, status"
                " FROM stops WHERE route_id = ANY(%s) ORDER BY route_id, sequence, id", (list(routes),)):
            stop = dict(zip(("id", "route_id", "sequence", "kind", "order_id", "replenishment_id", "location_id",
                             "lat", "lon", "deadline_at", "planned_arrival_at", "planned_departure_at",
                             "actual_arrival_at", "actual_departure_at", "status"), r, strict=True))
            routes[stop["route_id"]]["stops"].append(stop)
            stops.append(stop)
        res.routes, res.stops = len(routes), len(stops)

        broken_col = ", o.promise_broken_at" if has_broken else ", NULL"
        orders = {}
        for r in cur.execute(
                "SELECT o.id, o.number, o.status, o.user_id, o.warehouse_id, o.zone_id, o.lat, o.lon, o.deadline_at,"
                f" o.placed_at, o.window_class_id{broken_col}, o.promised_eta_at FROM orders o"
                " WHERE o.status = ANY(%s) OR o.id IN (SELECT order_id FROM stops WHERE route_id = ANY(%s))",
                (list(OPEN_STATUSES), list(routes))):
            orders[r[0]] = dict(zip(("id", "number", "status", "user_id", "warehouse_id", "zone_id", "lat", "lon",
                                     "deadline_at", "placed_at", "window_class_id", "promise_broken_at",
                                     "promised_eta_at"), r, strict=True))
        lines = defaultdict(list)
        for r in cur.execute("SELECT order_id, product_id, source_location_id, quantity, weight_g, volume_cm3"
                             " FROM order_lines WHERE order_id = ANY(%s)", (list(orders),)):
            lines[r[0]].append({"product_id": r[1], "source": r[2], "quantity": r[3], "weight": r[4], "volume": r[5]})
        moves = {r[0]: {"weight": r[1], "volume": r[2]} for r in cur.execute(
            "SELECT m.id, p.weight_g * m.quantity, p.volume_cm3 * m.quantity FROM replenishments m"
            " JOIN products p ON p.id = m.product_id WHERE m.id IN"
            " (SELECT replenishment_id FROM stops WHERE route_id = ANY(%s))", (list(routes),))}
        stocks = list(cur.execute("SELECT id, product_id, location_id, on_hand, reserved FROM stocks"))
        conn.rollback()

    def klass(order):
        return classes.get(order["window_class_id"], "?")

    def is_open(order):
        return order is not None and order["status"] in OPEN_STATUSES

    def focus(order):
        return focus_user_ids is None or order["user_id"] in focus_user_ids

    open_orders = [o for o in orders.values() if is_open(o)]
    res.open_orders = len(open_orders)
    by_class = Counter(klass(o) for o in open_orders)
    res.open_by_class = {c: by_class.get(c, 0) for c in sorted(by_class, key=lambda c: order_of_class.get(c, 99))}
    res.focus_open = sum(1 for o in open_orders if focus_user_ids is not None and o["user_id"] in focus_user_ids)
    res.overdue_open = sum(1 for o in open_orders if o["deadline_at"] < now)

    # --- 1. every open order on exactly one route of its warehouse's active plan ------------------
    stops_of = defaultdict(list)
    for stop in stops:
        if stop["order_id"] is not None:
            stops_of[stop["order_id"]].append(stop)

    def coop_sources(order_id):
        return sorted({ln["source"] for ln in lines[order_id] if locations.get(ln["source"], {}).get("kind") == "cooperative"})

    for order in open_orders:
        reason = None
        farms = coop_sources(order["id"])
        plan_id = active.get(order["warehouse_id"])
        mine = [s for s in stops_of[order["id"]] if routes[s["route_id"]]["plan_id"] == plan_id]
        others = [s for s in stops_of[order["id"]] if routes[s["route_id"]]["plan_id"] != plan_id]
        res.wrong_plan_stops += len(others)
        deliveries = [s for s in mine if s["kind"] == "delivery"]
        pickups = [s for s in mine if s["kind"] == "pickup"]
        if order["warehouse_id"] is None:
            reason = "no_warehouse"
        elif plan_id is None:
            reason = "no_active_plan"
        elif not deliveries:
            reason = "no_delivery_stop"
        elif len(deliveries) > 1:
            reason = "several_delivery_stops"
        elif farms:
            delivery = deliveries[0]
            same_route = [p for p in pickups if p["route_id"] == delivery["route_id"]]
            if not pickups:
                reason = "no_pickup_stop"
            elif len(pickups) > 1:
                reason = "several_pickup_stops"
            elif not same_route:
                reason = "pickup_on_other_route"
            elif same_route[0]["sequence"] >= delivery["sequence"]:
                reason = "pickup_after_delivery"
            elif same_route[0]["location_id"] not in farms:
                reason = "pickup_at_wrong_place"
        elif pickups:
            reason = "pickup_for_depot_goods"
        if len(farms) > 1:
            res.multi_coop.append({"order_id": order["id"], "number": order["number"], "cooperatives": farms})
        if reason:
            res.off_route.append({"order_id": order["id"], "number": order["number"], "class": klass(order),
                                  "status": order["status"], "reason": reason,
                                  "warehouse": warehouses.get(order["warehouse_id"], {}).get("code"),
                                  "placed_at": _iso(order["placed_at"]), "deadline_at": _iso(order["deadline_at"]),
                                  "flagged": order["promise_broken_at"] is not None})
            res.off_route_flagged += order["promise_broken_at"] is not None
            res.focus_off_route += focus(order)
    for stop in stops:
        order = orders.get(stop["order_id"]) if stop["order_id"] else None
        if stop["order_id"] and not is_open(order) and stop["status"] == "pending":
            res.ghost_stops.append({"stop_id": stop["id"], "route_id": stop["route_id"], "kind": stop["kind"],
                                    "order": order["number"] if order else stop["order_id"],
                                    "status": order["status"] if order else None})

    # --- 2. every route of every active plan, recomputed -----------------------------------------
    legs_first = Counter()
    for route in routes.values():
        vehicle = vehicles[route["vehicle_id"]]
        warehouse = warehouses[plan_warehouse[route["plan_id"]]]
        depot = locations[warehouse["location_id"]]
        depot_point = (depot["lat"], depot["lon"])
        speed = float(vehicle["speed_kmh"])
        at, where, prev_kind = route["start_at"], depot_point, "depot"
        weight = volume = max_weight = max_volume = 0
        picked_on_route = {s["order_id"] for s in route["stops"] if s["kind"] == "pickup"}

        def goods(stop):
            if stop["replenishment_id"] is not None:
                m = moves.get(stop["replenishment_id"], {"weight": 0, "volume": 0})
                return m["weight"], m["volume"]
            ls = lines.get(stop["order_id"], [])
            return sum(ln["weight"] for ln in ls), sum(ln["volume"] for ln in ls)

        for stop in route["stops"]:  # depot goods are loaded at the start
            if stop["kind"] == "delivery" and stop["order_id"] not in picked_on_route:
                w, v = goods(stop)
                weight, volume = weight + w, volume + v
        max_weight, max_volume = weight, volume
        first_mismatch = True
        for stop in route["stops"]:
            order = orders.get(stop["order_id"]) if stop["order_id"] else None
            if stop["kind"] == "delivery" and order is not None:
                point, zone = (order["lat"], order["lon"]), order["zone_id"]
            elif stop["kind"] == "replenish_drop":
                point, zone = depot_point, depot["zone_id"]
            elif stop["location_id"] in locations:
                loc = locations[stop["location_id"]]
                point, zone = (loc["lat"], loc["lon"]), loc["zone_id"]
            else:
                point, zone = (stop["lat"], stop["lon"]), None
            if abs(point[0] - stop["lat"]) > 1e-6 or abs(point[1] - stop["lon"]) > 1e-6:
                res.coord_mismatches += 1
            leg = travel_s(where, point, speed, factors.get(zone, 1.0))
            arrival = at + timedelta(seconds=leg)
            departure = arrival + timedelta(seconds=SERVICE_S.get(stop["kind"], 0))
            if stop["actual_departure_at"] is not None:  # a stop already made: the van goes on from there
                arrival, departure = stop["actual_arrival_at"] or arrival, stop["actual_departure_at"]
            signed = (stop["planned_arrival_at"] - arrival).total_seconds()
            diff = abs(signed)
            if diff > MISMATCH_S and stop["actual_departure_at"] is None:
                res.mismatches += 1
                res.mismatch_max_s = max(res.mismatch_max_s, int(diff))
                if signed < 0:
                    res.mismatch_optimistic += 1
                    res.mismatch_optimistic_max_s = max(res.mismatch_optimistic_max_s, int(diff))
                if first_mismatch:  # later stops inherit the first error: the first names the cause
                    leg_name = f"{prev_kind}->{stop['kind']}"
                    legs_first[leg_name] += 1
                    if len(res.mismatch_examples) < examples:
                        res.mismatch_examples.append({
                            "route_id": route["id"], "vehicle": vehicle["plate"], "stop_id": stop["id"],
                            "sequence": stop["sequence"], "leg": leg_name, "zone_id": zone,
                            "stored_arrival": _iso(stop["planned_arrival_at"]), "recomputed_arrival": _iso(arrival),
                            "diff_s": int((stop["planned_arrival_at"] - arrival).total_seconds()),
                            "leg_s": leg})
                first_mismatch = False
            if (order is not None and stop["actual_arrival_at"] is None and order["placed_at"] is not None
                    and stop["planned_arrival_at"] < order["placed_at"] - timedelta(seconds=MISMATCH_S)):
                res.before_order += 1  # planned to be there before the order existed
                if len(res.before_order_examples) < examples:
                    res.before_order_examples.append({
                        "route_id": route["id"], "route_status": route["status"], "route_start": _iso(route["start_at"]),
                        "stop_id": stop["id"], "kind": stop["kind"], "order": order["number"],
                        "placed_at": _iso(order["placed_at"]), "planned_arrival": _iso(stop["planned_arrival_at"]),
                        "planned_departure": _iso(stop["planned_departure_at"])})
            # late by the recomputed arrival, or by the product's own planned arrival (a wait the
            # recomputation does not model cannot hide a late delivery)
            stored = stop["planned_arrival_at"]
            res.route_m += haversine_m(where[0], where[1], point[0], point[1]) * DETOUR
            if stop["kind"] == "delivery" and is_open(order):
                res.slack_s.append(int((order["deadline_at"] - stored).total_seconds()))
                if order["promised_eta_at"] is not None:
                    res.eta_drift_s.append(int((stored - order["promised_eta_at"]).total_seconds()))
            if stop["kind"] == "delivery" and is_open(order) and max(arrival, stored) > order["deadline_at"]:
                by = "both" if min(arrival, stored) > order["deadline_at"] else (
                    "recomputed" if arrival > order["deadline_at"] else "stored")
                res.late.append({"order_id": order["id"], "number": order["number"], "class": klass(order),
                                 "route_id": route["id"], "vehicle": vehicle["plate"], "arrival": _iso(arrival),
                                 "stored_arrival": _iso(stored), "late_by": by,
                                 "deadline_at": _iso(order["deadline_at"]),
                                 "late_s": int((max(arrival, stored) - order["deadline_at"]).total_seconds()),
                                 "flagged": order["promise_broken_at"] is not None})
                res.late_flagged += order["promise_broken_at"] is not None
                res.focus_late += focus(order)
            if stop["kind"] in ("pickup", "replenish_pickup"):
                w, v = goods(stop)
                weight, volume = weight + w, volume + v
            elif stop["kind"] in ("delivery", "replenish_drop"):
                w, v = goods(stop)
                weight, volume = weight - w, volume - v
            max_weight, max_volume = max(max_weight, weight), max(max_volume, volume)
            at, where, prev_kind = departure, point, stop["kind"]
        back = at + timedelta(seconds=travel_s(where, depot_point, speed, factors.get(depot["zone_id"], 1.0)))
        if route["stops"]:
            res.route_m += haversine_m(where[0], where[1], depot_point[0], depot_point[1]) * DETOUR
        if route["stops"] and abs((route["end_at"] - back).total_seconds()) > MISMATCH_S:
            res.end_at_mismatches += 1
        shift_start, shift_end = shift_of(route["start_at"], vehicle["shift_start"], vehicle["shift_end"])
        base = {"route_id": route["id"], "vehicle": vehicle["plate"], "start_at": _iso(route["start_at"]),
                "return_at": _iso(back), "stops": len(route["stops"])}
        if route["stops"] and shift_start is None:
            res.shift_violations.append({**base, "kind": "starts_before_shift", "shift_start": _iso(shift_end)})
        elif route["stops"] and back > shift_end:
            res.shift_violations.append({**base, "kind": "returns_after_shift", "shift_end": _iso(shift_end),
                                         "over_s": int((back - shift_end).total_seconds())})
        if max_weight > vehicle["capacity_weight_g"] or max_volume > vehicle["capacity_volume_cm3"]:
            res.capacity_violations.append({**base, "max_weight_g": max_weight, "cap_weight_g": vehicle["capacity_weight_g"],
                                            "max_volume_cm3": max_volume, "cap_volume_cm3": vehicle["capacity_volume_cm3"]})
    res.mismatch_first_legs = dict(legs_first)

    # --- 3. stock -------------------------------------------------------------------------------
    expected = Counter()
    for order in open_orders:
        for ln in lines[order["id"]]:
            expected[(ln["product_id"], ln["source"])] += ln["quantity"]
    seen = set()
    for stock_id, product_id, location_id, on_hand, reserved in stocks:
        seen.add((product_id, location_id))
        if on_hand < 0 or reserved < 0 or on_hand - reserved < 0:
            res.stock_negative.append({"stock_id": stock_id, "product_id": product_id, "location_id": location_id,
                                       "on_hand": on_hand, "reserved": reserved})
        if reserved != expected.get((product_id, location_id), 0):
            res.stock_reserved_mismatch.append({"stock_id": stock_id, "product_id": product_id,
                                                "location_id": location_id, "reserved": reserved,
                                                "open_lines": expected.get((product_id, location_id), 0)})
    for key, qty in expected.items():
        if key not in seen:
            res.stock_reserved_mismatch.append({"stock_id": None, "product_id": key[0], "location_id": key[1],
                                                "reserved": 0, "open_lines": qty})
    res.off_route.sort(key=lambda o: o["order_id"])
    res.late.sort(key=lambda o: -o["late_s"])
    res.seconds = round(time.monotonic() - started, 3)
    return res


def print_details(res: CheckResult, examples: int = 5) -> None:
    """A few examples of each kind of violation (evidence to look up)."""
    def show(title, items):
        if items:
            print(f"  {title} ({len(items)}):")
            for item in items[:examples]:
                print("    " + json.dumps(item, ensure_ascii=False, default=str))
    if res.warehouses_without_plan or res.warehouses_with_several_active:
        print(f"  plans: without an active plan {res.warehouses_without_plan}; several active "
              f"{res.warehouses_with_several_active}")
    reasons = Counter(o["reason"] for o in res.off_route)
    if reasons:
        print(f"  off-route reasons: {dict(reasons)}")
    show("OFF-ROUTE", res.off_route)
    show("LATE", res.late)
    show("shift", res.shift_violations)
    show("capacity", res.capacity_violations)
    show("stock negative", res.stock_negative)
    show("stock reserved != open lines", res.stock_reserved_mismatch)
    show("ghost stops (orders no longer open, still pending on a route)", res.ghost_stops)
    show("orders drawing on several cooperatives (one pickup only)", res.multi_coop)
    show("first mismatching stop of a route", res.mismatch_examples)
    show("stops planned before their order was placed", res.before_order_examples)
    if res.coord_mismatches or res.end_at_mismatches or res.wrong_plan_stops:
        print(f"  stop coordinates differing from their order/location: {res.coord_mismatches}; routes whose"
              f" end_at differs from the recomputed return by > 60 s: {res.end_at_mismatches}; stops in another"
              f" warehouse's active plan: {res.wrong_plan_stops}")


# ==================================================================================================
# The run
# ==================================================================================================


class Api:
    """A tiny JSON client (one connection per request: gunicorn's sync workers close them)."""

    def __init__(self, port: int, timeout: float = 180.0):
        self.port, self.timeout = port, timeout

    def call(self, method: str, path: str, body=None, token: str | None = None, raw: bytes | None = None,
             headers: dict | None = None) -> tuple[int, object]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            hdrs = {"Accept": "application/json", "User-Agent": "promise-audit"}
            data = raw
            if body is not None:
                data = json.dumps(body).encode()
            if data is not None:
                hdrs["Content-Type"] = "application/json"
            if token:
                hdrs["Authorization"] = f"Bearer {token}"
            hdrs.update(headers or {})
            conn.request(method, path, body=data, headers=hdrs)
            response = conn.getresponse()
            text = response.read()
            try:
                payload = json.loads(text) if text else None
            except ValueError:
                payload = text[:500].decode("utf-8", "replace")
            return response.status, payload
        finally:
            conn.close()


@dataclass
class Consumer:
    user_id: int
    mobile: str
    token: str
    addresses: list[dict] = field(default_factory=list)  # {"id", "zone_id", "warehouse_location_id"}
    cart: dict[int, int] = field(default_factory=dict)


class Audit:
    def __init__(self, args):
        self.args = args
        self.rng = random.Random(args.seed)
        self.pid = os.getpid()
        self.db_name = f"shanhuo_audit_{self.pid}"
        self.admin_url = args.pg_admin_url
        self.db_url = self.admin_url.rsplit("/", 1)[0] + "/" + self.db_name
        self.tmp = Path(tempfile.mkdtemp(prefix=f"promise_audit_{self.pid}_"))
        self.secret = uuid.uuid4().hex
        self.server: subprocess.Popen | None = None
        self.children: list[subprocess.Popen] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.port = 0
        self.api: Api | None = None
        self.classes: list[str] = []
        # counters
        self.attempts = 0
        self.consecutive_none = 0
        self.accepted = Counter()
        self.accepted_orders: list[dict] = []
        self.offered = Counter()
        self.refused = Counter()  # per class: quotes where it was not feasible
        self.refusal_reasons = Counter()
        self.none_feasible = 0
        self.last_offered: dict[str, dict] = {}
        self.lost_race = 0  # 409: the window went while ordering
        self.place_errors = Counter()
        self.http_5xx = Counter()
        self.http_5xx_examples: list[dict] = []
        self.cancels_ok = 0
        self.cancels_failed: list[dict] = []
        self.paid = 0
        self.pay_failed = 0
        self.online = 0
        self.expired = 0
        self.expiry_runs = 0
        self.expiry_failures = 0
        self.expiry_errors = Counter()
        self.replans: list[dict] = []
        self.replan_running: subprocess.Popen | None = None
        self.next_replan = args.replan_every
        self.checkpoints: list[dict] = []
        self.check_requests: list[str] = []
        self.check_cv = threading.Condition()
        self.max_off = self.max_late = self.max_off_focus = self.max_late_focus = 0
        self.max_shift = self.max_cap = self.max_stock = 0
        self.user_ids: set[int] = set()
        self.last_result: CheckResult | None = None
        self.worst: dict[str, CheckResult] = {}
        self.products: dict[int, dict] = {}
        self.availability: dict[tuple[int, int], int] = {}
        self.availability_at = 0.0
        self.coop_keys: set[tuple[int, int]] = set()
        self.started_real = time.monotonic()
        self.started_sim = datetime.now(UTC)

    # --- processes ------------------------------------------------------------------------------
    def child_env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "DATABASE_URL": self.db_url, "FLASK_APP": "wsgi.py", "SECRET_KEY": "audit-" + self.secret,
            "PAYMENT_SANDBOX_SECRET": self.secret, "PAYMENT_TIMEOUT_MINUTES": str(self.args.payment_timeout),
            "LOGIN_RATE_LIMIT": "100000 per minute", "REGISTER_RATE_LIMIT": "100000 per minute",
            "QUOTE_RATE_LIMIT": "100000 per minute", "SCHEDULER_ENABLED": "0", "LOG_LEVEL": "WARNING",
            "LOG_JSON": "0", "PAGE_CACHE_SECONDS": "0", "SHANHUO_INSTANCE": str(self.tmp / "instance"),
            "PYTHONUNBUFFERED": "1",
        })
        return env

    def child_cmd(self, *args: str) -> list[str]:
        return [str(VENV_BIN / "python"), str(Path(__file__).resolve()), "_child", str(PROJECT), *args]

    def run_child(self, *args: str, timeout: float = 600) -> subprocess.CompletedProcess:
        return subprocess.run(self.child_cmd(*args), cwd=PROJECT, env=self.child_env(), capture_output=True,
                              text=True, timeout=timeout)

    def create_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(self.db_name)))
        for step in (("flask", "db", "upgrade"), ("flask", "seed", "--quiet", "--demo")):
            done = self.run_child(*step)
            if done.returncode != 0:
                raise SystemExit(f"{' '.join(step)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")

    def drop_database(self) -> None:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(self.db_name)))

    def start_server(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        log = open(self.tmp / "server.log", "w")  # noqa: SIM115 (kept open for the server's life)
        self.server = subprocess.Popen(
            self.child_cmd("gunicorn", "-w", str(self.args.workers), "-b", f"127.0.0.1:{self.port}", "--timeout", "300",
                           "--graceful-timeout", "10", "--access-logfile", str(self.tmp / "access.log"),
                           "--access-logformat", '%(s)s %(m)s %(U)s %(L)s', "wsgi:app"),
            cwd=PROJECT, env=self.child_env(), stdout=log, stderr=subprocess.STDOUT)
        self.api = Api(self.port)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.server.poll() is not None:
                raise SystemExit(f"gunicorn exited; see {self.tmp / 'server.log'}")
            try:
                status, _ = self.api.call("GET", "/api/v1/")
                if status == 200:
                    return
            except OSError:
                pass
            self.stop.wait(0.3)
        raise SystemExit("gunicorn did not answer within 60 s")

    def stop_processes(self) -> None:
        if self.replan_running is not None and self.replan_running.poll() is None:
            self.replan_running.terminate()
            try:
                self.replan_running.wait(30)
            except subprocess.TimeoutExpired:
                self.replan_running.kill()
        if self.server is not None and self.server.poll() is None:
            self.server.send_signal(signal.SIGTERM)  # the arbiter stops its own workers
            try:
                self.server.wait(30)
            except subprocess.TimeoutExpired:
                self.server.kill()

    # --- setup through the API --------------------------------------------------------------------
    def sql(self, query: str, params=()) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(query, params).fetchall()

    def setup_consumers(self) -> list[Consumer]:
        self.classes = [r[0] for r in self.sql("SELECT code FROM window_classes WHERE active ORDER BY hours")]
        status, towns = self.api.call("GET", "/api/v1/towns")
        assert status == 200, towns
        villages = []
        for town in towns["items"]:
            status, found = self.api.call("GET", f"/api/v1/towns/{town['id']}/villages")
            assert status == 200, found
            villages += found["items"]
        self.rng.shuffle(villages)
        zone_of = dict(self.sql("SELECT id, zone_id FROM villages"))
        # the serving warehouse of a zone (the first by code), to know which goods it holds
        serving = {}
        for zone_id, location_id in self.sql(
                "SELECT DISTINCT ON (wz.zone_id) wz.zone_id, w.location_id FROM warehouse_zones wz"
                " JOIN warehouses w ON w.id = wz.warehouse_id WHERE w.active ORDER BY wz.zone_id, w.code"):
            serving[zone_id] = location_id
        consumers = []
        base = 18800000000 + (self.pid % 9000) * 100
        per = max(1, math.ceil(len(villages) / self.args.consumers))
        for i in range(self.args.consumers):
            mobile = str(base + i)
            status, body = self.api.call("POST", "/api/v1/auth/code", {"mobile": mobile, "purpose": "register"})
            if status != 202:
                raise SystemExit(f"code for {mobile}: {status} {body}")
            # the code the sandbox SMS gateway "sent" (the phone is the outbox table)
            texted = self.sql("SELECT body FROM sms_outbox WHERE mobile = %s ORDER BY id DESC LIMIT 1", (mobile,))
            code = re.search(r"\b(\d{6})\b", texted[0][0]).group(1)
            status, body = self.api.call("POST", "/api/v1/auth/register", {
                "mobile": mobile, "password": "audit12345", "name": f"audit {i}", "code": code})
            if status != 201:
                raise SystemExit(f"register {mobile}: {status} {body}")
            c = Consumer(body["user"]["id"], mobile, body["token"])
            mine = villages[i * per:(i + 1) * per] or [self.rng.choice(villages)]
            for v in mine:
                status, address = self.api.call("POST", "/api/v1/addresses", {
                    "village_id": v["id"], "detail": f"{self.rng.randint(1, 200)} audit lane",
                    "recipient_name": f"audit {i}", "recipient_mobile": mobile}, token=c.token)
                if status != 201:
                    raise SystemExit(f"address: {status} {address}")
                zone = zone_of[v["id"]]
                c.addresses.append({"id": address["id"], "zone_id": zone, "warehouse_location_id": serving.get(zone)})
            consumers.append(c)
            self.user_ids.add(c.user_id)
        zones = {a["zone_id"] for c in consumers for a in c.addresses}
        print(f"  {len(consumers)} consumers, {sum(len(c.addresses) for c in consumers)} addresses in "
              f"{len({a['id'] for c in consumers for a in c.addresses})} places, zones {sorted(zones)}", flush=True)
        for pid, weight, status in self.sql("SELECT id, weight_g, status FROM products"):
            self.products[pid] = {"weight": weight, "status": status}
        return consumers

    def refresh_availability(self) -> dict[tuple[int, int], int]:
        with self.lock:
            if time.monotonic() - self.availability_at < 2.0:
                return self.availability
        rows = self.sql("SELECT s.product_id, s.location_id, s.on_hand - s.reserved, l.kind FROM stocks s"
                        " JOIN locations l ON l.id = s.location_id JOIN products p ON p.id = s.product_id"
                        " WHERE p.status = 'active'")
        avail = {(r[0], r[1]): r[2] for r in rows}
        coop = {(r[0], r[1]) for r in rows if r[3] == "cooperative"}
        with self.lock:
            self.availability, self.coop_keys, self.availability_at = avail, coop, time.monotonic()
        return avail

    def make_cart(self, rng: random.Random, warehouse_location_id: int | None) -> dict[int, int]:
        avail = self.refresh_availability()
        with self.lock:
            coop_keys = self.coop_keys
        at_depot = [p for (p, loc), n in avail.items() if loc == warehouse_location_id and n >= 2]
        at_farm = {p for (p, _loc) in coop_keys if avail.get((p, _loc), 0) >= 2}
        farm_only = sorted(at_farm - {p for (p, loc), n in avail.items() if loc == warehouse_location_id and n >= 1})
        size = rng.choice((1, 1, 2, 2, 3))
        cart: dict[int, int] = {}
        if farm_only and rng.random() < self.args.coop_rate:
            cart[rng.choice(farm_only)] = 1
            size -= 1
        pool = at_depot or sorted(at_farm)
        for _ in range(size):
            if pool:
                cart[rng.choice(pool)] = rng.choice((1, 1, 1, 2))
        return cart

    # --- one client -------------------------------------------------------------------------------
    def client(self, index: int, consumers: list[Consumer]) -> None:
        rng = random.Random(f"{self.args.seed}-{index}")
        cancels: list[tuple[int, Consumer, str]] = []
        while not self.stop.is_set():
            with self.lock:
                if self.attempts >= self.args.orders:
                    break
                self.attempts += 1
                attempt = self.attempts
            try:
                self.do_cancels(cancels, attempt)
                self.one_order(rng, rng.choice(consumers), attempt, cancels)
            except Exception as error:  # noqa: BLE001 (a client error is counted, the run goes on)
                with self.lock:
                    self.place_errors[f"client exception {type(error).__name__}"] += 1
                traceback.print_exc()
            if attempt % self.args.check_every == 0:
                self.request_check(f"batch {attempt}")
        for _due, consumer, number in cancels:  # the rest of the cancels before leaving
            self.cancel(consumer, number)

    def count_5xx(self, what: str, status: int, body) -> None:
        if status >= 500:
            with self.lock:
                self.http_5xx[what] += 1
                if len(self.http_5xx_examples) < 10:
                    self.http_5xx_examples.append({"what": what, "status": status, "body": str(body)[:300]})

    def one_order(self, rng: random.Random, consumer: Consumer, attempt: int, cancels: list) -> None:
        api = self.api
        address = rng.choice(consumer.addresses)
        want = self.make_cart(rng, address["warehouse_location_id"])
        for pid in list(consumer.cart):
            if pid not in want:
                status, body = api.call("DELETE", f"/api/v1/cart/items/{pid}", token=consumer.token)
                self.count_5xx("cart", status, body)
                consumer.cart.pop(pid, None)
        for pid, qty in want.items():
            if consumer.cart.get(pid) != qty:
                status, body = api.call("PUT", f"/api/v1/cart/items/{pid}", {"quantity": qty}, token=consumer.token)
                self.count_5xx("cart", status, body)
                if status == 200:
                    consumer.cart[pid] = qty
        if not consumer.cart:
            return
        status, quote = api.call("POST", "/api/v1/quote", {"address_id": address["id"]}, token=consumer.token)
        self.count_5xx("quote", status, quote)
        if status != 200:
            with self.lock:
                self.place_errors[f"quote {status} {quote.get('error') if isinstance(quote, dict) else ''}"] += 1
            if status == 409:  # out of stock: start the cart over
                for pid in list(consumer.cart):
                    api.call("DELETE", f"/api/v1/cart/items/{pid}", token=consumer.token)
                consumer.cart.clear()
            return
        now = datetime.now(UTC)
        feasible = [w["window"] for w in quote["windows"] if w["feasible"]]
        with self.lock:
            for w in quote["windows"]:
                if w["feasible"]:
                    self.offered[w["window"]] += 1
                    self.last_offered[w["window"]] = {"attempt": attempt, "at": _iso(now)}
                else:
                    self.refused[w["window"]] += 1
                    self.refusal_reasons[f"{w['window']} {w['reason_code']}"] += 1
            if feasible:
                self.consecutive_none = 0
            else:
                self.none_feasible += 1
                self.consecutive_none += 1
                if self.consecutive_none >= self.args.stop_after:
                    if not self.stop.is_set():
                        print(f"  {self.consecutive_none} consecutive quotes with nothing feasible: stopping", flush=True)
                    self.stop.set()
        if not feasible:
            return
        order_of = {c: i for i, c in enumerate(self.classes)}
        feasible.sort(key=lambda c: order_of.get(c, 99))
        window = feasible[0] if rng.random() < self.args.prefer_short else rng.choice(feasible)
        method = "online" if rng.random() < self.args.online_rate else "cod"
        key = uuid.uuid4().hex
        body = {"address_id": address["id"], "window": window, "payment_method": method, "idempotency_key": key}
        for _try in range(2):
            try:
                status, placed = api.call("POST", "/api/v1/orders", body, token=consumer.token)
                break
            except OSError as error:  # the same key: a retry returns the first order
                status, placed = 599, str(error)
        self.count_5xx("place", status, placed)
        if status in (200, 201):
            for line in placed["lines"]:
                consumer.cart.pop(line["product_id"], None)
            record = {"number": placed["number"], "window": placed["window"], "payment": method, "attempt": attempt,
                      "placed_at": placed["placed_at"], "deadline_at": placed["deadline_at"]}
            with self.lock:
                self.accepted[placed["window"]] += 1
                self.accepted_orders.append(record)
                self.online += method == "online"
                total = sum(self.accepted.values())
            if total >= self.next_replan:
                self.maybe_replan(total)
            if method == "online" and rng.random() < self.args.pay_rate:
                self.pay(placed["number"])
            if rng.random() < self.args.cancel_rate:
                cancels.append((attempt + rng.randint(3, 40), consumer, placed["number"]))
        elif status == 409 and isinstance(placed, dict) and "windows" in placed:
            with self.lock:
                self.lost_race += 1
        else:
            with self.lock:
                err = placed.get("error") if isinstance(placed, dict) else ""
                self.place_errors[f"place {status} {err}"] += 1

    def do_cancels(self, cancels: list, attempt: int) -> None:
        due = [c for c in cancels if c[0] <= attempt]
        for item in due:
            cancels.remove(item)
            self.cancel(item[1], item[2])

    def cancel(self, consumer: Consumer, number: str) -> None:
        status, body = self.api.call("POST", f"/api/v1/orders/{number}/cancel", {"reason": "audit"},
                                     token=consumer.token)
        self.count_5xx("cancel", status, body)
        with self.lock:
            if status == 200:
                self.cancels_ok += 1
            elif status == 409 and isinstance(body, dict) and body.get("error") in ("cannot_cancel", "conflict"):
                # not cancellable any more (expired meanwhile): not a failure of the cancel
                self.cancels_failed.append({"number": number, "status": status, "body": str(body)[:200],
                                            "expected": True})
            else:
                self.cancels_failed.append({"number": number, "status": status, "body": str(body)[:300],
                                            "expected": False})

    def pay(self, number: str) -> None:
        rows = self.sql("SELECT p.provider_ref, p.amount_fen FROM payments p JOIN orders o ON o.id = p.order_id"
                        " WHERE o.number = %s ORDER BY p.id DESC LIMIT 1", (number,))
        if not rows:
            with self.lock:
                self.pay_failed += 1
            return
        body = json.dumps({"notification_id": "ntf_" + uuid.uuid4().hex, "provider_ref": rows[0][0],
                           "amount_fen": rows[0][1], "status": "succeeded",
                           "paid_at": datetime.now(UTC).isoformat(timespec="milliseconds")},
                          separators=(",", ":")).encode()
        signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
        status, answer = self.api.call("POST", "/pay/callback", raw=body, headers={"X-Sandbox-Signature": signature})
        self.count_5xx("pay", status, answer)
        with self.lock:
            if status == 200:
                self.paid += 1
            else:
                self.pay_failed += 1

    # --- re-plans, expiries, checkpoints -----------------------------------------------------------
    def maybe_replan(self, total: int) -> None:
        with self.lock:
            if self.replan_running is not None or total < self.next_replan:
                return
            self.next_replan = total + self.args.replan_every
            number = len(self.replans) + 1
            self.replans.append({"n": number, "at_accepted": total, "sim_start": _iso(datetime.now(UTC))})
            self.replan_running = subprocess.Popen(
                self.child_cmd("flask", "plan", "--seconds", str(self.args.plan_seconds)), cwd=PROJECT,
                env=self.child_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self.wait_replan, args=(self.replan_running, number), daemon=True).start()

    def wait_replan(self, proc: subprocess.Popen, number: int) -> None:
        out, _ = proc.communicate()
        entry = self.replans[number - 1]
        entry.update({"rc": proc.returncode, "sim_end": _iso(datetime.now(UTC)),
                      "output": [ln for ln in out.splitlines() if re.match(r"^W-", ln)] or out.splitlines()[-5:]})
        print(f"  replan #{number} (after {entry['at_accepted']} accepted) rc={proc.returncode}: "
              + " | ".join(entry["output"])[:400], flush=True)
        with self.lock:
            self.replan_running = None
        self.request_check(f"replan #{number}")

    def run_replan_now(self, label: str) -> None:
        with self.lock:
            number = len(self.replans) + 1
            self.replans.append({"n": number, "at_accepted": sum(self.accepted.values()), "label": label,
                                 "sim_start": _iso(datetime.now(UTC))})
            proc = subprocess.Popen(self.child_cmd("flask", "plan", "--seconds", str(self.args.plan_seconds)),
                                    cwd=PROJECT, env=self.child_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            self.replan_running = proc
        self.wait_replan(proc, number)

    def expire(self, ahead_s: float) -> int:
        done = self.run_child("expire", str(ahead_s), timeout=300)
        match = re.search(r"expired (\d+)", done.stdout)
        n = int(match.group(1)) if match else 0
        with self.lock:
            self.expired += n
            self.expiry_runs += 1
        with open(self.tmp / "expiry.log", "a") as log:  # evidence of what failed, if anything
            log.write(done.stdout + done.stderr)
        failed = done.stderr.count("could not expire")
        if failed:
            errors = Counter(re.findall(r"^(?:[\w.]+\.)?(\w+(?:Error|Violation|Exception))\b:", done.stderr, re.M))
            with self.lock:
                self.expiry_failures += failed
                self.expiry_errors.update(errors)
            print(f"  expiry job: {n} expired, {failed} could not be expired ({dict(errors)})", flush=True)
        if done.returncode != 0:
            print(f"  expiry job failed rc={done.returncode}: {done.stderr[-500:]}", flush=True)
        return n

    def expiry_loop(self) -> None:
        # orders unpaid for longer than --expire-after seconds (simulated) expire: the job runs with
        # "now" that much short of the payment timeout ahead
        ahead = self.args.payment_timeout * 60 - self.args.expire_after
        while not self.stop.wait(self.args.expire_every):
            self.expire(ahead)

    def request_check(self, label: str) -> None:
        with self.check_cv:
            self.check_requests.append(label)
            self.check_cv.notify()

    def checker_loop(self) -> None:
        while True:
            with self.check_cv:
                while not self.check_requests:
                    self.check_cv.wait()
                label = self.check_requests.pop(0)
                if label == "__end__":
                    return
                # batches that queued up while a check ran: one check covers them
                while self.check_requests and self.check_requests[0].startswith("batch") and label.startswith("batch"):
                    label = self.check_requests.pop(0)
            self.checkpoint(label)

    def checkpoint(self, label: str, baseline: bool = False) -> CheckResult:
        try:
            res = check_database(self.db_url, focus_user_ids=self.user_ids)
        except Exception as error:  # noqa: BLE001 (e.g. a plan swapped mid-read: report and go on)
            print(f"  [{label}] check failed: {type(error).__name__}: {error}", flush=True)
            return None  # type: ignore[return-value]
        with self.lock:
            acc = " ".join(f"{c}:{self.accepted.get(c, 0)}" for c in self.classes)
            attempts = self.attempts
        if baseline:  # before any plan: shown, not counted
            print(f"[{label:>11}] {res.now} (before the first plan) | {res.line()}", flush=True)
            return res
        with self.lock:
            self.max_off = max(self.max_off, len(res.off_route))
            self.max_late = max(self.max_late, len(res.late))
            self.max_off_focus = max(self.max_off_focus, res.focus_off_route)
            self.max_late_focus = max(self.max_late_focus, res.focus_late)
            self.max_shift = max(self.max_shift, len(res.shift_violations))
            self.max_cap = max(self.max_cap, len(res.capacity_violations))
            self.max_stock = max(self.max_stock, len(res.stock_negative) + len(res.stock_reserved_mismatch))
            for key, value in (("off_route", len(res.off_route)), ("late", len(res.late)),
                               ("mismatch", res.mismatches)):
                best = self.worst.get(key)
                if best is None or value > {"off_route": len(best.off_route), "late": len(best.late),
                                            "mismatch": best.mismatches}[key]:
                    self.worst[key] = res
            self.last_result = res
            self.checkpoints.append({
                "label": label, "sim": res.now, "attempts": attempts, "accepted": dict(self.accepted),
                "open": res.open_orders, "off_route": len(res.off_route), "off_route_flagged": res.off_route_flagged,
                "audit_off_route": res.focus_off_route, "late": len(res.late), "audit_late": res.focus_late,
                "shift": len(res.shift_violations), "capacity": len(res.capacity_violations),
                "stock": len(res.stock_negative) + len(res.stock_reserved_mismatch), "ghost": len(res.ghost_stops),
                "before_order": res.before_order,
                "mismatches": res.mismatches, "mismatch_max_s": res.mismatch_max_s,
                "mismatch_optimistic": res.mismatch_optimistic,
                "mismatch_optimistic_max_s": res.mismatch_optimistic_max_s,
                "off_route_reasons": dict(Counter(o["reason"] for o in res.off_route)), "check_s": res.seconds})
        sim = res.now.replace("T", " ").replace("+00:00", "Z")
        print(f"[{label:>11}] {sim} att {attempts:4d} acc {acc} | {res.line()} | audit's: off {res.focus_off_route}"
              f" late {res.focus_late}", flush=True)
        return res

    # --- the whole run ----------------------------------------------------------------------------
    def run(self) -> dict:
        a = self.args
        print(f"promise audit: clock {datetime.now(UTC):%Y-%m-%d %H:%M:%S} UTC = "
              f"{datetime.now(LOCAL):%H:%M} Asia/Shanghai; database {self.db_name}; work dir {self.tmp}", flush=True)
        threads: list[threading.Thread] = []
        try:
            t0 = time.monotonic()
            self.create_database()
            print(f"  database migrated and seeded ({time.monotonic() - t0:.0f} s)", flush=True)
            self.checkpoint("seeded", baseline=True)
            self.run_replan_now("initial")  # as the scheduler does at start: every warehouse gets a plan
            self.start_server()
            print(f"  gunicorn -w {a.workers} on 127.0.0.1:{self.port}", flush=True)
            consumers = self.setup_consumers()
            checker = threading.Thread(target=self.checker_loop, name="checker", daemon=True)
            checker.start()
            expiry = threading.Thread(target=self.expiry_loop, name="expiry", daemon=True)
            expiry.start()
            groups = [consumers[i::a.clients] for i in range(a.clients)]
            threads = [threading.Thread(target=self.client, args=(i, g), name=f"client-{i}") for i, g in
                       enumerate(groups) if g]
            started = time.monotonic()
            for t in threads:
                t.start()
            deadline = started + a.max_minutes * 60
            for t in threads:
                t.join(max(0.0, deadline - time.monotonic()))
            if any(t.is_alive() for t in threads):
                print(f"  --max-minutes {a.max_minutes} reached: stopping the clients", flush=True)
                self.stop.set()
                for t in threads:
                    t.join(300)
            self.stop.set()
            elapsed = time.monotonic() - started
            print(f"  clients done: {self.attempts} attempts in {elapsed:.0f} s", flush=True)
            while True:  # let a running re-plan finish (it checks when it does)
                with self.lock:
                    running = self.replan_running
                if running is None:
                    break
                running.wait()
                time.sleep(0.2)
            self.request_check("end")
            self.request_check("__end__")
            checker.join()
            n = self.expire(a.payment_timeout * 60 + 60)  # every order still unpaid
            print(f"  expiry job (all unpaid): {n} expired", flush=True)
            self.checkpoint("expired")
            self.run_replan_now("final")
            # wait_replan queued a check; the checker thread has stopped: run it here
            with self.check_cv:
                self.check_requests.clear()
            final = self.checkpoint("final replan")
            summary = self.summary(elapsed, final)
            return summary
        finally:
            self.stop.set()
            self.stop_processes()
            if not a.keep_db:
                try:
                    self.drop_database()
                except Exception as error:  # noqa: BLE001
                    print(f"  could not drop {self.db_name}: {error}", flush=True)
            else:
                print(f"  kept database: {self.db_url}", flush=True)

    def server_exceptions(self) -> dict[str, int]:
        found = Counter()
        path = self.tmp / "server.log"
        if path.exists():
            for line in path.read_text(errors="replace").splitlines():
                m = re.match(r"^(?:[\w.]+\.)?(\w+(?:Error|Violation|Exception|Exhausted|Deadlock\w*))\b:", line)
                if m:
                    found[m.group(1)] += 1
        return dict(found.most_common(10))

    def summary(self, elapsed: float, final: CheckResult | None) -> dict:
        a = self.args
        stopped = {}
        for c in self.classes:
            last = self.last_offered.get(c)
            if last is None:
                stopped[c] = {"never_offered": True}
            elif last["attempt"] >= self.attempts - a.clients:
                stopped[c] = {"still_offered": True, "last_attempt": last["attempt"], "last_at": last["at"]}
            else:
                stopped[c] = {"last_attempt": last["attempt"], "last_at": last["at"]}
        accepted_by_payment = Counter(o["payment"] for o in self.accepted_orders)
        worst = {k: {"label": next((c["label"] for c in self.checkpoints if c["sim"] == v.now), None),
                     "off_route": v.off_route[:10], "late": v.late[:10], "mismatch_examples": v.mismatch_examples,
                     "mismatch_first_legs": v.mismatch_first_legs}
                 for k, v in self.worst.items()}
        return {
            "clock": a.clock, "config": {k: v for k, v in vars(a).items() if k not in ("check_only",)},
            "database": self.db_name, "real_seconds": round(elapsed, 1),
            "attempts": self.attempts, "accepted": {c: self.accepted.get(c, 0) for c in self.classes},
            "accepted_total": sum(self.accepted.values()), "accepted_by_payment": dict(accepted_by_payment),
            "offered": {c: self.offered.get(c, 0) for c in self.classes},
            "not_feasible": {c: self.refused.get(c, 0) for c in self.classes},
            "refusal_reasons": dict(self.refusal_reasons.most_common()), "quotes_nothing_feasible": self.none_feasible,
            "class_last_offered": stopped, "lost_race_409": self.lost_race, "place_errors": dict(self.place_errors),
            "http_5xx": dict(self.http_5xx), "http_5xx_examples": self.http_5xx_examples,
            "server_exceptions": self.server_exceptions(),
            "cancels_ok": self.cancels_ok,
            "cancels_failed": [c for c in self.cancels_failed if not c["expected"]],
            "cancels_refused_not_cancellable": sum(1 for c in self.cancels_failed if c["expected"]),
            "online": self.online, "paid": self.paid, "pay_failed": self.pay_failed, "expired": self.expired,
            "expiry_failures": self.expiry_failures, "expiry_errors": dict(self.expiry_errors),
            "replans": self.replans, "checkpoints": self.checkpoints,
            "max_off_route": self.max_off, "max_late": self.max_late, "max_audit_off_route": self.max_off_focus,
            "max_audit_late": self.max_late_focus, "max_shift": self.max_shift, "max_capacity": self.max_cap,
            "max_stock": self.max_stock, "worst": worst,
            "final": asdict(final) if final else None,
        }


def print_summary(s: dict) -> None:
    classes = list(s["accepted"])
    print("\n## Promise audit", s["clock"], "UTC\n")
    print("| | " + " | ".join(classes) + " | total |")
    print("|---|" + "---:|" * (len(classes) + 1))
    print("| accepted | " + " | ".join(str(s["accepted"][c]) for c in classes) + f" | {s['accepted_total']} |")
    print("| quotes offering it | " + " | ".join(str(s["offered"][c]) for c in classes) + " | |")
    print("| quotes refusing it | " + " | ".join(str(s["not_feasible"][c]) for c in classes)
          + f" | {s['quotes_nothing_feasible']} with none |")

    def stop_text(v):
        if v.get("never_offered"):
            return "never offered"
        text = f"#{v['last_attempt']} {v['last_at'][11:16]}Z"
        return ("still offered, last " + text) if v.get("still_offered") else ("last offered " + text)
    print("| stopped being offered | " + " | ".join(stop_text(s["class_last_offered"][c]) for c in classes) + " | |")
    print()
    f = s["final"] or {}
    print("| over all checkpoints | max | final |")
    print("|---|---:|---:|")
    print(f"| OFF-ROUTE open orders (all / audit's) | {s['max_off_route']} / {s['max_audit_off_route']} |"
          f" {len(f.get('off_route', []))} / {f.get('focus_off_route', '-')} |")
    print(f"| LATE deliveries (all / audit's) | {s['max_late']} / {s['max_audit_late']} |"
          f" {len(f.get('late', []))} / {f.get('focus_late', '-')} |")
    print(f"| shift / capacity violations | {s['max_shift']} / {s['max_capacity']} |"
          f" {len(f.get('shift_violations', []))} / {len(f.get('capacity_violations', []))} |")
    print(f"| stock violations | {s['max_stock']} | "
          f"{len(f.get('stock_negative', [])) + len(f.get('stock_reserved_mismatch', []))} |")
    print(f"| planned-time mismatches > 60 s | {max((c['mismatches'] for c in s['checkpoints']), default=0)} |"
          f" {f.get('mismatches', '-')} |")
    print(f"| of which optimistic (stored earlier than recomputed) | "
          f"{max((c['mismatch_optimistic'] for c in s['checkpoints']), default=0)} |"
          f" {f.get('mismatch_optimistic', '-')} |")
    slack, drift = f.get("slack_s") or [], f.get("eta_drift_s") or []
    if slack:
        print(f"| open deliveries: slack to deadline, mean / p10 (min) | | {statistics.mean(slack) / 60:.0f} /"
              f" {sorted(slack)[len(slack) // 10] / 60:.0f} |")
    if drift:
        print(f"| planned arrival − ETA shown at checkout, mean / max (min) | | {statistics.mean(drift) / 60:.0f} /"
              f" {max(drift) / 60:.0f} |")
    if f.get("open_orders"):
        print(f"| active routes' km per open order | | {f['route_m'] / 1000 / f['open_orders']:.1f} |")
    print()
    print(f"attempts {s['attempts']} in {s['real_seconds']} s; re-plans {len(s['replans'])}; "
          f"409 window gone while ordering {s['lost_race_409']}; other errors {s['place_errors'] or 0}")
    print(f"HTTP 5xx {s['http_5xx'] or 0}; server exceptions {s['server_exceptions'] or 0}")
    print(f"cancels ok {s['cancels_ok']}, failed {len(s['cancels_failed'])}"
          f" (+{s['cancels_refused_not_cancellable']} no longer cancellable); online {s['online']}, paid {s['paid']}"
          f" (failed {s['pay_failed']}), expired {s['expired']} (could not expire: {s['expiry_failures']}"
          f" {s['expiry_errors'] or ''})")
    for c in s["cancels_failed"][:3]:
        print("  failed cancel:", json.dumps(c, ensure_ascii=False)[:300])
    for e in s["http_5xx_examples"][:3]:
        print("  5xx:", json.dumps(e, ensure_ascii=False)[:300])


# ==================================================================================================
# Entry points
# ==================================================================================================


def child_main(argv: list[str]) -> None:
    """``promise_audit.py _child TOOL ...``: flask, gunicorn or the expiry job, under the audit's clock."""
    if _under_faketime():
        time.sleep = _sleep_without_clock_nanosleep
    project, tool, rest = argv[0], argv[1], argv[2:]
    os.chdir(project)
    sys.path.insert(0, project)
    if tool == "flask":
        from flask.cli import main

        sys.argv = ["flask", *rest]
        main()
    elif tool == "gunicorn":
        from gunicorn.app.wsgiapp import run

        sys.argv = ["gunicorn", *rest]
        run()
    elif tool == "expire":  # the scheduler's expiry job, with "now" this many seconds ahead
        from marketplace import create_app
        from marketplace.payments.services import expire_unpaid

        app = create_app()
        with app.app_context():
            n = expire_unpaid(now=datetime.now(UTC) + timedelta(seconds=float(rest[0])))
            total = n
            while n:  # (it works in batches)
                n = expire_unpaid(now=datetime.now(UTC) + timedelta(seconds=float(rest[0])))
                total += n
        print(f"expired {total}")
    else:
        raise SystemExit(f"unknown child tool {tool!r}")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--orders", type=int, default=900, help="order attempts (quotes) in all")
    p.add_argument("--clients", type=int, default=4, help="client threads")
    p.add_argument("--consumers", type=int, default=40)
    p.add_argument("--replan-every", type=int, default=60, help="re-plan every N accepted orders")
    p.add_argument("--plan-seconds", type=float, default=5.0, help="flask plan --seconds (per warehouse)")
    p.add_argument("--clock", default="2026-12-01 19:47", help="simulated start time, UTC")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--keep-db", action="store_true")
    p.add_argument("--out", help="summary JSON (default bench/results/promise_audit-<clock>.json)")
    p.add_argument("--workers", type=int, default=3, help="gunicorn workers")
    p.add_argument("--check-every", type=int, default=50, help="checkpoint every N attempts")
    p.add_argument("--prefer-short", type=float, default=0.5, help="share of orders taking the shortest window")
    p.add_argument("--coop-rate", type=float, default=0.3, help="share of carts with a cooperative-only product")
    p.add_argument("--online-rate", type=float, default=0.2)
    p.add_argument("--pay-rate", type=float, default=0.5, help="share of online orders paid right away")
    p.add_argument("--cancel-rate", type=float, default=0.05)
    p.add_argument("--payment-timeout", type=int, default=15, help="PAYMENT_TIMEOUT_MINUTES for the server")
    p.add_argument("--expire-after", type=float, default=20, help="unpaid orders expire after this many seconds")
    p.add_argument("--expire-every", type=float, default=10, help="run the expiry job every N real seconds")
    p.add_argument("--stop-after", type=int, default=50, help="stop after N consecutive quotes with nothing feasible")
    p.add_argument("--max-minutes", type=float, default=45, help="stop the clients after this long")
    p.add_argument("--project", help="the source tree to serve (default: this one); it must use this venv")
    p.add_argument("--pg-admin-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    p.add_argument("--check-only", action="store_true", help="only run the checker against --database-url")
    p.add_argument("--database-url", help="with --check-only")
    p.add_argument("--now", help="with --check-only: 'now' (ISO, UTC) instead of the real clock")
    p.add_argument("--examples", type=int, default=5, help="violations shown per kind")
    return p.parse_args(argv)


def parse_clock(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def main(argv: list[str]) -> int:
    if argv[:1] == ["_child"]:
        child_main(argv[1:])
        return 0
    args = parse_args(argv)
    if args.check_only:
        if not args.database_url:
            raise SystemExit("--check-only needs --database-url")
        url = args.database_url.replace("postgresql+psycopg://", "postgresql://")
        res = check_database(url, now=parse_clock(args.now) if args.now else None, examples=args.examples)
        print(f"{res.now} plans {res.active_plans} routes {res.routes} stops {res.stops} | {res.line()}"
              f" | overdue open {res.overdue_open} | {res.seconds} s")
        print_details(res, args.examples)
        return 1 if res.violations() else 0
    if args.project:
        os.environ["PROMISE_AUDIT_PROJECT"] = str(Path(args.project).resolve())
    if os.environ.get(FAKETIME_MARK) != args.clock:  # re-run the whole audit on the simulated clock
        if not shutil.which("faketime"):
            raise SystemExit("faketime is missing: apt-get install -y faketime")
        start = parse_clock(args.clock)
        env = dict(os.environ, FAKETIME_DONT_RESET="1", DONT_FAKE_MONOTONIC="1", FAKETIME_DONT_FAKE_MONOTONIC="1",
                   NO_FAKE_STAT="1", TZ="UTC", PYTHONUNBUFFERED="1", **{FAKETIME_MARK: args.clock})
        os.execvpe("faketime", ["faketime", "-f", f"@{start:%Y-%m-%d %H:%M:%S}", sys.executable,
                                str(Path(__file__).resolve()), *argv], env)
    if _under_faketime():
        time.sleep = _sleep_without_clock_nanosleep
    global PROJECT
    PROJECT = Path(os.environ.get("PROMISE_AUDIT_PROJECT", HERE))
    audit = Audit(args)
    summary = audit.run()
    out = Path(args.out) if args.out else (
        HERE / "bench" / "results" / f"promise_audit-{parse_clock(args.clock):%Y%m%dT%H%M}.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1, ensure_ascii=False, default=str))
    print_summary(summary)
    if audit.last_result is not None:
        print("\nfinal checkpoint details:")
        print_details(audit.last_result, args.examples)
    print(f"\nsummary: {out}")
    shutil.rmtree(audit.tmp / "instance", ignore_errors=True)
    print(f"server log: {audit.tmp / 'server.log'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
