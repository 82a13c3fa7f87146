"""Forms of the operator's fleet pages. They render the fields and carry the CSRF token; the rules
(every field's, with one clear message each) are checked by :mod:`.fleet`, whose errors are put
back on these fields, so the pages and the services cannot disagree."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    HiddenField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.widgets import CheckboxInput, ListWidget

YES_NO = [("1", _l("Yes")), ("0", _l("No"))]


class CheckboxesField(SelectMultipleField):
    """Several choices as check boxes (zones a warehouse serves)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()

    def pre_validate(self, form) -> None:  # the service says which choices are wrong
        pass


class LooseSelectField(SelectField):
    """A select whose value the service checks (a stale choice gets its message, not WTForms')."""

    def pre_validate(self, form) -> None:
        pass


class UserFilterForm(FlaskForm):
    class Meta:
        csrf = False

    role = LooseSelectField(_l("Role"))
    q = StringField(_l("Name or mobile"), render_kw={"maxlength": 64, "type": "search"})


class NewUserForm(FlaskForm):
    once = HiddenField()
    role = LooseSelectField(_l("Role"))
    name = StringField(_l("Name"), render_kw={"maxlength": 64, "autocomplete": "off"})
    mobile = StringField(_l("Mobile number"), render_kw={"inputmode": "numeric", "maxlength": 13,
                                                         "autocomplete": "off"})
    cooperative_id = LooseSelectField(_l("Cooperative (for a cooperative head)"))
    password = PasswordField(_l("Temporary password"), render_kw={"autocomplete": "new-password"})
    confirm = PasswordField(_l("Repeat the temporary password"), render_kw={"autocomplete": "new-password"})


class UserRoleForm(FlaskForm):
    role = LooseSelectField(_l("Role"))
    cooperative_id = LooseSelectField(_l("Cooperative (for a cooperative head)"))


class ActiveForm(FlaskForm):
    """Sets the active flag to the value posted (a second submission changes nothing)."""

    active = HiddenField()


class WarehouseForm(FlaskForm):
    once = HiddenField()
    code = StringField(_l("Code"), render_kw={"maxlength": 12, "placeholder": "W-XY", "autocomplete": "off"})
    name_zh = StringField(_l("Name (Chinese)"), render_kw={"maxlength": 128})
    name_en = StringField(_l("Name (English)"), render_kw={"maxlength": 200})
    address_zh = StringField(_l("Address"), render_kw={"maxlength": 200})
    village_id = LooseSelectField(_l("Village"))
    lat = StringField(_l("Latitude (°N)"), render_kw={"inputmode": "decimal", "maxlength": 12})
    lon = StringField(_l("Longitude (°E)"), render_kw={"inputmode": "decimal", "maxlength": 12})
    active = LooseSelectField(_l("Active"), choices=YES_NO, default="1")
    zone_ids = CheckboxesField(_l("Zones it serves"))


class VehicleForm(FlaskForm):
    once = HiddenField()
    plate = StringField(_l("Number plate"), render_kw={"maxlength": 12, "placeholder": "浙K·D3A617",
                                                        "autocomplete": "off"})
    kind = LooseSelectField(_l("Kind"))
    warehouse_id = LooseSelectField(_l("Warehouse"))
    driver_id = LooseSelectField(_l("Driver"))
    capacity_kg = StringField(_l("Load capacity (kg)"), render_kw={"inputmode": "decimal", "maxlength": 12})
    capacity_l = StringField(_l("Load space (litres)"), render_kw={"inputmode": "decimal", "maxlength": 12})
    speed_kmh = StringField(_l("Average speed (km/h)"), render_kw={"inputmode": "numeric", "maxlength": 3})
    shift_start = StringField(_l("Shift starts (Beijing time)"), render_kw={"type": "time"})
    shift_end = StringField(_l("Shift ends (Beijing time)"), render_kw={"type": "time"})
    active = LooseSelectField(_l("In service"), choices=YES_NO, default="1")


class DriverForm(FlaskForm):
    once = HiddenField()
    name = StringField(_l("Name"), render_kw={"maxlength": 64})
    mobile = StringField(_l("Mobile number"), render_kw={"inputmode": "numeric", "maxlength": 13})
    user_id = LooseSelectField(_l("Account they sign in with"))
    vehicle_id = LooseSelectField(_l("Vehicle"))
    active = LooseSelectField(_l("Active"), choices=YES_NO, default="1")


class WindowClassForm(FlaskForm):
    name_zh = StringField(_l("Name (Chinese)"), render_kw={"maxlength": 32})
    name_en = StringField(_l("Name (English)"), render_kw={"maxlength": 64})
    fee = StringField(_l("Fee (yuan)"), render_kw={"inputmode": "decimal", "maxlength": 10})
    steps = TextAreaField(_l("Compensation steps"), render_kw={"rows": 5})
    cap = StringField(_l("Compensation cap (yuan)"), render_kw={"inputmode": "decimal", "maxlength": 10})
    active = LooseSelectField(_l("Offered"), choices=YES_NO, default="1")
