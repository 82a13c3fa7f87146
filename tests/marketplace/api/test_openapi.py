"""The OpenAPI document: valid OpenAPI 3.1, and exactly the routes the API has."""

from __future__ import annotations

import pytest

from .conftest import PREFIX, openapi_path

METHODS = {"get", "put", "post", "delete", "patch"}


def _rules(app) -> set[tuple[str, str]]:
    return {(openapi_path(rule.rule), method.lower()) for rule in app.url_map.iter_rules()
            if rule.rule.startswith(PREFIX) for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_the_document_is_valid_openapi_3_1(api):
    validator = pytest.importorskip("openapi_spec_validator")
    response = api.get("/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.1")
    validator.validate(document)


def test_every_route_is_documented_and_every_documented_operation_exists(app, api):
    document = api.get("/openapi.json").get_json()
    documented = {(path, method) for path, item in document["paths"].items() for method in item if method in METHODS}
    assert _rules(app) == documented


def test_private_operations_need_the_bearer_scheme_and_say_401(app, api):
    document = api.get("/openapi.json").get_json()
    assert document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http", "scheme": "bearer", "description": document["components"]["securitySchemes"]["bearerAuth"]
        ["description"]}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(PREFIX):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][openapi_path(rule.rule)][method.lower()]
            access = getattr(app.view_functions[rule.endpoint], "api_access", None)
            assert (operation["security"] == [{"bearerAuth": []}]) == (access is not None), rule.endpoint
            if access is not None:
                assert "401" in operation["responses"], rule.endpoint
            assert ("403" in operation["responses"]) == (access == "consumer"), rule.endpoint
            for parameter in rule.arguments:
                assert parameter in {p["name"] for p in operation.get("parameters", [])}, rule.endpoint


def test_request_bodies_refuse_unknown_fields_like_the_views(api):
    document = api.get("/openapi.json").get_json()
    body = document["paths"]["/cart/items/{product_id}"]["put"]["requestBody"]["content"]["application/json"]
    assert body["schema"] == {"type": "object", "properties": {"quantity": {
        "type": "integer", "description": body["schema"]["properties"]["quantity"]["description"],
        "minimum": 1, "maximum": 99}}, "required": ["quantity"], "additionalProperties": False}
