"""The operator's dashboard: how the county is doing over a period of Shanghai calendar days,
optionally in one zone. Every number is aggregated in the database (GROUP BY); the page gets plain
data (:class:`Dashboard`) and the charts as data for static/js/charts.js (:func:`chart_specs`).

What counts (the rules of coop.stats and of the bureau report, county-wide):

- **Orders, sales**: orders *placed* in the period that are sold (confirmed, dispatched or
  delivered); sales are their goods (``subtotal_fen``, the order lines), without delivery fees.
  By the Shanghai day the order was placed.
- **On time**: the period's delivered orders whose ``delivered_at <= deadline_at``, per window
  class and per zone (the zone of the delivery address).
- **Compensation**: compensation rows (coupons and refunds, for late deliveries or granted on
  complaints) created in the period.
- **Complaints**: filed in the period, by category, per 1,000 of the period's orders; mean time
  to resolution over the period's complaints that are resolved, from filing.
- **Km per delivered order**: the planned distance of the routes driven (started or finished)
  that started in the period, over the deliveries made on them; county-wide only (a route
  crosses zones), and only routes with a stored distance count.
- **Offered vs chosen**: checkout quotes recorded by reports/offers.py (one per consumer, zone
  and 10 minutes): per class, the quotes that could offer it and the orders placed in it.
- **Cooperatives**: the period's sold orders holding a cooperative's goods (an order of two
  cooperatives counts for both), its goods' sales, on time over those delivered, complaints
  about it (its own, or about an order holding its goods when the complaint names none) per
  1,000 of its orders, and its quality score now (kept by the feedback loop, logistics/learning).
- **Parameter changes**: the feedback loop's (and staff's) changes of logistics parameters made
  in the period, per day and key; the zones' travel-time factors as they stood over the period.
  With a zone chosen, only that zone's parameters.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..catalog.models import Product
from ..columns import utcnow
from ..complaints.models import Complaint, ComplaintCategory
from ..coop import stats as coop_stats
from ..coop.models import Cooperative, CooperativeStatus
from ..coop.stats import SOLD, Period
from ..dispatch.models import Route, RouteStatus, Stop, StopKind, StopStatus
from ..errors import ValidationFailed
from ..extensions import db
from ..geo.models import County, Zone
from ..i18n import is_english, localized
from ..labels import LABELS
from ..logistics import services as logistics
from ..logistics.models import (
    ChangeSource,
    LogisticsParameter,
    ParameterChange,
    ParameterScope,
    WindowClass,
)
from ..orders.models import Compensation, Order, OrderLine, OrderStatus
from .offers import WindowOffer, offered_like
from .sqltime import epoch_seconds, local_day

DEFAULT_PRESET = "30"
TRAVEL_FACTOR = "travel_factor"


# --- what was asked ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    period: Period
    zone: Zone | None = None

    def query(self) -> dict[str, Any]:
        """The URL arguments that give these filters back."""
        return {**self.period.query(), **({"zone": self.zone.id} if self.zone else {})}


def parse_filters(args, now: datetime | None = None) -> Filters:
    """The period (``period`` 7/30/90, or ``custom`` with ``from``/``to``; the last 30 days when
    nothing is asked) and the zone (``zone``: a zone's id, or empty for the whole county).
    ValidationFailed naming the field for anything else."""
    asked = {key: args.get(key) or "" for key in ("period", "from", "to")}
    if not asked["period"].strip() and not (asked["from"].strip() or asked["to"].strip()):
        asked["period"] = DEFAULT_PRESET
    period = coop_stats.parse_period(asked, now)
    raw = (args.get("zone") or "").strip()
    if not raw:
        return Filters(period)
    zone = db.session.get(Zone, int(raw)) if raw.isdigit() and len(raw) <= 9 else None
    if zone is None:
        raise ValidationFailed(_l("Choose a zone from the list, or the whole county."), field="zone")
    return Filters(period, zone)


def zones() -> list[Zone]:
    return list(db.session.scalars(sa.select(Zone).order_by(Zone.code)))


# --- the numbers -------------------------------------------------------------------------------


def per_thousand(count: int, orders: int) -> Decimal | None:
    """``count`` per 1,000 orders, one decimal; None without orders."""
    if not orders:
        return None
    return (Decimal(count) * 1000 / orders).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True)
class Day:
    day: date
    orders: int = 0
    sales_fen: int = 0


@dataclass(frozen=True)
class OnTime:
    delivered: int = 0
    on_time: int = 0

    @property
    def late(self) -> int:
        return self.delivered - self.on_time

    @property
    def rate(self) -> float | None:
        return _rate(self.on_time, self.delivered)


@dataclass(frozen=True)
class Offer:
    window: WindowClass
    offered: int  # quotes that could keep this class
    chosen: int  # orders placed in it after a recorded quote
    quotes: int  # every quote of the period (the denominator)

    @property
    def offered_rate(self) -> float | None:
        return _rate(self.offered, self.quotes)


@dataclass(frozen=True)
class CoopRow:
    cooperative: Cooperative
    orders: int
    sales_fen: int
    on_time: OnTime
    complaints: int

    @property
    def complaints_per_thousand(self) -> Decimal | None:
        return per_thousand(self.complaints, self.orders)


@dataclass(frozen=True)
class KeyChanges:
    scope: str
    key: str
    label: str
    total: int
    by_source: dict[str, int]


@dataclass(frozen=True)
class FactorLine:
    zone: Zone
    points: list[tuple[datetime, float]]  # (from when, value), oldest first; the value at the start first
    changes: int  # changes in the period


@dataclass
class Kpis:
    orders: int = 0
    sales_fen: int = 0
    on_time: OnTime = field(default_factory=OnTime)
    compensation_fen: int = 0
    compensations: int = 0
    late_compensation_fen: int = 0  # of which for late deliveries (the rest granted on complaints)
    complaints: int = 0
    resolved: int = 0
    mean_resolution_s: float | None = None
    route_m: int = 0  # planned metres of the routes driven
    route_deliveries: int = 0  # deliveries made on them
    km_counted: bool = True  # False: a zone is chosen (routes cross zones)

    @property
    def complaints_per_thousand(self) -> Decimal | None:
        return per_thousand(self.complaints, self.orders)

    @property
    def km_per_delivery(self) -> float | None:
        if not self.km_counted or not self.route_deliveries or not self.route_m:
            return None
        return self.route_m / 1000 / self.route_deliveries


@dataclass
class Dashboard:
    filters: Filters
    kpis: Kpis
    days: list[Day]
    by_window: list[tuple[WindowClass, OnTime]]
    by_zone: list[tuple[Zone, OnTime]]
    offers: list[Offer]
    quotes: int
    complaints: dict[str, int]  # category value → count, every category in ComplaintCategory order
    cooperatives: list[CoopRow]
    change_days: dict[date, dict[str, int]]  # day → key → changes
    change_keys: list[KeyChanges]
    factors: list[FactorLine]
    now: datetime

    @property
    def period(self) -> Period:
        return self.filters.period

    @property
    def complaint_rates(self) -> dict[str, Decimal | None]:
        """Category → complaints per 1,000 of the period's orders."""
        return {c: per_thousand(n, self.kpis.orders) for c, n in self.complaints.items()}


class _Scope:
    """The period's UTC bounds and the zone, as SQL conditions on a table's columns."""

    def __init__(self, filters: Filters) -> None:
        self.begin, self.after = filters.period.utc_bounds
        self.zone_id = filters.zone.id if filters.zone else None

    def within(self, column) -> list:
        return [column >= self.begin, column < self.after]

    def zone(self, column) -> list:
        return [column == self.zone_id] if self.zone_id is not None else []

    def sold(self) -> list:
        return [Order.status.in_(SOLD), *self.within(Order.placed_at), *self.zone(Order.zone_id)]

    def delivered(self) -> list:
        return [Order.status == OrderStatus.DELIVERED, Order.delivered_at.is_not(None),
                *self.within(Order.placed_at), *self.zone(Order.zone_id)]


def _on_time_sum():
    return sa.func.coalesce(sa.func.sum(sa.case((Order.delivered_at <= Order.deadline_at, 1), else_=0)), 0)


def _days(scope: _Scope, period: Period) -> list[Day]:
    day = local_day(Order.placed_at)
    rows = {d if isinstance(d, date) else date.fromisoformat(str(d)): (int(n), int(fen or 0))
            for d, n, fen in db.session.execute(
                sa.select(day, sa.func.count(), sa.func.sum(Order.subtotal_fen)).where(*scope.sold()).group_by(day))}
    return [Day(d, *rows.get(d, (0, 0))) for d in period.days]


def _windows() -> list[WindowClass]:
    return list(db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours)))


