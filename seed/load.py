"""`flask seed`: load the demo county. Idempotent — every row is found by its natural key first,
and the generated history is only made when none exists, so a second run changes nothing."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from dataclasses import field as dc_field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from werkzeug.security import generate_password_hash

from marketplace.columns import utcnow
from marketplace.extensions import db
from marketplace.models import (
    Address,
    Batch,
    Category,
    ChangeSource,
    Compensation,
    CompensationKind,
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintResolution,
    ComplaintStatus,
    Cooperative,
    County,
    Driver,
    Location,
    LocationKind,
    LogisticsParameter,
    Order,
    OrderEvent,
    OrderLine,
    OrderStatus,
    ParameterChange,
    ParameterScope,
    Payment,
    PaymentMethod,
    PaymentStatus,
    Plan,
    PlanEvent,
    PlanStatus,
    PlanTrigger,
    Product,
    ProductStatus,
    ResolutionKind,
    Role,
    Route,
    RouteStatus,
    Stock,
    StockMovement,
    Stop,
    StopKind,
    StopStatus,
    Town,
    User,
    Vehicle,
    Village,
    Warehouse,
    WindowClass,
    Zone,
)
from marketplace.planning import watchdog

from . import data, terms

LOCAL = ZoneInfo("Asia/Shanghai")
HISTORY_PREFIX = "SH"
DEMO_PASSWORD = "shanhuo123"


_known: dict[tuple, dict[tuple, Any]] = {}  # rows by natural key, loaded once per model and step


def _get_or_create(model: type, key: dict[str, Any], **fields: Any) -> Any:
    names = tuple(sorted(key))
    known = _known.get((model, names))
    if known is None:
        known = _known[(model, names)] = {
            tuple(getattr(row, n) for n in names): row for row in db.session.scalars(sa.select(model))
        }
    values = tuple(key[n] for n in names)
    row = known.get(values)
    if row is None:
        row = known[values] = model(**key, **fields)
        db.session.add(row)
        db.session.flush()
    return row


def _index(model: type, attr: str) -> dict[str, Any]:
    return {getattr(row, attr): row for row in db.session.scalars(sa.select(model))}


def seed_gazetteer() -> None:
    county = _get_or_create(County, {"code": data.COUNTY["code"]}, **{k: v for k, v in data.COUNTY.items() if k != "code"})
    for z in data.ZONES:
        _get_or_create(Zone, {"code": z["code"]}, name_zh=z["name_zh"], name_en=z["name_en"], terrain=z["terrain"])
    zones = _index(Zone, "code")
    for t in data.TOWNS:
        _get_or_create(Town, {"code": t["code"]}, county_id=county.id, zone_id=zones[t["zone"]].id,
                       name_zh=t["name_zh"], name_en=t["name_en"], lat=t["lat"], lon=t["lon"])
    towns = _index(Town, "code")
    for v in data.VILLAGES:
        _get_or_create(Village, {"code": v["code"]}, town_id=towns[v["town"]].id, zone_id=zones[v["zone"]].id,
                       name_zh=v["name_zh"], name_en=v["name_en"], lat=v["lat"], lon=v["lon"],
                       elevation_m=v["elevation_m"])


def seed_logistics() -> None:
    villages, zones = _index(Village, "code"), _index(Zone, "code")
    for w in data.WAREHOUSES:
        village = villages[w["village"]]
        location = _get_or_create(
            Location, {"code": f"L-{w['code']}"}, kind=LocationKind.WAREHOUSE, name_zh=w["name_zh"],
            name_en=w["name_en"], village_id=village.id, zone_id=village.zone_id, lat=w["lat"], lon=w["lon"],
            address_zh=w["address_zh"],
        )
        warehouse = db.session.scalar(sa.select(Warehouse).filter_by(code=w["code"]))
        if warehouse is None:
            warehouse = Warehouse(code=w["code"], location_id=location.id, zones=[zones[z] for z in w["zones"]])
            db.session.add(warehouse)
    db.session.flush()
    warehouses = _index(Warehouse, "code")
    for v in data.VEHICLES:
        driver = _get_or_create(Driver, {"mobile": v["driver_mobile"]}, name=v["driver_name"])
        _get_or_create(
            Vehicle, {"plate": v["plate"]}, kind=v["kind"], warehouse_id=warehouses[v["warehouse"]].id,
            driver_id=driver.id, capacity_weight_g=v["capacity_weight_g"],
            capacity_volume_cm3=v["capacity_volume_cm3"], speed_kmh=v["speed_kmh"],
            shift_start=time.fromisoformat(v["shift_start"]), shift_end=time.fromisoformat(v["shift_end"]),
        )
    for w in data.WINDOW_CLASSES:
        _get_or_create(
            WindowClass, {"code": w["code"]}, hours=w["hours"], fee_fen=w["fee_fen"], name_zh=w["name_zh"],
            name_en=w["name_en"], compensation_steps=w["compensation"]["steps"],
            compensation_cap_fen=w["compensation"]["cap_fen"],
        )
    # Starting logistics parameters per zone, recorded with provenance "seed".
    for z in data.ZONES:
        zone = zones[z["code"]]
        initial = {"travel_factor": z["travel_factor"], "promise_margin_s": int(round(300 * z["travel_factor"]))}
        for key, value in initial.items():
            exists = db.session.scalar(
                sa.select(LogisticsParameter).filter_by(scope=ParameterScope.ZONE, scope_id=zone.id, key=key)
            )
            if exists is None:
                parameter = LogisticsParameter(scope=ParameterScope.ZONE, scope_id=zone.id, key=key, value=value)
                parameter.changes.append(ParameterChange(
                    old_value=None, new_value=value, source=ChangeSource.SEED,
                    reason=f"initial value for {z['terrain']} terrain",
                ))
                db.session.add(parameter)


def seed_catalog() -> None:
    villages = _index(Village, "code")
    for c in data.COOPERATIVES:
        village = villages[c["village"]]
        coop = _get_or_create(
            Cooperative, {"code": c["code"]}, name_zh=c["name_zh"], name_en=c["name_en"],
            licence_no=c["licence_no"], village_id=village.id, head_name=c["head_name"],
            head_mobile=c["head_mobile"], specialty=c["specialty"], founded_on=date.fromisoformat(c["founded"]),
            description_zh=c["description_zh"], description_en=c["description_en"], status=c["status"],
            quality_score=c["quality_score"],
            approved_at=datetime(2024, 3, 1, tzinfo=UTC) if c["status"] == "approved" else None,
        )
        _get_or_create(
            Location, {"code": f"L-{c['code']}"}, kind=LocationKind.COOPERATIVE, name_zh=c["name_zh"],
            name_en=c["name_en"], village_id=village.id, zone_id=village.zone_id, cooperative_id=coop.id,
            lat=village.lat, lon=village.lon,
        )
    for cat in data.CATEGORIES:
        _get_or_create(Category, {"slug": cat["slug"]}, name_zh=cat["name_zh"], name_en=cat["name_en"],
                       icon=cat["icon"], sort=cat["sort"])
    coops, categories = _index(Cooperative, "code"), _index(Category, "slug")
    for p in data.PRODUCTS:
        coop = coops[p["coop"]]
        product = _get_or_create(
            Product, {"sku": p["sku"]}, cooperative_id=coop.id, category_id=categories[p["category"]].id,
            name_zh=p["name_zh"], name_en=p["name_en"], description_zh=p["description_zh"],
            description_en=p["description_en"], unit_zh=p["unit_zh"], unit_en=p["unit_en"],
            price_fen=p["price_fen"], weight_g=p["weight_g"], volume_cm3=p["volume_cm3"],
            shelf_life_days=p["shelf_life_days"], certification_type=p["certification_type"],
            certification_no=p["certification_no"], handling_flags=list(p["handling"]),
            featured=p["featured"],
            status=ProductStatus.ACTIVE if coop.status == "approved" else ProductStatus.PENDING,
        )
        _get_or_create(
            Batch, {"code": f"{p['sku']}-2611"}, product_id=product.id,
            production_date=date(2026, 11, 2), origin_village_id=villages[p["origin_village"]].id,
            quantity=400,
        )


def seed_search_index() -> None:
    """Search terms for every product that has none yet (see catalog.search)."""
    from marketplace.catalog import search
    from marketplace.catalog.models import ProductSearchTerm

    indexed = set(db.session.scalars(sa.select(ProductSearchTerm.product_id).distinct()))
    missing = [p for p in db.session.scalars(sa.select(Product).order_by(Product.id)) if p.id not in indexed]
    if missing:
        search.reindex(*missing)


def seed_photos() -> None:
    """Two drawn photos (seed/illustrations.py: the goods, the packaging) for every product that
    has none, stored like uploaded ones (marketplace/uploads.py, kind "product"). The drawings
    are kept under the instance folder, so only the first seed on a machine draws them; each is
    stored under a key made from the SKU, so seeding again rewrites the same files."""
    from flask import current_app

    from marketplace import uploads
    from marketplace.catalog.models import ProductPhoto

    from . import illustrations

    cache = Path(current_app.instance_path) / "illustrations"
    have = set(db.session.scalars(sa.select(ProductPhoto.product_id).distinct()))
    for product in db.session.scalars(sa.select(Product).order_by(Product.sku)).all():
        if product.id in have:
            continue
        for view, picture in enumerate(illustrations.pictures(product.sku, product.category.slug, cache)):
            file_id = uploads.store(product.id, picture, "product", key=illustrations.storage_key(product.sku, view))
            db.session.add(ProductPhoto(product_id=product.id, file_id=file_id, position=view,
                                        width=illustrations.SIZE, height=illustrations.SIZE))


def seed_stock() -> None:
    """Every product is held at its cooperative; about two thirds also sit in warehouses."""
    rng = random.Random(7)
    warehouses = db.session.scalars(sa.select(Location).where(Location.kind == LocationKind.WAREHOUSE).order_by(Location.code)).all()
    coop_sites = {loc.cooperative_id: loc for loc in db.session.scalars(sa.select(Location).where(Location.kind == LocationKind.COOPERATIVE))}
    for product in db.session.scalars(sa.select(Product).order_by(Product.sku)).all():
        placements = [(coop_sites[product.cooperative_id], rng.randint(30, 200))]
        if rng.random() < 0.68:
            for warehouse in rng.sample(warehouses, rng.randint(1, len(warehouses))):
                placements.append((warehouse, rng.randint(8, 60)))
        for location, quantity in placements:
            exists = db.session.scalar(sa.select(Stock).filter_by(product_id=product.id, location_id=location.id))
            if exists is None:
                stock = Stock(product_id=product.id, location_id=location.id, on_hand=quantity, reserved=0)
                db.session.add(stock)
                db.session.flush()
                db.session.add(StockMovement(stock_id=stock.id, delta_on_hand=quantity, reason="seed"))


def seed_accounts() -> None:
    coops = _index(Cooperative, "code")
    password_hash = generate_password_hash(DEMO_PASSWORD)
    for a in data.DEMO_ACCOUNTS:
        _get_or_create(User, {"mobile": a["mobile"]}, name=a["name"], role=Role(a["role"]), password_hash=password_hash,
                       cooperative_id=coops[a["cooperative"]].id if a["cooperative"] else None)
    villages = db.session.scalars(sa.select(Village).order_by(Village.code)).all()
    for i, a in enumerate(a for a in data.DEMO_ACCOUNTS if a["role"] == "consumer"):
        user = _get_or_create(User, {"mobile": a["mobile"]})
        if db.session.scalar(sa.select(Address.id).where(Address.user_id == user.id).limit(1)) is None:
            village = villages[(i * 7) % len(villages)]  # demo shoppers can check out at once
            db.session.add(Address(user_id=user.id, village_id=village.id, detail=data.ADDRESS_LINES[i],
                                   recipient_name=a["name"], recipient_mobile=a["mobile"], is_default=True,
                                   lat=village.lat, lon=village.lon))
    for c in data.COOPERATIVES:  # every cooperative head gets an account
        _get_or_create(User, {"mobile": c["head_mobile"]}, name=c["head_name"], role=Role.COOP_HEAD,
                       password_hash=password_hash, cooperative_id=coops[c["code"]].id)
    for driver in db.session.scalars(sa.select(Driver).order_by(Driver.id)):  # and every driver
        user = _get_or_create(User, {"mobile": driver.mobile}, name=driver.name, role=Role.DRIVER,
                              password_hash=password_hash)
        driver.user_id = user.id


def _history_consumers(rng: random.Random, password_hash: str) -> list[tuple[User, Address]]:
    villages = db.session.scalars(sa.select(Village).order_by(Village.code)).all()
    people = []
    for i, name in enumerate(data.CONSUMER_NAMES):
        user = _get_or_create(User, {"mobile": f"1365780{i:04d}"}, name=name, role=Role.CONSUMER, password_hash=password_hash)
        village = rng.choice(villages)
        address = db.session.scalar(sa.select(Address).filter_by(user_id=user.id))
        if address is None:
            address = Address(user_id=user.id, village_id=village.id, detail=rng.choice(data.ADDRESS_LINES),
                              recipient_name=name, recipient_mobile=user.mobile, is_default=True,
                              lat=village.lat + rng.uniform(-0.002, 0.002), lon=village.lon + rng.uniform(-0.002, 0.002))
            db.session.add(address)
            db.session.flush()
        people.append((user, address))
    return people


@dataclass
class _Visit:
    """An order of the history on its way: which trip took it, when the plan said it would
    arrive and when it did."""

    number: str
    user: User
    address: Address
    zone_id: int
    warehouse: Warehouse
    window: WindowClass
    placed: datetime
    forced_late: bool | None  # a demo consumer's order: made late (True), kept on time (False)
    planned: datetime | None = None
    arrived: datetime | None = None
    trip: _Trip | None = None


@dataclass
class _Trip:
    """A van's run from its depot: planned and actual departure, its deliveries in order."""

    vehicle: Vehicle
    planned_start: datetime
    started: datetime
    visits: list[_Visit] = dc_field(default_factory=list)
    back: datetime | None = None


