"""Listings: a cooperative head's products, their photos and certificate scans, and the life of a
listing revision (submitted by the head, approved or rejected by an operator).

- A **new product** is created PENDING with a ``ListingRevision(is_new=True)``; it is never sold
  until an operator approves it (then ACTIVE, ``approved_at`` set). Until then the head may edit
  it freely: each submission rewrites the row and replaces the pending revision.
- A **material change** of a product that has been on sale (names, price, certification type,
  number or scan: :data:`MATERIAL`) never touches the product row: it becomes a pending revision
  whose ``changes`` are the proposed values, and the shop keeps selling the approved version. A
  newer submission withdraws the older pending revision (the edit form shows the pending values,
  so nothing proposed is lost).
- **Other changes** (descriptions, unit, weights, shelf life, handling flags, category) apply at
  once, unless the rules (``catalog/rules.py``) hold the submission: then every change waits in
  the held revision. Photos are added, removed and reordered at once.

Approving applies the revision once (a conditional UPDATE on its status: a double-submitted
approve applies it once, the second is told it was decided), re-indexes the names for search and
empties the storefront's page cache of this process. Every decision is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import pagecache, uploads
from ..catalog import rules, search
from ..catalog.models import (
    Category,
    CertificationType,
    ListingRevision,
    Product,
    ProductPhoto,
    ProductStatus,
    RevisionStatus,
)
from ..columns import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from .models import Cooperative
from .services import own_product

#: the fields a head edits (the product row's columns)
FIELDS = ("category_id", "name_zh", "name_en", "description_zh", "description_en", "unit_zh", "unit_en",
          "price_fen", "weight_g", "volume_cm3", "shelf_life_days", "handling_flags", "certification_type",
          "certification_no")
#: changes the operator approves before the shop sells them
MATERIAL = frozenset({"name_zh", "name_en", "price_fen", "certification_type", "certification_no",
                      "certificate_file"})
#: the fields the search index is built from
SEARCHED = frozenset({"name_zh", "name_en", "description_zh", "description_en"})
#: handling flags a head may set (the seed's vocabulary, read by packing and the planner)
HANDLING_FLAGS = {
    "fragile": _l("Fragile"), "keep_dry": _l("Keep dry"), "cold_chain": _l("Keep cool (cold chain)"),
    "no_stacking": _l("Do not stack"), "liquid": _l("Liquid"), "heavy": _l("Heavy"),
    "odor_sensitive": _l("Takes on odours"),
}
FIELD_NAMES = {
    "category_id": _l("Category"), "name_zh": _l("Name (Chinese)"), "name_en": _l("Name (English)"),
    "description_zh": _l("Description (Chinese)"), "description_en": _l("Description (English)"),
    "unit_zh": _l("Unit (Chinese)"), "unit_en": _l("Unit (English)"), "price_fen": _l("Price"),
    "weight_g": _l("Weight (g)"), "volume_cm3": _l("Volume (cm³)"), "shelf_life_days": _l("Shelf life (days)"),
    "handling_flags": _l("Handling"), "certification_type": _l("Certification"),
    "certification_no": _l("Certification number"), "certificate_file": _l("Certificate scan"),
}
MAX_PHOTOS = 8
NEVER_SOLD = (ProductStatus.DRAFT, ProductStatus.PENDING)


@dataclass
class Submitted:
    """What a submission did: the fields applied at once, the revision waiting (if any)."""

    product: Product
    revision: ListingRevision | None = None
    applied: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return bool(self.revision is not None and self.revision.holds)


@dataclass
class ListingRow:
    product: Product
    pending: ListingRevision | None
    rejected: ListingRevision | None  # the last decision, when it was a rejection


# --- reading -------------------------------------------------------------------------------------


def pending_revision(product_id: int) -> ListingRevision | None:
    return db.session.scalar(sa.select(ListingRevision).where(ListingRevision.product_id == product_id,
                                                              ListingRevision.status == RevisionStatus.PENDING))


def listings_of(cooperative_id: int) -> list[ListingRow]:
    products = db.session.scalars(
        sa.select(Product).where(Product.cooperative_id == cooperative_id)
        .options(selectinload(Product.photos), selectinload(Product.category))
        .order_by(Product.id.desc())).all()
    revisions = db.session.scalars(
        sa.select(ListingRevision).join(Product, Product.id == ListingRevision.product_id)
        .where(Product.cooperative_id == cooperative_id, ListingRevision.status != RevisionStatus.WITHDRAWN)
        .order_by(ListingRevision.id)).all()
    pending: dict[int, ListingRevision] = {}
    decided: dict[int, ListingRevision] = {}
    for revision in revisions:
        if revision.status == RevisionStatus.PENDING:
            pending[revision.product_id] = revision
        else:
            decided[revision.product_id] = revision  # the newest wins
    rows = []
    for product in products:
        last = decided.get(product.id)
        rejected = last if last is not None and last.status == RevisionStatus.REJECTED else None
        if rejected is not None and product.id in pending and pending[product.id].id > rejected.id:
            rejected = None  # submitted again since
        rows.append(ListingRow(product, pending.get(product.id), rejected))
    return rows


def listing_values(product: Product) -> dict[str, Any]:
    """The product's (approved) values of the editable fields, plus its certificate scan."""
    values = {name: getattr(product, name) for name in FIELDS}
    values["certification_type"] = CertificationType(product.certification_type).value
    values["handling_flags"] = sorted(product.handling_flags or [])
    values["certificate_file"] = product.certificate_file or ""
    return values