def _on_time_by(scope: _Scope, column) -> dict[int, OnTime]:
    return {key: OnTime(int(n), int(ok)) for key, n, ok in db.session.execute(
        sa.select(column, sa.func.count(), _on_time_sum()).where(*scope.delivered()).group_by(column))}


def _compensation(scope: _Scope) -> tuple[int, int, int]:
    """(rows, fen, fen of those for late deliveries: granted by no complaint)."""
    late = sa.case((Compensation.complaint_id.is_(None), Compensation.amount_fen), else_=0)
    count, fen, late_fen = db.session.execute(
        sa.select(sa.func.count(Compensation.id), sa.func.coalesce(sa.func.sum(Compensation.amount_fen), 0),
                  sa.func.coalesce(sa.func.sum(late), 0))
        .join(Order, Order.id == Compensation.order_id)
        .where(*scope.within(Compensation.created_at), *scope.zone(Order.zone_id))).one()
    return int(count), int(fen), int(late_fen)


def _complaints_filed(scope: _Scope):
    query = sa.select(Complaint.category, sa.func.count()).where(*scope.within(Complaint.created_at))
    if scope.zone_id is not None:
        query = query.join(Order, Order.id == Complaint.order_id).where(Order.zone_id == scope.zone_id)
    return query


def _complaints(scope: _Scope) -> dict[str, int]:
    counted = dict(db.session.execute(_complaints_filed(scope).group_by(Complaint.category)).all())
    return {c.value: int(counted.get(c, 0)) for c in ComplaintCategory}


