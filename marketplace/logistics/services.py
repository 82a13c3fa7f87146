"""The logistics parameter store: read a parameter, set it with its provenance, revert a change.

Every value the planner and the promise engine learn lives in :class:`LogisticsParameter`
(scope, scope id, key → JSON value), and every change of it is one :class:`ParameterChange` that
says where it came from (``deliveries`` / ``complaints`` with the stop and complaint ids behind
it, ``staff``, ``revert``), why, and who. A staff revert is itself a change; the learner only
learns from records after the latest staff change or revert of a parameter (:func:`learn_since`),
so it never undoes the revert with the evidence the revert overruled.

Some parameters are mirrored onto the object they describe, in the same transaction, for the
pages that already read those columns: ``handling_flags`` → ``Product.handling_flags``,
``quality_score`` → ``Cooperative.quality_score``, ``pick_errors`` → ``Cooperative.flags``.

Plans and quotes see a change at once: a LogisticsParameter is a planning input, and writing
one bumps every warehouse's plan versions in the same transaction
(``planning.services._invalidate_quotes``), so each process's cached quoting state is rebuilt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..columns import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from .models import ChangeSource, LogisticsParameter, ParameterChange, ParameterScope


@dataclass(frozen=True)
class Definition:
    scope: ParameterScope
    key: str
    default: Any
    label: Any  # lazy text
    unit: str = ""


#: every parameter the feedback loop learns, with its value when no row exists
DEFINITIONS: dict[tuple[ParameterScope, str], Definition] = {(d.scope, d.key): d for d in (
    Definition(ParameterScope.ZONE, "travel_factor", 1.0, _l("Travel-time factor"), "×"),
    Definition(ParameterScope.ZONE, "promise_margin_s", 0, _l("Promise margin"), "s"),
    Definition(ParameterScope.ZONE, "suspended_windows", [], _l("Suspended windows")),
    Definition(ParameterScope.PRODUCT, "handling_flags", [], _l("Handling flags")),
    Definition(ParameterScope.PRODUCT, "service_s_extra", 0, _l("Extra service time"), "s"),
    Definition(ParameterScope.LOCATION, "pick_time_s", 0, _l("Pick and check time"), "s"),
    Definition(ParameterScope.COOPERATIVE, "pick_errors", False, _l("Pick-error flag")),
    Definition(ParameterScope.COOPERATIVE, "quality_score", 100, _l("Quality score")),
    Definition(ParameterScope.DRIVER, "conduct_flag", False, _l("Conduct flag")),
)}

#: the cooperative flag mirrored from ``pick_errors``
PICK_ERRORS_FLAG = "pick_errors"


def default(scope: ParameterScope, key: str) -> Any:
    definition = DEFINITIONS.get((ParameterScope(scope), key))
    return definition.default if definition is not None else None


def find(scope: ParameterScope, scope_id: int | None, key: str) -> LogisticsParameter | None:
    return db.session.scalar(sa.select(LogisticsParameter).where(
        LogisticsParameter.scope == scope, LogisticsParameter.scope_id == scope_id, LogisticsParameter.key == key))


def get(scope: ParameterScope, scope_id: int | None, key: str) -> Any:
    """The parameter's value, or its default when it was never set."""
    row = find(scope, scope_id, key)
    return row.value if row is not None else default(scope, key)


def values(scope: ParameterScope, key: str) -> dict[int, Any]:
    """Every set value of ``key`` in ``scope``, by scope id (one query)."""
    return {scope_id: value for scope_id, value in db.session.execute(
        sa.select(LogisticsParameter.scope_id, LogisticsParameter.value).where(
            LogisticsParameter.scope == scope, LogisticsParameter.key == key)) if scope_id is not None}


def learn_since(parameter: LogisticsParameter | None) -> datetime | None:
    """When the latest staff change or revert of ``parameter`` was made: the learner takes no
    record from before it into account (None: no such change)."""
    if parameter is None or parameter.id is None:
        return None
    return db.session.scalar(sa.select(sa.func.max(ParameterChange.created_at)).where(
        ParameterChange.parameter_id == parameter.id,
        ParameterChange.source.in_([ChangeSource.STAFF, ChangeSource.REVERT])))


