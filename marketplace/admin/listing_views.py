"""Listing review (approve or reject revisions, with the holds shown) and the prohibited-terms list."""

from __future__ import annotations

import sqlalchemy as sa
from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..catalog import rules
from ..catalog.models import Product, RevisionStatus
from ..coop import listings
from ..coop.models import Cooperative
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..inputs import query_id
from .views import bp


def _send(path):
    response = send_file(path, mimetype="image/jpeg", max_age=3600, conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@bp.get("/listings", endpoint="listings")
def listings_queue():
    status = request.args.get("status", "pending")
    if status not in {s.value for s in RevisionStatus} | {"all"}:
        status = "pending"
    cooperative_id = query_id("cooperative")
    return render_template(
        "admin/listings.html", revisions=listings.review_queue(None if status == "all" else status, cooperative_id),
        status=status, cooperative_id=cooperative_id, describe=rules.describe,
        cooperatives=db.session.scalars(sa.select(Cooperative).order_by(Cooperative.code)).all(),
        status_names=listings.REVISION_STATUS_NAMES, statuses=list(RevisionStatus),
        field_names=listings.FIELD_NAMES)



@bp.get("/listings/<int:revision_id>")
def listing_revision(revision_id: int):
    found = listings.revision(revision_id)
    history = db.session.scalars(
        sa.select(type(found)).where(type(found).product_id == found.product_id, type(found).id != found.id)
        .order_by(type(found).id.desc()).limit(10)).all()
    return render_template(
        "admin/listing_revision.html", revision=found, product=found.product, lines=listings.diff(found),
        describe=rules.describe, field_names=listings.FIELD_NAMES, handling_names=listings.HANDLING_FLAGS,
        category_names=listings.category_names(), status_names=listings.REVISION_STATUS_NAMES, history=history)


@bp.post("/listings/<int:revision_id>/decide")
def listing_decide(revision_id: int):
    listings.revision(revision_id)  # 404 first
    decision = request.form.get("decision", "")
    reason = request.form.get("reason", "")
    try:
        if decision == "approve":
            listings.approve(revision_id, current_user.id, reason)
            flash(_("Approved: the listing is in the shop as approved."), "success")
        elif decision == "reject":
            listings.reject(revision_id, current_user.id, reason)
            flash(_("Rejected. The cooperative sees your reason."), "info")
        else:
            flash(_("Choose approve or reject."), "error")
            return render_revision_again(revision_id, 422)
    except Conflict as error:
        flash(error.message, "info")
        return redirect(url_for("admin.listing_revision", revision_id=revision_id))
    except DomainError as error:
        flash(error.message, "error")
        return render_revision_again(revision_id, error.status, reason=reason)
    return redirect(url_for("admin.listings"))


def render_revision_again(revision_id: int, status: int, reason: str = ""):
    response = listing_revision(revision_id)
    return response, status


@bp.get("/products/<int:product_id>/photos/<int:product_photo_id>")
def product_photo_private(product_id: int, product_photo_id: int):
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return _send(listings.photo_path(product, product_photo_id))


@bp.get("/products/<int:product_id>/certificates/<certificate_id>")
def product_certificate(product_id: int, certificate_id: str):
    product = db.session.get(Product, product_id)
    if product is None:
        raise NotFound()
    return _send(listings.certificate_path(product, certificate_id))


# --- prohibited and restricted terms -------------------------------------------------------------


@bp.route("/terms", methods=["GET", "POST"], endpoint="terms")
def terms_page():
    status = 200
    form = {"term": "", "kind": "prohibited", "category": "wildlife", "note": ""}
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in form}
        try:
            entry = rules.add_term(form["term"], kind=form["kind"], category=form["category"], note=form["note"],
                                   actor_id=current_user.id)
        except DomainError as error:
            db.session.rollback()
            flash(error.message, "error")
            status = 422
        else:
            flash(_("“%(term)s” is on the list: new and changed listings that use it are held.", term=entry.term),
                  "success")
            return redirect(url_for("admin.terms"))
    kind = request.args.get("kind") or None
    return render_template("admin/terms.html", terms=rules.terms(kind), form=form, kind=kind,
                           categories=rules.TERM_CATEGORIES, kinds=rules.TERM_KIND_NAMES), status


@bp.post("/terms/<int:term_id>/active")
def term_active(term_id: int):
    active = request.form.get("active")
    if active not in ("0", "1"):
        flash(_("Choose activate or deactivate."), "error")
        return redirect(url_for("admin.terms")), 303
    entry = rules.set_term_active(term_id, active == "1", actor_id=current_user.id)
    flash(_("“%(term)s” is active again.", term=entry.term) if entry.active
          else _("“%(term)s” is no longer checked.", term=entry.term), "info")
    return redirect(url_for("admin.terms"))

