"""The operator's listing review (/admin/listings) and the prohibited-terms list (/admin/terms):
the queue (pending first, holds highlighted, filters), the revision page (approved beside
proposed), approve and reject with a reason (audited), approving applies once and the storefront,
its search and its page cache follow; a double-submitted approve applies once."""

from __future__ import annotations

import threading

import pytest
import sqlalchemy as sa
from werkzeug.test import Client

from marketplace.admin.models import AuditLog
from marketplace.catalog import search
from marketplace.catalog.models import (
    ListingRevision,
    Product,
    ProductStatus,
    ProhibitedTerm,
    RevisionStatus,
)
from marketplace.coop import listings
from marketplace.errors import Conflict, ValidationFailed
from marketplace.extensions import db
from marketplace.pagecache import PageCache
from tests.marketplace.admin.conftest import audits, operator_client, post
from tests.marketplace.coop.listing_helpers import listing_values, make_head, photo


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


@pytest.fixture
def head(app, seeded, make_user):
    return make_head(app, make_user)


def new_listing(app, head, **changes) -> tuple[int, int]:
    """(product id, revision id) of a new listing with a photo."""
    with app.app_context():
        outcome = listings.create_listing(head.coop_id, head.user_id, listing_values(head, **changes),
                                          photos=[photo()])
        return outcome.product.id, outcome.revision.id


def price_change(app, head, delta: int = 700, **more) -> int:
    with app.app_context():
        values = listings.listing_values(db.session.get(Product, head.product_id))
        values.update(price_fen=values["price_fen"] + delta, **more)
        return listings.update_listing(head.coop_id, head.user_id, head.product_id, values).revision.id


def test_approving_a_new_listing_puts_it_on_sale(app, head, make_user):
    product_id, revision_id = new_listing(app, head, name_en="Mountain bamboo shoots")
    client, operator = operator_client(app, make_user)
    page = client.get(f"/admin/listings/{revision_id}").get_data(as_text=True)
    assert "Mountain bamboo shoots" in page and "new listing" in page
    assert f"/admin/products/{product_id}/photos/" in page
    response = post(client, f"/admin/listings/{revision_id}/decide", {"decision": "approve"},
                    page=f"/admin/listings/{revision_id}")
    assert response.status_code == 302
    with app.app_context():
        product = db.session.get(Product, product_id)
        assert product.status == ProductStatus.ACTIVE and product.approved_at is not None
        revision = db.session.get(ListingRevision, revision_id)
        assert revision.status == RevisionStatus.APPROVED and revision.reviewed_by_id == operator.id
    [entry] = audits(app, "listing.approved")
    assert entry.actor_user_id == operator.id and entry.object_id == revision_id and entry.data["is_new"]
    shop = app.test_client()
    assert "高山笋干" in shop.get(f"/p/{product_id}").get_data(as_text=True)  # the shop speaks Chinese
    assert f"/p/{product_id}" in shop.get("/search?q=高山笋干").get_data(as_text=True)


def test_approving_a_change_applies_it_and_search_follows_the_new_name(app, head, make_user):
    revision_id = price_change(app, head, name_en="Smoked winter bamboo shoots", name_zh="烟熏冬笋干")
    with app.app_context():
        old = db.session.get(Product, head.product_id)
        old_price = old.price_fen
        assert old.name_en != "Smoked winter bamboo shoots"
    client, _ = operator_client(app, make_user)
    page = client.get(f"/admin/listings/{revision_id}").get_data(as_text=True)
    assert f"¥{old_price // 100}.{old_price % 100:02d}" in page  # approved beside proposed
    assert f"¥{(old_price + 700) // 100}.{(old_price + 700) % 100:02d}" in page
    post(client, f"/admin/listings/{revision_id}/decide", {"decision": "approve"}, page=f"/admin/listings/{revision_id}")
    with app.app_context():
        product = db.session.get(Product, head.product_id)
        assert (product.price_fen, product.name_en, product.name_zh) == (
            old_price + 700, "Smoked winter bamboo shoots", "烟熏冬笋干")
        assert product.status == ProductStatus.ACTIVE
        found = db.session.scalars(sa.select(Product.id).where(Product.id.in_(search.matching_ids("烟熏冬笋")))).all()
        assert found == [head.product_id]