def set_value(scope: ParameterScope, scope_id: int | None, key: str, value: Any, *, source: ChangeSource,
              refs: dict[str, list[int]] | None = None, reason: str = "", actor_id: int | None = None,
              now: datetime | None = None) -> ParameterChange | None:
    """Set a parameter (in the caller's transaction) and record the change with its provenance.
    Returns the change, or None when the value is already that."""
    scope = ParameterScope(scope)
    parameter = find(scope, scope_id, key)
    # (a parameter set for the first time had its default until now: a revert goes back to it)
    old = parameter.value if parameter is not None else default(scope, key)
    if old == value:
        return None
    now = now or utcnow()
    if parameter is None:
        parameter = LogisticsParameter(scope=scope, scope_id=scope_id, key=key, value=value, updated_at=now)
        db.session.add(parameter)
    else:
        parameter.value = value
        parameter.updated_at = now
    change = ParameterChange(old_value=old, new_value=value, source=source,
                             source_refs={k: sorted(set(v)) for k, v in (refs or {}).items() if v},
                             reason=reason[:300], actor_user_id=actor_id, created_at=now)
    parameter.changes.append(change)
    _mirror(scope, scope_id, key, old, value)
    db.session.flush()
    return change


def _mirror(scope: ParameterScope, scope_id: int | None, key: str, old: Any, new: Any) -> None:
    """Copy the value onto the object's own column that pages already read."""
    from ..catalog.models import Product
    from ..coop.models import Cooperative

    if scope == ParameterScope.PRODUCT and key == "handling_flags":
        product = db.session.get(Product, scope_id)
        if product is not None:  # the learned flags replace the learned ones; the cooperative's stay
            kept = set(product.handling_flags or []) - set(old or [])
            product.handling_flags = sorted(kept | set(new or []))
    elif scope == ParameterScope.COOPERATIVE and key == "quality_score":
        coop = db.session.get(Cooperative, scope_id)
        if coop is not None:
            coop.quality_score = max(0, min(100, int(new)))
    elif scope == ParameterScope.COOPERATIVE and key == "pick_errors":
        coop = db.session.get(Cooperative, scope_id)
        if coop is not None:
            flags = set(coop.flags or []) - {PICK_ERRORS_FLAG}
            coop.flags = sorted(flags | ({PICK_ERRORS_FLAG} if new else set()))


def revert(change_id: int, *, actor_id: int, reason: str, now: datetime | None = None) -> ParameterChange:
    """Undo a parameter's latest change with a reason (required): the parameter gets the value it
    had before, recorded as a change of its own (``revert``, pointing at the one undone) and in
    the audit log; the undone change is marked reverted. One transaction, committed here."""
    from ..admin.services import audit

    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Give a reason for the revert."), field="reason")
    if len(reason) > 300:
        raise ValidationFailed(_l("The reason is too long (at most 300 characters)."), field="reason")
    change = db.session.scalar(sa.select(ParameterChange).where(ParameterChange.id == change_id).with_for_update())
    if change is None:
        raise NotFound()
    parameter = db.session.scalar(sa.select(LogisticsParameter).where(
        LogisticsParameter.id == change.parameter_id).with_for_update().execution_options(populate_existing=True))
    latest = db.session.scalar(sa.select(sa.func.max(ParameterChange.id)).where(
        ParameterChange.parameter_id == parameter.id))
    if change.reverted_at is not None:
        raise Conflict(_l("This change has already been reverted."))
    if latest != change.id:
        raise Conflict(_l("Only the latest change of a parameter can be reverted; revert the later ones first."))
    if change.old_value is None:
        raise Conflict(_l("This is the parameter's first value: there is nothing to go back to."))
    now = now or utcnow()
    undo = set_value(parameter.scope, parameter.scope_id, parameter.key, change.old_value, source=ChangeSource.REVERT,
                     refs=change.source_refs, reason=reason, actor_id=actor_id, now=now)
    if undo is None:  # (the value already equals the old one: record the revert all the same)
        undo = ParameterChange(old_value=parameter.value, new_value=change.old_value, source=ChangeSource.REVERT,
                               source_refs=change.source_refs, reason=reason, actor_user_id=actor_id,
                               created_at=now)
        parameter.changes.append(undo)
    undo.revert_of_id = change.id
    change.reverted_at, change.reverted_by_id = now, actor_id
    db.session.flush()
    audit("parameter.revert", actor_id=actor_id, object_type="logistics_parameter", object_id=parameter.id,
          data={"change_id": change.id, "revert_id": undo.id, "key": parameter.key, "scope": parameter.scope.value,
                "scope_id": parameter.scope_id, "from": change.new_value, "to": change.old_value, "reason": reason})
    db.session.commit()
    return undo


