"""Role checks: one helper that every area uses to guard its blueprint or a single view."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, request
from flask_login import current_user

from ..extensions import login_manager
from .models import Role


def role_allowed(roles: Iterable[Role]) -> bool:
    return current_user.is_authenticated and current_user.role in set(roles)


def _check(roles: tuple[Role, ...]) -> Any:
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        return login_manager.unauthorized()
    if current_user.role not in roles:
        abort(403)
    return None


def guard_blueprint(bp: Blueprint, *roles: Role, public_endpoints: Iterable[str] = ()) -> None:
    """Every view of ``bp`` needs a signed-in user with one of ``roles``, except the public ones."""
    public = {f"{bp.name}.{name}" for name in public_endpoints}

    @bp.before_request
    def _guard() -> Any:
        if request.endpoint in public:
            return None
        return _check(roles)


def roles_required(*roles: Role) -> Callable:
    """Decorator for a single view (used where an area mixes public and private pages)."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            denied = _check(roles)
            if denied is not None:
                return denied
            return view(*args, **kwargs)

        return wrapped

    return decorator


# Which roles may use each staff area. The operator oversees dispatch and complaints too.
AREA_ROLES: dict[str, tuple[Role, ...]] = {
    "coop": (Role.COOP_HEAD,),
    "dispatch": (Role.DISPATCHER, Role.OPERATOR),
    "complaints": (Role.COMPLAINT_STAFF, Role.OPERATOR),
    "admin": (Role.OPERATOR,),
    "reports": (Role.OPERATOR,),
    "orders": (Role.CONSUMER,),
    "checkout": (Role.CONSUMER,),
}
