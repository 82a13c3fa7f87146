"""Forms of the operator's cooperative pages (the fleet's forms are in fleet_forms.py)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from ..auth.services import password_problem
from ..columns import utcnow
from ..i18n import LOCAL_TZ
from ..inputs import choice_id, mobile_validator
from .coops import REASON_MAX, licence_problem, normalize_licence


def _strip(value):
    return value.strip() if isinstance(value, str) else value


def _licence(form: FlaskForm, field: StringField) -> None:
    problem = licence_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


def _not_in_future(form: FlaskForm, field: DateField) -> None:
    if field.data and field.data > utcnow().astimezone(LOCAL_TZ).date():
        raise ValidationError(_l("The founding date cannot be in the future."))


SPECIALTIES = [
    ("bamboo_charcoal", _l("Bamboo charcoal")), ("dried_goods", _l("Dried goods")), ("tea", _l("Tea")),
    ("other", _l("Other")),
]


class ReasonForm(FlaskForm):
    """Approve, suspend or reinstate: the reason is required."""

    reason = TextAreaField(_l("Reason"), filters=[_strip], validators=[
        DataRequired(_l("Give a reason (it is shown in the history and the audit log).")),
        Length(min=2, max=REASON_MAX, message=_l("Between 2 and %(max)d characters.", max=REASON_MAX))],
        render_kw={"rows": 2, "maxlength": REASON_MAX})


class CooperativeForm(FlaskForm):
    code = StringField(_l("Code"), filters=[lambda v: v.strip().upper() if v else v], validators=[
        DataRequired(_l("Enter a code, e.g. C13.")), Length(max=12, message=_l("At most 12 characters."))],
        render_kw={"maxlength": 12, "autocapitalize": "characters"})
    name_zh = StringField(_l("Name (Chinese)"), filters=[_strip], validators=[
        DataRequired(_l("Enter the registered name.")), Length(max=128, message=_l("At most 128 characters."))])
    name_en = StringField(_l("Name (English)"), filters=[_strip], validators=[
        Length(max=200, message=_l("At most 200 characters."))])
    licence_no = StringField(_l("Unified social credit code"), filters=[normalize_licence], validators=[
        DataRequired(_l("Enter the 18-character unified social credit code from the business licence.")), _licence],
        render_kw={"maxlength": 22, "autocapitalize": "characters", "spellcheck": "false"})
    village_id = SelectField(_l("Village"), coerce=choice_id,
                             validators=[DataRequired(_l("Choose the cooperative's village."))])
    specialty = SelectField(_l("Specialty"), choices=SPECIALTIES, default="other")
    head_name = StringField(_l("Head's name"), filters=[_strip], validators=[
        DataRequired(_l("Enter the head's name.")), Length(max=64, message=_l("At most 64 characters."))])
    head_mobile = StringField(_l("Head's mobile number"),
                              filters=[lambda v: v.strip().replace(" ", "") if v else v], validators=[
        DataRequired(_l("Please enter the head's mobile number.")),
        mobile_validator(_l("Enter an 11-digit mainland mobile number, e.g. 13912345678."))],
        render_kw={"inputmode": "numeric", "maxlength": 11})
    founded_on = DateField(_l("Founded on"), validators=[Optional(), _not_in_future],
                           render_kw={"max": "9999-12-31"})
    description_zh = TextAreaField(_l("Description (Chinese)"), filters=[_strip], validators=[
        Length(max=2000, message=_l("At most 2000 characters."))], render_kw={"rows": 3})
    description_en = TextAreaField(_l("Description (English)"), filters=[_strip], validators=[
        Length(max=2000, message=_l("At most 2000 characters."))], render_kw={"rows": 3})
    create_account = BooleanField(_l("Create the head's account now (signs in with the mobile number)"))
    head_password = PasswordField(_l("Temporary password for the head"), render_kw={"autocomplete": "new-password"})

    def validate_head_password(self, field: PasswordField) -> None:
        if not self.create_account.data:
            return
        problem = password_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