#: the history's operations: a van leaves on a wave every 30 minutes with up to 6 orders placed
#: at least 15 minutes before (an order with a long window waits, consolidated, a share of it);
#: loading delays the start by a few minutes, now and then by much more (a breakdown, a late
#: loader: more often in the hills); every leg takes its zone's typical time (the seeded travel
#: factor is that typical factor) with a spread that grows with the terrain, and so does the
#: time at a door up a hill. The plan's times are those of the one travel model with the zone
#: factors in force, 3 minutes at each door: the errors are what the feedback loop learns from.
WAVE = timedelta(minutes=30)
PREPARE = timedelta(minutes=15)
TRIP_STOPS = 6
SERVICE_S = 180


def _leg_spread(factor: float) -> float:
    """The sigma of a leg's log travel time in a zone of this typical factor."""
    return 0.05 + 0.1 * max(0.0, factor - 1.0)


def _run_day(rng: random.Random, day: date, visits: list[_Visit], factors: dict[int, float],
             codes: dict[int, str]) -> list[_Trip]:
    """Dispatch one warehouse's orders of a day on waves, with planned and actual times."""
    from delivery import matrix as dmatrix
    from delivery import model as dm

    if not visits:
        return []
    warehouse = visits[0].warehouse
    depot = dm.Location("depot", lat=warehouse.location.lat, lon=warehouse.location.lon,
                        zone=codes.get(warehouse.location.zone_id))
    plan_model = dmatrix.HaversineMatrix(zone_factors={codes[z]: f for z, f in factors.items()})
    unit = dmatrix.HaversineMatrix()  # factor 1: the truth is drawn around the zone's factor
    vans = sorted((v for v in warehouse.vehicles if v.active), key=lambda v: v.id)
    if not vans:
        return []
    free = {v.id: datetime.combine(day, v.shift_start, LOCAL).astimezone(UTC) for v in vans}
    ready = {}
    for v in visits:
        wait = PREPARE if v.window.hours <= 2 else timedelta(hours=v.window.hours * rng.uniform(0.05, 0.3))
        last_wave = datetime.combine(day, time(21, 0), LOCAL).astimezone(UTC)
        ready[v.number] = max(v.placed + PREPARE, min(v.placed + wait, last_wave))
    waiting = sorted(visits, key=lambda v: ready[v.number])
    wave = datetime.combine(day, time(6, 30), LOCAL).astimezone(UTC)
    trips: list[_Trip] = []

    def place(v: _Visit) -> dm.Location:
        return dm.Location(v.number, lat=v.address.lat, lon=v.address.lon, zone=codes.get(v.zone_id))

    while waiting:
        wave += WAVE
        due = [v for v in waiting if ready[v.number] <= wave]
        for van in (v for v in vans if free[v.id] <= wave):
            if not due:
                break
            # the van takes the most urgent orders, then visits them nearest first by the plan
            due.sort(key=lambda v: v.placed + timedelta(hours=v.window.hours))
            load, due = due[:TRIP_STOPS], due[TRIP_STOPS:]
            late = next((v for v in load if v.forced_late), None)
            if late is not None:  # (the demo consumer's late order: its van breaks down with it alone)
                due = [v for v in load if v is not late] + due
                load = [late]
            for v in load:
                waiting.remove(v)
            trip = _Trip(van, wave, wave)
            here, planned, order = depot, wave, []
            rest = list(load)
            while rest:
                legs = plan_model.durations([here], [place(v) for v in rest], float(van.speed_kmh))[0]
                i = min(range(len(rest)), key=lambda k: legs[k])
                v = rest.pop(i)
                planned += timedelta(seconds=int(legs[i]))
                v.planned = planned
                planned += timedelta(seconds=SERVICE_S)
                order.append(v)
                here = place(v)
            # what happened: loading, the roads, the doors
            hills = max(factors.get(v.zone_id, 1.0) for v in order)
            delay = max(0.0, rng.gauss(2.0, 3.0))
            if rng.random() < 0.01 + 0.04 * (hills - 1.0):
                delay += rng.uniform(15, 60)
            forced = [v for v in order if v.forced_late is not None]
            if forced and not any(v.forced_late for v in forced):
                delay = min(delay, 5.0)  # (the demo consumer's on-time order is on time)
            at = wave + timedelta(minutes=delay)
            here = depot
            arrivals = []
            for v in order:
                factor = factors.get(v.zone_id, 1.0)
                modelled = float(unit.durations([here], [place(v)], float(van.speed_kmh))[0, 0])
                at += timedelta(seconds=int(modelled * factor * math.exp(rng.gauss(0.0, _leg_spread(factor)))))
                arrivals.append(at)
                at += timedelta(seconds=int(SERVICE_S * math.exp(rng.gauss(0.0, 0.2 + 0.3 * (factor - 1.0)))))
                here = place(v)
            late = next((v for v in order if v.forced_late), None)
            if late is not None:  # the demo consumer's late order: a breakdown on the way
                deadline = late.placed + timedelta(hours=late.window.hours)
                push = max(timedelta(0), deadline + timedelta(minutes=rng.randint(5, 30)) - arrivals[order.index(late)])
                arrivals = [a + push for a in arrivals]
                at += push
                delay += push.total_seconds() / 60
            trip.started = wave + timedelta(minutes=delay)
            for v, arrived in zip(order, arrivals, strict=True):
                v.arrived, v.trip = arrived, trip
                trip.visits.append(v)
            back = float(unit.durations([here], [depot], float(van.speed_kmh))[0, 0]) * hills
            trip.back = at + timedelta(seconds=int(back))
            free[van.id] = trip.back
            trips.append(trip)
    return trips


