"""The bureau report (marketplace/reports/bureau.py, exports.py): its numbers are the database's
(worked out again here with plain SQL over a county made by hand, with orders on both sides of
the month's edges in Shanghai), the month-end job stores a month once however often and wherever
it runs, a stored report never changes (a regeneration is a new, audited revision), and the CSV,
XLSX and PDF carry the same totals."""

from __future__ import annotations

import csv
import io
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from marketplace import scheduler
from marketplace.admin.models import AuditLog
from marketplace.columns import UTCDateTime
from marketplace.coop.stats import Period
from marketplace.errors import NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Order, OrderStatus
from marketplace.reports import bureau, exports
from marketplace.reports.models import StatisticsReport
from tests.marketplace.reports.bureau_data import EXPECTED, NOVEMBER, make_county, shanghai

MONTH_END = "2026-12-01 00:30"  # when the job fires for November (Shanghai)
SOLD = "('confirmed', 'dispatched', 'delivered')"


@pytest.fixture
def county(app, make_user):
    return make_county(app, make_user)


def november() -> Period:
    return Period(*NOVEMBER)


def sql(query: str, *, instants: tuple[str, ...] = (), **params) -> list[tuple]:
    """Plain SQL, instants bound (and the ``instants`` columns read) as the UTC column type, on
    SQLite and PostgreSQL alike."""
    binds = [sa.bindparam(k, type_=UTCDateTime) for k, v in params.items() if isinstance(v, datetime)]
    statement = sa.text(query).bindparams(*binds)
    if instants:
        statement = statement.columns(**{name: UTCDateTime for name in instants})
    return [tuple(row) for row in db.session.execute(statement, params)]


def month_bounds() -> dict[str, datetime]:
    return {"b": shanghai("2026-11-01 00:00"), "a": shanghai("2026-12-01 00:00")}


def stored_reports() -> list[StatisticsReport]:
    return list(db.session.scalars(sa.select(StatisticsReport).order_by(StatisticsReport.id)))


# --- the numbers --------------------------------------------------------------------------------


