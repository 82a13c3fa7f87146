"""Complaint queries (the complaint console)."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from ..extensions import db
from .models import Complaint, ComplaintStatus

OPEN_STATUSES = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.WAITING_CUSTOMER)


def complaints(status: str | None = None, limit: int = 100) -> list[Complaint]:
    query = sa.select(Complaint).options(joinedload(Complaint.order)).order_by(Complaint.created_at.desc())
    if status == "open":
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    elif status in {s.value for s in ComplaintStatus}:
        query = query.where(Complaint.status == ComplaintStatus(status))
    return list(db.session.scalars(query.limit(limit)))


def counts_by_status() -> dict[str, int]:
    rows = db.session.execute(sa.select(Complaint.status, sa.func.count()).group_by(Complaint.status)).all()
    return {status.value: int(n) for status, n in rows}