def seed_history(days: int, progress: Callable[[Iterable], Iterable]) -> None:
    """A few hundred delivered orders over the past days, made by vans on trips from their
    warehouses (see :func:`_run_day`), with plans, routes, stops and complaints."""
    if db.session.scalar(sa.select(sa.func.count()).select_from(Order)):
        return  # history exists already: never duplicate it
    rng = random.Random(20261123)
    people = _history_consumers(rng, generate_password_hash(DEMO_PASSWORD))
    windows = db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours)).all()
    warehouses = db.session.scalars(sa.select(Warehouse).order_by(Warehouse.code)).all()
    zone_warehouse = {}
    for w in warehouses:
        for zone in w.zones:
            zone_warehouse.setdefault(zone.id, w)
    stocks = db.session.scalars(sa.select(Stock).join(Stock.product).where(Product.status == ProductStatus.ACTIVE)).all()
    zone_factor = {p.scope_id: float(p.value) for p in db.session.scalars(
        sa.select(LogisticsParameter).filter_by(scope=ParameterScope.ZONE, key="travel_factor"))}
    zone_codes = dict(db.session.execute(sa.select(Zone.id, Zone.code)).all())
    village_zone = dict(db.session.execute(sa.select(Village.id, Village.zone_id)).all())
    seeded_at = utcnow()
    today = seeded_at.astimezone(LOCAL).date()
    serial = 0
    # both demo consumers have delivered history on the first day: one order on time, one late
    demo = [(user, address) for user, address in db.session.execute(
        sa.select(User, Address).join(Address, Address.user_id == User.id)
        .where(User.mobile.in_([a["mobile"] for a in data.DEMO_ACCOUNTS if a["role"] == "consumer"]),
               Address.is_default.is_(True)).order_by(User.mobile))]
    forced = [(person, late) for person in demo for late in (False, True)]
    for day_offset in progress(range(days, 0, -1)):
        day = today - timedelta(days=day_offset)
        visits: list[_Visit] = []
        for _ in range(rng.randint(18, 30)):
            serial += 1
            pick = forced.pop(0) if forced else None
            user, address = pick[0] if pick else rng.choice(people)
            zone_id = village_zone[address.village_id]
            window = rng.choices(windows, weights=[2, 4, 3, 2])[0]
            placed = datetime.combine(day, time(rng.randint(7, 19), rng.randint(0, 59)), LOCAL).astimezone(UTC)
            if pick:  # a morning order with a short window: delivered (or late) on its day
                window, placed = windows[0], datetime.combine(day, time(9, 30), LOCAL).astimezone(UTC)
            visits.append(_Visit(f"{HISTORY_PREFIX}{day:%Y%m%d}{serial:05d}", user, address, zone_id,
                                 zone_warehouse[zone_id], window, placed, pick[1] if pick else None))
        start = datetime.combine(day, time(6, 30), LOCAL).astimezone(UTC)
        for warehouse in warehouses:
            trips = _run_day(rng, day, [v for v in visits if v.warehouse is warehouse], zone_factor, zone_codes)
            trips = [t for t in trips if t.back is not None and t.back <= seeded_at - timedelta(minutes=10)]
            if not trips:
                continue  # history only: nothing delivered in the future
            # the delivery record: the warehouse's plan of the day, one route per trip
            plan = Plan(warehouse_id=warehouse.id, status=PlanStatus.SUPERSEDED, trigger=PlanTrigger.SEED,
                        horizon_start=start, horizon_end=start + timedelta(hours=16), created_at=start,
                        vehicles_used=len({t.vehicle.id for t in trips}))
            db.session.add(plan)
            for trip in trips:
                route = Route(plan=plan, vehicle_id=trip.vehicle.id, status=RouteStatus.DONE,
                              start_at=trip.planned_start, end_at=trip.back)
                db.session.add(route)
                for visit in trip.visits:
                    _history_delivery(rng, visit, route, stocks)
                db.session.flush()
                db.session.add(PlanEvent(plan=plan, kind="route_started", created_at=trip.started,
                                         data={"route_id": route.id, "at": trip.started.isoformat()}))
        db.session.flush()
    db.session.commit()  # (the open orders are placed through the checkout, one transaction each)
    _recent_complaints(rng)
    _open_orders(rng, people, windows, zone_warehouse, village_zone)