def test_the_reports_numbers_are_the_databases_for_the_shanghai_month(app, county, clock):
    clock.move_to(shanghai(MONTH_END))
    with app.app_context():
        report, made = bureau.generate(november())
        assert made and report.kind == bureau.MONTHLY and report.revision == 1
        data = report.data
        b = month_bounds()
        in_month = "placed_at >= :b AND placed_at < :a"
        o_in_month = "o.placed_at >= :b AND o.placed_at < :a"

        by_status = dict(sql(f"SELECT status, count(*) FROM orders WHERE {in_month} GROUP BY status", **b))
        assert data["orders"]["placed"] == sum(by_status.values()) == EXPECTED["orders"]["placed"]
        assert data["orders"]["delivered"] == by_status.get("delivered", 0)
        assert data["orders"]["cancelled"] == by_status.get("cancelled", 0)
        assert data["orders"]["expired"] == by_status.get("expired", 0)
        assert data["orders"]["pending_payment"] == by_status.get("pending_payment", 0)
        assert data["orders"]["in_progress"] == by_status.get("confirmed", 0) + by_status.get("dispatched", 0)
        assert data["orders"] == EXPECTED["orders"]

        [(orders, units, goods)] = sql(
            "SELECT count(DISTINCT o.id), sum(l.quantity), sum(l.line_total_fen) FROM orders o "
            f"JOIN order_lines l ON l.order_id = o.id WHERE o.status IN {SOLD} AND {o_in_month}", **b)
        [(fees,)] = sql(f"SELECT sum(delivery_fee_fen) FROM orders WHERE status IN {SOLD} AND {in_month}", **b)
        assert data["sales"] == {"orders": orders, "units": units, "goods_fen": goods, "delivery_fee_fen": fees,
                                 "total_fen": goods + fees} == EXPECTED["sales"]

        def grouped(key: str, join: str) -> dict[str, tuple[int, int, int]]:
            return {k: (n, u, f) for k, n, u, f in sql(
                f"SELECT {key}, count(DISTINCT o.id), sum(l.quantity), sum(l.line_total_fen) FROM orders o "
                f"JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id {join} "
                f"WHERE o.status IN {SOLD} AND {o_in_month} GROUP BY {key}", **b)}

        categories = grouped("c.slug", "JOIN categories c ON c.id = p.category_id")
        assert {c["slug"]: (c["orders"], c["units"], c["sales_fen"]) for c in data["by_category"]} == categories \
            == EXPECTED["by_category"]
        coops = grouped("k.code", "JOIN cooperatives k ON k.id = p.cooperative_id")
        reported = {c["code"]: (c["orders"], c["units"], c["sales_fen"]) for c in data["by_cooperative"]}
        assert {code: v for code, v in reported.items() if v != (0, 0, 0)} == coops
        assert reported == EXPECTED["by_cooperative"]  # the approved cooperative with no sales too, not the pending one
        assert sum(c["sales_fen"] for c in data["by_cooperative"]) == goods

        towns = {code: (n, d, f) for code, n, d, f in sql(
            "SELECT t.code, count(*), sum(CASE WHEN o.status = 'delivered' THEN 1 ELSE 0 END), "
            "sum((SELECT sum(l.line_total_fen) FROM order_lines l WHERE l.order_id = o.id)) FROM orders o "
            "JOIN villages v ON v.id = o.village_id JOIN towns t ON t.id = v.town_id "
            f"WHERE o.status IN {SOLD} AND {o_in_month} GROUP BY t.code", **b)}
        assert {t["code"]: (t["orders"], t["delivered"], t["sales_fen"]) for t in data["by_town"]} == towns \
            == EXPECTED["by_town"]

        windows = {code: tuple(v) for code, *v in sql(
            "SELECT w.code, count(*), count(o.delivered_at), "
            "sum(CASE WHEN o.delivered_at <= o.deadline_at THEN 1 ELSE 0 END), "
            "sum(CASE WHEN o.delivered_at > o.deadline_at THEN 1 ELSE 0 END), "
            "sum(CASE WHEN o.delivered_at IS NULL AND o.deadline_at < :now THEN 1 ELSE 0 END) "
            "FROM orders o JOIN window_classes w ON w.id = o.window_class_id "
            f"WHERE o.status IN {SOLD} AND {o_in_month} GROUP BY w.code", now=shanghai(MONTH_END), **b)}
        assert {w["code"]: (w["orders"], w["delivered"], w["on_time"], w["late"], w["overdue"])
                for w in data["delivery"]["windows"]} == windows == EXPECTED["windows"]

        compensation = {k: (n, f) for k, n, f in sql(
            "SELECT kind, count(*), sum(amount_fen) FROM compensations WHERE complaint_id IS NULL "
            "AND created_at >= :b AND created_at < :a GROUP BY kind", **b)}
        assert {k: (v["count"], v["fen"]) for k, v in data["delivery"]["compensation"].items() if v["count"]} \
            == compensation
        assert {k: (v["count"], v["fen"]) for k, v in data["delivery"]["compensation"].items()} == EXPECTED["compensation"]

        filed = sql("SELECT category, created_at, resolved_at FROM complaints WHERE created_at >= :b AND created_at < :a",
                    instants=("created_at", "resolved_at"), **b)
        complaints = data["complaints"]
        assert {c: n for c, n in complaints["by_category"].items() if n} == {
            c: sum(1 for row in filed if row[0] == c) for c in {row[0] for row in filed}} == EXPECTED["complaints"]
        assert complaints["total"] == len(filed)
        spans = [resolved - created for _category, created, resolved in filed if resolved is not None]
        assert complaints["resolved"] == len(spans) == EXPECTED["resolved"]
        assert complaints["mean_resolution_seconds"] == sum(s.total_seconds() for s in spans) / len(spans) \
            == EXPECTED["mean_resolution_seconds"]

        remedies = {k: (n, f) for k, n, f in sql(
            "SELECT r.kind, count(*), sum(CASE WHEN r.kind = 'reship' THEN (SELECT sum(l.line_total_fen) "
            "FROM order_lines l WHERE l.order_id = r.reship_order_id) ELSE r.amount_fen END) "
            "FROM complaint_resolutions r WHERE r.created_at >= :b AND r.created_at < :a GROUP BY r.kind", **b)}
        assert {k: (v["count"], v["fen"]) for k, v in data["resolutions"].items()} == remedies == EXPECTED["resolutions"]


