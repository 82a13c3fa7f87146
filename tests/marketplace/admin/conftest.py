"""Helpers of the administration tests: an operator signed in, posting forms, audit rows."""

from __future__ import annotations

import sqlalchemy as sa
from flask import Flask

from marketplace.admin.models import AuditLog
from marketplace.extensions import db
from marketplace.models import Role
from tests.conftest import csrf_token, login


def operator_client(app: Flask, make_user, mobile: str = "16612340000"):
    """(client, operator user) signed in."""
    operator = make_user(Role.OPERATOR, mobile=mobile, name="Op", locale="en")  # pages in English
    client = app.test_client()
    assert login(client, operator.mobile).status_code == 302
    return client, operator


def post(client, path: str, data: dict, page: str | None = None):
    """Post ``data`` with the CSRF token of the form page (``page``, default ``path``)."""
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page or path)})


def audits(app: Flask, action: str) -> list[AuditLog]:
    with app.app_context():
        rows = list(db.session.scalars(sa.select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)))
        db.session.expunge_all()
        return rows
