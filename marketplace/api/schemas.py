"""What the API reads and writes, as marshmallow schemas: the same classes parse the requests,
shape the responses and, through flask-smorest, make the OpenAPI document (openapi.py), so the
document cannot drift from what is enforced.

Bad input is always a 4xx problem: a body that is not one JSON object → 400; an unknown field →
400 "unknown_field"; a missing or wrongly typed field → 422 "validation_failed" with ``field``
set, worded in the request's language.
"""

from __future__ import annotations

import json
import re
from datetime import UTC
from typing import Any

import marshmallow as ma
from flask import Request, g
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from marshmallow import fields, post_dump, pre_load, validate
from webargs.flaskparser import FlaskParser

from ..auth.models import Role
from ..cart.services import MAX_LINE_QUANTITY, parse_quantity
from ..catalog.models import CertificationType
from ..catalog.services import SORTS
from ..checkout.services import IDEMPOTENCY_RE
from ..complaints import services as complaint_services
from ..complaints.models import ComplaintCategory, ComplaintStatus
from ..errors import BadRequest, DomainError, ValidationFailed
from ..inputs import MAX_ID, MOBILE_INPUT_PATTERN, has_forbidden_control, shown
from ..orders.models import CompensationKind, OrderStatus, PaymentMethod
from ..orders.services import CANCELLABLE
from ..planning import watchdog  # (also declares the one-compensation-per-order index)

MAX_BODY_BYTES = 64 * 1024


class UnknownField(BadRequest):
    code = "unknown_field"


# --- fields of requests --------------------------------------------------------------------------


def _storable(value: str) -> None:
    """No control characters but tab and line breaks (PostgreSQL refuses NUL), no lone surrogates."""
    if has_forbidden_control(value) or any("\ud800" <= ch <= "\udfff" for ch in value):
        raise ma.ValidationError("storable")


class FullMatch(validate.Regexp):
    """The whole value matches (``Regexp`` only anchors the start; "$" would let a newline in)."""

    def __init__(self, pattern: str, error: Any) -> None:
        super().__init__(f"^(?:{pattern})$", error=error)

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ma.ValidationError(str(self.error))
        return value


class Worded:
    """A field whose errors name it (“quantity” must be …), in the request's language. Fields are
    required unless they have a default or say ``required=False``."""

    def __init__(self, description: str = "", **kwargs: Any) -> None:
        kwargs.setdefault("required", "load_default" not in kwargs)
        if description:
            kwargs["metadata"] = {"description": description, **kwargs.get("metadata", {})}
        super().__init__(**kwargs)

    def type_problem(self) -> str:
        raise NotImplementedError

    def from_text(self, raw: str) -> Any:
        """This field's value in a query string (text), before the same checks as in JSON."""
        return raw

    def make_error(self, key: str, **kwargs: Any) -> ma.ValidationError:
        if key == "required":
            return ma.ValidationError(_("“%(field)s” is required.", field=self.name))
        return ma.ValidationError(self.type_problem())

    def _validate(self, value: Any) -> None:
        for check in self.validators:
            try:
                check(value)
            except ma.ValidationError as error:
                raise ma.ValidationError(self._problem(check, error)) from None

    def _problem(self, check: Any, error: ma.ValidationError) -> str:
        if isinstance(check, validate.Range):
            return _("“%(field)s” must be between %(min)d and %(max)d.", field=self.name, min=check.min,
                     max=check.max)
        if isinstance(check, validate.Length):
            return _("“%(field)s” must be at most %(max)d characters.", field=self.name, max=check.max)
        if check is _storable:
            return _("“%(field)s” contains characters that are not allowed.", field=self.name)
        if isinstance(check, validate.OneOf):
            return self.type_problem()
        return str(error.messages[0])  # the check's own words


