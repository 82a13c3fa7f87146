"""Users and roles: list, create staff accounts, change roles, deactivate and reactivate."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import force_locale

from marketplace.admin import fleet
from marketplace.auth import services as auth_services
from marketplace.extensions import db
from marketplace.models import ApiToken, Driver, LoginSession, Role, User
from tests.conftest import PASSWORD, login, quick_hash
from tests.marketplace.admin.conftest import audits, operator_client, post


def _user(app, user_id: int) -> User:
    with app.app_context():
        u = db.session.get(User, user_id)
        db.session.expunge(u)
        return u


def test_list_filters_by_role_and_searches_name_or_mobile(app, make_user):
    client, _op = operator_client(app, make_user)
    make_user(Role.DISPATCHER, mobile="13700000001", name="Zhang Dispatch")
    make_user(Role.CONSUMER, mobile="13700000002", name="Li Buyer")
    page = client.get("/admin/users?role=dispatcher").get_data(as_text=True)
    assert "13700000001" in page and "13700000002" not in page
    page = client.get("/admin/users?q=Buyer").get_data(as_text=True)
    assert "13700000002" in page and "13700000001" not in page
    page = client.get("/admin/users?q=0000001").get_data(as_text=True)
    assert "13700000001" in page and "13700000002" not in page
    assert client.get("/admin/users?role=emperor").status_code == 404


def test_list_is_paged(app, make_user):
    client, _op = operator_client(app, make_user)
    with app.app_context():
        for i in range(fleet.PAGE_SIZE + 5):
            db.session.add(User(mobile=f"1350000{i:04d}", name=f"Bulk {i}", role=Role.CONSUMER,
                                password_hash=quick_hash(PASSWORD)))
        db.session.commit()
    first = client.get("/admin/users?q=Bulk").get_data(as_text=True)
    second = client.get("/admin/users?q=Bulk&page=2").get_data(as_text=True)
    assert first.count("Bulk ") == fleet.PAGE_SIZE and second.count("Bulk ") == 5
    assert "page=2" in first


def test_create_staff_account_with_audit_and_a_driver_record(app, make_user):
    client, op = operator_client(app, make_user)
    response = post(client, "/admin/users/new", {"role": "driver", "name": "Wang Driver", "mobile": "138 0000 1111",
                                                 "password": "Temp2026pass", "confirm": "Temp2026pass",
                                                 "once": "tok-1"})
    assert response.status_code == 303
    with app.app_context():
        u = db.session.scalar(sa.select(User).where(User.mobile == "13800001111"))
        assert u.role == Role.DRIVER and u.name == "Wang Driver" and u.check_password("Temp2026pass")
        d = db.session.scalar(sa.select(Driver).where(Driver.user_id == u.id))
        assert d is not None and d.active and d.mobile == "13800001111"
        user_id = u.id
    [entry] = audits(app, "user.create")
    assert entry.actor_user_id == op.id and entry.object_id == user_id
    assert entry.data["before"] == {} and entry.data["after"]["role"] == "driver"
    # the new account signs in with the temporary password
    assert login(app.test_client(), "13800001111", "Temp2026pass").status_code == 302


def test_a_double_submission_creates_one_account(app, make_user):
    client, _op = operator_client(app, make_user)
    data = {"role": "dispatcher", "name": "Twice", "mobile": "13800002222", "password": "Temp2026pass",
            "confirm": "Temp2026pass", "once": "same-form"}
    first = post(client, "/admin/users/new", data)
    second = post(client, "/admin/users/new", data)
    assert first.status_code == second.status_code == 303
    assert first.headers["Location"] == second.headers["Location"]
    assert len(audits(app, "user.create")) == 1
    # another form (another token) with the same number is refused
    third = post(client, "/admin/users/new", {**data, "once": "another-form"})
    assert third.status_code == 422 and "already has an account" in third.get_data(as_text=True)


def test_create_validates_every_field_and_writes_nothing(app, make_user):
    client, _op = operator_client(app, make_user)
    response = post(client, "/admin/users/new", {"role": "consumer", "name": "", "mobile": "12345",
                                                 "password": "short", "confirm": "short", "once": "x"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose a role." in page  # consumers register themselves
    assert "Enter the person&#39;s name." in page
    assert "Enter an 11-digit mainland mobile number" in page
    assert "Use at least 8 characters." in page  # the project's password rules
    weak = post(client, "/admin/users/new", {"role": "coop_head", "name": "H", "mobile": "13800003333",
                                             "password": "password1", "confirm": "password1"})
    assert weak.status_code == 422
    text = weak.get_data(as_text=True)
    assert "This password is too common." in text and "A cooperative head needs a cooperative" in text
    mismatch = post(client, "/admin/users/new", {"role": "dispatcher", "name": "H", "mobile": "13800003333",
                                                 "password": "Temp2026pass", "confirm": "Temp2026pasx"})
    assert mismatch.status_code == 422 and "do not match" in mismatch.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(User).where(User.mobile == "13800003333")) is None
    assert audits(app, "user.create") == []


def test_change_role_needs_a_cooperative_for_a_head_and_links_a_driver(app, make_user):
    client, op = operator_client(app, make_user)
    other_head = make_user(Role.COOP_HEAD)  # (makes a cooperative)
    coop_id = _user(app, other_head.id).cooperative_id
    target = make_user(Role.DISPATCHER, mobile="13900001234", name="Role Change")
    path = f"/admin/users/{target.id}/role"
    refused = post(client, path, {"role": "coop_head", "cooperative_id": ""}, page=f"/admin/users/{target.id}")
    assert refused.status_code == 422 and "needs a cooperative" in refused.get_data(as_text=True)
    assert _user(app, target.id).role == Role.DISPATCHER
    ok = post(client, path, {"role": "coop_head", "cooperative_id": str(coop_id)}, page=f"/admin/users/{target.id}")
    assert ok.status_code == 303
    assert _user(app, target.id).role == Role.COOP_HEAD and _user(app, target.id).cooperative_id == coop_id
    [entry] = audits(app, "user.update")
    assert entry.data == {"before": {"role": "dispatcher", "cooperative_id": None},
                          "after": {"role": "coop_head", "cooperative_id": coop_id}}
    assert entry.actor_user_id == op.id
    # a driver gets a Driver record; leaving the role deactivates it, coming back reuses it
    post(client, path, {"role": "driver"}, page=f"/admin/users/{target.id}")
    with app.app_context():
        driver = db.session.scalar(sa.select(Driver).where(Driver.user_id == target.id))
        assert driver.active and _user(app, target.id).cooperative_id is None
        driver_id = driver.id
    post(client, path, {"role": "dispatcher"}, page=f"/admin/users/{target.id}")
    post(client, path, {"role": "driver"}, page=f"/admin/users/{target.id}")
    with app.app_context():
        rows = list(db.session.scalars(sa.select(Driver).where(Driver.user_id == target.id)))
        assert [d.id for d in rows] == [driver_id] and rows[0].active
    # the same role again changes nothing and records nothing
    before = len(audits(app, "user.update"))
    again = post(client, path, {"role": "driver"}, page=f"/admin/users/{target.id}")
    assert again.status_code == 303 and len(audits(app, "user.update")) == before


def test_an_operator_cannot_demote_or_deactivate_themselves_nor_the_last_operator(app, make_user):
    client, op = operator_client(app, make_user)
    page = f"/admin/users/{op.id}"
    demote = post(client, f"/admin/users/{op.id}/role", {"role": "dispatcher"}, page=page)
    assert demote.status_code == 422 and "from yourself" in demote.get_data(as_text=True)
    off = post(client, f"/admin/users/{op.id}/active", {"active": "0"}, page=page)
    assert off.status_code == 422 and "your own account" in off.get_data(as_text=True)
    assert _user(app, op.id).role == Role.OPERATOR and _user(app, op.id).active
    with app.app_context():
        # the last active operator (another one is deactivated) cannot go
        second = db.session.get(User, make_user(Role.OPERATOR, mobile="16612340001").id)
        second_id = second.id
        db.session.remove()
        # operator two demotes operator one? only when another active operator remains
        try:
            fleet.update_user(second_id, op.id, role="dispatcher")
        except fleet.Invalid:
            raise AssertionError("two active operators: one may be demoted") from None
        db.session.remove()
        try:
            with force_locale("en"):
                fleet.set_user_active(op.id, second_id, "0")
        except fleet.Invalid as error:
            with force_locale("en"):
                assert "last active operator" in error.errors["active"]
        else:
            raise AssertionError("the last active operator was deactivated")
        db.session.rollback()
        assert db.session.get(User, second_id).active


def test_deactivation_ends_every_sign_in_and_token_and_refuses_sign_in(app, make_user):
    client, op = operator_client(app, make_user)
    target = make_user(Role.DISPATCHER, mobile="13900005678", name="Leaving")
    theirs = app.test_client()
    assert login(theirs, target.mobile).status_code == 302
    assert theirs.get("/dispatch/").status_code == 200
    with app.app_context():
        token = auth_services.issue_token(db.session.get(User, target.id), "phone")
    page = f"/admin/users/{target.id}"
    response = post(client, f"/admin/users/{target.id}/active", {"active": "0"}, page=page)
    assert response.status_code == 303
    assert theirs.get("/dispatch/").status_code == 302  # their session is gone: back to sign-in
    with app.app_context():
        assert auth_services.user_for_token(token) is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(LoginSession).where(
            LoginSession.user_id == target.id, LoginSession.revoked_at.is_(None))) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ApiToken).where(
            ApiToken.user_id == target.id, ApiToken.revoked_at.is_(None))) == 0
    refused = login(app.test_client(), target.mobile)
    assert refused.status_code != 302
    [entry] = audits(app, "user.deactivate")
    assert entry.data == {"before": {"active": True}, "after": {"active": False}} and entry.actor_user_id == op.id
    # twice: applied once
    again = post(client, f"/admin/users/{target.id}/active", {"active": "0"}, page=page)
    assert again.status_code == 303 and len(audits(app, "user.deactivate")) == 1
    # reactivated, they sign in again
    post(client, f"/admin/users/{target.id}/active", {"active": "1"}, page=page)
    assert login(app.test_client(), target.mobile).status_code == 302
    assert len(audits(app, "user.reactivate")) == 1


def test_an_empty_or_bad_active_value_changes_nothing(app, make_user):
    client, _op = operator_client(app, make_user)
    target = make_user(Role.CONSUMER, mobile="13900009999")
    page = f"/admin/users/{target.id}"
    assert post(client, f"/admin/users/{target.id}/active", {}, page=page).status_code == 422
    assert post(client, f"/admin/users/{target.id}/active", {"active": "maybe"}, page=page).status_code == 422
    assert _user(app, target.id).active
    assert client.get("/admin/users/999999").status_code == 404


def test_pages_are_for_operators_only(app, make_user):
    dispatcher = make_user(Role.DISPATCHER, mobile="13900004444")
    client = app.test_client()
    login(client, dispatcher.mobile)
    for path in ("/admin/users", "/admin/users/new", "/admin/warehouses", "/admin/vehicles", "/admin/drivers",
                 "/admin/window-classes"):
        assert client.get(path).status_code == 403, path
