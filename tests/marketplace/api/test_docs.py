"""The interactive API docs at /api/v1/docs: Swagger UI vendored from the npm registry by
marketplace.vendor, nothing loaded from elsewhere, no inline script."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from marketplace import vendor


class _Page(HTMLParser):
    """The URLs a page loads (src, href), and the text of its script elements."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.urls += [value or "" for name, value in attrs if name in ("src", "href")]
        if tag == "script":
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def test_the_docs_page_loads_only_local_files_and_they_are_served(api):
    response = api.get("/docs")
    assert response.status_code == 200 and response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    page = _Page()
    page.feed(html)
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html), "an external URL on the page"
    assert all(url.startswith("/") and not url.startswith("//") for url in page.urls), page.urls
    assert page.scripts and all(not text.strip() for text in page.scripts), "inline script"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    served = {}
    for url in page.urls:
        asset = api.client.get(url)
        assert asset.status_code == 200, f"{url}: {asset.status_code} (run `make vendor`)"
        served[url.split("?")[0].rsplit("/", 1)[1]] = asset
    assert {"swagger-ui-bundle.js", "swagger-ui.css", "docs.js"} <= set(served)
    assert served["swagger-ui.css"].mimetype == "text/css"
    assert "SwaggerUIBundle" in served["docs.js"].get_data(as_text=True)
    assert b"SwaggerUIBundle" in served["swagger-ui-bundle.js"].data
    # the page fetches the document from here, and Swagger UI is told not to ask an online validator
    assert 'data-spec-url="/api/v1/openapi.json"' in html
    assert "validatorUrl: null" in served["docs.js"].get_data(as_text=True)


def test_the_vendored_swagger_ui_is_the_pinned_version(app):
    package = vendor.MANIFEST["swagger-ui-dist"]
    assert vendor.is_current(package), "run `make vendor`"
    with app.test_request_context():
        assert vendor.asset_url("swagger-ui-dist", "swagger-ui.css").endswith(f"?v={package.version}")
        with pytest.raises(ValueError):
            vendor.asset_url("swagger-ui-dist", "index.html")  # not vendored: not linkable either