# --- the operator's page: every parameter, its history with provenance, its effect ------------------


@dataclass(frozen=True)
class Row:
    parameter: LogisticsParameter
    label: Any
    object_name: str
    last: ParameterChange | None
    unit: str = ""


def object_names(pairs: set[tuple[ParameterScope, int | None]]) -> dict[tuple[ParameterScope, int | None], str]:
    """A readable name (in the page's language) for each (scope, scope id): one query per scope."""
    from ..catalog.models import Product
    from ..coop.models import Cooperative
    from ..geo.models import Zone
    from ..i18n import localized
    from ..inventory.models import Location
    from .models import Driver, Vehicle

    models = {ParameterScope.ZONE: Zone, ParameterScope.PRODUCT: Product, ParameterScope.COOPERATIVE: Cooperative,
              ParameterScope.LOCATION: Location, ParameterScope.DRIVER: Driver, ParameterScope.VEHICLE: Vehicle}
    out: dict[tuple[ParameterScope, int | None], str] = {}
    for scope, model in models.items():
        ids = {i for s, i in pairs if s == scope and i is not None}
        if not ids:
            continue
        for obj in db.session.scalars(sa.select(model).where(model.id.in_(ids))):
            if isinstance(obj, Driver):
                name = obj.name
            elif isinstance(obj, Vehicle):
                name = obj.plate
            else:
                name = localized(obj)
            out[(scope, obj.id)] = f"{name} (#{obj.id})"
    for scope, i in pairs:
        out.setdefault((scope, i), str(_l("Everywhere")) if i is None else f"#{i}")
    return out


def overview(scope: str | None = None, key: str | None = None) -> dict[str, Any]:
    """Every parameter (filtered by scope and key), with its object's name and its last change."""
    scope = scope if scope in {s.value for s in ParameterScope} else None
    keys = sorted({k for _, k in DEFINITIONS} | set(db.session.scalars(sa.select(LogisticsParameter.key).distinct())))
    key = key if key in keys else None
    query = sa.select(LogisticsParameter).order_by(LogisticsParameter.scope, LogisticsParameter.key,
                                                   LogisticsParameter.scope_id)
    if scope:
        query = query.where(LogisticsParameter.scope == ParameterScope(scope))
    if key:
        query = query.where(LogisticsParameter.key == key)
    parameters = list(db.session.scalars(query))
    last_ids = dict(db.session.execute(sa.select(ParameterChange.parameter_id, sa.func.max(ParameterChange.id))
                                       .group_by(ParameterChange.parameter_id)).all())
    lasts = {c.id: c for c in db.session.scalars(sa.select(ParameterChange).where(
        ParameterChange.id.in_(list(last_ids.values()))))} if last_ids else {}
    names = object_names({(p.scope, p.scope_id) for p in parameters})
    rows = [Row(p, label(p.scope, p.key), names[(p.scope, p.scope_id)], lasts.get(last_ids.get(p.id, -1)),
                unit(p.scope, p.key)) for p in parameters]
    return {"rows": rows, "scopes": [s.value for s in ParameterScope], "keys": keys, "scope": scope, "key": key}


def label(scope: ParameterScope, key: str) -> Any:
    definition = DEFINITIONS.get((scope, key))
    return definition.label if definition is not None else key


def unit(scope: ParameterScope, key: str) -> str:
    definition = DEFINITIONS.get((scope, key))
    return definition.unit if definition is not None else ""


@dataclass(frozen=True)
class Provenance:
    stops: list[dict[str, Any]]
    complaints: list[dict[str, Any]]
    orders: list[str]


