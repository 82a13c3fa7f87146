"""The consumer's delivery addresses, and the gazetteer lookup the address form uses."""

from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..auth.access import AREA_ROLES, guard_blueprint
from ..errors import DomainError
from ..i18n import localized
from ..inputs import parse_id, safe_next
from . import services
from .forms import AddressForm

bp = Blueprint("addresses", __name__, url_prefix="/addresses", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["orders"], public_endpoints=["villages"])


def _form() -> AddressForm:
    form = AddressForm()
    form.town_id.choices = [(0, _("Choose a town"))] + [(t.id, localized(t)) for t in services.towns()]
    town_id = form.town_id.data if form.is_submitted() else request.args.get("town", type=parse_id)
    villages = services.villages_of(town_id) if town_id else []
    form.village_id.choices = [(0, _("Choose a village"))] + [(v.id, localized(v)) for v in villages]
    if not form.is_submitted() and current_user.is_authenticated and not form.recipient_mobile.data:
        form.recipient_mobile.data = current_user.mobile
        form.recipient_name.data = current_user.name
    return form


@bp.get("/")
def index():
    return render_template("geo/index.html", addresses=services.addresses_of(current_user.id))


@bp.route("/new", methods=["GET", "POST"])
def new():
    form = _form()
    status = 200
    if form.validate_on_submit():
        try:
            services.add_address(current_user.id, village_id=form.village_id.data, detail=form.detail.data,
                                 recipient_name=form.recipient_name.data,
                                 recipient_mobile=form.recipient_mobile.data, make_default=form.make_default.data)
        except DomainError as error:
            field = getattr(form, error.field or "", None)
            (field.errors.append if field is not None else lambda m: flash(m, "error"))(error.message)
            status = error.status
        else:
            flash(_("Address saved."), "success")
            return redirect(safe_next(request.args.get("next"), url_for(".index")))
    elif form.is_submitted():
        status = 422
    return render_template("geo/new.html", form=form), status


@bp.post("/<int:address_id>/delete")
def delete(address_id: int):
    services.delete_address(current_user.id, address_id)
    flash(_("Address removed."), "info")
    return redirect(url_for(".index"))


@bp.get("/villages")
def villages():
    """Villages of a town, for the address form's second list (JSON)."""
    town_id = request.args.get("town", type=parse_id)
    return jsonify([{"id": v.id, "name": localized(v)} for v in services.villages_of(town_id or 0)])
