"""Flask extensions, created once and bound to the app in ``create_app``."""

from __future__ import annotations

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def limit(config_key: str, *, per_account: bool = False, methods: list[str] | None = None):
    """A rate limit read from ``config_key`` (e.g. "10 per minute;40 per hour"), counted per
    client address or, with ``per_account``, per signed-in account (a bearer token's too)."""
    from flask import current_app
    from flask_login import current_user

    def account() -> str:
        return "account:" + (current_user.get_id() or "").partition(":")[0] if current_user.is_authenticated \
            else get_remote_address()

    return limiter.limit(lambda: current_app.config[config_key], methods=methods,
                         key_func=account if per_account else None)
