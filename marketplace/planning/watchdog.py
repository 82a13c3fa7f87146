"""The promise watchdog: orders at risk, orders late, and the compensation of a missed guarantee.

``check_promises(now)`` (the scheduler's ``promise_watchdog`` job, every minute) makes three passes:

1. **Late.** An open order whose deadline passed undelivered is marked late once: an order event
   "late", its promise broken (``promise_broken_at``, so a re-plan does not report it a second
   time) and one critical alert "late", resolved by itself once the order is no longer open.
2. **At risk.** An open order whose projected arrival leaves less slack before its deadline than
   its zone's promise margin (``promise_margin_s``, a learned logistics parameter) gets one
   warning alert "at_risk", never two while one is open; the alert is resolved by itself when the
   slack recovers (a re-plan, a van catching up), the order is delivered, cancelled, or late, or
   its promise is found broken (the planner's critical alert then stands for it).
   The projected arrival is the delivery stop's planned arrival in the active plan, pushed back by
   how far its van is behind that plan: a stop the van should have reached (or left) by now and
   has not recorded delays it and every later stop of the route by as much (planned waiting is
   not counted as absorbing the delay: a warning errs on the early side).
3. **Compensation, exactly once per order.** The window class's rule (stepped by how late,
   capped: ``WindowClass.compensation_for``) applies

   - when a late order is delivered: for ``delivered_at - deadline_at`` (a delivery recorded late
     by ``dispatch.services.record_stop`` is picked up by the next pass, within a minute);
   - when it is still not delivered ``PROMISE_UNDELIVERED_HOLD_HOURS`` (24) after its deadline:
     the cap at once, and nothing more when it is delivered later.

   Money moves only for an order that is settled: a delivered order paid online gets a refund of
   the amount to its payment (``payments.services.refund``; never more than paid minus already
   refunded — when the payment has less left than the amount, the whole amount is a coupon
   instead). Cash on delivery, an order still open (it may yet be cancelled for a full refund),
   or nothing paid: a coupon. Either way a ``Compensation`` row and an order event
   "compensated" record it.

Exactly once holds with two runners at once (two scheduler processes, a retry): each order is
compensated in a transaction of its own that locks the order row first (PostgreSQL: FOR NO KEY
UPDATE SKIP LOCKED) and looks again, and the database refuses a second automatic compensation
of an order (the partial unique index ``uq_compensations_automatic_order`` on
``compensations(order_id) WHERE complaint_id IS NULL``; compensations granted by complaint staff
are not limited) — the loser's IntegrityError rolls its transaction back before any money moves.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..columns import utcnow
from ..dispatch.models import (
    Alert,
    AlertSeverity,
    Plan,
    PlanStatus,
    Route,
    Stop,
    StopKind,
    StopStatus,
)
from ..extensions import db
from ..orders import services as orders
from ..orders.models import (
    Compensation,
    CompensationKind,
    Order,
    OrderEvent,
    OrderStatus,
    PaymentMethod,
)
from ..payments import services as payments
from ..payments.models import RefundStatus
from ..scheduler import JOBS, register_job
from . import services as planning

log = logging.getLogger("shanhuo.watchdog")

if not any(job_id == "promise_watchdog" for job_id, _f, _t in JOBS):
    register_job("promise_watchdog", "marketplace.planning.watchdog:run", minutes=1)

#: one automatic compensation per order (those granted by complaint staff name their complaint)
AUTOMATIC_COMPENSATION_INDEX = sa.Index(
    "uq_compensations_automatic_order", Compensation.__table__.c.order_id, unique=True,
    sqlite_where=Compensation.__table__.c.complaint_id.is_(None),
    postgresql_where=Compensation.__table__.c.complaint_id.is_(None),
)

AT_RISK = "at_risk"
LATE = "late"
#: Compensation.reason of the automatic compensations
LATE_DELIVERY = "late_delivery"
UNDELIVERED = "undelivered"
#: orders whose deadline is further back than this are no longer looked at
LOOKBACK = timedelta(days=7)
#: orders the watchdog follows until they are delivered
OPEN_STATUSES = planning.PLANNED_STATUSES
#: undelivered orders that owe a guarantee (an order never paid was never promised)
PROMISED_STATUSES = (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED)


def undelivered_hold() -> timedelta:
    """How long after its deadline an order still not delivered is compensated with the cap."""
    return timedelta(hours=float(current_app.config["PROMISE_UNDELIVERED_HOLD_HOURS"]))


# --- projected arrivals ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Slack:
    """Where an open order's delivery stands against its deadline."""

    order_id: int
    number: str
    warehouse_id: int | None
    plan_id: int
    vehicle_id: int
    deadline_at: datetime
    eta_at: datetime  # the projected arrival (see the module's docstring)
    margin_s: int  # the zone's promise margin

    @property
    def slack_s(self) -> int:
        return int((self.deadline_at - self.eta_at).total_seconds())

    @property
    def at_risk(self) -> bool:
        return self.slack_s < self.margin_s


