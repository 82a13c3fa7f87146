"""A short-lived cache of public catalog pages for anonymous visitors (a "micro-cache").

Most storefront traffic is people browsing without signing in. Their catalog pages are the same
for everybody who sends the same URL and Accept-Language and no cookies, so the rendered page is
kept for ``PAGE_CACHE_SECONDS`` (default 30 s) and served again without running the
application, as a reverse proxy's micro-cache would. What makes this safe:

- only GET requests for the catalog's paths, only when the request carries no cookie at all
  (no session, no sign-in, no language choice, no cart) — anything personal has a cookie;
- only 200 responses that set no cookie: a page that started a session (a flash message, a CSRF
  token) is never stored;
- prices and stock on a cached page can be up to the TTL old; every number that binds (cart,
  checkout quote, order total) is computed by the application at the time of the request.

Cached hits still get an access-log line (``"cache": "hit"``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from flask import Flask

log = logging.getLogger("shanhuo.access")

#: paths of public catalog pages (prefixes; "/" only exactly)
CACHEABLE_PREFIXES = ("/c/", "/p/", "/co/", "/v/", "/categories", "/search")

StartResponse = Callable[..., object]


class PageCache:
    """WSGI middleware: serve stored anonymous catalog pages, store new ones."""

    def __init__(self, app: Callable, seconds: float, max_entries: int = 2000):
        self.app = app
        self.seconds = seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[tuple[str, ...], tuple[float, str, list, bytes]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def cacheable(environ: dict) -> bool:
        if environ.get("REQUEST_METHOD") != "GET" or environ.get("HTTP_COOKIE"):
            return False
        if environ.get("HTTP_AUTHORIZATION"):
            return False
        path = environ.get("PATH_INFO", "")
        return path == "/" or path.startswith(CACHEABLE_PREFIXES)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        if not self.cacheable(environ):
            return self.app(environ, start_response)
        key = (  # the scheme too: an https page is never the answer to plain http (HSTS redirect)
            environ.get("PATH_INFO", ""),
            environ.get("wsgi.url_scheme", "http"),
            environ.get("QUERY_STRING", ""),
            environ.get("HTTP_ACCEPT_LANGUAGE", ""),
        )
        now = time.monotonic()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                entry = None
        if entry is not None:
            started = time.perf_counter()
            _, status, headers, body = entry
            start_response(status, [*headers, ("X-Cache", "hit")])
            log.info(
                "request",
                extra={"method": "GET", "path": key[0], "status": int(status[:3]), "cache": "hit",
                       "ms": round((time.perf_counter() - started) * 1000, 2), "user": None},
            )  # fmt: skip
            return [body]
        return self._miss(key, environ, start_response, now)

    def _miss(self, key, environ, start_response, now) -> Iterable[bytes]:
        captured: dict[str, object] = {}

        def capture(status, headers, exc_info=None):
            captured["status"], captured["headers"] = status, headers
            return start_response(status, [*headers, ("X-Cache", "miss")], exc_info)

        result = self.app(environ, capture)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        status = str(captured.get("status", ""))
        headers = list(captured.get("headers", []))  # type: ignore[call-overload]
        if status.startswith("200") and not any(h.lower() == "set-cookie" for h, _ in headers):
            with self._lock:
                self.misses += 1
                self._entries[key] = (now + self.seconds, status, headers, body)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return [body]


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS", 0) or 0)
    if seconds > 0:
        app.wsgi_app = PageCache(app.wsgi_app, seconds)  # type: ignore[method-assign]
        app.extensions["page_cache"] = app.wsgi_app
