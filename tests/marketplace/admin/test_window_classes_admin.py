"""Window classes: fee (yuan → fen), compensation steps and cap, names, offered or not."""

from __future__ import annotations

import sqlalchemy as sa

from marketplace.admin import fleet
from marketplace.checkout import services as checkout
from marketplace.extensions import db
from marketplace.models import WindowClass
from tests.marketplace.admin.conftest import audits, operator_client, post
from tests.marketplace.checkout.conftest import make_shop


def _class(code: str) -> WindowClass:
    return db.session.scalar(sa.select(WindowClass).where(WindowClass.code == code))


def _form(c: WindowClass, **changes) -> dict:
    data = {"name_zh": c.name_zh, "name_en": c.name_en, "fee": f"{c.fee_fen / 100:.2f}",
            "steps": fleet.steps_text(c.compensation_steps), "cap": f"{c.compensation_cap_fen / 100:.2f}",
            "active": "1" if c.active else "0"}
    data.update(changes)
    return data


def test_steps_are_read_as_minutes_and_yuan():
    problems = fleet.Problems()
    assert fleet.parse_steps(problems, "0, 5\n30，10.50\n\n60 20") == [[0, 500], [1800, 1050], [3600, 2000]]
    assert not problems.errors
    for text, message in [("30, 10\n10, 20", "Line 2: the minutes must grow"),
                          ("30, 10\n30, 20", "Line 2: the minutes must grow"),
                          ("-5, 10", "Line 1: write minutes late"), ("30, -1", "Line 1: write minutes late"),
                          ("30, 1.005", "Line 1: write minutes late"), ("30", "Line 1: write minutes late")]:
        problems = fleet.Problems()
        fleet.parse_steps(problems, text)
        assert message in problems.errors["steps"], text
    assert fleet.steps_text([[0, 500], [1800, 1050]]) == "0, 5.00\n30, 10.50"


def test_edit_fee_steps_and_cap_is_audited_and_applied_once(app, seeded, make_user):
    client, op = operator_client(app, make_user)
    with app.app_context():
        c = _class("6h")
        cid, before = c.id, fleet._class_fields(c)
        data = _form(c, fee="7.5", steps="0, 4\n45, 9.90", cap="15", name_en="6-hour delivery")
    response = post(client, f"/admin/window-classes/{cid}", data)
    assert response.status_code == 303
    with app.app_context():
        c = db.session.get(WindowClass, cid)
        assert (c.fee_fen, c.compensation_steps, c.compensation_cap_fen, c.hours) == (750, [[0, 400], [2700, 990]], 1500, 6)
        assert c.compensation_for(46 * 60) == 990
    [entry] = audits(app, "window_class.update")
    assert entry.actor_user_id == op.id and entry.object_id == cid
    assert entry.data["before"] == {k: before[k] for k in entry.data["after"]}
    assert entry.data["after"] == {"fee_fen": 750, "compensation_steps": [[0, 400], [2700, 990]],
                                   "compensation_cap_fen": 1500, "name_en": "6-hour delivery"}
    assert post(client, f"/admin/window-classes/{cid}", data).status_code == 303
    assert len(audits(app, "window_class.update")) == 1
    page = client.get("/admin/window-classes").get_data(as_text=True)
    assert "¥7.50" in page and "≥ 45 min late: ¥9.90" in page


def test_every_rule_has_its_message_and_nothing_is_written(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    with app.app_context():
        c = _class("2h")
        cid, data, before = c.id, _form(c), fleet._class_fields(c)
    for change, message in [({"fee": "-1"}, "Enter an amount in yuan of 0 or more"),
                            ({"fee": "1.234"}, "Enter an amount in yuan of 0 or more"),
                            ({"fee": ""}, "Enter an amount in yuan of 0 or more"),
                            ({"fee": "abc"}, "Enter an amount in yuan of 0 or more"),
                            ({"cap": "-0.01"}, "Enter an amount in yuan of 0 or more"),
                            ({"steps": "60, 5\n30, 10"}, "the minutes must grow"),
                            ({"name_zh": ""}, "Enter the Chinese name."),
                            ({"name_en": "x" * 65}, "At most 64 characters."),
                            ({"active": ""}, "Choose yes or no.")]:
        response = post(client, f"/admin/window-classes/{cid}", {**data, **change})
        assert response.status_code == 422, change
        assert message in response.get_data(as_text=True), change
    with app.app_context():
        assert fleet._class_fields(db.session.get(WindowClass, cid)) == before
    assert audits(app, "window_class.update") == []
    # a free window with no compensation is allowed
    assert post(client, f"/admin/window-classes/{cid}", {**data, "fee": "0", "steps": "", "cap": "0"}).status_code == 303


def test_a_class_no_longer_offered_is_not_quoted_and_the_last_one_stays(app, seeded, make_user):
    client, _op = operator_client(app, make_user)
    shop = make_shop(app, make_user)
    with app.app_context():
        quoted = [w.code for w in checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows]
        assert "18h" in quoted
        c = _class("18h")
        cid, data = c.id, _form(c, active="0")
        db.session.remove()
    assert post(client, f"/admin/window-classes/{cid}", data).status_code == 303
    with app.app_context():
        quoted = [w.code for w in checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows]
        assert "18h" not in quoted and quoted
        others = list(db.session.scalars(sa.select(WindowClass).where(WindowClass.code != "2h")))
        for other in others:
            other.active = False
        db.session.commit()
        last = _class("2h")
        last_id, last_data = last.id, _form(last, active="0")
    refused = post(client, f"/admin/window-classes/{last_id}", last_data)
    assert refused.status_code == 422 and "last window class offered" in refused.get_data(as_text=True)
    # offered again, it is quoted again
    assert post(client, f"/admin/window-classes/{cid}", {**data, "active": "1"}).status_code == 303
    with app.app_context():
        assert "18h" in [w.code for w in checkout.quote(shop.user_id, shop.address_id, {shop.product_id: 1}).windows]
