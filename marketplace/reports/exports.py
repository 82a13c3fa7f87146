"""The bureau report rendered from its stored snapshot: the tables (one list of parts and tables
shared by the page, CSV, XLSX and PDF), and the three files.

Everything here reads ``StatisticsReport.data`` only, never the orders: a report keeps what it
said. Labels are in the report's language (``lang``: "zh_CN", the default, or "en"); money is
shown in yuan with two decimals (exact, from integer fen), rates with one decimal.
"""

from __future__ import annotations

import io
import logging
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..csvfile import csv_bytes
from ..i18n import LOCAL_TZ
from ..labels import LABELS
from .models import StatisticsReport

log = logging.getLogger("shanhuo.reports.exports")

LANGUAGES = ("zh_CN", "en")
CJK_FONT_FILE = "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"  # Debian fonts-wqy-microhei
CJK_FONT_NAME = "ShanhuoCJK"
CID_FALLBACK = "STSong-Light"  # reportlab's built-in Chinese CID font (not embedded)

TEXT, INT, YUAN, PERCENT, DECIMAL = "text", "int", "yuan", "percent", "decimal"

RESOLUTION_NAMES = {"refund": _l("Refunds"), "coupon": _l("Coupons"), "reship": _l("Reships")}
COMPENSATION_NAMES = {"coupon": _l("Coupons"), "refund": _l("Refunds")}


def language(value: str | None) -> str:
    """The report language asked for (``zh``/``zh_CN``/``en``); Chinese unless English is named."""
    return "en" if (value or "").strip().lower().startswith("en") else "zh_CN"


# --- the tables --------------------------------------------------------------------------------


@dataclass
class Table:
    key: str
    title: str
    headers: list[str]
    kinds: list[str]  # TEXT | INT | YUAN | PERCENT | DECIMAL per column
    rows: list[list[Any]]
    total: list[Any] | None = None
    note: str = ""


@dataclass
class Part:
    """A section of the report: a sheet of the workbook, a heading of the PDF and the page."""

    key: str
    title: str
    tables: list[Table] = field(default_factory=list)


@dataclass
class Rendered:
    title: str
    subtitle: str  # what kind of report, which period
    period_line: str
    computed_line: str
    parts: list[Part]
    definitions: list[tuple[str, str]]
    figures: list[tuple[str, str]]  # the key figures, as text, for the top of the page and the PDF
    charts: dict[str, Any]
    file_stem: str
    definitions_title: str
    page_charts: dict[str, dict[str, Any]]  # static/js/charts.js specs (and a title) for the report's page


