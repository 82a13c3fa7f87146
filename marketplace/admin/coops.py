"""The operator's cooperatives: register one (with its site and, optionally, its head's account),
the licence scan, and the status lifecycle — approve (from pending), suspend (from approved),
reinstate (from suspended) — each with a reason and an audit record.

A suspension takes the cooperative's goods out of the shop at once: the storefront sells only
products of approved cooperatives (catalog.services.on_sale), the page cache is told
(pagecache.invalidate), carts show the lines as not sold, and checkout refuses them under a lock
on the cooperative's row (checkout.services), so an order racing the suspension is either placed
before it or refused. Orders placed before a suspension stay: they were accepted with a promise
and their goods reserved; they are delivered (the cooperative page counts them for the operator).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from .. import pagecache, uploads
from ..auth.models import Role, User
from ..catalog.models import Product
from ..columns import utcnow
from ..coop.models import Cooperative, CooperativeStatus, Specialty
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..geo.models import Village
from ..inventory.models import Location, LocationKind
from ..orders.models import Order, OrderLine, OrderStatus
from .models import AuditLog
from .services import audit

PAGE_SIZE = 50
REASON_MAX = 300
RECENT_DAYS = 30

# --- the unified social credit code (统一社会信用代码, GB 32100-2015) --------------------------------

#: the code's alphabet: digits and capitals without I, O, Z, S, V; a character's value is its index
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
#: registration authority (1st) and kind of organisation (2nd) as the standard's annex lists them
USCC_RE = re.compile(r"[1-9ANY][1-9]\d{6}[0-9A-HJ-NPQRTUWXY]{10}")


def normalize_licence(value: str) -> str:
    return re.sub(r"[\s-]", "", value or "").upper()


def uscc_check_digit(first17: str) -> str:
    """The 18th character of a unified social credit code from its first 17 (GB 32100-2015 §5):
    31 − (Σ value × weight mod 31), 31 written as 0."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def licence_problem(value: str) -> str | None:
    """Why ``value`` (normalized) is not a unified social credit code, or None."""
    if len(value) != 18:
        return str(_l("A unified social credit code has 18 characters (you entered %(n)d).", n=len(value)))
    if not USCC_RE.fullmatch(value):
        return str(_l("This is not a unified social credit code: two leading characters for the registering "
                      "authority and kind, six digits for the place, then ten digits or capital letters "
                      "(no I, O, S, V or Z)."))
    if uscc_check_digit(value[:17]) != value[17]:
        return str(_l("The last character (the check digit) does not match: please check the code on the "
                      "licence for a typing error."))
    return None


# --- the list ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CooperativePage:
    items: list[Cooperative]
    total: int
    page: int
    pages: int
    counts: dict[str, int]  # status → how many (all of them, for the filter's labels)


def list_cooperatives(status: str = "", text: str = "", page: int = 1) -> CooperativePage:
    """All cooperatives, pending first, narrowed by status and a search over names, code and
    licence number."""
    query = sa.select(Cooperative)
    if status in {s.value for s in CooperativeStatus}:
        query = query.where(Cooperative.status == CooperativeStatus(status))
    text = text.strip()[:50]
    if text:
        pattern = "%" + text.replace("\\", "").replace("%", "").replace("_", "") + "%"
        query = query.where(sa.or_(Cooperative.name_zh.ilike(pattern), Cooperative.name_en.ilike(pattern),
                                   Cooperative.code.ilike(pattern), Cooperative.licence_no.ilike(pattern)))
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(query.subquery())) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    order = sa.case((Cooperative.status == CooperativeStatus.PENDING, 0),
                    (Cooperative.status == CooperativeStatus.SUSPENDED, 1), else_=2)
    items = db.session.scalars(query.order_by(order, Cooperative.code).offset((page - 1) * PAGE_SIZE)
                               .limit(PAGE_SIZE)).all()
    counts = {s.value: n for s, n in db.session.execute(
        sa.select(Cooperative.status, sa.func.count()).group_by(Cooperative.status)).all()}
    return CooperativePage(list(items), total, page, pages, counts)


# --- one cooperative --------------------------------------------------------------------------------


def get(cooperative_id: int) -> Cooperative:
    coop = db.session.get(Cooperative, cooperative_id)
    if coop is None:
        raise NotFound()
    return coop


