"""Reading the audit log: every administrative action, newest first, narrowed by who, what, which
object and which Shanghai days; the before/after data laid out for people."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from flask import url_for
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BuildError

from ..auth.models import User
from ..extensions import db
from ..i18n import LOCAL_TZ
from .models import AuditLog

PAGE_SIZE = 50
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class AuditFilters:
    actor: str = ""  # a user id, a mobile number or part of a name
    action: str = ""
    object_type: str = ""
    object_id: int | None = None
    day_from: date | None = None
    day_to: date | None = None
    page: int = 1


@dataclass(frozen=True)
class Change:
    key: str
    before: str | None
    after: str | None

    @property
    def changed(self) -> bool:
        return self.before != self.after


@dataclass(frozen=True)
class Entry:
    row: AuditLog
    actor: User | None
    link: str | None
    changes: list[Change] = field(default_factory=list)  # before → after, field by field
    details: list[tuple[str, str]] = field(default_factory=list)  # any other data


@dataclass(frozen=True)
class AuditPage:
    entries: list[Entry]
    total: int
    page: int
    pages: int
    actions: list[str]
    object_types: list[str]


def parse_day(raw: str | None) -> date | None:
    """A YYYY-MM-DD day, or None when empty; ValueError when it is not one."""
    raw = (raw or "").strip()
    if not raw:
        return None
    return date.fromisoformat(raw)


def day_range_problem(day_from: date | None, day_to: date | None) -> str | None:
    if day_from and day_to and day_from > day_to:
        return str(_l("The first day must not be after the last day."))
    if day_from and day_to and (day_to - day_from).days >= MAX_RANGE_DAYS:
        return str(_l("Choose at most %(n)d days.", n=MAX_RANGE_DAYS))
    return None


def _shanghai_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), LOCAL_TZ)


#: object type → (endpoint, URL parameter) of the page that shows such an object, where one exists
OBJECT_PAGES: dict[str, tuple[str, str]] = {
    "cooperative": ("admin.cooperative", "cooperative_id"),
    "product": ("admin.listing", "product_id"),
    "listing_revision": ("admin.listing_revision", "revision_id"),
    "user": ("admin.user", "user_id"),
    "vehicle": ("admin.vehicle", "vehicle_id"),
    "warehouse": ("admin.warehouse", "warehouse_id"),
    "driver": ("admin.driver", "driver_id"),
}


def object_link(object_type: str, object_id: int | None) -> str | None:
    """The URL of the object's page, or None where no such page exists (yet)."""
    page = OBJECT_PAGES.get(object_type)
    if page is None or object_id is None:
        return None
    try:
        return url_for(page[0], **{page[1]: object_id})
    except BuildError:
        return None


def _shown(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "✓" if value else "✗"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def laid_out(data: Any) -> tuple[list[Change], list[tuple[str, str]]]:
    """An audit record's data for a table: the fields of ``before``/``after`` side by side (the
    changed ones first), and every other key as it is."""
    if not isinstance(data, dict):
        return [], ([("", _shown(data) or "")] if data else [])
    before, after = data.get("before"), data.get("after")
    changes: list[Change] = []
    if isinstance(before, dict) or isinstance(after, dict):
        old = before if isinstance(before, dict) else {}
        new = after if isinstance(after, dict) else {}
        keys = list(dict.fromkeys([*new, *old]))
        changes = [Change(k, _shown(old.get(k)), _shown(new.get(k))) for k in keys]
        changes.sort(key=lambda c: not c.changed)
    elif "before" in data or "after" in data:
        changes = [Change("", _shown(before), _shown(after))]
    details = [(k, _shown(v) or "") for k, v in data.items() if k not in ("before", "after")]
    return changes, details


def _actor_filter(text: str):
    text = text.strip()[:64]
    if not text:
        return None
    if text.isdigit() and len(text) < 11:
        return AuditLog.actor_user_id == int(text)
    pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
    return AuditLog.actor_user_id.in_(sa.select(User.id).where(sa.or_(User.mobile.like(pattern),
                                                                       User.name.ilike(pattern))))


def search(filters: AuditFilters) -> AuditPage:
    query = sa.select(AuditLog)
    actor = _actor_filter(filters.actor)
    if actor is not None:
        query = query.where(actor)
    if filters.action:
        query = query.where(AuditLog.action == filters.action)
    if filters.object_type:
        query = query.where(AuditLog.object_type == filters.object_type)
    if filters.object_id is not None:
        query = query.where(AuditLog.object_id == filters.object_id)
    if filters.day_from:
        query = query.where(AuditLog.created_at >= _shanghai_midnight(filters.day_from))
    if filters.day_to:
        query = query.where(AuditLog.created_at < _shanghai_midnight(filters.day_to + timedelta(days=1)))
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, filters.page), pages)
    rows = db.session.scalars(query.order_by(AuditLog.created_at.desc(), AuditLog.id.desc())
                              .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
    actor_ids = {r.actor_user_id for r in rows if r.actor_user_id}
    actors = {u.id: u for u in db.session.scalars(sa.select(User).where(User.id.in_(actor_ids)))} if actor_ids else {}
    entries = []
    for row in rows:
        changes, details = laid_out(row.data)
        entries.append(Entry(row, actors.get(row.actor_user_id or 0), object_link(row.object_type, row.object_id),
                             changes, details))
    actions = list(db.session.scalars(sa.select(AuditLog.action).distinct().order_by(AuditLog.action)))
    types = list(db.session.scalars(sa.select(AuditLog.object_type).where(AuditLog.object_type != "")
                                    .distinct().order_by(AuditLog.object_type)))
    return AuditPage(entries, total, page, pages, actions, types)