class Int(Worded, fields.Integer):
    """A JSON integer (not a string, float or boolean) in minimum..maximum: by default an id."""

    def __init__(self, description: str = "", *, minimum: int = 1, maximum: int = MAX_ID, **kwargs: Any) -> None:
        super().__init__(description, strict=True, validate=validate.Range(minimum, maximum), **kwargs)

    def type_problem(self) -> str:
        return _("“%(field)s” must be a whole number.", field=self.name)

    def from_text(self, raw: str) -> Any:
        return int(raw) if re.fullmatch(r"-?[0-9]{1,12}", raw) else raw


class Quantity(Int):
    """A cart quantity: a JSON integer, then the cart's own rule (1..99) and its words."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        try:
            return parse_quantity(super()._deserialize(value, attr, data, **kwargs))
        except DomainError as error:
            raise ma.ValidationError(error.message) from None


class Text(Worded, fields.String):
    def __init__(self, description: str = "", *, max_length: int = 200, pattern: str | None = None,
                 pattern_message: Any = None, **kwargs: Any) -> None:
        checks: list[Any] = [validate.Length(max=max_length), _storable]
        if pattern is not None:
            checks.append(FullMatch(pattern, pattern_message))
        super().__init__(description, validate=checks, **kwargs)

    def type_problem(self) -> str:
        return _("“%(field)s” must be text.", field=self.name)


def Mobile(description: str = "11-digit mainland mobile number", **kwargs: Any) -> Text:
    """ASCII digits only (full-width look-alikes are refused), in groups as people type them."""
    return Text(description, max_length=32, pattern=MOBILE_INPUT_PATTERN,
                pattern_message=_l("Enter an 11-digit mainland mobile number, e.g. 13912345678."), **kwargs)


class Flag(Worded, fields.Boolean):
    """true/false in JSON; 1/0 or true/false in a query string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> bool:
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value

    def type_problem(self) -> str:
        return _("“%(field)s” must be true or false.", field=self.name)

    def from_text(self, raw: str) -> Any:
        return {"1": True, "true": True, "0": False, "false": False}.get(raw.lower(), raw)


class Choice(Worded, fields.String):
    def __init__(self, choices: list[str], description: str = "", **kwargs: Any) -> None:
        super().__init__(description, validate=validate.OneOf(choices), **kwargs)

    def type_problem(self) -> str:
        choices = self.validators[0].choices
        return _("“%(field)s” must be one of: %(choices)s.", field=self.name, choices=", ".join(choices))


# --- reading requests ----------------------------------------------------------------------------


def requires_body(schema: Any) -> bool:
    """A body whose fields are all optional may be left out (the same as ``{}``)."""
    schema = schema() if isinstance(schema, type) else schema
    return any(field.required for field in schema.fields.values())


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise BadRequest(_l("“%(field)s” is given more than once.", field=key[:64]), field=key[:64])
        data[key] = value
    return data


