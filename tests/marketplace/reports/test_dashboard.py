"""The operator's dashboard (/reports/): its numbers equal what the database holds.

A small known county is written by hand into ten Shanghai days two months back (the demo
county's history is the last days, so the period holds only ours): orders on both sides of
Shanghai midnight and of the period's edges, in two zones and two cooperatives, complaints,
compensation, routes, checkout offers and parameter changes. Then the demo county's own last 30
days are held against independent queries. Bad periods and zones, the zone filter, the page."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    ChangeSource,
    Compensation,
    CompensationKind,
    Complaint,
    ComplaintCategory,
    Cooperative,
    Location,
    LogisticsParameter,
    Order,
    OrderLine,
    OrderStatus,
    ParameterChange,
    ParameterScope,
    PaymentMethod,
    Plan,
    PlanStatus,
    PlanTrigger,
    Product,
    Role,
    Route,
    RouteStatus,
    Stop,
    StopKind,
    StopStatus,
    User,
    Vehicle,
    Village,
    WindowClass,
    Zone,
)
from marketplace.reports import dashboard
from marketplace.reports.offers import WindowOffer
from tests.conftest import login

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), SHANGHAI).astimezone(UTC)


@dataclass
class Known:
    first: date  # the period: ten Shanghai days
    last: date
    zone_a: int
    zone_b: int
    coop_a: int
    coop_b: int
    orders: dict[str, int]

    def args(self, **more) -> dict[str, str]:
        return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat(), **more}


class Writer:
    """Rows written straight into the tables, as the checkout, the lifecycle and the learner leave them."""

    def __init__(self) -> None:
        self.serial = 0
        self.consumer = db.session.scalar(sa.select(User.id).where(User.role == Role.CONSUMER).order_by(User.id))
        self.location = db.session.scalar(sa.select(Location.id).order_by(Location.id))
        self.windows = {w.code: w for w in db.session.scalars(sa.select(WindowClass))}

    def order(self, zone_id: int, placed_at: datetime, lines: list[tuple[Product, int]], window: str = "6h",
              status: OrderStatus = OrderStatus.DELIVERED, late: bool = False) -> Order:
        self.serial += 1
        w = self.windows[window]
        village = db.session.scalar(sa.select(Village).where(Village.zone_id == zone_id).order_by(Village.id))
        deadline = placed_at + timedelta(hours=w.hours)
        delivered = (deadline + timedelta(minutes=20) if late else deadline - timedelta(minutes=30)) \
            if status == OrderStatus.DELIVERED else None
        subtotal = sum(p.price_fen * q for p, q in lines)
        order = Order(number=f"DB{self.serial:010d}", user_id=self.consumer, status=status,
                      payment_method=PaymentMethod.ONLINE, village_id=village.id, zone_id=zone_id,
                      recipient_name="看板", recipient_mobile="13800000000", address_text="看板路 1 号",
                      lat=village.lat, lon=village.lon, window_class_id=w.id, placed_at=placed_at,
                      deadline_at=deadline, delivered_at=delivered, subtotal_fen=subtotal, delivery_fee_fen=w.fee_fen,
                      total_fen=subtotal + w.fee_fen, created_at=placed_at)
        for product, quantity in lines:
            order.lines.append(OrderLine(
                product_id=product.id, source_location_id=self.location, product_name_zh=product.name_zh,
                product_name_en=product.name_en, unit_price_fen=product.price_fen, quantity=quantity,
                line_total_fen=product.price_fen * quantity, weight_g=product.weight_g * quantity,
                volume_cm3=product.volume_cm3 * quantity))
        db.session.add(order)
        db.session.flush()
        return order

    def complaint(self, order: Order, category: ComplaintCategory, at: datetime, resolved_after: timedelta | None,
                  cooperative_id: int | None = None) -> Complaint:
        self.serial += 1
        complaint = Complaint(number=f"DBC{self.serial:08d}", order_id=order.id, user_id=order.user_id,
                              category=category, description="看板", cooperative_id=cooperative_id,
                              created_at=at, resolved_at=at + resolved_after if resolved_after else None)
        db.session.add(complaint)
        db.session.flush()
        return complaint

    def change(self, scope: ParameterScope, scope_id: int, key: str, at: datetime, old, new,
               source: ChangeSource = ChangeSource.DELIVERIES) -> None:
        parameter = db.session.scalar(sa.select(LogisticsParameter).where(
            LogisticsParameter.scope == scope, LogisticsParameter.scope_id == scope_id, LogisticsParameter.key == key))
        if parameter is None:
            parameter = LogisticsParameter(scope=scope, scope_id=scope_id, key=key, value=new)
            db.session.add(parameter)
            db.session.flush()
        db.session.add(ParameterChange(parameter_id=parameter.id, old_value=old, new_value=new, source=source,
                                       created_at=at))


def _product(coop_id: int, sku: str, price: int, template: Product) -> Product:
    product = Product(sku=sku, cooperative_id=coop_id, category_id=template.category_id, name_zh=sku, name_en=sku,
                      unit_zh="袋", unit_en="bag", price_fen=price, weight_g=500, volume_cm3=1000, status=template.status)
    db.session.add(product)
    db.session.flush()
    return product


@pytest.fixture
def known(app, seeded, clock) -> Known:
    now = clock.now()
    first = now.astimezone(SHANGHAI).date() - timedelta(days=60)
    last = first + timedelta(days=9)
    day = [first + timedelta(days=i) for i in range(10)]
    with app.app_context():
        w = Writer()
        zone_a, zone_b = db.session.scalars(sa.select(Zone.id).order_by(Zone.code).limit(2)).all()
        coop_a, coop_b = db.session.scalars(sa.select(Cooperative.id).order_by(Cooperative.code).limit(2)).all()
        template = db.session.scalar(sa.select(Product).order_by(Product.id))
        pa, pb = _product(coop_a, "DB-A", 1000, template), _product(coop_b, "DB-B", 2500, template)
        o = {
            # in the period (its first instant, just before a Shanghai midnight, just after it, its last day)
            "o1": w.order(zone_a, local(day[0], "00:00"), [(pa, 2)], "2h"),
            "o2": w.order(zone_a, local(day[0], "23:59:59"), [(pa, 1), (pb, 1)], "6h", late=True),
            "o3": w.order(zone_b, local(day[1], "00:00"), [(pb, 2)], "6h", status=OrderStatus.CONFIRMED),
            "o4": w.order(zone_b, local(day[4], "12:00"), [(pa, 1)], "2h", status=OrderStatus.CANCELLED),
            "o6": w.order(zone_b, local(day[9], "23:00"), [(pb, 1)], "2h"),
            # the last second before the period
            "o5": w.order(zone_a, local(first - timedelta(days=1), "23:59:59"), [(pa, 1)], "2h"),
        }
        w.complaint(o["o2"], ComplaintCategory.LATE, local(day[1], "09:00"), timedelta(hours=4))  # names no cooperative
        quality = w.complaint(o["o3"], ComplaintCategory.QUALITY, local(day[2], "09:00"), timedelta(hours=2), cooperative_id=coop_b)
        w.complaint(o["o6"], ComplaintCategory.DAMAGED, local(day[9], "23:30"), None, cooperative_id=coop_b)
        w.complaint(o["o5"], ComplaintCategory.LATE, local(first - timedelta(days=1), "23:59:59"), timedelta(hours=1))
        db.session.add_all([
            Compensation(order_id=o["o2"].id, kind=CompensationKind.COUPON, amount_fen=500, late_seconds=1200,
                         created_at=local(day[1], "01:00")),
            Compensation(order_id=o["o3"].id, kind=CompensationKind.COUPON, amount_fen=800, complaint_id=quality.id,
                         created_at=local(day[2], "11:00")),  # granted on the complaint (zone B)
            Compensation(order_id=o["o5"].id, kind=CompensationKind.COUPON, amount_fen=300,
                         created_at=local(first - timedelta(days=1), "23:00")),
        ])

        # routes: one driven with a distance (two deliveries made, one failed) counts; no distance,
        # only planned, or started before the period do not
        warehouse_id = db.session.scalar(sa.select(Vehicle.warehouse_id).order_by(Vehicle.id).limit(1))
        vehicle_id = db.session.scalar(sa.select(Vehicle.id).where(Vehicle.warehouse_id == warehouse_id).limit(1))
        plan = Plan(warehouse_id=warehouse_id, status=PlanStatus.SUPERSEDED, trigger=PlanTrigger.SEED,
                    horizon_start=local(day[0], "06:00"), horizon_end=local(day[0], "22:00"))
        db.session.add(plan)
        for status, start, metres, stops in (
                (RouteStatus.DONE, local(day[0], "08:00"), 12_000,
                 [(o["o1"], StopStatus.DONE), (o["o2"], StopStatus.DONE), (o["o6"], StopStatus.FAILED)]),
                (RouteStatus.DONE, local(day[1], "08:00"), 0, [(o["o6"], StopStatus.DONE)]),
                (RouteStatus.PLANNED, local(day[2], "08:00"), 5_000, [(o["o3"], StopStatus.PENDING)]),
                (RouteStatus.DONE, local(first - timedelta(days=1), "08:00"), 9_000, [(o["o5"], StopStatus.DONE)])):
            route = Route(plan=plan, vehicle_id=vehicle_id, status=status, start_at=start, end_at=start + timedelta(hours=5),
                          distance_m=metres)
            db.session.add(route)
            for n, (order, stop_status) in enumerate(stops, 1):
                route.stops.append(Stop(sequence=n, kind=StopKind.DELIVERY, order_id=order.id, lat=order.lat,
                                        lon=order.lon, planned_arrival_at=start, planned_departure_at=start,
                                        status=stop_status))

        # checkout offers: two slots of one consumer in zone A, one in zone B, one before the period
        for zone, at, offered, chosen in ((zone_a, local(day[0], "10:00"), ",6h,12h,18h,", "6h"),
                                          (zone_a, local(day[0], "10:10"), ",2h,6h,12h,18h,", None),
                                          (zone_b, local(day[2], "10:00"), ",12h,18h,", "12h"),
                                          (zone_b, local(first - timedelta(days=1), "10:00"), ",2h,", "2h")):
            db.session.add(WindowOffer(user_id=w.consumer, zone_id=zone, slot_at=at, quoted_at=at, quotes=2,
                                       offered=offered, chosen_code=chosen))

        # parameter changes: zone A's factor before and in the period, its margin, zone B's factor,
        # cooperative B's quality score
        w.change(ParameterScope.ZONE, zone_a, "travel_factor", local(first - timedelta(days=5), "12:00"), 1.0, 1.1)
        w.change(ParameterScope.ZONE, zone_a, "travel_factor", local(day[1], "12:00"), 1.1, 1.2)
        w.change(ParameterScope.ZONE, zone_a, "travel_factor", local(day[3], "12:00"), 1.2, 1.15, ChangeSource.STAFF)
        w.change(ParameterScope.ZONE, zone_a, "promise_margin_s", local(day[1], "12:05"), 0, 600)
        w.change(ParameterScope.ZONE, zone_b, "travel_factor", local(day[2], "23:59"), 1.25, 1.3)
        w.change(ParameterScope.COOPERATIVE, coop_b, "quality_score", local(day[2], "16:00"), 100, 85,
                 ChangeSource.COMPLAINTS)
        db.session.commit()
        return Known(first, last, zone_a, zone_b, coop_a, coop_b, {k: v.id for k, v in o.items()})


def _dashboard(known: Known, **more):
    return dashboard.dashboard(dashboard.parse_filters(known.args(**more)))


def test_the_county_numbers_are_the_known_rows(app, known):
    with app.app_context():
        d = _dashboard(known)
        first = known.first
        k = d.kpis
        assert (k.orders, k.sales_fen) == (4, 2000 + 3500 + 5000 + 2500)  # o4 cancelled, o5 before the period
        by_day = {x.day: (x.orders, x.sales_fen) for x in d.days}
        assert len(d.days) == 10
        assert by_day[first] == (2, 5500)  # 00:00 and 23:59:59 Shanghai: one day (two UTC days)
        assert by_day[first + timedelta(days=1)] == (1, 5000)  # 00:00 Shanghai: the next day
        assert by_day[first + timedelta(days=9)] == (1, 2500)
        assert sum(n for n, _ in by_day.values()) == 4

        assert (k.on_time.delivered, k.on_time.on_time) == (3, 2)
        windows = {w.code: (t.delivered, t.on_time) for w, t in d.by_window}
        assert windows["2h"] == (2, 2) and windows["6h"] == (1, 0) and windows["12h"] == (0, 0)
        zones = {z.id: (t.delivered, t.on_time) for z, t in d.by_zone}
        assert zones[known.zone_a] == (2, 1) and zones[known.zone_b] == (1, 1)
        assert len(zones) == db.session.scalar(sa.select(sa.func.count()).select_from(Zone))

        assert (k.compensations, k.compensation_fen, k.late_compensation_fen) == (2, 1300, 500)
        assert d.complaints["late"] == 1 and d.complaints["quality"] == 1 and d.complaints["damaged"] == 1
        assert k.complaints == 3 and k.complaints_per_thousand == Decimal("750.0")
        assert d.complaint_rates["late"] == Decimal("250.0")
        assert k.resolved == 2 and k.mean_resolution_s == pytest.approx(3 * 3600, abs=1)
        assert (k.route_m, k.route_deliveries) == (12_000, 2) and k.km_per_delivery == pytest.approx(6.0)

        offers = {o.window.code: (o.offered, o.chosen) for o in d.offers}
        assert d.quotes == 3
        assert offers == {"2h": (1, 0), "6h": (2, 1), "12h": (3, 1), "18h": (3, 0)}
        assert {o.window.code: o.offered_rate for o in d.offers}["6h"] == pytest.approx(2 / 3)

        league = {r.cooperative.id: r for r in d.cooperatives}
        a, b = league[known.coop_a], league[known.coop_b]
        assert (a.orders, a.sales_fen, a.on_time.delivered, a.on_time.on_time, a.complaints) == (2, 3000, 2, 1, 1)
        assert (b.orders, b.sales_fen, b.on_time.delivered, b.on_time.on_time, b.complaints) == (3, 10000, 2, 1, 3)
        assert b.complaints_per_thousand == Decimal("1000.0") and a.complaints_per_thousand == Decimal("500.0")
        assert d.cooperatives[0].cooperative.id == known.coop_b  # by sales
        assert a.cooperative.quality_score == db.session.get(Cooperative, known.coop_a).quality_score
        quiet = [r for r in d.cooperatives if r.cooperative.id not in (known.coop_a, known.coop_b)]
        assert quiet and all(r.orders == 0 and r.sales_fen == 0 for r in quiet)

        keys = {(c.scope, c.key): (c.total, c.by_source) for c in d.change_keys}
        assert keys == {("zone", "travel_factor"): (3, {"deliveries": 2, "staff": 1}),
                        ("zone", "promise_margin_s"): (1, {"deliveries": 1}),
                        ("cooperative", "quality_score"): (1, {"complaints": 1})}
        assert d.change_days[first + timedelta(days=1)] == {"travel_factor": 1, "promise_margin_s": 1}
        assert d.change_days[first + timedelta(days=2)] == {"travel_factor": 1, "quality_score": 1}
        assert d.change_days[first + timedelta(days=3)] == {"travel_factor": 1}
        factors = {line.zone.id: line for line in d.factors}
        assert [v for _at, v in factors[known.zone_a].points] == [1.1, 1.2, 1.15] and factors[known.zone_a].changes == 2
        assert [v for _at, v in factors[known.zone_b].points] == [1.25, 1.3]
        begin = d.period.utc_bounds[0]
        assert factors[known.zone_a].points[0][0] == begin


def test_a_zone_shows_its_own_numbers(app, known):
    with app.app_context():
        d = _dashboard(known, zone=str(known.zone_a))
        k = d.kpis
        assert d.filters.zone.id == known.zone_a
        assert (k.orders, k.sales_fen) == (2, 5500)
        assert (k.on_time.delivered, k.on_time.on_time) == (2, 1)
        assert [(z.id, t.delivered) for z, t in d.by_zone] == [(known.zone_a, 2)]
        assert (k.compensations, k.compensation_fen, k.late_compensation_fen) == (1, 500, 500)
        assert k.complaints == 1 and k.resolved == 1 and k.mean_resolution_s == pytest.approx(4 * 3600, abs=1)
        assert k.km_per_delivery is None and not k.km_counted  # routes cross zones
        assert d.quotes == 2 and {o.window.code: (o.offered, o.chosen) for o in d.offers}["2h"] == (1, 0)
        league = {r.cooperative.id: r for r in d.cooperatives}
        assert (league[known.coop_b].orders, league[known.coop_b].sales_fen, league[known.coop_b].complaints) == (1, 2500, 1)
        assert {(c.scope, c.key): c.total for c in d.change_keys} == {("zone", "travel_factor"): 2,
                                                                      ("zone", "promise_margin_s"): 1}
        assert [line.zone.id for line in d.factors] == [known.zone_a]


def test_the_demo_countys_last_30_days_equal_independent_queries(app, seeded):
    with app.app_context():
        filters = dashboard.parse_filters({})
        assert filters.period.preset == "30" and len(filters.period.days) == 30
        d = dashboard.dashboard(filters)
        begin, after = filters.period.utc_bounds
        sold = db.session.scalars(sa.select(Order).where(
            Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED]),
            Order.placed_at >= begin, Order.placed_at < after)).all()
        assert sold, "the demo county has history"
        # by Shanghai day, counted in Python from the rows
        per_day: dict[date, list[int]] = {}
        for order in sold:
            per_day.setdefault(order.placed_at.astimezone(SHANGHAI).date(), []).append(
                sum(line.line_total_fen for line in order.lines))
        assert {x.day: (x.orders, x.sales_fen) for x in d.days if x.orders} == \
            {day: (len(v), sum(v)) for day, v in per_day.items()}
        delivered = [o for o in sold if o.status == OrderStatus.DELIVERED]
        assert d.kpis.on_time.delivered == len(delivered)
        assert d.kpis.on_time.on_time == sum(1 for o in delivered if o.delivered_at <= o.deadline_at)
        complaints = db.session.scalars(sa.select(Complaint).where(Complaint.created_at >= begin,
                                                                   Complaint.created_at < after)).all()
        assert d.kpis.complaints == len(complaints) > 0
        resolved = [(c.resolved_at - c.created_at).total_seconds() for c in complaints if c.resolved_at]
        assert d.kpis.resolved == len(resolved)
        assert d.kpis.mean_resolution_s == pytest.approx(sum(resolved) / len(resolved), abs=0.01)
        paid = db.session.execute(sa.select(Compensation.amount_fen, Compensation.complaint_id).where(
            Compensation.created_at >= begin, Compensation.created_at < after)).all()
        assert (d.kpis.compensations, d.kpis.compensation_fen) == (len(paid), sum(fen for fen, _c in paid))
        assert d.kpis.late_compensation_fen == sum(fen for fen, complaint in paid if complaint is None)
        by_coop: dict[int, int] = {}
        for order in sold:
            for line in order.lines:
                by_coop[line.product.cooperative_id] = by_coop.get(line.product.cooperative_id, 0) + line.line_total_fen
        assert {r.cooperative.id: r.sales_fen for r in d.cooperatives if r.sales_fen} == by_coop
        assert sum(r.sales_fen for r in d.cooperatives) == d.kpis.sales_fen
        # the demo's checkout placed its open orders through the quote: offers were recorded
        offers = db.session.scalar(sa.select(sa.func.count()).select_from(WindowOffer).where(
            WindowOffer.slot_at >= begin, WindowOffer.slot_at < after))
        assert d.quotes == offers > 0
        charts = dashboard.chart_specs(d)
        assert charts["sales"]["series"][1]["data"] == [x.orders for x in d.days]
        assert sum(charts["sales"]["series"][0]["data"]) == pytest.approx(d.kpis.sales_fen / 100)
        # a horizontal bar's value is written after it: its axis ends a third further, on a round number
        league = charts["cooperatives"]
        largest = max(league["series"][0]["data"])
        assert largest * 4 / 3 <= league["axes"][0]["max"] <= largest * 2
        assert len(league["categories"]) == len(d.cooperatives)
        assert not any(name.startswith("遂昌县") for name in league["categories"])  # the county's name left out
        assert charts["complaints"]["axes"][0]["max"] == int(charts["complaints"]["axes"][0]["max"])


@pytest.mark.parametrize(("args", "field", "words"), [
    ({"period": "12"}, "period", "7, 30 or 90"),
    ({"period": "custom", "from": "2026-11-20", "to": "2026-11-10"}, "from", "must not be after"),
    ({"period": "custom", "from": "2026-11-01"}, "to", "both"),
    ({"period": "custom", "from": "1.11.2026", "to": "2026-11-10"}, "from", "YYYY-MM-DD"),
    ({"period": "custom", "from": "2024-01-01", "to": "2025-06-01"}, "from", "at most"),
    ({"period": "custom", "from": "2026-11-01", "to": "2099-01-01"}, "to", "future"),
    ({"zone": "abc"}, "zone", "zone"),
    ({"zone": "99999"}, "zone", "zone"),
    ({"zone": "1" * 40}, "zone", "zone"),
])
def test_bad_periods_and_zones_are_refused_with_the_field(app, args, field, words):
    with app.app_context(), app.test_request_context(headers={"Accept-Language": "en"}):
        with pytest.raises(ValidationFailed) as raised:
            dashboard.parse_filters(args)
        assert raised.value.field == field and words in raised.value.message


def test_the_page_for_operators_only_with_the_numbers_in_zh_and_en(app, known, make_user, client):
    operator = make_user(Role.OPERATOR, mobile="13900000001")
    dispatcher = make_user(Role.DISPATCHER, mobile="13900000002")
    query = "&".join(f"{k}={v}" for k, v in known.args().items())
    other = app.test_client()
    login(other, dispatcher.mobile)
    assert other.get("/reports/?" + query).status_code == 403

    login(client, operator.mobile)
    page = client.get("/reports/?" + query)
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and re.search(r'<h1 class="stats-title">看板 <small class="muted">全县</small>', html)
    tiles = re.findall(r'<div class="value">([^<]*)</div>', html)
    assert tiles[:3] == ["4", "¥130.00", "66.7%"] and tiles[3] == "¥13.00" and tiles[4] == "750.0"
    assert tiles[5] == "3.0 小时" and tiles[6] == "6.0 公里"
    specs = [json.loads(s.replace("&#39;", "'")) for s in re.findall(r"data-chart='([^']*)'", html)]
    sales = specs[0]
    assert sales["series"][0]["data"][0] == 55.0 and sales["series"][1]["data"][:2] == [2, 1]
    assert sales["categories"][0].endswith("日")
    assert len(specs) == 8  # sales, on time ×2, offers, complaints, cooperatives, changes, factors
    assert "echarts.min.js" in html and "js/charts.js" in html

    zoned = client.get("/reports/?" + query + f"&zone={known.zone_a}").get_data(as_text=True)
    assert re.findall(r'<div class="value">([^<]*)</div>', zoned)[:2] == ["2", "¥55.00"]
    assert "仅全县可算" in zoned and "其中超时 ¥5.00" in html

    bad = client.get("/reports/?period=custom&from=2026-11-20&to=2026-11-10")
    assert bad.status_code == 422 and "开始日期不能晚于结束日期" in bad.get_data(as_text=True)
    assert "data-chart" not in bad.get_data(as_text=True)

    client.post("/lang/en", data={"csrf_token": _token(client)})
    english = client.get("/reports/?" + query).get_data(as_text=True)
    assert "Orders and sales by day" in english and "3.0 h" in english and "Whole county" in english
    assert client.get("/reports/?zone=nowhere").status_code == 422


def _token(client) -> str:
    from tests.conftest import csrf_token

    return csrf_token(client, "/reports/")
