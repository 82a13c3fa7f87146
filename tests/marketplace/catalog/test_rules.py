"""The fraud and prohibited-goods rules (marketplace/catalog/rules.py): prohibited and restricted
terms in the names and descriptions, the category's price range, the certification number's format
per type, and a number another cooperative's product already uses."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from marketplace.catalog import rules
from marketplace.catalog.models import Product, ProductStatus, ProhibitedTerm, TermKind
from marketplace.extensions import db
from tests.marketplace.coop.listing_helpers import listing_values, make_head


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


@pytest.fixture
def head(app, seeded, make_user):
    return make_head(app, make_user)


def test_the_seed_holds_the_starting_list(app, seeded):
    with app.app_context():
        terms = {t.term: (t.kind, t.category) for t in db.session.scalars(sa.select(ProhibitedTerm))}
    for term in ("穿山甲", "熊胆", "野生动物", "pangolin"):
        assert terms[term] == (TermKind.PROHIBITED, "wildlife")
    for term in ("治疗", "降血压", "抗癌", "包治", "cure"):
        assert terms[term] == (TermKind.RESTRICTED, "medicinal_claim")


@pytest.mark.parametrize("field, text, term", [
    ("name_zh", "野生穿山甲鳞片", "穿山甲"),
    ("description_zh", "本品可降血压", "降血压"),
    ("name_en", "PANGOLIN scale tea", "pangolin"),
    ("description_en", "It Cures colds", "cure"),
    ("description_en", "A sure cure.", "cure"),
    ("description_en", "Wild Animal jerky", "wild animal"),
])
def test_a_term_is_found_in_any_case_and_named_with_its_field(app, head, field, text, term):
    with app.app_context():
        holds = rules.term_holds(listing_values(head, **{field: text}))
    assert [(h["term"], h["field"]) for h in holds] == [(term, field)]


@pytest.mark.parametrize("text", ["A secure bag", "Procured from the village", "Sun-cured slices", "治理山林的合作社",
                                  "Ivory-white leaves"])
def test_a_term_inside_another_word_is_no_match(app, head, text):
    with app.app_context():
        assert rules.term_holds(listing_values(head, description_en=text, description_zh="")) == []


def test_an_inactive_term_holds_nothing(app, head):
    with app.app_context():
        db.session.execute(sa.update(ProhibitedTerm).where(ProhibitedTerm.term == "熊胆").values(active=False))
        assert rules.term_holds(listing_values(head, name_zh="熊胆粉")) == []


def test_a_price_far_outside_the_category_is_held(app, head):
    median = head.median_fen
    with app.app_context():
        assert rules.price_holds(head.category_id, median, None) == []
        factor = rules.PRICE_FACTOR
        assert factor == 5
        assert rules.price_holds(head.category_id, median * factor, None) == []
        assert rules.price_holds(head.category_id, median // factor, None) == []
        [high] = rules.price_holds(head.category_id, median * 10, None)  # a decimal point slipped
        [low] = rules.price_holds(head.category_id, median // 10, None)
    assert high["rule"] == low["rule"] == "price" and high["median_fen"] == median and high["peers"] >= 3
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert "far outside its category's range" in rules.describe(high)


def test_the_price_rule_needs_three_products_on_sale(app, head):
    with app.app_context():
        peers = db.session.scalars(sa.select(Product).where(Product.category_id == head.category_id,
                                                            Product.status == ProductStatus.ACTIVE)).all()
        for product in peers[2:]:
            product.status = ProductStatus.DELISTED
        db.session.flush()
        assert rules.price_holds(head.category_id, 1, None) == []  # two peers: no judgement
        assert rules.price_holds(head.category_id, 1, peers[0].id) == []


@pytest.mark.parametrize("cert_type, number, ok", [
    ("green_food", "LB-15-21081102354A", True),
    ("green_food", "LB-01-2209110209", True),
    ("green_food", "LB-1-22091102096A", False),
    ("green_food", "GF-15-21081102354A", False),
    ("organic", "124OP2200356", True),
    ("organic", "124-OP-2200356", False),
    ("geo_indication", "AGI01093", True),
    ("geo_indication", "GI-2009-126", True),
    ("geo_indication", "GI-09-126", False),
    ("sc_licence", "SC11233112300427", True),
    ("sc_licence", "SC1123311230042", False),
    ("sc_licence", "SX11233112300427", False),
])
def test_certification_numbers_are_checked_by_format(app, head, cert_type, number, ok):
    with app.app_context():
        holds = [h for h in rules.certification_holds(cert_type, number, cooperative_id=head.coop_id)
                 if h["rule"] == "cert_format"]
    assert (holds == []) == ok


def test_a_number_another_cooperative_uses_is_held_but_not_ones_own(app, head):
    with app.app_context():
        theirs = db.session.scalar(sa.select(Product).where(Product.cooperative_id != head.coop_id,
                                                            Product.certification_type == "sc_licence"))
        [duplicate] = rules.certification_holds("sc_licence", theirs.certification_no, cooperative_id=head.coop_id)
        assert duplicate["rule"] == "cert_duplicate" and theirs.sku in duplicate["skus"]
        assert rules.certification_holds("sc_licence", theirs.certification_no,
                                         cooperative_id=theirs.cooperative_id) == []


def test_a_number_proposed_by_another_cooperative_is_a_duplicate_too(app, head):
    from marketplace.coop import listings

    with app.app_context():
        values = listing_values(head, certification_type="organic", certification_no="999OP2600001")
        from tests.marketplace.images import png_bytes

        listings.create_listing(head.coop_id, head.user_id, values, certificate=png_bytes())
        [hold] = rules.certification_holds("organic", "999OP2600001", cooperative_id=head.other_coop_id)
        assert hold["rule"] == "cert_duplicate"


def test_holds_are_worded_in_the_page_language(app, head):
    hold = {"rule": "term", "term": "穿山甲", "kind": "prohibited", "category": "wildlife", "field": "name_zh"}
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert rules.describe(hold) == "Prohibited term “穿山甲” in Name (Chinese)"
    with app.test_request_context(headers={"Accept-Language": "zh-CN"}):
        assert "穿山甲" in rules.describe(hold) and "Prohibited" not in rules.describe(hold)
