"""The cooperative's own statistics over a period of Shanghai calendar days.

What counts (the same rules as ``services.sales_summary``, made strict):

- **Sold**: an order line of one of the cooperative's products in an order that is confirmed
  (paid online, or cash on delivery accepted), dispatched or delivered. Orders awaiting payment,
  cancelled or expired are not sales. A consumer's cancellation is the one refund of goods the
  shop records, and a cancelled order is not counted at all; a late-delivery compensation (coupon
  or refund) is the platform's promise being paid, not a return of the goods, so it leaves the
  sales as they were. Lines count at their price at ordering time, on the Shanghai day the order
  was placed.
- **On time**: the sold orders holding the cooperative's products that were delivered (kept when
  ``delivered_at <= deadline_at``) or are past their deadline undelivered (late), by the day the
  order was placed and by its window class. Orders still inside their window are not judged.
- **Complaints**: filed on a Shanghai day of the period, about the cooperative
  (``Complaint.cooperative_id``; a complaint without one counts when its order holds the
  cooperative's products), by category, per 1,000 of the period's sold orders.
- **Quality score**: ``Cooperative.quality_score``, and its history from the logistics parameter
  (scope cooperative, key ``quality_score``) when the feedback loop keeps one.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import sqlalchemy as sa
from babel.dates import format_skeleton
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..catalog.models import Product
from ..columns import utcnow
from ..complaints.models import Complaint, ComplaintCategory
from ..csvfile import csv_bytes
from ..errors import ValidationFailed
from ..extensions import db
from ..i18n import LOCAL_TZ, localized
from ..labels import LABELS
from ..logistics.models import LogisticsParameter, ParameterChange, ParameterScope, WindowClass
from ..orders.models import Order, OrderLine, OrderStatus
from .models import Cooperative

SOLD = (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED)
PRESETS = ("7", "30", "90")
CUSTOM = "custom"
MAX_DAYS = 366
QUALITY_KEY = "quality_score"


# --- the period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """Shanghai calendar days ``start``..``end``, both included."""

    start: date
    end: date
    preset: str = CUSTOM

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    @property
    def utc_bounds(self) -> tuple[datetime, datetime]:
        """[first instant, first instant after) in UTC."""
        begin = datetime.combine(self.start, time(0), LOCAL_TZ).astimezone(UTC)
        after = datetime.combine(self.end + timedelta(days=1), time(0), LOCAL_TZ).astimezone(UTC)
        return begin, after

    def query(self) -> dict[str, str]:
        """The URL arguments that give this period back."""
        if self.preset in PRESETS:
            return {"period": self.preset}
        return {"period": CUSTOM, "from": self.start.isoformat(), "to": self.end.isoformat()}


def today_local(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(LOCAL_TZ).date()


def _parse_day(value: str, field_name: str) -> date:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise ValidationFailed(_l("Enter dates as YYYY-MM-DD, e.g. 2026-11-01."), field=field_name) from None


def parse_period(args: dict[str, str], now: datetime | None = None) -> Period:
    """The period asked for by ``period`` (7, 30, 90 or custom) with ``from``/``to``; the last 7
    days when nothing is asked. ValidationFailed (with the field) for anything else."""
    today = today_local(now)
    preset = (args.get("period") or "").strip()
    start, end = (args.get("from") or "").strip(), (args.get("to") or "").strip()
    if not preset:
        preset = CUSTOM if (start or end) else "7"
    if preset in PRESETS:
        return Period(today - timedelta(days=int(preset) - 1), today, preset)
    if preset != CUSTOM:
        raise ValidationFailed(_l("Choose the last 7, 30 or 90 days, or enter dates."), field="period")
    if not start or not end:
        raise ValidationFailed(_l("Enter both the first and the last day."), field="from" if not start else "to")
    first, last = _parse_day(start, "from"), _parse_day(end, "to")
    if first > last:
        raise ValidationFailed(_l("The first day must not be after the last day."), field="from")
    if last > today:
        raise ValidationFailed(_l("The last day cannot be in the future."), field="to")
    if (last - first).days + 1 > MAX_DAYS:
        raise ValidationFailed(_l("A period can be at most %(n)d days.", n=MAX_DAYS), field="from")
    return Period(first, last, CUSTOM)


def _local_day(at: datetime) -> date:
    return at.astimezone(LOCAL_TZ).date()


# --- the numbers -----------------------------------------------------------------------------


@dataclass
class Amount:
    units: int = 0
    fen: int = 0

    def add(self, units: int, fen: int) -> None:
        self.units += units
        self.fen += fen


@dataclass
class Sales:
    products: list[Product]  # the cooperative's products sold in the period, by SKU
    by_product: dict[int, Amount]
    by_day: dict[date, dict[int, Amount]]  # day → product id → amount (sold ones only)
    day_totals: dict[date, Amount]
    day_orders: dict[date, int]
    total: Amount
    orders: int


@dataclass
class OnTime:
    on_time: int = 0
    late: int = 0  # delivered after the deadline
    overdue: int = 0  # past the deadline, not delivered

    @property
    def judged(self) -> int:
        return self.on_time + self.late + self.overdue

    @property
    def rate(self) -> float | None:
        return self.on_time / self.judged if self.judged else None


@dataclass
class QualityPoint:
    at: datetime
    value: float
    source: str
    reason: str


@dataclass
class Stats:
    cooperative: Cooperative
    period: Period
    sales: Sales
    on_time: OnTime
    on_time_by_window: list[tuple[WindowClass, OnTime]]
    on_time_by_day: dict[date, OnTime]
    complaints: dict[str, int]  # category value → count (every category, in ComplaintCategory order)
    quality: list[QualityPoint] = field(default_factory=list)  # the changes in the period, oldest first
    quality_at_start: float | None = None  # the value in force when the period began (if history)
    has_quality_history: bool = False

    @property
    def complaint_total(self) -> int:
        return sum(self.complaints.values())

    def per_thousand(self, count: int) -> Decimal | None:
        """Complaints per 1,000 sold orders, one decimal; None without orders."""
        if not self.sales.orders:
            return None
        return (Decimal(count) * 1000 / self.sales.orders).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _of_cooperative(cooperative_id: int):
    """Order ids holding one of the cooperative's products."""
    return (sa.select(OrderLine.order_id).join(Product, Product.id == OrderLine.product_id)
            .where(Product.cooperative_id == cooperative_id))


