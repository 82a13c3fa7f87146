"""Sign-up, sign-in and password forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Regexp, ValidationError

from ..inputs import mobile_validator
from .services import password_problem


def _strong_password(form: FlaskForm, field: PasswordField) -> None:
    problem = password_problem(field.data or "")
    if problem:
        raise ValidationError(problem)


mobile_field = StringField(
    _l("Mobile number"),
    validators=[
        DataRequired(_l("Please enter your mobile number.")),
        mobile_validator(_l("Enter an 11-digit mainland mobile number, e.g. 13912345678.")),
    ],
    filters=[lambda value: value.strip().replace(" ", "") if value else value],
    render_kw={"inputmode": "numeric", "autocomplete": "tel", "maxlength": 11},
)


code_field = StringField(
    _l("Code from the text message"),
    validators=[DataRequired(_l("Enter the 6-digit code we texted you.")),
                Regexp(r"^[0-9]{6}$", message=_l("Enter the 6-digit code we texted you."))],
    filters=[lambda value: value.strip() if value else value],
    render_kw={"inputmode": "numeric", "autocomplete": "one-time-code", "maxlength": 6},
)


def new_password_field(label) -> PasswordField:
    """A password being chosen: required and strong enough."""
    return PasswordField(label, validators=[DataRequired(_l("Please choose a password.")), _strong_password],
                         render_kw={"autocomplete": "new-password"})


def confirm_field(label) -> PasswordField:
    """The chosen password typed again (the form's ``password`` field)."""
    return PasswordField(label, validators=[EqualTo("password", message=_l("The two passwords do not match."))],
                         render_kw={"autocomplete": "new-password"})


class RequestCodeForm(FlaskForm):
    mobile = mobile_field


class RegisterForm(FlaskForm):
    mobile = mobile_field
    code = code_field
    name = StringField(
        _l("Name"),
        validators=[Length(max=64, message=_l("At most 64 characters."))],
        filters=[lambda value: value.strip() if value else ""],
        render_kw={"autocomplete": "name"},
    )
    password = new_password_field(_l("Password"))
    confirm = confirm_field(_l("Repeat password"))


class LoginForm(FlaskForm):
    mobile = mobile_field
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(_l("Please enter your password."))],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in"))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Current password"),
        validators=[DataRequired(_l("Please enter your current password."))],
        render_kw={"autocomplete": "current-password"},
    )
    password = new_password_field(_l("New password"))
    confirm = confirm_field(_l("Repeat new password"))


class ResetPasswordForm(FlaskForm):
    mobile = mobile_field
    code = code_field
    password = new_password_field(_l("New password"))
    confirm = confirm_field(_l("Repeat new password"))
