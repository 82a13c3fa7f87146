"""Complaints: intake (consumer, phone, API), the console's queue, the lifecycle (states,
replies, notes, assignment, macros), resolutions (refund, reship, coupon) and SLA escalation.

Transactions: every entry point commits once. Intake and resolutions are idempotent by the
form's key: a double tap files one complaint, a resolution submitted twice pays once (the key is
UNIQUE, so two racing submissions cannot both insert). Every change of a complaint is a
ComplaintEvent (append-only); internal notes are events of kind "note" and are never shown to
the consumer.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload, selectinload

from .. import uploads
from ..auth.models import Role, User
from ..columns import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..i18n import LOCAL_TZ
from ..orders import services as orders
from ..orders.models import Compensation, CompensationKind, Order, OrderStatus
from . import sla
from .models import (
    Complaint,
    ComplaintCategory,
    ComplaintEvent,
    ComplaintResolution,
    ComplaintStatus,
    ResolutionKind,
)

OPEN_STATUSES = (ComplaintStatus.OPEN, ComplaintStatus.IN_PROGRESS, ComplaintStatus.WAITING_CUSTOMER)
TEXT_MIN, TEXT_MAX = 5, 2000
REPLY_MAX = 2000
MAX_PHOTOS = 3
KEY_RE = re.compile(r"[A-Za-z0-9_-]{8,64}")
#: orders a consumer may complain about (not an unpaid or expired one: nothing was sold)
COMPLAINABLE = (OrderStatus.CONFIRMED, OrderStatus.DISPATCHED, OrderStatus.DELIVERED, OrderStatus.CANCELLED)
#: valid moves of the lifecycle; resolved/closed → in progress is a reopen
TRANSITIONS: dict[ComplaintStatus, tuple[ComplaintStatus, ...]] = {
    ComplaintStatus.OPEN: (ComplaintStatus.IN_PROGRESS, ComplaintStatus.WAITING_CUSTOMER, ComplaintStatus.RESOLVED),
    ComplaintStatus.IN_PROGRESS: (ComplaintStatus.WAITING_CUSTOMER, ComplaintStatus.RESOLVED),
    ComplaintStatus.WAITING_CUSTOMER: (ComplaintStatus.IN_PROGRESS, ComplaintStatus.RESOLVED),
    ComplaintStatus.RESOLVED: (ComplaintStatus.CLOSED, ComplaintStatus.IN_PROGRESS),
    ComplaintStatus.CLOSED: (ComplaintStatus.IN_PROGRESS,),
}
STAFF_ROLES = (Role.COMPLAINT_STAFF, Role.OPERATOR)
#: what the consumer sees of a complaint's history
PUBLIC_EVENTS = ("filed", "reply", "status", "reopened", "refund", "reship", "coupon")


def new_key() -> str:
    return secrets.token_urlsafe(18)


def _check_key(key: str | None) -> str:
    if not KEY_RE.fullmatch(key or ""):
        raise ValidationFailed(_l("The form is incomplete. Please reload the page."), field="idempotency_key")
    return key  # type: ignore[return-value]


def _event(complaint: Complaint, kind: str, actor_id: int | None, body: str = "", *, from_status=None,
           to_status=None, data: dict | None = None, at: datetime | None = None) -> ComplaintEvent:
    event = ComplaintEvent(complaint_id=complaint.id, kind=kind, actor_user_id=actor_id, body=body,
                           from_status=from_status.value if from_status else None,
                           to_status=to_status.value if to_status else None, data=data or {},
                           created_at=at or utcnow())
    db.session.add(event)
    return event


# --- intake --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Intake:
    category: str
    text: str
    line_ids: list[int]
    photos: list[bytes]
    idempotency_key: str


def _number(now: datetime) -> str:
    return f"CP{now.astimezone(LOCAL_TZ):%y%m%d%H%M}{secrets.randbelow(10**10):010d}"


def _validate(order: Order, intake: Intake) -> tuple[ComplaintCategory, str, list[int]]:
    try:
        category = ComplaintCategory(intake.category)
    except ValueError:
        raise ValidationFailed(_l("Choose what went wrong."), field="category") from None
    text = (intake.text or "").strip()
    if len(text) < TEXT_MIN:
        raise ValidationFailed(_l("Tell us what happened (at least %(n)d characters).", n=TEXT_MIN), field="text")
    if len(text) > TEXT_MAX:
        raise ValidationFailed(_l("At most %(n)d characters, please.", n=TEXT_MAX), field="text")
    own = {line.id for line in order.lines}
    line_ids = sorted(set(intake.line_ids))
    if any(i not in own for i in line_ids):
        raise ValidationFailed(_l("Choose items of this order."), field="lines")
    if len(intake.photos) > MAX_PHOTOS:
        raise ValidationFailed(_l("At most %(n)d photos.", n=MAX_PHOTOS), field="photos")
    if order.status not in COMPLAINABLE:
        raise Conflict(_l("This order was never paid or confirmed: there is nothing to complain about."))
    return category, text, line_ids


def _delivery_stop(order_id: int):
    """The order's delivery stop: the one done (or failed) if any, else the newest planned one."""
    from ..dispatch.models import Stop, StopKind, StopStatus

    stops = db.session.scalars(sa.select(Stop).options(joinedload(Stop.route))
                               .where(Stop.order_id == order_id, Stop.kind == StopKind.DELIVERY)
                               .order_by(Stop.id.desc())).all()
    for stop in stops:
        if stop.status in (StopStatus.DONE, StopStatus.FAILED, StopStatus.ARRIVED):
            return stop
    return stops[0] if stops else None


