"""The statistics report for the county commerce bureau (县商务局): the month-end report the county
e-commerce demonstration rules ask for, and the same report for any period on demand.

A report is computed once and stored (:class:`StatisticsReport`, ``data``): its pages and
downloads render from that snapshot, so March's report reads the same in June. Periods are
Shanghai calendar days ``[start, end]`` (coop.stats.Period), every time in the database is UTC.

What counts (said again in words in every rendering, see ``exports.definitions``):

- **Orders**: orders *placed* in the period (``placed_at``), every status, split by their status
  when the report was computed: awaiting payment, expired (unpaid, timed out), cancelled, in
  progress (confirmed or on a vehicle) and delivered. Reships (goods sent again on a complaint)
  are orders of their own and count here too.
- **Sales**: the order lines (goods at their price when ordered) of the period's orders that are
  confirmed (paid online, or cash on delivery accepted), dispatched or delivered: the *sold*
  orders. Unpaid, expired and cancelled orders are not sales. Delivery fees are shown apart.
  Refunds, coupons and compensation are not deducted (they are listed under delivery and
  resolutions). The same rule as the cooperatives' own statistics (coop.stats).
- **By category / cooperative**: a sold order's lines by the product's category / cooperative;
  an order holding goods of two cooperatives counts once for each (the orders column does not
  add up to the total, the sales do). **By town**: sold orders by the town of the delivery
  address's village.
- **Delivery**: the sold orders per window class; on time = delivered with ``delivered_at <=
  deadline_at``; the on-time rate is on-time / delivered; orders past their deadline and not
  delivered are shown as overdue. **Compensation**: automatic late-delivery compensation
  (coupons, refunds; not the ones granted on complaints) created in the period.
- **Complaints**: filed in the period (``created_at``), by category; per 1,000 sold orders;
  resolved = has ``resolved_at`` when computed; mean time to resolution from filing.
- **Resolutions**: remedies granted on complaints in the period by kind: refunds and coupons
  (their amounts) and reships (the goods value of the order sent again).
"""

from __future__ import annotations

import calendar
import logging
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from ..catalog.models import Category, Product
from ..columns import utcnow
from ..complaints.models import Complaint, ComplaintCategory, ComplaintResolution, ResolutionKind
from ..coop.models import Cooperative, CooperativeStatus
from ..coop.stats import CUSTOM, SOLD, Period, parse_period, today_local
from ..errors import NotFound
from ..extensions import db
from ..geo.models import Town, Village
from ..i18n import LOCAL_TZ
from ..logistics.models import WindowClass
from ..orders.models import Compensation, CompensationKind, Order, OrderLine, OrderStatus
from .models import StatisticsReport

log = logging.getLogger("shanhuo.reports.bureau")

MONTHLY = "monthly_bureau"  # the month-end report (the job's, or a whole past month asked for)
ON_DEMAND = "bureau"  # any other period, asked for on the page
KINDS = (MONTHLY, ON_DEMAND)
SCHEMA = 1  # the layout of ``data``; renderings read it to stay faithful to old snapshots
HISTORY_LIMIT = 500


# --- the period --------------------------------------------------------------------------------


def requested_period(start: str, end: str, now: datetime | None = None) -> Period:
    """The period an operator asked for: both days given, start <= end, not in the future, at most
    366 days (coop.stats.parse_period's rules and messages; ValidationFailed naming the field)."""
    return parse_period({"period": CUSTOM, "from": start or "", "to": end or ""}, now=now)


def previous_month(now: datetime) -> Period:
    """The last whole calendar month (Shanghai) before ``now``."""
    first_of_this = now.astimezone(LOCAL_TZ).date().replace(day=1)
    last = first_of_this - timedelta(days=1)
    return Period(last.replace(day=1), last)


def previous_month_of_today() -> Period:
    return previous_month(utcnow())


def is_whole_month(period: Period) -> bool:
    last_day = calendar.monthrange(period.start.year, period.start.month)[1]
    return period.start.day == 1 and period.end == period.start.replace(day=last_day)


def kind_for(period: Period, now: datetime) -> str:
    """A whole calendar month that is over is the monthly report (whoever asks first, the page or
    the month-end job, stores it; the other finds it); any other period is on demand."""
    return MONTHLY if is_whole_month(period) and period.end < today_local(now) else ON_DEMAND


# --- the numbers -------------------------------------------------------------------------------


def _names(obj: Any) -> dict[str, str]:
    return {"name_zh": obj.name_zh, "name_en": obj.name_en or obj.name_zh}


