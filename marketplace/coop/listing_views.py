"""Listings: create and edit products with photos and certification; revisions go to the operator."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import uploads
from ..catalog import rules
from ..errors import DomainError
from . import listings, services
from .listing_forms import ListingForm, PhotosForm
from .views import bp

LISTING_ENDPOINTS = ("coop.listing_new", "coop.listing_edit", "coop.listing_photos_add")


def _coop_id() -> int:
    return services.cooperative_of(current_user).id


def _pictures(name: str) -> list[bytes]:
    """The files posted as ``name`` (empty file inputs left out). A name with a folder in it is
    refused: the stored file's name is always generated, and a browser never sends one."""
    pictures = []
    for upload in request.files.getlist(name):
        if upload is None or (not upload.filename and not upload.content_length):
            continue
        filename = upload.filename or ""
        if "/" in filename or "\\" in filename or "\x00" in filename or filename.startswith(".."):
            raise uploads.PhotoRefused(_l("The file name contains a folder path. Choose the picture itself."),
                                       field=name)
        data = uploads.read_upload(upload.stream)
        if data:
            pictures.append(data)
    return pictures


def _send(path):
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


def _show_error(form: ListingForm, error: DomainError) -> None:
    field = getattr(form, error.field or "", None)
    if field is not None and hasattr(field, "errors") and error.field != "csrf_token":
        field.errors = [*field.errors, error.message] if isinstance(field.errors, list) else [error.message]
    else:
        flash(error.message, "error")


def _submitted_message(outcome: listings.Submitted) -> None:
    if outcome.held:
        flash(_("Saved. The listing is held for the operator's review: %(holds)s",
                holds="; ".join(rules.describe(h) for h in outcome.revision.holds)), "error")
    elif outcome.revision is not None and outcome.revision.is_new:
        flash(_("Saved. The operator reviews the new listing before it is sold."), "info")
    elif outcome.revision is not None:
        flash(_("Saved. Price, names and certification wait for the operator's approval; the shop sells the "
                "approved version meanwhile."), "info")
    elif outcome.applied:
        flash(_("Saved. The changes are in the shop now."), "success")
    else:
        flash(_("Nothing changed."), "info")


@bp.get("/listings", endpoint="listings")
def listings_page():
    return render_template("coop/listings.html", rows=listings.listings_of(_coop_id()), describe=rules.describe)



@bp.route("/listings/new", methods=["GET", "POST"])
def listing_new():
    coop_id = _coop_id()
    form = ListingForm()
    form.set_categories(listings.categories())
    status = 200
    if form.validate_on_submit():
        try:
            outcome = listings.create_listing(coop_id, current_user.id, form.values(),
                                              certificate=next(iter(_pictures("certificate")), None),
                                              photos=_pictures("photos"))
        except DomainError as error:
            _show_error(form, error)
        else:
            _submitted_message(outcome)
            return redirect(url_for("coop.listing_edit", product_id=outcome.product.id))
        status = 422
    elif form.is_submitted():
        status = 422
    return render_template("coop/listing_form.html", form=form, product=None, photos_form=None,
                           handling_names=listings.HANDLING_FLAGS), status


@bp.route("/listings/<int:product_id>/edit", methods=["GET", "POST"])
def listing_edit(product_id: int):
    coop_id = _coop_id()
    product = services.own_product(coop_id, product_id)
    form = ListingForm()
    form.set_categories(listings.categories())
    status = 200
    if form.validate_on_submit():
        try:
            outcome = listings.update_listing(coop_id, current_user.id, product_id, form.values(),
                                              certificate=next(iter(_pictures("certificate")), None))
        except DomainError as error:
            _show_error(form, error)
        else:
            _submitted_message(outcome)
            return redirect(url_for("coop.listing_edit", product_id=product_id))
        status = 422
    elif form.is_submitted():
        status = 422
    else:
        form.fill(listings.proposed_values(product))
    return render_template("coop/listing_form.html", form=form, product=product, photos_form=PhotosForm(),
                           pending=listings.pending_revision(product.id), describe=rules.describe,
                           proposed=listings.proposed_values(product), approved=listings.listing_values(product),
                           field_names=listings.FIELD_NAMES, never_sold=product.status in listings.NEVER_SOLD,
                           max_photos=listings.MAX_PHOTOS, handling_names=listings.HANDLING_FLAGS,
                           category_names=listings.category_names()), status


@bp.post("/listings/<int:product_id>/withdraw")
def listing_withdraw(product_id: int):
    if listings.withdraw(_coop_id(), product_id):
        flash(_("The change was withdrawn. The listing stays as approved."), "info")
    else:
        flash(_("Nothing was waiting for review."), "info")
    return redirect(url_for("coop.listing_edit", product_id=product_id))


@bp.post("/listings/<int:product_id>/photos")
def listing_photos_add(product_id: int):
    coop_id = _coop_id()
    services.own_product(coop_id, product_id)
    form = PhotosForm()
    if form.validate_on_submit():
        try:
            added = listings.add_photos(coop_id, current_user.id, product_id, _pictures("photos"))
        except DomainError as error:
            flash(error.message, "error")
        else:
            flash(_("%(n)d photo(s) added.", n=added), "success")
    else:
        flash(_("The form has expired. Please try again."), "error")
    return redirect(url_for("coop.listing_edit", product_id=product_id) + "#photos")


@bp.post("/listings/<int:product_id>/photos/<int:product_photo_id>/remove")
def listing_photo_remove(product_id: int, product_photo_id: int):
    listings.remove_photo(_coop_id(), product_id, product_photo_id)
    flash(_("Photo removed."), "info")
    return redirect(url_for("coop.listing_edit", product_id=product_id) + "#photos")


@bp.post("/listings/<int:product_id>/photos/<int:product_photo_id>/move")
def listing_photo_move(product_id: int, product_photo_id: int):
    step = {"earlier": -1, "later": 1}.get(request.form.get("direction", ""), 0)
    try:
        listings.move_photo(_coop_id(), product_id, product_photo_id, step)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("coop.listing_edit", product_id=product_id) + "#photos"), 303
    return redirect(url_for("coop.listing_edit", product_id=product_id) + "#photos")


@bp.get("/listings/<int:product_id>/photos/<int:product_photo_id>")
def listing_photo(product_id: int, product_photo_id: int):
    product = services.own_product(_coop_id(), product_id)
    return _send(listings.photo_path(product, product_photo_id))


@bp.get("/listings/<int:product_id>/certificates/<certificate_id>")
def listing_certificate(product_id: int, certificate_id: str):
    product = services.own_product(_coop_id(), product_id)
    return _send(listings.certificate_path(product, certificate_id))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A request far beyond the limit (refused before it is read): say so on the form."""
    if request.endpoint in LISTING_ENDPOINTS:
        flash(uploads.too_large_message(), "error")
        product_id = (request.view_args or {}).get("product_id")
        if product_id is not None:
            return redirect(url_for("coop.listing_edit", product_id=product_id))
        return redirect(url_for("coop.listing_new"))
    return error