def _link(complaint: Complaint, order: Order, line_ids: list[int]) -> None:
    """Fill what the complaint is about from the order and its delivery record (the feedback loop
    reads product, cooperative, stop, route and vehicle)."""
    lines = [line for line in order.lines if line.id in line_ids] or list(order.lines)
    if lines:
        first = lines[0]
        complaint.product_id = first.product_id
        complaint.cooperative_id = first.product.cooperative_id if first.product else None
        complaint.batch_id = first.batch_id
    stop = _delivery_stop(order.id)
    if stop is not None:
        complaint.stop_id = stop.id
        complaint.route_id = stop.route_id
        complaint.vehicle_id = stop.route.vehicle_id
        complaint.driver_id = stop.route.vehicle.driver_id if stop.route.vehicle else None


def _existing(user_id: int, key: str) -> Complaint | None:
    return db.session.scalar(sa.select(Complaint).where(Complaint.user_id == user_id, Complaint.idempotency_key == key))


def _file(order: Order, intake: Intake, *, filed_by_id: int, channel: str, now: datetime | None) -> Complaint:
    key = _check_key(intake.idempotency_key)
    existing = _existing(order.user_id, key)
    if existing is not None:  # a double tap: the first submission's complaint
        return existing
    category, text, line_ids = _validate(order, intake)
    now = now or utcnow()
    first_due, resolve_due = sla.due_times(category.value, now)
    complaint = Complaint(number=_number(now), order_id=order.id, user_id=order.user_id, category=category,
                          status=ComplaintStatus.OPEN, description=text, line_ids=line_ids, photos=[],
                          idempotency_key=key, channel=channel, filed_by_id=filed_by_id, created_at=now,
                          first_response_due_at=first_due, resolution_due_at=resolve_due)
    _link(complaint, order, line_ids)
    stored: list[str] = []
    try:
        db.session.add(complaint)
        db.session.flush()
        for data in intake.photos:
            stored.append(uploads.store(complaint.id, data, "complaint"))
        complaint.photos = stored
        _event(complaint, "filed", filed_by_id, to_status=ComplaintStatus.OPEN,
               data={"channel": channel, "photos": len(stored), "lines": line_ids}, at=now)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        for photo in stored:
            uploads.discard(photo, "complaint")
        existing = _existing(order.user_id, key)
        if existing is None:
            raise
        return existing
    except Exception:
        db.session.rollback()
        for photo in stored:  # nothing half-written: no complaint, no stored photo
            uploads.discard(photo, "complaint")
        raise
    return complaint


def file_complaint(user_id: int, order_number: str, intake: Intake, *, channel: str = "web",
                   now: datetime | None = None) -> Complaint:
    """The consumer files a complaint about one of their own orders (another's order: NotFound)."""
    return _file(orders.order_of(user_id, order_number), intake, filed_by_id=user_id, channel=channel, now=now)