def proposed_values(product: Product) -> dict[str, Any]:
    """What the head last proposed: the product's values with the pending revision's changes."""
    values = listing_values(product)
    revision = pending_revision(product.id)
    if revision is not None:
        values.update({k: v for k, v in revision.changes.items() if k in values})
    return values


def categories() -> list[Category]:
    return list(db.session.scalars(sa.select(Category).order_by(Category.sort, Category.id)))


def category_names() -> dict[int, str]:
    from ..i18n import localized

    return {c.id: localized(c) for c in categories()}


def certificate_files(product: Product) -> set[str]:
    """The scans of a product's certificate: the approved one and every one proposed for it."""
    files = {product.certificate_file} if product.certificate_file else set()
    for changes in db.session.scalars(sa.select(ListingRevision.changes)
                                      .where(ListingRevision.product_id == product.id)):
        if (changes or {}).get("certificate_file"):
            files.add(changes["certificate_file"])
    return files


def certificate_path(product: Product, file_id: str) -> Path:
    """A certificate scan of the product: the approved one or one proposed for it."""
    if not file_id or file_id not in certificate_files(product) or uploads.owner_of(file_id) != product.id:
        raise NotFound()
    path = uploads.path_of(file_id, "certificate")
    if path is None or not path.is_file():
        raise NotFound()
    return path


def photo_path(product: Product, product_photo_id: int) -> Path:
    photo = db.session.get(ProductPhoto, product_photo_id)
    if photo is None or photo.product_id != product.id:
        raise NotFound()
    path = uploads.path_of(photo.file_id, "product")
    if path is None or not path.is_file():
        raise NotFound()
    return path


# --- submitting ----------------------------------------------------------------------------------


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    cleaned = {name: values[name] for name in FIELDS}
    for name in ("name_zh", "name_en", "description_zh", "description_en", "unit_zh", "unit_en"):
        cleaned[name] = (cleaned[name] or "").strip()
    cleaned["certification_type"] = CertificationType(cleaned["certification_type"]).value
    cleaned["certification_no"] = rules.normalise_cert_no(cleaned["certification_no"])
    if cleaned["certification_type"] == CertificationType.NONE:
        cleaned["certification_no"] = ""
    elif not cleaned["certification_no"]:
        raise ValidationFailed(_l("Enter the certificate's number."), field="certification_no")
    unknown = set(cleaned["handling_flags"] or []) - set(HANDLING_FLAGS)
    if unknown:
        raise ValidationFailed(_l("Choose handling flags from the list."), field="handling_flags")
    cleaned["handling_flags"] = sorted(set(cleaned["handling_flags"] or []))
    if db.session.get(Category, cleaned["category_id"]) is None:
        raise ValidationFailed(_l("Choose a category."), field="category_id")
    return cleaned


def _checked_pictures(pictures: list[bytes], name: str) -> None:
    """Refuse the whole submission before anything is written when one picture is refused."""
    for data in pictures:
        try:
            uploads.web_jpeg(data)
        except uploads.PhotoRefused as error:
            raise uploads.PhotoRefused(error.message, field=name) from None


def _new_sku(cooperative: Cooperative) -> str:
    count = db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                              .where(Product.cooperative_id == cooperative.id))
    n = int(count) + 1
    while True:
        sku = f"{cooperative.code}-L{n:03d}"
        if db.session.scalar(sa.select(Product.id).where(Product.sku == sku)) is None:
            return sku
        n += 1


def _withdraw_pending(product_id: int) -> None:
    db.session.execute(sa.update(ListingRevision)
                       .where(ListingRevision.product_id == product_id, ListingRevision.status == RevisionStatus.PENDING)
                       .values(status=RevisionStatus.WITHDRAWN))