def _history_delivery(rng: random.Random, visit: _Visit, route: Route, stocks: list[Stock]) -> None:
    """A delivered order of the history, paid, compensated when late, its stop on ``route``."""
    window, placed, delivered = visit.window, visit.placed, visit.arrived
    deadline = placed + timedelta(hours=window.hours)
    order = _make_order(rng, visit.number, visit.user, visit.address, visit.zone_id, window, placed,
                        visit.warehouse, rng.sample(stocks, rng.randint(1, 3)), OrderStatus.DELIVERED)
    order.delivered_at = delivered
    order.promised_eta_at = min(visit.planned, deadline)
    for kind, status, at in (
        ("placed", OrderStatus.PENDING_PAYMENT, placed),
        ("confirmed", OrderStatus.CONFIRMED, placed + timedelta(minutes=1)),
        ("dispatched", OrderStatus.DISPATCHED, visit.trip.started),
        ("delivered", OrderStatus.DELIVERED, delivered),
    ):
        order.events.append(OrderEvent(kind=kind, to_status=status.value, created_at=at))
    db.session.add(Payment(
        order=order, provider="sandbox" if order.payment_method == PaymentMethod.ONLINE else "cod",
        provider_ref=f"HIST-{order.number}", amount_fen=order.total_fen, status=PaymentStatus.SUCCEEDED,
        paid_at=placed + timedelta(minutes=1) if order.payment_method == PaymentMethod.ONLINE else delivered,
        created_at=placed,
    ))
    if order.late_seconds:  # compensated by the watchdog's rule, as a coupon: the history's
        db.session.flush()  # ledger has no refunds (its payments are made up, never refunded)
        watchdog.compensate(order, now=delivered + timedelta(minutes=1), coupon=True)
    stop = Stop(
        sequence=len(route.stops) + 1, kind=StopKind.DELIVERY, order=order, lat=order.lat, lon=order.lon,
        deadline_at=deadline, planned_arrival_at=visit.planned,
        planned_departure_at=visit.planned + timedelta(seconds=SERVICE_S),
        actual_arrival_at=delivered, actual_departure_at=delivered + timedelta(minutes=3),
        status=StopStatus.DONE, proof={"kind": "name", "value": order.recipient_name, "name": order.recipient_name,
                                       "photo": None, "at": delivered.isoformat()},  # (as the driver's app records it)
    )
    route.stops.append(stop)
    if order.late_seconds and rng.random() < 0.5:
        _history_complaint(order, stop, visit.trip.vehicle, ComplaintCategory.LATE, rng)
    elif rng.random() < 0.02:
        _history_complaint(order, stop, visit.trip.vehicle, rng.choice(
            [ComplaintCategory.DAMAGED, ComplaintCategory.QUALITY, ComplaintCategory.MISSING_ITEM]), rng)