def file_for_caller(staff_id: int, order_number: str, intake: Intake, now: datetime | None = None) -> Complaint:
    """Complaint staff file a complaint for a consumer on the phone."""
    order = db.session.scalar(sa.select(Order).where(Order.number == order_number))
    if order is None:
        raise NotFound(_l("No order with this number."))
    return _file(order, intake, filed_by_id=staff_id, channel="phone", now=now)


def find_orders(query: str, limit: int = 20) -> list[Order]:
    """Orders for a phone call: by order number (whole or its end) or by the consumer's mobile."""
    text = (query or "").strip()
    if not text:
        return []
    if not re.fullmatch(r"[A-Za-z0-9]{4,24}", text):
        return []
    condition = sa.or_(Order.number == text.upper(), Order.number.endswith(text.upper()),
                       Order.recipient_mobile == text,
                       Order.user_id.in_(sa.select(User.id).where(User.mobile == text)))
    return list(db.session.scalars(sa.select(Order).where(condition).order_by(Order.placed_at.desc()).limit(limit)))


def complaints_of_order(order: Order) -> list[Complaint]:
    """A consumer's complaints about one of their orders, with what they may see of each."""
    return list(db.session.scalars(sa.select(Complaint).options(selectinload(Complaint.events))
                                   .where(Complaint.order_id == order.id, Complaint.user_id == order.user_id)
                                   .order_by(Complaint.id)))


def public_events(complaint: Complaint) -> list[ComplaintEvent]:
    return [e for e in complaint.events if e.kind in PUBLIC_EVENTS]


def complaint_of_user(user_id: int, number: str) -> Complaint:
    """One of the consumer's own complaints by its number (another's, or none: NotFound)."""
    found = db.session.scalar(sa.select(Complaint).options(selectinload(Complaint.events), joinedload(Complaint.order))
                              .where(Complaint.number == number, Complaint.user_id == user_id))
    if found is None:
        raise NotFound()
    return found


def complaints_of_user(user_id: int, order_number: str) -> tuple[Order, list[Complaint]]:
    order = orders.order_of(user_id, order_number)
    return order, complaints_of_order(order)


# --- the console ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueRow:
    complaint: Complaint
    first_response: sla.Clock | None
    resolution: sla.Clock | None

    @property
    def breach(self) -> str:
        states = {c.state for c in (self.first_response, self.resolution) if c is not None and c.running}
        if self.complaint.status not in OPEN_STATUSES:
            return "done"
        for state in ("breached", "near"):
            if state in states:
                return state
        return "ok"


def clocks(complaint: Complaint, now: datetime) -> tuple[sla.Clock | None, sla.Clock | None]:
    first, resolve = sla.targets(complaint.category.value)
    done = complaint.status not in OPEN_STATUSES
    resolved_at = complaint.resolved_at or (complaint.updated_at if done else None)
    return (sla.clock("first_response", complaint.first_response_due_at, complaint.first_responded_at, first, now),
            sla.clock("resolution", complaint.resolution_due_at, resolved_at, resolve, now))


@dataclass(frozen=True)
class Filters:
    status: str = "open"
    category: str = ""
    assignee: str = ""  # "", "me", "none" or a user id
    breach: str = ""  # "", "near", "breached", "escalated"
    q: str = ""


