"""Forms of the complaint area: the consumer's (or a phone call's) complaint, and the console's
actions. Each form that changes something once carries an idempotency key in a hidden field."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from ..labels import LABELS
from . import services


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:  # the service checks the lines belong to the order
        pass


def _categories():
    return [(key, label) for key, label in LABELS["complaint_category_names"].items()]


class ComplaintForm(FlaskForm):
    category = RadioField(_l("What went wrong?"), choices=_categories(),
                          validators=[DataRequired(_l("Choose what went wrong."))])
    lines = _Checkboxes(_l("Which items? (optional)"), coerce=int, validators=[Optional()])
    text = TextAreaField(_l("What happened?"), filters=[_strip], validators=[
        DataRequired(_l("Tell us what happened.")),
        Length(min=services.TEXT_MIN, max=services.TEXT_MAX,
               message=_l("Between %(min)d and %(max)d characters.", min=services.TEXT_MIN, max=services.TEXT_MAX))],
        render_kw={"rows": 5, "maxlength": services.TEXT_MAX})
    photos = MultipleFileField(_l("Photos (up to 3)"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
    idempotency_key = HiddenField()

    def validate_photos(self, field) -> None:
        files = [f for f in (field.data or []) if getattr(f, "filename", "")]
        if len(files) > services.MAX_PHOTOS:
            raise ValidationError(_l("At most %(n)d photos.", n=services.MAX_PHOTOS))


class KeyForm(FlaskForm):
    """A bare action (CSRF only)."""


class StatusForm(FlaskForm):
    status = HiddenField(validators=[DataRequired()])


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the customer"), filters=[_strip], validators=[
        DataRequired(_l("Write something first.")), Length(max=services.REPLY_MAX)],
        render_kw={"rows": 3, "maxlength": services.REPLY_MAX})
    status = SelectField(_l("and set the state to"), validators=[Optional()])


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (never shown to the customer)"), filters=[_strip], validators=[
        DataRequired(_l("Write something first.")), Length(max=services.REPLY_MAX)],
        render_kw={"rows": 2, "maxlength": services.REPLY_MAX})


class MacroForm(FlaskForm):
    macro = SelectField(_l("Macro"), choices=[(m.key, m.label) for m in services.MACROS.values()],
                        validators=[DataRequired()])


class AssignForm(FlaskForm):
    assignee = SelectField(_l("Assign to"), validators=[Optional()])


def _yuan_to_fen(value):
    """'12.5' → 1250; None for anything that is not an amount of yuan with at most 2 decimals."""
    text = (value or "").strip().replace("¥", "").replace("￥", "")
    import re

    match = re.fullmatch(r"(\d{1,7})(?:\.(\d{1,2}))?", text)
    if not match:
        return None
    return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


class MoneyForm(FlaskForm):
    amount = StringField(_l("Amount (yuan)"), filters=[_strip], validators=[DataRequired(_l("Enter an amount."))],
                         render_kw={"inputmode": "decimal", "maxlength": 10, "placeholder": "0.00"})
    note = StringField(_l("Note"), filters=[_strip], validators=[Optional(), Length(max=300)],
                       render_kw={"maxlength": 300})
    idempotency_key = HiddenField()

    def validate_amount(self, field) -> None:
        fen = _yuan_to_fen(field.data)
        if fen is None or fen <= 0:
            raise ValidationError(_l("Enter an amount in yuan, e.g. 12.50."))

    @property
    def fen(self) -> int | None:
        return _yuan_to_fen(self.amount.data)


class ReshipForm(FlaskForm):
    lines = _Checkboxes(_l("Items to send again"), coerce=int)
    window = SelectField(_l("Delivery window"), validators=[DataRequired(_l("Choose a delivery window."))])
    idempotency_key = HiddenField()


class PhoneSearchForm(FlaskForm):
    class Meta:
        csrf = False

    q = StringField(_l("Order number or mobile"), filters=[_strip], validators=[Optional(), Length(max=24)])
