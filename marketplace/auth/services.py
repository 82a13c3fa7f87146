"""Account operations: registration, authentication, password changes."""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from ..columns import utcnow
from ..errors import Conflict, ValidationFailed
from ..extensions import db
from ..inputs import is_mobile
from . import sms
from .models import ApiToken, LoginSession, Role, User, VerificationCode

COMMON_PASSWORDS = frozenset(
    {"12345678", "123456789", "password", "password1", "qwerty123", "11111111", "88888888",
     "abc12345", "a1234567", "1qaz2wsx", "iloveyou1", "aa123456", "woaini1314",
     "shanhuo123"}  # the demo accounts' published password
)


class InvalidCredentials(ValidationFailed):
    code = "invalid_credentials"
    status = 401
    default_message = _l("Mobile number or password is wrong.")


def password_problem(password: str) -> str | None:
    """Why a password is too weak, or None if it is acceptable."""
    if len(password) < 8:
        return str(_l("Use at least 8 characters."))
    if len(password) > 128:
        return str(_l("Use at most 128 characters."))
    if not re.search(r"[A-Za-z]", password) or not re.search(r"\d", password):
        return str(_l("Use both letters and digits."))
    if password.lower() in COMMON_PASSWORDS:
        return str(_l("This password is too common."))
    return None


def normalize_mobile(mobile: str) -> str:
    mobile = (mobile or "").strip().replace(" ", "").replace("-", "")
    if not is_mobile(mobile):
        raise ValidationFailed(_l("Enter an 11-digit mainland mobile number, e.g. 13912345678."), field="mobile")
    return mobile


def create_account(mobile: str, password: str, role: Role, name: str = "",
                   cooperative_code: str | None = None, locale: str | None = None) -> User:
    """An account of any role (the operator's tool, `flask create-user`)."""
    from ..coop.models import Cooperative

    mobile = normalize_mobile(mobile)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    cooperative_id = None
    if role == Role.COOP_HEAD:
        cooperative_id = db.session.scalar(select(Cooperative.id).where(Cooperative.code == (cooperative_code or "")))
        if cooperative_id is None:
            raise ValidationFailed(_l("A cooperative head needs the code of an existing cooperative."),
                                   field="cooperative")
    user = User(mobile=mobile, name=name.strip()[:64], role=role, cooperative_id=cooperative_id, locale=locale)
    user.set_password(password)
    db.session.add(user)
    try:
        db.session.commit()
    except IntegrityError:  # the number is taken (or a concurrent registration of it won the race)
        db.session.rollback()
        raise Conflict(_l("This mobile number is already registered. Please sign in."), field="mobile") from None
    return user


def register_consumer(mobile: str, password: str, name: str = "", locale: str | None = None) -> User:
    """Create a consumer account. One transaction: either the user exists fully or not at all."""
    return create_account(mobile, password, Role.CONSUMER, name=name, locale=locale)


# --- one-time codes by SMS: registration and password reset, revealing no account -----------------

REGISTER, RESET = "register", "reset"
CODE_LIFETIME = timedelta(minutes=10)
CODE_ATTEMPTS = 5
#: one code per number this often, and at most CODES_PER_HOUR an hour (an SMS costs money)
CODE_COOLDOWN = timedelta(seconds=60)
CODES_PER_HOUR = 5


class CodeRefused(ValidationFailed):
    code = "invalid_code"
    default_message = _l("The code is wrong or has expired. Ask for a new one.")


class TooManyCodes(ValidationFailed):
    code = "too_many_codes"
    status = 429
    default_message = _l("A code was sent to this number a moment ago. Wait a minute before asking again.")


def masked(mobile: str) -> str:
    return mobile[:3] + "****" + mobile[-4:]