def _order_counts(begin: datetime, after: datetime) -> dict[str, int]:
    by_status = dict(db.session.execute(
        sa.select(Order.status, sa.func.count()).where(Order.placed_at >= begin, Order.placed_at < after)
        .group_by(Order.status)).all())
    count = {status: int(by_status.get(status, 0)) for status in OrderStatus}
    reships = db.session.scalar(
        sa.select(sa.func.count(sa.distinct(ComplaintResolution.reship_order_id))).join(
            Order, Order.id == ComplaintResolution.reship_order_id)
        .where(Order.placed_at >= begin, Order.placed_at < after)) or 0
    return {
        "placed": sum(count.values()),
        "pending_payment": count[OrderStatus.PENDING_PAYMENT],
        "expired": count[OrderStatus.EXPIRED],
        "cancelled": count[OrderStatus.CANCELLED],
        "in_progress": count[OrderStatus.CONFIRMED] + count[OrderStatus.DISPATCHED],
        "delivered": count[OrderStatus.DELIVERED],
        "sold": sum(count[s] for s in SOLD),
        "reships": int(reships),
    }


def _sold(begin: datetime, after: datetime):
    return (Order.status.in_(SOLD), Order.placed_at >= begin, Order.placed_at < after)


def _sales(begin: datetime, after: datetime) -> dict[str, int]:
    goods, units = db.session.execute(
        sa.select(sa.func.coalesce(sa.func.sum(OrderLine.line_total_fen), 0),
                  sa.func.coalesce(sa.func.sum(OrderLine.quantity), 0))
        .join(OrderLine.order).where(*_sold(begin, after))).one()
    orders, fees = db.session.execute(
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(Order.delivery_fee_fen), 0))
        .where(*_sold(begin, after))).one()
    return {"orders": int(orders), "units": int(units), "goods_fen": int(goods), "delivery_fee_fen": int(fees),
            "total_fen": int(goods) + int(fees)}


def _lines_by(column, begin: datetime, after: datetime) -> dict[int, tuple[int, int, int]]:
    """key → (sold orders, units, goods fen) of the sold lines grouped by ``column``."""
    rows = db.session.execute(
        sa.select(column, sa.func.count(sa.distinct(Order.id)), sa.func.sum(OrderLine.quantity),
                  sa.func.sum(OrderLine.line_total_fen))
        .select_from(OrderLine).join(OrderLine.order).join(Product, Product.id == OrderLine.product_id)
        .where(*_sold(begin, after)).group_by(column)).all()
    return {key: (int(orders), int(units), int(fen)) for key, orders, units, fen in rows}


def _by_category(begin: datetime, after: datetime) -> list[dict[str, Any]]:
    sold = _lines_by(Product.category_id, begin, after)
    out = []
    for category in db.session.scalars(sa.select(Category).order_by(Category.sort, Category.id)):
        orders, units, fen = sold.get(category.id, (0, 0, 0))
        out.append({"id": category.id, "slug": category.slug, **_names(category), "orders": orders, "units": units,
                    "sales_fen": fen})
    return out


def _by_cooperative(begin: datetime, after: datetime) -> list[dict[str, Any]]:
    """Every approved cooperative (none sold: zeros, the bureau sees who sells) and any other that
    sold in the period; the biggest sales first."""
    sold = _lines_by(Product.cooperative_id, begin, after)
    coops = db.session.scalars(sa.select(Cooperative).where(sa.or_(
        Cooperative.status == CooperativeStatus.APPROVED, Cooperative.id.in_(list(sold) or [0])))).all()
    out = []
    for coop in coops:
        orders, units, fen = sold.get(coop.id, (0, 0, 0))
        out.append({"id": coop.id, "code": coop.code, **_names(coop), "orders": orders, "units": units,
                    "sales_fen": fen})
    out.sort(key=lambda row: (-row["sales_fen"], row["code"]))
    return out


def _by_town(begin: datetime, after: datetime) -> list[dict[str, Any]]:
    """Every town of the county, by its code: the sold orders delivered to its villages."""
    goods = (sa.select(OrderLine.order_id, sa.func.sum(OrderLine.line_total_fen).label("fen"))
             .group_by(OrderLine.order_id).subquery())
    rows = db.session.execute(
        sa.select(Village.town_id, sa.func.count(Order.id),
                  sa.func.sum(sa.case((Order.status == OrderStatus.DELIVERED, 1), else_=0)),
                  sa.func.coalesce(sa.func.sum(goods.c.fen), 0))
        .select_from(Order).join(Village, Village.id == Order.village_id)
        .outerjoin(goods, goods.c.order_id == Order.id)
        .where(*_sold(begin, after)).group_by(Village.town_id)).all()
    counted = {town_id: (int(n), int(delivered or 0), int(fen)) for town_id, n, delivered, fen in rows}
    out = []
    for town in db.session.scalars(sa.select(Town).order_by(Town.code)):
        orders, delivered, fen = counted.get(town.id, (0, 0, 0))
        out.append({"id": town.id, "code": town.code, **_names(town), "orders": orders, "delivered": delivered,
                    "sales_fen": fen})
    return out


