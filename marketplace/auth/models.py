"""Accounts: users, their roles and API tokens."""

from __future__ import annotations

import enum
from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..columns import TimestampMixin, UTCDateTime, str_enum
from ..extensions import db


class Role(enum.StrEnum):
    CONSUMER = "consumer"
    COOP_HEAD = "coop_head"
    DISPATCHER = "dispatcher"
    COMPLAINT_STAFF = "complaint_staff"
    DRIVER = "driver"
    OPERATOR = "operator"


class User(UserMixin, TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(sa.String(11), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(256))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.CONSUMER, index=True)
    # A cooperative head (or a cooperative's staff) acts for exactly one cooperative.
    cooperative_id: Mapped[int | None] = mapped_column(sa.ForeignKey("cooperatives.id"))
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    active: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    cooperative = relationship("Cooperative", foreign_keys=[cooperative_id])

    @property
    def is_active(self) -> bool:  # flask-login
        return self.active

    #: the random key of the sign-in this object was loaded for (see services.open_session)
    login_key = None
    login_session_id = None

    def get_id(self) -> str:  # flask-login: what the session and remember-me cookies carry
        return f"{self.id}:{self.login_key}" if self.login_key else str(self.id)

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.id} {self.role.value}>"


class ApiToken(TimestampMixin, db.Model):
    """A bearer token for the JSON API; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    name: Mapped[str] = mapped_column(sa.String(64), default="")
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship(User)


class LoginSession(TimestampMixin, db.Model):
    """One sign-in on one device. The session and remember-me cookies carry its random key (only
    the key's SHA-256 is stored); signing out revokes it, a password change revokes all others,
    so a copied or stolen cookie stops working."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    key_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    remember: Mapped[bool] = mapped_column(default=False)
    user_agent: Mapped[str] = mapped_column(sa.String(120), default="")
    ip: Mapped[str] = mapped_column(sa.String(45), default="")
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship(User)


class VerificationCode(TimestampMixin, db.Model):
    """A one-time code sent by SMS to prove a mobile number (registration, password reset).
    Only its SHA-256 is stored; it expires, allows a few attempts and is used once."""

    __tablename__ = "verification_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(sa.String(11), index=True)
    purpose: Mapped[str] = mapped_column(sa.String(16))
    code_hash: Mapped[str] = mapped_column(sa.String(64))
    attempts: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SmsMessage(TimestampMixin, db.Model):
    """The sandbox SMS gateway's outbox: what would have been sent to a phone (the demo and the
    tests read codes from here; a real gateway is plugged in at marketplace.auth.sms)."""

    __tablename__ = "sms_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    mobile: Mapped[str] = mapped_column(sa.String(11), index=True)
    body: Mapped[str] = mapped_column(sa.String(255))
