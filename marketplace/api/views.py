"""JSON API for mobile apps, under /api/v1 (token auth; CSRF does not apply).

Views parse (``schemas``), authorize (``auth``) and call the same services as the pages. Domain
errors become ``{"error", "message"}`` problems in ``marketplace/errors.py``; the handler below
only adds what the API knows more about: the offending ``field``, and the fresh ``windows`` of a
window that can no longer be kept.
"""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth import services as auth_services
from ..cart import services as cart_services
from ..cart.services import MAX_LINE_QUANTITY
from ..catalog import services as catalog
from ..checkout import services as checkout
from ..columns import utcnow
from ..errors import Conflict, DomainError, NotFound, ValidationFailed, error_response
from ..extensions import csrf, limiter
from ..geo import services as geo
from ..inputs import external_url
from ..orders import services as orders
from ..orders.models import OrderStatus, PaymentMethod
from ..planning import promise
from . import auth, schemas
from .auth import consumer_required, token_required
from .schemas import Choice, Fields, Flag, Int, Quantity, Text

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)
auth.install(bp)

ID = f"int(min=1, max={schemas.MAX_ID})"  # larger numbers are not ids (and would overflow)
ORDER_NUMBER = re.compile(r"[A-Za-z0-9_-]{1,24}")


@bp.errorhandler(DomainError)
def _problem(error: DomainError):
    response, status = error_response(error.status, error.code, error.message)
    extra = {}
    if error.field:
        extra["field"] = error.field
    if isinstance(error, checkout.WindowUnavailable):
        extra["windows"] = _quotes(error.quotes)
    if extra:
        response = jsonify({**response.get_json(), **extra})
    return response, status


def _login_rate_limit() -> str:
    return current_app.config["LOGIN_RATE_LIMIT"]


def _window_names() -> dict:
    return {w.code: w for w in promise.window_classes()}


def _quotes(quotes) -> list[dict]:
    window_names = _window_names()
    return [schemas.window_quote(q, window_names) for q in quotes]


@bp.get("/")
def index():
    return jsonify(name="shanhuo", version="v1")


@bp.get("/openapi.json")
def openapi():
    from .openapi import document

    return jsonify(document())


# --- accounts and tokens -------------------------------------------------------------------------

REGISTER = Fields({
    "mobile": Text("11-digit mainland mobile number", max_length=32),
    "password": Text("8–128 characters, letters and digits", max_length=128),
    "name": Text("Display name", max_length=64, required=False, default=""),
})
CREDENTIALS = Fields({
    "mobile": Text(max_length=32),
    "password": Text(max_length=1024),
})


def _token_response(user, status: int):
    device = "".join(ch for ch in request.user_agent.string if ch.isprintable())[:56]
    token = auth_services.issue_token(user, f"api {device}".strip())
    return jsonify(token=token, token_type="Bearer", user=schemas.user(user)), status


@bp.post("/auth/register")
@limiter.limit(_login_rate_limit)
def register():
    data = schemas.json_body(REGISTER)
    user = auth_services.register_consumer(data["mobile"], data["password"], data["name"])
    return _token_response(user, 201)


@bp.post("/auth/token")
@limiter.limit(_login_rate_limit)
def issue_token():
    data = schemas.json_body(CREDENTIALS)
    user = auth_services.authenticate(data["mobile"], data["password"])
    return _token_response(user, 200)


@bp.delete("/auth/token")
@token_required
def revoke_token():
    auth.revoke_current_token()
    return "", 204


# --- catalog -------------------------------------------------------------------------------------

PRODUCT_QUERY = Fields({
    "q": Text("Words in the name or description (zh or en)", max_length=100, required=False, default=""),
    "category": Int("Category id", required=False),
    "min_fen": Int("Lowest price, fen", minimum=0, maximum=10**9, required=False),
    "max_fen": Int("Highest price, fen", minimum=0, maximum=10**9, required=False),
    "certified": Flag("Only certified products (1/0, true/false)", required=False, default=False),
    "within": Choice(["2", "6"], "Stocked where a 2 h or 6 h window can usually be kept", required=False),
    "sort": Choice(list(catalog.SORTS), required=False, default="featured"),
    "page": Int(minimum=1, maximum=10**6, required=False, default=1),
})


@bp.get("/categories")
def categories():
    return jsonify(items=[schemas.category(c) for c in catalog.categories()])


@bp.get("/products")
def products():
    args = schemas.query(PRODUCT_QUERY)
    result = catalog.list_products(catalog.Filters(
        text=args["q"], category_id=args["category"], min_price_fen=args["min_fen"],
        max_price_fen=args["max_fen"], certified_only=args["certified"],
        within_hours=int(args["within"]) if args["within"] else None,
        near_location_id=catalog.serving_location_for_current_user(), sort=args["sort"], page=args["page"],
    ))
    return jsonify(items=[schemas.product(p) for p in result.items], total=result.total, page=result.page,
                   pages=result.pages)


@bp.get(f"/products/<{ID}:product_id>")
def product(product_id: int):
    found = catalog.product_for_sale(product_id)
    fastest, _place = catalog.fastest_delivery(found)
    return jsonify(schemas.product_detail(found, catalog.stock_state(found.id), fastest, _window_names()))


# --- places and addresses ------------------------------------------------------------------------

ADDRESS = Fields({
    "village_id": Int("A village id from /towns/{town_id}/villages"),
    "detail": Text("Street, house number or landmark", max_length=200),
    "recipient_name": Text(max_length=64),
    "recipient_mobile": Text(max_length=32),
    "make_default": Flag(required=False, default=False),
})


