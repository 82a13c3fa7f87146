"""The address form: county → town → village from the gazetteer, detail line, recipient."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..inputs import choice_id, mobile_validator


class AddressForm(FlaskForm):
    town_id = SelectField(_l("Town"), coerce=choice_id, validators=[DataRequired(_l("Choose your town and village."))])
    village_id = SelectField(_l("Village"), coerce=choice_id, validate_choice=False,
                             validators=[DataRequired(_l("Choose your town and village."))])
    detail = StringField(_l("Street, house number or landmark"), validators=[
        DataRequired(_l("Enter the street, house number or landmark (2–200 characters).")),
        Length(min=2, max=200, message=_l("Enter the street, house number or landmark (2–200 characters)."))])
    recipient_name = StringField(_l("Recipient"), validators=[
        DataRequired(_l("Enter the recipient's name.")), Length(max=64, message=_l("At most 64 characters."))])
    recipient_mobile = StringField(_l("Recipient's mobile number"), validators=[
        DataRequired(_l("Please enter your mobile number.")),
        mobile_validator(_l("Enter an 11-digit mainland mobile number, e.g. 13912345678."))],
        render_kw={"inputmode": "numeric", "maxlength": 11})
    make_default = BooleanField(_l("Use as my default address"))