def _resolution(scope: _Scope) -> tuple[int, float | None]:
    query = (sa.select(sa.func.count(),
                       sa.func.avg(epoch_seconds(Complaint.resolved_at) - epoch_seconds(Complaint.created_at)))
             .where(*scope.within(Complaint.created_at), Complaint.resolved_at.is_not(None)))
    if scope.zone_id is not None:
        query = query.join(Order, Order.id == Complaint.order_id).where(Order.zone_id == scope.zone_id)
    count, mean = db.session.execute(query).one()
    return int(count), (float(mean) if mean is not None else None)


def _routes(scope: _Scope) -> tuple[int, int]:
    driven = (sa.select(Route.id).where(Route.status.in_((RouteStatus.STARTED, RouteStatus.DONE)),
                                        Route.distance_m > 0, *scope.within(Route.start_at)))
    metres = db.session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Route.distance_m), 0))
                               .where(Route.id.in_(driven)))
    deliveries = db.session.scalar(sa.select(sa.func.count()).select_from(Stop).where(
        Stop.route_id.in_(driven), Stop.kind == StopKind.DELIVERY, Stop.status == StopStatus.DONE))
    return int(metres or 0), int(deliveries or 0)


def _offers(scope: _Scope, windows: list[WindowClass]) -> tuple[list[Offer], int]:
    columns = [sa.func.count()]
    for w in windows:
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((WindowOffer.offered.like(offered_like(w.code)), 1),
                                                            else_=0)), 0))
        columns.append(sa.func.coalesce(sa.func.sum(sa.case((WindowOffer.chosen_code == w.code, 1), else_=0)), 0))
    row = db.session.execute(sa.select(*columns).where(*scope.within(WindowOffer.slot_at),
                                                       *scope.zone(WindowOffer.zone_id))).one()
    quotes = int(row[0])
    return [Offer(w, int(row[1 + 2 * i]), int(row[2 + 2 * i]), quotes) for i, w in enumerate(windows)], quotes


