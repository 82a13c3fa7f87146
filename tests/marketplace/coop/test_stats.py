"""The cooperative's statistics (/coop/stats, /coop/stats.csv): numbers equal what the database
holds for orders made here by hand, in a new cooperative of the demo county (whose own history
belongs to other cooperatives and must never show), Shanghai calendar days, the CSV, bad periods."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from marketplace import vendor
from marketplace.coop import stats
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import (
    ChangeSource,
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
    Product,
    Role,
    User,
    Village,
    WindowClass,
)
from tests.conftest import login

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: date, hhmm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hhmm), SHANGHAI).astimezone(UTC)


@dataclass
class Farm:
    cooperative_id: int
    code: str
    tea: int  # product ids
    shoots: int
    head_mobile: str
    other_product: int  # a product of another (seeded) cooperative
    other_cooperative_id: int


class Orders:
    """Orders written straight into the tables, as the checkout and the lifecycle leave them."""

    def __init__(self) -> None:
        self.serial = 0
        self.consumer = db.session.scalar(sa.select(User.id).where(User.role == Role.CONSUMER).order_by(User.id))
        self.village = db.session.scalar(sa.select(Village).order_by(Village.id))
        self.location = db.session.scalar(sa.select(Location.id).order_by(Location.id))
        self.windows = {w.code: w for w in db.session.scalars(sa.select(WindowClass))}

    def make(self, placed_at: datetime, lines: list[tuple[int, int]], status: OrderStatus = OrderStatus.DELIVERED,
             window: str = "6h", delivered_after: timedelta | None = None) -> Order:
        """``lines``: (product id, quantity) at the product's price; delivered ``delivered_after``
        the order when given (else a delivered order arrives an hour before its deadline)."""
        self.serial += 1
        w = self.windows[window]
        deadline = placed_at + timedelta(hours=w.hours)
        delivered = None
        if status == OrderStatus.DELIVERED:
            delivered = placed_at + (delivered_after if delivered_after is not None else timedelta(hours=w.hours - 1))
        elif delivered_after is not None:
            raise ValueError("only a delivered order has a delivery time")
        order = Order(number=f"ST{self.serial:010d}", user_id=self.consumer, status=status,
                      payment_method=PaymentMethod.ONLINE, village_id=self.village.id, zone_id=self.village.zone_id,
                      recipient_name="统计", recipient_mobile="13800000000", address_text="统计路 1 号",
                      lat=self.village.lat, lon=self.village.lon, window_class_id=w.id, placed_at=placed_at,
                      deadline_at=deadline, delivered_at=delivered, subtotal_fen=0, delivery_fee_fen=w.fee_fen,
                      total_fen=0, created_at=placed_at)
        subtotal = 0
        for product_id, quantity in lines:
            product = db.session.get(Product, product_id)
            order.lines.append(OrderLine(
                product_id=product.id, source_location_id=self.location, product_name_zh=product.name_zh,
                product_name_en=product.name_en, unit_price_fen=product.price_fen, quantity=quantity,
                line_total_fen=product.price_fen * quantity, weight_g=product.weight_g * quantity,
                volume_cm3=product.volume_cm3 * quantity))
            subtotal += product.price_fen * quantity
        order.subtotal_fen, order.total_fen = subtotal, subtotal + w.fee_fen
        db.session.add(order)
        db.session.flush()
        return order


@pytest.fixture
def farm(app, seeded, make_user) -> Farm:
    """A new cooperative (head, two products) beside the seeded ones."""
    with app.app_context():
        template = db.session.scalar(sa.select(Product).order_by(Product.id))
        village = db.session.scalar(sa.select(Village).order_by(Village.id))
        coop = Cooperative(code="STAT01", name_zh="统计测试合作社", name_en="Stats Test Co-op", licence_no="STATLIC0001",
                           village_id=village.id, head_name="统计", head_mobile="13900009999")
        db.session.add(coop)
        db.session.flush()
        ids = []
        for sku, zh, en, price in (("ST-TEA", "统计绿茶", "Stats Green Tea", 3850), ("ST-SHOOT", "统计笋干", "Stats Bamboo Shoots", 1299)):
            product = Product(sku=sku, cooperative_id=coop.id, category_id=template.category_id, name_zh=zh, name_en=en,
                              unit_zh="袋", unit_en="bag", price_fen=price, weight_g=500, volume_cm3=1000,
                              status=template.status)
            db.session.add(product)
            db.session.flush()
            ids.append(product.id)
        other = db.session.scalar(sa.select(Product).where(Product.cooperative_id != coop.id).order_by(Product.id))
        db.session.commit()
        result = Farm(coop.id, coop.code, ids[0], ids[1], "13700009999", other.id, other.cooperative_id)
    make_user(Role.COOP_HEAD, mobile=result.head_mobile, cooperative_id=result.cooperative_id)
    return result


def week(now: datetime) -> stats.Period:
    return stats.parse_period({"period": "7"}, now=now)


# --- sales -------------------------------------------------------------------------------------


def test_sales_by_product_and_day_are_the_sold_order_lines_of_the_cooperative_only(app, farm, clock):
    now = clock.at_local("15:00")
    today = now.astimezone(SHANGHAI).date()
    yesterday = today - timedelta(days=1)
    with app.app_context():
        orders = Orders()
        orders.make(local(yesterday, "09:00"), [(farm.tea, 2), (farm.shoots, 1)])
        orders.make(local(yesterday, "18:00"), [(farm.shoots, 3)], status=OrderStatus.CONFIRMED)
        orders.make(local(today, "10:00"), [(farm.tea, 1), (farm.other_product, 5)], status=OrderStatus.DISPATCHED)
        # not sales: unpaid, cancelled, expired; nor another cooperative's goods; nor 8 days ago
        orders.make(local(today, "11:00"), [(farm.tea, 7)], status=OrderStatus.PENDING_PAYMENT)
        orders.make(local(today, "11:05"), [(farm.tea, 7)], status=OrderStatus.CANCELLED)
        orders.make(local(today, "11:10"), [(farm.shoots, 7)], status=OrderStatus.EXPIRED)
        orders.make(local(today, "12:00"), [(farm.other_product, 4)])
        orders.make(local(today - timedelta(days=7), "12:00"), [(farm.tea, 9)])
        db.session.commit()

        result = stats.cooperative_stats(farm.cooperative_id, week(now), now=now)
        sales = result.sales
        assert [p.sku for p in sales.products] == ["ST-SHOOT", "ST-TEA"]
        assert (sales.by_product[farm.tea].units, sales.by_product[farm.tea].fen) == (3, 3 * 3850)
        assert (sales.by_product[farm.shoots].units, sales.by_product[farm.shoots].fen) == (4, 4 * 1299)
        assert (sales.total.units, sales.total.fen, sales.orders) == (7, 3 * 3850 + 4 * 1299, 3)
        assert sales.by_day[yesterday][farm.tea].fen == 2 * 3850 and sales.by_day[yesterday][farm.shoots].units == 4
        assert sales.by_day[today][farm.tea].units == 1 and farm.shoots not in sales.by_day[today]
        assert sales.day_orders[yesterday] == 2 and sales.day_orders[today] == 1
        assert sum(a.fen for a in sales.day_totals.values()) == sales.total.fen
        assert all(p.cooperative_id == farm.cooperative_id for p in sales.products)

        # the same as the database says, line by line
        begin, after = week(now).utc_bounds
        held = db.session.execute(
            sa.select(sa.func.sum(OrderLine.quantity), sa.func.sum(OrderLine.line_total_fen))
            .join(OrderLine.order).join(Product, Product.id == OrderLine.product_id)
            .where(Product.cooperative_id == farm.cooperative_id, Order.placed_at >= begin, Order.placed_at < after,
                   Order.status.in_([OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED]))).one()
        assert (sales.total.units, sales.total.fen) == (held[0], held[1])

        # the seeded cooperative's own statistics hold its history, never our goods
        theirs = stats.cooperative_stats(farm.other_cooperative_id, week(now), now=now)
        assert farm.tea not in theirs.sales.by_product and farm.shoots not in theirs.sales.by_product
        assert theirs.sales.by_product[farm.other_product].units >= 9


@pytest.mark.parametrize("hhmm", ["00:10", "07:59", "08:00", "12:00", "23:50"])
def test_an_order_at_23_30_and_one_at_00_30_shanghai_fall_on_two_days(app, farm, clock, hhmm):
    now = clock.at_local(hhmm)
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        orders = Orders()
        late_evening = local(today - timedelta(days=2), "23:30")  # 15:30 UTC, the same UTC day as…
        after_midnight = local(today - timedelta(days=1), "00:30")  # …16:30 UTC
        assert late_evening.date() == after_midnight.date()
        orders.make(late_evening, [(farm.tea, 1)])
        orders.make(after_midnight, [(farm.tea, 2)])
        orders.make(local(today, "00:05"), [(farm.shoots, 1)], status=OrderStatus.CONFIRMED)  # UTC: yesterday
        db.session.commit()
        period = week(now)
        assert period.end == today and period.start == today - timedelta(days=6)
        result = stats.cooperative_stats(farm.cooperative_id, period, now=now)
        by_day = result.sales.by_day
        assert by_day[today - timedelta(days=2)][farm.tea].units == 1
        assert by_day[today - timedelta(days=1)][farm.tea].units == 2
        assert by_day[today][farm.shoots].units == 1  # today in Shanghai, whatever the UTC date
        one_day = stats.cooperative_stats(farm.cooperative_id, stats.Period(today - timedelta(days=1), today - timedelta(days=1)), now=now)
        assert one_day.sales.total.units == 2


# --- on time, complaints, quality ------------------------------------------------------------------


def test_on_time_rate_counts_delivered_and_overdue_orders_by_window_and_day(app, farm, clock):
    now = clock.at_local("16:00")
    today = now.astimezone(SHANGHAI).date()
    yesterday = today - timedelta(days=1)
    with app.app_context():
        orders = Orders()
        orders.make(local(yesterday, "08:00"), [(farm.tea, 1)], window="2h", delivered_after=timedelta(minutes=100))
        orders.make(local(yesterday, "08:10"), [(farm.tea, 1)], window="2h", delivered_after=timedelta(hours=2))  # on the dot
        orders.make(local(yesterday, "09:00"), [(farm.tea, 1)], window="2h", delivered_after=timedelta(hours=2, seconds=1))
        orders.make(local(yesterday, "10:00"), [(farm.shoots, 1)], window="6h", status=OrderStatus.DISPATCHED)  # overdue
        orders.make(local(today, "14:00"), [(farm.shoots, 1)], window="6h", status=OrderStatus.CONFIRMED)  # not due yet
        orders.make(local(today, "09:00"), [(farm.shoots, 1), (farm.other_product, 1)], window="6h")  # on time
        orders.make(local(yesterday, "11:00"), [(farm.tea, 1)], status=OrderStatus.CANCELLED, window="2h")
        orders.make(local(yesterday, "11:00"), [(farm.other_product, 1)], window="2h",
                    delivered_after=timedelta(hours=5))  # another cooperative's late order
        db.session.commit()

        result = stats.cooperative_stats(farm.cooperative_id, week(now), now=now)
        total = result.on_time
        assert (total.on_time, total.late, total.overdue) == (3, 1, 1) and total.rate == pytest.approx(0.6)
        by_window = {w.code: t for w, t in result.on_time_by_window}
        assert (by_window["2h"].on_time, by_window["2h"].late, by_window["2h"].overdue) == (2, 1, 0)
        assert (by_window["6h"].on_time, by_window["6h"].late, by_window["6h"].overdue) == (1, 0, 1)
        assert by_window["12h"].judged == 0 and by_window["12h"].rate is None
        assert (result.on_time_by_day[yesterday].on_time, result.on_time_by_day[yesterday].judged) == (2, 4)
        assert (result.on_time_by_day[today].on_time, result.on_time_by_day[today].judged) == (1, 1)


def test_complaints_by_category_per_thousand_orders(app, farm, clock):
    now = clock.at_local("12:00")
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        orders = Orders()
        mine = [orders.make(local(today - timedelta(days=1), f"0{h}:00"), [(farm.tea, 1)]) for h in range(1, 9)]
        theirs = orders.make(local(today - timedelta(days=1), "10:00"), [(farm.other_product, 1)])

        def complain(order: Order, category: ComplaintCategory, coop: int | None, at: datetime) -> None:
            orders.serial += 1
            db.session.add(Complaint(number=f"SC{orders.serial:08d}", order_id=order.id, user_id=order.user_id,
                                     category=category, description="x", cooperative_id=coop, created_at=at))

        at = local(today, "09:00")
        complain(mine[0], ComplaintCategory.QUALITY, farm.cooperative_id, at)
        complain(mine[1], ComplaintCategory.QUALITY, farm.cooperative_id, at)
        complain(mine[2], ComplaintCategory.DAMAGED, None, at)  # no cooperative noted: by its order's goods
        complain(theirs, ComplaintCategory.DAMAGED, None, at)  # another cooperative's goods
        complain(theirs, ComplaintCategory.LATE, farm.other_cooperative_id, at)
        complain(mine[3], ComplaintCategory.LATE, farm.cooperative_id, local(today - timedelta(days=7), "23:59"))  # before
        db.session.commit()

        result = stats.cooperative_stats(farm.cooperative_id, week(now), now=now)
        assert list(result.complaints) == [c.value for c in ComplaintCategory]
        assert result.complaints["quality"] == 2 and result.complaints["damaged"] == 1 and result.complaints["late"] == 0
        assert result.sales.orders == 8 and result.complaint_total == 3
        assert str(result.per_thousand(2)) == "250.0" and str(result.per_thousand(3)) == "375.0"
        empty = stats.cooperative_stats(farm.cooperative_id, stats.Period(today - timedelta(days=30), today - timedelta(days=20)), now=now)
        assert empty.per_thousand(0) is None


def test_quality_score_history_from_the_logistics_parameter(app, farm, clock):
    now = clock.at_local("12:00")
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        assert not stats.cooperative_stats(farm.cooperative_id, week(now), now=now).has_quality_history
        parameter = LogisticsParameter(scope=ParameterScope.COOPERATIVE, scope_id=farm.cooperative_id,
                                       key=stats.QUALITY_KEY, value=88)
        db.session.add(parameter)
        db.session.flush()
        for value, at, reason in ((100, local(today - timedelta(days=20), "10:00"), "seed"),
                                  (94, local(today - timedelta(days=3), "10:00"), "quality complaints"),
                                  (88, local(today, "09:00"), "quality complaints")):
            db.session.add(ParameterChange(parameter_id=parameter.id, old_value=None, new_value=value,
                                           source=ChangeSource.COMPLAINTS, reason=reason, created_at=at))
        db.session.get(Cooperative, farm.cooperative_id).quality_score = 88
        db.session.commit()
        result = stats.cooperative_stats(farm.cooperative_id, week(now), now=now)
        assert result.has_quality_history and result.quality_at_start == 100
        assert [p.value for p in result.quality] == [94, 88]
        with app.test_request_context():
            line = stats.chart_specs(result)["quality"]["series"][0]["data"]
        assert [v for _, v in line] == [100, 94, 88, 88]


# --- the page and the CSV ----------------------------------------------------------------------


def test_the_page_shows_charts_as_data_and_the_same_numbers_in_tables(app, client, farm, clock):
    now = clock.at_local("15:00")
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        Orders().make(local(today, "09:00"), [(farm.tea, 2)])
        db.session.commit()
    login(client, farm.head_mobile)
    response = client.get("/coop/stats?period=30")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "统计绿茶" in html and "¥77.00" in html  # 2 × ¥38.50, in the tables
    assert html.count("data-chart=") == 3  # sales, on time, complaints (no quality history yet)
    assert f"/static/vendor/echarts/dist/echarts.min.js?v={vendor.MANIFEST['echarts'].version}" in html
    assert "/static/js/charts.js" in html
    spec = re.search(r"data-chart='([^']+)'", html).group(1)
    assert "77.0" in spec and "\\u7edf\\u8ba1\\u7eff\\u8336" in spec  # the chart's data: ¥77, 统计绿茶
    assert 'href="/coop/stats.csv?table=sales&amp;period=30"' in html
    assert "/coop/stats" in client.get("/coop/").get_data(as_text=True)  # in the section bar


def test_another_cooperatives_head_sees_only_their_own_numbers(app, client, farm, clock, make_user):
    now = clock.at_local("15:00")
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        Orders().make(local(today, "09:00"), [(farm.tea, 2)])
        db.session.commit()
    other = make_user(Role.COOP_HEAD, cooperative_id=farm.other_cooperative_id)
    login(client, other.mobile)
    html = client.get("/coop/stats").get_data(as_text=True)
    assert "统计绿茶" not in html and "Stats Green Tea" not in html
    body = client.get("/coop/stats.csv?table=products").get_data(as_text=True)
    assert "ST-TEA" not in body


def test_csv_has_a_bom_headers_in_the_page_language_yuan_and_a_named_file(app, client, farm, clock):
    now = clock.at_local("15:00")
    today = now.astimezone(SHANGHAI).date()
    with app.app_context():
        orders = Orders()
        orders.make(local(today, "09:00"), [(farm.tea, 2), (farm.shoots, 1)])
        orders.make(local(today - timedelta(days=1), "09:00"), [(farm.shoots, 10)])
        db.session.commit()
    login(client, farm.head_mobile)
    start = today - timedelta(days=1)
    response = client.get(f"/coop/stats.csv?table=sales&period=custom&from={start}&to={today}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="STAT01-sales-{start:%Y%m%d}-{today:%Y%m%d}.csv"')
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == ["日期", "货号", "商品", "数量", "销售额（元）"]
    assert rows[1:] == [
        [start.isoformat(), "ST-SHOOT", "统计笋干", "10", "129.90"],
        [today.isoformat(), "ST-SHOOT", "统计笋干", "1", "12.99"],
        [today.isoformat(), "ST-TEA", "统计绿茶", "2", "77.00"],
    ]
    products = list(csv.reader(io.StringIO(client.get(
        f"/coop/stats.csv?table=products&period=custom&from={start}&to={today}").get_data().decode("utf-8-sig"))))
    assert products[-1][1:4] == ["合计", "13", "219.89"]

    with client.session_transaction() as session:
        session["lang"] = "en"
    rows = list(csv.reader(io.StringIO(client.get("/coop/stats.csv?table=complaints&period=7").get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Category", "Complaints", "Per 1,000 orders"]
    assert rows[1] == ["Late delivery", "0", "0.0"] and rows[-1] == ["Total", "0", "0.0"]
    rows = list(csv.reader(io.StringIO(client.get("/coop/stats.csv?table=on_time&period=7").get_data().decode("utf-8-sig"))))
    assert rows[0][0] == "Window" and rows[-1][:3] == ["Total", "2", "2"]


@pytest.mark.parametrize(("query", "message"), [
    ("period=custom&from=2026-11-20&to=2026-11-10", "must not be after"),
    ("period=custom&from=2025-01-01&to=2026-11-10", "at most 366 days"),
    ("period=custom&from=2026-11-31&to=2026-12-01", "YYYY-MM-DD"),
    ("period=custom&from=yesterday&to=2026-11-10", "YYYY-MM-DD"),
    ("period=custom&from=2026-11-01", "both"),
    ("period=custom&from=2026-11-01&to=2027-01-01", "future"),
    ("period=14", "7, 30 or 90"),
])
def test_a_bad_period_is_refused_with_a_clear_message(app, client, farm, clock, query, message):
    clock.move_to("2026-12-01T04:00:00Z")
    with client.session_transaction() as session:
        session["lang"] = "en"
    login(client, farm.head_mobile)
    response = client.get(f"/coop/stats?{query}")
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and message in html and "data-chart" not in html
    assert 'name="from"' in html  # the form again, to correct
    response = client.get(f"/coop/stats.csv?table=sales&{query}")
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert response.mimetype == "text/html"


def test_the_longest_period_is_366_days_and_an_unknown_table_is_refused(app, client, farm, clock):
    now = clock.move_to("2026-12-01T04:00:00Z")
    period = stats.parse_period({"period": "custom", "from": "2025-12-01", "to": "2026-12-01"}, now=now)
    assert len(period.days) == 366
    with pytest.raises(ValidationFailed):
        stats.parse_period({"period": "custom", "from": "2025-11-30", "to": "2026-12-01"}, now=now)
    assert stats.parse_period({}, now=now).days[-1] == date(2026, 12, 1)
    login(client, farm.head_mobile)
    assert client.get("/coop/stats.csv?table=users").status_code == 422
    assert client.get("/coop/stats.csv?period=90").status_code == 200  # the sales table by default


def test_the_vendored_echarts_is_pinned_with_its_integrity():
    package = vendor.MANIFEST["echarts"]
    assert re.fullmatch(r"[56]\.\d+\.\d+", package.version)
    assert package.integrity.startswith("sha512-") and len(package.integrity) == len("sha512-") + 88
    assert "dist/echarts.min.js" in package.files and not any(f.endswith(".ts") or "src/" in f for f in package.files)
    if (vendor.VENDOR_DIR / "echarts").exists():  # vendored here (make vendor): the very file pinned
        assert vendor.is_current(package)