def request_code(mobile: str, purpose: str) -> None:
    """Text a one-time code to ``mobile``. The answer is the same whether or not the number has an
    account: for registration, a number that has one gets a reminder to sign in instead of a code;
    for a reset, a number without one gets nothing. Only the phone's owner learns which."""
    mobile = normalize_mobile(mobile)
    now = utcnow()
    recent = list(db.session.scalars(
        select(VerificationCode.created_at).where(VerificationCode.mobile == mobile,
                                                  VerificationCode.created_at > now - timedelta(hours=1))
    ))
    if any(at > now - CODE_COOLDOWN for at in recent) or len(recent) >= CODES_PER_HOUR:
        raise TooManyCodes(field="mobile")
    exists = db.session.scalar(select(User.id).where(User.mobile == mobile)) is not None
    raw = f"{secrets.randbelow(10**6):06d}"
    # The row is written either way, so the cooldown (and the timing) do not tell the two apart.
    db.session.add(VerificationCode(mobile=mobile, purpose=purpose, code_hash=_digest(f"{mobile}:{raw}"),
                                    expires_at=now + CODE_LIFETIME,
                                    used_at=None if exists == (purpose == RESET) else now))
    if purpose == REGISTER and exists:
        sms.send(mobile, str(_l("[Shanhuo] This number already has an account. Sign in, or reset the "
                                "password if you forgot it.")))
    elif purpose == REGISTER or exists:
        sms.send(mobile, str(_l("[Shanhuo] Your code is %(code)s, valid for 10 minutes. Do not share it.",
                                code=raw)))
    db.session.commit()


def _use_code(mobile: str, purpose: str, raw: str) -> None:
    """Spend a valid code (one use, a few attempts); CodeRefused otherwise. The caller commits."""
    raw = (raw or "").strip()
    now = utcnow()
    row = db.session.scalar(
        select(VerificationCode)
        .where(VerificationCode.mobile == mobile, VerificationCode.purpose == purpose,
               VerificationCode.used_at.is_(None), VerificationCode.expires_at > now)
        .order_by(VerificationCode.id.desc()).limit(1).with_for_update()
    )
    if row is None or row.attempts >= CODE_ATTEMPTS:
        raise CodeRefused(field="code")
    if not (len(raw) == 6 and raw.isascii() and raw.isdigit()
            and secrets.compare_digest(row.code_hash, _digest(f"{mobile}:{raw}"))):
        row.attempts += 1
        db.session.commit()
        raise CodeRefused(field="code")
    row.used_at = now


def register_with_code(mobile: str, code: str, password: str, name: str = "", locale: str | None = None) -> User:
    """Registration proven by the code texted to the number (see :func:`request_code`)."""
    mobile = normalize_mobile(mobile)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    _use_code(mobile, REGISTER, code)
    return register_consumer(mobile, password, name, locale)


def reset_password(mobile: str, code: str, password: str) -> User:
    """A new password proven by the code texted to the number; every sign-in and token ends."""
    mobile = normalize_mobile(mobile)
    problem = password_problem(password)
    if problem:
        raise ValidationFailed(problem, field="password")
    _use_code(mobile, RESET, code)
    user = db.session.scalar(select(User).where(User.mobile == mobile))
    if user is None:  # a reset code exists only for an account's number
        raise CodeRefused(field="code")
    user.set_password(password)
    sign_out_elsewhere(user)
    return user


def authenticate(mobile: str, password: str) -> User:
    mobile = (mobile or "").strip().replace(" ", "").replace("-", "")
    user = db.session.scalar(select(User).where(User.mobile == mobile))
    # Always run a hash check so timing does not reveal whether the number exists.
    if user is None:
        User(password_hash=_DUMMY_HASH).check_password(password)
        raise InvalidCredentials()
    if not user.check_password(password) or not user.active:
        raise InvalidCredentials()
    user.last_login_at = utcnow()
    db.session.commit()
    return user


def change_password(user: User, current: str, new: str) -> None:
    """A new password; every other sign-in and every API token of the account stop working."""
    if not user.check_password(current):
        raise InvalidCredentials(_l("The current password is wrong."), field="current")
    problem = password_problem(new)
    if problem:
        raise ValidationFailed(problem, field="password")
    user.set_password(new)
    sign_out_elsewhere(user, keep=getattr(user, "login_session_id", None))


def sign_out_elsewhere(user: User, keep: int | None = None) -> int:
    """Revoke the account's sign-ins (all but ``keep``) and its API tokens; how many sign-ins."""
    now = utcnow()
    revoked = db.session.execute(
        update(LoginSession)
        .where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None),
               LoginSession.id != (keep or 0))
        .values(revoked_at=now)
    ).rowcount
    db.session.execute(
        update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)).values(revoked_at=now)
    )
    db.session.commit()
    return revoked