def test_the_rates_derive_from_the_counts(app, county, clock):
    clock.move_to(shanghai(MONTH_END))
    with app.app_context():
        report, _made = bureau.generate(november())
        rendered = exports.render(report, "en")
    tables = {t.key: t for part in rendered.parts for t in part.tables}
    on_time = {row[0]: row[-1] for row in tables["on_time"].rows}
    assert [str(v) for v in on_time.values()] == ["50.0", "100.0"]  # 1 of 2 delivered on time; 1 of 1
    assert str(tables["on_time"].total[-1]) == "66.7"  # 2 of 3 delivered
    complaints = tables["complaints"]
    assert str(complaints.total[-1]) == "400.0"  # 2 complaints per 5 sold orders, per 1,000
    assert dict(tables["complaint_handling"].rows)["Mean time to resolution (hours)"] == Decimal("3.0")


# --- the month-end job --------------------------------------------------------------------------


def test_the_month_end_job_at_00_30_stores_november_once_however_often_it_runs(app, county, clock):
    fire = clock.move_to(shanghai(MONTH_END))
    key = scheduler.run_key(fire)
    with app.app_context():
        first = scheduler.execute("bureau_report", key, scheduled_at=fire)
        again = scheduler.execute("bureau_report", key, scheduled_at=fire)  # the same fire time: not run
        clock.shift(60)
        manual = scheduler.execute("bureau_report", "manual:" + scheduler.run_key(clock.now()),
                                   scheduled_at=clock.now())  # "run now" a minute later: runs, stores nothing new
        reports = stored_reports()
        assert first is not None and first.outcome.value == "ok", first.message if first else None
        assert again is None
        assert manual is not None and manual.outcome.value == "ok" and "already stored" in manual.message
        assert [(r.kind, r.period_start, r.period_end, r.revision) for r in reports] == [
            (bureau.MONTHLY, date(2026, 11, 1), date(2026, 11, 30), 1)]
        # 23:50 on the 30th is November's, 00:00 on the 1st is December's
        assert reports[0].data["orders"]["placed"] == EXPECTED["orders"]["placed"]
        assert reports[0].requested_by_id is None
        assert db.session.scalar(sa.select(sa.func.count()).select_from(AuditLog)
                                 .where(AuditLog.action == "report.generate")) == 1


def test_at_23_50_on_the_months_last_day_the_job_reports_the_month_before(app, county, clock):
    clock.move_to(shanghai("2026-11-30 23:50"))
    with app.app_context():
        summary = bureau.month_end()
        [report] = stored_reports()
    assert (report.period_start, report.period_end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert report.data["orders"]["placed"] == 1  # October's last second only
    assert summary.startswith("2026-10: report")


def test_the_job_registers_for_the_first_of_the_month_at_00_30_shanghai():
    func, args = scheduler.registered("bureau_report")
    assert func == "marketplace.reports.bureau:month_end"
    trigger = scheduler._trigger(args)
    after = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 00:00 on Dec 1 in Shanghai
    assert trigger.get_next_fire_time(None, after).astimezone(UTC) == datetime(2026, 11, 30, 16, 30, tzinfo=UTC)


def test_two_servers_running_the_job_at_once_store_one_report(app, county, clock, monkeypatch):
    """Both find no report, both compute, both insert: the unique key lets one through; the other
    returns the stored one. (Threads with their own sessions and connections; on PostgreSQL two
    real transactions.)"""
    clock.move_to(shanghai(MONTH_END))
    both_computed = threading.Barrier(2, timeout=20)
    compute = bureau.compute

    def slow_compute(period, now=None):
        data = compute(period, now)
        both_computed.wait()  # neither inserts before the other has looked and computed
        return data

    monkeypatch.setattr(bureau, "compute", slow_compute)
    results, errors = [], []

    def server() -> None:
        try:
            with app.app_context():
                report, made = bureau.generate(november(), kind=bureau.MONTHLY)
                results.append((report.id, made))
                db.session.remove()
        except Exception as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=server) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert sorted(made for _id, made in results) == [False, True]
    assert len({report_id for report_id, _made in results}) == 1
    with app.app_context():
        assert len(stored_reports()) == 1


