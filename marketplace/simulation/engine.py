"""The event loop of ``flask simulate``: the real services on a simulated clock.

A run builds its own application on its own database (:func:`prepare_database`: a fresh SQLite
file by default; a given URL must be empty or one an earlier run made), migrates it, seeds the
demo county and then travels (time_machine, without ticking) from event to event:

- ``order``: a simulated consumer's cart is quoted by the real ``checkout.quote``; they take the
  window they prefer if offered, else the next longer offered one with some probability, else
  leave; the order goes through the real ``checkout.place_order`` (cash on delivery, or online
  and paid through the sandbox provider's real notification path, or left unpaid to expire);
- the scheduler's jobs: ``replan`` (``planning.replan_all`` every ``replan_minutes``), the
  promise watchdog and the unpaid-order expiry (at most once a simulated minute, before any
  event), ``learn`` (the feedback loop, every 15 minutes unless ``feedback`` is off), the
  complaint SLA job (every 5 minutes);
- vans: a van whose route the plan sent off drives its pending stops in order with the true
  travel and service times of :class:`world.Roads`, recorded through ``dispatch.services``
  (``start_route``, ``arrive``, ``record_stop``), then goes home; a breakdown goes through
  ``dispatch.actions.mark_broken_down``;
- complaints: a late (or damaged) delivery's consumer complains with some probability through
  ``complaints.file_complaint``; staff reply and resolve it (coupon or refund) some hours later.

Determinism: every random draw comes from ``random.Random`` streams derived from the seed
(demand, roads, complaints and breakdowns each their own, so one cannot shift another), rows are
read in id order. What is not reproducible: OR-Tools is stopped by a wall-clock time limit, so
two runs may get different routes and so different offers, times and KPIs downstream of them;
order and payment numbers are drawn by the application from ``secrets``. The demand (arrivals,
carts, wishes) and the hidden factors are reproducible exactly.
"""

from __future__ import annotations

import heapq
import itertools
import random
import shutil
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import time_machine
from werkzeug.security import generate_password_hash

from . import planning_queue, prefecture, world

MARKER = "simulation.database"
#: the simulator's consumers have mobiles 199 5xxx xxxx (not used by the demo's accounts)
MOBILE_PREFIX = "1995"
LEARN_MINUTES = 15
SLA_MINUTES = 5
WATCHDOG_S = 60
#: after the last day, vans keep driving (no new orders) until every order is made, or this long
#: (the longest window, 18 h, and two hours more)
DRAIN = timedelta(hours=20)


class RefusedDatabase(Exception):
    """The database given holds data the simulator did not make: it is never touched."""


@dataclass
class Settings:
    days: int = 1
    orders_per_day: int = 200
    seed: int = 1
    feedback: bool = True
    start: datetime = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 2026-12-01 00:00 in Shanghai
    solve_seconds: float = 1.0
    replan_minutes: int = 5
    consumers: int = 0  # 0: one per 4 orders a day, at least 40
    breakdowns: bool = True
    hours: float | None = None  # a run shorter than its days (tests): orders only in the first hours
    # at scale (issue 23): prefecture.py, planning_queue.py
    scale: str = "county"  # "prefecture": the county replicated to 18 warehouses
    queue: str = "inline"  # "celery": each re-plan cycle on a job queue of the run's own
    workers: int = 0  # with celery: worker processes started for the run (0: started by hand)
    broker_url: str = "redis://127.0.0.1:6379/1"
    result_backend: str = "redis://127.0.0.1:6379/2"
    drain: bool = True  # after the last hour, drive on until every order is made (False: stop there)


# --- the database ---------------------------------------------------------------------------------


def default_url() -> tuple[str, Path]:
    folder = Path(tempfile.mkdtemp(prefix="shanhuo-sim-"))
    return f"sqlite:///{folder / 'simulation.db'}", folder


