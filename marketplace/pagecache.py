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

Some changes must not wait for the TTL: a suspended cooperative's goods must vanish at once. A
service that commits such a change calls :func:`invalidate`: this process forgets its pages, and
a stamp file (``PAGE_CACHE_STAMP``, default instance/pagecache.stamp) gets a new token that every
process serving the same instance folder reads before it serves a stored page. A page rendered
while the change was being made is stored under the old token, so it is never served either.
(Several servers would share the token through Redis instead; one server shares the file.)
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from pathlib import Path

from flask import Flask, current_app

log = logging.getLogger("shanhuo.access")

#: paths of public catalog pages (prefixes; "/" only exactly)
CACHEABLE_PREFIXES = ("/c/", "/p/", "/co/", "/v/", "/categories", "/search")

StartResponse = Callable[..., object]


class PageCache:
    """WSGI middleware: serve stored anonymous catalog pages, store new ones."""

    def __init__(self, app: Callable, seconds: float, max_entries: int = 2000,
                 stamp_file: str | os.PathLike | None = None):
        self.app = app
        self.seconds = seconds
        self.max_entries = max_entries
        self.stamp_file = Path(stamp_file) if stamp_file else None
        self._entries: OrderedDict[tuple[str, ...], tuple[float, str, list, bytes, tuple]] = (
            OrderedDict()
        )
        self._lock = threading.Lock()
        self._cleared = 0  # counts this process's clears (a page rendered across one is not kept)
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
            self._cleared += 1

    def _generation(self) -> tuple[int, bytes]:
        token = b""
        if self.stamp_file is not None:
            try:
                token = self.stamp_file.read_bytes()
            except OSError:
                token = b""
        return self._cleared, token

    def invalidate(self) -> None:
        """Forget every stored page here, and make every process sharing the stamp file forget
        its own (a new token: their stored pages carry the old one)."""
        if self.stamp_file is not None:
            self.stamp_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.stamp_file.with_name(f".{self.stamp_file.name}.{secrets.token_hex(4)}")
            partial.write_bytes(secrets.token_hex(8).encode())
            os.replace(partial, self.stamp_file)
        self.clear()

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
        generation = self._generation()
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry[0] > now and entry[4] == generation:
                self._entries.move_to_end(key)
                self.hits += 1
            else:
                entry = None
        if entry is not None:
            started = time.perf_counter()
            _, status, headers, body, _ = entry
            start_response(status, [*headers, ("X-Cache", "hit")])
            log.info(
                "request",
                extra={"method": "GET", "path": key[0], "status": int(status[:3]), "cache": "hit",
                       "ms": round((time.perf_counter() - started) * 1000, 2), "user": None},
            )  # fmt: skip
            return [body]
        return self._miss(key, environ, start_response, now, generation)

    def _miss(self, key, environ, start_response, now, generation) -> Iterable[bytes]:
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
                if generation[0] != self._cleared:  # cleared while it was rendered: maybe stale
                    return [body]
                self._entries[key] = (now + self.seconds, status, headers, body, generation)
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        return [body]


def init_app(app: Flask) -> None:
    seconds = float(app.config.get("PAGE_CACHE_SECONDS", 0) or 0)
    if seconds > 0:
        stamp = app.config.get("PAGE_CACHE_STAMP") or os.path.join(app.instance_path, "pagecache.stamp")
        app.wsgi_app = PageCache(app.wsgi_app, seconds, stamp_file=stamp)  # type: ignore[method-assign]
        app.extensions["page_cache"] = app.wsgi_app


def invalidate(app: Flask | None = None) -> None:
    """Call after committing a change to what the storefront shows (a cooperative suspended or
    reinstated, a listing approved): no process serves a stored page from before it."""
    cache = (app or current_app).extensions.get("page_cache")
    if cache is not None:
        cache.invalidate()