def _cooperatives(scope: _Scope) -> list[CoopRow]:
    coop = Product.cooperative_id
    lines = sa.select(coop).join(OrderLine, OrderLine.product_id == Product.id).join(Order, Order.id == OrderLine.order_id)
    sold = {c: (int(n), int(fen or 0)) for c, n, fen in db.session.execute(
        lines.with_only_columns(coop, sa.func.count(sa.distinct(Order.id)), sa.func.sum(OrderLine.line_total_fen))
        .where(*scope.sold()).group_by(coop))}
    on_time_ids = sa.case((Order.delivered_at <= Order.deadline_at, Order.id))
    kept = {c: OnTime(int(n), int(ok)) for c, n, ok in db.session.execute(
        lines.with_only_columns(coop, sa.func.count(sa.distinct(Order.id)), sa.func.count(sa.distinct(on_time_ids)))
        .where(*scope.delivered()).group_by(coop))}
    # complaints naming the cooperative, and those naming none about an order holding its goods
    named = sa.select(Complaint.cooperative_id, sa.func.count()).where(
        Complaint.cooperative_id.is_not(None), *scope.within(Complaint.created_at))
    if scope.zone_id is not None:
        named = named.join(Order, Order.id == Complaint.order_id).where(Order.zone_id == scope.zone_id)
    complaints: dict[int, int] = defaultdict(int)
    for c, n in db.session.execute(named.group_by(Complaint.cooperative_id)):
        complaints[c] += int(n)
    unnamed = (sa.select(coop, sa.func.count(sa.distinct(Complaint.id)))
               .join(OrderLine, OrderLine.product_id == Product.id)
               .join(Complaint, Complaint.order_id == OrderLine.order_id)
               .where(Complaint.cooperative_id.is_(None), *scope.within(Complaint.created_at)))
    if scope.zone_id is not None:
        unnamed = unnamed.join(Order, Order.id == Complaint.order_id).where(Order.zone_id == scope.zone_id)
    for c, n in db.session.execute(unnamed.group_by(coop)):
        complaints[c] += int(n)
    ids = set(sold) | set(kept) | set(complaints)
    cooperatives = db.session.scalars(sa.select(Cooperative).where(
        sa.or_(Cooperative.status == CooperativeStatus.APPROVED, Cooperative.id.in_(sorted(ids) or [-1])))).all()
    rows = [CoopRow(c, *sold.get(c.id, (0, 0)), kept.get(c.id, OnTime()), complaints.get(c.id, 0))
            for c in cooperatives]
    return sorted(rows, key=lambda r: (-r.sales_fen, -r.orders, r.cooperative.code))


def _parameters(scope: _Scope):
    """ParameterChange joined to its parameter, in the period (and the zone's parameters only)."""
    query = (sa.select(ParameterChange).join(LogisticsParameter, LogisticsParameter.id == ParameterChange.parameter_id)
             .where(*scope.within(ParameterChange.created_at)))
    if scope.zone_id is not None:
        query = query.where(LogisticsParameter.scope == ParameterScope.ZONE, LogisticsParameter.scope_id == scope.zone_id)
    return query


def _change_days(scope: _Scope, period: Period) -> dict[date, dict[str, int]]:
    day = local_day(ParameterChange.created_at)
    out: dict[date, dict[str, int]] = {d: {} for d in period.days}
    for d, key, n in db.session.execute(
            _parameters(scope).with_only_columns(day, LogisticsParameter.key, sa.func.count())
            .group_by(day, LogisticsParameter.key)):
        d = d if isinstance(d, date) else date.fromisoformat(str(d))
        out.setdefault(d, {})[key] = int(n)
    return out


