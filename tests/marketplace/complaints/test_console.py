"""The complaint console: the queue (filters, search, SLA timers and near-breach highlighting), a
complaint's page (what happened: order, stop planned vs actual, route, vehicle, driver, proof),
states and their valid moves, replies the consumer sees, internal notes they never see,
assignment and macros."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.complaints import services
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import Complaint, Role
from tests.conftest import csrf_token, login
from tests.marketplace.complaints.conftest import consumer_login, english


def file(app, delivered, category="damaged", text="Jar broken on arrival.", key="k" * 12) -> str:
    with app.test_request_context(headers={"Accept-Language": "en"}):
        c = services.file_complaint(delivered.user_id, delivered.number,
                                    services.Intake(category, text, [], [], key))
        number = c.number
        db.session.remove()
        return number


@pytest.fixture
def staff(app, make_user, client):
    user = make_user(role=Role.COMPLAINT_STAFF, name="Staff Li")
    login(client, user.mobile)
    english(client)
    return user


def test_queue_shows_sla_timers_filters_and_search(app, delivered, client, staff, clock):
    clock.at_local("11:00", tick=False)
    number = file(app, delivered, category="late")  # first response 60 business minutes: 12:00
    page = client.get("/complaints/").get_data(as_text=True)
    assert number in page and "1h 00m left" in page and "breach-ok" in page
    clock.at_local("11:50", tick=False)
    near = client.get("/complaints/?breach=near").get_data(as_text=True)
    assert number in near and "breach-near" in near and "0h 10m left" in near
    assert number not in client.get("/complaints/?breach=breached").get_data(as_text=True)
    clock.at_local("12:20", tick=False)
    over = client.get("/complaints/?breach=breached").get_data(as_text=True)
    assert number in over and "0h 20m over" in over
    assert number in client.get(f"/complaints/?q={delivered.number}").get_data(as_text=True)
    assert number in client.get(f"/complaints/?q={delivered.mobile}").get_data(as_text=True)
    assert number not in client.get("/complaints/?q=SH0000").get_data(as_text=True)
    assert number not in client.get("/complaints/?category=quality").get_data(as_text=True)
    assert number in client.get("/complaints/?assignee=none&category=late").get_data(as_text=True)
    assert number not in client.get("/complaints/?assignee=me").get_data(as_text=True)


def test_complaint_page_shows_what_happened(app, delivered, client, staff):
    number = file(app, delivered)
    page = client.get(f"/complaints/{number}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        plate = c.vehicle.plate
        stop = c.stop
        planned = stop.planned_arrival_at
    assert delivered.number in html and plate in html and f"Route {delivered.route_id}" in html
    from marketplace.i18n import LOCAL_TZ

    assert planned.astimezone(LOCAL_TZ).strftime("%H:%M") in html


def test_transitions_replies_notes_and_what_the_consumer_sees(app, delivered, client, staff, clock):
    number = file(app, delivered)
    token = csrf_token(client, f"/complaints/{number}")
    client.post(f"/complaints/{number}/note", data={"csrf_token": token, "body": "Driver says the box was wet."})
    client.post(f"/complaints/{number}/reply", data={"csrf_token": token, "body": "We are sorry, checking now."})
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert c.status.value == "in_progress" and c.first_responded_at is not None
        assert [e.kind for e in c.events] == ["filed", "note", "reply", "status"]
    # an invalid move is refused; valid ones go through; a repeated one changes nothing
    refused = client.post(f"/complaints/{number}/status", data={"csrf_token": token, "status": "closed"},
                          follow_redirects=True).get_data(as_text=True)
    assert "cannot become" in refused
    for status in ("waiting_customer", "resolved", "resolved", "closed"):
        client.post(f"/complaints/{number}/status", data={"csrf_token": token, "status": status})
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert c.status.value == "closed" and c.resolved_at is not None
        assert [e.to_status for e in c.events if e.kind == "status"] == [
            "in_progress", "waiting_customer", "resolved", "closed"]
    client.post(f"/complaints/{number}/status", data={"csrf_token": token, "status": "in_progress"})  # reopen
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert c.status.value == "in_progress" and c.resolved_at is None and c.events[-1].kind == "reopened"
    # the consumer sees the reply, never the note
    other = app.test_client()
    consumer_login(other, delivered.mobile)
    mine = other.get(f"/orders/{delivered.number}").get_data(as_text=True)
    assert "We are sorry, checking now." in mine and "box was wet" not in mine
    assert "In progress" in mine


def test_macro_is_a_reply_and_a_state_in_one_step_and_assignment(app, delivered, client, staff):
    number = file(app, delivered)
    token = csrf_token(client, f"/complaints/{number}")
    client.post(f"/complaints/{number}/macro", data={"csrf_token": token, "macro": "ask_photo"})
    client.post(f"/complaints/{number}/assign", data={"csrf_token": token, "assignee": str(staff.id)})
    with app.app_context():
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert c.status.value == "waiting_customer" and c.assignee_id == staff.id
        reply = [e for e in c.events if e.kind == "reply"][0]
        assert "photo" in reply.body and c.first_responded_at == reply.created_at
    assert number in client.get("/complaints/?assignee=me").get_data(as_text=True)
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert len(services.MACROS) >= 3
        with pytest.raises(Conflict):  # a macro's state must be a valid move: closed → resolved is not
            services.change_status(number, "resolved", staff.id)
            services.change_status(number, "closed", staff.id)
            services.apply_macro(number, "resolved", staff.id)


def test_escalation_job_alerts_then_escalates_once(app, delivered, client, staff, clock):
    clock.at_local("11:00", tick=False)
    with app.app_context():
        # the demo's own open complaints (filed minutes before the seed, their clocks running on the
        # SLA calendar): alerted or escalated as far as they will be within this test's 70 minutes
        services.escalate(clock.now() + timedelta(minutes=70))
    number = file(app, delivered, category="late")
    with app.app_context():
        assert services.escalate(clock.now()) == "0 alerted, 0 escalated"
        near = clock.now() + timedelta(minutes=50)
        assert services.escalate(near) == "1 alerted, 0 escalated"
        assert services.escalate(near) == "0 alerted, 0 escalated"
        late = clock.now() + timedelta(minutes=70)
        assert services.escalate(late) == "0 alerted, 1 escalated"
        assert services.escalate(late) == "0 alerted, 0 escalated"
        c = db.session.scalar(sa.select(Complaint).where(Complaint.number == number))
        assert c.escalated_at is not None and [e.kind for e in c.events].count("escalated") == 1
        from marketplace.models import AuditLog

        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog).where(
            AuditLog.action == "complaint.escalated", AuditLog.object_id == c.id)) == 1
        db.session.remove()
    escalated = client.get("/complaints/?breach=escalated").get_data(as_text=True)
    assert number in escalated and "Escalated" in escalated