def _commit(stored: list[tuple[str, str]]) -> None:
    """Commit; on failure the pictures stored for it are removed again (nothing half-written)."""
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        for file_id, kind in stored:
            uploads.discard(file_id, kind)
        raise Conflict(_l("This listing was changed at the same time elsewhere. Please check it and submit again.")) from None
    except Exception:
        db.session.rollback()
        for file_id, kind in stored:
            uploads.discard(file_id, kind)
        raise


def _store_photos(product: Product, pictures: list[bytes], user_id: int | None, stored: list[tuple[str, str]]) -> None:
    position = max((p.position for p in product.photos), default=-1)
    for data in pictures:
        file_id = uploads.store(product.id, data, "product")
        stored.append((file_id, "product"))
        width, height = uploads.size_of(file_id, "product")
        position += 1
        product.photos.append(ProductPhoto(file_id=file_id, position=position, width=width, height=height,
                                           uploaded_by_id=user_id))


def create_listing(cooperative_id: int, user_id: int | None, values: dict[str, Any], *,
                   certificate: bytes | None = None, photos: list[bytes] | tuple = ()) -> Submitted:
    """A new product, PENDING, with its revision (is_new) for the operator, its photos and scan."""
    cooperative = db.session.get(Cooperative, cooperative_id)
    if cooperative is None:
        raise NotFound()
    values = _clean(values)
    if len(photos) > MAX_PHOTOS:
        raise ValidationFailed(_l("At most %(n)d photos per product.", n=MAX_PHOTOS), field="photos")
    _checked_pictures(list(photos), "photos")
    _checked_pictures([certificate] if certificate else [], "certificate")
    if values["certification_type"] != CertificationType.NONE and not certificate:
        raise ValidationFailed(_l("Add a photo or scan of the certificate."), field="certificate")
    product = Product(sku=_new_sku(cooperative), cooperative_id=cooperative_id, status=ProductStatus.PENDING,
                      **values)
    db.session.add(product)
    db.session.flush()
    stored: list[tuple[str, str]] = []
    try:
        if certificate:
            product.certificate_file = uploads.store(product.id, certificate, "certificate")
            stored.append((product.certificate_file, "certificate"))
        _store_photos(product, list(photos), user_id, stored)
        revision = _submit_new(product, user_id)
        search.reindex(product)
    except Exception:
        db.session.rollback()
        for file_id, kind in stored:
            uploads.discard(file_id, kind)
        raise
    _commit(stored)
    return Submitted(product, revision, applied=list(FIELDS))


def _submit_new(product: Product, user_id: int | None) -> ListingRevision:
    values = listing_values(product)
    _withdraw_pending(product.id)
    revision = ListingRevision(
        product_id=product.id, is_new=True, changes=values, submitted_by_id=user_id,
        holds=rules.check(values, cooperative_id=product.cooperative_id, product_id=product.id))
    db.session.add(revision)
    product.status = ProductStatus.PENDING
    db.session.flush()
    return revision


def update_listing(cooperative_id: int, user_id: int | None, product_id: int, values: dict[str, Any], *,
                   certificate: bytes | None = None) -> Submitted:
    """Submit the head's edit of a product (see the module's docstring for what waits and what
    applies at once)."""
    product = own_product(cooperative_id, product_id)
    values = _clean(values)
    _checked_pictures([certificate] if certificate else [], "certificate")
    current = listing_values(product)
    if values["certification_type"] == CertificationType.NONE:
        values["certificate_file"] = ""
    else:
        pending = pending_revision(product.id)
        values["certificate_file"] = (pending.changes.get("certificate_file") if pending is not None
                                      and "certificate_file" in pending.changes else current["certificate_file"])
        certification_changed = (values["certification_type"], values["certification_no"]) != (
            current["certification_type"], current["certification_no"])
        # a scan is needed for a new certification (listings from before scans keep theirs as they are)
        if not certificate and not values["certificate_file"] and (
                certification_changed or product.status in NEVER_SOLD):
            raise ValidationFailed(_l("Add a photo or scan of the certificate."), field="certificate")
    stored: list[tuple[str, str]] = []
    try:
        if certificate:
            values["certificate_file"] = uploads.store(product.id, certificate, "certificate")
            stored.append((values["certificate_file"], "certificate"))
        if product.status in NEVER_SOLD:
            outcome = _resubmit_new(product, user_id, values)
        else:
            outcome = _submit_change(product, user_id, current, values)
    except Exception:
        db.session.rollback()
        for file_id, kind in stored:
            uploads.discard(file_id, kind)
        raise
    _commit(stored)
    if outcome.applied and product.status == ProductStatus.ACTIVE:
        storefront_changed()
    return outcome


