"""Portable SQL for time columns (UTC instants): the Shanghai calendar day of an instant and an
instant as epoch seconds, so that reports group and average in the database on SQLite and
PostgreSQL alike.

PostgreSQL converts with the time zone's rules (``timezone('Asia/Shanghai', t)``). SQLite has no
time zones: it adds the zone's UTC offset, which is right for Shanghai (UTC+8 all year, no
daylight saving since 1991); a zone with daylight saving would need the day boundaries instead.
Both render their constants inline (no bind parameters), so the same expression in SELECT and
GROUP BY is one expression to PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..i18n import LOCAL_TZ

_OFFSET_MINUTES = int(LOCAL_TZ.utcoffset(datetime(2026, 1, 1)).total_seconds() // 60)  # type: ignore[union-attr]


class local_day(FunctionElement):  # noqa: N801 (an SQL function, named like one)
    """The Shanghai calendar day (a ``date``) of a UTC timestamp column."""

    type = sa.Date()
    inherit_cache = True


class epoch_seconds(FunctionElement):  # noqa: N801
    """A UTC timestamp column as seconds since 1970-01-01 (a float)."""

    type = sa.Float()
    inherit_cache = True


@compiles(local_day, "postgresql")
def _local_day_pg(element, compiler, **kw) -> str:
    return f"CAST(timezone('{LOCAL_TZ.key}', {compiler.process(element.clauses, **kw)}) AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element, compiler, **kw) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, '{_OFFSET_MINUTES:+d} minutes')"


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element, compiler, **kw) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element, compiler, **kw) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"