class Parser(FlaskParser):
    """webargs, held to the rules above: one JSON object per body, one value per query parameter
    (empty counts as absent), unknown fields refused, and one problem naming one field."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": None, "querystring": None}

    def load_json(self, req: Request, schema: ma.Schema) -> dict[str, Any]:
        # a schema may carry more (a complaint's photos, as base64): ``max_body_bytes()``
        req.max_content_length = schema.max_body_bytes() if hasattr(schema, "max_body_bytes") else MAX_BODY_BYTES
        raw = req.get_data(cache=True)
        if not raw.strip() and not requires_body(schema):
            return {}
        if not req.is_json:
            raise BadRequest(_l("Send a JSON object with the header “Content-Type: application/json”."))
        try:
            data = json.loads(raw, object_pairs_hook=_no_duplicates)
        except (ValueError, RecursionError):  # includes UnicodeDecodeError
            raise BadRequest(_l("The request body is not valid JSON.")) from None
        if not isinstance(data, dict):
            raise BadRequest(_l("The request body must be a JSON object."))
        return data

    def load_querystring(self, req: Request, schema: ma.Schema) -> dict[str, Any]:
        data: dict[str, Any] = {}
        for name, values in req.args.lists():
            if len(values) > 1:
                raise BadRequest(_l("“%(field)s” is given more than once.", field=name[:64]), field=name[:64])
            field = schema.fields.get(name)
            if field is None:
                data[name] = values[0]  # refused by the schema as unknown
            elif values[0] != "":
                data[name] = field.from_text(values[0])
        return data

    def handle_error(self, error: ma.ValidationError, req: Request, schema: ma.Schema, *,
                     error_status_code: int | None, error_headers: Any) -> None:
        (messages,) = error.messages.values()  # {location: {field: [message]}}
        names = {field.data_key or name: name for name, field in schema.fields.items()}
        unknown = [shown(str(key)) for key in messages if key not in names]
        if unknown:
            raise UnknownField(_("Unknown field “%(field)s”.", field=unknown[0]), field=unknown[0])
        key = next(key for key in names if key in messages)  # the first in the schema's order
        message = messages[key]
        while isinstance(message, list | dict):
            message = next(iter(message.values())) if isinstance(message, dict) else message[0]
        raise ValidationFailed(str(message), field=names[key])


# --- requests ------------------------------------------------------------------------------------


def schema(name: str, /, *bases: type[ma.Schema], **declared: fields.Field) -> type[ma.Schema]:
    """A schema class (``name`` in the document) with these fields after those of ``bases``."""
    return type(name, bases, declared)


IDEMPOTENCY_KEY_MESSAGE = _l("“idempotency_key” must be 8 to 64 letters, digits, “-” or “_”.")


def _idempotency_key(description: str, **kwargs: Any) -> Text:
    return Text(description, max_length=64, pattern=IDEMPOTENCY_RE.pattern, pattern_message=IDEMPOTENCY_KEY_MESSAGE,
                required=False, **kwargs)


def Code(description: str = "The 6-digit code texted by POST /auth/code", **kwargs: Any) -> Text:
    return Text(description, max_length=6, pattern=r"[0-9]{6}",
                pattern_message=_l("Enter the 6-digit code we texted you."), **kwargs)


def NewPassword(description: str = "8–128 characters, letters and digits", **kwargs: Any) -> Text:
    return Text(description, max_length=128, **kwargs)


CodeRequest = schema("CodeRequest", ma.Schema, mobile=Mobile(),
                     purpose=Choice(["register", "reset"], "What the code is for"))
Registration = schema("Registration", ma.Schema, mobile=Mobile(), code=Code(), password=NewPassword(),
                      name=Text("Display name", max_length=64, load_default=""))
PasswordReset = schema("PasswordReset", ma.Schema, mobile=Mobile(), code=Code(), password=NewPassword())
Credentials = schema("Credentials", ma.Schema, mobile=Mobile(), password=Text(max_length=1024))
NewAddress = schema("NewAddress", ma.Schema, village_id=Int("A village id from /towns/{town_id}/villages"),
                    detail=Text("Street, house number or landmark", max_length=200),
                    recipient_name=Text(max_length=64), recipient_mobile=Mobile(), make_default=Flag(load_default=False))
CartLine = schema("CartLine", ma.Schema, quantity=Quantity("How many (replaces the quantity in the cart)",
                                                           minimum=1, maximum=MAX_LINE_QUANTITY))
QuoteRequest = schema("QuoteRequest", ma.Schema, address_id=Int("One of the consumer's addresses"))
Cancellation = schema("Cancellation", ma.Schema, reason=Text(max_length=200, load_default=""))
IdempotencyHeader = schema("IdempotencyHeader", ma.Schema, idempotency_key=_idempotency_key(
    "Instead of `idempotency_key` in the body.", data_key="Idempotency-Key"))

# Prices, fees and totals are the server's to compute: such fields are accepted and ignored.
PRICE_FIELDS = frozenset({"price", "prices", "total", "subtotal", "fee", "delivery_fee", "amount"})


class NewOrder(ma.Schema):
    address_id = Int("One of the consumer's addresses")
    window = Text("A window code from the quote, e.g. 6h", max_length=8)
    payment_method = Choice([m.value for m in PaymentMethod])
    idempotency_key = _idempotency_key(
        "Or the Idempotency-Key header; a retry with the same key returns the first order")

    @pre_load
    def _ignore_prices(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return {name: value for name, value in data.items()
                if not (str(name).endswith("_fen") or name in PRICE_FIELDS)}


class Items(Worded, fields.List):
    """A JSON array of ``item`` (whose errors name this field), at most ``max_items`` long."""

    def __init__(self, item: fields.Field, description: str = "", *, max_items: int, **kwargs: Any) -> None:
        super().__init__(description, cls_or_instance=item, validate=validate.Length(max=max_items), **kwargs)

    def type_problem(self) -> str:
        return _("“%(field)s” must be a list.", field=self.name)

    def _problem(self, check: Any, error: ma.ValidationError) -> str:
        if isinstance(check, validate.Length):
            return _("“%(field)s” may have at most %(max)d items.", field=self.name, max=check.max)
        return super()._problem(check, error)


BASE64 = r"[A-Za-z0-9+/]*={0,2}"


class Base64Photo(Worded, fields.String):
    """A picture file as base64 (RFC 4648, no line breaks); its content is checked by uploads."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__("A JPEG, PNG or WebP file, base64-encoded (RFC 4648, no line breaks)",
                         validate=[FullMatch(BASE64, _l("Each photo must be a JPEG, PNG or WebP file in base64."))],
                         metadata={"format": "byte"}, **kwargs)

    def type_problem(self) -> str:
        return _("“%(field)s” must be text.", field=self.name)


