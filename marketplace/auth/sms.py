"""Text messages to a mobile number. The sandbox gateway (the only one so far, ``SMS_BACKEND =
"sandbox"``) writes each message to the ``sms_outbox`` table and the log instead of a phone; a
real provider's client replaces :func:`send`. With ``SMS_SANDBOX_INBOX`` on (``make demo``), the
page /sandbox/sms shows the outbox, so a demo visitor can read the codes."""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import select

from ..extensions import db
from .models import SmsMessage

log = logging.getLogger("shanhuo.sms")


def send(mobile: str, body: str) -> None:
    """Send ``body`` to ``mobile`` (added to the caller's transaction, sent when it commits)."""
    backend = current_app.config.get("SMS_BACKEND", "sandbox")
    if backend != "sandbox":
        raise RuntimeError(f"SMS_BACKEND {backend!r} is not available; only 'sandbox' is built in")
    db.session.add(SmsMessage(mobile=mobile, body=body[:255]))
    log.info("sms queued", extra={"mobile": mobile[:3] + "****" + mobile[-4:]})


def outbox(limit: int = 50) -> list[SmsMessage]:
    return list(db.session.scalars(select(SmsMessage).order_by(SmsMessage.id.desc()).limit(limit)))
