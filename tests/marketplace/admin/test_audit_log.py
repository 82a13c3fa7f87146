"""The audit log page: newest first, filters (who, action, object, Shanghai days), paging, the
before/after data laid out, the object linked where it has a page."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from marketplace.admin.audit_log import PAGE_SIZE, laid_out
from marketplace.admin.models import AuditLog
from marketplace.auth.models import Role
from marketplace.coop.models import Cooperative
from marketplace.extensions import db
from tests.conftest import login


def entry_actions(html: str) -> list[str]:
    return re.findall(r'class="card audit-entry" data-action="([^"]+)"', html)


@pytest.fixture
def world(app, make_user, client):
    operator = make_user(Role.OPERATOR, mobile="16612341000", name="Wu Operator", locale="en")
    other = make_user(Role.OPERATOR, mobile="16612341001", name="Zhao Auditor")
    login(client, operator.mobile)
    coop_id = make_user(Role.COOP_HEAD, mobile="16612341002").cooperative_id

    def add(action, actor, when, object_type="", object_id=None, data=None, ip="203.0.113.7"):
        db.session.add(AuditLog(action=action, actor_user_id=actor, object_type=object_type, object_id=object_id,
                                data=data or {}, ip=ip, created_at=when))

    with app.app_context():
        # 23:30 on 1 Dec and 00:30 on 2 Dec in Shanghai: different days there, one day in UTC
        add("cooperative.suspend", operator.id, datetime(2026, 12, 1, 15, 30, tzinfo=UTC), "cooperative", coop_id,
            {"before": {"status": "approved", "status_reason": ""},
             "after": {"status": "suspended", "status_reason": "Mould found"}, "code": "C99"})
        add("cooperative.reinstate", operator.id, datetime(2026, 12, 1, 16, 30, tzinfo=UTC), "cooperative", coop_id,
            {"before": {"status": "suspended"}, "after": {"status": "approved"}})
        add("vehicle.update", other.id, datetime(2026, 11, 20, 2, 0, tzinfo=UTC), "vehicle", 5,
            {"before": {"capacity_kg": 800}, "after": {"capacity_kg": 900}})
        add("job.run", None, datetime(2026, 11, 19, 2, 0, tzinfo=UTC), "", None, {"job": "replan"}, ip="")
        db.session.commit()
        db.session.remove()
    return {"operator": operator, "other": other, "coop_id": coop_id}


def test_newest_first_with_who_what_object_and_ip(app, world, client):
    html = client.get("/admin/audit").get_data(as_text=True)
    assert entry_actions(html) == ["cooperative.reinstate", "cooperative.suspend", "vehicle.update", "job.run"]
    assert "Wu Operator · 16612341000" in html and "Zhao Auditor · 16612341001" in html
    assert "IP 203.0.113.7" in html and "the system" in html
    assert f'href="/admin/cooperatives/{world["coop_id"]}"' in html  # the object's page
    assert "Cooperative suspended" in html  # a known action by its name
    # before → after, the changed field shown with both values
    suspended = html.split('data-action="cooperative.suspend"')[1].split("</li>")[0]
    assert '<tr class="changed"><td>status_reason</td><td></td><td>Mould found</td></tr>' in suspended
    assert '<tr class="changed"><td>status</td><td>approved</td><td>suspended</td></tr>' in suspended
    assert "<dt>code</dt><dd class=\"break-all\">C99</dd>" in suspended


@pytest.mark.parametrize("query, expected", [
    ("actor=Zhao", ["vehicle.update"]),
    ("actor=16612341000", ["cooperative.reinstate", "cooperative.suspend"]),
    ("action=job.run", ["job.run"]),
    ("object_type=cooperative", ["cooperative.reinstate", "cooperative.suspend"]),
    ("object_type=vehicle&object_id=5", ["vehicle.update"]),
    ("object_type=vehicle&object_id=6", []),
    ("from=2026-12-01&to=2026-12-01", ["cooperative.suspend"]),  # 23:30 Shanghai, not 00:30 the next day
    ("from=2026-12-02", ["cooperative.reinstate"]),
    ("to=2026-11-20", ["vehicle.update", "job.run"]),
])
def test_filters(app, world, client, query, expected):
    assert entry_actions(client.get(f"/admin/audit?{query}").get_data(as_text=True)) == expected


def test_actor_filter_by_account_id(app, world, client):
    html = client.get(f"/admin/audit?actor={world['other'].id}").get_data(as_text=True)
    assert entry_actions(html) == ["vehicle.update"]


@pytest.mark.parametrize("query, message", [
    ("from=2026-13-01", "YYYY-MM-DD"),
    ("from=2026-12-05&to=2026-12-01", "must not be after"),
    ("from=2024-01-01&to=2026-01-01", "at most 366 days"),
])
def test_bad_day_ranges_say_why_and_show_everything(app, world, client, query, message):
    html = client.get(f"/admin/audit?{query}").get_data(as_text=True)
    assert message in html and len(entry_actions(html)) == 4


def test_paging(app, world, client):
    with app.app_context():
        for i in range(PAGE_SIZE + 3):
            db.session.add(AuditLog(action="bulk.test", actor_user_id=world["operator"].id, object_type="thing",
                                    object_id=i + 1, data={}, created_at=datetime(2026, 10, 1, tzinfo=UTC)))
        db.session.commit()
        db.session.remove()
    first = client.get("/admin/audit?action=bulk.test").get_data(as_text=True)
    second = client.get("/admin/audit?action=bulk.test&page=2").get_data(as_text=True)
    assert len(entry_actions(first)) == PAGE_SIZE and len(entry_actions(second)) == 3
    assert "page=2" in first and "action=bulk.test" in first.split("pager")[1]
    assert f"{PAGE_SIZE + 3} records" in first
    last = client.get("/admin/audit?action=bulk.test&page=99999").get_data(as_text=True)
    assert len(entry_actions(last)) == 3  # past the end: the last page
    assert client.get("/admin/audit?object_id=x").status_code == 404  # as every id in a URL (inputs.query_id)


def test_an_action_on_a_cooperative_appears_with_its_actor(app, seeded, world, client):
    from tests.conftest import csrf_token

    with app.app_context():
        c01 = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.code == "C01"))
    client.post(f"/admin/cooperatives/{c01}/suspend",
                data={"csrf_token": csrf_token(client, "/admin/cooperatives"), "reason": "Audit me"})
    html = client.get(f"/admin/audit?object_type=cooperative&object_id={c01}").get_data(as_text=True)
    assert entry_actions(html) == ["cooperative.suspend"]
    assert "Audit me" in html and "Wu Operator" in html and "IP 127.0.0.1" in html


def test_only_operators(app, make_user):
    client = app.test_client()
    dispatcher = make_user(Role.DISPATCHER, mobile="16612341003")
    login(client, dispatcher.mobile)
    assert client.get("/admin/audit").status_code == 403


def test_data_without_before_after_is_listed_as_it_is():
    changes, details = laid_out({"job": "replan", "n": 3, "flags": ["a"]})
    assert changes == [] and details == [("job", "replan"), ("n", "3"), ("flags", '["a"]')]
    changes, _ = laid_out({"before": None, "after": {"code": "C20", "head_account": True}})
    assert [(c.key, c.before, c.after) for c in changes] == [("code", None, "C20"), ("head_account", None, "✓")]