# --- stored snapshots, regenerating, validation -----------------------------------------------------


def test_a_stored_report_keeps_its_numbers_and_computing_again_is_an_audited_revision(app, county, clock, make_user):
    from marketplace.models import Role

    operator = make_user(Role.OPERATOR)
    clock.move_to(shanghai(MONTH_END))
    with app.app_context():
        first, _made = bureau.generate(november(), requested_by_id=operator.id)
        first_csv = exports.to_csv(first)[1]
        db.session.execute(sa.update(Order).where(Order.id == county.orders["O5"])
                           .values(status=OrderStatus.DELIVERED, delivered_at=shanghai("2026-11-12 11:00")))
        db.session.commit()
        clock.shift(3600)
        same, made = bureau.generate(november(), requested_by_id=operator.id)  # asked again: the stored one
        assert (same.id, made) == (first.id, False)
        assert exports.to_csv(db.session.get(StatisticsReport, first.id))[1] == first_csv

        second, made = bureau.generate(november(), requested_by_id=operator.id, regenerate=True)
        assert made and second.revision == 2 and second.id != first.id
        assert second.data["orders"]["sold"] == EXPECTED["orders"]["sold"] + 1
        assert db.session.get(StatisticsReport, first.id).data["orders"]["sold"] == EXPECTED["orders"]["sold"]
        assert bureau.stored(november()).id == second.id
        assert bureau.superseded_ids(bureau.history()) == {first.id}
        audit = db.session.scalar(sa.select(AuditLog).where(AuditLog.action == "report.regenerate"))
        assert audit.actor_user_id == operator.id and audit.object_id == second.id
        assert audit.data["replaces"] == first.id and audit.data["revision"] == 2


@pytest.mark.parametrize(("start", "end", "field", "zh", "en"), [
    ("2026-11-10", "2026-11-01", "from", "开始日期不能晚于结束日期", "must not be after the last day"),
    ("2026-11-01", "2026-12-02", "to", "结束日期不能晚于今天", "cannot be in the future"),
    ("2025-11-01", "2026-11-30", "from", "统计期最长 366 天", "at most 366 days"),
    ("2026-11-01", "", "to", "请填写开始日期和结束日期", "Enter both"),
    ("2026-11-31", "2026-12-01", "from", "日期格式为", "YYYY-MM-DD"),
])
def test_a_bad_period_is_refused_saying_why(app, clock, start, end, field, zh, en):
    from flask_babel import force_locale

    now = clock.move_to(shanghai("2026-12-01 00:30"))
    with app.test_request_context():
        for language, words in (("zh_CN", zh), ("en", en)):
            with force_locale(language), pytest.raises(ValidationFailed) as refused:
                bureau.requested_period(start, end, now=now)
            assert refused.value.field == field
            assert words in refused.value.message


def test_the_last_day_may_be_today_and_a_whole_month_still_running_is_on_demand(app, county, clock):
    now = clock.move_to(shanghai("2026-11-30 23:50"))
    with app.app_context():
        period = bureau.requested_period("2026-11-01", "2026-11-30", now=now)
        report, _made = bureau.generate(period)
        assert report.kind == bureau.ON_DEMAND  # November is not over: not the month's report
        clock.move_to(shanghai(MONTH_END))
        bureau.month_end()
        kinds = sorted(r.kind for r in stored_reports())
        assert kinds == [bureau.ON_DEMAND, bureau.MONTHLY]  # the job still stores the month's own report
        assert bureau.stored(november()).kind == bureau.MONTHLY


# --- the files ----------------------------------------------------------------------------------


