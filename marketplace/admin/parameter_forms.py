"""Form of the logistics parameters page: undo a change, with a reason."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import DataRequired, Length


class RevertForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[
        DataRequired(_l("Give a reason for the revert.")),
        Length(max=300, message=_l("The reason is too long (at most 300 characters)."))],
        render_kw={"maxlength": 300, "autocomplete": "off"})