def _change_keys(scope: _Scope) -> list[KeyChanges]:
    counted: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    for parameter_scope, key, source, n in db.session.execute(
            _parameters(scope).with_only_columns(LogisticsParameter.scope, LogisticsParameter.key,
                                                 ParameterChange.source, sa.func.count())
            .group_by(LogisticsParameter.scope, LogisticsParameter.key, ParameterChange.source)):
        counted[(ParameterScope(parameter_scope).value, key)][ChangeSource(source).value] = int(n)
    rows = [KeyChanges(s, k, str(logistics.label(ParameterScope(s), k)), sum(by.values()), by)
            for (s, k), by in counted.items()]
    return sorted(rows, key=lambda r: (-r.total, r.scope, r.key))


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _factors(scope: _Scope) -> list[FactorLine]:
    """Each zone's travel-time factor over the period: its value when the period began, then
    every change in it (the few rows of the zones' factor parameters, not a scan of orders)."""
    parameters = db.session.scalars(
        sa.select(LogisticsParameter).where(LogisticsParameter.scope == ParameterScope.ZONE,
                                            LogisticsParameter.key == TRAVEL_FACTOR,
                                            *scope.zone(LogisticsParameter.scope_id))).all()
    if not parameters:
        return []
    ids = [p.id for p in parameters]
    before = dict(db.session.execute(
        sa.select(ParameterChange.parameter_id, sa.func.max(ParameterChange.id))
        .where(ParameterChange.parameter_id.in_(ids), ParameterChange.created_at < scope.begin)
        .group_by(ParameterChange.parameter_id)).all())
    start_values = dict(db.session.execute(
        sa.select(ParameterChange.parameter_id, ParameterChange.new_value)
        .where(ParameterChange.id.in_(list(before.values()) or [-1]))).all())
    changes: dict[int, list[ParameterChange]] = defaultdict(list)
    for change in db.session.scalars(sa.select(ParameterChange).where(
            ParameterChange.parameter_id.in_(ids), *scope.within(ParameterChange.created_at))
            .order_by(ParameterChange.created_at, ParameterChange.id)):
        changes[change.parameter_id].append(change)
    zone_by_id = {z.id: z for z in db.session.scalars(sa.select(Zone).where(
        Zone.id.in_([p.scope_id for p in parameters])))}
    lines = []
    for p in parameters:
        mine = changes.get(p.id, [])
        if p.id in start_values:
            start = _number(start_values[p.id])
        elif mine:  # (a parameter set the first time had its default before)
            start = _number(mine[0].old_value)
            start = start if start is not None else _number(logistics.default(ParameterScope.ZONE, TRAVEL_FACTOR))
        else:
            start = _number(p.value)
        points = [(scope.begin, start)] if start is not None else []
        points += [(c.created_at, v) for c in mine if (v := _number(c.new_value)) is not None]
        if points and p.scope_id in zone_by_id:
            lines.append(FactorLine(zone_by_id[p.scope_id], points, len(mine)))
    return sorted(lines, key=lambda line: line.zone.code)


def dashboard(filters: Filters, now: datetime | None = None) -> Dashboard:
    """Every number of the dashboard for ``filters``."""
    now = now or utcnow()
    scope = _Scope(filters)
    period = filters.period
    windows = _windows()
    days = _days(scope, period)
    by_window_id = _on_time_by(scope, Order.window_class_id)
    by_zone_id = _on_time_by(scope, Order.zone_id)
    by_window = [(w, by_window_id.get(w.id, OnTime())) for w in windows if w.active or w.id in by_window_id]
    shown = [filters.zone] if filters.zone else zones()  # zones without deliveries too
    by_zone = sorted(((z, by_zone_id.get(z.id, OnTime())) for z in shown), key=lambda pair: pair[0].code)
    delivered = OnTime(sum(t.delivered for t in by_window_id.values()), sum(t.on_time for t in by_window_id.values()))
    complaints = _complaints(scope)
    compensations, compensation_fen, late_compensation_fen = _compensation(scope)
    resolved, mean_resolution = _resolution(scope)
    metres, route_deliveries = _routes(scope) if filters.zone is None else (0, 0)
    kpis = Kpis(orders=sum(d.orders for d in days), sales_fen=sum(d.sales_fen for d in days), on_time=delivered,
                compensation_fen=compensation_fen, compensations=compensations,
                late_compensation_fen=late_compensation_fen,
                complaints=sum(complaints.values()), resolved=resolved, mean_resolution_s=mean_resolution,
                route_m=metres, route_deliveries=route_deliveries, km_counted=filters.zone is None)
    offers, quotes = _offers(scope, [w for w, _t in by_window])
    return Dashboard(filters, kpis, days, by_window, by_zone, offers, quotes, complaints, _cooperatives(scope),
                     _change_days(scope, period), _change_keys(scope), _factors(scope), now)


# --- the charts --------------------------------------------------------------------------------


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


def _roomy(largest: float) -> float | None:
    """An axis end a third above the longest bar, on a round number: a horizontal bar's value
    is written after its end, and needs the room (None: let the chart choose)."""
    if largest <= 0:
        return None
    target = largest * 4 / 3
    step = 10 ** math.floor(math.log10(target))
    end = next(m * step for m in (1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10) if m * step >= target)
    return math.ceil(end) if isinstance(largest, int) else end  # (a count's axis counts in whole numbers)


def _without_county(names: list[str]) -> list[str]:
    """Names without the county's name they begin with (遂昌县…): the chart's side has room for
    a few characters only; the table under it keeps the full names."""
    counties = [localized(c) for c in db.session.scalars(sa.select(County))]
    out = []
    for name in names:
        county = next((c for c in counties if c and name.startswith(c) and len(name) > len(c) + 1), "")
        out.append(name[len(county):].lstrip())
    return out


