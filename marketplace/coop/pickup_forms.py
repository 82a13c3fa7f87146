"""Forms of the pick lists, handovers and replenishment pages (the services check again)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, HiddenField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from .pickups import MAX_COUNT, NAME_MAX, NOTE_MAX
from .replenishment import MAX_MOVE

TIME_FORMAT = "%Y-%m-%dT%H:%M"


def _strip(value):
    return " ".join(value.split()) if isinstance(value, str) else value


class HandoverForm(FlaskForm):
    handed_over_by = StringField(
        _l("Handed over by"), filters=[_strip],
        validators=[DataRequired(_l("Enter the name of who handed the goods over.")),
                    Length(max=NAME_MAX, message=_l("The name is too long (at most %(n)d characters).", n=NAME_MAX))],
        render_kw={"autocomplete": "name", "maxlength": NAME_MAX})
    handed_at = DateTimeLocalField(
        _l("Time of the handover"), format=TIME_FORMAT,
        validators=[InputRequired(_l("Enter the time of the handover."))])
    note = TextAreaField(
        _l("Note (optional)"), filters=[_strip],
        validators=[Optional(), Length(max=NOTE_MAX, message=_l("The note is too long (at most %(n)d characters).",
                                                                  n=NOTE_MAX))],
        render_kw={"maxlength": NOTE_MAX, "rows": 2})

    def count_fields(self) -> list:
        return [field for name, field in self._fields.items() if name.startswith("count_")]


def handover_form(items, **kwargs) -> HandoverForm:
    """The handover form with a count per item still to hand over (named count_<n>, in the
    items' order; each field's ``item_key`` tells which)."""
    class Form(HandoverForm):
        pass

    for n, item in enumerate(items):
        setattr(Form, f"count_{n}", IntegerField(
            item.product.name_zh, default=item.quantity,
            validators=[InputRequired(_l("Enter a count for every line.")),
                        NumberRange(min=0, max=MAX_COUNT, message=_l("Enter a count between 0 and %(most)d.",
                                                                     most=MAX_COUNT))],
            render_kw={"inputmode": "numeric", "min": 0, "max": MAX_COUNT}))
    form = Form(**kwargs)
    for n, item in enumerate(items):
        form[f"count_{n}"].item = item
    return form


class AcceptForm(FlaskForm):
    product_id = HiddenField(validators=[DataRequired()])
    warehouse_id = HiddenField(validators=[DataRequired()])
    quantity = IntegerField(
        _l("Quantity"),
        validators=[InputRequired(_l("Enter a quantity.")),
                    NumberRange(min=1, max=MAX_MOVE, message=_l("Enter a quantity between 1 and %(most)d.",
                                                                most=MAX_MOVE))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_MOVE})


class CancelForm(FlaskForm):
    pass