def queue(filters: Filters, *, viewer_id: int, now: datetime | None = None, limit: int = 200) -> list[QueueRow]:
    """The console's queue: open complaints most urgent first (by resolution due time)."""
    now = now or utcnow()
    query = sa.select(Complaint).options(joinedload(Complaint.order), joinedload(Complaint.assignee))
    if filters.status == "open":
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    elif filters.status in {s.value for s in ComplaintStatus}:
        query = query.where(Complaint.status == ComplaintStatus(filters.status))
    if filters.category in {c.value for c in ComplaintCategory}:
        query = query.where(Complaint.category == ComplaintCategory(filters.category))
    if filters.assignee == "me":
        query = query.where(Complaint.assignee_id == viewer_id)
    elif filters.assignee == "none":
        query = query.where(Complaint.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(Complaint.assignee_id == int(filters.assignee))
    if filters.breach == "escalated":
        query = query.where(Complaint.escalated_at.is_not(None))
    elif filters.breach in ("near", "breached"):
        query = query.where(Complaint.status.in_(OPEN_STATUSES))
    text = filters.q.strip()
    if text:
        query = query.join(Order, Order.id == Complaint.order_id).where(sa.or_(
            Complaint.number == text.upper(), Order.number == text.upper(), Order.recipient_mobile == text,
            Complaint.user_id.in_(sa.select(User.id).where(User.mobile == text))))
    query = query.order_by(Complaint.resolution_due_at.asc().nulls_last(), Complaint.id.desc()).limit(limit)
    rows = [QueueRow(c, *clocks(c, now)) for c in db.session.scalars(query).unique()]
    if filters.breach in ("near", "breached"):
        rows = [r for r in rows if r.breach == filters.breach]
    return rows


def counts(now: datetime | None = None) -> dict[str, int]:
    """Headline numbers of the console: by status, plus alerts (near breach) and escalations open."""
    rows = db.session.execute(sa.select(Complaint.status, sa.func.count()).group_by(Complaint.status)).all()
    out = {status.value: int(n) for status, n in rows}
    out["open_all"] = sum(out.get(s.value, 0) for s in OPEN_STATUSES)
    out["alerts"] = int(db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(
        Complaint.status.in_(OPEN_STATUSES), Complaint.near_breach_at.is_not(None),
        Complaint.escalated_at.is_(None))) or 0)
    out["escalated"] = int(db.session.scalar(sa.select(sa.func.count()).select_from(Complaint).where(
        Complaint.status.in_(OPEN_STATUSES), Complaint.escalated_at.is_not(None))) or 0)
    return out


def staff_members() -> list[User]:
    return list(db.session.scalars(sa.select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True))
                                   .order_by(User.name)))


def complaint(number: str, *, lock: bool = False) -> Complaint:
    query = sa.select(Complaint).where(Complaint.number == number)
    found = db.session.scalar(query.with_for_update() if lock else query)
    if found is None:
        raise NotFound()
    return found


@dataclass(frozen=True)
class Delivery:
    """What happened to the order, for the complaint page."""

    stop: object | None
    route: object | None
    vehicle: object | None
    driver: object | None
    late_minutes: int | None
    proof_kind: str | None
    proof_photo: str | None
    proof_name: str | None
    proof_at: datetime | None = None  # when the driver recorded it (the proof holds it as ISO text)


