"""Pick lists (brief C): every pickup stop of the active plans at the head's own cooperative,
today and the next day in Shanghai, grouped by van with what to prepare; printable; another
cooperative's pickups are not shown and their ids are not found."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from marketplace.coop import pickups
from marketplace.dispatch.models import StopStatus
from marketplace.extensions import db
from marketplace.models import Cooperative
from tests.conftest import login
from tests.marketplace.coop.pickup_helpers import active_pickup_stops, coop_with_pickups, head_of

SHANGHAI = pickups.SHANGHAI


@pytest.mark.parametrize("hhmm", ["05:00", "12:00", "23:50"])
def test_the_pick_list_holds_todays_and_tomorrows_pickups_at_any_hour(app, seeded_at, make_user, client, hhmm):
    seeded_at(hhmm)
    with app.app_context():
        coop_id = coop_with_pickups()
        assert coop_id is not None, f"the demo county at {hhmm} has pickups at a cooperative"
        now = pickups.utcnow()
        today = now.astimezone(SHANGHAI).date()
        days = pickups.pick_days(coop_id, now)
        assert [d.day for d in days] == [today, today + timedelta(days=1)]
        shown = {s.id for d in days for p in d.pickups for s in p.stops}
        start = pickups.local_day_start(today)
        expected = {s.id for s in active_pickup_stops(coop_id)
                    if start <= s.planned_arrival_at < start + timedelta(days=2)}
        assert shown == expected and shown
        for d in days:
            for p in d.pickups:
                assert p.planned_at.astimezone(SHANGHAI).date() == d.day
                assert p.items and all(i.quantity > 0 for i in p.items)
                assert all(s.location.cooperative_id == coop_id for s in p.stops)
                assert p.state == "to_prepare"
            # the day's totals add the pickups' items up per product
            assert sum(q for _, q in d.totals()) == sum(i.quantity for p in d.pickups for i in p.items)
        order_items = [i for d in days for p in d.pickups for i in p.items if i.order is not None]
        numbers = sorted({i.order.number for i in order_items})
        plates = sorted({p.vehicle.plate for d in days for p in d.pickups})
        other = db.session.scalar(sa.select(Cooperative.id).where(Cooperative.id != coop_id).order_by(Cooperative.id))
        foreign = [s.id for s in active_pickup_stops(other)]
    head = head_of(make_user, coop_id)
    login(client, head.mobile)
    html = client.get("/coop/pickups").get_data(as_text=True)
    assert all(n in html for n in numbers) and all(p in html for p in plates)
    printed = client.get("/coop/pickups/print").get_data(as_text=True)
    assert "pk-print" in printed and all(n in printed for n in numbers)
    first = min(shown)
    one = client.get(f"/coop/pickups/print?pickup={first}")
    assert one.status_code == 200
    assert client.get("/coop/pickups/print?pickup=abc").status_code == 404
    if foreign:  # another cooperative's pickup: not found
        assert client.get(f"/coop/pickups/print?pickup={foreign[0]}").status_code == 404
        assert client.get(f"/coop/pickups/{foreign[0]}/handover").status_code == 404


def test_a_pickup_made_on_a_superseded_plan_stays_on_the_list_as_collected(app, seeded, make_user, ctx):
    from marketplace.dispatch import services as dispatch
    from marketplace.planning import services as planning

    coop_id = coop_with_pickups()
    stop = active_pickup_stops(coop_id)[0]
    warehouse_id = stop.route.plan.warehouse_id
    dispatch.start_route(stop.route_id)
    dispatch.record_stop(stop.id, StopStatus.DONE)
    planning.plan_warehouse(warehouse_id, seconds=0.5)
    days = pickups.pick_days(coop_id)
    found = [p for d in days for p in d.pickups if any(s.id == stop.id for s in p.stops)]
    assert len(found) == 1 and found[0].driver_done
    # and its order is not listed twice (the re-plan carries only what is still to be made)
    keys = [i.key for d in days for p in d.pickups for i in p.items]
    assert len(keys) == len(set(keys))


def test_other_roles_and_signed_out_visitors_get_no_pick_list(app, seeded, make_user, client):
    from marketplace.models import Role

    assert client.get("/coop/pickups").status_code == 302
    consumer = make_user(Role.CONSUMER, mobile="16612340009")
    login(client, consumer.mobile)
    assert client.get("/coop/pickups").status_code in (403, 404)
