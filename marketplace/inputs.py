"""Strict input types shared by the HTML forms and the JSON API: bounded ids, mobile numbers,
text without control characters, and the one safe-redirect rule.

Anything a request supplies goes through these before it reaches a query, so bad input is a
4xx with a clear message, never an HTTP 500 (an overflowing integer, a NUL byte PostgreSQL
refuses) nor a redirect off the site.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, request

from .errors import NotFound

MAX_ID = 2**31 - 1  # ids are 32-bit integer columns; larger numbers would overflow the query

# --- ids -----------------------------------------------------------------------------------------

_ID_TEXT = re.compile(r"[0-9]{1,10}")  # ASCII digits only: int() would also take "１２" or "1_2"


def parse_id(value: Any, *, minimum: int = 1) -> int:
    """An id from a form or query string: a whole number in minimum..MAX_ID, else ValueError.
    Usable as werkzeug's ``type=`` and as a WTForms ``coerce``."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _ID_TEXT.fullmatch(value.strip()):
        number = int(value.strip())
    else:
        raise ValueError(f"not an id: {value!r}")
    if not minimum <= number <= MAX_ID:
        raise ValueError(f"id out of range: {number}")
    return number


def choice_id(value: Any) -> int:
    """``coerce`` of a select field of ids whose placeholder choice is 0 ("choose one")."""
    return parse_id(value, minimum=0)


def query_id(name: str) -> int | None:
    """An id from the query string: None when absent or empty; 404 when it cannot be an id
    (no row has it, just as no row has an unknown one)."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return parse_id(raw)
    except ValueError:
        raise NotFound() from None


def form_id(name: str) -> int | None:
    """An id from the posted form: None when absent or not a valid id."""
    try:
        return parse_id(request.form.get(name))
    except ValueError:
        return None


# --- mobile numbers ------------------------------------------------------------------------------

#: a mainland mobile number: ASCII digits only (``\d`` would accept full-width look-alikes)
MOBILE_PATTERN = r"1[3-9][0-9]{9}"
_MOBILE_RE = re.compile(MOBILE_PATTERN)


def is_mobile(value: str) -> bool:
    return _MOBILE_RE.fullmatch(value) is not None


#: a mobile number as people type it: the same ASCII digits, in groups split by single spaces or
#: hyphens ("139 1234 5678"), which the services strip before ``is_mobile``
MOBILE_INPUT_PATTERN = r"1[3-9](?:[ -]?[0-9]){9}"


def mobile_validator(message: Any):
    """The WTForms validator of a mobile-number field (the same rule as ``is_mobile``)."""
    from wtforms.validators import ValidationError

    def validate(form, field) -> None:
        if not is_mobile(field.data or ""):
            raise ValidationError(message)

    return validate


# --- text ----------------------------------------------------------------------------------------

#: C0 controls and DEL, except tab, newline and carriage return (multi-line text)
_FORBIDDEN_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def has_forbidden_control(value: str) -> bool:
    return _FORBIDDEN_CONTROL.search(value) is not None


# --- redirects -----------------------------------------------------------------------------------


def safe_next(target: str | None, default: str) -> str:
    """``target`` when it is a same-site relative path, else ``default`` (no open redirects).

    Browsers drop tabs and newlines inside a URL and read ``\\`` as ``/``, so ``/\\t/evil.example``
    or ``/\\evil.example`` would leave the site: any control character or backslash refuses it."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return default
    if "\\" in target or re.search(r"[\x00-\x1f\x7f]", target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


def external_url(path: str) -> str:
    """An absolute URL of one of our paths for use outside the app (a callback, a link in an API
    answer), built on EXTERNAL_BASE_URL, never on the request's Host header."""
    return current_app.config["EXTERNAL_BASE_URL"].rstrip("/") + "/" + path.lstrip("/")


def same_origin_post() -> bool:
    """Whether this request's ``Origin`` is our own (EXTERNAL_BASE_URL's scheme, host and port).
    Browsers send it with every form post; a page on another site cannot fake it."""
    from urllib.parse import urlsplit

    from flask import request

    origin = request.headers.get("Origin", "")
    ours = urlsplit(current_app.config["EXTERNAL_BASE_URL"])
    return bool(origin) and origin.rstrip("/") == f"{ours.scheme}://{ours.netloc}"


def shown(text: str, limit: int = 64) -> str:
    """Text a client sent, safe to echo in a message: at most ``limit`` characters, each control
    character or lone surrogate (not valid in strict JSON or UTF-8) replaced by U+FFFD."""
    return "".join(ch if ch.isprintable() and not 0xD800 <= ord(ch) <= 0xDFFF else "\ufffd" for ch in text[:limit])