def _resubmit_new(product: Product, user_id: int | None, values: dict[str, Any]) -> Submitted:
    applied = [name for name, value in values.items() if getattr(product, name) != value]
    for name, value in values.items():
        setattr(product, name, value)
    revision = _submit_new(product, user_id)
    search.reindex(product)
    return Submitted(product, revision, applied)


def _submit_change(product: Product, user_id: int | None, current: dict[str, Any],
                   values: dict[str, Any]) -> Submitted:
    changes = {name: value for name, value in values.items() if current[name] != value}
    _withdraw_pending(product.id)
    if not changes:
        return Submitted(product)
    proposed = {**current, **changes}
    holds = rules.term_holds({k: v if k in changes else "" for k, v in proposed.items()})
    if {"price_fen", "category_id"} & changes.keys():
        holds += rules.price_holds(proposed["category_id"], proposed["price_fen"], product.id)
    if {"certification_type", "certification_no"} & changes.keys():
        holds += rules.certification_holds(proposed["certification_type"], proposed["certification_no"],
                                           cooperative_id=product.cooperative_id)
    waiting = changes if holds else {k: v for k, v in changes.items() if k in MATERIAL}
    applied = [] if holds else [k for k in changes if k not in MATERIAL]
    for name in applied:
        setattr(product, name, changes[name])
    if applied and SEARCHED & set(applied):
        search.reindex(product)
    revision = None
    if waiting:
        revision = ListingRevision(product_id=product.id, is_new=False, changes=waiting, holds=holds,
                                   submitted_by_id=user_id)
        db.session.add(revision)
    db.session.flush()
    return Submitted(product, revision, applied)


def withdraw(cooperative_id: int, product_id: int) -> bool:
    """The head takes back the pending change (a new product goes back to draft)."""
    product = own_product(cooperative_id, product_id)
    revision = pending_revision(product.id)
    if revision is None:
        return False
    _withdraw_pending(product.id)
    if product.status == ProductStatus.PENDING:
        product.status = ProductStatus.DRAFT
    db.session.commit()
    return True


# --- photos --------------------------------------------------------------------------------------


def add_photos(cooperative_id: int, user_id: int | None, product_id: int, pictures: list[bytes]) -> int:
    product = own_product(cooperative_id, product_id)
    if not pictures:
        raise ValidationFailed(_l("Choose one or more photos to add."), field="photos")
    if len(product.photos) + len(pictures) > MAX_PHOTOS:
        raise ValidationFailed(_l("At most %(n)d photos per product.", n=MAX_PHOTOS), field="photos")
    _checked_pictures(pictures, "photos")
    stored: list[tuple[str, str]] = []
    try:
        _store_photos(product, pictures, user_id, stored)
        db.session.flush()
    except Exception:
        db.session.rollback()
        for file_id, kind in stored:
            uploads.discard(file_id, kind)
        raise
    _commit(stored)
    _photos_changed(product)
    return len(stored)


def remove_photo(cooperative_id: int, product_id: int, product_photo_id: int) -> None:
    product = own_product(cooperative_id, product_id)
    photo = next((p for p in product.photos if p.id == product_photo_id), None)
    if photo is None:
        raise NotFound()
    file_id = photo.file_id
    product.photos.remove(photo)
    for position, rest in enumerate(product.photos):
        rest.position = position
    db.session.commit()
    uploads.discard(file_id, "product")
    _photos_changed(product)


def move_photo(cooperative_id: int, product_id: int, product_photo_id: int, step: int) -> None:
    """Move a photo one place earlier (step -1) or later (+1); the first photo is the cover."""
    product = own_product(cooperative_id, product_id)
    photos = list(product.photos)
    index = next((i for i, p in enumerate(photos) if p.id == product_photo_id), None)
    if index is None:
        raise NotFound()
    if step not in (-1, 1):
        raise ValidationFailed(_l("Choose earlier or later."), field="step")
    target = index + step
    if 0 <= target < len(photos):
        photos[index], photos[target] = photos[target], photos[index]
    for position, photo in enumerate(photos):
        photo.position = position
    db.session.commit()
    _photos_changed(product)


def _photos_changed(product: Product) -> None:
    if product.status == ProductStatus.ACTIVE:
        storefront_changed()


def storefront_changed() -> None:
    """No process serves a stored storefront page (marketplace/pagecache.py) from before a
    changed listing."""
    pagecache.invalidate()


# --- the operator's review -----------------------------------------------------------------------