@dataclass(frozen=True)
class CooperativeDetail:
    coop: Cooperative
    heads: list[User]
    site: Location | None
    products: list[Product]
    recent_orders: int  # orders with its goods placed in the last RECENT_DAYS days
    open_orders: int  # not yet delivered, cancelled or expired
    licence_problem: str | None
    history: list[AuditLog]


def detail(cooperative_id: int, now: datetime | None = None) -> CooperativeDetail:
    coop = get(cooperative_id)
    now = now or utcnow()
    heads = db.session.scalars(sa.select(User).where(User.cooperative_id == coop.id, User.role == Role.COOP_HEAD)
                               .order_by(User.id)).all()
    site = db.session.scalar(sa.select(Location).where(Location.cooperative_id == coop.id,
                                                       Location.kind == LocationKind.COOPERATIVE).limit(1))
    products = db.session.scalars(sa.select(Product).where(Product.cooperative_id == coop.id)
                                  .order_by(Product.status, Product.sku)).all()
    with_goods = (sa.select(sa.func.count(sa.distinct(Order.id))).select_from(Order)
                  .join(OrderLine, OrderLine.order_id == Order.id).join(Product, Product.id == OrderLine.product_id)
                  .where(Product.cooperative_id == coop.id))
    recent = db.session.scalar(with_goods.where(Order.placed_at >= now - timedelta(days=RECENT_DAYS)))
    still_open = db.session.scalar(with_goods.where(Order.status.in_(
        [OrderStatus.PENDING_PAYMENT, OrderStatus.CONFIRMED, OrderStatus.DISPATCHED])))
    history = db.session.scalars(sa.select(AuditLog).where(AuditLog.object_type == "cooperative",
                                                           AuditLog.object_id == coop.id)
                                 .order_by(AuditLog.id.desc()).limit(20)).all()
    return CooperativeDetail(coop, list(heads), site, list(products), int(recent or 0), int(still_open or 0),
                             licence_problem(coop.licence_no), list(history))


# --- the status lifecycle ---------------------------------------------------------------------------

#: action → (the status it may start from, the status it leads to)
TRANSITIONS: dict[str, tuple[CooperativeStatus, CooperativeStatus]] = {
    "approve": (CooperativeStatus.PENDING, CooperativeStatus.APPROVED),
    "suspend": (CooperativeStatus.APPROVED, CooperativeStatus.SUSPENDED),
    "reinstate": (CooperativeStatus.SUSPENDED, CooperativeStatus.APPROVED),
}

REFUSED_TRANSITION = {
    "approve": _l("Only a cooperative waiting for approval can be approved."),
    "suspend": _l("Only an approved cooperative can be suspended."),
    "reinstate": _l("Only a suspended cooperative can be reinstated."),
}


def clean_reason(reason: str) -> str:
    reason = " ".join((reason or "").split())
    if len(reason) < 2:
        raise ValidationFailed(_l("Give a reason (it is shown in the history and the audit log)."), field="reason")
    if len(reason) > REASON_MAX:
        raise ValidationFailed(_l("At most %(n)d characters.", n=REASON_MAX), field="reason")
    return reason


def _state(coop_id: int) -> dict[str, Any]:
    row = db.session.execute(sa.select(Cooperative.status, Cooperative.status_reason, Cooperative.status_changed_at)
                             .where(Cooperative.id == coop_id)).one()
    return {"status": row.status.value, "status_reason": row.status_reason,
            "status_changed_at": row.status_changed_at.isoformat() if row.status_changed_at else None}


def _last_status_action(coop_id: int) -> str | None:
    action = db.session.scalar(
        sa.select(AuditLog.action).where(AuditLog.object_type == "cooperative", AuditLog.object_id == coop_id,
                                         AuditLog.action.in_([f"cooperative.{a}" for a in TRANSITIONS]))
        .order_by(AuditLog.id.desc()).limit(1))
    return action.split(".", 1)[1] if action else None


