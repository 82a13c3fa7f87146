"""The listing form of the cooperative portal (create and edit a product) and its photo forms."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, MultipleFileField
from wtforms import (
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    widgets,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from ..catalog.models import CertificationType
from ..inputs import choice_id
from ..labels import LABELS
from .listings import HANDLING_FLAGS

MAX_PRICE_FEN = 100_000_000  # ¥1,000,000
_YUAN = re.compile(r"[0-9]{1,9}(\.[0-9]{1,2})?")


def yuan_to_fen(text: str) -> int:
    """"12.5" → 1250. At most two decimals, more than zero, at most ¥1,000,000; else ValueError."""
    text = (text or "").strip().replace("¥", "").replace("￥", "").replace(",", "")
    if not _YUAN.fullmatch(text):  # digits only: no exponent, sign, NaN or full-width digits
        raise ValueError(text)
    amount = Decimal(text)
    fen = int(amount * 100)
    if not 0 < fen <= MAX_PRICE_FEN:
        raise ValueError(text)
    return fen


def fen_to_yuan(fen: int | None) -> str:
    if fen is None:
        return ""
    return f"{fen // 100}.{fen % 100:02d}"


class PriceField(StringField):
    """A price typed in yuan (12.50), kept as integer fen in ``fen``."""

    fen: int | None = None

    def process_formdata(self, valuelist: list[Any]) -> None:
        super().process_formdata(valuelist)
        try:
            self.fen = yuan_to_fen(self.data or "")
        except ValueError:
            self.fen = None

    def pre_validate(self, form) -> None:
        if self.fen is None:
            raise ValidationError(_l("Enter the price in yuan, e.g. 38 or 38.50 (more than 0, at most 2 decimals)."))


class CheckboxesField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form) -> None:
        allowed = {value for value, _label in self.choices}
        if any(value not in allowed for value in self.data or []):
            raise ValidationError(_l("Choose handling flags from the list."))


def _text(label, max_length: int, required: bool = True, area: bool = False):
    message = _l("Enter %(what)s (at most %(n)d characters).", what=label, n=max_length)
    validators = [DataRequired(message) if required else Optional(), Length(max=max_length, message=message)]
    return (TextAreaField if area else StringField)(label, validators=validators)


class ListingForm(FlaskForm):
    category_id = SelectField(_l("Category"), coerce=choice_id,
                              validators=[DataRequired(_l("Choose a category."))])
    name_zh = _text(_l("Name (Chinese)"), 128)
    name_en = _text(_l("Name (English)"), 200)
    description_zh = _text(_l("Description (Chinese)"), 4000, required=False, area=True)
    description_en = _text(_l("Description (English)"), 4000, required=False, area=True)
    unit_zh = _text(_l("Unit (Chinese), e.g. 袋(500克)"), 32)
    unit_en = _text(_l("Unit (English), e.g. bag (500 g)"), 64)
    price = PriceField(_l("Price per unit (yuan)"), render_kw={"inputmode": "decimal", "maxlength": 16})
    weight_g = IntegerField(_l("Weight per unit, packed (g)"), validators=[
        InputRequired(_l("Enter the weight in grams (1–100000).")),
        NumberRange(1, 100_000, _l("Enter the weight in grams (1–100000)."))], render_kw={"inputmode": "numeric"})
    volume_cm3 = IntegerField(_l("Volume per unit, packed (cm³)"), validators=[
        InputRequired(_l("Enter the volume in cm³ (1–1000000).")),
        NumberRange(1, 1_000_000, _l("Enter the volume in cm³ (1–1000000)."))], render_kw={"inputmode": "numeric"})
    shelf_life_days = IntegerField(_l("Shelf life (days, empty if it keeps)"), validators=[
        Optional(), NumberRange(1, 3650, _l("Enter the shelf life in days (1–3650), or leave it empty."))],
        render_kw={"inputmode": "numeric"})
    handling_flags = CheckboxesField(_l("Handling"), choices=list(HANDLING_FLAGS.items()),
                                     validate_choice=True)
    certification_type = SelectField(_l("Certification"), choices=list(LABELS["cert_names"].items()),
                                     default=CertificationType.NONE.value)
    certification_no = StringField(_l("Certification number"), validators=[
        Length(max=48, message=_l("At most 48 characters."))])
    certificate = FileField(_l("Certificate scan (JPEG, PNG or WebP; only you and the operators see it)"),
                            render_kw={"accept": "image/jpeg,image/png,image/webp"})
    photos = MultipleFileField(_l("Photos (JPEG, PNG or WebP; the first is the cover)"),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})

    def set_categories(self, categories) -> None:
        from ..i18n import localized

        self.category_id.choices = [(0, _l("Choose a category"))] + [(c.id, localized(c)) for c in categories]

    def fill(self, values: dict[str, Any]) -> None:
        """Show ``values`` (a product's or its pending revision's) in the form."""
        for name in ("category_id", "name_zh", "name_en", "description_zh", "description_en", "unit_zh",
                     "unit_en", "weight_g", "volume_cm3", "shelf_life_days", "handling_flags",
                     "certification_type", "certification_no"):
            getattr(self, name).data = values[name]
        self.price.data = fen_to_yuan(values["price_fen"])

    def values(self) -> dict[str, Any]:
        return {
            "category_id": self.category_id.data, "name_zh": self.name_zh.data, "name_en": self.name_en.data,
            "description_zh": self.description_zh.data or "", "description_en": self.description_en.data or "",
            "unit_zh": self.unit_zh.data, "unit_en": self.unit_en.data, "price_fen": self.price.fen,
            "weight_g": self.weight_g.data, "volume_cm3": self.volume_cm3.data,
            "shelf_life_days": self.shelf_life_days.data, "handling_flags": list(self.handling_flags.data or []),
            "certification_type": self.certification_type.data, "certification_no": self.certification_no.data or "",
        }


class PhotosForm(FlaskForm):
    photos = MultipleFileField(_l("Add photos"), render_kw={"accept": "image/jpeg,image/png,image/webp"})
