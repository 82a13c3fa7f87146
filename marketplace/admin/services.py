"""Administration overview and the audit log writer."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import has_request_context, request

from ..auth.models import Role, User
from ..catalog.models import Product, ProductStatus
from ..coop.models import Cooperative, CooperativeStatus
from ..extensions import db
from ..logistics.models import Vehicle, Warehouse
from ..orders.models import Order
from .models import AuditLog


def audit(action: str, *, actor_id: int | None, object_type: str = "", object_id: int | None = None,
          data: dict[str, Any] | None = None) -> AuditLog:
    """Record an administrative action (the caller's transaction commits it)."""
    entry = AuditLog(
        action=action, actor_user_id=actor_id, object_type=object_type, object_id=object_id,
        data=data or {}, ip=request.remote_addr or "" if has_request_context() else "",
    )
    db.session.add(entry)
    return entry


def overview() -> dict[str, Any]:
    from ..complaints import services as complaints  # (complaints audit through this module)

    def count(model, *where) -> int:
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where)))

    users_by_role = dict(db.session.execute(sa.select(User.role, sa.func.count()).group_by(User.role)).all())
    return {
        "users": {role.value: int(users_by_role.get(role, 0)) for role in Role},
        "cooperatives": count(Cooperative),
        "pending_cooperatives": list(
            db.session.scalars(sa.select(Cooperative).where(Cooperative.status == CooperativeStatus.PENDING))
        ),
        "products": count(Product),
        "pending_products": count(Product, Product.status == ProductStatus.PENDING),
        "warehouses": count(Warehouse),
        "vehicles": count(Vehicle),
        "orders": count(Order),
        "recent_audit": list(db.session.scalars(sa.select(AuditLog).order_by(AuditLog.id.desc()).limit(20))),
        "escalated_complaints": complaints.counts()["escalated"],
    }