@bp.get("/towns")
def towns():
    return jsonify(items=[schemas.town(t) for t in geo.towns()])


@bp.get(f"/towns/<{ID}:town_id>/villages")
def villages(town_id: int):
    if town_id not in {t.id for t in geo.towns()}:
        raise NotFound()
    return jsonify(items=[schemas.village(v) for v in geo.villages_of(town_id)])


@bp.get("/addresses")
@consumer_required
def addresses():
    return jsonify(items=[schemas.address(a) for a in geo.addresses_of(current_user.id)])


@bp.post("/addresses")
@consumer_required
def add_address():
    data = schemas.json_body(ADDRESS)
    address = geo.add_address(current_user.id, village_id=data["village_id"], detail=data["detail"],
                              recipient_name=data["recipient_name"], recipient_mobile=data["recipient_mobile"],
                              make_default=data["make_default"])
    return jsonify(schemas.address(address)), 201


@bp.delete(f"/addresses/<{ID}:address_id>")
@consumer_required
def delete_address(address_id: int):
    geo.delete_address(current_user.id, address_id)
    return "", 204


# --- cart ----------------------------------------------------------------------------------------

CART_LINE = Fields({"quantity": Quantity("How many (replaces the quantity in the cart)",
                                         minimum=1, maximum=MAX_LINE_QUANTITY)})


@bp.get("/cart")
@consumer_required
def cart():
    return jsonify(schemas.cart(cart_services.current_cart()))


@bp.put(f"/cart/items/<{ID}:product_id>")
@consumer_required
def set_cart_item(product_id: int):
    data = schemas.json_body(CART_LINE)
    cart_services.set_quantity(product_id, data["quantity"])
    return jsonify(schemas.cart(cart_services.current_cart()))


@bp.delete(f"/cart/items/<{ID}:product_id>")
@consumer_required
def remove_cart_item(product_id: int):
    cart_services.remove(product_id)
    return jsonify(schemas.cart(cart_services.current_cart()))


# --- quote and orders ----------------------------------------------------------------------------

QUOTE = Fields({"address_id": Int("One of the consumer's addresses")})

# Prices, fees and totals are the server's to compute: such fields are accepted and ignored.
PRICE_FIELDS = frozenset({"price", "prices", "total", "subtotal", "fee", "delivery_fee", "amount"})


def _price_field(name: str) -> bool:
    return name.endswith("_fen") or name in PRICE_FIELDS


IDEMPOTENCY_KEY_MESSAGE = _l("“idempotency_key” must be 8 to 64 letters, digits, “-” or “_”.")
PLACE_ORDER = Fields({
    "address_id": Int("One of the consumer's addresses"),
    "window": Text("A window code from the quote, e.g. 6h", max_length=8),
    "payment_method": Choice([m.value for m in PaymentMethod]),
    "idempotency_key": Text("Or the Idempotency-Key header; a retry with the same key returns the first order",
                            max_length=64, required=False, pattern=checkout.IDEMPOTENCY_RE.pattern,
                            pattern_message=IDEMPOTENCY_KEY_MESSAGE),
}, ignore=_price_field)
CANCEL = Fields({"reason": Text(max_length=200, required=False, default="")})


@bp.post("/quote")
@consumer_required
def quote():
    data = schemas.json_body(QUOTE)
    result = checkout.quote(current_user.id, data["address_id"], cart_services.items())
    return jsonify(address_id=result.address.id, subtotal_fen=result.subtotal_fen, windows=_quotes(result.windows))


def _idempotency_key(from_body: str | None) -> str:
    header = request.headers.get("Idempotency-Key")
    if header is not None:
        header = PLACE_ORDER.fields["idempotency_key"].from_json("idempotency_key", header)
        if from_body is not None and from_body != header:
            raise ValidationFailed(
                _l("The Idempotency-Key header and “idempotency_key” differ."), field="idempotency_key")
    key = from_body or header
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


@bp.post("/orders")
@consumer_required
def place_order():
    data = schemas.json_body(PLACE_ORDER)
    key = _idempotency_key(data["idempotency_key"])
    now = utcnow()
    placed = checkout.place_order(current_user.id, data["address_id"], data["window"], data["payment_method"],
                                  key, now=now)
    # The same key returns the first order; it was placed by this request only if placed now.
    status = 201 if placed.placed_at == now else 200
    body = schemas.order_detail(placed, placed.status in orders.CANCELLABLE, orders.tracking(placed),
                                _payment_url(placed))
    return jsonify(body), status


@bp.get("/orders")
@consumer_required
def list_orders():
    return jsonify(items=[schemas.order(o, o.status in orders.CANCELLABLE) for o in orders.orders_of(current_user.id)])


def _order_number(number: str) -> str:
    if not ORDER_NUMBER.fullmatch(number):
        raise NotFound()  # not an order number (and nothing the database should see, e.g. NUL)
    return number


@bp.get("/orders/<number>")
@consumer_required
def order(number: str):
    found = orders.order_of(current_user.id, _order_number(number))
    return jsonify(schemas.order_detail(found, found.status in orders.CANCELLABLE, orders.tracking(found)))


@bp.post("/orders/<number>/cancel")
@consumer_required
def cancel_order(number: str):
    data = schemas.json_body(CANCEL, optional=True)
    cancelled = orders.cancel(current_user.id, _order_number(number), data["reason"].strip())
    return jsonify(schemas.order_detail(cancelled, False, orders.tracking(cancelled)))
