"""Language and time-zone handling: zh_CN by default, English on request, times in Asia/Shanghai."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_request_context, request, session
from flask_babel import Babel, format_datetime, get_locale
from flask_login import current_user

LOCAL_TZ = ZoneInfo("Asia/Shanghai")  # times are stored in UTC and shown here


def supported_locales() -> list[str]:
    return list(current_app.config["LANGUAGES"])


def select_locale() -> str:
    """Session choice, then the signed-in user's saved choice, then the browser, then zh_CN."""
    if not has_request_context():  # CLI, scheduler jobs, services called from tests
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    locales = supported_locales()
    chosen = session.get("lang")
    if chosen in locales:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in locales:
        return current_user.locale
    best = request.accept_languages.best_match(locales + ["zh", "en_US", "en_GB"])
    if best in ("zh",):
        return "zh_CN"
    if best in ("en_US", "en_GB"):
        return "en"
    return best or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The LANGUAGES key of the page's language ("zh_CN" or "en").

    Babel spells Simplified Chinese ``zh_Hans_CN``; its catalog lives in translations/zh.
    """
    return "en" if get_locale().language == "en" else "zh_CN"


def is_english() -> bool:
    return current_language() == "en"


def localized(obj: Any, field: str = "name") -> str:
    """``obj.name_en`` when the page speaks English, else ``obj.name_zh`` (seed/catalog fields)."""
    suffix = "en" if is_english() else "zh"
    value = getattr(obj, f"{field}_{suffix}", None)
    return value or getattr(obj, f"{field}_zh", "")


def yuan(fen: int | None) -> str:
    """Integer fen shown as ¥12.30 (never via floats)."""
    if fen is None:
        return ""
    sign = "-" if fen < 0 else ""
    fen = abs(int(fen))
    return f"{sign}¥{fen // 100}.{fen % 100:02d}"


def local_time(value: datetime | None, fmt: str = "yyyy-MM-dd HH:mm") -> str:
    """A UTC datetime shown in Asia/Shanghai."""
    if value is None:
        return ""
    return format_datetime(value, fmt)


def init_app(app: Flask, babel: Babel) -> None:
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["loc"] = localized
    app.jinja_env.filters["yuan"] = yuan
    app.jinja_env.filters["local_time"] = local_time

    from .labels import LABELS

    @app.context_processor
    def _i18n_context() -> dict[str, Any]:
        locale = current_language()
        return {
            **LABELS,
            "current_locale": locale,
            "html_lang": "zh-CN" if locale == "zh_CN" else locale,
            "languages": app.config["LANGUAGES"],
            "now_local": lambda fmt="yyyy-MM-dd HH:mm": local_time(datetime.now(LOCAL_TZ), fmt),
        }
