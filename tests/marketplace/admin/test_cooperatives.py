"""The operator's cooperatives: the list, a cooperative's page, approve / suspend / reinstate with a
reason (valid transitions only, audited, applied once), the licence scan, registering one."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import sqlalchemy as sa

from marketplace.admin import coops
from marketplace.admin.models import AuditLog
from marketplace.auth.models import Role, User
from marketplace.coop.models import Cooperative, CooperativeStatus
from marketplace.extensions import db
from marketplace.geo.models import Village
from marketplace.inventory.models import Location, LocationKind
from tests.conftest import csrf_token, login
from tests.marketplace.images import bomb_png, jpeg_bytes, png_bytes


def uscc(first17: str) -> str:
    return first17 + coops.uscc_check_digit(first17)


VALID = uscc("93331123MA2B0C1D3")


@pytest.fixture
def operator(app, seeded, make_user, client):
    user = make_user(Role.OPERATOR, mobile="16612340000", name="Operator Wu", locale="en")
    login(client, user.mobile)
    return user


@pytest.fixture
def uploads_dir(app, tmp_path):
    before = app.config["UPLOAD_DIR"]
    app.config["UPLOAD_DIR"] = str(tmp_path / "uploads")
    yield tmp_path / "uploads"
    app.config["UPLOAD_DIR"] = before


def coop_by_code(app, code: str) -> Cooperative:
    with app.app_context():
        coop = db.session.scalar(sa.select(Cooperative).where(Cooperative.code == code))
        db.session.expunge(coop)
        return coop


def audits(app, action: str | None = None) -> list[AuditLog]:
    with app.app_context():
        query = sa.select(AuditLog).order_by(AuditLog.id)
        if action:
            query = query.where(AuditLog.action == action)
        rows = db.session.scalars(query).all()
        db.session.expunge_all()
        return list(rows)


def post(client, path: str, data: dict | None = None, **kwargs):
    return client.post(path, data={"csrf_token": csrf_token(client, "/admin/cooperatives"), **(data or {})}, **kwargs)


# --- the unified social credit code ---------------------------------------------------------------


def test_credit_code_check_digit_follows_gb_32100():
    # a published example code (GB 32100-2015 style): 91350100M000100Y43
    assert coops.uscc_check_digit("91350100M000100Y4") == "3"
    assert coops.licence_problem("91350100M000100Y43") is None
    assert coops.licence_problem(VALID) is None


@pytest.mark.parametrize("value, fragment", [
    ("9133112", "18 characters"),
    ("93331123MA2B0C1DI" + "0", "not a unified social credit code"),  # I is not in the alphabet
    ("0A331123MA2B0C1D30", "not a unified social credit code"),  # authority 0 does not exist
    (VALID[:17] + ("0" if VALID[17] != "0" else "1"), "check digit"),
])
def test_bad_credit_codes_are_refused_with_the_reason(value, fragment):
    assert fragment in coops.licence_problem(value)


# --- the list and the page ------------------------------------------------------------------------


def test_list_shows_pending_first_and_filters_and_searches(app, operator, client):
    page = client.get("/admin/cooperatives").get_data(as_text=True)
    codes = [chunk.split('"')[0] for chunk in page.split('data-code="')[1:]]
    assert codes[0] == "C12"  # the seed's one pending cooperative comes first
    assert len(codes) == 12
    pending = client.get("/admin/cooperatives?status=pending").get_data(as_text=True)
    assert pending.count('data-code="') == 1
    found = client.get("/admin/cooperatives?q=93331123MA28E4G71C").get_data(as_text=True)
    assert found.count('data-code="') == 1 and 'data-code="C01"' in found
    assert client.get("/admin/cooperatives?q=%25%25").status_code == 200
    assert client.get("/admin/cooperatives?page=99&status=bogus").status_code == 200


def test_cooperative_page_shows_head_products_orders_and_licence_check(app, operator, client):
    c01 = coop_by_code(app, "C01")
    page = client.get(f"/admin/cooperatives/{c01.id}").get_data(as_text=True)
    assert c01.licence_no in page and c01.head_mobile in page
    assert 'id="coop-products"' in page and "Orders in the last 30 days" in page
    # the seed's numbers do not carry a valid check digit: the page says so
    assert "check digit" in page
    assert f'action="/admin/cooperatives/{c01.id}/suspend"' in page
    assert "/approve" not in page.split('id="coop-products"')[0].split("coop-actions")[1]
    assert client.get("/admin/cooperatives/999999").status_code == 404


# --- the lifecycle --------------------------------------------------------------------------------


def test_approve_pending_cooperative_with_reason_is_audited(app, operator, client):
    c12 = coop_by_code(app, "C12")
    response = post(client, f"/admin/cooperatives/{c12.id}/approve", {"reason": "Licence checked on site"})
    assert response.status_code == 303
    after = coop_by_code(app, "C12")
    assert after.status == CooperativeStatus.APPROVED
    assert after.status_reason == "Licence checked on site"
    assert after.status_changed_at is not None and after.approved_at is not None
    [entry] = audits(app, "cooperative.approve")
    assert entry.actor_user_id == operator.id and entry.object_id == c12.id
    assert entry.data["before"]["status"] == "pending" and entry.data["after"]["status"] == "approved"
    assert entry.ip == "127.0.0.1"


def test_a_reason_is_required(app, operator, client):
    c01 = coop_by_code(app, "C01")
    response = post(client, f"/admin/cooperatives/{c01.id}/suspend", {"reason": "   "})
    assert response.status_code == 422
    assert coop_by_code(app, "C01").status == CooperativeStatus.APPROVED
    assert audits(app, "cooperative.suspend") == []
    too_long = post(client, f"/admin/cooperatives/{c01.id}/suspend", {"reason": "x" * 301})
    assert too_long.status_code == 422 and coop_by_code(app, "C01").status == CooperativeStatus.APPROVED


@pytest.mark.parametrize("code, action", [
    ("C12", "suspend"), ("C12", "reinstate"),  # pending: only approve
    ("C01", "approve"), ("C01", "reinstate"),  # approved: only suspend
])
def test_invalid_transitions_are_refused(app, operator, client, code, action):
    coop = coop_by_code(app, code)
    response = post(client, f"/admin/cooperatives/{coop.id}/{action}", {"reason": "try it"},
                    follow_redirects=True)
    assert "can be" in response.get_data(as_text=True)
    assert coop_by_code(app, code).status == coop.status
    assert audits(app, f"cooperative.{action}") == []


def test_suspend_then_reinstate_and_a_double_submission_applies_once(app, operator, client):
    c01 = coop_by_code(app, "C01")
    token = csrf_token(client, "/admin/cooperatives")
    first = client.post(f"/admin/cooperatives/{c01.id}/suspend", data={"csrf_token": token, "reason": "Mould found"})
    second = client.post(f"/admin/cooperatives/{c01.id}/suspend", data={"csrf_token": token, "reason": "Mould found"})
    assert first.status_code == second.status_code == 303
    assert coop_by_code(app, "C01").status == CooperativeStatus.SUSPENDED
    assert len(audits(app, "cooperative.suspend")) == 1
    page = client.get(f"/admin/cooperatives/{c01.id}").get_data(as_text=True)
    assert "Mould found" in page and "/reinstate" in page
    reinstated = post(client, f"/admin/cooperatives/{c01.id}/reinstate", {"reason": "Lab test clean"})
    assert reinstated.status_code == 303
    after = coop_by_code(app, "C01")
    assert after.status == CooperativeStatus.APPROVED and after.status_reason == "Lab test clean"
    [entry] = audits(app, "cooperative.reinstate")
    assert entry.data["before"]["status_reason"] == "Mould found"


def test_racing_suspensions_change_the_row_once(app, seeded, make_user):
    """The conditional UPDATE decides: a second call finds the status already changed."""
    operator = make_user(Role.OPERATOR, mobile="16612340001")
    with app.app_context():
        c02 = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.code == "C02"))
        assert coops.change_status(operator.id, c02, "suspend", "first") is True
        assert coops.change_status(operator.id, c02, "suspend", "second") is False
        assert db.session.get(Cooperative, c02).status_reason == "first"
        db.session.remove()


def test_only_operators_reach_the_cooperative_pages(app, seeded, make_user, client):
    head = make_user(Role.COOP_HEAD, mobile="16612340002")
    login(client, head.mobile)
    assert client.get("/admin/cooperatives").status_code == 403
    c01 = coop_by_code(app, "C01")
    assert client.post(f"/admin/cooperatives/{c01.id}/suspend",
                       data={"csrf_token": csrf_token(client, "/account"), "reason": "x y"}).status_code == 403
    assert coop_by_code(app, "C01").status == CooperativeStatus.APPROVED


# --- the licence scan -----------------------------------------------------------------------------


def upload(client, coop_id: int, data: bytes, name: str = "licence.jpg", content_type: str = "image/jpeg"):
    return client.post(f"/admin/cooperatives/{coop_id}/licence", content_type="multipart/form-data", data={
        "csrf_token": csrf_token(client, "/admin/cooperatives"), "licence": (io.BytesIO(data), name, content_type)})


def stored_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file()] if folder.exists() else []


def test_licence_scan_upload_is_reencoded_and_private(app, operator, client, uploads_dir, make_user):
    c01 = coop_by_code(app, "C01")
    response = upload(client, c01.id, jpeg_bytes((2400, 1800), orientation=6))
    assert response.status_code == 303
    file_id = coop_by_code(app, "C01").licence_file
    assert file_id.startswith(f"{c01.id}-")
    [stored] = stored_files(uploads_dir)
    assert stored.parent.name == "licence" and stored.read_bytes()[:2] == b"\xff\xd8"
    assert b"PhoneMaker" not in stored.read_bytes()  # no camera metadata kept
    served = client.get(f"/admin/cooperatives/{c01.id}/licence")
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert "private" in served.headers["Cache-Control"]
    [entry] = audits(app, "cooperative.licence_scan")
    assert entry.data["after"]["licence_file"] == file_id
    # the service: the operator and this cooperative's head, nobody else
    own_head = make_user(Role.COOP_HEAD, mobile="16612340003", cooperative_id=c01.id)
    other_head = make_user(Role.COOP_HEAD, mobile="16612340004")
    consumer = make_user(Role.CONSUMER, mobile="16612340005")
    with app.test_request_context():
        for user in (own_head, operator):
            user.is_authenticated  # noqa: B018  (a User is a flask-login user)
            assert coops.licence_scan_path(user, c01.id) == stored
        for user in (other_head, consumer, None):
            with pytest.raises(coops.NotFound):
                coops.licence_scan_path(user, c01.id)


@pytest.mark.parametrize("data, name, fragment", [
    (b"%PDF-1.4 not a picture", "licence.pdf", "not a photo"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "licence.svg", "not a photo"),
    (bomb_png(), "bomb.png", "megapixels"),
    (png_bytes(), "../../etc/licence.png", "folder path"),
    (png_bytes(), "C:\\Users\\x\\licence.png", "folder path"),
    (b"", "empty.jpg", "Choose a photo"),
])
def test_bad_licence_uploads_are_refused_and_nothing_is_stored(app, operator, client, uploads_dir, data, name,
                                                               fragment):
    c01 = coop_by_code(app, "C01")
    response = upload(client, c01.id, data, name)
    assert response.status_code == 303
    page = client.get(f"/admin/cooperatives/{c01.id}").get_data(as_text=True)
    assert fragment in page
    assert stored_files(uploads_dir) == []
    assert coop_by_code(app, "C01").licence_file == ""
    assert audits(app, "cooperative.licence_scan") == []


def test_oversize_licence_upload_is_refused(app, operator, client, uploads_dir):
    app.config["UPLOAD_MAX_BYTES"] = 50_000
    try:
        c01 = coop_by_code(app, "C01")
        response = upload(client, c01.id, jpeg_bytes((3000, 2000)) + b"\0" * 60_000)
    finally:
        del app.config["UPLOAD_MAX_BYTES"]
    assert response.status_code == 303
    assert stored_files(uploads_dir) == [] and coop_by_code(app, "C01").licence_file == ""


def test_licence_link_without_a_scan_goes_back_to_the_page(app, operator, client):
    c01 = coop_by_code(app, "C01")
    response = client.get(f"/admin/cooperatives/{c01.id}/licence")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/admin/cooperatives/{c01.id}#licence")


# --- registering a cooperative --------------------------------------------------------------------


def new_form(app, **overrides) -> dict:
    with app.app_context():
        village = db.session.scalar(sa.select(Village).where(Village.code == "V010"))
        village_id = village.id
    form = {"code": "c20", "name_zh": "遂昌县红星茶叶专业合作社", "name_en": "Hongxing Tea Cooperative",
            "licence_no": VALID.lower(), "village_id": str(village_id), "specialty": "tea",
            "head_name": "李红", "head_mobile": "13712345678", "founded_on": "2019-04-02",
            "description_zh": "", "description_en": ""}
    form.update(overrides)
    return form


def test_register_a_cooperative_with_its_site_and_head_account(app, operator, client):
    response = post(client, "/admin/cooperatives/new",
                    new_form(app, create_account="y", head_password="Tea2026spring"))
    assert response.status_code == 303
    coop = coop_by_code(app, "C20")
    assert coop.status == CooperativeStatus.PENDING and coop.licence_no == VALID
    with app.app_context():
        site = db.session.scalar(sa.select(Location).where(Location.cooperative_id == coop.id))
        village = db.session.get(Village, coop.village_id)
        assert site.kind == LocationKind.COOPERATIVE and (site.lat, site.lon) == (village.lat, village.lon)
        head = db.session.scalar(sa.select(User).where(User.mobile == "13712345678"))
        assert head.role == Role.COOP_HEAD and head.cooperative_id == coop.id and head.check_password("Tea2026spring")
    [entry] = audits(app, "cooperative.create")
    assert entry.object_id == coop.id and entry.data["after"]["head_account"] is True
    # the head can sign in
    other = app.test_client()
    assert login(other, "13712345678", "Tea2026spring").status_code == 302


@pytest.mark.parametrize("overrides, fragment", [
    ({"licence_no": VALID[:17] + ("0" if VALID[17] != "0" else "1")}, "check digit"),
    ({"licence_no": "93331123MA28E4G71P"}, "check digit"),  # C01's code with a wrong last character
    ({"code": "C01"}, "already has the code"),
    ({"code": "1bad"}, "capital letters"),
    ({"head_mobile": "12345"}, "11-digit"),
    ({"village_id": "0"}, "village"),
    ({"founded_on": "2099-01-01"}, "future"),
    ({"create_account": "y", "head_password": "short"}, "8 characters"),
    ({"create_account": "y", "head_password": "Tea2026spring", "head_mobile": "16612340000"}, "already exists"),
])
def test_invalid_registrations_write_nothing(app, operator, client, overrides, fragment):
    before = (len(audits(app)),)
    with app.app_context():
        counts = (db.session.scalar(sa.select(sa.func.count()).select_from(Cooperative)),
                  db.session.scalar(sa.select(sa.func.count()).select_from(Location)),
                  db.session.scalar(sa.select(sa.func.count()).select_from(User)))
    response = post(client, "/admin/cooperatives/new", new_form(app, **overrides),
)
    assert response.status_code in (409, 422)
    assert fragment in response.get_data(as_text=True)
    with app.app_context():
        assert counts == (db.session.scalar(sa.select(sa.func.count()).select_from(Cooperative)),
                          db.session.scalar(sa.select(sa.func.count()).select_from(Location)),
                          db.session.scalar(sa.select(sa.func.count()).select_from(User)))
    assert (len(audits(app)),) == before


def test_a_duplicate_licence_number_is_refused(app, operator, client):
    assert post(client, "/admin/cooperatives/new", new_form(app)).status_code == 303
    again = post(client, "/admin/cooperatives/new", new_form(app, code="C21"))
    assert again.status_code == 409 and "already registered" in again.get_data(as_text=True)
