"""Real-browser tests: Playwright drives Debian's Chromium against the app served on 127.0.0.1.

The session ``app`` (tests/conftest.py) is served by a werkzeug server on an ephemeral port. Rows
are wiped after every test, so each test requests ``site`` (seeds the demo county first, then
hands back the base URL) rather than ``live_server`` on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = Path("/usr/bin/chromium")

# pytest 9 turns a skip raised while importing a conftest into a collection error, so the folder is
# skipped item by item instead (below), with this reason.
NO_CHROMIUM = f"browser tests need Debian's Chromium at {CHROMIUM} (apt-get install chromium fonts-wqy-microhei)"

SCREENSHOTS = Path(__file__).parent / "screenshots"
DESKTOP = {"width": 1280, "height": 900}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser: drives a real Chromium through the app (tests/browser)"
    )


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test in this folder is a browser test, and is skipped when there is no Chromium."""
    here = Path(__file__).parent
    missing = not CHROMIUM.exists()
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.browser)
            if missing:
                item.add_marker(pytest.mark.skip(reason=NO_CHROMIUM))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [
            *browser_type_launch_args.get("args", []),
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--disable-quic",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args: dict) -> dict:
    """A shopper in Suichang: Chinese browser, China time, a desktop window."""
    return {
        **browser_context_args,
        "locale": "zh-CN",
        "timezone_id": "Asia/Shanghai",
        "viewport": DESKTOP,
    }


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def site(app: Flask, seeded: dict[str, int], live_server: str) -> Iterator[str]:
    """Base URL of the running app, with the demo county already loaded for this test; links
    and callbacks that leave the app (EXTERNAL_BASE_URL) point at it meanwhile."""
    before = app.config["EXTERNAL_BASE_URL"]
    app.config["EXTERNAL_BASE_URL"] = live_server
    try:
        yield live_server
    finally:
        app.config["EXTERNAL_BASE_URL"] = before


@pytest.fixture(scope="session")
def screenshots() -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return SCREENSHOTS


PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone_page(browser, browser_context_args: dict):
    """A page on a phone-sized touch screen (390×844, 2× pixels), in the same zh-CN context."""
    context = browser.new_context(
        **{**browser_context_args, "viewport": PHONE}, device_scale_factor=2, is_mobile=True, has_touch=True
    )
    try:
        yield context.new_page()
    finally:
        context.close()
