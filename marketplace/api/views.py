"""JSON API for mobile apps, under /api/v1 (token auth; CSRF does not apply).

Views parse and shape with the marshmallow schemas of ``schemas`` (through flask-smorest's
``arguments`` and ``response``), authorize with ``auth`` and call the same services as the pages;
the OpenAPI document is generated from all of that (``openapi``). Domain errors become
``{"error", "message"}`` problems in ``marketplace/errors.py``; the handler below only adds what
the API knows more about: the offending ``field``, and the fresh ``windows`` of a window that
can no longer be kept.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from flask import current_app, jsonify, render_template, request, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import vendor
from ..auth import services as auth_services
from ..cart import services as cart_services
from ..catalog import services as catalog
from ..checkout import services as checkout
from ..columns import utcnow
from ..complaints import services as complaints
from ..errors import Conflict, DomainError, NotFound, ValidationFailed, error_response
from ..extensions import csrf, limit
from ..geo import services as geo
from ..inputs import MAX_ID, external_url
from ..orders import services as orders
from ..orders.models import OrderStatus, PaymentMethod
from . import auth
from . import schemas as s
from .auth import consumer_required, token_required
from .openapi import OPTIONAL_TOKEN, Blueprint, document, documented

bp = Blueprint("api", __name__, url_prefix="/api/v1", template_folder="templates", static_folder="static")
csrf.exempt(bp)
auth.install(bp)

ID = f"int(min=1, max={MAX_ID})"  # larger numbers are not ids (and would overflow)
ORDER_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,24}")
NUMBER = [{"in": "path", "name": "number", "description": "The order number",
           "schema": {"type": "string", "pattern": f"^{ORDER_NUMBER.pattern}$"}}]


@bp.errorhandler(DomainError)
def _problem(error: DomainError):
    response, status = error_response(error.status, error.code, error.message)
    extra: dict[str, Any] = {}
    if error.field:
        extra["field"] = error.field
    if isinstance(error, checkout.WindowUnavailable):
        extra["windows"] = s.WindowQuote(many=True).dump(error.quotes)
    if extra:
        response = jsonify({**response.get_json(), **extra})
    return response, status


def _no_content():
    return current_app.response_class(status=204)


def login_rate_limited(view):
    """At most LOGIN_RATE_LIMIT attempts per address (429 past it)."""
    return documented(429)(limit("LOGIN_RATE_LIMIT")(view))


# --- about the API -------------------------------------------------------------------------------


@bp.get("/", tags=["meta"])
@bp.response(200, s.Index)
def index():
    """API name and version"""
    return {"name": "shanhuo", "version": "v1"}


@bp.get("/openapi.json", tags=["meta"])
@bp.response(200, {"type": "object"}, description="OpenAPI 3.1")
def openapi():
    """This document"""
    return jsonify(document())


@bp.get("/docs", tags=["meta"])
@bp.response(200, {"type": "string"}, content_type="text/html", description="Swagger UI")
def docs():
    """Interactive documentation of this API (Swagger UI, served from this site)"""
    # no inline script (the site's policy is script-src 'self'): its code is static/docs.js
    return current_app.make_response(render_template("api/docs.html", asset=vendor.asset_url))


# --- accounts and tokens -------------------------------------------------------------------------


def _token(user, status: int):
    device = "".join(ch for ch in request.user_agent.string if ch.isprintable())[:56]
    return {"token": auth_services.issue_token(user, f"api {device}".strip()), "user": user}, status


def register_rate_limited(view):
    """At most REGISTER_RATE_LIMIT attempts per address (429 past it)."""
    return documented(429)(limit("REGISTER_RATE_LIMIT")(view))


@bp.post("/auth/code", tags=["auth"])
@register_rate_limited
@bp.arguments(s.CodeRequest)
@bp.response(202, s.CodeSent, description="A text message is on its way (or, see above, is not)")
def request_code(data):
    """Text a one-time code to a mobile number (registration or password reset)

    The answer is the same whether or not the number has an account: for `register`, a number that
    has one is texted a reminder to sign in instead of a code; for `reset`, a number without one
    is texted nothing. 429 `too_many_codes` within a minute of the last code. Rate-limited."""
    auth_services.request_code(data["mobile"], data["purpose"])
    return {"sent_to": auth_services.masked(data["mobile"])}, 202


@bp.post("/auth/register", tags=["auth"], problems=(409,))
@register_rate_limited
@bp.arguments(s.Registration)
@bp.response(201, s.Token, description="Account created")
def register(data):
    """Create a consumer account with the code texted to its number, and get a token

    422 `invalid_code` for a wrong, used or expired code (five tries per code). Rate-limited."""
    user = auth_services.register_with_code(data["mobile"], data["code"], data["password"], data["name"])
    return _token(user, 201)


@bp.post("/auth/password/reset", tags=["auth"])
@register_rate_limited
@bp.arguments(s.PasswordReset)
@bp.response(204, description="Password changed; every sign-in and token of the account ended")
def reset_password(data):
    """Set a new password with the code texted to the account's number (purpose `reset`)

    422 `invalid_code` for a wrong, used or expired code. Rate-limited."""
    auth_services.reset_password(data["mobile"], data["code"], data["password"])
    return _no_content()


@bp.post("/auth/token", tags=["auth"], problems=(401,))
@login_rate_limited
@bp.arguments(s.Credentials)
@bp.response(200, s.Token, description="Signed in")
def issue_token(data):
    """Sign in: exchange mobile and password for a token

    401 `invalid_credentials` for a wrong mobile number or password. Rate-limited."""
    return _token(auth_services.authenticate(data["mobile"], data["password"]), 200)


@bp.delete("/auth/token", tags=["auth"])
@token_required
@bp.response(204, description="Revoked")
def revoke_token():
    """Sign out: revoke the token of this request"""
    auth.revoke_current_token()
    return _no_content()


# --- catalog -------------------------------------------------------------------------------------


@bp.get("/categories", tags=["catalog"], operation_id="listCategories")
@bp.response(200, s.CategoryList)
def categories():
    """Product categories"""
    return {"items": catalog.categories()}


@bp.get("/products", tags=["catalog"], operation_id="listProducts")
@documented(security=OPTIONAL_TOKEN, description=f"{catalog.PAGE_SIZE} per page. With a token, `within` uses the "
                                                 "warehouse serving the consumer's default address.")
@bp.arguments(s.ProductQuery, location="query")
@bp.response(200, s.ProductPage, description="A page of products")
def products(args):
    """Products on sale, filtered and paged"""
    return catalog.list_products(catalog.Filters(
        text=args["q"], category_id=args.get("category"), min_price_fen=args.get("min_fen"),
        max_price_fen=args.get("max_fen"), certified_only=args["certified"],
        within_hours=int(args["within"]) if "within" in args else None,
        near_location_id=catalog.serving_location_for_current_user(), sort=args["sort"], page=args["page"],
    ))


@bp.get(f"/products/<{ID}:product_id>", tags=["catalog"], operation_id="getProduct", problems=(404,))
@documented(security=OPTIONAL_TOKEN)
@bp.response(200, s.ProductDetail)
def product(product_id: int):
    """A product with its stock and fastest delivery"""
    found = catalog.product_for_sale(product_id)
    fastest, _place = catalog.fastest_delivery(found)
    return s.With(found, stock=catalog.stock_state(found.id), fastest_delivery=fastest)


# --- places and addresses ------------------------------------------------------------------------


@bp.get("/towns", tags=["places"], operation_id="listTowns")
@bp.response(200, s.TownList)
def towns():
    """Towns of the county"""
    return {"items": geo.towns()}


@bp.get(f"/towns/<{ID}:town_id>/villages", tags=["places"], operation_id="listVillages", problems=(404,))
@bp.response(200, s.VillageList)
def villages(town_id: int):
    """Villages of a town"""
    if town_id not in {t.id for t in geo.towns()}:
        raise NotFound()
    return {"items": geo.villages_of(town_id)}


@bp.get("/addresses", tags=["places"], operation_id="listAddresses")
@consumer_required
@bp.response(200, s.AddressList)
def addresses():
    """My delivery addresses"""
    return {"items": geo.addresses_of(current_user.id)}


@bp.post("/addresses", tags=["places"])
@consumer_required
@bp.arguments(s.NewAddress)
@bp.response(201, s.Address, description="Added")
def add_address(data):
    """Add a delivery address"""
    return geo.add_address(current_user.id, **data)


@bp.delete(f"/addresses/<{ID}:address_id>", tags=["places"], problems=(404,))
@consumer_required
@bp.response(204, description="Removed")
def delete_address(address_id: int):
    """Remove one of my addresses"""
    geo.delete_address(current_user.id, address_id)
    return _no_content()


# --- cart ----------------------------------------------------------------------------------------


@bp.get("/cart", tags=["cart"], operation_id="getCart")
@consumer_required
@bp.response(200, s.Cart)
def cart():
    """My cart"""
    return cart_services.current_cart()


@bp.put(f"/cart/items/<{ID}:product_id>", tags=["cart"], problems=(404, 409))
@consumer_required
@bp.arguments(s.CartLine)
@bp.response(200, s.Cart)
def set_cart_item(data, product_id: int):
    """Set the quantity of a product in my cart

    404 when the product is not on sale; 409 `out_of_stock`."""
    cart_services.set_quantity(product_id, data["quantity"])
    return cart_services.current_cart()


@bp.delete(f"/cart/items/<{ID}:product_id>", tags=["cart"], problems=(404,))
@consumer_required
@bp.response(200, s.Cart)
def remove_cart_item(product_id: int):
    """Take a product out of my cart"""
    cart_services.remove(product_id)
    return cart_services.current_cart()


# --- quote and orders ----------------------------------------------------------------------------


@bp.post("/quote", tags=["checkout"], problems=(404, 409, 429))
@consumer_required
@limit("QUOTE_RATE_LIMIT", per_account=True)
@bp.arguments(s.QuoteRequest)
@bp.response(200, s.Quote, description="Window quotes")
def quote(data):
    """The delivery windows the current plan can keep for my cart to an address

    422 `empty_cart`; 404 for an address that is not mine; 409 `out_of_stock`."""
    return checkout.quote(current_user.id, data["address_id"], cart_services.items())


def _idempotency_key(from_body: str | None, from_header: str | None) -> str:
    if from_body is not None and from_header is not None and from_body != from_header:
        raise ValidationFailed(_l("The Idempotency-Key header and “idempotency_key” differ."), field="idempotency_key")
    key = from_body or from_header
    if key is None:
        raise ValidationFailed(_l("“%(field)s” is required.", field="idempotency_key"), field="idempotency_key")
    return key


def _payment_url(order) -> str | None:
    """Where to pay an online order still awaiting payment (its open payment, or a new one)."""
    if order.status != OrderStatus.PENDING_PAYMENT or order.payment_method != PaymentMethod.ONLINE:
        return None
    from ..payments import services as payments

    try:
        payment = payments.resume_payment(current_user.id, order.number)
    except Conflict:  # the time to pay ran out meanwhile
        return None
    return external_url(payments.payment_url(payment))


def _detail(order, payment_url: str | None = None) -> s.With:
    return s.With(order, tracking=orders.tracking(order), payment_url=payment_url)


@bp.post("/orders", tags=["checkout"], problems=(404,))
@consumer_required
@bp.arguments(s.NewOrder)
@bp.arguments(s.IdempotencyHeader, location="headers")
@bp.response(201, s.OrderDetail, description="Placed")
@bp.alt_response(200, schema=s.OrderDetail, description="Already placed with this idempotency key", success=True)
@bp.alt_response(409, schema={"oneOf": [{"$ref": "#/components/schemas/WindowUnavailable"},
                                        {"$ref": "#/components/schemas/Error"}]},
                 description="The window can no longer be kept (window_unavailable, with fresh quotes), or out_of_stock.")
def place_order(data, headers):
    """Place my cart as an order with a guaranteed window

    Prices, fees and totals are computed by the server: fields ending in `_fen` and `price`, `total`,
    `subtotal`, `fee`, `delivery_fee`, `amount` are accepted and ignored. An idempotency key is
    required (body or header)."""
    key = _idempotency_key(data.get("idempotency_key"), headers.get("idempotency_key"))
    now = utcnow()
    placed = checkout.place_order(current_user.id, data["address_id"], data["window"], data["payment_method"],
                                  key, now=now)
    # The same key returns the first order; it was placed by this request only if placed now.
    return _detail(placed, _payment_url(placed)), 201 if placed.placed_at == now else 200


@bp.get("/orders", tags=["orders"])
@consumer_required
@bp.response(200, s.OrderList)
def list_orders():
    """My orders, newest first (at most 50)"""
    return {"items": orders.orders_of(current_user.id)}


def _order_number(number: str) -> str:
    if not ORDER_NUMBER.fullmatch(number):
        raise NotFound()  # not an order number (and nothing the database should see, e.g. NUL)
    return number


@bp.get("/orders/<number>", tags=["orders"], operation_id="getOrder", parameters=NUMBER, problems=(404,))
@consumer_required
@bp.response(200, s.OrderDetail)
def order(number: str):
    """One of my orders with its timeline and tracking"""
    return _detail(orders.order_of(current_user.id, _order_number(number)))


@bp.post("/orders/<number>/cancel", tags=["orders"], parameters=NUMBER, problems=(404, 409))
@consumer_required
@bp.arguments(s.Cancellation)
@bp.response(200, s.OrderDetail, description="Cancelled")
def cancel_order(data, number: str):
    """Cancel one of my orders before it is dispatched

    409 `cannot_cancel` once the order is on its way."""
    return _detail(orders.cancel(current_user.id, _order_number(number), data["reason"].strip()))


# --- complaints ----------------------------------------------------------------------------------

COMPLAINT_NUMBER = [{"in": "path", "name": "complaint_number", "description": "The complaint number",
                     "schema": {"type": "string", "pattern": f"^{ORDER_NUMBER.pattern}$"}}]
#: the complaint service's field names → the API's
_COMPLAINT_FIELDS = {"lines": "line_ids", "photo": "photos"}


def _decoded(photos: list[str]) -> list[bytes]:
    try:
        return [base64.b64decode(photo, validate=True) for photo in photos]
    except (binascii.Error, ValueError):
        raise ValidationFailed(_l("Each photo must be a JPEG, PNG or WebP file in base64."), field="photos") from None


@bp.post("/orders/<number>/complaints", tags=["complaints"], parameters=NUMBER, problems=(404, 409))
@consumer_required
@bp.arguments(s.NewComplaint)
@bp.arguments(s.IdempotencyHeader, location="headers")
@bp.response(201, s.Complaint, description="Filed")
@bp.alt_response(200, schema=s.Complaint, description="Already filed with this idempotency key", success=True)
def file_complaint(data, headers, number: str):
    """Complain about one of my orders

    One complaint per idempotency key (body or header): a retry returns the first one. Photos are
    base64 in the body (at most 3; JPEG, PNG or WebP), checked by their content and stored
    re-encoded; 422 `photo_refused` for a file that is not a photo or is too large. 409 for an
    order that was never paid or confirmed."""
    key = _idempotency_key(data.get("idempotency_key"), headers.get("idempotency_key"))
    intake = complaints.Intake(data["category"], data["text"], data["line_ids"], _decoded(data["photos"]), key)
    now = utcnow()
    try:
        filed = complaints.file_complaint(current_user.id, _order_number(number), intake, channel="api", now=now)
    except DomainError as error:
        error.field = _COMPLAINT_FIELDS.get(error.field, error.field) if error.field else error.field
        raise
    filed = complaints.complaint_of_user(current_user.id, filed.number)
    return s.complaint_out(filed), 201 if filed.created_at == now else 200


@bp.get("/orders/<number>/complaints", tags=["complaints"], parameters=NUMBER, problems=(404,))
@consumer_required
@bp.response(200, s.ComplaintList)
def list_order_complaints(number: str):
    """My complaints about one of my orders, with the staff's replies"""
    _order, found = complaints.complaints_of_user(current_user.id, _order_number(number))
    return {"items": [s.complaint_out(c) for c in found]}


@bp.get("/complaints/<complaint_number>", tags=["complaints"], parameters=COMPLAINT_NUMBER, problems=(404,))
@consumer_required
@bp.response(200, s.Complaint)
def complaint(complaint_number: str):
    """One of my complaints: its status, the staff's replies and how it went"""
    return s.complaint_out(complaints.complaint_of_user(current_user.id, _order_number(complaint_number)))


@bp.get("/complaints/<complaint_number>/photos/<complaint_photo_id>", tags=["complaints"], problems=(404,),
        parameters=[*COMPLAINT_NUMBER, {
            "in": "path", "name": "complaint_photo_id", "description": "From the complaint's photo URL",
            "schema": {"type": "string", "pattern": "^[1-9][0-9]{0,9}-[0-9a-f]{32}$"}}])
@consumer_required
@bp.response(200, {"type": "string", "format": "binary"}, content_type="image/jpeg", description="The JPEG")
def complaint_photo(complaint_number: str, complaint_photo_id: str):
    """A photo of one of my complaints"""
    found = complaints.complaint_of_user(current_user.id, _order_number(complaint_number))
    path = complaints.photo_of_complaint(found.number, complaint_photo_id)
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    return response