def _delivery(begin: datetime, after: datetime, now: datetime) -> dict[str, Any]:
    on_time = sa.and_(Order.delivered_at.is_not(None), Order.delivered_at <= Order.deadline_at)
    late = sa.and_(Order.delivered_at.is_not(None), Order.delivered_at > Order.deadline_at)
    overdue = sa.and_(Order.delivered_at.is_(None), Order.deadline_at < now)

    def flag(condition):
        return sa.func.sum(sa.case((condition, 1), else_=0))

    rows = db.session.execute(
        sa.select(Order.window_class_id, sa.func.count(), flag(Order.delivered_at.is_not(None)), flag(on_time),
                  flag(late), flag(overdue))
        .where(*_sold(begin, after)).group_by(Order.window_class_id)).all()
    counted = {row[0]: [int(v or 0) for v in row[1:]] for row in rows}
    windows = []
    for window in db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours, WindowClass.id)):
        if not window.active and window.id not in counted:
            continue
        orders, delivered, kept, late_n, overdue_n = counted.get(window.id, [0, 0, 0, 0, 0])
        windows.append({"id": window.id, "code": window.code, "hours": window.hours, **_names(window),
                        "orders": orders, "delivered": delivered, "on_time": kept, "late": late_n,
                        "overdue": overdue_n})
    comp = db.session.execute(
        sa.select(Compensation.kind, sa.func.count(), sa.func.sum(Compensation.amount_fen))
        .where(Compensation.complaint_id.is_(None), Compensation.created_at >= begin, Compensation.created_at < after)
        .group_by(Compensation.kind)).all()
    paid = {kind: (int(n), int(fen or 0)) for kind, n, fen in comp}
    compensation = {kind.value: {"count": paid.get(kind, (0, 0))[0], "fen": paid.get(kind, (0, 0))[1]}
                    for kind in CompensationKind}
    return {"windows": windows, "compensation": compensation}


def _complaints(begin: datetime, after: datetime) -> dict[str, Any]:
    rows = db.session.execute(
        sa.select(Complaint.category, Complaint.created_at, Complaint.resolved_at)
        .where(Complaint.created_at >= begin, Complaint.created_at < after)).all()
    by_category = {category.value: 0 for category in ComplaintCategory}
    resolved_seconds = []
    for category, created_at, resolved_at in rows:
        by_category[ComplaintCategory(category).value] += 1
        if resolved_at is not None:
            resolved_seconds.append(max(0, int((resolved_at - created_at).total_seconds())))
    mean = round(sum(resolved_seconds) / len(resolved_seconds)) if resolved_seconds else None
    return {"by_category": by_category, "total": len(rows), "resolved": len(resolved_seconds),
            "mean_resolution_seconds": mean}


def _resolutions(begin: datetime, after: datetime) -> dict[str, dict[str, int]]:
    reship_goods = (sa.select(sa.func.coalesce(sa.func.sum(OrderLine.line_total_fen), 0))
                    .where(OrderLine.order_id == ComplaintResolution.reship_order_id).scalar_subquery())
    amount = sa.case((ComplaintResolution.kind == ResolutionKind.RESHIP, reship_goods),
                     else_=ComplaintResolution.amount_fen)
    rows = db.session.execute(
        sa.select(ComplaintResolution.kind, sa.func.count(), sa.func.sum(amount))
        .where(ComplaintResolution.created_at >= begin, ComplaintResolution.created_at < after)
        .group_by(ComplaintResolution.kind)).all()
    found = {ResolutionKind(kind): (int(n), int(fen or 0)) for kind, n, fen in rows}
    return {kind.value: {"count": found.get(kind, (0, 0))[0], "fen": found.get(kind, (0, 0))[1]}
            for kind in (ResolutionKind.REFUND, ResolutionKind.COUPON, ResolutionKind.RESHIP)}


def compute(period: Period, now: datetime | None = None) -> dict[str, Any]:
    """Every number of the report for ``period`` as the database holds them at ``now``: plain
    JSON (ids, both languages' names, integer fen and counts; rates are derived when rendered)."""
    now = now or utcnow()
    begin, after = period.utc_bounds
    return {
        "schema": SCHEMA,
        "period": {"start": period.start.isoformat(), "end": period.end.isoformat(), "days": len(period.days)},
        "computed_at": now.astimezone(UTC).isoformat(),
        "orders": _order_counts(begin, after),
        "sales": _sales(begin, after),
        "by_category": _by_category(begin, after),
        "by_cooperative": _by_cooperative(begin, after),
        "by_town": _by_town(begin, after),
        "delivery": _delivery(begin, after, now),
        "complaints": _complaints(begin, after),
        "resolutions": _resolutions(begin, after),
    }


# --- storing -----------------------------------------------------------------------------------


