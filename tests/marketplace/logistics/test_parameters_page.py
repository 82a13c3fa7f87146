"""The operator's logistics parameters page: every parameter with its last change, a filter, the
history with provenance and effect, and an undo that needs a reason and is audited."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from marketplace.extensions import db
from marketplace.logistics import services as parameters
from marketplace.models import AuditLog, Complaint, LogisticsParameter, Order, ParameterChange, Role
from tests.conftest import csrf_token, login


def _damaged_product_change(app) -> tuple[int, int, int]:
    """A product made fragile by complaints (through the learner): (parameter, change, product)."""
    from marketplace.logistics import learning

    with app.app_context():
        order = db.session.scalar(sa.select(Order).where(Order.status == "delivered").order_by(Order.id).limit(1))
        product_id = order.lines[0].product_id
        for _ in range(2):
            db.session.add(Complaint(number=f"C{uuid.uuid4().hex[:10]}", order_id=order.id, user_id=order.user_id,
                                     category="damaged", description="罐子碎了", product_id=product_id))
        db.session.commit()
        learning.run()
        parameter = parameters.find("product", product_id, "service_s_extra")
        return parameter.id, parameter.changes[-1].id, product_id


def test_operator_sees_every_parameter_filters_and_reverts_with_a_reason(app, seeded, client, make_user):
    operator = make_user(role=Role.OPERATOR, name="Operator Wang")
    parameter_id, change_id, product_id = _damaged_product_change(app)
    login(client, operator.mobile)
    page = client.get("/admin/parameters?lang=en").get_data(as_text=True)
    assert 'data-key="travel_factor"' in page and 'data-key="service_s_extra"' in page
    only = client.get("/admin/parameters?scope=product").get_data(as_text=True)
    assert 'data-key="service_s_extra"' in only and 'data-key="travel_factor"' not in only
    detail = client.get(f"/admin/parameters/{parameter_id}").get_data(as_text=True)
    assert f'data-change="{change_id}"' in detail and "data-complaint=" in detail and 'id="effect"' in detail

    # no reason: refused, nothing changes
    token = csrf_token(client, f"/admin/parameters/{parameter_id}")
    refused = client.post(f"/admin/parameters/changes/{change_id}/revert", data={"csrf_token": token, "reason": " "})
    assert refused.status_code == 422
    with app.app_context():
        assert parameters.get("product", product_id, "service_s_extra") > 0
    done = client.post(f"/admin/parameters/changes/{change_id}/revert",
                       data={"csrf_token": token, "reason": "repacked in foam"})
    assert done.status_code == 302
    with app.app_context():
        assert parameters.get("product", product_id, "service_s_extra") == 0
        undo = db.session.scalar(sa.select(ParameterChange).where(ParameterChange.revert_of_id == change_id))
        assert undo.source == "revert" and undo.reason == "repacked in foam" and undo.actor_user_id == operator.id
        assert db.session.get(ParameterChange, change_id).reverted_at is not None
        entry = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "parameter.revert"))
        assert entry.object_id == parameter_id and entry.data["reason"] == "repacked in foam"
        # the learner does not undo the revert with the complaints it overruled
        from marketplace.logistics import learning
        learning.run()
        assert parameters.get("product", product_id, "service_s_extra") == 0
    # a change already reverted cannot be reverted again
    again = client.post(f"/admin/parameters/changes/{change_id}/revert",
                        data={"csrf_token": token, "reason": "twice"}, follow_redirects=True)
    assert "already been reverted" in again.get_data(as_text=True) or "已" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(ParameterChange).where(
            ParameterChange.revert_of_id == change_id)) == 1


def test_a_seeded_first_value_cannot_be_reverted_and_unknown_ids_are_404(app, seeded, client, make_user):
    operator = make_user(role=Role.OPERATOR)
    login(client, operator.mobile)
    with app.app_context():
        parameter = db.session.scalar(sa.select(LogisticsParameter).where(LogisticsParameter.key == "travel_factor"))
        change_id = parameter.changes[0].id
        value = parameter.value
    token = csrf_token(client, "/admin/parameters")
    response = client.post(f"/admin/parameters/changes/{change_id}/revert",
                           data={"csrf_token": token, "reason": "try"}, follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert db.session.get(LogisticsParameter, parameter.id).value == value
    assert client.get("/admin/parameters/999999").status_code == 404
    assert client.post("/admin/parameters/changes/999999/revert",
                       data={"csrf_token": token, "reason": "x"}).status_code == 404
