"""What the API reads and writes: strict parsing of JSON bodies and query strings, and the JSON
shapes of the areas' objects. The field declarations also produce the OpenAPI request bodies and
parameters, so the document cannot drift from what is enforced.

Bad input is always a 4xx: a body that is not a JSON object → 400; an unknown field → 400
"unknown_field"; a missing or wrongly typed field → 422 with ``field`` set.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from flask import request
from flask_babel import lazy_gettext as _l

from ..errors import BadRequest, ValidationFailed
from ..inputs import MAX_ID

MAX_BODY_BYTES = 64 * 1024


class UnknownField(BadRequest):
    code = "unknown_field"


# --- reading input -------------------------------------------------------------------------------


class Field(ABC):
    """One field of a JSON body or query string: type, bounds, and how to document it."""

    kind = "string"

    def __init__(self, description: str = "", *, required: bool = True, default: Any = None) -> None:
        self.description = description
        self.required = required
        self.default = default

    @abstractmethod
    def from_json(self, name: str, value: Any) -> Any:
        """The field's value from a JSON body (each kind of field defines it)."""

    def from_text(self, name: str, raw: str) -> Any:
        return self.from_json(name, raw)

    def schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind}
        if self.description:
            schema["description"] = self.description
        return schema


class Int(Field):
    kind = "integer"

    def __init__(self, description: str = "", *, minimum: int = 1, maximum: int = MAX_ID, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.minimum, self.maximum = minimum, maximum

    def from_json(self, name: str, value: Any) -> int:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationFailed(_l("“%(field)s” must be a whole number.", field=name), field=name)
        return self.check(name, value)

    def from_text(self, name: str, raw: str) -> int:
        if not re.fullmatch(r"-?\d{1,12}", raw):
            raise ValidationFailed(_l("“%(field)s” must be a whole number.", field=name), field=name)
        return self.check(name, int(raw))

    def check(self, name: str, value: int) -> int:
        if not self.minimum <= value <= self.maximum:
            raise ValidationFailed(_l("“%(field)s” must be between %(min)d and %(max)d.", field=name,
                                      min=self.minimum, max=self.maximum), field=name)
        return value

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "minimum": self.minimum, "maximum": self.maximum}


class Quantity(Int):
    """A cart quantity: a JSON integer, then the cart's own rule (1..99) and message."""

    def check(self, name: str, value: int) -> int:
        from ..cart import services as cart

        return cart.parse_quantity(value)


