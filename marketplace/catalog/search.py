"""N-gram search terms (see ProductSearchTerm): the same cutting for documents and queries."""

from __future__ import annotations

import re

import sqlalchemy as sa

from ..extensions import db
from .models import Product, ProductSearchTerm

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]+")
_WORD = re.compile(r"[a-z0-9]+")


def _grams(text: str, *, for_query: bool) -> set[str]:
    text = text.lower()
    grams: set[str] = set()
    for run in _CJK.findall(text):
        if for_query and len(run) >= 2:
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
        elif for_query:
            grams.add(run)
        else:
            grams.update(run)
            grams.update(run[i : i + 2] for i in range(len(run) - 1))
    for word in _WORD.findall(text):
        if len(word) < 3:
            if not for_query:
                grams.add(word)
            continue  # too short to index as a trigram: the LIKE check decides
        grams.update(word[i : i + 3] for i in range(len(word) - 2))
    return grams


def document_terms(product: Product) -> set[str]:
    text = " ".join([product.name_zh, product.name_en, product.description_zh, product.description_en])
    return _grams(text, for_query=False)


def query_terms(query: str) -> set[str]:
    return _grams(query, for_query=True)


def reindex(*products: Product) -> None:
    """Rewrite the products' terms (call after creating or editing them; the caller commits)."""
    ids = [p.id for p in products]
    db.session.execute(sa.delete(ProductSearchTerm).where(ProductSearchTerm.product_id.in_(ids)))
    rows = [{"product_id": p.id, "term": t} for p in products for t in sorted({t[:16] for t in document_terms(p)})]
    for start in range(0, len(rows), 2000):  # multi-row INSERTs, not one round trip per term
        db.session.execute(sa.insert(ProductSearchTerm).values(rows[start : start + 2000]))


def matching_ids(query: str):
    """A subquery of product ids holding every n-gram of ``query`` (None: no usable n-gram)."""
    terms = query_terms(query)
    if not terms:
        return None
    return (
        sa.select(ProductSearchTerm.product_id)
        .where(ProductSearchTerm.term.in_(terms))
        .group_by(ProductSearchTerm.product_id)
        .having(sa.func.count() == len(terms))
    )