class NewComplaint(ma.Schema):
    """A complaint about one of my orders. Photos travel as base64 inside this JSON body (not as
    multipart): the API reads one strict JSON object per request, and a retry with the same key
    resends the very same body."""

    category = Choice([c.value for c in ComplaintCategory], "What went wrong")
    text = Text(f"What happened, {complaint_services.TEXT_MIN} to {complaint_services.TEXT_MAX} characters",
                max_length=complaint_services.TEXT_MAX)
    line_ids = Items(Int("An order line id (from the order's lines)"), "The lines it is about; empty or left out: "
                     "the whole order", max_items=50, load_default=list)
    photos = Items(Base64Photo(),
                   f"Up to {complaint_services.MAX_PHOTOS} photos (JPEG, PNG or WebP, each at most 8 MB before "
                   "base64), checked and re-encoded by the server",
                   max_items=complaint_services.MAX_PHOTOS, load_default=list)
    idempotency_key = _idempotency_key(
        "Or the Idempotency-Key header; a retry with the same key returns the first complaint")

    @staticmethod
    def max_body_bytes() -> int:
        from ..uploads import max_bytes

        return MAX_BODY_BYTES + complaint_services.MAX_PHOTOS * 4 * -(-max_bytes() // 3)


class ProductQuery(ma.Schema):
    q = Text("Words in the name or description (zh or en)", max_length=100, load_default="")
    category = Int("Category id", required=False)
    min_fen = Int("Lowest price, fen", minimum=0, maximum=10**9, required=False)
    max_fen = Int("Highest price, fen", minimum=0, maximum=10**9, required=False)
    certified = Flag("Only certified products (1/0, true/false)", load_default=False)
    within = Choice(["2", "6"], "Stocked where a 2 h or 6 h window can usually be kept", required=False)
    sort = Choice(list(SORTS), load_default="featured")
    page = Int(minimum=1, maximum=10**6, load_default=1)


# --- responses -----------------------------------------------------------------------------------


class With:
    """``obj`` with a few more attributes to dump (a product with its stock, …)."""

    def __init__(self, obj: Any, **extra: Any) -> None:
        self.__dict__.update(extra, _obj=obj)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._obj, name)


