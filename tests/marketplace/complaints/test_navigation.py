"""Finding the complaint console: its section bar, and escalated complaints on the operator's
overview linking to the console's escalated filter."""

from __future__ import annotations

from datetime import timedelta

from marketplace.complaints import services
from marketplace.extensions import db
from marketplace.models import Role
from tests.conftest import login
from tests.marketplace.complaints.conftest import english
from tests.marketplace.complaints.test_console import file


def test_complaint_staff_pages_show_their_section_bar(app, seeded, client, make_user):
    login(client, make_user(role=Role.COMPLAINT_STAFF).mobile)
    english(client)
    html = client.get("/complaints/").get_data(as_text=True)
    assert 'class="sectionnav"' in html
    assert 'href="/complaints/" class="active" aria-current="page">Complaint queue' in html
    assert 'href="/complaints/new"' in html and "New complaint (phone call)" in html


def test_the_operators_overview_links_escalated_complaints(app, delivered, client, make_user, clock):
    login(client, make_user(role=Role.OPERATOR).mobile)
    english(client)
    clock.at_local("11:00", tick=False)
    with app.app_context():
        services.escalate(clock.now() + timedelta(minutes=70))  # the demo's own open complaints first
        before = services.counts()["escalated"]
        db.session.remove()
    overview = client.get("/admin/").get_data(as_text=True)
    assert ("No escalated complaints." in overview) == (before == 0)
    file(app, delivered, category="late")
    with app.app_context():
        services.escalate(clock.now() + timedelta(hours=3))
        after = services.counts()["escalated"]
        db.session.remove()
    assert after > before
    overview = client.get("/admin/").get_data(as_text=True)
    assert f"{after} complaint" in overview and "escalated" in overview
    assert "/complaints/?status=open&amp;breach=escalated" in overview
    listed = client.get("/complaints/?status=open&breach=escalated").get_data(as_text=True)
    assert listed.count("Escalated") >= 1