def change_status(actor_id: int, cooperative_id: int, action: str, reason: str,
                  now: datetime | None = None) -> bool:
    """Apply ``action`` (approve, suspend, reinstate) with a reason. True when this call changed
    the status; False when it had already been done (a double submission: nothing is written
    twice). Conflict for a transition its current status does not allow.

    One conditional UPDATE (… WHERE status = the allowed start) decides: of two racing
    submissions only one matches, and the row lock it takes makes a checkout that is reading
    the cooperative under FOR SHARE finish first (see checkout.services)."""
    if action not in TRANSITIONS:
        raise NotFound()
    start, target = TRANSITIONS[action]
    reason = clean_reason(reason)
    coop = get(cooperative_id)
    now = now or utcnow()
    before = _state(coop.id)
    values: dict[str, Any] = {"status": target, "status_reason": reason, "status_changed_at": now}
    if action == "approve":
        values["approved_at"] = now
    changed = db.session.execute(
        sa.update(Cooperative).where(Cooperative.id == coop.id, Cooperative.status == start).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not changed:
        db.session.rollback()
        current = get(cooperative_id)
        db.session.refresh(current)
        if current.status == target and _last_status_action(current.id) == action:
            return False  # done already: the first submission won
        raise Conflict(REFUSED_TRANSITION[action])
    after = {"status": target.value, "status_reason": reason, "status_changed_at": now.isoformat()}
    audit(f"cooperative.{action}", actor_id=actor_id, object_type="cooperative", object_id=coop.id,
          data={"before": before, "after": after, "code": coop.code})
    db.session.commit()
    db.session.expire_all()
    pagecache.invalidate()  # the shop's stored pages were rendered before this change
    return True


# --- the licence scan -------------------------------------------------------------------------------

#: a file name that carries a path (a browser sends the bare name; anything else is crafted)
PATH_IN_NAME = re.compile(r"[/\\]|\.\.|^[A-Za-z]:|\x00")


def store_licence_scan(actor_id: int, cooperative_id: int, data: bytes | None, filename: str = "") -> str:
    """Check, re-encode and keep the licence scan (uploads kind "licence"); the cooperative then
    refers to it. Refused with a clear message, with nothing stored, for a file name with a path,
    an empty upload, or anything uploads.web_jpeg refuses (not a picture — SVG included —, too
    large, too many pixels)."""
    coop = get(cooperative_id)
    if filename and PATH_IN_NAME.search(filename):
        raise uploads.PhotoRefused(_l("The file name must not contain a folder path. Choose the file itself."),
                                   field="licence")
    if not data:
        raise ValidationFailed(_l("Choose a photo or scan of the business licence."), field="licence")
    try:
        file_id = uploads.store(coop.id, data, "licence")
    except uploads.PhotoRefused as refused:
        refused.field = "licence"
        raise
    before = coop.licence_file
    coop.licence_file = file_id
    audit("cooperative.licence_scan", actor_id=actor_id, object_type="cooperative", object_id=coop.id,
          data={"before": {"licence_file": before}, "after": {"licence_file": file_id}, "code": coop.code})
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        uploads.discard(file_id, "licence")  # no row refers to it
        raise
    return file_id


def licence_scan_path(user: Any, cooperative_id: int) -> Path:
    """The licence scan's file for an operator, or for the head of that cooperative; NotFound for
    anyone else and when there is none (a head of another cooperative learns nothing)."""
    coop = db.session.get(Cooperative, cooperative_id)
    allowed = user is not None and getattr(user, "is_authenticated", False) and (
        user.role == Role.OPERATOR or (user.role == Role.COOP_HEAD and user.cooperative_id == cooperative_id))
    if coop is None or not allowed or not coop.licence_file:
        raise NotFound()
    path = uploads.path_of(coop.licence_file, "licence")
    if path is None or not path.is_file():
        raise NotFound()
    return path


# --- registering a cooperative ----------------------------------------------------------------------

CODE_RE = re.compile(r"[A-Z][A-Z0-9-]{1,11}")


@dataclass(frozen=True)
class NewCooperative:
    code: str
    name_zh: str
    name_en: str
    licence_no: str
    village_id: int
    head_name: str
    head_mobile: str
    specialty: str = Specialty.OTHER.value
    founded_on: date | None = None
    description_zh: str = ""
    description_en: str = ""


def next_code() -> str:
    """A suggestion for a new cooperative's code: C + one more than the highest C-number."""
    codes = db.session.scalars(sa.select(Cooperative.code).where(Cooperative.code.like("C%"))).all()
    numbers = [int(c[1:]) for c in codes if c[1:].isdigit()]
    return f"C{(max(numbers, default=0) + 1):02d}"


def _check_new(new: NewCooperative) -> tuple[str, str, Village]:
    code = (new.code or "").strip().upper()
    if not CODE_RE.fullmatch(code):
        raise ValidationFailed(_l("A code is 2–12 capital letters, digits or hyphens, starting with a letter "
                                  "(e.g. C13)."), field="code")
    licence = normalize_licence(new.licence_no)
    problem = licence_problem(licence)
    if problem:
        raise ValidationFailed(problem, field="licence_no")
    if db.session.scalar(sa.select(Cooperative.id).where(Cooperative.code == code)):
        raise Conflict(_l("Another cooperative already has the code %(code)s.", code=code), field="code")
    if db.session.scalar(sa.select(Cooperative.id).where(Cooperative.licence_no == licence)):
        raise Conflict(_l("A cooperative with this licence number is already registered."), field="licence_no")
    village = db.session.get(Village, new.village_id)
    if village is None:
        raise ValidationFailed(_l("Choose the cooperative's village."), field="village_id")
    if new.specialty not in {s.value for s in Specialty}:
        raise ValidationFailed(_l("Choose a specialty."), field="specialty")
    return code, licence, village


def create_cooperative(actor_id: int, new: NewCooperative, head_password: str | None = None) -> Cooperative:
    """Register a cooperative (pending approval) with its site (a stock Location of kind
    cooperative at its village's coordinates) and, when ``head_password`` is given, its head's
    account (auth.services.create_account, the `flask create-user` path) — all in one
    transaction: either everything exists afterwards or nothing does."""
    from ..auth import services as auth_services

    code, licence, village = _check_new(new)
    if head_password is not None:
        problem = auth_services.password_problem(head_password)
        if problem:
            raise ValidationFailed(problem, field="head_password")
        mobile = auth_services.normalize_mobile(new.head_mobile)
        if db.session.scalar(sa.select(User.id).where(User.mobile == mobile)):
            raise Conflict(_l("An account with this mobile number already exists: give the head another number, "
                              "or create the cooperative without an account and link it on the Users page."),
                           field="head_mobile")
    coop = Cooperative(
        code=code, name_zh=new.name_zh.strip(), name_en=new.name_en.strip(), licence_no=licence,
        village_id=village.id, head_name=new.head_name.strip(), head_mobile=new.head_mobile.strip(),
        specialty=Specialty(new.specialty), founded_on=new.founded_on, description_zh=new.description_zh.strip(),
        description_en=new.description_en.strip(), status=CooperativeStatus.PENDING,
    )
    db.session.add(coop)
    try:
        db.session.flush()
        site_code = f"L-{code}"
        if db.session.scalar(sa.select(Location.id).where(Location.code == site_code)):
            site_code = f"L-{code}-{coop.id}"
        db.session.add(Location(
            kind=LocationKind.COOPERATIVE, code=site_code[:24], name_zh=coop.name_zh, name_en=coop.name_en or coop.name_zh,
            village_id=village.id, zone_id=village.zone_id, cooperative_id=coop.id, lat=village.lat, lon=village.lon,
        ))
        after = {"code": code, "name_zh": coop.name_zh, "name_en": coop.name_en, "licence_no": licence,
                 "village_id": village.id, "head_name": coop.head_name, "head_mobile": coop.head_mobile,
                 "specialty": coop.specialty.value, "status": CooperativeStatus.PENDING.value,
                 "head_account": head_password is not None}
        audit("cooperative.create", actor_id=actor_id, object_type="cooperative", object_id=coop.id,
              data={"before": None, "after": after})
        if head_password is not None:
            # commits the cooperative, its site and the audit record together with the account
            auth_services.create_account(new.head_mobile, head_password, Role.COOP_HEAD, name=coop.head_name,
                                         cooperative_code=code)
        else:
            db.session.commit()
    except IntegrityError:  # a concurrent registration took the code or the licence number
        db.session.rollback()
        raise Conflict(_l("Another cooperative with this code or licence number was just registered."),
                       field="code") from None
    except Exception:
        db.session.rollback()
        raise
    return coop


def villages() -> list[Village]:
    from ..geo.models import Town

    return list(db.session.scalars(sa.select(Village).join(Town, Town.id == Village.town_id)
                                   .order_by(Town.code, Village.code)))