class UtcTime(fields.DateTime):
    """A UTC time as ISO-8601 with Z, whole seconds."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(metadata={"description": "UTC, ISO-8601 with Z."}, **kwargs)

    def _serialize(self, value: Any, attr: Any, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class Out(ma.Schema):
    """A response body: every field always there (null where it may be), and no other."""

    OPTIONAL: tuple[str, ...] = ()

    def on_bind_field(self, field_name: str, field_obj: fields.Field) -> None:
        field_obj.required = field_name not in self.OPTIONAL


Str, Integer, Bool, Nested = fields.String, fields.Integer, fields.Boolean, fields.Nested


def out(name: str, /, *bases: type[Out], **declared: fields.Field) -> type[Out]:
    return schema(name, *(bases or (Out,)), **declared)


def Fen(**kwargs: Any) -> fields.Integer:
    return Integer(metadata={"description": "Money in integer fen (1/100 yuan)."}, **kwargs)


def Many(item: type[Out], **kwargs: Any) -> fields.List:
    return fields.List(Nested(item), **kwargs)


def Const(value: str) -> fields.Constant:
    return fields.Constant(value, metadata={"type": "string", "enum": [value]})


def Computed(function: Any, json_type: Any, **metadata: Any) -> fields.Function:
    return fields.Function(function, metadata={"type": json_type, **metadata})


Index = out("Index", name=Str(), version=Str())
CodeSent = out("CodeSent", sent_to=Str(metadata={"description": "The number, masked"}))
User = out("User", id=Integer(), mobile=Str(), name=Str(), role=fields.Enum(Role, by_value=True),
           locale=Str(allow_none=True))
Token = out("Token", token=Str(metadata={"description": "Send as “Authorization: Bearer <token>”. Shown once; "
                                                       "valid for 30 days unless revoked."}),
            token_type=Const("Bearer"), user=Nested(User))
Names = out("Names", name_zh=Str(), name_en=Str())
Named = out("Named", Names, id=Integer())
CategoryBrief = out("CategoryBrief", Named, slug=Str())
Category = out("Category", CategoryBrief, icon=Str(), parent_id=Integer(allow_none=True))
def _photos(product: Any) -> list[dict[str, Any]]:
    """The product's photos, first one first (none when it is not on sale)."""
    from flask import url_for

    from ..catalog.services import shown_photos
    from ..inputs import external_url

    return [{"url": external_url(url_for("catalog.product_photo", file_id=photo.file_id)),
             "card_url": external_url(url_for("catalog.product_photo", file_id=photo.file_id, w=480)),
             "width": photo.width, "height": photo.height} for photo in shown_photos(product)]


PHOTO = {"type": "object", "required": ["url", "card_url", "width", "height"], "additionalProperties": False,
         "properties": {"url": {"type": "string", "description": "The JPEG, as uploaded (re-encoded)."},
                        "card_url": {"type": "string", "description": "The same at most 480 pixels wide and high."},
                        "width": {"type": "integer"}, "height": {"type": "integer"}}}
Product = out("Product", Named, sku=Str(), unit_zh=Str(), unit_en=Str(), price_fen=Fen(),
              weight_g=Integer(metadata={"description": "Grams."}),
              certification_type=fields.Enum(CertificationType, by_value=True), featured=Bool(),
              category=Nested(CategoryBrief), cooperative=Nested(Named),
              photos=Computed(_photos, "array", items=PHOTO,
                              description="Photos, first one first; empty when the product has none."))
Town = out("Town", Named, code=Str())
Village = out("Village", Town, town_id=Integer())
WINDOW_CODE = {"description": "Window class code, e.g. 2h, 6h, 12h, 18h."}


def _window_classes() -> dict[str, Any]:
    if "api_window_classes" not in g:
        from ..planning import promise

        g.api_window_classes = {w.code: w for w in promise.window_classes()}
    return g.api_window_classes


