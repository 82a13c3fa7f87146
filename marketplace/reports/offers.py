"""What consumers were offered at checkout: the window classes a quote could keep, and the class
of the order they then placed (the dashboard's "offered vs requested").

Kept cheap and bounded: one row per (consumer, zone) and 10-minute slot of the clock (UTC), written
by one upsert (INSERT … ON CONFLICT DO UPDATE on the slot's unique key, atomic on SQLite and
PostgreSQL alike): a later quote in the slot updates the row with what it could offer. The order
placed afterwards fills ``chosen_code`` and ``order_id`` of the consumer's latest unclaimed row in
its zone (quoted within :data:`CHOICE_WITHIN` before the order). Both writes are short transactions
of their own; a failure to record is logged and never fails the quote or the order.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from functools import cache

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ..columns import UTCDateTime, utcnow
from ..extensions import db

log = logging.getLogger("shanhuo.reports.offers")

SLOT = timedelta(minutes=10)
#: an order claims the consumer's latest unclaimed quote in its zone made at most this long before
CHOICE_WITHIN = timedelta(hours=1)
SEPARATOR = ","


class WindowOffer(db.Model):
    """One consumer's checkout quotes in one zone within a 10-minute slot: the window classes the
    last of them could keep (``offered``, e.g. ",6h,12h,18h,"), how many quotes it folds, and the
    class and order placed after it (if any)."""

    __tablename__ = "window_offers"
    __table_args__ = (sa.UniqueConstraint("user_id", "zone_id", "slot_at"),
                      sa.Index("ix_window_offers_slot_at", "slot_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zones.id"))
    slot_at: Mapped[datetime] = mapped_column(UTCDateTime)  # start of the 10-minute slot
    quoted_at: Mapped[datetime] = mapped_column(UTCDateTime)  # the slot's last quote
    quotes: Mapped[int] = mapped_column(default=1)
    offered: Mapped[str] = mapped_column(sa.String(64), default="")  # ",code,code," ("" when none)
    chosen_code: Mapped[str | None] = mapped_column(sa.String(8))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("orders.id"))


def slot_of(at: datetime) -> datetime:
    """The start of the 10-minute slot holding ``at`` (UTC)."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute - at.minute % 10, second=0, microsecond=0)


def offered_text(codes: Iterable[str]) -> str:
    codes = list(codes)
    return SEPARATOR + SEPARATOR.join(codes) + SEPARATOR if codes else ""


def offered_like(code: str) -> str:
    """The LIKE pattern of rows that offered ``code`` (its separators keep 2h apart from 12h)."""
    return f"%{SEPARATOR}{code}{SEPARATOR}%"


@cache
def _upsert(dialect: str):
    t = WindowOffer.__table__
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(t)
    return insert.on_conflict_do_update(
        index_elements=[t.c.user_id, t.c.zone_id, t.c.slot_at],
        set_={"quoted_at": insert.excluded.quoted_at, "offered": insert.excluded.offered,
              "quotes": t.c.quotes + 1})


def _commit_keeping_state() -> None:
    # the quote's (and the order's) objects stay loaded: the page renders them without reloading
    session = db.session()
    if db.engine.dialect.name == "postgresql":
        # a statistic, not a promise: the commit need not wait for the disk (a crash may lose the
        # last few rows, never anything else's: the setting ends with this transaction)
        session.execute(sa.text("SET LOCAL synchronous_commit TO OFF"))
    keep = session.expire_on_commit
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep


def record_quote(user_id: int, zone_id: int, windows, now: datetime | None = None) -> None:
    """After a checkout quote: the classes it could keep (``windows``: the quote's window quotes,
    with ``code`` and ``feasible``), in the consumer's row of this zone and slot. One statement and
    a commit; a database error is logged and swallowed (the quote stands)."""
    now = now or utcnow()
    row = {"user_id": user_id, "zone_id": zone_id, "slot_at": slot_of(now), "quoted_at": now, "quotes": 1,
           "offered": offered_text(w.code for w in windows if w.feasible)}
    try:
        db.session.execute(_upsert(db.engine.dialect.name), row)
        _commit_keeping_state()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("window offer of user %s in zone %s not recorded", user_id, zone_id, exc_info=True)


@cache
def _claim() -> sa.Update:
    t = WindowOffer.__table__
    latest = (sa.select(t.c.id)
              .where(t.c.user_id == sa.bindparam("by_user"), t.c.zone_id == sa.bindparam("in_zone"),
                     t.c.order_id.is_(None),
                     t.c.quoted_at >= sa.bindparam("since", type_=t.c.quoted_at.type),
                     t.c.quoted_at <= sa.bindparam("now", type_=t.c.quoted_at.type))
              .order_by(t.c.quoted_at.desc(), t.c.id.desc()).limit(1).scalar_subquery())
    return (sa.update(t).where(t.c.id == latest)
            .values(chosen_code=sa.bindparam("chosen"), order_id=sa.bindparam("placed")))


def record_choice(order, window_code: str, now: datetime | None = None) -> None:
    """After an order was placed (and committed): its window class and id on the consumer's
    latest unclaimed quote in the order's zone. Logged and swallowed on a database error."""
    now = now or utcnow()
    params = {"by_user": order.user_id, "in_zone": order.zone_id, "since": now - CHOICE_WITHIN, "now": now,
              "chosen": window_code, "placed": order.id}
    try:
        db.session.execute(_claim(), params)
        _commit_keeping_state()
    except SQLAlchemyError:
        db.session.rollback()
        log.warning("window choice of order %s not recorded", order.id, exc_info=True)