def review_queue(status: str | None = None, cooperative_id: int | None = None) -> list[ListingRevision]:
    """Revisions to review: pending first (held ones first among them), then the newest."""
    query = (sa.select(ListingRevision).join(Product, Product.id == ListingRevision.product_id)
             .options(selectinload(ListingRevision.product).selectinload(Product.cooperative),
                      selectinload(ListingRevision.product).selectinload(Product.photos)))
    if status in {s.value for s in RevisionStatus}:
        query = query.where(ListingRevision.status == RevisionStatus(status))
    else:
        query = query.where(ListingRevision.status != RevisionStatus.WITHDRAWN)
    if cooperative_id is not None:
        query = query.where(Product.cooperative_id == cooperative_id)
    revisions = list(db.session.scalars(query.order_by(ListingRevision.id.desc()).limit(500)))
    revisions.sort(key=lambda r: (r.status != RevisionStatus.PENDING, not r.holds))  # stable: newest first within
    return revisions


def revision(revision_id: int) -> ListingRevision:
    found = db.session.get(ListingRevision, revision_id)
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class DiffLine:
    field: str
    current: Any
    proposed: Any
    changed: bool


def diff(found: ListingRevision) -> list[DiffLine]:
    """Every field: the approved value beside the proposed one (a new product has none approved)."""
    product = found.product
    current = listing_values(product)
    lines = []
    for name in (*FIELDS, "certificate_file"):
        if found.is_new:
            before, after = None, found.changes.get(name, current[name])
        else:
            before, after = current[name], found.changes.get(name, current[name])
        lines.append(DiffLine(name, before, after, found.is_new or name in found.changes))
    return lines


def _decide(revision_id: int, status: RevisionStatus, actor_id: int | None, reason: str) -> ListingRevision:
    now = utcnow()
    result = db.session.execute(
        sa.update(ListingRevision)
        .where(ListingRevision.id == revision_id, ListingRevision.status == RevisionStatus.PENDING)
        .values(status=status, reviewed_by_id=actor_id, reviewed_at=now, review_reason=reason)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        found = revision(revision_id)  # 404 when there is none
        raise Conflict(_l("This listing was already decided (%(status)s): nothing changed.",
                          status=REVISION_STATUS_NAMES.get(found.status, found.status.value)))
    found = db.session.get(ListingRevision, revision_id, populate_existing=True)
    return found


def _reason(reason: str, required: bool) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) > 300:
        raise ValidationFailed(_l("At most 300 characters."), field="reason")
    if required and len(reason) < 3:
        raise ValidationFailed(_l("Give the cooperative a reason (at least 3 characters)."), field="reason")
    return reason


def approve(revision_id: int, actor_id: int | None, reason: str = "") -> ListingRevision:
    """Apply the revision to the product (once) and put a new product on sale. Approving a
    listing the rules held needs a reason (it is audited)."""
    from ..admin.services import audit

    held = revision(revision_id)
    reason = _reason(reason, required=bool(held.holds) and held.status == RevisionStatus.PENDING)
    found = _decide(revision_id, RevisionStatus.APPROVED, actor_id, reason)
    product = found.product
    for name, value in found.changes.items():
        if name in FIELDS or name == "certificate_file":
            setattr(product, name, value)
    if product.status in NEVER_SOLD:
        product.status = ProductStatus.ACTIVE
    product.approved_at = utcnow()
    search.reindex(product)
    audit("listing.approved", actor_id=actor_id, object_type="listing_revision", object_id=found.id,
          data={"product_id": product.id, "sku": product.sku, "fields": sorted(found.changes),
                "is_new": found.is_new, "holds": len(found.holds), "reason": reason})
    db.session.commit()
    storefront_changed()
    return found


def reject(revision_id: int, actor_id: int | None, reason: str) -> ListingRevision:
    """Refuse the revision, with a reason the head sees; a new product goes back to draft."""
    from ..admin.services import audit

    reason = _reason(reason, required=True)
    found = _decide(revision_id, RevisionStatus.REJECTED, actor_id, reason)
    product = found.product
    if product.status == ProductStatus.PENDING:
        product.status = ProductStatus.DRAFT
    audit("listing.rejected", actor_id=actor_id, object_type="listing_revision", object_id=found.id,
          data={"product_id": product.id, "sku": product.sku, "fields": sorted(found.changes),
                "is_new": found.is_new, "reason": reason})
    db.session.commit()
    return found


REVISION_STATUS_NAMES = {
    RevisionStatus.PENDING: _l("Waiting for review"), RevisionStatus.APPROVED: _l("Approved"),
    RevisionStatus.REJECTED: _l("Rejected"), RevisionStatus.WITHDRAWN: _l("Withdrawn"),
}
