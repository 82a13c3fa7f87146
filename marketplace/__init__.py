"""Shanhuo (山货): the Flask application."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter

from . import config as config_module
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .inputs import MAX_ID

AREAS = (
    "auth",
    "geo",
    "catalog",
    "cart",
    "checkout",
    "orders",
    "payments",
    "coop",
    "dispatch",
    "driver",
    "complaints",
    "admin",
    "reports",
    "api",
)


def digits_at_most(n: int) -> str:
    """A regular expression for the decimal numbers 0..n (no sign, no leading zeros beyond "0")."""
    text = str(n)
    parts = ["0"] + ([f"[1-9][0-9]{{0,{len(text) - 2}}}"] if len(text) > 1 else [])
    for i, digit in enumerate(text):
        low = 1 if i == 0 else 0
        if int(digit) > low:
            parts.append(f"{text[:i]}[{low}-{int(digit) - 1}][0-9]{{{len(text) - i - 1}}}")
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


class BoundedInt(IntegerConverter):
    """``<int:…>`` URL parts larger than a database integer are simply not found (404). The bound
    is in the pattern, not only in the conversion: a number that fails a later check would leave
    werkzeug answering 405 when another method's rule has the same path."""

    regex = digits_at_most(MAX_ID)

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (werkzeug's signature)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def create_app(config: type | dict[str, Any] | None = None) -> Flask:
    """Build the application: configuration, extensions, one blueprint per area, CLI, errors."""
    app = Flask(__name__, instance_path=str(config_module.INSTANCE_DIR))
    app.url_map.converters["int"] = BoundedInt  # ids fit the database's integer columns
    app.config.from_object(config_module.Config)
    if isinstance(config, dict):
        app.config.update(config)
    elif config is not None:
        app.config.from_object(config)
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = config_module.instance_secret_key()
    _https_settings(app)
    _private_sqlite_file(app.config["SQLALCHEMY_DATABASE_URI"])
    _security_headers(app)

    from . import logs

    logs.init_app(app)

    from . import models  # noqa: F401  (every table registered on the metadata)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(config_module.PROJECT_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from . import i18n

    i18n.init_app(app, babel)

    from importlib import import_module

    for area in AREAS:
        views = import_module(f"{__name__}.{area}.views")
        app.register_blueprint(views.bp)

    from . import cli, errors, navigation, scheduler
    from .payments import services as payments

    payments.init_app(app)
    errors.init_app(app)
    navigation.init_app(app)
    cli.init_app(app)
    scheduler.init_app(app)

    from . import pagecache

    pagecache.init_app(app)
    _behind_proxies(app)
    return app


def _private_sqlite_file(uri: str) -> None:
    """The embedded SQLite database holds password hashes and addresses: its folder and file are
    readable by the owner only (SQLite would create the file world-readable under a usual umask)."""
    import os

    from sqlalchemy.engine import make_url

    url = make_url(uri)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return
    path = os.path.abspath(url.database)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def _https_settings(app: Flask) -> None:
    """A deployment reached over HTTPS (its EXTERNAL_BASE_URL says so) gets secure cookies."""
    https = app.config.setdefault("HTTPS", app.config["EXTERNAL_BASE_URL"].startswith("https://"))
    if https:
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True


def _behind_proxies(app: Flask) -> None:
    """The X-Forwarded-* headers of the PROXY_COUNT reverse proxies are believed (ProxyFix), by
    every layer: it is the outermost middleware, so the page cache sees the real scheme too."""
    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)


#: the Content-Security-Policy of every response: scripts, styles and images only from the app
#: itself (no inline script, on…= handler or style attribute: templates keep behaviour in
#: static/js and looks in static/css), forms post only to the app (the sandbox payment page is
#: served by the app itself), and no page may be framed.
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
HSTS_MAX_AGE = 365 * 24 * 3600  # one year


def _security_headers(app: Flask) -> None:
    """Security headers on every response (Flask-Talisman): the CSP above, nosniff,
    Referrer-Policy and X-Frame-Options DENY. An HTTPS deployment (``HTTPS``, from
    EXTERNAL_BASE_URL) also redirects plain HTTP to HTTPS and sends HSTS; cookie flags stay with
    the configuration (``_https_settings``), Talisman only mirrors them."""
    from flask_talisman import Talisman

    https = bool(app.config["HTTPS"])
    Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy="strict-origin-when-cross-origin",
        x_content_type_options=True,
        force_https=https,
        strict_transport_security=https,
        strict_transport_security_max_age=HSTS_MAX_AGE,
        strict_transport_security_include_subdomains=True,
        session_cookie_secure=https,
        session_cookie_http_only=app.config["SESSION_COOKIE_HTTPONLY"],
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
        permissions_policy={},  # no Permissions-Policy (Talisman would send browsing-topics=())
    )