def _sales(cooperative_id: int, period: Period) -> Sales:
    begin, after = period.utc_bounds
    rows = db.session.execute(
        sa.select(Order.id, Order.placed_at, OrderLine.product_id, OrderLine.quantity, OrderLine.line_total_fen)
        .join(OrderLine.order).join(Product, Product.id == OrderLine.product_id)
        .where(Product.cooperative_id == cooperative_id, Order.status.in_(SOLD),
               Order.placed_at >= begin, Order.placed_at < after)
    ).all()
    by_product: dict[int, Amount] = defaultdict(Amount)
    by_day: dict[date, dict[int, Amount]] = {day: defaultdict(Amount) for day in period.days}
    day_totals = {day: Amount() for day in period.days}
    day_orders: dict[date, set[int]] = {day: set() for day in period.days}
    total = Amount()
    for order_id, placed_at, product_id, quantity, fen in rows:
        day = _local_day(placed_at)
        by_product[product_id].add(quantity, fen)
        by_day[day][product_id].add(quantity, fen)
        day_totals[day].add(quantity, fen)
        day_orders[day].add(order_id)
        total.add(quantity, fen)
    products = db.session.scalars(
        sa.select(Product).where(Product.id.in_(list(by_product))).order_by(Product.sku)).all() if by_product else []
    orders = len({order_id for order_id, *_ in rows})
    return Sales(list(products), dict(by_product), {d: dict(v) for d, v in by_day.items()}, day_totals,
                 {d: len(ids) for d, ids in day_orders.items()}, total, orders)


def _on_time(cooperative_id: int, period: Period, now: datetime) -> tuple[OnTime, list, dict[date, OnTime]]:
    begin, after = period.utc_bounds
    rows = db.session.execute(
        sa.select(Order.placed_at, Order.window_class_id, Order.deadline_at, Order.delivered_at)
        .where(Order.id.in_(_of_cooperative(cooperative_id)), Order.status.in_(SOLD),
               Order.placed_at >= begin, Order.placed_at < after,
               sa.or_(Order.delivered_at.is_not(None), Order.deadline_at < now))
    ).all()
    total = OnTime()
    by_window: dict[int, OnTime] = defaultdict(OnTime)
    by_day = {day: OnTime() for day in period.days}
    for placed_at, window_id, deadline_at, delivered_at in rows:
        outcome = "overdue" if delivered_at is None else "on_time" if delivered_at <= deadline_at else "late"
        for tally in (total, by_window[window_id], by_day[_local_day(placed_at)]):
            setattr(tally, outcome, getattr(tally, outcome) + 1)
    windows = db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours)).all()
    shown = [(w, by_window.get(w.id, OnTime())) for w in windows if w.active or w.id in by_window]
    return total, shown, by_day