def _latest(kinds: tuple[str, ...], period: Period) -> StatisticsReport | None:
    return db.session.scalar(
        sa.select(StatisticsReport).where(StatisticsReport.kind.in_(kinds), StatisticsReport.period_start == period.start,
                                          StatisticsReport.period_end == period.end)
        .order_by(StatisticsReport.revision.desc(), StatisticsReport.id.desc()).limit(1))


def stored(period: Period) -> StatisticsReport | None:
    """The stored bureau report of exactly this period: the monthly one if there is one (computed
    after the month ended), else the one asked for on demand; its newest revision."""
    return _latest((MONTHLY,), period) or _latest((ON_DEMAND,), period)


def _insert(kind: str, period: Period, revision: int, data: dict[str, Any],
            requested_by_id: int | None) -> StatisticsReport | None:
    """Insert one revision; None when that revision exists already (another process got there
    first: the unique key refuses the second, nothing is duplicated)."""
    report = StatisticsReport(kind=kind, period_start=period.start, period_end=period.end, revision=revision,
                              data=data, requested_by_id=requested_by_id)
    try:
        with db.session.begin_nested():
            db.session.add(report)
    except IntegrityError:
        return None
    return report


def generate(period: Period, *, requested_by_id: int | None = None, regenerate: bool = False,
             now: datetime | None = None, kind: str | None = None) -> tuple[StatisticsReport, bool]:
    """The stored report of ``period``: (report, True) when this call computed and stored it, (the
    one stored before, False) when there was one and ``regenerate`` is not asked. ``regenerate``
    computes it again as a new revision beside the old ones (audited). Commits."""
    from ..admin.services import audit

    now = now or utcnow()
    # the month-end job looks for its own kind only: an on-demand report of the same days, asked
    # for before the month was over, is not the month's report
    before = _latest((kind,), period) if kind else stored(period)
    kind = kind or kind_for(period, now)
    if before is not None and not regenerate:
        return before, False
    previous = _latest((kind,), period)
    revision = previous.revision + 1 if previous is not None else 1
    data = compute(period, now)
    report = _insert(kind, period, revision, data, requested_by_id)
    if report is None:  # the same revision stored meanwhile (the job on another server, a double submit)
        db.session.rollback()
        found = _latest((kind,), period)
        assert found is not None
        return found, False
    audit("report.regenerate" if before is not None else "report.generate", actor_id=requested_by_id,
          object_type="statistics_report", object_id=report.id,
          data={"kind": kind, "start": period.start.isoformat(), "end": period.end.isoformat(), "revision": revision,
                **({"replaces": before.id} if before is not None else {})})
    db.session.commit()
    log.info("bureau report stored", extra={"report_id": report.id, "kind": kind, "revision": revision,
                                             "start": period.start.isoformat(), "end": period.end.isoformat()})
    return report, True


def month_end() -> str:
    """The scheduler's job (the 1st of each month, 00:30 Shanghai): last month's report, stored
    once however often the job runs (a retry, a "run now", another server) — a month already
    stored is left as it was. The month is the one before the run's scheduled time (a late run
    on the 2nd still reports the month before the 1st)."""
    from ..scheduler import current_run

    run = current_run()
    at = run.scheduled_at if run is not None and run.scheduled_at is not None else utcnow()
    period = previous_month(at)
    report, made = generate(period, kind=MONTHLY)
    return f"{period.start:%Y-%m}: report {report.id} {'stored' if made else 'already stored'}"


# --- reading -----------------------------------------------------------------------------------


def history() -> list[StatisticsReport]:
    """Every stored bureau report, the latest period first, newest revision first."""
    return list(db.session.scalars(
        sa.select(StatisticsReport).where(StatisticsReport.kind.in_(KINDS))
        .options(selectinload(StatisticsReport.requested_by))
        .order_by(StatisticsReport.period_end.desc(), StatisticsReport.period_start.desc(),
                  StatisticsReport.revision.desc(), StatisticsReport.id.desc()).limit(HISTORY_LIMIT)))


def superseded_ids(reports: list[StatisticsReport]) -> set[int]:
    """The reports a newer revision of the same kind and period replaces."""
    newest: dict[tuple[str, date, date], StatisticsReport] = {}
    for report in reports:
        key = (report.kind, report.period_start, report.period_end)
        if key not in newest or report.revision > newest[key].revision:
            newest[key] = report
    return {r.id for r in reports if newest[(r.kind, r.period_start, r.period_end)].id != r.id}


def report(report_id: int) -> StatisticsReport:
    found = db.session.get(StatisticsReport, report_id)
    if found is None or found.kind not in KINDS:
        raise NotFound()
    return found


def newer_revision(found: StatisticsReport) -> StatisticsReport | None:
    latest = _latest((found.kind,), Period(found.period_start, found.period_end))
    return latest if latest is not None and latest.id != found.id else None