class Text(Field):
    def __init__(self, description: str = "", *, max_length: int = 200, pattern: str | None = None,
                 pattern_message: Any = None, **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.max_length = max_length
        self.pattern = re.compile(pattern) if pattern else None
        self.pattern_message = pattern_message

    def from_json(self, name: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ValidationFailed(_l("“%(field)s” must be text.", field=name), field=name)
        if len(value) > self.max_length:
            raise ValidationFailed(_l("“%(field)s” must be at most %(max)d characters.", field=name,
                                      max=self.max_length), field=name)
        # NUL and lone surrogates cannot be stored (PostgreSQL refuses them): say so, not 500.
        if "\x00" in value or not _encodable(value):
            raise ValidationFailed(_l("“%(field)s” contains characters that are not allowed.", field=name),
                                   field=name)
        if self.pattern is not None and not self.pattern.fullmatch(value):
            raise ValidationFailed(self.pattern_message, field=name)
        return value

    def schema(self) -> dict[str, Any]:
        schema = {**super().schema(), "maxLength": self.max_length}
        if self.pattern is not None:
            schema["pattern"] = f"^{self.pattern.pattern.lstrip('^').rstrip('$')}$"
        return schema


def _encodable(value: str) -> bool:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Flag(Field):
    kind = "boolean"

    def from_json(self, name: str, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValidationFailed(_l("“%(field)s” must be true or false.", field=name), field=name)
        return value

    def from_text(self, name: str, raw: str) -> bool:
        if raw.lower() in ("1", "true"):
            return True
        if raw.lower() in ("0", "false"):
            return False
        raise ValidationFailed(_l("“%(field)s” must be true or false.", field=name), field=name)


class Choice(Field):
    def __init__(self, values: list[str], description: str = "", **kwargs: Any) -> None:
        super().__init__(description, **kwargs)
        self.values = list(values)

    def from_json(self, name: str, value: Any) -> str:
        if not isinstance(value, str) or value not in self.values:
            raise ValidationFailed(_l("“%(field)s” must be one of: %(choices)s.", field=name,
                                      choices=", ".join(self.values)), field=name)
        return value

    def schema(self) -> dict[str, Any]:
        return {**super().schema(), "enum": self.values}


class Fields:
    """The fields a JSON body or a query string may carry. ``ignore`` names fields that are
    accepted and dropped (e.g. prices a client sends with an order: the server computes them)."""

    def __init__(self, fields: dict[str, Field], *, ignore: Callable[[str], bool] | None = None) -> None:
        self.fields = fields
        self.ignore = ignore or (lambda name: False)

    def load(self, data: Mapping[str, Any], *, text: bool = False) -> dict[str, Any]:
        for name in data:
            if name not in self.fields and not self.ignore(name):
                raise UnknownField(_l("Unknown field “%(field)s”.", field=str(name)[:64]), field=str(name)[:64])
        values: dict[str, Any] = {}
        for name, field in self.fields.items():
            if name not in data:
                if field.required:
                    raise ValidationFailed(_l("“%(field)s” is required.", field=name), field=name)
                values[name] = field.default
                continue
            values[name] = field.from_text(name, data[name]) if text else field.from_json(name, data[name])
        return values

    def json_schema(self) -> dict[str, Any]:
        return {
            "type": "object",
            "properties": {name: field.schema() for name, field in self.fields.items()},
            "required": [name for name, field in self.fields.items() if field.required],
            "additionalProperties": False,
        }

    def parameters(self) -> list[dict[str, Any]]:
        return [{"name": name, "in": "query", "required": field.required, "schema": field.schema(),
                 **({"description": field.description} if field.description else {})}
                for name, field in self.fields.items()]


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise BadRequest(_l("“%(field)s” is given more than once.", field=key[:64]), field=key[:64])
        data[key] = value
    return data


def json_body(fields: Fields, *, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object, checked against ``fields``. ``optional``: no body at all is
    the same as ``{}``."""
    request.max_content_length = MAX_BODY_BYTES
    raw = request.get_data(cache=True)
    if optional and not raw.strip():
        return fields.load({})
    if not request.is_json:
        raise BadRequest(_l("Send a JSON object with the header “Content-Type: application/json”."))
    try:
        data = json.loads(raw, object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError):  # includes UnicodeDecodeError
        raise BadRequest(_l("The request body is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise BadRequest(_l("The request body must be a JSON object."))
    return fields.load(data)


def query(fields: Fields) -> dict[str, Any]:
    """The query string, checked against ``fields`` (empty values count as absent)."""
    data: dict[str, str] = {}
    for name, values in request.args.lists():
        if len(values) > 1:
            raise BadRequest(_l("“%(field)s” is given more than once.", field=name[:64]), field=name[:64])
        if values[0] != "":
            data[name] = values[0]
        elif name not in fields.fields:
            data[name] = ""  # still an unknown field
    return fields.load(data, text=True)


# --- writing output ------------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    """A UTC time as ISO-8601 with "Z" (whole seconds)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def names(obj: Any) -> dict[str, str]:
    return {"name_zh": obj.name_zh, "name_en": obj.name_en}


def user(u: Any) -> dict[str, Any]:
    return {"id": u.id, "mobile": u.mobile, "name": u.name, "role": u.role.value, "locale": u.locale}


def category(c: Any) -> dict[str, Any]:
    return {"id": c.id, "slug": c.slug, **names(c), "icon": c.icon, "parent_id": c.parent_id}


def town(t: Any) -> dict[str, Any]:
    return {"id": t.id, "code": t.code, **names(t)}


def village(v: Any) -> dict[str, Any]:
    return {"id": v.id, "code": v.code, "town_id": v.town_id, **names(v)}


def product(p: Any) -> dict[str, Any]:
    return {
        "id": p.id, "sku": p.sku, **names(p), "unit_zh": p.unit_zh, "unit_en": p.unit_en,
        "price_fen": p.price_fen, "weight_g": p.weight_g, "certification_type": p.certification_type.value,
        "featured": p.featured,
        "category": {"id": p.category.id, "slug": p.category.slug, **names(p.category)},
        "cooperative": {"id": p.cooperative.id, **names(p.cooperative)},
    }


def product_detail(p: Any, stock: Any, fastest: Any, window_names: dict[str, Any]) -> dict[str, Any]:
    village = p.cooperative.village
    return {
        **product(p),
        "description_zh": p.description_zh, "description_en": p.description_en,
        "shelf_life_days": p.shelf_life_days, "certification_no": p.certification_no,
        "handling_flags": list(p.handling_flags or []),
        "origin": {"village_id": village.id, **names(village)},
        "stock": {"available": stock.available, "at_warehouse": stock.at_warehouse,
                  "at_cooperative": stock.at_cooperative},
        "fastest_delivery": None if fastest is None else {
            **_window(fastest.code, window_names), "deadline_at": iso(fastest.deadline_at),
            "eta_at": iso(fastest.eta_at), "fee_fen": fastest.fee_fen,
        },
    }


def _window(code: str, window_names: dict[str, Any]) -> dict[str, Any]:
    found = window_names.get(code)
    return {"window": code, "window_name_zh": found.name_zh if found else code,
            "window_name_en": found.name_en if found else code}


def window_quote(q: Any, window_names: dict[str, Any]) -> dict[str, Any]:
    return {
        **_window(q.code, window_names), "feasible": q.feasible, "reason_code": q.reason_code,
        "reason": q.reason or None, "fee_fen": q.fee_fen, "deadline_at": iso(q.deadline_at),
        "eta_at": iso(q.eta_at),
    }


def address(a: Any) -> dict[str, Any]:
    from ..geo import services as geo

    v = a.village
    return {
        "id": a.id, "village": {"id": v.id, **names(v)}, "town": {"id": v.town.id, **names(v.town)},
        "detail": a.detail, "recipient_name": a.recipient_name, "recipient_mobile": a.recipient_mobile,
        "is_default": a.is_default, "text_zh": geo.full_text(a), "text_en": geo.full_text(a, english=True),
    }


def cart(view: Any) -> dict[str, Any]:
    return {
        "items": [{"product": product(line.product), "quantity": line.quantity, "available": line.available,
                   "line_total_fen": line.total_fen, "short": line.short} for line in view.lines],
        "count": view.count, "subtotal_fen": view.subtotal_fen, "has_shortage": view.has_shortage,
    }


def order(o: Any, cancellable: bool) -> dict[str, Any]:
    w = o.window_class
    return {
        "number": o.number, "status": o.status.value, "payment_method": o.payment_method.value,
        "window": w.code, "window_name_zh": w.name_zh, "window_name_en": w.name_en,
        "placed_at": iso(o.placed_at), "deadline_at": iso(o.deadline_at),
        "promised_eta_at": iso(o.promised_eta_at), "delivered_at": iso(o.delivered_at),
        "subtotal_fen": o.subtotal_fen, "delivery_fee_fen": o.delivery_fee_fen, "total_fen": o.total_fen,
        "cancellable": cancellable,
        "lines": [{"product_id": line.product_id, "name_zh": line.product_name_zh, "name_en": line.product_name_en,
                   "unit_price_fen": line.unit_price_fen, "quantity": line.quantity,
                   "line_total_fen": line.line_total_fen} for line in o.lines],
    }


def order_detail(o: Any, cancellable: bool, tracking: Any, payment_url: str | None = None) -> dict[str, Any]:
    return {
        **order(o, cancellable),
        "recipient_name": o.recipient_name, "recipient_mobile": o.recipient_mobile, "address_text": o.address_text,
        "payment_expires_at": iso(o.payment_expires_at), "cancel_reason": o.cancel_reason or None,
        "payment_url": payment_url,
        "tracking": None if tracking is None else {
            "eta_at": iso(tracking.eta_at), "vehicle_plate": tracking.vehicle_plate,
            "stops_before": tracking.stops_before, "stops_done": tracking.stops_done,
        },
        "events": [{"kind": e.kind, "from_status": e.from_status, "to_status": e.to_status, "at": iso(e.created_at)}
                   for e in o.events],
        "compensations": [{"kind": c.kind.value, "amount_fen": c.amount_fen, "reason": c.reason,
                           "at": iso(c.created_at)} for c in o.compensations],
    }
