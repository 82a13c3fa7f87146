"""Fraud and prohibited-goods rules (the county demonstration rules) for listings, and the
operators' list of prohibited and restricted terms.

A submission (a new listing or a change of one) is checked against:

- **prohibited and restricted terms**: every active :class:`ProhibitedTerm`, case-insensitively, in
  the zh and en names and descriptions. A term in Chinese (or any non-Latin script) matches
  anywhere; a Latin term matches a whole word or its -s/-es form, so "cure" finds "cures" but
  neither "cured" (cured ham) nor "secure".
- **the category's price range**: the median price of the category's products on sale (the
  product itself left out), when there are at least :data:`MIN_PRICE_PEERS` of them; a price below
  a fifth of the median or above five times it is held. The median, not the mean, so that one odd
  listing does not move the range. The factor was measured on the demo county's 60 listings: at
  4× four real listings (gift boxes, a pillow among charcoal sachets) would be held, at 5× one (a
  ¥568 pre-Qingming tea gift box, 6.5× its category's median — worth a reviewer's look), while a
  misplaced decimal point (×10, ÷10) and bait prices are still caught.
- **the certification number's format**, per type (:data:`CERT_FORMATS`), after trimming and
  upper-casing:

  ============== ======================== =========================================================
  green food     ``LB-NN-NNNNNNNN…[A]``    绿色食品 licence: LB, product class (2 digits), 8–11
                                           digits (year, month, province, serial), optional letter
  organic        ``NNNOPNNNNNNN``          有机产品 certificate: certifier code (3 digits), OP, year
                                           (2 digits) and serial (5 digits), e.g. 124OP2200356
  geo indication ``AGINNNNN`` or           农产品地理标志 registration (AGI + 5 digits) or a
                 ``GI-YYYY-N…``            地理标志保护产品 announcement (GI-year-number)
  SC licence     ``SCNNNNNNNNNNNNNN``      食品生产许可证: SC and 14 digits
  ============== ======================== =========================================================

- **duplicate certification numbers**: the same type and number on another cooperative's product
  (or proposed in another cooperative's pending revision). A cooperative may use one number for
  several of its own products (one SC licence covers a workshop's products).

Each finding is a *hold*: a dict ``{"rule": …, …}`` kept in ``ListingRevision.holds`` and shown to
the reviewer with :func:`describe`.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..errors import NotFound, ValidationFailed
from ..extensions import db
from .models import (
    CertificationType,
    ListingRevision,
    Product,
    ProductStatus,
    ProhibitedTerm,
    RevisionStatus,
    TermKind,
)

MIN_PRICE_PEERS = 3
PRICE_FACTOR = 5

CERT_FORMATS: dict[str, re.Pattern[str]] = {
    CertificationType.GREEN_FOOD: re.compile(r"LB-[0-9]{2}-[0-9]{8,11}[A-Z]?"),
    CertificationType.ORGANIC: re.compile(r"[0-9]{3}OP[0-9]{7}"),
    CertificationType.GEO_INDICATION: re.compile(r"AGI[0-9]{5}|GI-(19|20)[0-9]{2}-[0-9]{1,4}"),
    CertificationType.SC_LICENCE: re.compile(r"SC[0-9]{14}"),
}
#: what each format looks like, for the messages
CERT_EXAMPLES = {
    CertificationType.GREEN_FOOD: "LB-15-21081102354A",
    CertificationType.ORGANIC: "124OP2200356",
    CertificationType.GEO_INDICATION: "AGI01093 / GI-2009-126",
    CertificationType.SC_LICENCE: "SC11233112300427",
}

#: the fields the term rule reads, with their names for the reviewer
TEXT_FIELDS = {
    "name_zh": _l("Name (Chinese)"), "name_en": _l("Name (English)"),
    "description_zh": _l("Description (Chinese)"), "description_en": _l("Description (English)"),
}

TERM_CATEGORIES = {
    "wildlife": _l("Wild-animal products"),
    "medicinal_claim": _l("Uncertified medicinal claims"),
    "other": _l("Other"),
}
TERM_KIND_NAMES = {TermKind.PROHIBITED: _l("Prohibited"), TermKind.RESTRICTED: _l("Restricted")}

_LATIN = re.compile(r"[a-z0-9]")


def normalise_cert_no(value: str) -> str:
    return re.sub(r"\s+", "", value or "").upper()


# --- the checks ----------------------------------------------------------------------------------


def check(values: Mapping[str, Any], *, cooperative_id: int, product_id: int | None) -> list[dict[str, Any]]:
    """The holds for a listing whose (proposed) values are ``values`` (every listing field: names,
    descriptions, category_id, price_fen, certification_type, certification_no)."""
    holds = term_holds(values)
    holds += price_holds(values["category_id"], values["price_fen"], product_id)
    holds += certification_holds(values["certification_type"], values["certification_no"],
                                 cooperative_id=cooperative_id)
    return holds


def _term_pattern(term: str) -> re.Pattern[str]:
    text = term.casefold()
    if not _LATIN.match(text):
        return re.compile(re.escape(text))
    # a whole word, or its plural / third person: "cure" finds "cures" but not "cured" (cured ham)
    # nor "secure"
    return re.compile(r"(?<![a-z0-9])" + re.escape(text) + r"(?:s|es)?(?![a-z0-9])")


def term_holds(values: Mapping[str, Any]) -> list[dict[str, Any]]:
    terms = db.session.scalars(sa.select(ProhibitedTerm).where(ProhibitedTerm.active.is_(True))
                               .order_by(ProhibitedTerm.id)).all()
    holds = []
    for term in terms:
        pattern = _term_pattern(term.term)
        for field in TEXT_FIELDS:
            if pattern.search((values.get(field) or "").casefold()):
                holds.append({"rule": "term", "term": term.term, "kind": term.kind.value,
                              "category": term.category, "field": field})
    return holds


def price_holds(category_id: int, price_fen: int, product_id: int | None) -> list[dict[str, Any]]:
    query = sa.select(Product.price_fen).where(Product.category_id == category_id,
                                              Product.status == ProductStatus.ACTIVE)
    if product_id is not None:
        query = query.where(Product.id != product_id)
    prices = list(db.session.scalars(query))
    if len(prices) < MIN_PRICE_PEERS:
        return []
    median = int(statistics.median(prices))
    low, high = median // PRICE_FACTOR, median * PRICE_FACTOR
    if price_fen < low or price_fen > high:
        return [{"rule": "price", "price_fen": price_fen, "median_fen": median, "low_fen": low, "high_fen": high,
                 "peers": len(prices)}]
    return []


def certification_holds(cert_type: str, number: str, *, cooperative_id: int) -> list[dict[str, Any]]:
    cert_type = CertificationType(cert_type)
    if cert_type == CertificationType.NONE:
        return []
    holds: list[dict[str, Any]] = []
    if not CERT_FORMATS[cert_type].fullmatch(number):
        holds.append({"rule": "cert_format", "type": cert_type.value, "number": number,
                      "example": CERT_EXAMPLES[cert_type]})
    others = db.session.scalars(
        sa.select(Product.sku).where(Product.certification_type == cert_type, Product.certification_no == number,
                                     Product.cooperative_id != cooperative_id).order_by(Product.id)).all()
    # JSON is not portable to filter in SQL: the few pending revisions of others are read
    pending = [sku for sku, changes in db.session.execute(
        sa.select(Product.sku, ListingRevision.changes).join(ListingRevision, ListingRevision.product_id == Product.id)
        .where(ListingRevision.status == RevisionStatus.PENDING, Product.cooperative_id != cooperative_id))
        if (changes or {}).get("certification_no") == number
        and (changes or {}).get("certification_type") == cert_type.value]
    duplicates = sorted(set(others) | set(pending))
    if duplicates:
        holds.append({"rule": "cert_duplicate", "type": cert_type.value, "number": number, "skus": duplicates})
    return holds


def describe(hold: Mapping[str, Any]) -> str:
    """A hold in the page's language, for the reviewer and the cooperative head."""
    from ..i18n import yuan
    from ..labels import LABELS

    rule = hold.get("rule")
    if rule == "term":
        where = TEXT_FIELDS.get(hold.get("field", ""), hold.get("field", ""))
        kind = TERM_KIND_NAMES.get(TermKind(hold.get("kind", "prohibited")), "")
        return _("%(kind)s term “%(term)s” in %(field)s", kind=kind, term=hold.get("term", ""), field=where)
    if rule == "price":
        return _("Price %(price)s is far outside its category's range: median %(median)s of %(n)d products on "
                 "sale, expected %(low)s–%(high)s", price=yuan(hold["price_fen"]), median=yuan(hold["median_fen"]),
                 n=hold["peers"], low=yuan(hold["low_fen"]), high=yuan(hold["high_fen"]))
    if rule == "cert_format":
        name = LABELS["cert_names"].get(hold.get("type", ""), hold.get("type", ""))
        return _("Certification number “%(number)s” does not look like a %(type)s number (e.g. %(example)s)",
                 number=hold.get("number", ""), type=name, example=hold.get("example", ""))
    if rule == "cert_duplicate":
        return _("Certification number “%(number)s” is already used by another cooperative's product: %(skus)s",
                 number=hold.get("number", ""), skus=", ".join(hold.get("skus", [])))
    return str(hold)


