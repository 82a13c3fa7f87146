"""The starting list of prohibited and restricted terms (the county demonstration rules): wild-animal
products may never be sold; medicinal claims need a certificate or a reviewer's judgement. Operators
keep the list at /admin/terms. Idempotent: a term already there is left as the operators made it."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.catalog.models import ProhibitedTerm, TermKind
from marketplace.extensions import db

P, R = TermKind.PROHIBITED, TermKind.RESTRICTED

#: (term, kind, category, note)
TERMS: list[tuple[str, TermKind, str, str]] = [
    # wild-animal products (野生动物保护法): never for sale
    ("穿山甲", P, "wildlife", "pangolin"),
    ("熊胆", P, "wildlife", "bear bile"),
    ("野生动物", P, "wildlife", "wild animals"),
    ("野味", P, "wildlife", "game meat"),
    ("虎骨", P, "wildlife", "tiger bone"),
    ("犀牛角", P, "wildlife", "rhino horn"),
    ("象牙制品", P, "wildlife", "ivory goods (象牙白, the colour, is fine)"),
    ("象牙雕", P, "wildlife", "ivory carving"),
    ("果子狸", P, "wildlife", "masked palm civet"),
    ("野生甲鱼", P, "wildlife", "wild soft-shell turtle"),
    ("pangolin", P, "wildlife", ""),
    ("bear bile", P, "wildlife", ""),
    ("wild animal", P, "wildlife", ""),
    ("bushmeat", P, "wildlife", ""),
    ("elephant ivory", P, "wildlife", "not the colour: ivory-white tea leaves are fine"),
    ("rhino horn", P, "wildlife", ""),
    ("tiger bone", P, "wildlife", ""),
    # medicinal claims (广告法: no food may claim to treat or prevent disease)
    ("治疗", R, "medicinal_claim", "treats"),
    ("降血压", R, "medicinal_claim", "lowers blood pressure"),
    ("降血糖", R, "medicinal_claim", "lowers blood sugar"),
    ("抗癌", R, "medicinal_claim", "anti-cancer"),
    ("包治", R, "medicinal_claim", "cures all"),
    ("根治", R, "medicinal_claim", "cures for good"),
    ("药到病除", R, "medicinal_claim", "cures at once"),
    ("特效药", R, "medicinal_claim", "wonder drug"),
    ("cure", R, "medicinal_claim", ""),
    ("treats disease", R, "medicinal_claim", ""),
    ("lowers blood pressure", R, "medicinal_claim", ""),
    ("anti-cancer", R, "medicinal_claim", ""),
    ("prevents cancer", R, "medicinal_claim", ""),
]


def seed_terms() -> None:
    known = {t.lower() for t in db.session.scalars(sa.select(ProhibitedTerm.term))}
    for term, kind, category, note in TERMS:
        if term.lower() not in known:
            db.session.add(ProhibitedTerm(term=term, kind=kind, category=category, note=note))
