"""Handover to the van (brief C): a phone form per pickup, prefilled with the pick list; one
handover per pickup (a second submission records nothing more); a count that differs is a
mismatch, recorded and alerted to the dispatcher of the route's warehouse, worded in the
reader's language, acknowledged and resolved like any alert; stock is left as it was."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from flask_babel import force_locale

from marketplace.coop import pickups
from marketplace.coop.models import Handover, HandoverLine
from marketplace.dispatch import services as dispatch
from marketplace.dispatch.models import Alert, AlertSeverity
from marketplace.extensions import db
from marketplace.inventory.models import Stock
from marketplace.models import Role
from tests.conftest import csrf_token, login
from tests.marketplace.coop.pickup_helpers import coop_with_pickups, head_of


@pytest.fixture
def pickup(app, seeded, make_user, client):
    """A head signed in, and the first pickup at their cooperative today or tomorrow."""
    with app.app_context():
        coop_id = coop_with_pickups()
        first = next(p for d in pickups.pick_days(coop_id) for p in d.pickups)
        info = {"coop_id": coop_id, "id": first.id, "keys": [i.key for i in first.items],
                "expected": [i.quantity for i in first.items], "warehouse_id": first.warehouse.id,
                "plate": first.vehicle.plate, "product_en": first.items[0].product.name_en,
                "product_zh": first.items[0].product.name_zh}
        info["stock"] = sorted(db.session.execute(sa.select(Stock.id, Stock.on_hand, Stock.reserved)).all())
    head = head_of(make_user, coop_id)
    login(client, head.mobile)
    info["head_id"] = head.id
    return info


def _post(client, pickup, counts, **fields):
    url = f"/coop/pickups/{pickup['id']}/handover"
    data = {"csrf_token": csrf_token(client, url), "handed_over_by": "李社长",
            "handed_at": pickups.utcnow().astimezone(pickups.SHANGHAI).strftime("%Y-%m-%dT%H:%M"), "note": ""}
    data.update({f"count_{n}": str(c) for n, c in enumerate(counts)})
    data.update(fields)
    return client.post(url, data=data)


def test_the_form_is_prefilled_with_the_pick_list_and_the_heads_name(app, pickup, client):
    html = client.get(f"/coop/pickups/{pickup['id']}/handover").get_data(as_text=True)
    for n, quantity in enumerate(pickup["expected"]):
        assert re.search(rf'name="count_{n}"[^>]*value="{quantity}"', html)
    with app.app_context():
        head_name = db.session.get(pickups.Cooperative, pickup["coop_id"]).head_name
    assert f'value="{head_name}"' in html


def test_a_mismatch_is_recorded_once_and_alerts_the_routes_warehouse(app, pickup, client, make_user):
    counts = list(pickup["expected"])
    counts[0] -= 1
    response = _post(client, pickup, counts, note="一箱破损")
    assert response.status_code == 302
    again = _post(client, pickup, counts)  # a second tap, or the page submitted twice
    assert again.status_code == 302
    page = client.get("/coop/pickups").get_data(as_text=True)
    assert "pk-mismatch" in page
    with app.app_context():
        handovers = db.session.scalars(sa.select(Handover)).all()
        assert len(handovers) == 1
        handover = handovers[0]
        assert handover.mismatch and handover.handed_over_by == "李社长" and handover.note == "一箱破损"
        assert [(line.expected, line.counted) for line in handover.lines] == list(zip(pickup["expected"], counts, strict=True))
        alerts = db.session.scalars(sa.select(Alert).where(Alert.kind == "handover_mismatch")).all()
        assert len(alerts) == 1
        alert = alerts[0]
        assert alert.severity == AlertSeverity.WARNING and alert.warehouse_id == pickup["warehouse_id"]
        assert alert.data["vehicle"] == pickup["plate"]
        assert alert.data["lines"][0]["difference"] == -1
        with force_locale("en"):
            text = dispatch.alert_text(alert)
            assert pickup["plate"] in text and pickup["product_en"] in text
            assert f"{counts[0]} counted, {pickup['expected'][0]} expected" in text
            assert str(dispatch.ALERT_KINDS["handover_mismatch"]) == "Handover mismatch"
        with force_locale("zh_CN"):
            assert pickup["product_zh"] in dispatch.alert_text(alert)
        # the stock is left as it was: the dispatcher decides what happens to the order
        after = sorted(db.session.execute(sa.select(Stock.id, Stock.on_hand, Stock.reserved)).all())
        assert after == pickup["stock"]
        assert alert.id in [a.id for a in dispatch.open_alerts_of(pickup["warehouse_id"])]
        dispatcher = make_user(Role.DISPATCHER, mobile="16612340077")
        dispatch.acknowledge_alert(pickup["warehouse_id"], alert.id, dispatcher.id)
        dispatch.resolve_alert(pickup["warehouse_id"], alert.id, dispatcher.id)
        assert alert.id not in [a.id for a in dispatch.open_alerts_of(pickup["warehouse_id"])]


def test_counts_as_expected_hand_over_without_an_alert(app, pickup, client):
    assert _post(client, pickup, pickup["expected"]).status_code == 302
    with app.app_context():
        handover = db.session.scalar(sa.select(Handover))
        assert handover is not None and not handover.mismatch
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)
                                 .where(Alert.kind == "handover_mismatch")) == 0
        state = next(p for d in pickups.pick_days(pickup["coop_id"]) for p in d.pickups if p.id == pickup["id"])
        assert state.state == "handed_over" and not state.remaining


@pytest.mark.parametrize("counts_change, fields, message", [
    (None, {"handed_at": "future"}, "cannot be in the future"),
    (None, {"handed_at": "old"}, "more than two days ago"),
    (None, {"handed_over_by": "  "}, "Enter the name"),
    (-100, {}, "between 0 and"),
    ("x", {}, ""),
])
def test_bad_input_is_refused_and_nothing_is_written(app, pickup, client, counts_change, fields, message):
    counts = list(pickup["expected"])
    if counts_change == "x":
        counts[0] = "three"
    elif counts_change is not None:
        counts[0] = counts_change
    local = pickups.utcnow().astimezone(pickups.SHANGHAI)
    if fields.get("handed_at") == "future":
        fields["handed_at"] = (local + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    elif fields.get("handed_at") == "old":
        fields["handed_at"] = (local - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    client.post("/lang/en", data={"csrf_token": csrf_token(client, "/coop/pickups")})
    response = _post(client, pickup, counts, **fields)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Handover)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(HandoverLine)) == 0
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Alert)
                                 .where(Alert.kind == "handover_mismatch")) == 0


def test_another_cooperatives_head_cannot_see_or_record_the_handover(app, pickup, make_user, client):
    from marketplace.models import Cooperative

    with app.app_context():
        other = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.id != pickup["coop_id"])
                                  .order_by(Cooperative.id))
    stranger = head_of(make_user, other, mobile="16612340002", name="社长乙")
    fresh = app.test_client()
    login(fresh, stranger.mobile)
    assert fresh.get(f"/coop/pickups/{pickup['id']}/handover").status_code == 404
    token = csrf_token(fresh, "/coop/pickups")
    assert fresh.post(f"/coop/pickups/{pickup['id']}/handover",
                      data={"csrf_token": token, "count_0": "0", "handed_over_by": "x"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Handover)) == 0
