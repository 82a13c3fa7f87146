"""A JSON client for /api/v1 that checks every response it gets against the OpenAPI document
(the status must be documented for the operation, the body must match its schema)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from werkzeug.exceptions import HTTPException

from marketplace.api.openapi import document
from marketplace.extensions import db
from marketplace.models import Product, Stock, Village
from tests.conftest import PASSWORD

PREFIX = "/api/v1"

try:
    from jsonschema import Draft202012Validator
except ImportError:  # pragma: no cover - openapi-spec-validator brings jsonschema
    Draft202012Validator = None


def openapi_path(rule: str) -> str:
    """/api/v1/products/<int(min=1, max=…):product_id> → /products/{product_id}"""
    return re.sub(r"<(?:[^<>:]+:)?(\w+)>", r"{\1}", rule[len(PREFIX):]) or "/"


def check_against_document(app: Flask, response) -> None:
    request = response.request
    try:
        rule, _ = app.url_map.bind("localhost").match(request.path, method=request.method, return_rule=True)
    except HTTPException:
        return  # not routed (404/405): no operation to compare with
    if not rule.rule.startswith(PREFIX):
        return
    doc = document()
    operation = doc["paths"][openapi_path(rule.rule)][request.method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], f"{request.method} {request.path} → {status} is not documented"
    described = operation["responses"][status]
    if "$ref" in described:
        described = doc["components"]["responses"][described["$ref"].rsplit("/", 1)[1]]
    content = described.get("content")
    if content is None:
        assert not response.data, f"{request.method} {request.path} → {status} should have no body"
        return
    assert response.mimetype == "application/json"
    if Draft202012Validator is not None:
        schema = {**content["application/json"]["schema"], "components": doc["components"]}
        errors = sorted(Draft202012Validator(schema).iter_errors(response.get_json()), key=str)
        assert not errors, f"{request.method} {request.path} → {status}: {errors[0]}"


class Api:
    """``api.post("/orders", {...}, token=…)``: JSON in, response out, checked against the document."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.client = app.test_client()

    def call(self, method: str, path: str, body: Any = None, *, token: str | None = None,
             headers: dict[str, str] | None = None, **kwargs: Any):
        headers = dict(headers or {})
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if body is not None:
            kwargs["json"] = body
        cookieless = not self.client._cookies
        response = self.client.open(PREFIX + path, method=method, headers=headers, **kwargs)
        check_against_document(self.app, response)
        if cookieless:  # the API never starts a session
            assert "Set-Cookie" not in response.headers, f"{method} {path} set a cookie"
        return response

    def get(self, path: str, **kwargs: Any):
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any):
        return self.call("POST", path, body, **kwargs)

    def put(self, path: str, body: Any = None, **kwargs: Any):
        return self.call("PUT", path, body, **kwargs)

    def delete(self, path: str, **kwargs: Any):
        return self.call("DELETE", path, **kwargs)

    def token_for(self, mobile: str, password: str = PASSWORD) -> str:
        response = self.post("/auth/token", {"mobile": mobile, "password": password})
        assert response.status_code == 200, response.get_json()
        return response.get_json()["token"]

    def register(self, mobile: str, password: str = PASSWORD, name: str = "") -> str:
        response = self.post("/auth/register", {"mobile": mobile, "password": password, "name": name})
        assert response.status_code == 201, response.get_json()
        return response.get_json()["token"]


@pytest.fixture
def api(app: Flask) -> Api:
    return Api(app)


@pytest.fixture
def consumer(app: Flask, make_user) -> str:
    """A consumer's token (no demo data needed)."""
    from marketplace.auth import services as auth_services

    user = make_user(mobile="13700001111")
    with app.app_context():
        return auth_services.issue_token(user, "test")


@dataclass
class Place:
    town_id: int
    village_id: int
    product_id: int  # on sale, with at least 10 units at the warehouse serving the village


@pytest.fixture
def place(app: Flask, seeded) -> Place:
    from marketplace.geo import services as geo

    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V001"))
        warehouse = geo.warehouse_for_zone(village.zone_id)
        stock = db.session.scalar(
            sa.select(Stock).join(Stock.product).where(Stock.location_id == warehouse.location_id,
                                                       Stock.on_hand - Stock.reserved >= 10)
            .order_by(Product.weight_g).limit(1))
        return Place(village.town_id, village.id, stock.product_id)


def new_address(api: Api, token: str, place: Place, mobile: str = "13912345678") -> int:
    response = api.post("/addresses", {"village_id": place.village_id, "detail": "园区路 18 号",
                                       "recipient_name": "测试", "recipient_mobile": mobile}, token=token)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]
