"""Configuration classes. Every setting can be overridden from the environment."""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("SHANHUO_INSTANCE", PROJECT_DIR / "instance"))


def _flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def database_url(url: str | None) -> str:
    """Normalise a DATABASE_URL: plain ``postgres://`` URLs use the psycopg 3 driver."""
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'shanhuo.db'}"
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def instance_secret_key(instance_dir: Path = INSTANCE_DIR) -> str:
    """The secret key kept in instance/secret_key, generated on first use (never in the code)."""
    instance_dir.mkdir(parents=True, exist_ok=True)
    path = instance_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return path.read_text().strip()


class Config:
    SQLALCHEMY_DATABASE_URI = database_url(os.environ.get("DATABASE_URL"))
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # filled from instance/ by create_app
    SCHEDULER_ENABLED = _flag("SCHEDULER_ENABLED", False)
    REPLAN_MINUTES = int(os.environ.get("REPLAN_MINUTES", "5"))
    #: where the re-plan job plans: "inline" (in its own process, one warehouse after another) or
    #: "celery" (a task per warehouse on the Celery queue PLANNING_QUEUE_NAME: marketplace.tasks)
    PLANNING_QUEUE = os.environ.get("PLANNING_QUEUE", "inline")
    PLANNING_QUEUE_NAME = os.environ.get("PLANNING_QUEUE_NAME", "planning")
    CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/1")
    CELERY_RESULT_BACKEND = os.environ.get("CELERY_RESULT_BACKEND", "redis://127.0.0.1:6379/2")
    #: how often a standby scheduler runner tries the lock (and the holder checks it), seconds
    SCHEDULER_STANDBY_SECONDS = float(os.environ.get("SCHEDULER_STANDBY_SECONDS", "15"))
    #: the nightly database backup: where (default instance/backups) and how many are kept
    BACKUP_DIR = os.environ.get("BACKUP_DIR") or str(INSTANCE_DIR / "backups")
    BACKUP_KEEP = int(os.environ.get("BACKUP_KEEP", "7"))
    #: a van leaves this long before the latest departure that keeps its promises
    PROMISE_KEEP_SLACK_MINUTES = float(os.environ.get("PROMISE_KEEP_SLACK_MINUTES", "30"))
    #: metres of driving a re-plan trades for one second of a delivery later than the ETA shown
    PROMISE_ETA_COST = int(os.environ.get("PROMISE_ETA_COST", "2"))
    #: an order still not delivered this long after its deadline is compensated with the cap
    PROMISE_UNDELIVERED_HOLD_HOURS = float(os.environ.get("PROMISE_UNDELIVERED_HOLD_HOURS", "24"))
    #: anonymous catalog pages are served from a per-process micro-cache this long (0: off)
    PAGE_CACHE_SECONDS = float(os.environ.get("PAGE_CACHE_SECONDS", "30"))

    BABEL_DEFAULT_LOCALE = os.environ.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_CN": "简体中文", "en": "English"}

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _flag("SESSION_COOKIE_SECURE", False)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = timedelta(days=14)  # also how long a sign-in without remember-me lives
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

    #: Redis, shared by every process and server (the many-process shape: gunicorn workers, a
    #: scheduler, queue workers); unset: rate limits are counted per process (the embedded demo)
    REDIS_URL = os.environ.get("REDIS_URL") or None
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or REDIS_URL or "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_STRATEGY = "moving-window"  # no burst of twice the limit across a window's edge
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX", "shanhuo")
    LOGIN_RATE_LIMIT = os.environ.get("LOGIN_RATE_LIMIT", "10 per minute;50 per hour")
    #: registration and password reset (codes asked for, codes tried), per client address
    REGISTER_RATE_LIMIT = os.environ.get("REGISTER_RATE_LIMIT", "10 per minute;40 per hour")
    #: password changes, per account
    PASSWORD_RATE_LIMIT = os.environ.get("PASSWORD_RATE_LIMIT", "5 per minute;20 per hour")
    #: quotes (the checkout page, the API), per client address
    QUOTE_RATE_LIMIT = os.environ.get("QUOTE_RATE_LIMIT", "60 per minute")
    #: text messages: "sandbox" writes them to the sms_outbox table; SMS_SANDBOX_INBOX shows that
    #: outbox at /sandbox/sms (the demo turns it on; never on a real deployment)
    SMS_BACKEND = os.environ.get("SMS_BACKEND", "sandbox")
    SMS_SANDBOX_INBOX = _flag("SMS_SANDBOX_INBOX", False)
    # Shared secret of the sandbox payment provider; when unset, payments derives one from
    # SECRET_KEY at start-up (never a constant in the code).
    PAYMENT_SANDBOX_SECRET = os.environ.get("PAYMENT_SANDBOX_SECRET") or None
    PAYMENT_TIMEOUT_MINUTES = int(os.environ.get("PAYMENT_TIMEOUT_MINUTES", "15"))
    #: per consumer: orders awaiting online payment, and units of one product across them
    UNPAID_ORDERS_MAX = int(os.environ.get("UNPAID_ORDERS_MAX", "3"))
    UNPAID_UNITS_MAX = int(os.environ.get("UNPAID_UNITS_MAX", "20"))
    #: POST /pay/callback per remote address (the provider posts once per payment)
    CALLBACK_RATE_LIMIT = os.environ.get("CALLBACK_RATE_LIMIT", "60 per minute")
    #: where the app is reached from outside: every link or callback that leaves the app (the
    #: payment notification, payment_url in the API) is built on it, never on the Host header
    EXTERNAL_BASE_URL = os.environ.get("EXTERNAL_BASE_URL", "http://127.0.0.1:5000")
    #: Host headers accepted (comma-separated, e.g. "shop.example,.shop.example"); unset: any
    TRUSTED_HOSTS = [h.strip() for h in os.environ.get("TRUSTED_HOSTS", "").split(",") if h.strip()] or None
    #: reverse proxies in front of the app whose X-Forwarded-For/-Proto are believed (0: none)
    PROXY_COUNT = int(os.environ.get("PROXY_COUNT", "0"))
    #: uploaded files (delivery proof photos under proof/), served only through views that check
    #: who may see them; never a folder the web server serves as it is
    UPLOAD_DIR = os.environ.get("UPLOAD_DIR") or str(INSTANCE_DIR / "uploads")
    #: the largest request body accepted (a proof photo of up to 8 MB and its form); larger: 413
    MAX_CONTENT_LENGTH = int(os.environ.get("MAX_CONTENT_LENGTH", str(16 * 1024 * 1024)))
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO")
    LOG_JSON = _flag("LOG_JSON", True)
    TESTING = False


class TestConfig(Config):
    TESTING = True
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    SECRET_KEY = "test-only-" + secrets.token_hex(8)
    SCHEDULER_ENABLED = False
    EXTERNAL_BASE_URL = "http://localhost"  # the test client's host
    TRUSTED_HOSTS = None
    LOG_LEVEL = "WARNING"
    PAGE_CACHE_SECONDS = 0.0
    RATELIMIT_STORAGE_URI = "memory://"