class Window(Out):
    """A window class by its code, with its names."""

    window = Str(attribute="code", metadata=WINDOW_CODE)
    window_name_zh = Str()
    window_name_en = Str()

    @post_dump
    def _names(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        found = _window_classes().get(data["window"])
        data["window_name_zh"] = found.name_zh if found else data["window"]
        data["window_name_en"] = found.name_en if found else data["window"]
        return data


WindowQuote = out(
    "WindowQuote", Window, feasible=Bool(),
    reason_code=Str(allow_none=True, metadata={"description": "Why not feasible, e.g. fleet_busy."}),
    reason=Computed(lambda q: q.reason or None, ["string", "null"], description="The reason, for people."),
    fee_fen=Fen(), deadline_at=UtcTime(), eta_at=UtcTime(allow_none=True))
ProductDetail = out(
    "ProductDetail", Product, description_zh=Str(), description_en=Str(), shelf_life_days=Integer(allow_none=True),
    certification_no=Str(), handling_flags=Computed(lambda p: list(p.handling_flags or []), "array",
                                                    items={"type": "string"}),
    origin=Nested(out("Origin", Names, village_id=Integer(attribute="id")), attribute="cooperative.village"),
    stock=Nested(out("StockState", available=Integer(), at_warehouse=Integer(), at_cooperative=Integer())),
    fastest_delivery=Nested(
        out("FastestDelivery", Window, deadline_at=UtcTime(), eta_at=UtcTime(allow_none=True), fee_fen=Fen()),
        allow_none=True, metadata={"description": "The fastest window the current plan can keep for one unit to "
                                                  "the caller's default address (the county town when unknown), "
                                                  "or null."}))
ProductPage = out("ProductPage", items=Many(Product), total=Integer(), page=Integer(), pages=Integer())


class Address(Out):
    id = Integer()
    village = Nested(Named)
    town = Nested(Named, attribute="village.town")
    detail, recipient_name, recipient_mobile = Str(), Str(), Str()
    is_default = Bool()
    text_zh, text_en = Str(), Str()

    @post_dump(pass_original=True)
    def _texts(self, data: dict[str, Any], address: Any, **kwargs: Any) -> dict[str, Any]:
        from ..geo.services import full_text

        return {**data, "text_zh": full_text(address), "text_en": full_text(address, english=True)}


CartItem = out("CartItem", product=Nested(Product), quantity=Integer(), available=Integer(),
               line_total_fen=Fen(attribute="total_fen"),
               short=Bool(metadata={"description": "More in the cart than is available now."}))
UnavailableItem = out("UnavailableItem", product=Nested(Product), quantity=Integer(), reason=fields.String(
    metadata={"description": "Why it cannot be bought now: cooperative_not_selling (its cooperative is suspended) "
                             "or product_not_sold.", "enum": ["cooperative_not_selling", "product_not_sold"]}))
Cart = out("Cart", items=Many(CartItem, attribute="lines"), count=Integer(), subtotal_fen=Fen(), has_shortage=Bool(),
           unavailable=Many(UnavailableItem, metadata={
               "description": "Products in the cart that are not on sale now: not in the subtotal; placing an "
                              "order refuses them (409 not_selling) until they are removed."}))
Quote = out("Quote", address_id=Integer(attribute="address.id"), subtotal_fen=Fen(), windows=Many(WindowQuote))
OrderLine = out("OrderLine", product_id=Integer(), name_zh=Str(attribute="product_name_zh"),
                name_en=Str(attribute="product_name_en"), unit_price_fen=Fen(), quantity=Integer(),
                line_total_fen=Fen())
Order = out(
    "Order", number=Str(), status=fields.Enum(OrderStatus, by_value=True),
    payment_method=fields.Enum(PaymentMethod, by_value=True), window=Str(attribute="window_class.code", metadata=WINDOW_CODE),
    window_name_zh=Str(attribute="window_class.name_zh"), window_name_en=Str(attribute="window_class.name_en"),
    placed_at=UtcTime(), deadline_at=UtcTime(), promised_eta_at=UtcTime(allow_none=True),
    delivered_at=UtcTime(allow_none=True), subtotal_fen=Fen(), delivery_fee_fen=Fen(), total_fen=Fen(),
    cancellable=Computed(lambda o: o.status in CANCELLABLE, "boolean"), lines=Many(OrderLine))
OrderDetail = out(
    "OrderDetail", Order, recipient_name=Str(), recipient_mobile=Str(), address_text=Str(),
    payment_expires_at=UtcTime(allow_none=True),
    cancel_reason=Computed(lambda o: o.cancel_reason or None, ["string", "null"]),
    payment_url=Str(allow_none=True, metadata={
        "format": "uri", "description": "Where to pay: set when an online order awaiting payment is placed."}),
    tracking=Nested(out("Tracking", eta_at=UtcTime(allow_none=True), vehicle_plate=Str(allow_none=True),
                        stops_before=Integer(), stops_done=Integer()), allow_none=True),
    events=Many(out("OrderEvent", kind=Str(), from_status=Str(allow_none=True), to_status=Str(allow_none=True),
                    at=UtcTime(attribute="created_at"))),
    compensations=Many(out("Compensation", kind=fields.Enum(CompensationKind, by_value=True), amount_fen=Fen(),
                           reason=Str(), at=UtcTime(attribute="created_at"), late_seconds=Integer(),
                           why=Computed(watchdog.why, "string", description="Why, in the request's language."))))
CategoryList, TownList, VillageList, AddressList, OrderList = (
    out(f"{schema.__name__}List", items=Many(schema)) for schema in (Category, Town, Village, Address, Order))


def _complaint_photos(complaint: Any) -> list[dict[str, Any]]:
    from flask import url_for

    from ..inputs import external_url

    return [{"url": external_url(url_for("api.complaint_photo", complaint_number=complaint.number,
                                           complaint_photo_id=photo))}
            for photo in complaint.photos or []]


def _replies(complaint: Any) -> list[Any]:
    return [e for e in complaint_services.public_events(complaint) if e.kind == "reply"]


def _history(complaint: Any) -> list[Any]:
    return [e for e in complaint_services.public_events(complaint) if e.kind != "reply"]


STATUS = {"description": "new (open), in_progress, waiting_customer (we need something from you), resolved, closed"}
Complaint = out(
    "Complaint", number=Str(), order_number=Str(attribute="order.number"),
    category=fields.Enum(ComplaintCategory, by_value=True),
    status=fields.Enum(ComplaintStatus, by_value=True, metadata=STATUS), text=Str(attribute="description"),
    line_ids=fields.List(Integer()), channel=Str(metadata={"description": "web, api or phone"}),
    filed_at=UtcTime(attribute="created_at"), first_responded_at=UtcTime(allow_none=True),
    resolved_at=UtcTime(allow_none=True),
    photos=Computed(_complaint_photos, "array", items={
        "type": "object", "required": ["url"], "additionalProperties": False,
        "properties": {"url": {"type": "string", "description": "The stored JPEG (send the bearer token)."}}}),
    replies=Many(out("ComplaintReply", body=Str(), at=UtcTime(attribute="created_at")), attribute="public_replies",
                 metadata={"description": "What the complaint staff wrote to you, oldest first."}),
    events=Many(out("ComplaintEvent", kind=Str(metadata={
        "description": "filed, status, reopened, refund, reship or coupon"}), from_status=Str(allow_none=True),
        to_status=Str(allow_none=True), amount_fen=Computed(lambda e: (e.data or {}).get("amount_fen"),
                                                            ["integer", "null"], description="Refund or coupon, fen."),
        at=UtcTime(attribute="created_at")), attribute="public_history",
        metadata={"description": "How it went, oldest first (internal notes are never shown)."}))
ComplaintList = out("ComplaintList", items=Many(Complaint))


def complaint_out(complaint: Any) -> With:
    """A complaint with what its consumer may see of its history."""
    return With(complaint, public_replies=_replies(complaint), public_history=_history(complaint))


class Error(Out):
    OPTIONAL = ("field",)

    error = Str(metadata={"description": "Machine-readable code, e.g. validation_failed."})
    message = Str(metadata={"description": "For people, in the request's language."})
    field = Str(metadata={"description": "The offending field, when there is one."})


WindowUnavailable = out("WindowUnavailable", error=Const("window_unavailable"), message=Str(), windows=Many(
    WindowQuote, metadata={"description": "Fresh quotes: choose another feasible window and retry with a new key."}))