# --- sign-in sessions ----------------------------------------------------------------------------

#: a sign-in's last use is written at most this often (no write on every request)
SEEN_EVERY = timedelta(minutes=5)


def _digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def open_session(user: User, *, remember: bool, user_agent: str = "", ip: str = "") -> None:
    """Record a new sign-in of ``user`` on one device. flask-login then stores ``user.get_id()``
    ("<user id>:<key>") in the session and remember-me cookies; the key is never stored."""
    raw = secrets.token_urlsafe(24)
    lifetime = current_app.config["REMEMBER_COOKIE_DURATION" if remember else "PERMANENT_SESSION_LIFETIME"]
    now = utcnow()
    row = LoginSession(user_id=user.id, key_hash=_digest(raw), remember=remember,
                       user_agent="".join(ch for ch in user_agent if ch.isprintable())[:120],
                       ip=(ip or "")[:45], last_seen_at=now, expires_at=now + lifetime)
    db.session.add(row)
    db.session.commit()
    user.login_key, user.login_session_id = raw, row.id


def close_session(user: User) -> None:
    """Sign-out: this device's sign-in stops working, also in a copy of its cookies."""
    session_id = getattr(user, "login_session_id", None)
    if session_id is not None:
        db.session.execute(update(LoginSession).where(LoginSession.id == session_id,
                                                      LoginSession.revoked_at.is_(None)).values(revoked_at=utcnow()))
        db.session.commit()


def active_sessions(user: User) -> list[LoginSession]:
    now = utcnow()
    return list(db.session.scalars(
        select(LoginSession).where(LoginSession.user_id == user.id, LoginSession.revoked_at.is_(None),
                                   LoginSession.expires_at > now)
        .order_by(LoginSession.last_seen_at.desc(), LoginSession.id.desc())
    ))


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


def load_user(user_id: str) -> User | None:
    """flask-login's loader: the user of a live sign-in ("<user id>:<key>"), else nobody (a
    revoked or expired sign-in, a cookie from before sign-ins were recorded, a disabled account)."""
    uid, _, raw = (user_id or "").partition(":")
    if not uid.isdigit() or not raw or len(raw) > 64:
        return None
    row = db.session.scalar(select(LoginSession).where(LoginSession.key_hash == _digest(raw)))
    now = utcnow()
    if row is None or str(row.user_id) != uid or row.revoked_at is not None or row.expires_at <= now:
        return None
    user = row.user
    if not user.active:
        return None
    if row.last_seen_at is None or row.last_seen_at <= now - SEEN_EVERY:
        row.last_seen_at = now
        db.session.commit()
    user.login_key, user.login_session_id = raw, row.id
    return user


def issue_token(user: User, name: str) -> str:
    """A new bearer token for the JSON API. Only its SHA-256 is stored, so the raw token is
    returned here once and never again. It expires after API_TOKEN_LIFETIME (default 30 days)."""
    raw = "shk_" + secrets.token_urlsafe(32)
    lifetime = current_app.config.get("API_TOKEN_LIFETIME", timedelta(days=30))
    db.session.add(ApiToken(user_id=user.id, token_hash=hashlib.sha256(raw.encode()).hexdigest(),
                            name=(name or "")[:64], expires_at=utcnow() + lifetime))
    db.session.commit()
    return raw


def user_for_token(raw: str) -> User | None:
    """The active user a bearer token belongs to, or None if it is unknown, expired or revoked.
    Notes the token's use, at most once a minute (no write on every request)."""
    if not raw or len(raw) > 128 or not raw.isascii() or not raw.isprintable():
        return None
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == hashlib.sha256(raw.encode()).hexdigest())
    )
    now = utcnow()
    if token is None or token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return None
    user = token.user
    if not user.active:
        return None
    stale = now - timedelta(minutes=1)
    if token.last_used_at is None or token.last_used_at <= stale:
        db.session.execute(
            update(ApiToken)
            .where(ApiToken.id == token.id, or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= stale))
            .values(last_used_at=now)
        )
        db.session.commit()
    return user


_DUMMY_HASH = "scrypt:32768:8:1$dummysaltdummys$" + "0" * 128