def _complaints(cooperative_id: int, period: Period) -> dict[str, int]:
    begin, after = period.utc_bounds
    counted = dict(db.session.execute(
        sa.select(Complaint.category, sa.func.count())
        .where(Complaint.created_at >= begin, Complaint.created_at < after,
               sa.or_(Complaint.cooperative_id == cooperative_id,
                      sa.and_(Complaint.cooperative_id.is_(None), Complaint.order_id.in_(_of_cooperative(cooperative_id)))))
        .group_by(Complaint.category)
    ).all())
    return {category.value: int(counted.get(category, 0)) for category in ComplaintCategory}


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _quality(cooperative_id: int, period: Period) -> tuple[list[QualityPoint], float | None, bool]:
    begin, after = period.utc_bounds
    changes = db.session.scalars(
        sa.select(ParameterChange).join(ParameterChange.parameter)
        .where(LogisticsParameter.scope == ParameterScope.COOPERATIVE, LogisticsParameter.scope_id == cooperative_id,
               LogisticsParameter.key == QUALITY_KEY, ParameterChange.created_at < after)
        .order_by(ParameterChange.created_at, ParameterChange.id)
    ).all()
    at_start = None
    points = []
    for change in changes:
        value = _number(change.new_value)
        if value is None:
            continue
        if change.created_at < begin:
            at_start = value
        else:
            points.append(QualityPoint(change.created_at, value, change.source.value, change.reason))
    return points, at_start, bool(changes)


def cooperative_stats(cooperative_id: int, period: Period, now: datetime | None = None) -> Stats:
    """Every number of the statistics page for one cooperative over ``period``."""
    now = now or utcnow()
    cooperative = db.session.get(Cooperative, cooperative_id)
    total, by_window, by_day = _on_time(cooperative_id, period, now)
    quality, at_start, has_history = _quality(cooperative_id, period)
    return Stats(cooperative, period, _sales(cooperative_id, period), total, by_window, by_day,
                 _complaints(cooperative_id, period), quality, at_start, has_history)


# --- presentation helpers shared by the page and the CSV ----------------------------------------


def yuan_text(fen: int) -> str:
    """Fen as yuan with two decimals, no symbol (a spreadsheet reads it as a number)."""
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return f"{sign}{fen // 100}.{fen % 100:02d}"


def percent_text(rate: float | None) -> str:
    return "" if rate is None else f"{rate * 100:.1f}"


def short_day(day: date) -> str:
    """A day for a chart axis in the page's language: "12月1日" / "Dec 1"."""
    return format_skeleton("MMMd", day, locale=get_locale())


def chart_specs(stats: Stats) -> dict[str, dict[str, Any]]:
    """The charts of the page as data for static/js/charts.js (labels in the page's language)."""
    days = stats.period.days
    categories = [short_day(d) for d in days]
    sales = stats.sales
    specs: dict[str, dict[str, Any]] = {
        "sales": {
            "categories": categories,
            "axes": [{"name": _("Sales (¥)"), "format": "money"}, {"name": _("Units"), "format": "int"}],
            "series": [
                {"name": localized(p), "type": "bar", "stack": "sales", "format": "money",
                 "data": [round(sales.by_day[d].get(p.id, Amount()).fen / 100, 2) for d in days]}
                for p in sales.products
            ] + [{"name": _("Units"), "type": "line", "axis": 1, "format": "int",
                  "data": [sales.day_totals[d].units for d in days]}],
        },
        "on_time": {
            "categories": categories,
            "axes": [{"name": _("Orders"), "format": "int"}, {"name": _("On-time rate (%)"), "format": "percent",
                                                                 "max": 100}],
            "series": [
                {"name": _("On time"), "type": "bar", "stack": "orders", "color": "#2f6b3f",
                 "data": [stats.on_time_by_day[d].on_time for d in days]},
                {"name": _("Late"), "type": "bar", "stack": "orders", "color": "#c8412d",
                 "data": [stats.on_time_by_day[d].late + stats.on_time_by_day[d].overdue for d in days]},
                {"name": _("On-time rate (%)"), "type": "line", "axis": 1, "format": "percent", "color": "#f2b544",
                 "data": [None if stats.on_time_by_day[d].rate is None else round(stats.on_time_by_day[d].rate * 100, 1)
                          for d in days]},
            ],
        },
        "complaints": {
            "horizontal": True,
            "categories": [str(LABELS["complaint_category_names"][c]) for c in stats.complaints],
            "axes": [{"name": _("Complaints"), "format": "int"}],
            "series": [{"name": _("Complaints"), "type": "bar", "color": "#c8412d",
                        "data": list(stats.complaints.values())}],
        },
    }
    series: list[list[Any]] = []
    if stats.has_quality_history:
        begin, after = stats.period.utc_bounds
        if stats.quality_at_start is not None:
            series.append([begin.isoformat(), stats.quality_at_start])
        series += [[p.at.isoformat(), p.value] for p in stats.quality]
    if stats.has_quality_history and series:
        series.append([min(after, utcnow()).isoformat(), series[-1][1]])  # the value holds until now
        specs["quality"] = {
            "time": True,
            "axes": [{"name": _("Quality score"), "format": "int", "min": 0, "max": 100}],
            "series": [{"name": _("Quality score"), "type": "line", "step": "end", "color": "#2f6b3f",
                        "data": series}],
        }
    return specs