def projected_arrivals(now: datetime) -> dict[int, tuple[datetime, int, int]]:
    """Order id → (projected arrival, plan id, vehicle id) of every delivery stop still to be
    made in the active plans. One query."""
    rows = db.session.execute(
        sa.select(Stop.route_id, Stop.kind, Stop.order_id, Stop.status, Stop.planned_arrival_at,
                  Stop.planned_departure_at, Stop.actual_arrival_at, Route.plan_id, Route.vehicle_id)
        .join(Route, Route.id == Stop.route_id).join(Plan, Plan.id == Route.plan_id)
        .where(Plan.status == PlanStatus.ACTIVE, Stop.status.in_([StopStatus.PENDING, StopStatus.ARRIVED]))
        .order_by(Stop.route_id, Stop.sequence)).all()
    out: dict[int, tuple[datetime, int, int]] = {}
    route_id, delay = None, timedelta(0)
    for row in rows:
        if row.route_id != route_id:  # the route's next stop: is the van behind its plan there?
            route_id = row.route_id
            due = row.planned_departure_at if row.status == StopStatus.ARRIVED else row.planned_arrival_at
            delay = max(timedelta(0), now - due)
        if row.kind != StopKind.DELIVERY or row.order_id is None:
            continue
        eta = row.actual_arrival_at if row.status == StopStatus.ARRIVED and row.actual_arrival_at else \
            row.planned_arrival_at + delay
        out[row.order_id] = (eta, row.plan_id, row.vehicle_id)
    return out


def promise_slack(now: datetime) -> dict[int, Slack]:
    """The slack of every open order on a route of an active plan, whose deadline is still ahead
    and whose promise is not already broken, by order id. Three queries."""
    arrivals = projected_arrivals(now)
    if not arrivals:
        return {}
    margins = planning.zone_parameters("promise_margin_s")
    rows = db.session.execute(sa.select(Order.id, Order.number, Order.zone_id, Order.warehouse_id, Order.deadline_at)
                              .where(Order.id.in_(list(arrivals)), Order.status.in_(OPEN_STATUSES),
                                     Order.promise_broken_at.is_(None), Order.deadline_at > now))
    out = {}
    for row in rows:
        eta, plan_id, vehicle_id = arrivals[row.id]
        out[row.id] = Slack(row.id, row.number, row.warehouse_id, plan_id, vehicle_id, row.deadline_at, eta,
                            int(margins.get(row.zone_id, 0)))
    return out


# --- the job ---------------------------------------------------------------------------------------


@dataclass
class WatchdogRun:
    """What one pass changed (a second pass right after changes nothing)."""

    late: list[int] = field(default_factory=list)  # orders marked late
    at_risk: list[int] = field(default_factory=list)  # orders newly alerted at risk
    resolved: int = 0  # alerts resolved by themselves
    compensated: list[int] = field(default_factory=list)  # orders compensated

    def __repr__(self) -> str:  # (the scheduler's run log shows it)
        return (f"late {len(self.late)}, at risk {len(self.at_risk)}, resolved {self.resolved}, "
                f"compensated {len(self.compensated)}")


def run() -> WatchdogRun:
    """The scheduled job (``promise_watchdog``, every minute)."""
    return check_promises(utcnow())


def check_promises(now: datetime) -> WatchdogRun:
    """Mark late orders, raise and resolve at-risk alerts, and compensate missed guarantees
    (see the module's docstring). Idempotent: safe to run twice, also at once. Commits."""
    result = WatchdogRun()
    db.session.rollback()  # fresh reads; nothing of the caller's is pending
    result.late = _mark_late(now)
    result.at_risk, result.resolved = _watch_risks(now)
    result.compensated = compensate_due(now)
    if result.late or result.at_risk or result.compensated:
        log.info("promise watchdog", extra={"late": len(result.late), "at_risk": len(result.at_risk),
                                            "resolved": result.resolved, "compensated": len(result.compensated)})
    return result


def _lock_orders(ids: list[int], *where: sa.ColumnElement[bool]) -> list[Order]:
    """The orders of ``ids`` still matching ``where``, locked until the commit (PostgreSQL: FOR
    NO KEY UPDATE, as a cancel or an expiry; those another runner holds are skipped: it is
    handling them). SQLite has no row locks: its writers are serialized anyway."""
    if not ids:
        return []
    return list(db.session.scalars(
        sa.select(Order).where(Order.id.in_(ids), *where).order_by(Order.id)
        .with_for_update(key_share=True, skip_locked=True).execution_options(populate_existing=True)))