# --- the operators' list -------------------------------------------------------------------------


def terms(kind: str | None = None, active: bool | None = None) -> list[ProhibitedTerm]:
    query = sa.select(ProhibitedTerm).order_by(ProhibitedTerm.active.desc(), ProhibitedTerm.category,
                                               ProhibitedTerm.term)
    if kind in {k.value for k in TermKind}:
        query = query.where(ProhibitedTerm.kind == TermKind(kind))
    if active is not None:
        query = query.where(ProhibitedTerm.active.is_(active))
    return list(db.session.scalars(query))


def add_term(term: str, *, kind: str, category: str, note: str, actor_id: int | None) -> ProhibitedTerm:
    """Add a term to the list (or reactivate it when it is there already, with the new kind)."""
    from ..admin.services import audit

    term = " ".join((term or "").split())
    if not 1 <= len(term) <= 64:
        raise ValidationFailed(_l("Enter a term of 1 to 64 characters."), field="term")
    if kind not in {k.value for k in TermKind}:
        raise ValidationFailed(_l("Choose prohibited or restricted."), field="kind")
    if category not in TERM_CATEGORIES:
        raise ValidationFailed(_l("Choose a category."), field="category")
    note = (note or "").strip()[:200]
    existing = db.session.scalar(sa.select(ProhibitedTerm).where(sa.func.lower(ProhibitedTerm.term) == term.lower()))
    if existing is not None:
        existing.kind, existing.category, existing.active = TermKind(kind), category, True
        if note:
            existing.note = note
        entry = existing
        action = "term.updated"
    else:
        entry = ProhibitedTerm(term=term, kind=TermKind(kind), category=category, note=note, created_by_id=actor_id)
        db.session.add(entry)
        action = "term.added"
    db.session.flush()
    audit(action, actor_id=actor_id, object_type="prohibited_term", object_id=entry.id,
          data={"term": term, "kind": kind, "category": category})
    db.session.commit()
    return entry


def set_term_active(term_id: int, active: bool, *, actor_id: int | None) -> ProhibitedTerm:
    from ..admin.services import audit

    entry = db.session.get(ProhibitedTerm, term_id)
    if entry is None:
        raise NotFound()
    if entry.active != active:
        entry.active = active
        audit("term.reactivated" if active else "term.deactivated", actor_id=actor_id,
              object_type="prohibited_term", object_id=entry.id, data={"term": entry.term})
        db.session.commit()
    return entry