def inspect_database(url: str) -> str:
    """"empty", "simulation" (an earlier run's) or raises RefusedDatabase."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = set(sa.inspect(conn).get_table_names())
            if not tables - {"alembic_version"}:
                return "empty"
            if "users" not in tables:
                raise RefusedDatabase(f"{_safe(url)} holds tables of something else than Shanhuo: refused.")
            if conn.execute(sa.text("SELECT 1 FROM users LIMIT 1")).first() is None:
                return "empty"
            marked = "audit_log" in tables and conn.execute(
                sa.text("SELECT 1 FROM audit_log WHERE action = :a LIMIT 1"), {"a": MARKER}).first() is not None
            if not marked:
                raise RefusedDatabase(
                    f"{_safe(url)} holds accounts that no simulation made (real or demo data): refused. "
                    "Give an empty database, or none for a temporary SQLite file.")
            return "simulation"
    finally:
        engine.dispose()


def _safe(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def reset_database(url: str) -> None:
    """Empty a database an earlier simulation made (checked by :func:`inspect_database`)."""
    parsed = sa.engine.make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).unlink(missing_ok=True)
        return
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("DROP SCHEMA public CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA public"))
    finally:
        engine.dispose()


def prepare_database(url: str) -> str:
    state = inspect_database(url)
    if state == "simulation":
        reset_database(url)
    return state


def build_app(url: str, upload_dir: str, overrides: dict[str, Any] | None = None):
    from .. import create_app

    return create_app({
        "SQLALCHEMY_DATABASE_URI": url, "SCHEDULER_ENABLED": False, "PAYMENT_SANDBOX_DELIVERY": "inline",
        "UPLOAD_DIR": upload_dir, "LOG_LEVEL": "ERROR", "RATELIMIT_STORAGE_URI": "memory://",
        "PLANNING_QUEUE": "inline", "PAGE_CACHE_SECONDS": 0.0, **(overrides or {}),
    })


# --- the run --------------------------------------------------------------------------------------


@dataclass
class Van:
    id: int
    warehouse_id: int
    speed_kmh: float
    depot: tuple[float, float]
    pos: tuple[float, float]
    free_at: datetime
    busy: bool = False  # an event of this van is pending
    home: bool = True
    out_since: datetime | None = None
    broken_until: datetime | None = None
    broke_on: set = field(default_factory=set)  # local dates it broke down


@dataclass
class Counters:
    attempts: int = 0
    requested: Counter = field(default_factory=Counter)  # class code -> consumers asking for it
    offered: Counter = field(default_factory=Counter)  # class code -> of those, offered it
    any_offered: Counter = field(default_factory=Counter)  # class code -> offered in a quote
    quotes: int = 0
    took_preferred: int = 0
    took_longer: int = 0
    left: Counter = field(default_factory=Counter)  # reason -> consumers who left
    not_offered: Counter = field(default_factory=Counter)  # "class:reason" -> preferred window not offered
    placed: int = 0
    place_failed: Counter = field(default_factory=Counter)
    paid: int = 0
    km: float = 0.0
    van_seconds: float = 0.0
    stops_made: int = 0
    deliveries: int = 0
    breakdowns: int = 0
    complaints_filed: int = 0
    complaints_resolved: int = 0
    plan_cycles: list = field(default_factory=list)  # wall seconds per re-plan cycle
    learner_runs: int = 0
    moves_accepted: int = 0  # milk runs the cooperatives' heads accepted from their suggestions
    units_moved: int = 0
    watchdog_runs: int = 0
    events: int = 0


class Simulation:
    def __init__(self, settings: Settings, progress: Callable[[int], None] | None = None) -> None:
        self.s = settings
        self.progress = progress or (lambda n: None)
        self.planning_queue = planning_queue.for_settings(settings)  # (run() gives its own, workers started)
        seed = settings.seed
        self.rng_demand = random.Random(f"{seed}:demand")
        self.rng_roads = random.Random(f"{seed}:roads")
        self.rng_complaints = random.Random(f"{seed}:complaints")
        self.rng_breakdowns = random.Random(f"{seed}:breakdowns")
        self.rng_keys = random.Random(f"{seed}:keys")
        self.queue: list = []
        self.seq = itertools.count()
        self.counters = Counters()
        self.vans: dict[int, Van] = {}
        self.consumers: list[tuple[int, int]] = []  # (user id, address id)
        self.user_ids: set[int] = set()
        self.last_watchdog: datetime | None = None
        self.now = settings.start
        self.roads = world.Roads({}, self.rng_roads)
        self.end = settings.start + (timedelta(hours=settings.hours) if settings.hours else timedelta(days=settings.days))
        self.hidden: dict[str, float] = {}
        self.initial_factors: dict[str, float] = {}
        self.classes: list[tuple[str, int]] = []  # (code, hours), shortest first
        self.staff_id: int | None = None
        self.damaged: set[int] = set()
        self.complained: set[int] = set()

    # -- the calendar --
    def at(self, when: datetime, kind: str, *payload: Any) -> None:
        heapq.heappush(self.queue, (when, next(self.seq), kind, payload))

    def key(self) -> str:
        return "sim" + "".join(self.rng_keys.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(20))

    # -- set-up --
    def setup(self) -> None:
        from seed import load

        from ..extensions import db
        from ..models import Address, Role, User, Vehicle, Village, WindowClass, Zone
        from ..planning import promise

        promise.invalidate()
        load.seed_all(history_days=0, progress=False, photos=False)
        if self.s.scale == "prefecture":
            prefecture.build(self.s.orders_per_day)
        zones = db.session.execute(sa.select(Zone.id, Zone.code, Zone.terrain).order_by(Zone.code)).all()
        self.zone_code = {z.id: z.code for z in zones}
        self.hidden = world.hidden_factors([(z.code, str(z.terrain.value)) for z in zones],
                                           random.Random(f"{self.s.seed}:zones"))
        self.initial_factors = self.learned_factors()
        self.classes = [(c.code, c.hours) for c in db.session.scalars(
            sa.select(WindowClass).where(WindowClass.active.is_(True)).order_by(WindowClass.hours))]
        self.staff_id = db.session.scalar(sa.select(User.id).where(User.role == Role.COMPLAINT_STAFF).order_by(User.id))
        villages = db.session.scalars(sa.select(Village).order_by(Village.code)).all()
        n = self.s.consumers or max(40, self.s.orders_per_day // 4)
        password = generate_password_hash("simulated-" + str(self.s.seed), method="pbkdf2:sha256:1000")
        rng = random.Random(f"{self.s.seed}:consumers")
        for i in range(n):
            village = rng.choice(villages)
            user = User(mobile=f"{MOBILE_PREFIX}{i:07d}", name=f"Sim {i}", role=Role.CONSUMER, password_hash=password)
            db.session.add(user)
            db.session.flush()
            address = Address(user_id=user.id, village_id=village.id, detail=f"{i % 40 + 1} 号", recipient_name=f"Sim {i}",
                              recipient_mobile=user.mobile, is_default=True,
                              lat=village.lat + rng.uniform(-0.002, 0.002), lon=village.lon + rng.uniform(-0.002, 0.002))
            db.session.add(address)
            db.session.flush()
            self.consumers.append((user.id, address.id))
            self.user_ids.add(user.id)
        from ..admin.services import audit

        audit(MARKER, actor_id=None, object_type="simulation", data={
            "seed": self.s.seed, "days": self.s.days, "orders_per_day": self.s.orders_per_day,
            "feedback": self.s.feedback, "hidden_factors": self.hidden})
        db.session.commit()
        for v in db.session.scalars(sa.select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.id)):
            depot = (v.warehouse.location.lat, v.warehouse.location.lon)
            self.vans[v.id] = Van(v.id, v.warehouse_id, float(v.speed_kmh), depot, depot, self.s.start)
        self.products = self._products()

    def _products(self) -> list[int]:
        from ..catalog.services import on_sale
        from ..extensions import db

        return list(db.session.scalars(on_sale(for_display=False).with_only_columns(
            sa.text("products.id")).order_by(sa.text("products.id"))))

    def learned_factors(self) -> dict[str, float]:
        from ..extensions import db
        from ..models import LogisticsParameter, ParameterScope

        rows = db.session.execute(sa.select(LogisticsParameter.scope_id, LogisticsParameter.value).where(
            LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.key == "travel_factor")).all()
        return {self.zone_code[z]: round(float(v), 3) for z, v in sorted(rows) if z in self.zone_code}

    def schedule(self) -> None:
        start, end = self.s.start, self.end
        day = start.astimezone(world.LOCAL).date()
        for d in range(self.s.days):
            for wish in world.wishes(day + timedelta(days=d), self.s.orders_per_day, len(self.consumers),
                                     self.products, self.rng_demand):
                if start <= wish.at < end:
                    self.at(wish.at, "order", wish)
        t = start
        while t < end + DRAIN:
            self.at(t, "replan")
            t += timedelta(minutes=self.s.replan_minutes)
        if self.s.feedback:
            t = start + timedelta(minutes=LEARN_MINUTES)
            while t < end + DRAIN:
                self.at(t, "learn")
                t += timedelta(minutes=LEARN_MINUTES)
        t = start
        while t < end + DRAIN:
            self.at(t, "sla")
            t += timedelta(minutes=SLA_MINUTES)
        for d in range(self.s.days + 1):  # the heads look at their suggestions each morning
            t = datetime.combine(day + timedelta(days=d), world.HEADS_REVIEW_AT, world.LOCAL).astimezone(UTC)
            if start <= t < end + DRAIN:
                self.at(t, "heads")

    # -- the loop --
    def run(self, traveller) -> None:
        from ..extensions import db

        total = len(self.queue)
        done = 0
        while self.queue:
            when, _seq, kind, payload = heapq.heappop(self.queue)
            if when >= self.end and kind in ("replan", "learn", "sla") and (not self.s.drain or self.all_settled()):
                break
            when = max(when, self.now)  # (a van's event recorded late never moves the clock back)
            self.now = when
            traveller.move_to(when)
            self._jobs(when)
            getattr(self, "on_" + kind)(when, *payload)
            db.session.remove()  # every event starts on fresh reads
            self.counters.events += 1
            if kind in ("order", "replan", "learn", "sla"):
                done += 1
                self.progress(1)
        self.progress(max(0, total - done))

    def all_settled(self) -> bool:
        from ..extensions import db
        from ..models import Order
        from ..orders.models import OrderStatus

        open_orders = db.session.scalar(sa.select(sa.func.count(Order.id)).where(
            Order.status.in_((OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.DISPATCHED))))
        return not open_orders and not any(v.busy for v in self.vans.values())

    def _jobs(self, now: datetime) -> None:
        """The minute jobs (promise watchdog, unpaid expiry), at most once a simulated minute."""
        from ..payments import services as payments
        from ..planning import watchdog

        if self.last_watchdog is not None and (now - self.last_watchdog).total_seconds() < WATCHDOG_S:
            return
        self.last_watchdog = now
        payments.expire_unpaid(now)
        watchdog.check_promises(now)
        self.counters.watchdog_runs += 1

    # -- consumers --
    def on_order(self, now: datetime, wish: world.Wish) -> None:
        from ..checkout import services as checkout
        from ..errors import DomainError
        from ..extensions import db

        c = self.counters
        c.attempts += 1
        user_id, address_id = self.consumers[wish.consumer]
        by_hours = {h: code for code, h in self.classes}
        wanted = by_hours.get(wish.preferred_hours) or self.classes[-1][0]
        c.requested[wanted] += 1
        try:
            quote = checkout.quote(user_id, address_id, dict(wish.cart), now)
        except DomainError as error:
            db.session.rollback()
            c.left[getattr(error, "code", type(error).__name__)] += 1
            return
        c.quotes += 1
        feasible = [w.code for w in quote.windows if w.feasible]
        for code in feasible:
            c.any_offered[code] += 1
        order_of = [code for code, _h in self.classes]
        choice = None
        if wanted in feasible:
            c.offered[wanted] += 1
            choice = wanted
            c.took_preferred += 1
        else:
            why = next((w.reason_code for w in quote.windows if w.code == wanted), None) or "not_quoted"
            c.not_offered[f"{wanted}:{why}"] += 1
            longer = [code for code in order_of[order_of.index(wanted) + 1:] if code in feasible]
            if longer and wish.take_longer < world.TAKE_LONGER:
                choice = longer[0]
                c.took_longer += 1
        if choice is None:
            c.left["no_window" if not feasible else "window_not_wanted"] += 1
            return
        method = "online" if wish.online else "cod"
        try:
            order = checkout.place_order(user_id, address_id, choice, method, self.key(), cart_items=dict(wish.cart),
                                         now=now)
        except DomainError as error:
            db.session.rollback()
            c.place_failed[getattr(error, "code", type(error).__name__)] += 1
            return
        c.placed += 1
        if wish.online and wish.pays:
            self.at(now + timedelta(seconds=wish.pay_after_s), "pay", order.id)

    def on_pay(self, now: datetime, order_id: int) -> None:
        from ..extensions import db
        from ..models import Order
        from ..orders.models import OrderStatus
        from ..payments import sandbox
        from ..payments import services as payments

        order = db.session.get(Order, order_id)
        if order is None or order.status != OrderStatus.PENDING_PAYMENT:
            return
        payment = payments.start_payment(order)
        db.session.commit()
        if sandbox.pay(payment):
            self.counters.paid += 1
        db.session.commit()

    # -- the scheduler's jobs --
    def on_replan(self, now: datetime) -> None:
        from ..planning import services as planning

        cycle, sent = f"sim-{now.isoformat()}", planning_queue.real_time()
        t0 = time.perf_counter()
        plan_ids = planning.replan_all(seconds=self.s.solve_seconds, cycle=cycle, now=now)  # (workers: now travels)
        self.counters.plan_cycles.append(time.perf_counter() - t0)
        self.planning_queue.record(cycle, now, sent, self.counters.plan_cycles[-1], plan_ids)
        self.wake_vans(now)

    def on_learn(self, now: datetime) -> None:
        from ..logistics import learning

        learning.run(now)
        self.counters.learner_runs += 1

    def on_heads(self, now: datetime) -> None:
        """Every cooperative's head opens the replenishment page (the real suggestions: sales and
        short windows lost to goods sitting at the cooperative) and accepts each suggestion."""
        from ..coop import replenishment
        from ..errors import DomainError
        from ..extensions import db
        from ..models import Cooperative, CooperativeStatus, Role, User

        heads = db.session.execute(
            sa.select(Cooperative, User.id).join(User, User.cooperative_id == Cooperative.id)
            .where(User.role == Role.COOP_HEAD, Cooperative.status == CooperativeStatus.APPROVED)
            .order_by(Cooperative.id, User.id)).all()
        seen: set[int] = set()
        for cooperative, head_id in heads:
            if cooperative.id in seen:
                continue
            seen.add(cooperative.id)
            for suggestion in replenishment.page(cooperative, now).suggestions:
                try:
                    replenishment.accept(cooperative.id, head_id, suggestion.product.id, suggestion.warehouse.id,
                                         suggestion.quantity, now=now)
                except DomainError:
                    db.session.rollback()
                    continue
                self.counters.moves_accepted += 1
                self.counters.units_moved += suggestion.quantity

    def on_sla(self, now: datetime) -> None:
        from ..complaints import services as complaints

        complaints.escalate(now)

    # -- vans --
    def wake_vans(self, now: datetime) -> None:
        for van in self.vans.values():
            if not van.busy:
                self.drive(van, now)

    def _route(self, van: Van):
        from ..extensions import db
        from ..models import Plan, PlanStatus, Route, RouteStatus

        return db.session.scalar(
            sa.select(Route).join(Plan, Plan.id == Route.plan_id)
            .where(Plan.status == PlanStatus.ACTIVE, Plan.warehouse_id == van.warehouse_id,
                   Route.vehicle_id == van.id, Route.status == RouteStatus.STARTED)
            .order_by(Route.id.desc()).limit(1))

    def _next_stop(self, route):
        from ..models import StopStatus

        pending = [s for s in route.stops if s.status == StopStatus.PENDING]
        return min(pending, key=lambda s: s.sequence) if pending else None

    def drive(self, van: Van, now: datetime) -> None:
        """Send the (idle) van on to its next stop, or home when it has none."""
        if van.broken_until is not None:
            if now < van.broken_until:
                return
            van.broken_until, van.pos, van.home, van.free_at = None, van.depot, True, now
        route = self._route(van)
        stop = self._next_stop(route) if route is not None else None
        if stop is None:
            if not van.home:
                self._leg(van, max(van.free_at, now), van.depot, None, "home")
            return
        from ..dispatch import services as dispatch

        # the driver learns that the plan sent the van off at the re-plan that did (not before)
        leave = max(van.free_at, now)
        if van.home:
            dispatch.start_route(route.id, at=leave)  # (idempotent: the plan has started it)
            van.home, van.out_since = False, leave
        zone = self.zone_of(stop)
        self._leg(van, leave, (stop.lat, stop.lon), zone, "arrive", stop.kind.value,
                  stop.order_id, stop.replenishment_id)

    def _leg(self, van: Van, leave: datetime, to: tuple[float, float], zone: str | None, kind: str, *payload) -> None:
        seconds, metres = self.roads.leg(van.pos, to, zone, van.speed_kmh, leave)
        arrive = leave + timedelta(seconds=seconds)
        self.counters.km += metres / 1000
        van.busy, van.pos = True, to
        self.at(arrive, "van_" + kind, van.id, *payload)

    def on_van_wake(self, now: datetime, van_id: int) -> None:
        van = self.vans[van_id]
        van.busy = False
        self.drive(van, now)

    def on_van_home(self, now: datetime, van_id: int) -> None:
        from ..dispatch import services as dispatch
        from ..extensions import db

        van = self.vans[van_id]
        van.busy, van.home, van.free_at = False, True, now
        try:  # the driver taps "back at the warehouse" (unless the plan sent the van's next trip off meanwhile)
            dispatch.back_at_depot(van.id, at=now)
        except dispatch.StopsLeft:
            db.session.rollback()
        if van.out_since is not None:
            self.counters.van_seconds += (now - van.out_since).total_seconds()
            van.out_since = None
        self.drive(van, now)

    def _same_visit(self, van: Van, kind: str, order_id: int | None, replenishment_id: int | None):
        from ..models import StopStatus

        route = self._route(van)
        if route is None:
            return None
        for stop in sorted(route.stops, key=lambda s: s.sequence):
            if stop.status == StopStatus.PENDING and stop.kind.value == kind and stop.order_id == order_id \
                    and stop.replenishment_id == replenishment_id:
                return stop
        return None

    def on_van_arrive(self, now: datetime, van_id: int, kind: str, order_id: int | None,
                      replenishment_id: int | None) -> None:
        from ..dispatch import services as dispatch

        van = self.vans[van_id]
        stop = self._same_visit(van, kind, order_id, replenishment_id)
        if stop is None:  # re-planned away while it drove there: on to what the plan says now
            van.busy, van.free_at = False, now
            self.drive(van, now)
            return
        dispatch.arrive(stop.id, at=now)
        if self.s.breakdowns and self._breaks_down(van, now):
            return
        self.at(now + timedelta(seconds=self.roads.service()), "van_done", van_id, kind, order_id, replenishment_id)

    def _breaks_down(self, van: Van, now: datetime) -> bool:
        from ..dispatch import actions

        day = now.astimezone(world.LOCAL).date()
        if day in van.broke_on or self.rng_breakdowns.random() >= world.BREAKDOWN_PER_VAN_DAY / 8:
            return False
        van.broke_on.add(day)
        breakdown = actions.mark_broken_down(van.warehouse_id, van.id, now=now, seconds=self.s.solve_seconds)
        self.counters.breakdowns += 1
        if van.out_since is not None:
            self.counters.van_seconds += (now - van.out_since).total_seconds()
        van.busy, van.out_since, van.broken_until = True, None, breakdown.until
        self.at(breakdown.until, "van_wake", van.id)
        self.wake_vans(now)  # the re-plan gave its stops to the others
        return True

    def on_van_done(self, now: datetime, van_id: int, kind: str, order_id: int | None,
                    replenishment_id: int | None) -> None:
        from ..dispatch import services as dispatch
        from ..models import StopStatus

        van = self.vans[van_id]
        stop = self._same_visit(van, kind, order_id, replenishment_id)
        if stop is not None:
            dispatch.record_stop(stop.id, StopStatus.DONE, at=now, proof={"kind": "simulated", "name": "Sim"})
            self.counters.stops_made += 1
            if kind == "delivery" and order_id is not None:
                self.counters.deliveries += 1
                self._maybe_complain(now, order_id)
        van.busy, van.free_at = False, now
        self.drive(van, now)

    def zone_of(self, stop) -> str | None:
        from ..extensions import db
        from ..models import Location, Order

        if stop.order_id is not None and stop.kind.value == "delivery":
            zone_id = db.session.scalar(sa.select(Order.zone_id).where(Order.id == stop.order_id))
        elif stop.location_id is not None:
            zone_id = db.session.scalar(sa.select(Location.zone_id).where(Location.id == stop.location_id))
        else:
            zone_id = None
        return self.zone_code.get(zone_id) if zone_id is not None else None

    # -- complaints --
    def _maybe_complain(self, now: datetime, order_id: int) -> None:
        from ..extensions import db
        from ..models import Order

        order = db.session.get(Order, order_id)
        if order is None or order.user_id not in self.user_ids:
            return
        rng = self.rng_complaints
        late = order.delivered_at is not None and order.delivered_at > order.deadline_at
        damaged = rng.random() < world.DAMAGED
        if damaged:
            self.damaged.add(order_id)
        if (late and rng.random() < world.COMPLAIN_IF_LATE) or damaged:
            after = timedelta(minutes=rng.randint(10, 360))
            self.at(now + after, "complain", order_id, "damaged" if damaged else "late")

    def on_complain(self, now: datetime, order_id: int, category: str) -> None:
        from ..complaints import services as complaints
        from ..errors import DomainError
        from ..extensions import db
        from ..models import Order

        order = db.session.get(Order, order_id)
        text = {"late": "The delivery came later than the window I paid for.",
                "damaged": "One of the items arrived broken, the box was crushed."}[category]
        intake = complaints.Intake(category=category, text=text, line_ids=[order.lines[0].id] if order.lines else [],
                                   photos=[], idempotency_key=self.key())
        try:
            complaint = complaints.file_complaint(order.user_id, order.number, intake, now=now)
        except DomainError:
            db.session.rollback()
            return
        self.counters.complaints_filed += 1
        self.complained.add(order_id)
        # staff answer 20 minutes or more later (2 hours on average beyond that, at most 8 hours)
        after = timedelta(minutes=int(20 + self.rng_complaints.expovariate(1 / 120)))
        self.at(now + min(after, timedelta(hours=8)), "resolve", complaint.number, category, order_id)

    def on_resolve(self, now: datetime, number: str, category: str, order_id: int) -> None:
        from ..complaints import services as complaints
        from ..errors import DomainError
        from ..extensions import db

        staff = self.staff_id
        if staff is None:
            return
        try:
            complaints.reply(number, "Sorry about this. We have made it right; see the resolution below.", staff,
                             now=now)
            if category == "damaged":
                amount = complaints.refundable(number)
                if amount > 0:
                    complaints.refund(number, amount, self.key(), staff, note="simulated: damaged goods")
            else:
                complaints.coupon(number, 500, self.key(), staff, note="simulated: late delivery")
            complaints.change_status(number, "resolved", staff, now=now)
        except DomainError:
            db.session.rollback()
            return
        self.counters.complaints_resolved += 1


@dataclass
class Outcome:
    report: dict
    url: str
    wall_seconds: float


def run(settings: Settings, url: str | None = None, progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None) -> Outcome:
    """Prepare the database, run the simulation, return the KPIs (see :mod:`.kpi`)."""
    from ..extensions import db
    from ..planning import promise
    from . import kpi

    folder = None
    queue = planning_queue.for_settings(settings)
    queue.check(url or "sqlite://")  # (celery: workers share the database, PostgreSQL only)
    if url is None:
        url, folder = default_url()
    prepare_database(url)
    queue.check(url)
    uploads = tempfile.mkdtemp(prefix="shanhuo-sim-uploads-")
    app = build_app(url, uploads, queue.config())
    queue.start(app)  # the workers, before the clock stops (waiting for them needs the real one)
    t0 = time.perf_counter()
    traveller_ctx = time_machine.travel(settings.start, tick=False)
    traveller = traveller_ctx.start()
    try:
        with app.app_context():
            import logging

            from flask_migrate import upgrade

            logging.getLogger("alembic").setLevel(logging.WARNING)
            upgrade()
            sim = Simulation(settings, progress)
            sim.planning_queue = queue
            sim.setup()
            sim.roads.factors = sim.hidden
            sim.schedule()
            if on_total:
                on_total(sum(1 for e in sim.queue if e[2] in ("order", "replan", "learn", "sla")))
            sim.run(traveller)
            report = kpi.report(sim)
            report["planning_cycles"] = {"scale": settings.scale, "hours": settings.hours, "drain": settings.drain,
                                         **queue.report()}
            report["wall_seconds"] = round(time.perf_counter() - t0, 1)
            db.session.remove()
            db.engine.dispose()
    finally:
        traveller_ctx.stop()
        queue.stop()
        promise.invalidate()  # (quoting states cached in this process belong to the simulation's database)
        shutil.rmtree(uploads, ignore_errors=True)
    return Outcome(report, url, time.perf_counter() - t0)

