"""A prefecture for ``flask simulate --scale prefecture``: the demo county, seeded as usual, then
replicated into :data:`COPIES` counties side by side — 18 warehouses.

Each copy is the county moved in space (a grid of counties, one county's extent and a margin
apart, so no two copies overlap): its own county row, zones (codes ``Z-EAST~1``…, with the
original zone's learned parameters), towns, villages, warehouse locations and warehouses (codes
``W-MG~1``…), and its own vans and drivers. Copy 0 is the seeded county itself. The consumers the
simulator makes are then spread over every village of every copy.

What is shared: the catalogue and the cooperatives (one set of farms, where the county is). A
farm pickup from a copy 50–130 km away would be a long trip no real prefecture makes (each
county has its own farms), so every warehouse of the prefecture is stocked with the whole
catalogue for the day instead (:func:`stock_for_the_day`): goods leave from the consumer's own
warehouse, and cooperative pickups happen only when a warehouse runs out.

As ``bench/queue_planning.py`` does, rows are copied column by column (:func:`clone`); unlike
that benchmark, the copies are new places, not the same zones again, and open orders are not
copied (the simulator's consumers place them through the real checkout).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import sqlalchemy as sa

#: the county's 3 warehouses this many times: 18
COPIES = 6
#: the copies' grid: this many counties from west to east, then the next row north
GRID_COLUMNS = 3
#: degrees left between two copies beyond the county's own extent
MARGIN_DEG = 0.05
#: units an order takes on average (world.wishes: 1.8 lines of 1.25 units) and how many days'
#: demand a warehouse holds of each product (demand is spread evenly over products and copies)
UNITS_PER_ORDER = 2.25
STOCK_DAYS = 2.0


@dataclass(frozen=True)
class Shift:
    """How far copy ``index`` lies from the county (degrees)."""

    index: int
    dlat: float
    dlon: float


def clone(obj, **changes):
    """A new row of ``obj``'s model with its column values (but the primary key), changed by ``changes``."""
    mapper = sa.inspect(type(obj))
    values = {a.key: getattr(obj, a.key) for a in mapper.column_attrs if not any(c.primary_key for c in a.columns)}
    return type(obj)(**{**values, **changes})


def suffix(code: str, index: int, width: int) -> str:
    """``code`` of copy ``index`` (``W-MG~3``), within the column's ``width``."""
    tail = f"~{index}"
    return code[:width - len(tail)] + tail