def _open_alerts(kind: str, order_ids: list[int] | None = None) -> dict[int, int]:
    """Order id → id of its open alert of ``kind``."""
    query = sa.select(Alert.order_id, Alert.id).where(Alert.kind == kind, Alert.resolved_at.is_(None),
                                                      Alert.order_id.is_not(None))
    if order_ids is not None:
        query = query.where(Alert.order_id.in_(order_ids))
    return {order_id: alert_id for order_id, alert_id in db.session.execute(query)}


def _resolve(kind: str, order_ids: list[int] | sa.Select, now: datetime) -> int:
    """The open alerts of ``kind`` of these orders are resolved, by no one (their condition cleared)."""
    result = db.session.execute(
        sa.update(Alert).where(Alert.kind == kind, Alert.resolved_at.is_(None), Alert.order_id.in_(order_ids))
        .values(resolved_at=now).execution_options(synchronize_session=False))
    return result.rowcount or 0


def _mark_late(now: datetime) -> list[int]:
    """Open orders past their deadline, not yet marked: event "late" (once), promise broken,
    critical alert. One transaction."""
    overdue = db.session.scalars(sa.select(Order.id).where(
        Order.status.in_(OPEN_STATUSES), Order.deadline_at <= now, Order.deadline_at > now - LOOKBACK,
        ~sa.exists().where(OrderEvent.order_id == Order.id, OrderEvent.kind == LATE))).all()
    if not overdue:
        return []
    marked = []
    locked = _lock_orders(list(overdue), Order.status.in_(OPEN_STATUSES), Order.deadline_at <= now)
    # looked at again under the lock: another runner may have marked them meanwhile
    already = set(db.session.scalars(sa.select(OrderEvent.order_id).where(
        OrderEvent.order_id.in_([o.id for o in locked]), OrderEvent.kind == LATE)))
    alerted = _open_alerts(LATE, [o.id for o in locked])
    for order in locked:
        if order.id in already:
            continue
        event = orders.record_event(order, LATE, data={"deadline_at": order.deadline_at.isoformat()})
        event.created_at = now
        if order.promise_broken_at is None:
            order.promise_broken_at = now
        if order.id not in alerted:
            db.session.add(Alert(
                kind=LATE, severity=AlertSeverity.CRITICAL, warehouse_id=order.warehouse_id, order_id=order.id,
                plan_id=planning.active_plan_id(order.warehouse_id) if order.warehouse_id else None,
                message=f"{order.number}: deadline {order.deadline_at:%Y-%m-%d %H:%M} UTC passed undelivered"[:300],
                data={"order": order.number, "deadline_at": order.deadline_at.isoformat()}, created_at=now))
        marked.append(order.id)
    if marked:
        _resolve(AT_RISK, marked, now)
    db.session.commit()
    return marked


def _watch_risks(now: datetime) -> tuple[list[int], int]:
    """Raise an at-risk alert for each order newly at risk, resolve those whose order no longer
    is (and the late alerts of orders no longer open). One transaction."""
    slack = promise_slack(now)
    risky = {order_id for order_id, s in slack.items() if s.at_risk}
    open_at_risk = _open_alerts(AT_RISK)
    raised = []
    locked = _lock_orders(sorted(risky - set(open_at_risk)), Order.status.in_(OPEN_STATUSES))
    if locked:
        alerted = _open_alerts(AT_RISK, [o.id for o in locked])  # again, under the lock
        for order in locked:
            if order.id in alerted:
                continue
            s = slack[order.id]
            db.session.add(Alert(
                kind=AT_RISK, severity=AlertSeverity.WARNING, warehouse_id=s.warehouse_id, order_id=s.order_id,
                plan_id=s.plan_id, vehicle_id=s.vehicle_id, created_at=now,
                message=(f"{s.number}: expected {s.eta_at:%H:%M} UTC, {s.slack_s // 60} min before its deadline "
                         f"{s.deadline_at:%H:%M} UTC, below the zone's margin of {s.margin_s // 60} min")[:300],
                data={"order": s.number, "eta_at": s.eta_at.isoformat(), "deadline_at": s.deadline_at.isoformat(),
                      "slack_s": s.slack_s, "margin_s": s.margin_s}))
            raised.append(order.id)
    recovered = sorted(set(open_at_risk) - risky)
    resolved = _resolve(AT_RISK, recovered, now) if recovered else 0
    settled = sa.select(Order.id).where(Order.status.not_in(OPEN_STATUSES))
    resolved += _resolve(LATE, settled, now)
    db.session.commit()
    return raised, resolved


# --- compensation ----------------------------------------------------------------------------------