def _make_order(rng: random.Random, number: str, user: User, address: Address, zone_id: int,
                window: WindowClass, placed: datetime, warehouse: Warehouse, stocks: list[Stock],
                status: OrderStatus) -> Order:
    order = Order(
        number=number, user_id=user.id, status=status,
        payment_method=rng.choice([PaymentMethod.ONLINE, PaymentMethod.ONLINE, PaymentMethod.CASH_ON_DELIVERY]),
        address_id=address.id, village_id=address.village_id, zone_id=zone_id,
        recipient_name=address.recipient_name, recipient_mobile=address.recipient_mobile,
        address_text=address.detail, lat=address.lat, lon=address.lon, window_class_id=window.id,
        placed_at=placed, deadline_at=placed + timedelta(hours=window.hours),
        promised_eta_at=placed + timedelta(hours=window.hours) - timedelta(minutes=20),
        warehouse_id=warehouse.id, subtotal_fen=0, delivery_fee_fen=window.fee_fen, total_fen=0, created_at=placed,
    )
    subtotal = 0
    for stock in stocks:
        quantity = rng.randint(1, 3)
        product = stock.product
        order.lines.append(OrderLine(
            product_id=product.id, source_location_id=stock.location_id, product_name_zh=product.name_zh,
            product_name_en=product.name_en, unit_price_fen=product.price_fen, quantity=quantity,
            line_total_fen=product.price_fen * quantity, weight_g=product.weight_g * quantity,
            volume_cm3=product.volume_cm3 * quantity,
        ))
        subtotal += product.price_fen * quantity
    order.subtotal_fen, order.total_fen = subtotal, subtotal + window.fee_fen
    db.session.add(order)
    return order


