"""Bad input is a 4xx JSON problem naming what is wrong — never a 500."""

from __future__ import annotations

import json

import pytest

from marketplace.api.schemas import MAX_BODY_BYTES
from marketplace.extensions import limiter

# (method, path, a valid-looking body) of every endpoint that reads a JSON body.
BODY_ENDPOINTS = [
    ("POST", "/auth/code", {"mobile": "13912345678", "purpose": "register"}),
    ("POST", "/auth/register", {"mobile": "13912345678", "password": "Shanhuo2026", "code": "123456"}),
    ("POST", "/auth/password/reset", {"mobile": "13912345678", "password": "Shanhuo2026", "code": "123456"}),
    ("POST", "/auth/token", {"mobile": "13912345678", "password": "Shanhuo2026"}),
    ("POST", "/addresses", {"village_id": 1, "detail": "园区路 18 号", "recipient_name": "测试",
                            "recipient_mobile": "13912345678"}),
    ("PUT", "/cart/items/1", {"quantity": 1}),
    ("POST", "/quote", {"address_id": 1}),
    ("POST", "/orders", {"address_id": 1, "window": "6h", "payment_method": "cod",
                         "idempotency_key": "k" * 16}),
    ("POST", "/orders/SH1/cancel", {"reason": "changed my mind"}),
]
IDS = [f"{m} {p}" for m, p, _ in BODY_ENDPOINTS]


@pytest.fixture(autouse=True)
def _no_rate_limit(monkeypatch):
    monkeypatch.setattr(limiter, "enabled", False)  # these tests send many bad sign-ins on purpose


def _problem(response, status: int, error: str | None = None, field: str | None = None) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) <= {"error", "message", "field", "windows"} and body["message"]
    if error is not None:
        assert body["error"] == error
    if field is not None:
        assert body["field"] == field
    return body


@pytest.mark.parametrize(("method", "path", "body"), BODY_ENDPOINTS, ids=IDS)
def test_a_body_that_is_not_json_is_400(api, consumer, method, path, body):
    as_form = api.call(method, path, token=consumer, data=body)
    _problem(as_form, 400, "bad_request")
    as_text = api.call(method, path, token=consumer, data=json.dumps(body), content_type="text/plain")
    _problem(as_text, 400, "bad_request")
    broken = api.call(method, path, token=consumer, data="{\"quantity\": 1", content_type="application/json")
    _problem(broken, 400, "bad_request")


NOT_ONE_OBJECT = [b"[]", b"[1]", b"1", b'"x"', b"null", b'{"a": 1, "a": 2}', b'{"a": "\xff"}',
                  b"[" * 10_000 + b"]" * 10_000, b"", b"   "]


@pytest.mark.parametrize(("method", "path", "body"), BODY_ENDPOINTS, ids=IDS)
def test_a_body_that_is_not_one_json_object_is_400(api, consumer, method, path, body):
    for payload in NOT_ONE_OBJECT:
        response = api.call(method, path, token=consumer, data=payload, content_type="application/json")
        if path.endswith("/cancel") and not payload.strip():
            _problem(response, 404, "not_found")  # no body is fine there: the order is what is missing
        else:
            _problem(response, 400, "bad_request")


@pytest.mark.parametrize(("method", "path", "body"), BODY_ENDPOINTS, ids=IDS)
def test_an_unknown_field_is_400_and_named(api, consumer, method, path, body):
    response = api.call(method, path, {**body, "colour": "red"}, token=consumer)
    problem = _problem(response, 400, "unknown_field", "colour")
    assert "colour" in problem["message"]


@pytest.mark.parametrize(("method", "path", "body"), BODY_ENDPOINTS, ids=IDS)
def test_a_missing_or_mistyped_field_is_422_and_named(api, consumer, method, path, body):
    for name, value in body.items():
        if not (path.endswith("/cancel")):  # the reason is optional
            missing = {k: v for k, v in body.items() if k != name}
            if not (path == "/orders" and name == "idempotency_key"):
                _problem(api.call(method, path, missing, token=consumer), 422, "validation_failed", name)
        wrong = [{"x": 1}, [value], True] + ([str(value)] if isinstance(value, int) else [12])
        for bad in wrong:
            _problem(api.call(method, path, {**body, name: bad}, token=consumer), 422, "validation_failed", name)


def test_quantities_other_than_1_to_99_are_422(api, consumer):
    for quantity in (0, -1, 100, 10**9, 10**30, "abc", "3", 2.5, 2.0, True, None, [], {}):
        response = api.put("/cart/items/1", {"quantity": quantity}, token=consumer)
        _problem(response, 422, field="quantity")