def _provenance(change: ParameterChange) -> Provenance:
    """The records behind a change, as the page links them: stops (with their order, route and
    planned vs actual arrival), complaints (number, category, order), orders."""
    from ..complaints.models import Complaint
    from ..dispatch.models import Plan, Route, Stop
    from ..orders.models import Order
    from .models import Warehouse

    refs = change.source_refs or {}
    stops = []
    stop_ids = [int(i) for i in refs.get("stops", [])][:200]
    if stop_ids:
        for stop, order_number, route_id, warehouse_code in db.session.execute(
                sa.select(Stop, Order.number, Route.id, Warehouse.code).join(Route, Route.id == Stop.route_id)
                .join(Plan, Plan.id == Route.plan_id).join(Warehouse, Warehouse.id == Plan.warehouse_id)
                .outerjoin(Order, Order.id == Stop.order_id).where(Stop.id.in_(stop_ids)).order_by(Stop.actual_arrival_at)):
            late = (int((stop.actual_arrival_at - stop.deadline_at).total_seconds())
                    if stop.deadline_at is not None and stop.actual_arrival_at is not None else None)
            stops.append({"id": stop.id, "order": order_number, "route_id": route_id, "warehouse": warehouse_code,
                          "planned": stop.planned_arrival_at, "actual": stop.actual_arrival_at,
                          "deadline": stop.deadline_at, "late_s": late if late is not None and late > 0 else None})
    complaints = []
    complaint_ids = [int(i) for i in refs.get("complaints", [])][:200]
    if complaint_ids:
        for complaint, order_number in db.session.execute(
                sa.select(Complaint, Order.number).join(Order, Order.id == Complaint.order_id)
                .where(Complaint.id.in_(complaint_ids)).order_by(Complaint.id)):
            complaints.append({"id": complaint.id, "number": complaint.number, "category": complaint.category.value,
                               "order": order_number, "at": complaint.created_at,
                               "text": complaint.description[:120]})
    order_ids = [int(i) for i in refs.get("orders", [])][:200]
    orders = list(db.session.scalars(sa.select(Order.number).where(Order.id.in_(order_ids)).order_by(Order.id))) \
        if order_ids else []
    return Provenance(stops, complaints, orders)


def detail(parameter_id: int) -> dict[str, Any]:
    """One parameter: value, history (newest first) with provenance and actors, which change can
    be reverted, and its effect since its latest change."""
    from ..auth.models import User

    parameter = db.session.get(LogisticsParameter, parameter_id)
    if parameter is None:
        raise NotFound()
    changes = list(reversed(parameter.changes))
    actor_ids = {i for c in changes for i in (c.actor_user_id, c.reverted_by_id) if i}
    actors = {u.id: u.name or u.mobile for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} \
        if actor_ids else {}
    latest = changes[0] if changes else None
    revertible = latest.id if latest is not None and latest.reverted_at is None and latest.old_value is not None \
        else None
    return {
        "parameter": parameter, "label": label(parameter.scope, parameter.key), "unit": unit(parameter.scope, parameter.key),
        "object_name": object_names({(parameter.scope, parameter.scope_id)})[(parameter.scope, parameter.scope_id)],
        "changes": [(c, _provenance(c)) for c in changes], "actors": actors, "revertible": revertible,
        "effect": effect(parameter, latest) if latest is not None else None,
    }


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    values: dict[str, Any]


