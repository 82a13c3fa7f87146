"""Who is calling the API: a bearer token, and nothing else.

flask-login would look at the session cookie (and the remember-me cookie) before any request
loader. The API is exempt from CSRF, so a browser's cookies must never authorize it: a page on
another site could otherwise make a signed-in visitor's browser place orders. For /api/ requests
the user is therefore pinned, before any view runs, to the owner of the bearer token or to the
anonymous user, whatever cookies came along.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, Request, Response, g, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import update

from ..auth import services as auth_services
from ..auth.models import ApiToken, Role, User
from ..columns import utcnow
from ..errors import DomainError, NotAllowed
from ..extensions import db, login_manager
from .openapi import TOKEN, documented

REALM = "shanhuo"


class AuthenticationRequired(DomainError):
    code = "unauthorized"
    status = 401
    default_message = _l("Sign in first: send the header “Authorization: Bearer <token>”.")


class InvalidToken(AuthenticationRequired):
    code = "invalid_token"
    default_message = _l("The token is unknown, expired or revoked. Get a new one from /api/v1/auth/token.")


def bearer_token() -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header, if the request has one."""
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def user_from_request(req: Request) -> User | None:
    """flask-login's request loader: only API paths, only bearer tokens (looked up once)."""
    if not req.path.startswith("/api/"):
        return None
    raw = bearer_token()
    if raw is None:
        return None
    if "api_token_user" not in g:
        g.api_token_user = auth_services.user_for_token(raw)
    return g.api_token_user


def pin_user() -> None:
    """Before every API view: the caller is the token's owner or anonymous, never a cookie."""
    login_manager._update_request_context_with_user(user_from_request(request))


def challenge(response: Response) -> Response:
    """Every 401 of the API tells the client how to authenticate (RFC 6750)."""
    if response.status_code == 401 and "WWW-Authenticate" not in response.headers:
        value = f'Bearer realm="{REALM}"'
        if bearer_token() is not None:
            value += ', error="invalid_token"'
        response.headers["WWW-Authenticate"] = value
    return response


def install(bp: Blueprint) -> None:
    """Register the token loader with flask-login and the pinning/challenge hooks on ``bp``."""
    login_manager.request_loader(user_from_request)
    bp.before_request(pin_user)
    bp.after_request(challenge)


def _require_user() -> None:
    if not current_user.is_authenticated:
        raise InvalidToken() if bearer_token() is not None else AuthenticationRequired()


def _secured(wrapped: Callable, access: str, *statuses: int) -> Callable:
    """Document the bearer scheme and the refusals on the operation; ``api_access`` is read by
    the OpenAPI test."""
    documented_view = documented(*statuses, security=TOKEN)(wrapped)
    documented_view.api_access = access  # type: ignore[attr-defined]
    return documented_view


def token_required(view: Callable) -> Callable:
    """Any signed-in account (by token)."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _require_user()
        return view(*args, **kwargs)

    return _secured(wrapped, "token", 401)


def consumer_required(view: Callable) -> Callable:
    """A consumer account (by token); staff accounts are refused with 403."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        _require_user()
        if current_user.role != Role.CONSUMER:
            raise NotAllowed(_l("Only consumer accounts can use this."))
        return view(*args, **kwargs)

    return _secured(wrapped, "consumer", 401, 403)


def revoke_current_token() -> None:
    """Revoke the token this request came with (it stops working at once)."""
    raw = bearer_token() or ""
    db.session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest(), ApiToken.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    db.session.commit()