def delivery_of(found: Complaint) -> Delivery:
    stop = found.stop
    route = found.route
    vehicle = found.vehicle
    late = None
    if stop is not None and stop.actual_arrival_at is not None:
        late = int((stop.actual_arrival_at - stop.planned_arrival_at).total_seconds() // 60)
    proof = (stop.proof or {}) if stop is not None else {}
    kind = proof.get("kind")
    photo = proof.get("photo") or None
    name = proof.get("name") or None
    try:
        proof_at = datetime.fromisoformat(proof["at"]) if proof.get("at") else None
    except (TypeError, ValueError):
        proof_at = None
    return Delivery(stop, route, vehicle, found.driver or (vehicle.driver if vehicle is not None else None), late,
                    kind, photo, name, proof_at)


def photo_of_complaint(number: str, photo_id: str):
    """The stored file of one of a complaint's photos (staff), or NotFound."""
    found = complaint(number)
    if photo_id not in (found.photos or []):
        raise NotFound()
    path = uploads.path_of(photo_id, "complaint")
    if path is None or not path.is_file():
        raise NotFound()
    return path


def proof_photo(number: str):
    """The proof-of-delivery photo of the complaint's stop (staff), or NotFound."""
    found = complaint(number)
    photo = delivery_of(found).proof_photo
    path = uploads.path_of(photo or "", "proof")
    if path is None or not path.is_file():
        raise NotFound()
    return path


def photo_of_own_complaint(user_id: int, number: str, photo_id: str):
    found = db.session.scalar(sa.select(Complaint).where(Complaint.number == number, Complaint.user_id == user_id))
    if found is None:
        raise NotFound()
    return photo_of_complaint(number, photo_id)


# --- lifecycle -----------------------------------------------------------------------------------


def _move(found: Complaint, to: ComplaintStatus, actor_id: int, now: datetime) -> bool:
    """Move to ``to`` if valid; False when already there (a repeated submission)."""
    if found.status == to:
        return False
    if to not in TRANSITIONS[found.status]:
        raise Conflict(_l("A complaint that is “%(from)s” cannot become “%(to)s”.",
                          **{"from": _status_name(found.status), "to": _status_name(to)}))
    before = found.status
    reopen = before in (ComplaintStatus.RESOLVED, ComplaintStatus.CLOSED) and to == ComplaintStatus.IN_PROGRESS
    found.status = to
    if to == ComplaintStatus.RESOLVED:
        found.resolved_at = now
    if reopen:
        # a new resolution clock from now; the old alert and escalation stay in the history
        found.resolved_at = None
        found.resolution_due_at = sla.calendar().add(now, sla.targets(found.category.value)[1])
        found.near_breach_at = None
        found.escalated_at = None
    _event(found, "reopened" if reopen else "status", actor_id, from_status=before, to_status=to, at=now)
    return True


def _status_name(status: ComplaintStatus) -> str:
    from ..labels import LABELS

    return str(LABELS["complaint_status_names"][status.value])


def change_status(number: str, to: str, actor_id: int, now: datetime | None = None) -> bool:
    try:
        target = ComplaintStatus(to)
    except ValueError:
        raise ValidationFailed(_l("Choose a state."), field="status") from None
    found = complaint(number, lock=True)
    changed = _move(found, target, actor_id, now or utcnow())
    db.session.commit()
    return changed


def _text(body: str, field: str) -> str:
    text = (body or "").strip()
    if not text:
        raise ValidationFailed(_l("Write something first."), field=field)
    if len(text) > REPLY_MAX:
        raise ValidationFailed(_l("At most %(n)d characters, please.", n=REPLY_MAX), field=field)
    return text


def add_note(number: str, body: str, actor_id: int, now: datetime | None = None) -> ComplaintEvent:
    """An internal note: staff only, never shown to the consumer."""
    text = _text(body, "note")
    found = complaint(number, lock=True)
    event = _event(found, "note", actor_id, text, at=now or utcnow())
    db.session.commit()
    return event


def reply(number: str, body: str, actor_id: int, *, to_status: str | None = None,
          now: datetime | None = None) -> ComplaintEvent:
    """A reply the consumer sees (the first stops the first-response clock); optionally a state in
    the same step (what a macro does). A new complaint moves to "in progress" by default."""
    text = _text(body, "body")
    now = now or utcnow()
    found = complaint(number, lock=True)
    target = ComplaintStatus(to_status) if to_status else None
    if target is not None and target != found.status and target not in TRANSITIONS[found.status]:
        raise Conflict(_l("A complaint that is “%(from)s” cannot become “%(to)s”.",
                          **{"from": _status_name(found.status), "to": _status_name(target)}))
    event = _event(found, "reply", actor_id, text, at=now)
    if found.first_responded_at is None:
        found.first_responded_at = now
    if target is None and found.status == ComplaintStatus.OPEN:
        target = ComplaintStatus.IN_PROGRESS
    if target is not None:
        _move(found, target, actor_id, now)
    db.session.commit()
    return event


@dataclass(frozen=True)
class Macro:
    key: str
    label: object
    body: object
    to_status: ComplaintStatus


MACROS: dict[str, Macro] = {m.key: m for m in (
    Macro("ask_photo", _l("Ask for a photo"),
          _l("We are sorry about this. Could you send us a photo of the goods and the packaging? "
             "We will sort it out as soon as we have it."), ComplaintStatus.WAITING_CUSTOMER),
    Macro("looking_into_it", _l("Looking into it"),
          _l("Thank you for telling us. We are checking with the cooperative and the driver and will "
             "get back to you today."), ComplaintStatus.IN_PROGRESS),
    Macro("late_apology", _l("Apologise for a late delivery"),
          _l("We are sorry your order arrived late. The compensation for the missed delivery window "
             "has been added to your account."), ComplaintStatus.RESOLVED),
    Macro("resolved", _l("Resolved, thank you"),
          _l("We have resolved your complaint. Thank you for your patience; tell us if anything is "
             "still not right."), ComplaintStatus.RESOLVED),
)}


def apply_macro(number: str, key: str, actor_id: int, now: datetime | None = None) -> ComplaintEvent:
    macro = MACROS.get(key)
    if macro is None:
        raise ValidationFailed(_l("Choose a macro."), field="macro")
    return reply(number, str(macro.body), actor_id, to_status=macro.to_status.value, now=now)


def assign(number: str, assignee_id: int | None, actor_id: int, now: datetime | None = None) -> None:
    if assignee_id is not None:
        user = db.session.get(User, assignee_id)
        if user is None or user.role not in STAFF_ROLES or not user.active:
            raise ValidationFailed(_l("Choose a member of the complaint staff."), field="assignee")
    found = complaint(number, lock=True)
    if found.assignee_id == assignee_id:
        db.session.rollback()
        return
    _event(found, "assigned", actor_id, data={"from": found.assignee_id, "to": assignee_id}, at=now or utcnow())
    found.assignee_id = assignee_id
    db.session.commit()


# --- resolutions ---------------------------------------------------------------------------------


def _resolution(key: str) -> ComplaintResolution | None:
    return db.session.scalar(sa.select(ComplaintResolution).where(ComplaintResolution.idempotency_key == key))


def _once(number: str, key: str, kind: ResolutionKind, actor_id: int, grant) -> tuple[ComplaintResolution, bool]:
    """Run ``grant(complaint, resolution)`` once for this key: (the resolution, whether it was new).
    The row is inserted (and flushed) before the money moves, so a racing second submission
    waits on the unique key and then finds the first."""
    _check_key(key)
    done = _resolution(key)
    if done is not None:
        return done, False
    found = complaint(number, lock=True)
    if found.status == ComplaintStatus.CLOSED:
        raise Conflict(_l("This complaint is closed. Reopen it first."))
    row = ComplaintResolution(complaint_id=found.id, kind=kind, idempotency_key=key, actor_user_id=actor_id,
                              created_at=utcnow())
    try:
        db.session.add(row)
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        done = _resolution(key)
        if done is None:
            raise
        return done, False
    try:
        grant(found, row)
        _event(found, kind.value, actor_id, row.note, data={"resolution_id": row.id, "amount_fen": row.amount_fen,
                                                           "reship_order_id": row.reship_order_id})
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        done = _resolution(key)
        if done is None:
            raise
        return done, False
    except Exception:
        db.session.rollback()
        raise
    return row, True


def _amount(amount_fen: int | None) -> int:
    if amount_fen is None or amount_fen <= 0:
        raise ValidationFailed(_l("Enter an amount greater than zero."), field="amount")
    return amount_fen


def refundable(number: str) -> int:
    from ..payments import services as payments

    found = complaint(number)
    value = payments.refundable_fen(found.order_id)
    db.session.rollback()  # (refundable_fen locks the payments; this is only a read)
    return value


def refund(number: str, amount_fen: int | None, key: str, actor_id: int, note: str = "") -> tuple[ComplaintResolution, bool]:
    """Give money back: never more than what was paid less what was refunded already."""
    from ..payments import services as payments

    amount = _amount(amount_fen)

    def grant(found: Complaint, row: ComplaintResolution) -> None:
        left = payments.refundable_fen(found.order_id)
        if left <= 0:
            raise Conflict(_l("Nothing was paid for this order yet (or it was all refunded): there is nothing to refund."))
        if amount > left:
            raise Conflict(_l("At most %(amount)s can still be refunded for this order.", amount=_yuan(left)))
        made = payments.refund(found.order, amount, f"complaint {found.number}", actor_id=actor_id)
        row.amount_fen = amount
        row.refund_id = made.id if made is not None else None
        row.note = (note or "").strip()[:300]

    return _once(number, key, ResolutionKind.REFUND, actor_id, grant)


COUPON_MAX_FEN = 20_000


def coupon(number: str, amount_fen: int | None, key: str, actor_id: int, note: str = "") -> tuple[ComplaintResolution, bool]:
    """A coupon for the consumer (a Compensation row naming the complaint)."""
    amount = _amount(amount_fen)
    if amount > COUPON_MAX_FEN:
        raise ValidationFailed(_l("A coupon is at most %(amount)s.", amount=_yuan(COUPON_MAX_FEN)), field="amount")

    def grant(found: Complaint, row: ComplaintResolution) -> None:
        compensation = Compensation(order_id=found.order_id, kind=CompensationKind.COUPON, amount_fen=amount,
                                    reason=f"complaint {found.number}", complaint_id=found.id)
        db.session.add(compensation)
        db.session.flush()
        row.amount_fen = amount
        row.compensation_id = compensation.id
        row.note = (note or "").strip()[:300]
        orders.record_event(found.order, "compensated", actor_id=actor_id,
                            data={"compensation_id": compensation.id, "amount_fen": amount, "complaint": found.number})

    return _once(number, key, ResolutionKind.COUPON, actor_id, grant)


def reship(number: str, line_ids: list[int], window_code: str, key: str, actor_id: int,
           now: datetime | None = None) -> tuple[ComplaintResolution, bool]:
    """Send the goods again: a new order through the real checkout (a guaranteed window quoted and
    committed under the warehouse lock, stock reserved), to the consumer's address of the original
    order. The checkout has no free orders: the new order is cash on delivery at its normal price,
    and staff cover it with a refund or coupon (said on the page)."""
    from ..checkout import services as checkout
    from ..orders.models import PaymentMethod

    _check_key(key)
    done = _resolution(key)
    if done is not None:
        return done, False
    found = complaint(number)
    order = found.order
    chosen = [line for line in order.lines if line.id in set(line_ids)]
    if not chosen:
        raise ValidationFailed(_l("Choose the items to send again."), field="lines")
    if order.address_id is None:
        raise Conflict(_l("The order's address no longer exists: the consumer must order again."))
    cart: dict[int, int] = {}
    for line in chosen:
        cart[line.product_id] = cart.get(line.product_id, 0) + line.quantity
    # the same key: a retried reship returns the order the first one placed (checkout commits)
    placed = checkout.place_order(order.user_id, order.address_id, window_code,
                                  PaymentMethod.CASH_ON_DELIVERY.value, key, cart_items=cart, now=now)

    def grant(found: Complaint, row: ComplaintResolution) -> None:
        row.reship_order_id = placed.id
        row.note = placed.number
        orders.record_event(placed, "reship", actor_id=actor_id, data={"complaint": found.number,
                                                                       "original": order.number})

    return _once(number, key, ResolutionKind.RESHIP, actor_id, grant)


def resolutions_of(found: Complaint) -> list[ComplaintResolution]:
    return list(db.session.scalars(sa.select(ComplaintResolution).where(ComplaintResolution.complaint_id == found.id)
                                   .order_by(ComplaintResolution.id)))


def _yuan(fen: int) -> str:
    from ..i18n import yuan

    return yuan(fen)


# --- escalation (the scheduler) ------------------------------------------------------------------


def _claim(complaint_id: int, column, now: datetime) -> bool:
    """Set ``column`` to now if it is still empty; whether this call set it."""
    result = db.session.execute(sa.update(Complaint).where(Complaint.id == complaint_id, column.is_(None))
                                .values({column.key: now}).execution_options(synchronize_session=False))
    return result.rowcount == 1


def escalate(now: datetime | None = None) -> str:
    """Near-breach alerts and escalations of open complaints. Each complaint is alerted once and
    escalated once (conditional UPDATEs: run twice, or by two runners, the second changes
    nothing). Commits."""
    from ..admin.services import audit

    now = now or utcnow()
    candidates = db.session.scalars(sa.select(Complaint).where(
        Complaint.status.in_(OPEN_STATUSES),
        sa.or_(Complaint.near_breach_at.is_(None), Complaint.escalated_at.is_(None)))).all()
    alerted = escalated = 0
    for found in candidates:
        running = [c for c in clocks(found, now) if c is not None and c.running]
        breached = any(c.state == "breached" for c in running)
        near = breached or any(c.state == "near" for c in running)
        if near and found.near_breach_at is None and _claim(found.id, Complaint.near_breach_at, now):
            _event(found, "sla_alert", None, data={"clocks": [c.name for c in running if c.state != "ok"]}, at=now)
            alerted += 1
        if breached and found.escalated_at is None and _claim(found.id, Complaint.escalated_at, now):
            _event(found, "escalated", None, data={"clocks": [c.name for c in running if c.state == "breached"]},
                   at=now)
            audit("complaint.escalated", actor_id=None, object_type="complaint", object_id=found.id,
                  data={"number": found.number})
            escalated += 1
    db.session.commit()
    return f"{alerted} alerted, {escalated} escalated"