def compensation_due(order: Order, now: datetime) -> tuple[str, int, int] | None:
    """(reason, seconds late, amount in fen) of the compensation the order's guarantee owes
    ``now``, or None (on time, not yet due, nothing to pay, or not an order that was promised)."""
    window = order.window_class
    if order.status == OrderStatus.DELIVERED and order.delivered_at is not None:
        late = order.late_seconds
        amount = window.compensation_for(late) if late > 0 else 0
        return (LATE_DELIVERY, late, amount) if amount > 0 else None
    if order.status in PROMISED_STATUSES and now >= order.deadline_at + undelivered_hold():
        late = int((now - order.deadline_at).total_seconds())
        amount = window.compensation_cap_fen
        return (UNDELIVERED, late, amount) if amount > 0 else None
    return None


def automatic_compensation(order_id: int) -> Compensation | None:
    return db.session.scalar(sa.select(Compensation).where(Compensation.order_id == order_id,
                                                           Compensation.complaint_id.is_(None)))


def compensate(order: Order, *, now: datetime | None = None, coupon: bool = False) -> Compensation | None:
    """Apply the order's guarantee if it is owed ``now`` (default: now) and was not applied yet:
    a Compensation row (the claim: the database refuses a second one, IntegrityError at the
    flush, before any money moves), a refund or a coupon (see the module's docstring; always a
    coupon with ``coupon``), an order event "compensated". The rows are dated ``now`` (the demo
    history passes its delivery time). Returns the compensation, or None when nothing is owed.
    Flushes; the caller commits (the job locks the order first: :func:`compensate_due`)."""
    now = now or utcnow()
    due = compensation_due(order, now)
    if due is None or automatic_compensation(order.id) is not None:
        return None
    reason, late, amount = due
    refundable = (payments.refundable_fen(order.id) if not coupon and order.payment_method == PaymentMethod.ONLINE
                  and order.status == OrderStatus.DELIVERED else 0)
    kind = CompensationKind.REFUND if refundable >= amount else CompensationKind.COUPON
    compensation = Compensation(order_id=order.id, kind=kind, amount_fen=amount, late_seconds=late, reason=reason,
                                created_at=now)
    db.session.add(compensation)
    db.session.flush()  # the claim
    refund = None
    if kind == CompensationKind.REFUND:
        refund = payments.refund(order, amount, f"compensation: {reason.replace('_', ' ')}")
        if refund is None or refund.status == RefundStatus.FAILED:  # the money could not go back
            compensation.kind = CompensationKind.COUPON
        if refund is not None:  # dated with the compensation, as its event below
            refund.created_at = now
            refund.completed_at = now if refund.completed_at is not None else None
            for event in order.events:
                if event.kind == "refunded" and (event.data or {}).get("refund_id") == refund.id:
                    event.created_at = now
    event = orders.record_event(order, "compensated", data={
        "compensation_id": compensation.id, "kind": compensation.kind.value, "amount_fen": amount,
        "late_seconds": late, "reason": reason, "refund_id": refund.id if refund is not None else None})
    event.created_at = now
    db.session.flush()
    return compensation


def compensate_due(now: datetime, *, limit: int = 500) -> list[int]:
    """Compensate every order owed its guarantee ``now`` and not compensated yet (delivered late,
    or undelivered past the hold), each in a transaction of its own that locks the order first
    and looks again. Returns the ids of the orders this call compensated."""
    not_compensated = ~sa.exists().where(Compensation.order_id == Order.id, Compensation.complaint_id.is_(None))
    since = now - LOOKBACK
    ids = db.session.scalars(sa.select(Order.id).where(
        not_compensated, Order.deadline_at > since,
        sa.or_(sa.and_(Order.status == OrderStatus.DELIVERED, Order.delivered_at > Order.deadline_at),
               sa.and_(Order.status.in_(PROMISED_STATUSES), Order.deadline_at <= now - undelivered_hold())),
    ).order_by(Order.deadline_at, Order.id).limit(limit)).all()
    db.session.rollback()
    done = []
    for order_id in ids:
        try:
            locked = _lock_orders([order_id])
            compensation = compensate(locked[0], now=now) if locked else None
            if compensation is None:
                db.session.rollback()
                continue
            db.session.commit()
            done.append(order_id)
        except IntegrityError:  # another runner compensated it first: once is enough
            db.session.rollback()
            log.info("order already compensated", extra={"order_id": order_id})
        except Exception:  # one bad order must not stop the others
            db.session.rollback()
            log.exception("could not compensate order", extra={"order_id": order_id})
    return done


def why(compensation: Compensation) -> str:
    """Why the consumer was compensated, in the request's language."""
    if compensation.reason == UNDELIVERED:
        return _("not delivered %(hours)d h after the guaranteed time", hours=compensation.late_seconds // 3600)
    if compensation.complaint_id is not None:
        return _("granted for your complaint")
    minutes = -(-compensation.late_seconds // 60)  # (rounded up: 30 s late is late)
    return _("delivered %(minutes)d min after the guaranteed time", minutes=minutes)
