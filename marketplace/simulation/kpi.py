"""The simulation's KPIs: read back from the database (orders, deadlines, deliveries,
compensations, complaints, plans) wherever the database holds them, so the report and the database
agree; the rest (what consumers asked for, kilometres and hours the vans really drove, planning
wall time per cycle) from the simulator's own counters."""

from __future__ import annotations

import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa


def percentile(values: list[float], q: float) -> float | None:
    """The q-quantile (0..1) by linear interpolation; None when there are no values."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _aware(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def on_time_by_class(user_ids: set[int], now: datetime) -> dict[str, dict[str, Any]]:
    """Per window class: orders delivered by their deadline, delivered after it, still open past it
    (late too), still open before it (not judged); cancelled and expired orders are left out."""
    from ..extensions import db
    from ..models import Order, WindowClass
    from ..orders.models import OrderStatus

    rows = db.session.execute(
        sa.select(WindowClass.code, WindowClass.hours, Order.status, Order.delivered_at, Order.deadline_at)
        .join(WindowClass, WindowClass.id == Order.window_class_id)
        .where(Order.user_id.in_(sorted(user_ids))).order_by(Order.id)).all()
    out: dict[str, dict[str, Any]] = {}
    hours: dict[str, int] = {}
    for code, h, status, delivered_at, deadline_at in rows:
        hours[code] = h
        row = out.setdefault(code, {"orders": 0, "on_time": 0, "late": 0, "open_late": 0, "open": 0, "dropped": 0})
        row["orders"] += 1
        delivered_at, deadline_at = _aware(delivered_at), _aware(deadline_at)
        if status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            row["dropped"] += 1
        elif delivered_at is not None:
            row["on_time" if delivered_at <= deadline_at else "late"] += 1
        elif deadline_at < now:
            row["open_late"] += 1
        else:
            row["open"] += 1
    for row in out.values():
        judged = row["on_time"] + row["late"] + row["open_late"]
        row["on_time_rate"] = round(row["on_time"] / judged, 4) if judged else None
    return dict(sorted(out.items(), key=lambda kv: hours[kv[0]]))


def report(sim) -> dict[str, Any]:
    from ..extensions import db
    from ..models import Compensation, Complaint, Order, Plan, Vehicle
    c = sim.counters
    now = sim.now
    users = sorted(sim.user_ids)
    orders = db.session.execute(sa.select(Order.id, Order.status).where(Order.user_id.in_(users))).all()
    order_ids = [o.id for o in orders]
    statuses = Counter(str(o.status.value) for o in orders)
    compensation = db.session.execute(
        sa.select(sa.func.count(Compensation.id), sa.func.coalesce(sa.func.sum(Compensation.amount_fen), 0))
        .where(Compensation.order_id.in_(order_ids))).one()
    complaints = db.session.execute(
        sa.select(Complaint.category, Complaint.created_at, Complaint.resolved_at)
        .where(Complaint.order_id.in_(order_ids)).order_by(Complaint.id)).all()
    resolution_h = [(_aware(r) - _aware(f)).total_seconds() / 3600 for _c, f, r in complaints if r is not None]
    by_category = Counter(str(cat.value) for cat, _f, _r in complaints)
    solve = [p for p, in db.session.execute(sa.select(Plan.solve_seconds).where(
        Plan.created_at >= sim.s.start).order_by(Plan.id))]
    # vans still out at the end count until now
    van_seconds = c.van_seconds + sum((now - v.out_since).total_seconds() for v in sim.vans.values() if v.out_since)
    # every van's shift on every day the run touched (the drain after the last day included)
    days_run = max(1, math.ceil((now - sim.s.start).total_seconds() / 86400))
    shift_seconds = 0.0
    for vehicle in db.session.scalars(sa.select(Vehicle).where(Vehicle.id.in_(sorted(sim.vans))).order_by(Vehicle.id)):
        start = datetime.combine(datetime(2000, 1, 1), vehicle.shift_start)
        end = datetime.combine(datetime(2000, 1, 1), vehicle.shift_end)
        if end <= start:
            end += timedelta(days=1)
        shift_seconds += (end - start).total_seconds() * days_run
    requested = {code: c.requested.get(code, 0) for code, _h in sim.classes}
    offered = {code: c.offered.get(code, 0) for code, _h in sim.classes}
    learned = sim.learned_factors()
    per_order = c.deliveries or None  # every delivery the vans made (the seeded open orders too)
    return {
        "settings": {"days": sim.s.days, "orders_per_day": sim.s.orders_per_day, "seed": sim.s.seed,
                     "feedback": sim.s.feedback, "start": sim.s.start.isoformat(),
                     "solve_seconds": sim.s.solve_seconds, "replan_minutes": sim.s.replan_minutes,
                     "consumers": len(sim.consumers), "vehicles": len(sim.vans)},
        "demand": {"attempts": c.attempts, "quotes": c.quotes, "left": dict(sorted(c.left.items())),
                   "took_preferred": c.took_preferred, "took_longer": c.took_longer,
                   "not_offered": dict(sorted(c.not_offered.items())),
                   "place_failed": dict(sorted(c.place_failed.items()))},
        "orders_taken": len(order_ids),
        "orders_by_status": dict(sorted(statuses.items())),
        "online_paid": c.paid,
        "windows": {code: {"requested": requested[code], "offered": offered[code],
                           "offered_rate": round(offered[code] / requested[code], 4) if requested[code] else None,
                           "offered_in_quotes": c.any_offered.get(code, 0)} for code, _h in sim.classes},
        "requested_offered_rate": round(sum(offered.values()) / sum(requested.values()), 4) if c.attempts else None,
        "on_time": on_time_by_class(sim.user_ids, now),
        "compensation": {"count": compensation[0], "fen": int(compensation[1])},
        "deliveries_made": c.deliveries,
        "km_per_order": round(c.km / per_order, 2) if per_order else None,
        "km_total": round(c.km, 1),
        "vehicle_hours_per_order": round(van_seconds / 3600 / per_order, 3) if per_order else None,
        "vehicle_hours": round(van_seconds / 3600, 1),
        "vehicle_utilisation": round(van_seconds / shift_seconds, 4) if shift_seconds else None,
        "breakdowns": c.breakdowns,
        "replenishment": {"moves_accepted": c.moves_accepted, "units": c.units_moved},
        "complaints": {"count": len(complaints), "per_1000_orders": round(1000 * len(complaints) / len(order_ids), 1)
                       if order_ids else None, "by_category": dict(sorted(by_category.items())),
                       "resolved": len(resolution_h),
                       "mean_hours_to_resolution": round(statistics.fmean(resolution_h), 2) if resolution_h else None},
        "planning": {"cycles": len(c.plan_cycles),
                     "cycle_seconds_p50": _round(percentile(c.plan_cycles, 0.5)),
                     "cycle_seconds_p95": _round(percentile(c.plan_cycles, 0.95)),
                     "plans_stored": len(solve),
                     "solve_seconds_p50": _round(percentile(solve, 0.5)),
                     "solve_seconds_p95": _round(percentile(solve, 0.95))},
        "jobs": {"watchdog_runs": c.watchdog_runs, "learner_runs": c.learner_runs, "events": c.events},
        "zone_factors": {code: {"hidden": sim.hidden.get(code), "initial": sim.initial_factors.get(code),
                                "learned": learned.get(code)} for code in sorted(sim.hidden)},
        "ended_at": now.isoformat(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)



def _pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f} %"


def render(r: dict[str, Any]) -> str:
    """The report as lines of text for the terminal."""
    s = r["settings"]
    lines = [f"Simulated {s['days']} day(s) from {s['start']}, {s['orders_per_day']} orders/day, seed {s['seed']},"
             f" feedback {'on' if s['feedback'] else 'off'}, {s['vehicles']} vans, {s['consumers']} consumers",
             f"attempts {r['demand']['attempts']}  orders taken {r['orders_taken']}  left {r['demand']['left']}"
             f"  took a longer window {r['demand']['took_longer']}",
             f"orders by status {r['orders_by_status']}",
             "window  requested  offered  rate     on time  late  open-late  open  on-time rate"]
    for code, w in r["windows"].items():
        t = r["on_time"].get(code, {})
        lines.append(f"{code:<7} {w['requested']:>9}  {w['offered']:>7}  {_pct(w['offered_rate']):>7}  "
                     f"{t.get('on_time', 0):>7}  {t.get('late', 0):>4}  {t.get('open_late', 0):>9}  {t.get('open', 0):>4}"
                     f"  {_pct(t.get('on_time_rate'))}")
    lines += [
        f"requested windows offered: {_pct(r['requested_offered_rate'])}",
        f"compensation: {r['compensation']['count']} orders, {r['compensation']['fen'] / 100:.2f} yuan",
        f"km/order {r['km_per_order']}  vehicle-hours/order {r['vehicle_hours_per_order']}"
        f"  utilisation {_pct(r['vehicle_utilisation'])}  breakdowns {r['breakdowns']}",
        f"complaints {r['complaints']['count']} ({r['complaints']['per_1000_orders']} per 1,000 orders)"
        f" {r['complaints']['by_category']}  mean time to resolution {r['complaints']['mean_hours_to_resolution']} h",
        f"planning: {r['planning']['cycles']} cycles, p50 {r['planning']['cycle_seconds_p50']} s,"
        f" p95 {r['planning']['cycle_seconds_p95']} s per cycle; solve p50 {r['planning']['solve_seconds_p50']} s",
        "zone factors (hidden / initial / learned):",
    ]
    for code, f in r["zone_factors"].items():
        lines.append(f"  {code:<12} {f['hidden']}  {f['initial']}  {f['learned']}")
    return "\n".join(lines)