def _open_orders(rng: random.Random, people: list[tuple[User, Address]], windows: list[WindowClass],
                 zone_warehouse: dict[int, Warehouse], village_zone: dict[int, int]) -> None:
    """Orders placed in the last hour and not yet delivered, so the planner has work today:
    each one accepted by the promise engine as the shop would have accepted it, through the
    checkout at its order time: the window the consumer wanted when it was offered, else the
    fastest offered one, and no order when none was. Three in four carts hold goods of the
    consumer's warehouse, the rest goods held only at a cooperative (picked up there)."""
    from marketplace.checkout import services as checkout
    from marketplace.errors import DomainError

    now = utcnow()
    for placed in sorted(now - timedelta(minutes=rng.randint(1, 60)) for _ in range(36)):
        user, address = rng.choice(people)
        warehouse = zone_warehouse[village_zone[address.village_id]]
        wanted = rng.choices(windows, weights=[2, 4, 3, 2])[0].code
        at_warehouse = sa.select(Stock.product_id).where(Stock.location_id == warehouse.location_id,
                                                         Stock.on_hand - Stock.reserved >= 3)
        products = db.session.scalars(
            sa.select(Stock.product_id).join(Stock.product).join(Location, Location.id == Stock.location_id)
            .where(Product.status == ProductStatus.ACTIVE, Stock.on_hand - Stock.reserved >= 3,
                   Stock.location_id == warehouse.location_id if rng.random() < 0.75
                   else sa.and_(Location.kind == LocationKind.COOPERATIVE, Stock.product_id.not_in(at_warehouse)))
            .order_by(Stock.product_id)).all()
        if not products:
            continue
        cart = {product_id: rng.randint(1, 2) for product_id in rng.sample(products, 1)}
        try:
            offered = [w for w in checkout.quote(user.id, address.id, cart, now=placed).windows if w.feasible]
            if offered:
                window = next((w for w in offered if w.code == wanted), offered[0]).code
                checkout.place_order(user.id, address.id, window, PaymentMethod.CASH_ON_DELIVERY.value,
                                     checkout.new_idempotency_key(), cart_items=cart, now=placed)
        except DomainError:  # (as a shopper would be told: out of stock, window gone…)
            db.session.rollback()