def shifts(copies: int = COPIES) -> list[Shift]:
    """Where each copy lies: a grid of ``GRID_COLUMNS`` counties a row, each one county's extent
    (every village and stock location) and :data:`MARGIN_DEG` from the next."""
    from ..extensions import db
    from ..models import Location, Village

    lat_min, lat_max, lon_min, lon_max = db.session.execute(sa.select(
        sa.func.min(Village.lat), sa.func.max(Village.lat), sa.func.min(Village.lon), sa.func.max(Village.lon))).one()
    sites = db.session.execute(sa.select(
        sa.func.min(Location.lat), sa.func.max(Location.lat), sa.func.min(Location.lon), sa.func.max(Location.lon))).one()
    if sites[0] is not None:
        lat_min, lat_max = min(lat_min, sites[0]), max(lat_max, sites[1])
        lon_min, lon_max = min(lon_min, sites[2]), max(lon_max, sites[3])
    step_lat = round(lat_max - lat_min + MARGIN_DEG, 3)
    step_lon = round(lon_max - lon_min + MARGIN_DEG, 3)
    return [Shift(k, (k // GRID_COLUMNS) * step_lat, (k % GRID_COLUMNS) * step_lon) for k in range(copies)]


def build(orders_per_day: int, copies: int = COPIES) -> dict[str, int]:
    """Replicate the seeded county ``copies`` times (copy 0: the county itself) and stock every
    warehouse for ``orders_per_day``; one transaction. Returns the prefecture's row counts."""
    from ..extensions import db
    from ..models import (
        ChangeSource,
        County,
        Driver,
        Location,
        LocationKind,
        LogisticsParameter,
        ParameterChange,
        ParameterScope,
        Town,
        Vehicle,
        Village,
        Warehouse,
        Zone,
    )

    counties = db.session.scalars(sa.select(County).order_by(County.id)).all()
    zones = db.session.scalars(sa.select(Zone).order_by(Zone.id)).all()
    towns = db.session.scalars(sa.select(Town).order_by(Town.id)).all()
    villages = db.session.scalars(sa.select(Village).order_by(Village.id)).all()
    warehouses = db.session.scalars(sa.select(Warehouse).order_by(Warehouse.id)).all()
    vehicles = db.session.scalars(sa.select(Vehicle).order_by(Vehicle.id)).all()
    parameters = db.session.scalars(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope.in_([ParameterScope.ZONE, ParameterScope.LOCATION])).order_by(LogisticsParameter.id)).all()
    depot_ids = {w.location_id for w in warehouses}
    code_width = {model: model.__table__.c.code.type.length for model in (County, Zone, Town, Village, Location, Warehouse)}

    def copy_of(obj, index: int, **changes):
        row = clone(obj, code=suffix(obj.code, index, code_width[type(obj)]), **changes)
        db.session.add(row)
        return row

    for shift in shifts(copies)[1:]:
        k, dlat, dlon = shift.index, shift.dlat, shift.dlon
        county = {c.id: copy_of(c, k, lat=c.lat + dlat, lon=c.lon + dlon, name_en=f"{c.name_en} ({k})") for c in counties}
        zone = {z.id: copy_of(z, k, name_en=f"{z.name_en} ({k})") for z in zones}
        db.session.flush()
        town = {t.id: copy_of(t, k, county_id=county[t.county_id].id, zone_id=zone[t.zone_id].id,
                              lat=t.lat + dlat, lon=t.lon + dlon) for t in towns}
        db.session.flush()
        village = {v.id: copy_of(v, k, town_id=town[v.town_id].id, zone_id=zone[v.zone_id].id,
                                 lat=v.lat + dlat, lon=v.lon + dlon) for v in villages}
        db.session.flush()
        site: dict[int, Location] = {}
        for warehouse in warehouses:
            depot = warehouse.location
            site[depot.id] = copy_of(depot, k, village_id=village[depot.village_id].id, zone_id=zone[depot.zone_id].id,
                                     lat=depot.lat + dlat, lon=depot.lon + dlon)
        db.session.flush()
        twin: dict[int, Warehouse] = {}
        for warehouse in warehouses:
            twin[warehouse.id] = copy_of(warehouse, k, location_id=site[warehouse.location_id].id, plan_version=0,
                                         plan_reset_version=0)
            twin[warehouse.id].zones = [zone[z.id] for z in warehouse.zones]
        db.session.flush()
        for i, vehicle in enumerate(vehicles):
            van = clone(vehicle, plate=suffix(vehicle.plate, k, Vehicle.__table__.c.plate.type.length),
                        warehouse_id=twin[vehicle.warehouse_id].id, driver_id=None)
            if vehicle.driver is not None:  # (mobile 1996 k nnnnnn: no seeded account has one)
                van.driver = clone(vehicle.driver, mobile=f"1996{k}{i:06d}", user_id=None)
            db.session.add(van)
        for parameter in parameters:  # the copy's zones and depots start from what the county's know
            if parameter.scope == ParameterScope.ZONE and parameter.scope_id in zone:
                scope_id = zone[parameter.scope_id].id
            elif parameter.scope == ParameterScope.LOCATION and parameter.scope_id in depot_ids:
                scope_id = site[parameter.scope_id].id
            else:
                continue
            learned = clone(parameter, scope_id=scope_id)
            learned.changes.append(ParameterChange(old_value=None, new_value=parameter.value, source=ChangeSource.SEED,
                                                   reason=f"prefecture copy {k} of the county's value"))
            db.session.add(learned)
        db.session.flush()
    stock_for_the_day(orders_per_day)
    db.session.commit()
    return {"warehouses": db.session.scalar(sa.select(sa.func.count()).select_from(Warehouse)),
            "vehicles": db.session.scalar(sa.select(sa.func.count()).select_from(Vehicle)),
            "villages": db.session.scalar(sa.select(sa.func.count()).select_from(Village)),
            "zones": db.session.scalar(sa.select(sa.func.count()).select_from(Zone)),
            "depots": db.session.scalar(sa.select(sa.func.count()).select_from(Location).where(
                Location.kind == LocationKind.WAREHOUSE)),
            "drivers": db.session.scalar(sa.select(sa.func.count()).select_from(Driver))}


def units_per_product(orders_per_day: int, warehouses: int, products: int) -> int:
    """What a warehouse holds of each product: :data:`STOCK_DAYS` of its share of the demand."""
    return max(1, math.ceil(STOCK_DAYS * orders_per_day * UNITS_PER_ORDER / max(1, warehouses * products)))


def stock_for_the_day(orders_per_day: int) -> int:
    """Every active warehouse holds at least :func:`units_per_product` of every product on
    sale (opening stock, recorded as the seed's is). The units per product."""
    from ..catalog.services import on_sale
    from ..extensions import db
    from ..models import Stock, StockMovement, Warehouse

    products = list(db.session.scalars(on_sale(for_display=False).with_only_columns(
        sa.text("products.id")).order_by(sa.text("products.id"))))
    depots = list(db.session.scalars(sa.select(Warehouse.location_id).where(Warehouse.active.is_(True))
                                     .order_by(Warehouse.id)))
    units = units_per_product(orders_per_day, len(depots), len(products))
    held = {(s.location_id, s.product_id): s for s in db.session.scalars(
        sa.select(Stock).where(Stock.location_id.in_(depots)))}
    for location_id in depots:
        for product_id in products:
            stock = held.get((location_id, product_id))
            if stock is None:
                stock = Stock(product_id=product_id, location_id=location_id, on_hand=0, reserved=0)
                db.session.add(stock)
                db.session.flush()
            if stock.on_hand < units:
                db.session.add(StockMovement(stock_id=stock.id, delta_on_hand=units - stock.on_hand, reason="seed",
                                             note="prefecture: stocked for the day"))
                stock.on_hand = units
    return units