def chart_specs(d: Dashboard) -> dict[str, dict[str, Any]]:
    """The dashboard's charts as data for static/js/charts.js, labels in the page's language."""
    categories = [coop_stats.short_day(x.day) for x in d.days]
    windows = [w.code if is_english() else localized(w) for w, _t in d.by_window]  # short: "2h" / "2小时达"
    key_labels = {k.key: k.label for k in d.change_keys}
    specs: dict[str, dict[str, Any]] = {
        "sales": {
            "categories": categories,
            "axes": [{"name": _("Sales (¥)"), "format": "money"}, {"name": _("Orders"), "format": "int"}],
            "series": [
                {"name": _("Sales (¥)"), "type": "bar", "format": "money", "color": "#2f6b3f",
                 "data": [round(x.sales_fen / 100, 2) for x in d.days]},
                {"name": _("Orders"), "type": "line", "axis": 1, "format": "int", "color": "#f2b544",
                 "data": [x.orders for x in d.days]},
            ],
        },
        "on_time_windows": {
            "categories": windows,
            "axes": [{"name": _("On-time rate (%)"), "format": "percent", "min": 0, "max": 100}],
            "series": [{"name": _("On-time rate (%)"), "type": "bar", "format": "percent", "color": "#2f6b3f",
                        "data": [_percent(t.rate) for _w, t in d.by_window]}],
        },
        "on_time_zones": {  # (upright: a bar's label at 100% would not fit on the right)
            "categories": [localized(z) for z, _t in d.by_zone],
            "axes": [{"name": _("On-time rate (%)"), "format": "percent", "min": 0, "max": 100}],
            "series": [{"name": _("On-time rate (%)"), "type": "bar", "format": "percent", "color": "#5b8fb9",
                        "data": [_percent(t.rate) for _z, t in d.by_zone]}],
        },
        "offers": {
            "categories": [o.window.code if is_english() else localized(o.window) for o in d.offers],
            "axes": [{"name": _("Quotes"), "format": "int"}, {"name": _("Offered (%)"), "format": "percent",
                                                               "min": 0, "max": 100}],
            "series": [
                {"name": _("Offered"), "type": "bar", "color": "#5b8fb9", "data": [o.offered for o in d.offers]},
                {"name": _("Orders placed"), "type": "bar", "color": "#2f6b3f", "data": [o.chosen for o in d.offers]},
                {"name": _("Offered (%)"), "type": "line", "axis": 1, "format": "percent",
                 "color": "#f2b544", "data": [_percent(o.offered_rate) for o in d.offers]},
            ],
        },
        "complaints": {
            "horizontal": True,
            "categories": [str(LABELS["complaint_category_names"][c]) for c in d.complaints],
            "axes": [{"name": _("Complaints"), "format": "int", "max": _roomy(max(d.complaints.values(), default=0))}],
            "series": [{"name": _("Complaints"), "type": "bar", "color": "#c8412d", "data": list(d.complaints.values())}],
        },
        "cooperatives": {
            "horizontal": True,
            "categories": _without_county([localized(r.cooperative) for r in d.cooperatives]),
            "axes": [{"name": _("Sales (¥)"), "format": "money",
                      "max": _roomy(max((r.sales_fen for r in d.cooperatives), default=0) / 100)}],
            "series": [{"name": _("Sales (¥)"), "type": "bar", "format": "money", "color": "#2f6b3f",
                        "data": [round(r.sales_fen / 100, 2) for r in d.cooperatives]}],
        },
        "changes": {
            "categories": categories,
            "axes": [{"name": _("Changes"), "format": "int"}],
            "series": [{"name": key_labels.get(key, key), "type": "bar", "stack": "changes",
                        "data": [d.change_days.get(x.day, {}).get(key, 0) for x in d.days]}
                       for key in sorted({k.key for k in d.change_keys})],
        },
    }
    if d.factors:
        end = min(d.period.utc_bounds[1], d.now)
        specs["factors"] = {
            "time": True,
            "axes": [{"name": _("Travel-time factor"), "format": "factor"}],
            "series": [{"name": localized(line.zone), "type": "line", "step": "end",
                        "data": [[at.isoformat(), value] for at, value in line.points]
                        + [[end.isoformat(), line.points[-1][1]]]}  # the value holds until now
                       for line in d.factors],
        }
    return specs