#: what the history's consumers wrote, and what the complaint staff answered (as the console's macros do)
_COMPLAINT_TEXT = {"late": "说好的时间没送到。", "damaged": "包装破了，东西有损坏。",
                   "quality": "味道和以前买的不一样。", "missing_item": "少了一袋。"}
_FIRST_REPLY = "您好，收到您的反馈，我们正在和合作社及司机核实，今天内给您答复。"
_RESOLVED_REPLY = {
    "late": "很抱歉订单送晚了。超时补偿已发放到您的账户，我们也已调整该片区的配送安排。",
    "other": "很抱歉给您带来不便。已为您发放一张优惠券作为补偿，问题已反馈给合作社。",
}
_COUPON_FEN = 1000
_CLOSE_AFTER = timedelta(days=2)  # staff close a resolved complaint when the consumer has not objected


def _recent_complaints(rng: random.Random, how_many: int = 3) -> None:
    """A few complaints filed just now about the latest deliveries, so the console has new work
    whose SLA clocks run from the real calendar (and the first escalation run escalates none)."""
    latest = db.session.scalars(
        sa.select(Order).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at.is_not(None),
                               ~sa.exists().where(Complaint.order_id == Order.id))
        .order_by(Order.delivered_at.desc()).limit(how_many)).all()
    others = [ComplaintCategory.DAMAGED, ComplaintCategory.WRONG_ITEM, ComplaintCategory.COURIER_CONDUCT]
    for order, other in zip(latest, others, strict=False):
        stop = db.session.scalar(sa.select(Stop).where(Stop.order_id == order.id, Stop.kind == StopKind.DELIVERY))
        category = ComplaintCategory.LATE if order.late_seconds else other
        filed = max(order.delivered_at + timedelta(minutes=5), utcnow() - timedelta(minutes=rng.randint(3, 30)))
        _history_complaint(order, stop, stop.route.vehicle, category, rng, filed=filed)
    db.session.commit()