@pytest.fixture
def stored(app, county, clock) -> int:
    clock.move_to(shanghai(MONTH_END))
    with app.app_context():
        report, _made = bureau.generate(november())
        return report.id


def csv_tables(raw: bytes) -> dict[str, list[list[str]]]:
    """The CSV's tables by their title row (a row of one cell followed by a header row)."""
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    tables: dict[str, list[list[str]]] = {}
    for i, row in enumerate(rows):
        if len(row) == 1 and i + 1 < len(rows) and len(rows[i + 1]) > 1 and i > 0 and rows[i - 1] == []:
            end = next((j for j in range(i + 1, len(rows)) if rows[j] == [] or len(rows[j]) == 1), len(rows))
            tables[row[0]] = rows[i + 1:end]
    return tables


def test_the_csv_parses_back_with_the_same_totals_in_chinese_and_english(app, stored):
    with app.app_context():
        report = db.session.get(StatisticsReport, stored)
        name, raw = exports.to_csv(report)
        _name_en, raw_en = exports.to_csv(report, "en")
    assert name == "shanhuo-bureau-20261101-20261130.csv"
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == "山货平台统计报表（报县商务局）"
    tables = csv_tables(raw)
    coops = tables["按合作社 · 各合作社销售额"]
    assert coops[0] == ["编码", "合作社", "订单", "数量", "销售额（元）", "销售额占比（%）"]
    assert coops[-1][1:5] == ["合计", "5", "10", "148.00"]
    assert sum(float(r[4]) for r in coops[1:-1]) == pytest.approx(148.00)
    assert ["BB", "'=乙合作社", "3", "4", "100.00", "67.6"] in coops  # a formula-looking name stays text
    categories = tables["按品类 · 各品类销售额"]
    assert categories[-1] == ["合计", "5", "10", "148.00", "100.0"]
    windows = tables["配送时效 · 各时效档准时送达情况"]
    assert windows[-1] == ["合计", "5", "3", "2", "1", "1", "66.7"]
    remedies = tables["投诉处理方案 · 针对投诉给予的处理"]
    assert remedies[-1] == ["合计", "3", "45.00"]
    assert "统计口径说明" in text and "准时率 = 准时单数 ÷ 已送达单数" in text
    assert "成交订单指已确认（已在线支付或已接受货到付款）、配送中或已送达的订单" in text  # what "sales" means
    assert "delivered_at <= deadline_at" in raw_en.decode("utf-8-sig")

    english = csv_tables(raw_en)
    assert english["By cooperative · Sales by cooperative"][0][-2:] == ["Sales (yuan)", "Share of sales (%)"]
    assert english["Sales"][3] == ["Goods sales (yuan)", "148.00"]