def yuan(fen: int) -> Decimal:
    """Integer fen as yuan, exactly, two decimals."""
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def share(part: int, whole: int) -> Decimal | None:
    """``part`` of ``whole`` in percent, one decimal; None without a whole."""
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def per_thousand(count: int, orders: int) -> Decimal | None:
    if not orders:
        return None
    return (Decimal(count) * 1000 / Decimal(orders)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def _name(row: dict[str, Any], lang: str) -> str:
    return (row.get("name_en") if lang == "en" else row.get("name_zh")) or row.get("name_zh") or ""


def definitions() -> list[tuple[str, str]]:
    """What each number means (schema 1), in the current language."""
    return [
        (_("Period"), _("Shanghai calendar days, from 00:00 of the first day to 24:00 of the last; orders count on "
                        "the day they were placed, complaints on the day they were filed.")),
        (_("Orders"), _("Every order placed in the period, by its status when the report was computed. Orders sent "
                        "again on a complaint (reships) are orders too.")),
        (_("Sales"), _("Goods (order lines at their price when ordered) of the period's sold orders: confirmed (paid "
                       "online, or cash on delivery accepted), on the way or delivered. Unpaid, expired and "
                       "cancelled orders are not sales. Delivery fees are shown apart; refunds, coupons and "
                       "compensation are not deducted.")),
        (_("By category, cooperative and town"), _(
            "A sold order's goods by the product's category and cooperative (an order with goods of two "
            "cooperatives counts once for each, so orders there do not add up to the total); by town: sold "
            "orders by the town of the delivery address's village.")),
        (_("On time"), _("A sold order delivered no later than its guaranteed deadline (delivered_at <= "
                         "deadline_at). On-time rate = on time / delivered. Overdue: past its deadline and not "
                         "delivered when the report was computed.")),
        (_("Compensation"), _("Automatic late-delivery compensation (coupons and refunds) granted in the period; "
                              "remedies granted on complaints are under resolutions.")),
        (_("Complaints"), _("Complaints filed in the period, per 1,000 sold orders of the period; resolved: resolved "
                            "when the report was computed; mean time to resolution from filing.")),
        (_("Resolutions"), _("Remedies granted on complaints in the period: refunds and coupons at their amount, "
                             "reships at the goods value of the order sent again.")),
    ]


def _tables(data: dict[str, Any], lang: str) -> list[Part]:
    orders, sales = data["orders"], data["sales"]
    placed, sold = orders["placed"], orders["sold"]
    total = _("Total")
    parts: list[Part] = []

    status_rows = [(_("Delivered"), orders["delivered"]), (_("In progress (confirmed or on the way)"), orders["in_progress"]),
                   (_("Cancelled"), orders["cancelled"]), (_("Expired (not paid in time)"), orders["expired"]),
                   (_("Awaiting payment"), orders["pending_payment"])]
    parts.append(Part("orders", _("Orders"), [
        Table("orders", _("Orders placed"), [_("Status"), _("Orders"), _("Share (%)")], [TEXT, INT, PERCENT],
              [[label, n, share(n, placed)] for label, n in status_rows],
              [_("Orders placed"), placed, share(placed, placed)]),
        Table("orders_more", _("Of the orders placed"), [_("Figure"), _("Orders"), _("Share (%)")], [TEXT, INT, PERCENT],
              [[_("Sold (confirmed, on the way or delivered)"), sold, share(sold, placed)],
               [_("Reships (sent again on a complaint)"), orders["reships"], share(orders["reships"], placed)]]),
    ]))

    average = yuan(sales["goods_fen"] // sales["orders"]) if sales["orders"] else None
    parts.append(Part("sales", _("Sales"), [
        Table("sales", _("Sales"), [_("Figure"), _("Value")], [TEXT, DECIMAL],
              [[_("Sold orders"), sales["orders"]], [_("Units sold"), sales["units"]],
               [_("Goods sales (yuan)"), yuan(sales["goods_fen"])],
               [_("Delivery fees (yuan)"), yuan(sales["delivery_fee_fen"])],
               [_("Goods and delivery (yuan)"), yuan(sales["total_fen"])],
               [_("Goods per sold order (yuan)"), average]]),
    ]))

    def breakdown(key: str, title: str, first: list[str], rows: list[dict[str, Any]], named) -> Table:
        goods = sales["goods_fen"]
        return Table(key, title, [*first, _("Orders"), _("Units"), _("Sales (yuan)"), _("Share of sales (%)")],
                     [TEXT] * len(first) + [INT, INT, YUAN, PERCENT],
                     [[*named(r), r["orders"], r["units"], yuan(r["sales_fen"]), share(r["sales_fen"], goods)]
                      for r in rows],
                     [*([""] * (len(first) - 1)), total, sales["orders"], sum(r["units"] for r in rows),
                      yuan(sum(r["sales_fen"] for r in rows)), share(goods, goods)])

    parts.append(Part("categories", _("By product category"), [
        breakdown("by_category", _("Sales by product category"), [_("Category")], data["by_category"],
                  lambda r: [_name(r, lang)])]))
    by_coop = breakdown("by_cooperative", _("Sales by cooperative"), [_("Code"), _("Cooperative")],
                        data["by_cooperative"], lambda r: [r["code"], _name(r, lang)])
    by_coop.note = _("An order with goods of two cooperatives counts once for each.")
    parts.append(Part("cooperatives", _("By cooperative"), [by_coop]))

    towns = data["by_town"]
    parts.append(Part("towns", _("By town"), [
        Table("by_town", _("Sold orders by town of delivery"),
              [_("Town"), _("Orders"), _("Delivered"), _("Sales (yuan)"), _("Share of sales (%)")],
              [TEXT, INT, INT, YUAN, PERCENT],
              [[_name(t, lang), t["orders"], t["delivered"], yuan(t["sales_fen"]), share(t["sales_fen"], sales["goods_fen"])]
               for t in towns],
              [total, sum(t["orders"] for t in towns), sum(t["delivered"] for t in towns),
               yuan(sum(t["sales_fen"] for t in towns)), share(sales["goods_fen"], sales["goods_fen"])])]))

    windows = data["delivery"]["windows"]
    sums = {k: sum(w[k] for w in windows) for k in ("orders", "delivered", "on_time", "late", "overdue")}
    compensation = data["delivery"]["compensation"]
    parts.append(Part("delivery", _("Delivery performance"), [
        Table("on_time", _("On-time delivery by window class"),
              [_("Window class"), _("Sold orders"), _("Delivered"), _("On time"), _("Delivered late"),
               _("Overdue, not delivered"), _("On-time rate (%)")],
              [TEXT, INT, INT, INT, INT, INT, PERCENT],
              [[_name(w, lang), w["orders"], w["delivered"], w["on_time"], w["late"], w["overdue"],
                share(w["on_time"], w["delivered"])] for w in windows],
              [total, sums["orders"], sums["delivered"], sums["on_time"], sums["late"], sums["overdue"],
               share(sums["on_time"], sums["delivered"])]),
        Table("compensation", _("Late-delivery compensation paid"), [_("Form of compensation"), _("Count"), _("Amount (yuan)")],
              [TEXT, INT, YUAN],
              [[str(COMPENSATION_NAMES[k]), v["count"], yuan(v["fen"])] for k, v in compensation.items()],
              [total, sum(v["count"] for v in compensation.values()),
               yuan(sum(v["fen"] for v in compensation.values()))]),
    ]))

    complaints = data["complaints"]
    mean = complaints["mean_resolution_seconds"]
    hours = None if mean is None else (Decimal(mean) / 3600).quantize(Decimal("0.1"), ROUND_HALF_UP)
    parts.append(Part("complaints", _("Complaints"), [
        Table("complaints", _("Complaints by category"), [_("Category"), _("Complaints"), _("Per 1,000 orders")],
              [TEXT, INT, DECIMAL],
              [[str(LABELS["complaint_category_names"][c]), n, per_thousand(n, sold)]
               for c, n in complaints["by_category"].items()],
              [total, complaints["total"], per_thousand(complaints["total"], sold)]),
        Table("complaint_handling", _("Complaint handling"), [_("Figure"), _("Value")], [TEXT, DECIMAL],
              [[_("Complaints filed"), complaints["total"]], [_("Resolved"), complaints["resolved"]],
               [_("Resolved (%)"), share(complaints["resolved"], complaints["total"])],
               [_("Mean time to resolution (hours)"), hours]]),
    ]))

    resolutions = data["resolutions"]
    parts.append(Part("resolutions", _("Complaint resolutions"), [
        Table("resolutions", _("Remedies granted on complaints"), [_("Remedy"), _("Count"), _("Amount (yuan)")],
              [TEXT, INT, YUAN],
              [[str(RESOLUTION_NAMES[k]), v["count"], yuan(v["fen"])] for k, v in resolutions.items()],
              [total, sum(v["count"] for v in resolutions.values()), yuan(sum(v["fen"] for v in resolutions.values()))]),
    ]))
    return parts


def _kind_title(report: StatisticsReport) -> str:
    from .bureau import MONTHLY

    if report.kind == MONTHLY:
        return _("Monthly report, %(month)s", month=_month(report.period_start))
    return _("Report for a chosen period")


def _month(day: date) -> str:
    return _("%(year)d-%(month)02d", year=day.year, month=day.month)


def render(report: StatisticsReport, lang: str = "zh_CN") -> Rendered:
    """The report's tables and words in ``lang``, from its snapshot."""
    data = report.data
    with force_locale(lang):
        parts = _tables(data, lang)
        computed = datetime.fromisoformat(data["computed_at"]).astimezone(LOCAL_TZ)
        sales, orders, complaints = data["sales"], data["orders"], data["complaints"]
        windows = data["delivery"]["windows"]
        delivered = sum(w["delivered"] for w in windows)
        rate = share(sum(w["on_time"] for w in windows), delivered)
        rate_text = "—" if rate is None else f"{rate}%"
        per_k = per_thousand(complaints["total"], orders["sold"])
        revision = _(" (revision %(n)d)", n=report.revision) if report.revision > 1 else ""
        rendered = Rendered(
            title=_("Shanhuo statistics report to the county commerce bureau"),
            subtitle=_kind_title(report) + revision,
            period_line=_("Period: %(start)s to %(end)s (Shanghai time), %(n)d days", start=data["period"]["start"],
                          end=data["period"]["end"], n=data["period"]["days"]),
            computed_line=_("Computed at %(time)s (Shanghai time); report no. %(id)d", time=f"{computed:%Y-%m-%d %H:%M}",
                            id=report.id),
            parts=parts,
            definitions=definitions(),
            figures=[
                (_("Orders placed"), str(orders["placed"])),
                (_("Sold orders"), str(orders["sold"])),
                (_("Delivered"), str(orders["delivered"])),
                (_("Cancelled"), str(orders["cancelled"])),
                (_("Goods sales (yuan)"), f"{yuan(sales['goods_fen']):,}"),
                (_("On-time rate"), rate_text),
                (_("Complaints"), str(complaints["total"])),
                (_("Complaints per 1,000 orders"), "—" if per_k is None else str(per_k)),
            ],
            charts=_chart_data(data, lang),
            file_stem=f"shanhuo-bureau-{report.period_start:%Y%m%d}-{report.period_end:%Y%m%d}"
                      f"{f'-r{report.revision}' if report.revision > 1 else ''}{'-en' if lang == 'en' else ''}",
            definitions_title=_("Definitions"),
            page_charts=_page_charts(data, lang),
        )
    return rendered


def _chart_data(data: dict[str, Any], lang: str) -> dict[str, Any]:
    categories = data["by_category"]
    windows = data["delivery"]["windows"]
    return {
        "category_names": [_name(c, lang) for c in categories],
        "category_sales": [float(yuan(c["sales_fen"])) for c in categories],
        "category_orders": [c["orders"] for c in categories],
        "window_names": [_name(w, lang) for w in windows],
        "window_rates": [None if not w["delivered"] else float(share(w["on_time"], w["delivered"]) or 0)
                         for w in windows],
        "window_delivered": [w["delivered"] for w in windows],
    }


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 2.5, 5 × 10^k at or above ``value`` (an axis end); 1 for nothing."""
    if value <= 0:
        return 1
    scale = 10 ** math.floor(math.log10(value))
    return next(step * scale for step in (1, 2, 2.5, 5, 10) if step * scale >= value)


def _page_charts(data: dict[str, Any], lang: str) -> dict[str, dict[str, Any]]:
    """The page's charts (static/js/charts.js specs), labels in the current language."""
    charts = _chart_data(data, lang)
    return {
        "categories": {
            "title": _("Goods sales by category (yuan)"),
            "horizontal": True, "categories": charts["category_names"],
            # room on the right for the bars' labels (charts.js writes them after the bar)
            "axes": [{"name": _("Goods sales (yuan)"), "format": "money",
                      "max": _nice_ceiling(max(charts["category_sales"] or [0]) * 1.3)}],
            "series": [{"name": _("Goods sales (yuan)"), "type": "bar", "format": "money", "color": GREEN,
                        "data": charts["category_sales"]}],
        },
        "on_time": {
            "title": _("On-time rate by window class (%)"),
            "categories": charts["window_names"],
            "axes": [{"name": _("On-time rate (%)"), "format": "percent", "min": 0, "max": 100}],
            "series": [{"name": _("On-time rate (%)"), "type": "bar", "format": "percent", "color": AMBER,
                        "data": charts["window_rates"]}],
        },
    }


def cell_text(value: Any, kind: str = TEXT) -> str:
    """A cell as text (the page and the CSV): no thousands separators, so a spreadsheet reads it."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value:.2f}" if kind == YUAN else str(value)
    return str(value)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_rows(rendered: Rendered) -> Iterator[list[str]]:
    yield [rendered.title]
    yield [rendered.subtitle]
    yield [rendered.period_line]
    yield [rendered.computed_line]
    for part in rendered.parts:
        for table in part.tables:
            yield []
            yield [f"{part.title} · {table.title}" if table.title != part.title else part.title]
            yield table.headers
            for row in table.rows + ([table.total] if table.total else []):
                yield [cell_text(v, k) for v, k in zip(row, table.kinds, strict=True)]
            if table.note:
                yield [table.note]
    yield []
    yield [rendered.definitions_title]
    for term, text in rendered.definitions:
        yield [term, text]


def to_csv(report: StatisticsReport, lang: str = "zh_CN") -> tuple[str, bytes]:
    """Every table one after the other (a title row, the headers, the rows, the total), then the
    definitions."""
    rendered = render(report, lang)
    return rendered.file_stem + ".csv", csv_bytes(list(_csv_rows(rendered)))


# --- XLSX --------------------------------------------------------------------------------------


def _sheet_title(text: str, taken: set[str]) -> str:
    clean = "".join(" " if ch in "[]:*?/\\" else ch for ch in text).strip()[:31] or "Sheet"
    title, n = clean, 2
    while title in taken:
        title = f"{clean[:28]} {n}"
        n += 1
    taken.add(title)
    return title


def _display_width(value: Any) -> int:
    text = value if isinstance(value, str) else cell_text(value, YUAN)
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def to_xlsx(report: StatisticsReport, lang: str = "zh_CN") -> tuple[str, bytes]:
    """One sheet per part of the report (and one of definitions): numbers as numbers (yuan with
    two decimals), text never taken for a formula."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    rendered = render(report, lang)
    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="E7EFE9")
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()

    def put(sheet, row: int, col: int, value: Any):
        cell = sheet.cell(row=row, column=col, value=value)
        if isinstance(value, str):
            cell.data_type = "s"  # a name starting with "=" stays text
        elif isinstance(value, Decimal):  # yuan (2 decimals) or a rate (1)
            cell.number_format = "#,##0.00" if value.as_tuple().exponent == -2 else "0.0"
        elif isinstance(value, int):
            cell.number_format = "#,##0"
        return cell

    definitions_title = rendered.definitions_title
    for part in rendered.parts:
        sheet = workbook.create_sheet(_sheet_title(part.title, taken))
        put(sheet, 1, 1, rendered.title).font = Font(bold=True, size=14)
        put(sheet, 2, 1, rendered.subtitle)
        put(sheet, 3, 1, rendered.period_line)
        row = 5
        widths: dict[int, int] = {}
        for table in part.tables:
            put(sheet, row, 1, table.title).font = bold
            row += 1
            for col, header in enumerate(table.headers, start=1):
                cell = put(sheet, row, col, header)
                cell.font, cell.fill = bold, head_fill
                cell.alignment = Alignment(wrap_text=True, vertical="center")
                widths[col] = max(widths.get(col, 0), min(_display_width(header), 24))
            row += 1
            for values, is_total in [(r, False) for r in table.rows] + ([(table.total, True)] if table.total else []):
                for col, value in enumerate(values, start=1):
                    cell = put(sheet, row, col, value)
                    if is_total:
                        cell.font = bold
                    widths[col] = max(widths.get(col, 0), _display_width(value) if value is not None else 0)
                row += 1
            if table.note:
                put(sheet, row, 1, table.note).font = Font(italic=True, color="666666")
                row += 1
            row += 1
        for col, width in widths.items():
            sheet.column_dimensions[sheet.cell(row=1, column=col).column_letter].width = max(10, min(width + 2, 48))
    sheet = workbook.create_sheet(_sheet_title(definitions_title, taken))
    put(sheet, 1, 1, definitions_title).font = Font(bold=True, size=14)
    for i, (term, text) in enumerate(rendered.definitions, start=3):
        put(sheet, i, 1, term).font = bold
        put(sheet, i, 2, text).alignment = Alignment(wrap_text=True, vertical="top")
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 90
    workbook.properties.title = rendered.title
    workbook.properties.creator = "Shanhuo"
    out = io.BytesIO()
    workbook.save(out)
    return rendered.file_stem + ".xlsx", out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------


def cjk_font() -> tuple[str, bool]:
    """The font the PDF writes Chinese with: (name, embedded). WenQuanYi Micro Hei from its
    TrueType collection, embedded (subset); reportlab's built-in STSong-Light CID font (the
    reader supplies the glyphs) when the file is missing."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    registered = pdfmetrics.getRegisteredFontNames()
    if CJK_FONT_NAME in registered:
        return CJK_FONT_NAME, True
    path = os.environ.get("SHANHUO_CJK_FONT", CJK_FONT_FILE)
    if os.path.exists(path):
        try:
            pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, path, subfontIndex=0))
            return CJK_FONT_NAME, True
        except Exception:  # a damaged or unexpected file: the built-in font still prints Chinese
            log.exception("CJK font %s could not be loaded; using %s", path, CID_FALLBACK)
    if CID_FALLBACK not in registered:
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FALLBACK))
    return CID_FALLBACK, False


GREEN, RED, AMBER, INK, MUTED = "#2f6b3f", "#c8412d", "#f2b544", "#1f2a24", "#6b7570"


def _axis_label(lang: str):
    """Value axis labels short enough for a half-page chart: 20000 → "2万" / "20k"."""
    def label(value: float) -> str:
        if abs(value) >= 10_000:
            return f"{value / 10_000:g}万" if lang != "en" else f"{value / 1000:g}k"
        return f"{value:g}"
    return label


def _bar_chart(font: str, title: str, names: list[str], values: list[float], width: float, height: float,
               color: str, value_format: str, lang: str, max_value: float | None = None):
    from reportlab.graphics.charts.barcharts import HorizontalBarChart
    from reportlab.graphics.shapes import Drawing, String
    from reportlab.lib import colors

    drawing = Drawing(width, height)
    drawing.add(String(0, height - 12, title, fontName=font, fontSize=10, fillColor=colors.HexColor(INK)))
    chart = HorizontalBarChart()
    label_room = 92
    chart.x, chart.y = label_room, 18
    chart.width, chart.height = width - label_room - 46, height - 40
    chart.data = [[v or 0 for v in values]] if values else [[0]]
    chart.categoryAxis.categoryNames = names or [""]
    chart.categoryAxis.reverseDirection = True  # the first category on top, as in the tables
    chart.categoryAxis.labels.fontName = font
    chart.categoryAxis.labels.fontSize = 8
    chart.categoryAxis.labels.boxAnchor = "e"
    chart.categoryAxis.labels.dx = -4
    chart.valueAxis.labels.fontName = font
    chart.valueAxis.labels.fontSize = 7
    chart.valueAxis.valueMin = 0
    top = max([v or 0 for v in values] + [0])
    chart.valueAxis.valueMax = max_value if max_value is not None else (top * 1.15 if top else 1)
    chart.valueAxis.maximumTicks = 6
    chart.valueAxis.labelTextFormat = _axis_label(lang)
    chart.valueAxis.visibleGrid = True
    chart.valueAxis.gridStrokeColor = colors.HexColor("#dde3df")
    chart.bars[0].fillColor = colors.HexColor(color)
    chart.bars[0].strokeColor = None
    chart.barLabelFormat = value_format
    chart.barLabels.fontName = font
    chart.barLabels.fontSize = 7
    chart.barLabels.boxAnchor = "w"
    chart.barLabels.dx = 3
    drawing.add(chart)
    return drawing


def to_pdf(report: StatisticsReport, lang: str = "zh_CN") -> tuple[str, bytes]:
    """A4 portrait: title, key figures, charts (sales and orders by category, on-time rate by
    window class), every table, the definitions; Chinese in an embedded CJK font."""
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import KeepTogether, Paragraph, SimpleDocTemplate, Spacer, TableStyle
    from reportlab.platypus import Table as PdfTable

    rendered = render(report, lang)
    font, _embedded = cjk_font()
    with force_locale(lang):
        charts_title = _("Charts")
        key_title = _("Key figures")
        page_word = _("Page %(n)d")
        chart_titles = (_("Goods sales by category (yuan)"), _("Sold orders by category"),
                        _("On-time rate by window class (%)"))
    wrap = "CJK" if lang != "en" else None
    base = {"fontName": font, "wordWrap": wrap} if wrap else {"fontName": font}
    styles = {
        "title": ParagraphStyle("title", fontSize=17, leading=22, spaceAfter=4, textColor=colors.HexColor(INK), **base),
        "subtitle": ParagraphStyle("subtitle", fontSize=11, leading=15, textColor=colors.HexColor(GREEN), **base),
        "meta": ParagraphStyle("meta", fontSize=8.5, leading=12, textColor=colors.HexColor(MUTED), **base),
        "h2": ParagraphStyle("h2", fontSize=13, leading=17, spaceBefore=10, spaceAfter=4,
                             textColor=colors.HexColor(GREEN), **base),
        "h3": ParagraphStyle("h3", fontSize=10, leading=13, spaceBefore=4, spaceAfter=3, **base),
        "cell": ParagraphStyle("cell", fontSize=8, leading=10, **base),
        "num": ParagraphStyle("num", fontSize=8, leading=10, alignment=TA_RIGHT, **base),
        "note": ParagraphStyle("note", fontSize=7.5, leading=10, textColor=colors.HexColor(MUTED), **base),
        "def": ParagraphStyle("def", fontSize=8, leading=11, spaceAfter=3, **base),
    }
    page_width = A4[0] - 36 * mm

    def para(text: str, style: str) -> Paragraph:
        return Paragraph(escape(text), styles[style])

    def cells(values: list[Any], kinds: list[str], blank: str = "—") -> list[Paragraph]:
        return [para(cell_text(v, k) or (blank if k != TEXT else ""), "num" if k != TEXT else "cell")
                for v, k in zip(values, kinds, strict=True)]

    def table_flowable(table: Table) -> PdfTable:
        rows = [cells(table.headers, table.kinds, ""), *(cells(r, table.kinds) for r in table.rows)]
        if table.total:
            rows.append(cells(table.total, table.kinds))
        numbers = sum(1 for k in table.kinds if k != TEXT)
        number_width = 20 * mm if numbers >= 4 else 26 * mm
        code_width = 20 * mm  # the first of two text columns is a code
        texts = len(table.kinds) - numbers
        rest = page_width - number_width * numbers - (code_width if texts == 2 else 0)
        widths = [number_width if k != TEXT else (code_width if texts == 2 and i == 0 else rest / max(1, texts - (texts == 2)))
                  for i, k in enumerate(table.kinds)]
        flowable = PdfTable(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
        style = [
            ("FONTNAME", (0, 0), (-1, -1), font),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e7efe9")),
            ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor(GREEN)),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f8f6")]),
            ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ("TOPPADDING", (0, 0), (-1, -1), 2.5), ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ]
        if table.total:
            style += [("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.HexColor(INK)),
                      ("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#eef2ef"))]
        flowable.setStyle(TableStyle(style))
        return flowable

    story: list[Any] = [para(rendered.title, "title"), para(rendered.subtitle, "subtitle"), Spacer(1, 2),
                        para(rendered.period_line, "meta"), para(rendered.computed_line, "meta"), Spacer(1, 6)]
    figures = rendered.figures
    grid = []
    for i in range(0, len(figures), 4):
        chunk = figures[i:i + 4]
        grid.append([Paragraph(f'<font size="13">{escape(value)}</font><br/><font size="7.5" color="{MUTED}">'
                               f'{escape(label)}</font>', ParagraphStyle("fig", fontName=font, leading=15,
                                                                       **({"wordWrap": wrap} if wrap else {})))
                     for label, value in chunk])
    key = PdfTable(grid, colWidths=[page_width / 4] * 4, hAlign="LEFT")
    key.setStyle(TableStyle([("BOX", (0, 0), (-1, -1), 0.5, colors.HexColor("#cfd8d2")),
                             ("INNERGRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#cfd8d2")),
                             ("TOPPADDING", (0, 0), (-1, -1), 5), ("BOTTOMPADDING", (0, 0), (-1, -1), 5)]))
    story += [para(key_title, "h2"), key]

    charts = rendered.charts
    half = page_width / 2 - 3 * mm
    category_height = max(120, 22 + 17 * len(charts["category_names"]) + 30)
    side_by_side = PdfTable([[
        _bar_chart(font, chart_titles[0], charts["category_names"], charts["category_sales"], half, category_height,
                   GREEN, "%.2f", lang),
        _bar_chart(font, chart_titles[1], charts["category_names"], charts["category_orders"], half, category_height,
                   AMBER, "%d", lang),
    ]], colWidths=[half + 3 * mm, half + 3 * mm], hAlign="LEFT")
    window_height = max(100, 22 + 20 * len(charts["window_names"]) + 30)
    rates = [r if r is not None else 0 for r in charts["window_rates"]]
    story += [para(charts_title, "h2"), side_by_side, Spacer(1, 6),
              _bar_chart(font, chart_titles[2], charts["window_names"], rates, page_width * 0.7, window_height,
                         GREEN, "%.1f", lang, max_value=100)]

    for part in rendered.parts:
        for i, table in enumerate(part.tables):
            block = [para(table.title, "h3"), table_flowable(table)]
            if i == 0:  # a section's heading stays with its first table
                block.insert(0, para(part.title, "h2"))
            if table.note:
                block.append(para(table.note, "note"))
            story += [KeepTogether(block), Spacer(1, 4)]
    story.append(para(rendered.definitions_title, "h2"))
    for term, text in rendered.definitions:
        term_markup = f'<font color="{GREEN}">{escape(term)}</font>'  # (the CJK font has no bold face)
        story.append(Paragraph(f"{term_markup}　{escape(text)}" if lang != "en" else f"{term_markup}: {escape(text)}",
                               styles["def"]))

    def decorate(canvas, doc) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor(MUTED))
        canvas.drawString(18 * mm, 10 * mm, f"{rendered.title} · {rendered.period_line}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, page_word % {"n": doc.page})
        canvas.restoreState()

    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                                 bottomMargin=18 * mm, title=rendered.title, author="Shanhuo",
                                 subject=rendered.period_line, creator="Shanhuo")
    document.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return rendered.file_stem + ".pdf", out.getvalue()