def _history_complaint(order: Order, stop: Stop, vehicle: Vehicle, category: ComplaintCategory,
                       rng: random.Random, filed: datetime | None = None) -> None:
    """A complaint of the history as the console would have left it: filed by the consumer (web,
    with its key), due times from the SLA calendar, then answered by the complaint staff within
    the first-response target, resolved (a late one: the automatic compensation already paid, an
    apology; otherwise a coupon, a ComplaintResolution with its Compensation) and closed two days
    later. Each step happens only if its time has come by now (a complaint filed just now, see
    :func:`_recent_complaints`, is still new or in progress, its clocks running)."""
    from marketplace.complaints import sla

    now = utcnow()
    staff_id = db.session.scalar(sa.select(User.id).where(User.role == Role.COMPLAINT_STAFF).order_by(User.id))
    if filed is None:
        filed = order.delivered_at + timedelta(minutes=rng.randint(10, 300))
    filed = min(filed, now - timedelta(minutes=1))
    first_target, resolve_target = sla.targets(category.value)
    first_due, resolve_due = sla.due_times(category.value, filed)
    cal = sla.calendar()
    replied = cal.add(filed, rng.randint(5, max(6, first_target * 2 // 3)))
    resolved = cal.add(replied, rng.randint(20, max(21, (resolve_target - first_target) // 2)))
    closed = resolved + _CLOSE_AFTER
    product = order.lines[0].product
    complaint = Complaint(
        number=f"CP{order.number[2:]}", order=order, user_id=order.user_id, category=category,
        status=ComplaintStatus.OPEN, description=_COMPLAINT_TEXT.get(category.value, "其他问题"),
        stop=stop, route=stop.route, vehicle_id=vehicle.id, driver_id=vehicle.driver_id,
        cooperative_id=product.cooperative_id if product else None, product_id=order.lines[0].product_id,
        line_ids=[], photos=[], channel="web", filed_by_id=order.user_id,
        created_at=filed,
        first_response_due_at=first_due, resolution_due_at=resolve_due, assignee_id=None,
    )
    db.session.add(complaint)
    events = complaint.events
    events.append(ComplaintEvent(kind="filed", actor_user_id=order.user_id, to_status="open", created_at=filed,
                                 data={"channel": "web", "photos": 0, "lines": []}))

    def move(to: ComplaintStatus, at: datetime) -> None:
        events.append(ComplaintEvent(kind="status", actor_user_id=staff_id, from_status=complaint.status.value,
                                     to_status=to.value, created_at=at))
        complaint.status = to

    if replied > now:
        return  # new: nobody has answered yet
    complaint.assignee_id = staff_id
    events.append(ComplaintEvent(kind="assigned", actor_user_id=staff_id, created_at=replied,
                                 data={"from": None, "to": staff_id}))
    events.append(ComplaintEvent(kind="reply", actor_user_id=staff_id, body=_FIRST_REPLY, created_at=replied))
    complaint.first_responded_at = replied
    move(ComplaintStatus.IN_PROGRESS, replied)
    if resolved > now:
        return
    if category != ComplaintCategory.LATE:  # (a late order's compensation was paid by the watchdog)
        db.session.flush()
        compensation = Compensation(order_id=order.id, kind=CompensationKind.COUPON, amount_fen=_COUPON_FEN,
                                    reason=f"complaint {complaint.number}", complaint_id=complaint.id,
                                    created_at=resolved)
        db.session.add(compensation)
        db.session.flush()
        resolution = ComplaintResolution(complaint_id=complaint.id, kind=ResolutionKind.COUPON,
                                         idempotency_key=f"seed-coupon-{complaint.number}", amount_fen=_COUPON_FEN,
                                         compensation_id=compensation.id, actor_user_id=staff_id, created_at=resolved)
        db.session.add(resolution)
        db.session.flush()
        order.events.append(OrderEvent(kind="compensated", actor_user_id=staff_id, created_at=resolved, data={
            "compensation_id": compensation.id, "amount_fen": _COUPON_FEN, "complaint": complaint.number}))
        events.append(ComplaintEvent(kind="coupon", actor_user_id=staff_id, created_at=resolved, data={
            "resolution_id": resolution.id, "amount_fen": _COUPON_FEN, "reship_order_id": None}))
    answer = _RESOLVED_REPLY["late" if category == ComplaintCategory.LATE else "other"]
    events.append(ComplaintEvent(kind="reply", actor_user_id=staff_id, body=answer, created_at=resolved))
    complaint.resolution, complaint.resolved_at = answer, resolved
    move(ComplaintStatus.RESOLVED, resolved)
    if closed <= now:
        move(ComplaintStatus.CLOSED, closed)


COUNTED = (County, Zone, Town, Village, Warehouse, Location, Vehicle, Driver, WindowClass, Cooperative, Category,
           Product, Batch, Stock, User, Address, Order, OrderLine, OrderEvent, Payment, Compensation, Plan, Route,
           Stop, Complaint, LogisticsParameter, ParameterChange)


def row_counts() -> dict[str, int]:
    return {m.__tablename__: int(db.session.scalar(sa.select(sa.func.count()).select_from(m))) for m in COUNTED}


def seed_all(history_days: int = 14, progress: bool = True, photos: bool | None = None) -> dict[str, int]:
    """Load everything, in one transaction per step, and return the row counts. ``photos``: give
    the products their drawn photos (see :func:`seed_photos`); by default yes, except in an app
    under test (the suite seeds often: tests that need the photos call seed_photos)."""
    _known.clear()
    if photos is None:
        from flask import current_app

        photos = not current_app.testing

    steps = [
        ("gazetteer", seed_gazetteer),
        ("warehouses & fleet", seed_logistics),
        ("cooperatives & products", seed_catalog),
        ("search index", seed_search_index),
        ("stock", seed_stock),
        ("accounts", seed_accounts),
        ("prohibited terms", terms.seed_terms),
    ]
    if photos:
        steps.insert(steps.index(("search index", seed_search_index)), ("product photos", seed_photos))
    if progress:
        with click.progressbar(steps, label="Seeding the demo county", item_show_func=lambda s: s and s[0]) as items:
            for _, step in items:
                step()
                db.session.commit()
                _known.clear()
    else:
        for _, step in steps:
            step()
            db.session.commit()
            _known.clear()

    def history_bar(items: Iterable) -> Iterable:
        if not progress:
            yield from items
            return
        with click.progressbar(list(items), label="Historical orders") as inner:
            yield from inner

    seed_history(history_days, history_bar)
    db.session.commit()
    return row_counts()


def print_demo_accounts() -> None:
    click.echo(f"Demo accounts (password for all: {DEMO_PASSWORD})")
    for a in data.DEMO_ACCOUNTS:
        click.echo(f"  {a['role']:<16} {a['mobile']}  {a['name']}")