def test_the_xlsx_parses_back_with_the_same_totals(app, stored):
    with app.app_context():
        name, raw = exports.to_xlsx(db.session.get(StatisticsReport, stored))
    assert name.endswith(".xlsx")
    book = load_workbook(io.BytesIO(raw))
    assert book.sheetnames == ["订单", "销售额", "按品类", "按合作社", "按乡镇", "配送时效", "投诉", "投诉处理方案",
                               "统计口径说明"]
    sheet = book["按合作社"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    header = rows.index(["编码", "合作社", "订单", "数量", "销售额（元）", "销售额占比（%）"])
    total = next(r for r in rows[header:] if r[1] == "合计")
    body = rows[header + 1:rows.index(total)]
    assert total[2:5] == [5, 10, pytest.approx(148.00)]
    assert sum(r[4] for r in body) == pytest.approx(total[4])
    named = next(row for row in sheet.iter_rows() if row[0].value == "BB")
    assert named[1].value == "=乙合作社" and named[1].data_type == "s"  # text, never a formula
    assert named[4].number_format == "#,##0.00"
    towns = [[c.value for c in row] for row in book["按乡镇"].iter_rows()]
    assert ["合计", 5, 3, pytest.approx(148.00), pytest.approx(100.0)] in towns
    sales = {r[0]: r[1] for r in ([c.value for c in row] for row in book["销售额"].iter_rows()) if len(r) > 1}
    assert sales["商品销售额（元）"] == pytest.approx(148.00) and sales["配送费（元）"] == pytest.approx(19.00)


def test_the_pdf_is_valid_shows_the_chinese_title_and_embeds_its_font(app, stored):
    with app.app_context():
        name, raw = exports.to_pdf(db.session.get(StatisticsReport, stored))
    assert name.endswith(".pdf") and raw.startswith(b"%PDF-")
    reader = PdfReader(io.BytesIO(raw))
    assert len(reader.pages) >= 2
    text = "".join(page.extract_text() for page in reader.pages)
    assert "山货平台统计报表（报县商务局）" in text.replace(" ", "")
    assert "统计口径说明" in text and "148.00" in text
    assert reader.metadata.title == "山货平台统计报表（报县商务局）"
    fonts = [font.get_object() for page in reader.pages for font in page["/Resources"]["/Font"].values()]
    if exports.cjk_font()[1]:
        embedded = [f for f in fonts for d in f.get("/DescendantFonts", [f]) if "/FontDescriptor" in d.get_object()
                    and "/FontFile2" in d.get_object()["/FontDescriptor"]]
        assert embedded, "the CJK TrueType font is not embedded"
    else:  # (no fonts-wqy-microhei: the built-in CID font, which readers supply)
        pytest.skip("fonts-wqy-microhei is not installed: the PDF uses STSong-Light, not embedded")


def test_the_pdf_falls_back_to_the_built_in_chinese_font_without_the_file(app, stored, monkeypatch):
    from reportlab.pdfbase import pdfmetrics

    monkeypatch.setenv("SHANHUO_CJK_FONT", "/nonexistent/font.ttc")
    registered = [n for n in pdfmetrics.getRegisteredFontNames() if n != exports.CJK_FONT_NAME]
    monkeypatch.setattr(pdfmetrics, "getRegisteredFontNames", lambda: registered)
    assert exports.cjk_font() == (exports.CID_FALLBACK, False)
    with app.app_context():
        _name, raw = exports.to_pdf(db.session.get(StatisticsReport, stored), "en")
    reader = PdfReader(io.BytesIO(raw))
    fonts = {str(f.get_object()["/BaseFont"]) for page in reader.pages for f in page["/Resources"]["/Font"].values()}
    assert any("STSong-Light" in f for f in fonts)
    assert "Shanhuo statistics report to the county commerce bureau" in reader.pages[0].extract_text()


def test_a_report_of_an_empty_period_renders(app, clock):
    clock.move_to(shanghai(MONTH_END))
    with app.app_context():
        report, _made = bureau.generate(Period(date(2026, 11, 1), date(2026, 11, 1)))
        for writer in (exports.to_csv, exports.to_xlsx, exports.to_pdf):
            _name, raw = writer(report)
            assert raw
    assert report.data["orders"]["placed"] == 0 and report.kind == bureau.ON_DEMAND


def test_report_lookups_refuse_other_kinds(app):
    with app.app_context():
        daily = StatisticsReport(kind="daily_kpi", period_start=date(2026, 11, 1), period_end=date(2026, 11, 1))
        db.session.add(daily)
        db.session.commit()
        with pytest.raises(NotFound):
            bureau.report(daily.id)
        assert bureau.history() == []


def test_previous_month_crosses_the_year():
    assert bureau.previous_month(shanghai("2027-01-01 00:30")) == Period(date(2026, 12, 1), date(2026, 12, 31))
    assert bureau.previous_month(shanghai("2026-03-01 00:00")) == Period(date(2026, 2, 1), date(2026, 2, 28))
    assert bureau.previous_month(datetime(2026, 2, 28, 16, 0, tzinfo=UTC)) == Period(date(2026, 2, 1),
                                                                                     date(2026, 2, 28))
    assert bureau.previous_month(datetime(2026, 2, 28, 15, 59, tzinfo=UTC) + timedelta(seconds=59)) == Period(
        date(2026, 1, 1), date(2026, 1, 31))
