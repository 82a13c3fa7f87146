"""The bureau reports' pages (/reports/bureau): operators see the history, compute a report for a
period (a stored period shows the stored report; computing again is explicit), open it and
download it as CSV, XLSX or PDF; nobody else gets any of it; a bad period is refused saying why,
in Chinese or English, and nothing is stored."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from pypdf import PdfReader

from marketplace.extensions import db
from marketplace.models import Role
from marketplace.reports.models import StatisticsReport
from tests.conftest import csrf_token, login
from tests.marketplace.reports.bureau_data import make_county, shanghai

AFTER_NOVEMBER = "2026-12-01 00:30"
MOBILE = "13600004242"


@pytest.fixture
def operator(app, make_user, clock):
    make_county(app, make_user)
    make_user(Role.OPERATOR, mobile=MOBILE, name="报表操作员")
    clock.move_to(shanghai(AFTER_NOVEMBER))
    client = app.test_client()
    login(client, MOBILE)
    return client


def generate(client, start: str, end: str, **extra):
    return client.post("/reports/bureau", data={"start": start, "end": end,
                                                "csrf_token": csrf_token(client, "/reports/bureau"), **extra})


def report_ids(app) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(sa.select(StatisticsReport.id).order_by(StatisticsReport.id)))


def test_an_operator_computes_opens_and_downloads_a_report(app, operator):
    page = operator.get("/reports/bureau")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "尚未保存任何报表" in html
    assert 'value="2026-11-01"' in html and 'value="2026-11-30"' in html  # last month offered

    made = generate(operator, "2026-11-01", "2026-11-30")
    [report_id] = report_ids(app)
    assert made.status_code == 302 and made.location.endswith(f"/reports/bureau/{report_id}")
    shown = operator.get(made.location).get_data(as_text=True)
    assert "报表已生成并保存" in shown and "2026年11月月报" in shown
    assert "148.00" in shown and "=乙合作社" in shown and "统计口径说明" in shown
    assert 'data-table="by_town"' in shown

    downloads = {
        "csv": ("text/csv", lambda raw: raw.decode("utf-8-sig").startswith("山货平台统计报表")),
        "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                 lambda raw: "按合作社" in load_workbook(io.BytesIO(raw)).sheetnames),
        "pdf": ("application/pdf", lambda raw: "山货平台统计报表" in PdfReader(io.BytesIO(raw)).pages[0].extract_text()),
    }
    for fmt, (mimetype, readable) in downloads.items():
        response = operator.get(f"/reports/bureau/{report_id}.{fmt}")
        assert response.status_code == 200 and response.mimetype == mimetype
        assert response.headers["Content-Disposition"] == f'attachment; filename="shanhuo-bureau-20261101-20261130.{fmt}"'
        assert response.headers["Cache-Control"] == "private, no-store"
        assert readable(response.data), fmt
    english = operator.get(f"/reports/bureau/{report_id}.csv?lang=en")
    assert english.get_data().decode("utf-8-sig").startswith("Shanhuo statistics report to the county commerce bureau")
    assert "-en.csv" in english.headers["Content-Disposition"]

    history = operator.get("/reports/bureau").get_data(as_text=True)
    assert f'data-report="{report_id}"' in history and "月报" in history and "¥148.00" in history


def test_a_stored_period_shows_the_stored_report_and_computing_again_adds_a_revision(app, operator):
    first = generate(operator, "2026-11-01", "2026-11-30").location
    again = generate(operator, "2026-11-01", "2026-11-30")
    assert again.location == first and len(report_ids(app)) == 1
    assert "此前已保存" in operator.get(again.location).get_data(as_text=True)

    redone = generate(operator, "2026-11-01", "2026-11-30", regenerate="1")
    ids = report_ids(app)
    assert len(ids) == 2 and redone.location.endswith(f"/reports/bureau/{ids[1]}")
    old_page = operator.get(first).get_data(as_text=True)
    assert "本报表已有更新版本" in old_page and "第 2 版" in old_page
    assert "已有更新版本" in operator.get("/reports/bureau").get_data(as_text=True)


@pytest.mark.parametrize(("start", "end", "zh"), [
    ("2026-11-30", "2026-11-01", "开始日期不能晚于结束日期。"),
    ("2026-11-01", "2026-12-02", "结束日期不能晚于今天。"),
    ("2025-01-01", "2026-11-30", "统计期最长 366 天。"),
    ("", "2026-11-30", "请填写开始日期和结束日期。"),
    ("2026/11/01", "2026-11-30", "日期格式为 年-月-日，例如 2026-11-01。"),
])
def test_a_bad_period_is_refused_with_the_reason_and_nothing_is_stored(app, operator, start, end, zh):
    refused = generate(operator, start, end)
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert re.search(r'class="field-error" role="alert">([^<]*)<', html).group(1) == zh
    assert f'value="{start}"' in html  # the form keeps what was typed
    assert report_ids(app) == []


def test_the_reasons_read_in_english_on_the_english_page(app, operator):
    operator.post("/lang/en", data={"csrf_token": csrf_token(operator, "/reports/bureau")})
    refused = generate(operator, "2026-11-30", "2026-11-01")
    assert refused.status_code == 422
    assert "The first day must not be after the last day." in refused.get_data(as_text=True)
    page = operator.get("/reports/bureau").get_data(as_text=True)
    assert "Compute a report" in page and "Stored reports" in page


@pytest.mark.parametrize("role", [Role.CONSUMER, Role.COOP_HEAD, Role.DRIVER, Role.DISPATCHER, Role.COMPLAINT_STAFF])
def test_only_operators_get_the_reports_and_their_downloads(app, operator, make_user, role):
    generate(operator, "2026-11-01", "2026-11-30")
    [report_id] = report_ids(app)
    other = make_user(role, mobile="13500004242")
    client = app.test_client()
    login(client, other.mobile)
    anonymous = app.test_client()
    for path in ("/reports/bureau", f"/reports/bureau/{report_id}", f"/reports/bureau/{report_id}.csv",
                 f"/reports/bureau/{report_id}.xlsx", f"/reports/bureau/{report_id}.pdf"):
        response = client.get(path)
        assert response.status_code in (403, 404), (role, path, response.status_code)
        assert b"148.00" not in response.data
        signed_out = anonymous.get(path)
        assert signed_out.status_code == 302 and "/login" in signed_out.location, path
    refused = client.post("/reports/bureau", data={"start": "2026-10-01", "end": "2026-10-31",
                                                   "csrf_token": csrf_token(client, "/categories")})
    assert refused.status_code in (403, 404)
    assert report_ids(app) == [report_id]


def test_an_unknown_report_is_not_found(operator):
    assert operator.get("/reports/bureau/999999").status_code == 404
    assert operator.get("/reports/bureau/999999.pdf").status_code == 404