# --- CSV -------------------------------------------------------------------------------------


TABLES = {
    "sales": _l("Sales by day and product"),
    "products": _l("Sales by product"),
    "on_time": _l("On-time rate by window class"),
    "on_time_days": _l("On-time rate by day"),
    "complaints": _l("Complaints by category"),
    "quality": _l("Quality score history"),
}


def check_table(table: str) -> str:
    if table not in TABLES:
        raise ValidationFailed(_l("Unknown table: choose one of the tables on the statistics page."), field="table")
    return table


def csv_rows(stats: Stats, table: str) -> list[list[str]]:
    """Header row then data rows of one table, in the page's language; money in yuan (2 decimals)."""
    check_table(table)
    sales = stats.sales
    if table == "sales":
        rows = [[_("Date"), _("SKU"), _("Product"), _("Units"), _("Sales (yuan)")]]
        for day in stats.period.days:
            for product in sales.products:
                amount = sales.by_day[day].get(product.id)
                if amount:
                    rows.append([day.isoformat(), product.sku, localized(product), str(amount.units),
                                 yuan_text(amount.fen)])
        return rows
    if table == "products":
        rows = [[_("SKU"), _("Product"), _("Units"), _("Sales (yuan)"), _("Share of sales (%)")]]
        for product in sales.products:
            amount = sales.by_product[product.id]
            share = amount.fen / sales.total.fen if sales.total.fen else None
            rows.append([product.sku, localized(product), str(amount.units), yuan_text(amount.fen), percent_text(share)])
        rows.append(["", _("Total"), str(sales.total.units), yuan_text(sales.total.fen), percent_text(1.0 if sales.total.fen else None)])
        return rows
    if table == "on_time":
        rows = [[_("Window"), _("Orders judged"), _("On time"), _("Delivered late"), _("Overdue, not delivered"),
                 _("On-time rate (%)")]]
        for window, tally in stats.on_time_by_window:
            rows.append([localized(window), str(tally.judged), str(tally.on_time), str(tally.late), str(tally.overdue),
                         percent_text(tally.rate)])
        total = stats.on_time
        rows.append([_("Total"), str(total.judged), str(total.on_time), str(total.late), str(total.overdue),
                     percent_text(total.rate)])
        return rows
    if table == "on_time_days":
        rows = [[_("Date"), _("Orders judged"), _("On time"), _("Delivered late"), _("Overdue, not delivered"),
                 _("On-time rate (%)")]]
        for day in stats.period.days:
            tally = stats.on_time_by_day[day]
            rows.append([day.isoformat(), str(tally.judged), str(tally.on_time), str(tally.late), str(tally.overdue),
                         percent_text(tally.rate)])
        return rows
    if table == "complaints":
        rows = [[_("Category"), _("Complaints"), _("Per 1,000 orders")]]
        for category, count in stats.complaints.items():
            rate = stats.per_thousand(count)
            rows.append([str(LABELS["complaint_category_names"][category]), str(count), "" if rate is None else str(rate)])
        rate = stats.per_thousand(stats.complaint_total)
        rows.append([_("Total"), str(stats.complaint_total), "" if rate is None else str(rate)])
        return rows
    rows = [[_("Time"), _("Quality score"), _("Source"), _("Reason")]]
    for point in stats.quality:
        rows.append([point.at.astimezone(LOCAL_TZ).strftime("%Y-%m-%d %H:%M"), f"{point.value:g}", point.source,
                     point.reason])
    return rows


def csv_export(stats: Stats, table: str) -> tuple[str, bytes]:
    """(file name, UTF-8 bytes with a BOM so that Excel reads the Chinese right)."""
    rows = csv_rows(stats, table)
    period = stats.period
    name = f"{stats.cooperative.code}-{table.replace('_', '-')}-{period.start:%Y%m%d}-{period.end:%Y%m%d}.csv"
    return name, csv_bytes(rows)