def test_the_storefront_page_cache_does_not_keep_the_old_version(app, head, make_user):
    cache = PageCache(app.wsgi_app, seconds=600)
    app.extensions["page_cache"] = cache
    anonymous = Client(cache)
    try:
        with app.app_context():
            old_price = db.session.get(Product, head.product_id).price_fen
        old_text = f"¥{old_price // 100}.{old_price % 100:02d}"
        assert old_text in anonymous.get(f"/p/{head.product_id}").get_data(as_text=True)
        assert anonymous.get(f"/p/{head.product_id}").headers["X-Cache"] == "hit"
        revision_id = price_change(app, head, delta=1300)
        client, operator = operator_client(app, make_user)
        with app.app_context():
            listings.approve(revision_id, operator.id)
        again = anonymous.get(f"/p/{head.product_id}")
        assert again.headers["X-Cache"] == "miss"
        new_price = old_price + 1300
        assert f"¥{new_price // 100}.{new_price % 100:02d}" in again.get_data(as_text=True)
    finally:
        app.extensions.pop("page_cache", None)


def test_rejecting_needs_a_reason_and_the_head_sees_it(app, head, make_user):
    product_id, revision_id = new_listing(app, head)
    client, operator = operator_client(app, make_user)
    refused = post(client, f"/admin/listings/{revision_id}/decide", {"decision": "reject", "reason": " "},
                   page=f"/admin/listings/{revision_id}")
    assert refused.status_code == 422 and "Give the cooperative a reason" in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(ListingRevision, revision_id).status == RevisionStatus.PENDING
    post(client, f"/admin/listings/{revision_id}/decide",
         {"decision": "reject", "reason": "The photo shows another product."}, page=f"/admin/listings/{revision_id}")
    with app.app_context():
        assert db.session.get(ListingRevision, revision_id).status == RevisionStatus.REJECTED
        assert db.session.get(Product, product_id).status == ProductStatus.DRAFT  # never sold, back to the head
    [entry] = audits(app, "listing.rejected")
    assert entry.data["reason"] == "The photo shows another product." and entry.actor_user_id == operator.id
    from tests.marketplace.coop.listing_helpers import signed_in

    page = signed_in(app, head.mobile).get("/coop/listings").get_data(as_text=True)
    assert "Rejected" in page and "The photo shows another product." in page


def test_a_rejected_change_leaves_the_product_as_it_was(app, head, make_user):
    with app.app_context():
        before = listings.listing_values(db.session.get(Product, head.product_id))
    revision_id = price_change(app, head)
    _, operator = operator_client(app, make_user)
    with app.app_context():
        listings.reject(revision_id, operator.id, "Price rise not explained")
        assert listings.listing_values(db.session.get(Product, head.product_id)) == before
        assert db.session.get(Product, head.product_id).status == ProductStatus.ACTIVE


def test_a_double_submitted_approve_is_applied_once(app, head, make_user):
    revision_id = price_change(app, head, delta=200)
    with app.app_context():
        price = db.session.get(Product, head.product_id).price_fen
    client, operator = operator_client(app, make_user)
    page = f"/admin/listings/{revision_id}"
    first = post(client, f"/admin/listings/{revision_id}/decide", {"decision": "approve"}, page=page)
    second = post(client, f"/admin/listings/{revision_id}/decide", {"decision": "approve"}, page=page)
    assert first.status_code == 302 and second.status_code == 302
    assert "already decided" in client.get(second.headers["Location"]).get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Product, head.product_id).price_fen == price + 200
        with pytest.raises(Conflict):
            listings.approve(revision_id, operator.id)
        with pytest.raises(Conflict):
            listings.reject(revision_id, operator.id, "too late")
    assert len(audits(app, "listing.approved")) == 1


def test_two_approves_at_once_apply_once(app, head, make_user):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("a real race needs PostgreSQL (SQLite serialises writers)")
    revision_id = price_change(app, head, delta=300)
    _, operator = operator_client(app, make_user)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def approve():
        with app.app_context():
            barrier.wait()
            try:
                listings.approve(revision_id, operator.id)
                outcomes.append("approved")
            except Conflict:
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=approve) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["approved", "conflict", "conflict", "conflict"]
    assert len(audits(app, "listing.approved")) == 1