def effect(parameter: LogisticsParameter, change: ParameterChange, now: datetime | None = None) -> dict[str, Any]:
    """How things changed since ``change``, measured from stored records in two windows of equal
    length (at most 7 days) before and after it. A zone's parameters: its orders placed (share of
    each window class chosen: quotes are not stored, orders are), the planned slack (deadline −
    planned arrival) and planned leg time of its delivery stops in the plans stored (the last 30
    before and the first 30 after), and its deliveries' on-time rate. Other parameters: the
    complaints of the kind that moves them about the same object (distinct orders)."""
    from datetime import timedelta

    now = now or utcnow()
    at = change.created_at
    length = min(max(now - at, timedelta(hours=1)), timedelta(days=7))
    before, after = (at - length, at), (at, min(at + length, now))
    if parameter.scope == ParameterScope.ZONE:
        measures = [_zone_measures(parameter.scope_id, *w, after=w is after, at=at) for w in (before, after)]
        kind = "zone"
    else:
        measures = [_complaint_measures(parameter, *w) for w in (before, after)]
        kind = "complaints"
    return {"kind": kind, "before": Window(*before, measures[0]), "after": Window(*after, measures[1])}


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _zone_measures(zone_id: int, start: datetime, end: datetime, *, after: bool, at: datetime) -> dict[str, Any]:
    from ..dispatch.models import Plan, Route, Stop, StopKind, StopStatus
    from ..orders.models import Order
    from .models import WindowClass, warehouse_zones

    placed = db.session.execute(sa.select(WindowClass.code, sa.func.count()).join(Order, Order.window_class_id == WindowClass.id)
                                .where(Order.zone_id == zone_id, Order.placed_at >= start, Order.placed_at < end)
                                .group_by(WindowClass.code)).all()
    total = sum(n for _, n in placed)
    shares = {code: round(100 * n / total) for code, n in placed} if total else {}
    warehouses = sa.select(warehouse_zones.c.warehouse_id).where(warehouse_zones.c.zone_id == zone_id)
    plans = sa.select(Plan.id).where(Plan.warehouse_id.in_(warehouses), Plan.created_at >= start, Plan.created_at < end)
    plans = plans.order_by(Plan.id if after else Plan.id.desc()).limit(30)
    plan_ids = list(db.session.scalars(plans))
    slack: list[float] = []
    legs: list[float] = []
    if plan_ids:
        rows = db.session.execute(
            sa.select(Stop.route_id, Stop.sequence, Stop.kind, Stop.planned_arrival_at, Stop.planned_departure_at,
                      Stop.deadline_at, Order.zone_id)
            .join(Route, Route.id == Stop.route_id).outerjoin(Order, Order.id == Stop.order_id)
            .where(Route.plan_id.in_(plan_ids)).order_by(Stop.route_id, Stop.sequence)).all()
        previous = None
        for row in rows:
            ours = row.kind == StopKind.DELIVERY and row.zone_id == zone_id
            if ours and row.deadline_at is not None:
                slack.append((row.deadline_at - row.planned_arrival_at).total_seconds() / 60)
            if ours and previous is not None and previous.route_id == row.route_id:
                legs.append((row.planned_arrival_at - previous.planned_departure_at).total_seconds() / 60)
            previous = row
    made = db.session.execute(sa.select(Stop.actual_arrival_at, Stop.deadline_at).join(Order, Order.id == Stop.order_id)
                              .where(Order.zone_id == zone_id, Stop.kind == StopKind.DELIVERY,
                                     Stop.status == StopStatus.DONE, Stop.deadline_at.is_not(None),
                                     Stop.actual_arrival_at >= start, Stop.actual_arrival_at < end)).all()
    on_time = sum(1 for arrival, deadline in made if arrival <= deadline)
    return {"orders": total, "shares": shares, "plans": len(plan_ids), "stops": len(slack),
            "slack_min": _median(slack), "leg_min": _median(legs), "deliveries": len(made),
            "on_time_pct": round(100 * on_time / len(made)) if made else None}


CATEGORIES_OF = {"handling_flags": {"damaged"}, "service_s_extra": {"damaged"}, "pick_time_s": {"wrong_item", "missing_item"},
                 "pick_errors": {"wrong_item", "missing_item"}, "quality_score": {"quality"},
                 "conduct_flag": {"courier_conduct"}}


def _complaint_measures(parameter: LogisticsParameter, start: datetime, end: datetime) -> dict[str, Any]:
    from . import learning

    categories = CATEGORIES_OF.get(parameter.key, set())
    about = {ParameterScope.PRODUCT: lambda f: f.product_ids, ParameterScope.LOCATION: lambda f: f.location_ids,
             ParameterScope.COOPERATIVE: lambda f: f.cooperative_ids,
             ParameterScope.DRIVER: lambda f: {f.driver_id}}.get(parameter.scope)
    if about is None or not categories:
        return {"complaints": None, "orders": None}
    filed = [f for f in learning.complaints_since(start) if f.at < end and f.category in categories
             and parameter.scope_id in about(f)]
    return {"complaints": len(filed), "orders": len({f.order_id for f in filed})}
