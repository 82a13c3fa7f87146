"""CSV files a spreadsheet opens right: UTF-8 with a BOM (Excel then reads the Chinese), CRLF, and
formula-safe cells (a cell starting with = + - @, a tab or a CR is kept as text, never run as a
formula; a negative number stays a number)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal

BOM = "\ufeff"


def safe_cell(cell: str) -> str:
    if cell[:1] in ("=", "+", "@", "\t", "\r") or (cell[:1] == "-" and not _numeric(cell)):
        return "'" + cell
    return cell


def _numeric(cell: str) -> bool:
    try:
        Decimal(cell)
    except ArithmeticError:
        return False
    return True


def csv_bytes(rows: Iterable[Iterable[object]]) -> bytes:
    """Rows as a whole CSV file (bytes, with the BOM)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(str(cell)) for cell in row])
    return (BOM + out.getvalue()).encode("utf-8")


def csv_lines(rows: Iterable[Iterable[object]]) -> Iterable[str]:
    """Rows as CSV text a line at a time (a streamed download), the first one with the BOM."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    first = True
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow([safe_cell(str(cell)) for cell in row])
        yield (BOM if first else "") + buffer.getvalue()
        first = False
