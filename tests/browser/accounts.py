"""Registering in the browser: step 1 texts a code (read from the sandbox SMS outbox), step 2
posts it with the name and password."""

from __future__ import annotations

from flask import Flask
from playwright.sync_api import Page, expect

from tests.conftest import texted_code


def ask_code(page: Page, mobile: str) -> None:
    page.locator("input[name='send-mobile']").fill(mobile)
    page.locator("form.code-step button[type=submit]").click()
    page.wait_for_load_state()


def fill_registration(page: Page, app: Flask, mobile: str, password: str, name: str = "") -> None:
    """Both steps, up to (not including) the final submit."""
    ask_code(page, mobile)
    page.locator("input[name=code]").fill(texted_code(app, mobile) or "000000")
    page.locator("input[name=mobile]").fill(mobile)
    if name:
        page.locator("input[name=name]").fill(name)
    page.locator("input[name=password]").fill(password)
    page.locator("input[name=confirm]").fill(password)


def register(page: Page, site: str, app: Flask, mobile: str, password: str, name: str) -> None:
    page.goto(site + "/register")
    fill_registration(page, app, mobile, password, name)
    page.locator("form:has(input[name=confirm]) button[type=submit]").click()
    page.wait_for_load_state()
    expect(page.locator("header form[action$='/logout'] button")).to_be_visible()
