"""The cooperative head's listings (/coop/listings): a new product waits for the operator, a
material change of one on sale waits while the shop sells the approved version, other changes
apply at once (unless the rules hold them), photos and the certificate scan are validated and
private, and another cooperative's ids are 404 on every URL."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from marketplace.catalog.models import (
    ListingRevision,
    Product,
    ProductPhoto,
    ProductStatus,
    RevisionStatus,
)
from marketplace.coop import listings
from marketplace.coop import services as coop_services
from marketplace.coop.listing_forms import yuan_to_fen
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from tests.marketplace.coop.listing_helpers import (
    form_data,
    listing_values,
    make_head,
    photo,
    post_form,
    signed_in,
    stored_files,
)
from tests.marketplace.images import bomb_png, noise_png, png_bytes


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


@pytest.fixture
def head(app, seeded, make_user):
    return make_head(app, make_user)


def products_of(app, coop_id: int) -> int:
    with app.app_context():
        return int(db.session.scalar(sa.select(sa.func.count()).select_from(Product)
                                     .where(Product.cooperative_id == coop_id)))


@pytest.mark.parametrize("text, fen", [("38", 3800), ("38.5", 3850), ("38.50", 3850), ("¥1,280.00", 128000),
                                       ("0.01", 1)])
def test_a_price_in_yuan_is_kept_in_fen(text, fen):
    assert yuan_to_fen(text) == fen


@pytest.mark.parametrize("text", ["", "0", "-3", "1.234", "abc", "1e3", "NaN", "Infinity", "10000000.01"])
def test_a_price_that_is_not_a_price_is_refused(text):
    with pytest.raises(ValueError):
        yuan_to_fen(text)


def test_a_new_listing_waits_for_the_operator_with_its_photos_and_scan(app, head, upload_dir):
    client = signed_in(app, head.mobile)
    before = products_of(app, head.coop_id)
    data = form_data(listing_values(head, certification_type="sc_licence", certification_no="sc 1123 3112 3004 27"),
                     photos=[(photo(), "a.png"), (photo((20, 90, 40)), "b.jpg")], certificate=(png_bytes(), "c.png"))
    response = post_form(client, "/coop/listings/new", data)
    assert response.status_code == 302, response.get_data(as_text=True)
    assert products_of(app, head.coop_id) == before + 1
    with app.app_context():
        product = db.session.scalar(sa.select(Product).where(Product.cooperative_id == head.coop_id)
                                    .order_by(Product.id.desc()).limit(1))
        assert product.status == ProductStatus.PENDING and product.approved_at is None
        assert product.sku.startswith(f"{head.coop_code}-L")
        assert product.price_fen == head.median_fen and product.certification_no == "SC11233112300427"
        assert product.handling_flags == ["keep_dry"]
        revision = db.session.scalar(sa.select(ListingRevision).where(ListingRevision.product_id == product.id))
        assert revision.is_new and revision.status == RevisionStatus.PENDING and revision.submitted_by_id == head.user_id
        assert revision.holds == []  # the seed's own SC number, in the head's own cooperative
        assert [p.position for p in product.photos] == [0, 1]
        assert all(p.width == 800 and p.height == 600 for p in product.photos)
        product_id, photo_ids, scan = product.id, [p.id for p in product.photos], product.certificate_file
    files = stored_files(upload_dir)
    assert len(files) == 3 and {f.parent.name for f in files} == {"product", "certificate"}
    assert all(re.fullmatch(rf"{product_id}-[0-9a-f]{{32}}\.jpg", f.name) for f in files)
    assert client.get(f"/p/{product_id}").status_code == 404  # never sold until approved
    page = client.get("/coop/listings").get_data(as_text=True)
    assert "Mountain bamboo shoots" in page and "Waiting for approval" in page
    thumb = client.get(f"/coop/listings/{product_id}/photos/{photo_ids[0]}")
    assert thumb.status_code == 200 and thumb.mimetype == "image/jpeg" and "private" in thumb.headers["Cache-Control"]
    assert client.get(f"/coop/listings/{product_id}/certificates/{scan}").status_code == 200
    assert signed_in(app, head.other_mobile).get(f"/coop/listings/{product_id}/certificates/{scan}").status_code == 404
    assert app.test_client().get(f"/coop/listings/{product_id}/certificates/{scan}").status_code == 302  # sign in


def test_a_certified_listing_needs_its_number_and_scan(app, head, upload_dir):
    client = signed_in(app, head.mobile)
    before = products_of(app, head.coop_id)
    no_number = post_form(client, "/coop/listings/new", form_data(listing_values(head, certification_type="organic")))
    assert no_number.status_code == 422 and "Enter the certificate&#39;s number." in no_number.get_data(as_text=True)
    no_scan = post_form(client, "/coop/listings/new", form_data(
        listing_values(head, certification_type="organic", certification_no="124OP2200356")))
    assert no_scan.status_code == 422 and "Add a photo or scan of the certificate." in no_scan.get_data(as_text=True)
    assert products_of(app, head.coop_id) == before and stored_files(upload_dir) == []


@pytest.mark.parametrize("field, value, message", [
    ("name_zh", "", "Enter Name (Chinese)"),
    ("price", "12.345", "Enter the price in yuan"),
    ("weight_g", "0", "Enter the weight in grams"),
    ("volume_cm3", "abc", "Enter the volume in cm³"),
    ("shelf_life_days", "99999", "Enter the shelf life in days"),
    ("handling_flags", ["explosive"], "Choose handling flags from the list."),
    ("category_id", "0", "Choose a category."),
])
def test_an_invalid_field_is_named_and_nothing_is_written(app, head, field, value, message):
    client = signed_in(app, head.mobile)
    before = products_of(app, head.coop_id)
    response = post_form(client, "/coop/listings/new", form_data(listing_values(head), **{field: value}))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert products_of(app, head.coop_id) == before


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(document.cookie)</script></svg>')


@pytest.mark.parametrize("picture, name, message", [
    (b"%PDF-1.4 this is no photo", "photo.jpg", "This file is not a photo"),
    ("oversize", "big.png", "larger than"),
    ("bomb", "bomb.png", "megapixels"),
    ("png", "../../etc/cron.d/evil.png", "folder path"),
    ("png", "..\\..\\windows\\evil.png", "folder path"),
    (SVG, "logo.svg", "This file is not a photo"),
], ids=["not-an-image", "oversize", "decompression-bomb", "path-in-name", "windows-path", "svg-with-script"])
@pytest.mark.parametrize("where", ["new", "photos", "certificate"])
def test_an_upload_attack_is_refused_and_nothing_is_stored(app, head, upload_dir, picture, name, message, where):
    if picture == "oversize":
        app.config["UPLOAD_MAX_BYTES"] = 100_000
        picture = noise_png((300, 300))
    elif picture == "bomb":
        picture = bomb_png()
    elif picture == "png":
        picture = photo()
    client = signed_in(app, head.mobile)
    with app.app_context():
        photos_before = int(db.session.scalar(sa.select(sa.func.count()).select_from(ProductPhoto)))
        revisions_before = int(db.session.scalar(sa.select(sa.func.count()).select_from(ListingRevision)))
        price_before = db.session.get(Product, head.product_id).price_fen
    products_before = products_of(app, head.coop_id)
    try:
        if where == "new":
            response = post_form(client, "/coop/listings/new",
                                 form_data(listing_values(head), photos=[(photo(), "ok.png"), (picture, name)]))
            assert response.status_code == 422
            page = response.get_data(as_text=True)
        elif where == "photos":
            response = post_form(client, f"/coop/listings/{head.product_id}/photos", {"photos": [(picture, name)]},
                                 page=f"/coop/listings/{head.product_id}/edit")
            assert response.status_code == 302
            page = client.get(response.headers["Location"]).get_data(as_text=True)
        else:
            values = listing_values(head, certification_type="sc_licence", certification_no="SC11233112300427",
                                    price_fen=price_before + 100)
            response = post_form(client, f"/coop/listings/{head.product_id}/edit",
                                 form_data(values, certificate=(picture, name)))
            assert response.status_code == 422
            page = response.get_data(as_text=True)
    finally:
        app.config.pop("UPLOAD_MAX_BYTES", None)
    assert message in page
    assert stored_files(upload_dir) == []
    assert products_of(app, head.coop_id) == products_before
    with app.app_context():
        assert int(db.session.scalar(sa.select(sa.func.count()).select_from(ProductPhoto))) == photos_before
        assert int(db.session.scalar(sa.select(sa.func.count()).select_from(ListingRevision))) == revisions_before
        assert db.session.get(Product, head.product_id).price_fen == price_before


def test_a_material_change_waits_and_the_shop_sells_the_approved_version(app, head):
    client = signed_in(app, head.mobile)
    with app.app_context():
        product = db.session.get(Product, head.product_id)
        old_price, old_name, sku = product.price_fen, product.name_en, product.sku
        values = listings.listing_values(product)
    values.update(price_fen=old_price + 500, description_en="Now with a longer story about the village.")
    response = post_form(client, f"/coop/listings/{head.product_id}/edit", form_data(values))
    assert response.status_code == 302
    with app.app_context():
        product = db.session.get(Product, head.product_id)
        assert product.price_fen == old_price  # the approved price stays on the row…
        assert product.description_en == "Now with a longer story about the village."  # …the description applied
        revision = listings.pending_revision(head.product_id)
        assert revision.changes == {"price_fen": old_price + 500} and not revision.is_new and revision.holds == []
    shop_page = app.test_client().get(f"/p/{head.product_id}").get_data(as_text=True)
    assert f"¥{old_price // 100}.{old_price % 100:02d}" in shop_page
    assert f"¥{(old_price + 500) // 100}.{(old_price + 500) % 100:02d}" not in shop_page
    edit = client.get(f"/coop/listings/{head.product_id}/edit").get_data(as_text=True)
    assert f'value="{(old_price + 500) // 100}.{(old_price + 500) % 100:02d}"' in edit  # the form shows the proposal
    assert "Change waiting for the operator" in edit
    listing = client.get("/coop/listings").get_data(as_text=True)
    assert sku in listing and "Change waiting for review" in listing and old_name


def test_a_newer_submission_withdraws_the_older_one(app, head):
    with app.app_context():
        values = listings.listing_values(db.session.get(Product, head.product_id))
        first = listings.update_listing(head.coop_id, head.user_id, head.product_id,
                                        {**values, "price_fen": values["price_fen"] + 100}).revision
        second = listings.update_listing(head.coop_id, head.user_id, head.product_id,
                                         {**values, "price_fen": values["price_fen"] + 100, "name_en": "Renamed"}
                                         ).revision
        statuses = dict(db.session.execute(sa.select(ListingRevision.id, ListingRevision.status)
                                           .where(ListingRevision.product_id == head.product_id)).all())
        assert statuses == {first.id: RevisionStatus.WITHDRAWN, second.id: RevisionStatus.PENDING}
        assert second.changes == {"price_fen": values["price_fen"] + 100, "name_en": "Renamed"}
        # back to the approved values: nothing waits any more
        assert listings.update_listing(head.coop_id, head.user_id, head.product_id, values).revision is None
        assert listings.pending_revision(head.product_id) is None


def test_a_non_material_change_applies_at_once_without_a_revision(app, head):
    with app.app_context():
        values = listings.listing_values(db.session.get(Product, head.product_id))
        outcome = listings.update_listing(head.coop_id, head.user_id, head.product_id, {
            **values, "weight_g": values["weight_g"] + 10, "handling_flags": ["fragile", "no_stacking"],
            "shelf_life_days": 200, "unit_en": "jar (250 g)"})
        assert outcome.revision is None
        assert sorted(outcome.applied) == ["handling_flags", "shelf_life_days", "unit_en", "weight_g"]
        product = db.session.get(Product, head.product_id)
        assert (product.weight_g, product.handling_flags, product.unit_en) == (
            values["weight_g"] + 10, ["fragile", "no_stacking"], "jar (250 g)")


def test_a_held_change_applies_nothing_even_if_otherwise_non_material(app, head):
    client = signed_in(app, head.mobile)
    with app.app_context():
        values = listings.listing_values(db.session.get(Product, head.product_id))
    values.update(description_zh="祖传秘方，可治疗高血压", weight_g=values["weight_g"] + 1)
    response = post_form(client, f"/coop/listings/{head.product_id}/edit", form_data(values))
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "held for the operator" in page and "治疗" in page and "Description (Chinese)" in page
    with app.app_context():
        product = db.session.get(Product, head.product_id)
        assert "治疗" not in product.description_zh and product.weight_g == values["weight_g"] - 1
        revision = listings.pending_revision(head.product_id)
        assert set(revision.changes) == {"description_zh", "weight_g"}
        assert revision.holds == [{"rule": "term", "term": "治疗", "kind": "restricted", "category": "medicinal_claim",
                                   "field": "description_zh"}]


def test_photos_are_added_reordered_and_removed(app, head, upload_dir):
    client = signed_in(app, head.mobile)
    edit = f"/coop/listings/{head.product_id}/edit"
    response = post_form(client, f"/coop/listings/{head.product_id}/photos",
                         {"photos": [(photo((200, 0, 0)), "r.png"), (photo((0, 200, 0)), "g.png"),
                                     (photo((0, 0, 200)), "b.png")]}, page=edit)
    assert response.status_code == 302

    def order():
        with app.app_context():
            return [p.id for p in db.session.scalars(sa.select(ProductPhoto).where(
                ProductPhoto.product_id == head.product_id).order_by(ProductPhoto.position))]

    red, green, blue = order()
    assert post_form(client, f"/coop/listings/{head.product_id}/photos/{blue}/move", {"direction": "earlier"},
                     page=edit).status_code == 302
    assert order() == [red, blue, green]
    post_form(client, f"/coop/listings/{head.product_id}/photos/{red}/move", {"direction": "later"}, page=edit)
    assert order() == [blue, red, green]
    post_form(client, f"/coop/listings/{head.product_id}/photos/{red}/remove", {}, page=edit)
    assert order() == [blue, green]
    assert len(stored_files(upload_dir)) == 2
    with app.app_context():
        assert [p.position for p in db.session.get(Product, head.product_id).photos] == [0, 1]


def test_at_most_eight_photos(app, head, upload_dir):
    with app.app_context():
        listings.add_photos(head.coop_id, head.user_id, head.product_id, [photo()] * 8)
        with pytest.raises(ValidationFailed) as refused:
            listings.add_photos(head.coop_id, head.user_id, head.product_id, [photo()])
        assert refused.value.field == "photos" and "8" in refused.value.message
    assert len(stored_files(upload_dir)) == 8


def test_another_cooperatives_product_is_404_on_every_url(app, head, upload_dir):
    with app.app_context():
        listings.add_photos(head.coop_id, head.user_id, head.product_id, [photo()])
        product = db.session.get(Product, head.product_id)
        photo_id = product.photos[0].id
        values = listings.listing_values(product)
        values["price_fen"] += 1
        listings.update_listing(head.coop_id, head.user_id, head.product_id, values)
        before = listings.listing_values(product), listings.pending_revision(product.id).id
    other = signed_in(app, head.other_mobile)
    own_page = f"/coop/listings/{head.other_product_id}/edit"  # the other head's own product: a CSRF token
    gets = [f"/coop/listings/{head.product_id}/edit", f"/coop/listings/{head.product_id}/photos/{photo_id}",
            f"/coop/listings/{head.product_id}/certificates/{head.product_id}-{'0' * 32}"]
    posts = [f"/coop/listings/{head.product_id}/edit", f"/coop/listings/{head.product_id}/withdraw",
             f"/coop/listings/{head.product_id}/photos", f"/coop/listings/{head.product_id}/photos/{photo_id}/remove",
             f"/coop/listings/{head.product_id}/photos/{photo_id}/move"]
    for path in gets:
        assert other.get(path).status_code == 404, path
    for path in posts:
        assert post_form(other, path, {"direction": "later", **form_data(values)}, page=own_page).status_code == 404, path
    # the other head's own product with this head's photo id: 404 too
    assert other.get(f"/coop/listings/{head.other_product_id}/photos/{photo_id}").status_code == 404
    with app.app_context():
        product = db.session.get(Product, head.product_id)
        assert (listings.listing_values(product), listings.pending_revision(product.id).id) == before
        assert len(product.photos) == 1
        with pytest.raises(NotFound):
            coop_services.own_product(head.other_coop_id, head.product_id)
    assert head.product_id not in [int(m) for m in re.findall(r"/coop/listings/(\d+)/edit",
                                                              other.get("/coop/listings").get_data(as_text=True))]


def test_withdrawing_a_new_listing_takes_it_back_to_draft(app, head):
    with app.app_context():
        product = listings.create_listing(head.coop_id, head.user_id, listing_values(head)).product
        assert listings.withdraw(head.coop_id, product.id)
        assert db.session.get(Product, product.id).status == ProductStatus.DRAFT
        assert listings.pending_revision(product.id) is None
        # submitting it again puts it back in the queue
        again = listings.update_listing(head.coop_id, head.user_id, product.id, listing_values(head, name_en="Shoots"))
        assert again.revision.is_new and db.session.get(Product, product.id).status == ProductStatus.PENDING


def test_a_request_beyond_the_size_limit_is_told_on_the_form(app, head, upload_dir):
    client = signed_in(app, head.mobile)
    edit = f"/coop/listings/{head.product_id}/edit"
    before = app.config["MAX_CONTENT_LENGTH"]
    app.config["MAX_CONTENT_LENGTH"] = 50_000
    try:
        response = post_form(client, f"/coop/listings/{head.product_id}/photos",
                             {"photos": [(noise_png((200, 200)), "big.png")]}, page=edit)
    finally:
        app.config["MAX_CONTENT_LENGTH"] = before
    assert response.status_code == 302 and response.headers["Location"].endswith(edit)
    assert "larger than" in client.get(edit).get_data(as_text=True)
    assert stored_files(upload_dir) == []