def test_approving_a_held_listing_needs_a_reason(app, head, make_user):
    product_id, revision_id = new_listing(app, head, description_en="Made from pangolin scales")
    _, operator = operator_client(app, make_user)
    with app.app_context():
        assert db.session.get(ListingRevision, revision_id).holds[0]["term"] == "pangolin"
        with pytest.raises(ValidationFailed):
            listings.approve(revision_id, operator.id, "")
        assert db.session.get(ListingRevision, revision_id).status == RevisionStatus.PENDING
        listings.approve(revision_id, operator.id, "Scales from a licensed museum replica, checked")
        assert db.session.get(Product, product_id).status == ProductStatus.ACTIVE


def test_the_queue_shows_pending_first_with_holds_highlighted_and_filters(app, head, make_user):
    plain_id, plain_rev = new_listing(app, head, name_en="Plain shoots")
    held_id, held_rev = new_listing(app, head, name_en="Bear bile tea")
    other_rev = price_change(app, head)
    _, operator = operator_client(app, make_user)
    with app.app_context():
        listings.reject(plain_rev, operator.id, "Duplicate of another listing")
        queue = listings.review_queue("pending")
        assert [r.id for r in queue][:2] == [held_rev, other_rev]  # held first, then the newest
        assert plain_rev not in [r.id for r in queue]
        assert [r.id for r in listings.review_queue(None)] == [held_rev, other_rev, plain_rev]
        assert listings.review_queue("pending", head.other_coop_id) == []
    client, _ = operator_client(app, make_user, mobile="16612340001")
    page = client.get("/admin/listings").get_data(as_text=True)
    assert 'class="is-held"' in page and "Bear bile tea" in page and "bear bile" in page and "Plain shoots" not in page
    assert "Plain shoots" in client.get("/admin/listings?status=rejected").get_data(as_text=True)
    assert "Bear bile tea" not in client.get(f"/admin/listings?cooperative={head.other_coop_id}").get_data(as_text=True)
    assert client.get("/admin/listings?cooperative=abc").status_code == 404


def test_terms_are_added_deactivated_and_reactivated_with_an_audit(app, head, make_user):
    client, operator = operator_client(app, make_user)
    added = post(client, "/admin/terms", {"term": " 麝香 ", "kind": "prohibited", "category": "wildlife",
                                          "note": "musk"})
    assert added.status_code == 302
    with app.app_context():
        term = db.session.scalar(sa.select(ProhibitedTerm).where(ProhibitedTerm.term == "麝香"))
        assert term.active and term.created_by_id == operator.id
        term_id = term.id
    _, revision_id = new_listing(app, head, description_zh="含天然麝香")
    with app.app_context():
        assert db.session.get(ListingRevision, revision_id).holds[0]["term"] == "麝香"
    assert post(client, f"/admin/terms/{term_id}/active", {"active": "0"}, page="/admin/terms").status_code == 302
    _, later = new_listing(app, head, description_zh="含天然麝香", name_en="Another")
    with app.app_context():
        assert db.session.get(ListingRevision, later).holds == []  # an inactive term holds nothing
    post(client, f"/admin/terms/{term_id}/active", {"active": "1"}, page="/admin/terms")
    assert [a.action for a in audits(app, "term.added") + audits(app, "term.deactivated")
            + audits(app, "term.reactivated")] == ["term.added", "term.deactivated", "term.reactivated"]
    bad = post(client, "/admin/terms", {"term": "", "kind": "prohibited", "category": "wildlife"})
    assert bad.status_code == 422 and "Enter a term" in bad.get_data(as_text=True)
    wrong_kind = post(client, "/admin/terms", {"term": "x", "kind": "banned", "category": "wildlife"})
    assert wrong_kind.status_code == 422
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                 .where(AuditLog.action.like("term.%"))) == 3
    assert "麝香" in client.get("/admin/terms").get_data(as_text=True)
