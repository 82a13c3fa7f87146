"""The OpenAPI 3.1 description of /api/v1, built once as a plain dict.

Request bodies and query parameters come from the same ``Fields`` the views enforce; the
response shapes below are checked against real responses by the API tests (every JSON response
of the test suite is validated against this document), so both stay true.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ..auth.models import Role
from ..catalog.models import CertificationType
from ..catalog.services import PAGE_SIZE
from ..orders.models import CompensationKind, OrderStatus, PaymentMethod
from . import schemas
from . import views as v

JSON = "application/json"


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    """An object with exactly these properties (all present unless ``optional``)."""
    return {"type": "object", "properties": properties,
            "required": [name for name in properties if name not in optional], "additionalProperties": False}


def _list_of(name: str) -> dict[str, Any]:
    return _obj({"items": {"type": "array", "items": _ref(name)}})


INT = {"type": "integer"}
FEN = {"type": "integer", "description": "Money in integer fen (1/100 yuan)."}
STR = {"type": "string"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time", "description": "UTC, ISO-8601 with Z."}
NULLABLE_TIME = {"type": ["string", "null"], "format": "date-time", "description": "UTC, ISO-8601 with Z."}
NULLABLE_STR = {"type": ["string", "null"]}
NAMES = {"name_zh": STR, "name_en": STR}
NAMED = _obj({"id": INT, **NAMES})
WINDOW = {"window": {"type": "string", "description": "Window class code, e.g. 2h, 6h, 12h, 18h."},
          "window_name_zh": STR, "window_name_en": STR}

PRODUCT = {
    "id": INT, "sku": STR, **NAMES, "unit_zh": STR, "unit_en": STR, "price_fen": FEN,
    "weight_g": {"type": "integer", "description": "Grams."},
    "certification_type": {"type": "string", "enum": [c.value for c in CertificationType]},
    "featured": BOOL,
    "category": _obj({"id": INT, "slug": STR, **NAMES}),
    "cooperative": NAMED,
}
ORDER = {
    "number": STR, "status": {"type": "string", "enum": [s.value for s in OrderStatus]},
    "payment_method": {"type": "string", "enum": [m.value for m in PaymentMethod]},
    **WINDOW, "placed_at": TIME, "deadline_at": TIME, "promised_eta_at": NULLABLE_TIME,
    "delivered_at": NULLABLE_TIME, "subtotal_fen": FEN, "delivery_fee_fen": FEN, "total_fen": FEN,
    "cancellable": BOOL, "lines": {"type": "array", "items": _ref("OrderLine")},
}

SCHEMAS: dict[str, Any] = {
    "Error": {
        **_obj({"error": {"type": "string", "description": "Machine-readable code, e.g. validation_failed."},
                "message": {"type": "string", "description": "For people, in the request's language."},
                "field": {"type": "string", "description": "The offending field, when there is one."}},
               optional=("field",)),
        "example": {"error": "validation_failed", "message": "“quantity” must be a whole number.",
                    "field": "quantity"},
    },
    "WindowUnavailable": _obj({
        "error": {"const": "window_unavailable"}, "message": STR,
        "windows": {"type": "array", "items": _ref("WindowQuote"),
                    "description": "Fresh quotes: choose another feasible window and retry with a new key."},
    }),
    "Index": _obj({"name": STR, "version": STR}),
    "User": _obj({"id": INT, "mobile": STR, "name": STR, "role": {"type": "string", "enum": [r.value for r in Role]},
                  "locale": NULLABLE_STR}),
    "Token": _obj({"token": {"type": "string", "description": "Send as “Authorization: Bearer <token>”. "
                             "Shown once; valid for 30 days unless revoked."},
                   "token_type": {"const": "Bearer"}, "user": _ref("User")}),
    "Category": _obj({"id": INT, "slug": STR, **NAMES, "icon": STR, "parent_id": {"type": ["integer", "null"]}}),
    "CategoryList": _list_of("Category"),
    "Product": _obj(PRODUCT),
    "ProductDetail": _obj({
        **PRODUCT, "description_zh": STR, "description_en": STR,
        "shelf_life_days": {"type": ["integer", "null"]}, "certification_no": STR,
        "handling_flags": {"type": "array", "items": STR},
        "origin": _obj({"village_id": INT, **NAMES}),
        "stock": _obj({"available": INT, "at_warehouse": INT, "at_cooperative": INT}),
        "fastest_delivery": {
            "description": "The fastest window the current plan can keep for one unit to the caller's default "
                           "address (the county town when unknown), or null.",
            "oneOf": [{"type": "null"}, _obj({**WINDOW, "deadline_at": TIME, "eta_at": NULLABLE_TIME,
                                              "fee_fen": FEN})],
        },
    }),
    "ProductPage": _obj({"items": {"type": "array", "items": _ref("Product")}, "total": INT, "page": INT,
                         "pages": INT}),
    "Town": _obj({"id": INT, "code": STR, **NAMES}),
    "TownList": _list_of("Town"),
    "Village": _obj({"id": INT, "code": STR, "town_id": INT, **NAMES}),
    "VillageList": _list_of("Village"),
    "Address": _obj({"id": INT, "village": NAMED, "town": NAMED, "detail": STR, "recipient_name": STR,
                     "recipient_mobile": STR, "is_default": BOOL, "text_zh": STR, "text_en": STR}),
    "AddressList": _list_of("Address"),
    "Cart": _obj({
        "items": {"type": "array", "items": _obj({
            "product": _ref("Product"), "quantity": INT, "available": INT, "line_total_fen": FEN,
            "short": {"type": "boolean", "description": "More in the cart than is available now."}})},
        "count": INT, "subtotal_fen": FEN, "has_shortage": BOOL,
    }),
    "WindowQuote": _obj({
        **WINDOW, "feasible": BOOL,
        "reason_code": {"type": ["string", "null"], "description": "Why not feasible, e.g. fleet_busy."},
        "reason": {"type": ["string", "null"], "description": "The reason, for people."},
        "fee_fen": FEN, "deadline_at": TIME, "eta_at": NULLABLE_TIME,
    }),
    "Quote": _obj({"address_id": INT, "subtotal_fen": FEN, "windows": {"type": "array", "items": _ref("WindowQuote")}}),
    "OrderLine": _obj({"product_id": INT, **NAMES, "unit_price_fen": FEN, "quantity": INT, "line_total_fen": FEN}),
    "Order": _obj(ORDER),
    "OrderList": _list_of("Order"),
    "OrderDetail": _obj({
        **ORDER, "recipient_name": STR, "recipient_mobile": STR, "address_text": STR,
        "payment_expires_at": NULLABLE_TIME, "cancel_reason": NULLABLE_STR,
        "payment_url": {"type": ["string", "null"], "format": "uri",
                        "description": "Where to pay: set when an online order awaiting payment is placed."},
        "tracking": {"oneOf": [{"type": "null"}, _obj({
            "eta_at": NULLABLE_TIME, "vehicle_plate": NULLABLE_STR, "stops_before": INT, "stops_done": INT})]},
        "events": {"type": "array", "items": _obj({"kind": STR, "from_status": NULLABLE_STR,
                                                   "to_status": NULLABLE_STR, "at": TIME})},
        "compensations": {"type": "array", "items": _obj({
            "kind": {"type": "string", "enum": [k.value for k in CompensationKind]}, "amount_fen": FEN,
            "reason": STR, "at": TIME})},
    }),
}


def _error(description: str, schema: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    return {"description": description, "content": {JSON: {"schema": schema or _ref("Error")}}, **extra}


RESPONSES = {
    "BadRequest": _error("The body is not a JSON object, or has an unknown field (error: unknown_field)."),
    "Unauthorized": _error(
        "No valid bearer token (error: unauthorized or invalid_token), or wrong credentials.",
        headers={"WWW-Authenticate": {"schema": {"type": "string"}, "description": 'Bearer realm="shanhuo"'}}),
    "Forbidden": _error("The account is not a consumer account."),
    "NotFound": _error("Not found, or not yours."),
    "Conflict": _error("The state of things does not allow it (e.g. out_of_stock, cannot_cancel)."),
    "PayloadTooLarge": _error(f"The body is larger than {schemas.MAX_BODY_BYTES} bytes."),
    "Unprocessable": _error("A field is missing, of the wrong type or out of range (see field)."),
    "TooManyRequests": _error("Too many attempts: wait and retry."),
}


def _respond(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/responses/{name}"}


def _ok(description: str, schema: str | None) -> dict[str, Any]:
    if schema is None:
        return {"description": description}
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _path_id(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "integer", "minimum": 1, "maximum": schemas.MAX_ID}}


ORDER_NUMBER = {"name": "number", "in": "path", "required": True, "description": "The order number",
                "schema": {"type": "string", "pattern": f"^{v.ORDER_NUMBER.pattern}$"}}
PUBLIC: list[dict[str, list]] = []
OPTIONAL_TOKEN: list[dict[str, list]] = [{}, {"bearerAuth": []}]
TOKEN = [{"bearerAuth": []}]


def _operation(op_id: str, summary: str, ok: dict[str, dict[str, Any]], *, security: list, tag: str,
               errors: tuple[str, ...] = (), body: schemas.Fields | None = None, body_required: bool = True,
               parameters: list[dict[str, Any]] | None = None, description: str = "",
               consumer: bool = False) -> dict[str, Any]:
    responses: dict[str, Any] = dict(ok)
    names = set(errors)
    if body is not None:
        names |= {"BadRequest", "PayloadTooLarge", "Unprocessable"}
    if security is TOKEN:
        names.add("Unauthorized")
    if consumer:
        names.add("Forbidden")
    status = {"BadRequest": "400", "Unauthorized": "401", "Forbidden": "403", "NotFound": "404",
              "Conflict": "409", "PayloadTooLarge": "413", "Unprocessable": "422", "TooManyRequests": "429"}
    for name in sorted(names, key=status.__getitem__):
        responses.setdefault(status[name], _respond(name))
    operation: dict[str, Any] = {"operationId": op_id, "summary": summary, "tags": [tag], "security": security,
                                 "responses": responses}
    if description:
        operation["description"] = description
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {"required": body_required, "content": {JSON: {"schema": body.json_schema()}}}
    return operation


def _paths() -> dict[str, Any]:
    consumer = {"security": TOKEN, "consumer": True}
    product_id = _path_id("product_id", "A product id")
    return {
        "/": {"get": _operation("index", "API name and version", {"200": _ok("The API", "Index")},
                                security=PUBLIC, tag="meta")},
        "/openapi.json": {"get": _operation(
            "openapi", "This document", {"200": {"description": "OpenAPI 3.1", "content": {JSON: {"schema": {
                "type": "object"}}}}}, security=PUBLIC, tag="meta")},
        "/auth/register": {"post": _operation(
            "register", "Create a consumer account and get a token", {"201": _ok("Account created", "Token")},
            security=PUBLIC, tag="auth", body=v.REGISTER, errors=("Conflict", "TooManyRequests"),
            description="409 `conflict` when the mobile number is already registered. Rate-limited.")},
        "/auth/token": {
            "post": _operation(
                "issueToken", "Sign in: exchange mobile and password for a token", {"200": _ok("Signed in", "Token")},
                security=PUBLIC, tag="auth", body=v.CREDENTIALS, errors=("Unauthorized", "TooManyRequests"),
                description="401 `invalid_credentials` for a wrong mobile number or password. Rate-limited."),
            "delete": _operation("revokeToken", "Sign out: revoke the token of this request",
                                 {"204": _ok("Revoked", None)}, security=TOKEN, tag="auth"),
        },
        "/categories": {"get": _operation("listCategories", "Product categories",
                                          {"200": _ok("Categories", "CategoryList")}, security=PUBLIC,
                                          tag="catalog")},
        "/products": {"get": _operation(
            "listProducts", "Products on sale, filtered and paged", {"200": _ok("A page of products", "ProductPage")},
            security=OPTIONAL_TOKEN, tag="catalog", parameters=v.PRODUCT_QUERY.parameters(),
            errors=("BadRequest", "Unprocessable"),
            description=f"{PAGE_SIZE} per page. With a token, `within` uses the warehouse serving the "
                        "consumer's default address.")},
        "/products/{product_id}": {"get": _operation(
            "getProduct", "A product with its stock and fastest delivery", {"200": _ok("The product", "ProductDetail")},
            security=OPTIONAL_TOKEN, tag="catalog", parameters=[product_id], errors=("NotFound",))},
        "/towns": {"get": _operation("listTowns", "Towns of the county", {"200": _ok("Towns", "TownList")},
                                     security=PUBLIC, tag="places")},
        "/towns/{town_id}/villages": {"get": _operation(
            "listVillages", "Villages of a town", {"200": _ok("Villages", "VillageList")}, security=PUBLIC,
            tag="places", parameters=[_path_id("town_id", "A town id")], errors=("NotFound",))},
        "/addresses": {
            "get": _operation("listAddresses", "My delivery addresses", {"200": _ok("Addresses", "AddressList")},
                              tag="places", **consumer),
            "post": _operation("addAddress", "Add a delivery address", {"201": _ok("Added", "Address")},
                               tag="places", body=v.ADDRESS, **consumer),
        },
        "/addresses/{address_id}": {"delete": _operation(
            "deleteAddress", "Remove one of my addresses", {"204": _ok("Removed", None)}, tag="places",
            parameters=[_path_id("address_id", "One of my addresses")], errors=("NotFound",), **consumer)},
        "/cart": {"get": _operation("getCart", "My cart", {"200": _ok("The cart", "Cart")}, tag="cart", **consumer)},
        "/cart/items/{product_id}": {
            "put": _operation("setCartItem", "Set the quantity of a product in my cart", {"200": _ok("The cart", "Cart")},
                              tag="cart", parameters=[product_id], body=v.CART_LINE, errors=("NotFound", "Conflict"),
                              description="404 when the product is not on sale; 409 `out_of_stock`.", **consumer),
            "delete": _operation("removeCartItem", "Take a product out of my cart", {"200": _ok("The cart", "Cart")},
                                 tag="cart", parameters=[product_id], errors=("NotFound",), **consumer),
        },
        "/quote": {"post": _operation(
            "quote", "The delivery windows the current plan can keep for my cart to an address",
            {"200": _ok("Window quotes", "Quote")}, tag="checkout", body=v.QUOTE, errors=("NotFound", "Conflict"),
            description="422 `empty_cart`; 404 for an address that is not mine; 409 `out_of_stock`.", **consumer)},
        "/orders": {
            "post": _operation(
                "placeOrder", "Place my cart as an order with a guaranteed window",
                {"201": _ok("Placed", "OrderDetail"), "200": _ok("Already placed with this idempotency key",
                                                                  "OrderDetail"),
                 "409": _error("The window can no longer be kept (window_unavailable, with fresh quotes), or "
                               "out_of_stock.", {"oneOf": [_ref("WindowUnavailable"), _ref("Error")]})},
                tag="checkout", body=v.PLACE_ORDER, errors=("NotFound",),
                parameters=[{"name": "Idempotency-Key", "in": "header", "required": False,
                             "schema": PLACE_ORDER_KEY, "description": "Instead of `idempotency_key` in the body."}],
                description="Prices, fees and totals are computed by the server: fields ending in `_fen` and "
                            "`price`, `total`, `subtotal`, `fee`, `delivery_fee`, `amount` are accepted and "
                            "ignored. An idempotency key is required (body or header).", **consumer),
            "get": _operation("listOrders", "My orders, newest first (at most 50)",
                              {"200": _ok("Orders", "OrderList")}, tag="orders", **consumer),
        },
        "/orders/{number}": {"get": _operation(
            "getOrder", "One of my orders with its timeline and tracking", {"200": _ok("The order", "OrderDetail")},
            tag="orders", parameters=[ORDER_NUMBER], errors=("NotFound",), **consumer)},
        "/orders/{number}/cancel": {"post": _operation(
            "cancelOrder", "Cancel one of my orders before it is dispatched", {"200": _ok("Cancelled", "OrderDetail")},
            tag="orders", parameters=[ORDER_NUMBER], body=v.CANCEL, body_required=False,
            errors=("NotFound", "Conflict"), description="409 `cannot_cancel` once the order is on its way.",
            **consumer)},
    }


PLACE_ORDER_KEY = v.PLACE_ORDER.fields["idempotency_key"].schema()


@cache
def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Shanhuo (山货) API", "version": "1",
            "description": "JSON API of the Shanhuo county marketplace. Money is integer fen; times are UTC "
                           "ISO-8601 with Z; names come in zh and en. Errors are `{error, message, field?}`. "
                           "Authenticate with `Authorization: Bearer <token>` from /auth/token or /auth/register; "
                           "cookies never authorize the API.",
        },
        "servers": [{"url": "/api/v1"}],
        "tags": [{"name": name} for name in ("auth", "catalog", "places", "cart", "checkout", "orders", "meta")],
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "responses": RESPONSES,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer",
                                               "description": "A token from /auth/token or /auth/register."}},
        },
    }