def test_text_that_cannot_be_stored_is_422(api, consumer):
    for text in ("a\x00b", "\ud800", "x" * 201):
        response = api.post("/addresses", {"village_id": 1, "detail": text, "recipient_name": "测试",
                                           "recipient_mobile": "13912345678"}, token=consumer)
        _problem(response, 422, "validation_failed", "detail")


def test_ids_out_of_range_are_422(api, consumer):
    for value in (0, -5, 2**31, 10**20):
        _problem(api.post("/quote", {"address_id": value}, token=consumer), 422, "validation_failed", "address_id")


def test_a_huge_body_is_413(api, consumer):
    response = api.post("/addresses", {"detail": "x" * MAX_BODY_BYTES}, token=consumer)
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"


def test_a_malformed_idempotency_key_is_422(api, consumer):
    body = {"address_id": 1, "window": "6h", "payment_method": "cod"}
    for key in ("short", "has space in it", "ü" * 10, "k" * 65):
        _problem(api.post("/orders", {**body, "idempotency_key": key}, token=consumer), 422, field="idempotency_key")
        header = {"Idempotency-Key": key.encode().decode("latin-1")}
        _problem(api.post("/orders", body, token=consumer, headers=header), 422, field="idempotency_key")


def test_an_idempotency_key_is_required_and_must_agree_with_the_header(api, consumer):
    body = {"address_id": 1, "window": "6h", "payment_method": "cod"}
    _problem(api.post("/orders", body, token=consumer), 422, field="idempotency_key")
    response = api.post("/orders", {**body, "idempotency_key": "a" * 16}, token=consumer,
                        headers={"Idempotency-Key": "b" * 16})
    _problem(response, 422, field="idempotency_key")


def test_an_unknown_payment_method_is_422(api, consumer):
    body = {"address_id": 1, "window": "6h", "payment_method": "bitcoin", "idempotency_key": "k" * 16}
    _problem(api.post("/orders", body, token=consumer), 422, field="payment_method")


def test_cancel_accepts_no_body_at_all(api, consumer):
    _problem(api.post("/orders/SH1/cancel", token=consumer), 404, "not_found")


BAD_PRODUCT_QUERIES = [
    ("colour=red", 400, "colour"),
    ("page=0", 422, "page"),
    ("page=abc", 422, "page"),
    ("page=99999999999999999999", 422, "page"),
    ("page=1&page=2", 400, "page"),
    ("category=-1", 422, "category"),
    ("category=2147483648", 422, "category"),
    ("min_fen=1.5", 422, "min_fen"),
    ("max_fen=-1", 422, "max_fen"),
    ("certified=maybe", 422, "certified"),
    ("within=3", 422, "within"),
    ("sort=cheapest", 422, "sort"),
    ("q=%00", 422, "q"),
    ("q=" + "x" * 101, 422, "q"),
]


def test_a_bad_product_query_is_refused_naming_the_parameter(api):
    for query, status, field in BAD_PRODUCT_QUERIES:
        _problem(api.get(f"/products?{query}"), status, field=field)


def test_empty_query_values_count_as_absent(api):
    response = api.get("/products?q=&category=&min_fen=&within=&sort=&page=")
    assert response.status_code == 200
    assert response.get_json() == {"items": [], "total": 0, "page": 1, "pages": 1}


def test_paths_that_name_nothing_are_404(api):
    for path in ("/products/0", "/products/2147483648", "/products/99999999999999999999999", "/products/-1",
                 "/products/abc", "/products/1", "/towns/99999999999999999999/villages", "/towns/1/villages"):
        _problem(api.get(path), 404, "not_found")


def test_numbers_and_ids_that_name_nothing_are_404(api, consumer):
    for number in ("%00", "SH%00", "x" * 25, "%E2%80%AE", "1;DROP", "SH1"):
        _problem(api.get(f"/orders/{number}", token=consumer), 404, "not_found")
        _problem(api.post(f"/orders/{number}/cancel", token=consumer), 404, "not_found")
    for path in ("/addresses/99999999999", "/addresses/1", "/cart/items/1"):
        _problem(api.delete(path, token=consumer), 404, "not_found")


def test_an_unknown_api_path_or_method_is_json(api):
    _problem(api.get("/nothing-here"), 404, "not_found")
    _problem(api.call("PATCH", "/cart"), 405)


def test_an_unknown_field_is_echoed_only_as_safe_text(api):
    """The fuzz sent a field named with a lone surrogate and a control character: the problem named
    it as sent, which strict JSON parsers refuse."""
    response = api.post("/auth/token", data='{"mobile": "13912345678", "password": "x", "\\ud800x\\b": 1}',
                        content_type="application/json")
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "\\ud800" not in body and "\\b" not in body
    assert response.get_json()["field"] == "\ufffdx\ufffd"
    json.loads(body.encode("utf-8"))  # strict: valid UTF-8 all through
