"""Forms of the cooperative's stock pages: a batch, an adjustment, a low-stock threshold."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from ..inputs import choice_id
from .stock import ADJUST_REASONS, MAX_UNITS


class BatchForm(FlaskForm):
    product_id = SelectField(_l("Product"), coerce=choice_id,
                             validators=[DataRequired(_l("Choose the product."))])
    production_date = DateField(_l("Production date"), validators=[
        InputRequired(_l("Enter the production date as year-month-day, e.g. 2026-12-01."))])
    origin_village_id = SelectField(_l("Origin village"), coerce=choice_id,
                                    validators=[DataRequired(_l("Choose a village of the county."))])
    quantity = IntegerField(_l("Quantity (units)"), validators=[
        InputRequired(_l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS)),
        NumberRange(1, MAX_UNITS, _l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS))],
        render_kw={"inputmode": "numeric", "min": 1, "max": MAX_UNITS})


class AdjustForm(FlaskForm):
    reason = SelectField(_l("Reason"), choices=list(ADJUST_REASONS.items()),
                         validators=[DataRequired(_l("Choose a reason."))])
    quantity = IntegerField(_l("Units"), description=_l(
        "Count: the number on hand now. Damaged, spoiled: units to take off. Found: units to add. "
        "Other: the change, negative to take off."), validators=[
        InputRequired(_l("Enter a number of units.")),
        NumberRange(-MAX_UNITS, MAX_UNITS, _l("Enter a quantity from 1 to %(most)d.", most=MAX_UNITS))],
        render_kw={"inputmode": "numeric"})
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200, message=_l("At most 200 characters."))])


class ThresholdForm(FlaskForm):
    threshold = IntegerField(_l("Warn at or below"), validators=[
        InputRequired(_l("Enter a threshold from 0 to %(most)d.", most=MAX_UNITS)),
        NumberRange(0, MAX_UNITS, _l("Enter a threshold from 0 to %(most)d.", most=MAX_UNITS))],
        render_kw={"inputmode": "numeric", "min": 0, "max": MAX_UNITS})
