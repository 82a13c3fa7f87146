"""Operator administration of the people and things that deliver: users and roles, middle
warehouses and the zones they serve, vehicles, drivers and their shifts, window classes.

Every operation validates all of its input first (a :class:`Invalid` names each bad field and
nothing is written), then changes the rows and records an audit entry with what changed
(``{"before": …, "after": …}``, changed fields only) in one transaction. Submitting the same
form twice applies it once: an edit sets values (the second finds nothing to change and records
nothing); a creation carries a one-time token (``once``) kept in its audit entry, so a second
submission finds the object the first one made.

Planning inputs (warehouses and their zones, vehicles and their shifts, window classes) bump
the plan versions in the same transaction (see :mod:`marketplace.planning.services`), so the next
quote is built from the new rows. A vehicle out on a started route keeps what it has until it is
back: its planning fields cannot change meanwhile (a breakdown is the dispatcher's action)."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l

from ..auth import services as auth_services
from ..auth.models import Role, User
from ..coop.models import Cooperative
from ..dispatch.models import Plan, PlanStatus, Route, RouteStatus, Stop, StopStatus
from ..errors import Conflict, NotFound, ValidationFailed
from ..extensions import db
from ..geo.models import County, Town, Village, Zone
from ..inputs import has_forbidden_control, is_mobile, parse_id
from ..inventory.models import Location, LocationKind
from ..logistics.models import Driver, Vehicle, VehicleKind, Warehouse, WindowClass
from ..orders.models import Order
from ..planning import services as planning
from .models import AuditLog
from .services import audit

PAGE_SIZE = 50
STAFF_ROLES = (Role.COOP_HEAD, Role.DISPATCHER, Role.COMPLAINT_STAFF, Role.DRIVER, Role.OPERATOR)
#: how far outside the gazetteer's outermost places a warehouse may stand (degrees, ≈ 5.5 km)
BOUNDS_MARGIN = 0.05
SPEED_RANGE = (5, 120)
MAX_WEIGHT_KG = 50_000  # 50 t: beyond any van or light truck
MAX_VOLUME_L = 100_000
MAX_MONEY_FEN = 100_000_00  # ¥100,000


class Invalid(ValidationFailed):
    """Input that breaks one or more rules: ``errors`` maps each form field to its message."""

    def __init__(self, errors: dict[str, str]) -> None:
        field, message = next(iter(errors.items()))
        super().__init__(message, field=field)
        self.errors = dict(errors)


class Problems:
    """Collects one message per field; :meth:`check` raises them all at once."""

    def __init__(self) -> None:
        self.errors: dict[str, str] = {}

    def add(self, field: str, message: Any) -> None:
        self.errors.setdefault(field, str(message))

    def __contains__(self, field: str) -> bool:
        return field in self.errors

    def check(self) -> None:
        if self.errors:
            raise Invalid(self.errors)


@dataclass(frozen=True)
class Outcome:
    """What an operation did: the object, whether anything changed, and a note for the page."""

    id: int
    changed: bool
    note: str = ""


# --- small parsers, each adding its message to ``problems`` -----------------------------------------


def _text(problems: Problems, field: str, value: Any, *, required: bool = True, max_len: int = 64,
          message: Any = None) -> str:
    text = " ".join(str(value or "").split())
    if not text and required:
        problems.add(field, message or _l("This field is required."))
    elif len(text) > max_len:
        problems.add(field, _l("At most %(n)d characters.", n=max_len))
    elif has_forbidden_control(text):
        problems.add(field, _l("The form contains characters that are not allowed."))
    return text


def _decimal(problems: Problems, field: str, value: Any, *, places: int, message: Any) -> Decimal | None:
    raw = str(value if value is not None else "").strip().replace(",", "")
    try:
        number = Decimal(raw)
    except InvalidOperation:
        problems.add(field, message)
        return None
    if not number.is_finite() or number.as_tuple().exponent < -places:  # type: ignore[operator]
        problems.add(field, message)
        return None
    return number


def yuan_to_fen(problems: Problems, field: str, value: Any, *, required: bool = True) -> int | None:
    """A yuan amount typed by a person ("12", "12.5", "12.50") as integer fen, ≥ 0."""
    message = _l("Enter an amount in yuan of 0 or more, with at most 2 decimals, e.g. 12.50.")
    if not str(value or "").strip():
        if required:
            problems.add(field, message)
        return None
    number = _decimal(problems, field, value, places=2, message=message)
    if number is None:
        return None
    if number < 0 or number * 100 > MAX_MONEY_FEN:
        problems.add(field, message)
        return None
    return int(number * 100)


def _id(value: Any) -> int | None:
    try:
        return parse_id(value)
    except ValueError:
        return None


def _flag(problems: Problems, field: str, value: Any) -> bool | None:
    """A yes/no form value ("1"/"0", "y", "on", "true"/"false")."""
    raw = str(value if value is not None else "").strip().lower()
    if raw in ("1", "y", "yes", "on", "true"):
        return True
    if raw in ("0", "n", "no", "off", "false"):
        return False
    problems.add(field, _l("Choose yes or no."))
    return None


def _changes(before: dict[str, Any], after: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    keys = [k for k in after if before.get(k) != after[k]]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def _record(action: str, actor_id: int | None, object_type: str, object_id: int, before: dict[str, Any],
            after: dict[str, Any], **extra: Any) -> bool:
    """Audit the fields that changed; False (and nothing recorded) when none did."""
    old, new = _changes(before, after)
    if not new:
        return False
    audit(action, actor_id=actor_id, object_type=object_type, object_id=object_id,
          data={"before": old, "after": new, **extra})
    return True


def new_once() -> str:
    """A one-time token for a creation form (see the module's docstring)."""
    return secrets.token_urlsafe(16)


def _created_with(action: str, object_id: int, once: str) -> bool:
    """Whether ``object_id`` was created by a submission carrying ``once``."""
    if not once:
        return False
    rows = db.session.scalars(sa.select(AuditLog.data).where(AuditLog.action == action,
                                                             AuditLog.object_id == object_id))
    return any((data or {}).get("once") == once for data in rows)


def _commit() -> None:
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


# --- users and roles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class UserPage:
    users: list[User]
    total: int
    page: int
    pages: int
    drivers: dict[int, Driver]


def list_users(role: str | None = None, q: str | None = None, page: int = 1) -> UserPage:
    """Accounts, newest first, filtered by role and by a part of the name or mobile number."""
    where = []
    if role:
        try:
            where.append(User.role == Role(role))
        except ValueError:
            raise NotFound() from None
    q = " ".join((q or "").split())[:64]
    if q:
        like = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        where.append(sa.or_(User.name.ilike(like, escape="\\"), User.mobile.like(like, escape="\\")))
    total = int(db.session.scalar(sa.select(sa.func.count()).select_from(User).where(*where)) or 0)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(1, page), pages)
    users = list(db.session.scalars(sa.select(User).where(*where).order_by(User.id.desc())
                                    .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    ids = [u.id for u in users]
    drivers = {d.user_id: d for d in db.session.scalars(sa.select(Driver).where(Driver.user_id.in_(ids)))} if ids else {}
    return UserPage(users, total, page, pages, drivers)  # type: ignore[arg-type]


def user(user_id: int) -> User:
    found = db.session.get(User, user_id)
    if found is None:
        raise NotFound()
    return found


def driver_of_user(user_id: int) -> Driver | None:
    return db.session.scalar(sa.select(Driver).where(Driver.user_id == user_id).order_by(Driver.id).limit(1))


def cooperatives() -> list[Cooperative]:
    return list(db.session.scalars(sa.select(Cooperative).order_by(Cooperative.code)))


def _user_fields(u: User) -> dict[str, Any]:
    return {"role": u.role.value, "cooperative_id": u.cooperative_id, "active": u.active}


def _role(problems: Problems, value: Any, allowed: tuple[Role, ...] = tuple(Role)) -> Role | None:
    try:
        role = Role(str(value or ""))
    except ValueError:
        role = None
    if role is None or role not in allowed:
        problems.add("role", _l("Choose a role."))
        return None
    return role


def _cooperative_for(problems: Problems, role: Role | None, value: Any) -> Cooperative | None:
    if role != Role.COOP_HEAD:
        return None
    coop_id = _id(value)
    coop = db.session.get(Cooperative, coop_id) if coop_id else None
    if coop is None:
        problems.add("cooperative_id", _l("A cooperative head needs a cooperative: choose one."))
    return coop


def _other_active_operators(user_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(User).where(
        User.role == Role.OPERATOR, User.active.is_(True), User.id != user_id)) or 0)


def _link_driver(u: User) -> Driver:
    """The user's Driver row (made, or an unlinked one of the same mobile linked, or
    reactivated): a driver account drives as this row."""
    driver = driver_of_user(u.id)
    if driver is None:
        driver = db.session.scalar(sa.select(Driver).where(Driver.mobile == u.mobile))
        if driver is not None and driver.user_id not in (None, u.id):
            raise Conflict(_l("The driver record of this mobile number belongs to another account."), field="role")
    if driver is None:
        driver = Driver(name=u.name or u.mobile, mobile=u.mobile)
        db.session.add(driver)
    driver.user_id = u.id
    driver.active = True
    return driver


def create_user(actor_id: int, *, role: Any, name: Any, mobile: Any, password: Any, confirm: Any = None,
                cooperative_id: Any = None, once: str = "") -> Outcome:
    """A staff account with a temporary password (the project's password rules, through
    :func:`marketplace.auth.services.create_account`). A driver gets a Driver record."""
    problems = Problems()
    role_ = _role(problems, role, STAFF_ROLES)
    name_ = _text(problems, "name", name, message=_l("Enter the person's name."))
    mobile_raw = str(mobile or "").strip().replace(" ", "").replace("-", "")
    if not is_mobile(mobile_raw):
        problems.add("mobile", _l("Enter an 11-digit mainland mobile number, e.g. 13912345678."))
    weak = auth_services.password_problem(str(password or ""))
    if weak:
        problems.add("password", weak)
    elif confirm is not None and confirm != password:
        problems.add("confirm", _l("The two passwords do not match."))
    coop = _cooperative_for(problems, role_, cooperative_id)
    problems.check()
    assert role_ is not None
    existing = db.session.scalar(sa.select(User).where(User.mobile == mobile_raw))
    if existing is not None:
        if _created_with("user.create", existing.id, once):
            return Outcome(existing.id, False)
        raise Invalid({"mobile": str(_l("This mobile number already has an account."))})

    def extra_rows(account: User) -> None:
        if role_ == Role.DRIVER:
            _link_driver(account)
        audit("user.create", actor_id=actor_id, object_type="user", object_id=account.id,
              data={"before": {}, "after": {"role": role_.value, "name": name_, "mobile": mobile_raw,
                                            "cooperative_id": coop.id if coop else None}, "once": once})

    # create_account (the one place with the account rules) commits its own transaction: the
    # rows that go with the account are added inside the flush that inserts it (its id known
    # then), so the same commit writes the account, its driver record and its audit entry, or
    # none of them
    session = db.session()
    done: list[int] = []

    def after_flush(sess, _context) -> None:
        account = next((o for o in sess.new if isinstance(o, User) and o.mobile == mobile_raw), None)
        if account is not None and not done:
            done.append(account.id)
            extra_rows(account)

    sa.event.listen(session, "after_flush", after_flush)
    try:
        account = auth_services.create_account(mobile_raw, str(password), role_, name=name_,
                                               cooperative_code=coop.code if coop else None)
    except Conflict:
        raise Invalid({"mobile": str(_l("This mobile number already has an account."))}) from None
    finally:
        sa.event.remove(session, "after_flush", after_flush)
    return Outcome(account.id, True)


def update_user(actor_id: int, user_id: int, *, role: Any, cooperative_id: Any = None) -> Outcome:
    """Change an account's role (a head needs a cooperative; a driver gets or keeps its Driver
    record, one leaving the role has it deactivated). An operator cannot demote themselves, nor
    the last active operator."""
    u = user(user_id)
    problems = Problems()
    role_ = _role(problems, role)
    coop = _cooperative_for(problems, role_, cooperative_id)
    if role_ is not None and u.role == Role.OPERATOR and role_ != Role.OPERATOR:
        if u.id == actor_id:
            problems.add("role", _l("You cannot take the operator role from yourself."))
        elif u.active and _other_active_operators(u.id) == 0:
            problems.add("role", _l("This is the last active operator: make another operator first."))
    problems.check()
    assert role_ is not None
    before = _user_fields(u)
    u.role = role_
    u.cooperative_id = coop.id if coop else None
    driver = driver_of_user(u.id)
    if role_ == Role.DRIVER:
        driver = _link_driver(u)
    elif driver is not None and driver.active:
        _refuse_if_on_the_road(driver, "role")
        driver.active = False
    changed = _record("user.update", actor_id, "user", u.id, before, _user_fields(u))
    if changed:
        _commit()
    else:
        db.session.rollback()
    return Outcome(u.id, changed)


def set_user_active(actor_id: int, user_id: int, active: Any) -> Outcome:
    """Deactivate (signed out everywhere, API tokens revoked, no sign-in) or reactivate an
    account. Not oneself, not the last active operator."""
    u = user(user_id)
    problems = Problems()
    want = _flag(problems, "active", active)
    if want is False and u.active:
        if u.id == actor_id:
            problems.add("active", _l("You cannot deactivate your own account."))
        elif u.role == Role.OPERATOR and _other_active_operators(u.id) == 0:
            problems.add("active", _l("This is the last active operator: make another operator first."))
    problems.check()
    if want == u.active:
        return Outcome(u.id, False)
    before = _user_fields(u)
    u.active = bool(want)
    _record("user.deactivate" if not want else "user.reactivate", actor_id, "user", u.id, before, _user_fields(u))
    if want:
        _commit()
    else:
        auth_services.sign_out_elsewhere(u)  # revokes every sign-in and token, and commits all
    return Outcome(u.id, True)


# --- warehouses and their zones -------------------------------------------------------------------


@dataclass(frozen=True)
class WarehouseRow:
    warehouse: Warehouse
    vehicles: int
    active_vehicles: int
    open_orders: int


def zones() -> list[Zone]:
    return list(db.session.scalars(sa.select(Zone).order_by(Zone.code)))


def villages() -> list[Village]:
    return list(db.session.scalars(sa.select(Village).order_by(Village.code)))


def warehouse(warehouse_id: int) -> Warehouse:
    found = db.session.get(Warehouse, warehouse_id)
    if found is None:
        raise NotFound()
    return found


def _open_orders(warehouse_id: int) -> int:
    return int(db.session.scalar(sa.select(sa.func.count()).select_from(Order).where(
        Order.warehouse_id == warehouse_id, Order.status.in_(planning.PLANNED_STATUSES))) or 0)


def list_warehouses() -> list[WarehouseRow]:
    rows = []
    for w in db.session.scalars(sa.select(Warehouse).order_by(Warehouse.code)):
        rows.append(WarehouseRow(w, len(w.vehicles), sum(1 for v in w.vehicles if v.active), _open_orders(w.id)))
    return rows


def unserved_zones() -> list[Zone]:
    """Zones no active warehouse serves: quotes there offer no window ("we do not deliver to
    this village yet")."""
    from ..logistics.models import warehouse_zones

    served = sa.select(warehouse_zones.c.zone_id).join(Warehouse, Warehouse.id == warehouse_zones.c.warehouse_id) \
        .where(Warehouse.active.is_(True))
    return list(db.session.scalars(sa.select(Zone).where(Zone.id.not_in(served)).order_by(Zone.code)))


def county_bounds() -> tuple[float, float, float, float]:
    """(south, west, north, east): the gazetteer's outermost places and the county seat,
    widened by :data:`BOUNDS_MARGIN`. The gazetteer has no boundary; this keeps a mistyped
    coordinate (swapped, another province) out."""
    boxes = [db.session.execute(sa.select(sa.func.min(m.lat), sa.func.min(m.lon), sa.func.max(m.lat),
                                          sa.func.max(m.lon))).one() for m in (Village, Town, County)]
    found = [b for b in boxes if b[0] is not None]
    if not found:
        return (-90.0, -180.0, 90.0, 180.0)
    return (min(b[0] for b in found) - BOUNDS_MARGIN, min(b[1] for b in found) - BOUNDS_MARGIN,
            max(b[2] for b in found) + BOUNDS_MARGIN, max(b[3] for b in found) + BOUNDS_MARGIN)


def _zone_ids(problems: Problems, values: Any) -> list[int]:
    ids = sorted({i for i in (_id(v) for v in (values or [])) if i is not None})
    known = set(db.session.scalars(sa.select(Zone.id).where(Zone.id.in_(ids)))) if ids else set()
    if len(ids) != len(list(values or [])) or set(ids) != known:
        problems.add("zone_ids", _l("Choose zones from the list."))
    return [i for i in ids if i in known]


def _warehouse_fields(w: Warehouse) -> dict[str, Any]:
    loc = w.location
    return {"name_zh": loc.name_zh, "name_en": loc.name_en, "address_zh": loc.address_zh, "active": w.active,
            "zone_ids": sorted(z.id for z in w.zones)}


def _coverage_problems(problems: Problems, warehouse_id: int | None, active: bool, zone_ids: list[int]) -> None:
    """Every zone an active warehouse serves now must still be served after the change."""
    from ..logistics.models import warehouse_zones

    rows = db.session.execute(sa.select(warehouse_zones.c.zone_id, warehouse_zones.c.warehouse_id)
                              .join(Warehouse, Warehouse.id == warehouse_zones.c.warehouse_id)
                              .where(Warehouse.active.is_(True))).all()
    served_now = {z for z, _w in rows}
    served_after = {z for z, w in rows if w != warehouse_id} | (set(zone_ids) if active else set())
    lost = sorted(served_now - served_after)
    if lost:
        names = ", ".join(z.code for z in db.session.scalars(sa.select(Zone).where(Zone.id.in_(lost)).order_by(Zone.code)))
        problems.add("zone_ids" if active else "active", _l(
            "No other active warehouse serves %(zones)s: nothing could be ordered there. Let another warehouse "
            "serve it first.", zones=names))


def update_warehouse(actor_id: int, warehouse_id: int, *, name_zh: Any, name_en: Any, address_zh: Any,
                     active: Any, zone_ids: Any) -> Outcome:
    """Names, address, active flag and zones served. A warehouse with open orders stays active
    (they are delivered from it); every zone stays served by an active warehouse. The plan
    version is bumped, so quotes are rebuilt from the new rows."""
    w = warehouse(warehouse_id)
    problems = Problems()
    zh = _text(problems, "name_zh", name_zh, max_len=128, message=_l("Enter the Chinese name."))
    en = _text(problems, "name_en", name_en, max_len=200, message=_l("Enter the English name."))
    address = _text(problems, "address_zh", address_zh, required=False, max_len=200)
    want = _flag(problems, "active", active)
    ids = _zone_ids(problems, zone_ids)
    if want and not ids and "zone_ids" not in problems:
        problems.add("zone_ids", _l("An active warehouse serves at least one zone."))
    if want is False and w.active:
        open_orders = _open_orders(w.id)
        if open_orders:
            problems.add("active", _l("%(n)d open orders are delivered from this warehouse: it stays active until "
                                      "they are delivered or cancelled.", n=open_orders))
    if want is not None and "zone_ids" not in problems:
        _coverage_problems(problems, w.id, want, ids)
    problems.check()
    before = _warehouse_fields(w)
    w.location.name_zh, w.location.name_en, w.location.address_zh = zh, en, address
    w.active = bool(want)
    if sorted(z.id for z in w.zones) != ids:
        w.zones = list(db.session.scalars(sa.select(Zone).where(Zone.id.in_(ids))))
    changed = _record("warehouse.update", actor_id, "warehouse", w.id, before, _warehouse_fields(w))
    if not changed:
        db.session.rollback()
        return Outcome(w.id, False)
    planning.bump_plan_version(w.id)
    _commit()
    return Outcome(w.id, True)


CODE_RE = re.compile(r"W-[A-Z0-9]{1,10}")


def create_warehouse(actor_id: int, *, code: Any, name_zh: Any, name_en: Any, address_zh: Any, village_id: Any,
                     lat: Any, lon: Any, zone_ids: Any, once: str = "") -> Outcome:
    """A new middle warehouse at a place of the county, with its stock Location (kind
    warehouse) and the zones it serves. It has no vehicles yet: the planner gives it none of
    its zones' orders until it has (quotes there say so)."""
    problems = Problems()
    code_ = str(code or "").strip().upper()
    if not CODE_RE.fullmatch(code_):
        problems.add("code", _l("A code like W-MG: W-, then 1 to 10 capital letters or digits."))
    zh = _text(problems, "name_zh", name_zh, max_len=128, message=_l("Enter the Chinese name."))
    en = _text(problems, "name_en", name_en, max_len=200, message=_l("Enter the English name."))
    address = _text(problems, "address_zh", address_zh, required=False, max_len=200)
    village_id_ = _id(village_id)
    village = db.session.get(Village, village_id_) if village_id_ else None
    if village is None:
        problems.add("village_id", _l("Choose the village it stands in."))
    south, west, north, east = county_bounds()
    coordinate = _l("Enter a latitude and longitude inside the county (%(s).3f–%(n).3f N, %(w).3f–%(e).3f E).",
                    s=south, n=north, w=west, e=east)
    lat_ = _decimal(problems, "lat", lat, places=6, message=coordinate)
    lon_ = _decimal(problems, "lon", lon, places=6, message=coordinate)
    if lat_ is not None and not south <= lat_ <= north:
        problems.add("lat", coordinate)
    if lon_ is not None and not west <= lon_ <= east:
        problems.add("lon", coordinate)
    ids = _zone_ids(problems, zone_ids)
    if not ids and "zone_ids" not in problems:
        problems.add("zone_ids", _l("An active warehouse serves at least one zone."))
    if "code" not in problems:
        existing = db.session.scalar(sa.select(Warehouse).where(Warehouse.code == code_))
        if existing is not None and _created_with("warehouse.create", existing.id, once):
            return Outcome(existing.id, False)
        if existing is not None or db.session.scalar(sa.select(Location.id).where(Location.code == f"L-{code_}")):
            problems.add("code", _l("This code is taken."))
    problems.check()
    assert village is not None and lat_ is not None and lon_ is not None
    location = Location(kind=LocationKind.WAREHOUSE, code=f"L-{code_}", name_zh=zh, name_en=en,
                        village_id=village.id, zone_id=village.zone_id, lat=float(lat_), lon=float(lon_),
                        address_zh=address)
    db.session.add(location)
    db.session.flush()
    w = Warehouse(code=code_, location_id=location.id, active=True,
                  zones=list(db.session.scalars(sa.select(Zone).where(Zone.id.in_(ids)))))
    db.session.add(w)
    db.session.flush()
    audit("warehouse.create", actor_id=actor_id, object_type="warehouse", object_id=w.id,
          data={"before": {}, "after": {"code": code_, **_warehouse_fields(w), "village_id": village.id,
                                        "lat": float(lat_), "lon": float(lon_)}, "once": once})
    try:
        _commit()
    except sa.exc.IntegrityError:  # the same code, created at the same moment
        raise Invalid({"code": str(_l("This code is taken."))}) from None
    return Outcome(w.id, True)


# --- vehicles ------------------------------------------------------------------------------------

#: plates: the province's character, the city's letter, then 5 characters (petrol) or 6
#: (new energy, beginning or ending with D or F); letters I and O are not used
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
PLATE_RE = re.compile(rf"([{PROVINCES}])([A-HJ-NP-Z])[·・. ]?([A-HJ-NP-Z0-9]{{5,6}})")


def normalize_plate(value: Any) -> str | None:
    """A Chinese plate as written on the vehicles here ("浙K·D3A617"), or None if it is not one."""
    raw = str(value or "").strip().upper().replace("\u3000", " ")
    match = PLATE_RE.fullmatch(raw)
    if match is None:
        return None
    province, city, rest = match.groups()
    if len(rest) == 5 and not re.search(r"[0-9]", rest):
        return None  # a petrol plate has digits
    if len(rest) == 6 and not (rest[0] in "DF" or rest[-1] in "DF"):
        return None
    return f"{province}{city}·{rest}"


@dataclass(frozen=True)
class RoadState:
    """The vehicle in its warehouse's active plan: a started route with stops still to make
    (out on the road), and how many stops are still to be made."""

    started: bool
    pending: int


def road_state(vehicle_id: int) -> RoadState:
    rows = db.session.execute(
        sa.select(Route.status, sa.func.count(Stop.id)).join(Plan, Plan.id == Route.plan_id)
        .outerjoin(Stop, sa.and_(Stop.route_id == Route.id, Stop.status.in_([StopStatus.PENDING, StopStatus.ARRIVED])))
        .where(Plan.status == PlanStatus.ACTIVE, Route.vehicle_id == vehicle_id).group_by(Route.status)).all()
    pending = sum(int(n) for _s, n in rows)
    started = any(status == RouteStatus.STARTED and n for status, n in rows)
    return RoadState(started, pending)


def vehicle(vehicle_id: int) -> Vehicle:
    found = db.session.get(Vehicle, vehicle_id)
    if found is None:
        raise NotFound()
    return found


def list_vehicles(warehouse_id: int | None = None) -> list[tuple[Vehicle, RoadState]]:
    where = [Vehicle.warehouse_id == warehouse_id] if warehouse_id else []
    vehicles = db.session.scalars(sa.select(Vehicle).join(Warehouse).where(*where)
                                  .order_by(Warehouse.code, Vehicle.plate))
    return [(v, road_state(v.id)) for v in vehicles]


def drivers_for_choice() -> list[Driver]:
    return list(db.session.scalars(sa.select(Driver).where(Driver.active.is_(True)).order_by(Driver.name)))


def all_warehouses() -> list[Warehouse]:
    return list(db.session.scalars(sa.select(Warehouse).order_by(Warehouse.code)))


PLANNING_FIELDS = ("warehouse_id", "capacity_weight_g", "capacity_volume_cm3", "speed_kmh", "shift_start",
                   "shift_end", "active")


VEHICLE_FORM_FIELD = {"capacity_weight_g": "capacity_kg", "capacity_volume_cm3": "capacity_l"}


def _vehicle_fields(v: Vehicle) -> dict[str, Any]:
    return {"plate": v.plate, "kind": v.kind.value if v.kind else None, "warehouse_id": v.warehouse_id,
            "driver_id": v.driver_id, "capacity_weight_g": v.capacity_weight_g,
            "capacity_volume_cm3": v.capacity_volume_cm3, "speed_kmh": v.speed_kmh,
            "shift_start": v.shift_start.strftime("%H:%M") if v.shift_start else None,
            "shift_end": v.shift_end.strftime("%H:%M") if v.shift_end else None, "active": v.active}


def _clock_time(problems: Problems, field: str, value: Any) -> time | None:
    raw = str(value or "").strip()
    if not re.fullmatch(r"[0-9]{1,2}:[0-9]{2}", raw):
        problems.add(field, _l("Enter a time of day as HH:MM, e.g. 07:30."))
        return None
    hours, minutes = map(int, raw.split(":"))
    if hours > 23 or minutes > 59:
        problems.add(field, _l("Enter a time of day as HH:MM, e.g. 07:30."))
        return None
    return time(hours, minutes)


def _vehicle_values(problems: Problems, data: dict[str, Any], current: Vehicle | None) -> dict[str, Any]:
    values: dict[str, Any] = {}
    plate = normalize_plate(data.get("plate"))
    if plate is None:
        problems.add("plate", _l("Enter a Chinese number plate, e.g. 浙K·D3A617 or 浙K·5T827."))
    else:
        taken = db.session.scalar(sa.select(Vehicle.id).where(Vehicle.plate == plate))
        if taken is not None and (current is None or taken != current.id):
            problems.add("plate", _l("Another vehicle has this plate."))
    values["plate"] = plate
    try:
        values["kind"] = VehicleKind(str(data.get("kind") or ""))
    except ValueError:
        problems.add("kind", _l("Choose the kind of vehicle."))
    warehouse_id = _id(data.get("warehouse_id"))
    if warehouse_id is None or db.session.get(Warehouse, warehouse_id) is None:
        problems.add("warehouse_id", _l("Choose its warehouse."))
    values["warehouse_id"] = warehouse_id
    driver_id = _id(data.get("driver_id"))
    if driver_id is not None:
        driver = db.session.get(Driver, driver_id)
        if driver is None or not driver.active:
            problems.add("driver_id", _l("Choose an active driver, or none."))
        else:
            busy = db.session.scalar(sa.select(Vehicle.plate).where(
                Vehicle.driver_id == driver_id, Vehicle.active.is_(True),
                Vehicle.id != (current.id if current else 0)))
            if busy is not None:
                problems.add("driver_id", _l("This driver drives %(plate)s: assign them one vehicle at a time.",
                                             plate=busy))
    values["driver_id"] = driver_id
    weight = _decimal(problems, "capacity_kg", data.get("capacity_kg"), places=3,
                      message=_l("Enter the load it carries in kg, more than 0 (at most 3 decimals)."))
    if weight is not None and not 0 < weight <= MAX_WEIGHT_KG:
        problems.add("capacity_kg", _l("Enter the load it carries in kg, more than 0 (at most 3 decimals)."))
    values["capacity_weight_g"] = int(weight * 1000) if weight is not None else None
    volume = _decimal(problems, "capacity_l", data.get("capacity_l"), places=3,
                      message=_l("Enter its load space in litres, more than 0 (at most 3 decimals)."))
    if volume is not None and not 0 < volume <= MAX_VOLUME_L:
        problems.add("capacity_l", _l("Enter its load space in litres, more than 0 (at most 3 decimals)."))
    values["capacity_volume_cm3"] = int(volume * 1000) if volume is not None else None
    speed = _decimal(problems, "speed_kmh", data.get("speed_kmh"), places=0,
                     message=_l("Enter an average speed of %(lo)d to %(hi)d km/h.", lo=SPEED_RANGE[0], hi=SPEED_RANGE[1]))
    if speed is not None and not SPEED_RANGE[0] <= speed <= SPEED_RANGE[1]:
        problems.add("speed_kmh", _l("Enter an average speed of %(lo)d to %(hi)d km/h.", lo=SPEED_RANGE[0],
                                     hi=SPEED_RANGE[1]))
    values["speed_kmh"] = int(speed) if speed is not None else None
    start = _clock_time(problems, "shift_start", data.get("shift_start"))
    end = _clock_time(problems, "shift_end", data.get("shift_end"))
    if start is not None and end is not None and end <= start:
        problems.add("shift_end", _l("The shift must end after it starts (on the same day)."))
    values["shift_start"], values["shift_end"] = start, end
    active = _flag(problems, "active", data.get("active", "1" if current is None else None))
    values["active"] = active
    return values


def _refuse_if_on_the_road(driver: Driver, field: str) -> None:
    for v in db.session.scalars(sa.select(Vehicle).where(Vehicle.driver_id == driver.id)):
        if road_state(v.id).started:
            raise Invalid({field: str(_l("%(plate)s is out on its route with this driver: wait until it is back.",
                                         plate=v.plate))})


def _replan_note(warehouse_ids: set[int], replan: Callable[[int], Any] | None) -> str:
    """Re-plan the warehouses whose vehicles changed under stops still to be made (as a
    breakdown does), so no promised order waits on a van that has changed or gone."""
    if not warehouse_ids:
        return str(_l("Quotes use it now; the next re-plan (scheduled every few minutes, or re-plan now in "
                      "the dispatch console) routes with it."))
    for warehouse_id in sorted(warehouse_ids):
        (replan or _replan)(warehouse_id)
    return str(_l("Its stops still to be made were re-planned with the change."))


def _replan(warehouse_id: int) -> Any:
    from ..dispatch import actions
    from ..dispatch.models import PlanTrigger

    return planning.plan_warehouse(warehouse_id, seconds=actions._seconds(None), trigger=PlanTrigger.MANUAL)


def save_vehicle(actor_id: int, vehicle_id: int | None, data: dict[str, Any], *, once: str = "",
                 replan: Callable[[int], Any] | None = None) -> Outcome:
    """Create (``vehicle_id`` None) or edit a vehicle. A vehicle out on a started route keeps
    its warehouse, capacity, speed, shift, active flag and driver until it is back; when one of
    these changes for a vehicle with stops still to be made in the active plan, its warehouse
    is re-planned at once (``replan``, default the dispatch console's re-plan)."""
    current = vehicle(vehicle_id) if vehicle_id is not None else None
    problems = Problems()
    values = _vehicle_values(problems, data, current)
    if current is None and values.get("plate") and "plate" in problems:
        existing = db.session.scalar(sa.select(Vehicle).where(Vehicle.plate == values["plate"]))
        if existing is not None and _created_with("vehicle.create", existing.id, once):
            return Outcome(existing.id, False)
    problems.check()
    if current is None:
        v = Vehicle(**values)
        db.session.add(v)
        db.session.flush()
        audit("vehicle.create", actor_id=actor_id, object_type="vehicle", object_id=v.id,
              data={"before": {}, "after": _vehicle_fields(v), "once": once})
        try:
            _commit()
        except sa.exc.IntegrityError:
            raise Invalid({"plate": str(_l("Another vehicle has this plate."))}) from None
        return Outcome(v.id, True, str(_l("Quotes use it now; the next re-plan (scheduled every few minutes, or "
                                          "re-plan now in the dispatch console) routes with it.")))
    before = _vehicle_fields(current)
    state = road_state(current.id)
    planning_changed = [k for k in (*PLANNING_FIELDS, "driver_id") if
                        _vehicle_fields_value(values, k) != before[k]]
    if state.started and planning_changed:
        raise Invalid({VEHICLE_FORM_FIELD.get(planning_changed[0], planning_changed[0]): str(_l(
            "%(plate)s is out on its route: its warehouse, capacity, speed, shift, driver and service stay as they "
            "are until it is back (a breakdown is reported in the dispatch console).", plate=current.plate))})
    old_warehouse = current.warehouse_id
    for key, value in values.items():
        setattr(current, key, value)
    changed = _record("vehicle.update", actor_id, "vehicle", current.id, before, _vehicle_fields(current))
    if not changed:
        db.session.rollback()
        return Outcome(current.id, False)
    touched = {old_warehouse, current.warehouse_id} if set(planning_changed) - {"driver_id"} else set()
    for warehouse_id in touched:
        planning.bump_plan_version(warehouse_id)
    _commit()
    note = ""
    if touched:
        note = _replan_note(touched if state.pending else set(), replan)
    return Outcome(current.id, True, note)


def _vehicle_fields_value(values: dict[str, Any], key: str) -> Any:
    value = values.get(key)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return value


# --- drivers -------------------------------------------------------------------------------------


def driver(driver_id: int) -> Driver:
    found = db.session.get(Driver, driver_id)
    if found is None:
        raise NotFound()
    return found


def list_drivers() -> list[tuple[Driver, User | None, list[Vehicle]]]:
    drivers = list(db.session.scalars(sa.select(Driver).order_by(Driver.active.desc(), Driver.name)))
    users = {u.id: u for u in db.session.scalars(sa.select(User).where(
        User.id.in_([d.user_id for d in drivers if d.user_id])))} if drivers else {}
    by_driver: dict[int, list[Vehicle]] = {}
    for v in db.session.scalars(sa.select(Vehicle).where(Vehicle.driver_id.is_not(None)).order_by(Vehicle.plate)):
        by_driver.setdefault(v.driver_id, []).append(v)  # type: ignore[arg-type]
    return [(d, users.get(d.user_id) if d.user_id else None, by_driver.get(d.id, [])) for d in drivers]


def driver_accounts(driver_id: int | None = None) -> list[User]:
    """Driver accounts with no driver record yet (and this driver's own)."""
    linked = sa.select(Driver.user_id).where(Driver.user_id.is_not(None), Driver.id != (driver_id or 0))
    return list(db.session.scalars(sa.select(User).where(User.role == Role.DRIVER, User.id.not_in(linked))
                                   .order_by(User.name)))


def vehicles_for_choice() -> list[Vehicle]:
    return list(db.session.scalars(sa.select(Vehicle).where(Vehicle.active.is_(True)).order_by(Vehicle.plate)))


def _driver_fields(d: Driver, vehicle_id: int | None) -> dict[str, Any]:
    return {"name": d.name, "mobile": d.mobile, "user_id": d.user_id, "active": d.active, "vehicle_id": vehicle_id}


def _vehicle_of(driver_id: int) -> Vehicle | None:
    return db.session.scalar(sa.select(Vehicle).where(Vehicle.driver_id == driver_id, Vehicle.active.is_(True))
                             .order_by(Vehicle.id).limit(1))


def save_driver(actor_id: int, driver_id: int | None, data: dict[str, Any], *, once: str = "") -> Outcome:
    """Create or edit a driver: name, mobile (unique), the driver account it signs in with (one
    of role driver, linked to no other record), active, and the vehicle they drive (one at a
    time). Nothing changes for a driver whose vehicle is out on a started route but the name."""
    current = driver(driver_id) if driver_id is not None else None
    problems = Problems()
    name = _text(problems, "name", data.get("name"), message=_l("Enter the driver's name."))
    mobile = str(data.get("mobile") or "").strip().replace(" ", "").replace("-", "")
    if not is_mobile(mobile):
        problems.add("mobile", _l("Enter an 11-digit mainland mobile number, e.g. 13912345678."))
    else:
        taken = db.session.scalar(sa.select(Driver).where(Driver.mobile == mobile))
        if taken is not None and (current is None or taken.id != current.id):
            if current is None and _created_with("driver.create", taken.id, once):
                return Outcome(taken.id, False)
            problems.add("mobile", _l("Another driver has this mobile number."))
    user_id = _id(data.get("user_id"))
    if user_id is not None:
        account = db.session.get(User, user_id)
        other = db.session.scalar(sa.select(Driver.id).where(Driver.user_id == user_id,
                                                             Driver.id != (current.id if current else 0)))
        if account is None or account.role != Role.DRIVER:
            problems.add("user_id", _l("Choose an account of role driver, or none."))
        elif other is not None:
            problems.add("user_id", _l("This account is linked to another driver."))
    active = _flag(problems, "active", data.get("active", "1" if current is None else None))
    vehicle_id = _id(data.get("vehicle_id"))
    target = db.session.get(Vehicle, vehicle_id) if vehicle_id else None
    if vehicle_id is not None and (target is None or not target.active):
        problems.add("vehicle_id", _l("Choose an active vehicle, or none."))
    elif target is not None and active is False:
        problems.add("vehicle_id", _l("An inactive driver drives no vehicle."))
    problems.check()
    old_vehicle = _vehicle_of(current.id) if current else None
    if current is not None:
        moving = (old_vehicle.id if old_vehicle else None) != vehicle_id or active != current.active \
            or user_id != current.user_id
        if moving:
            for v in (old_vehicle, target):
                if v is not None and road_state(v.id).started and (v is not target or v.driver_id != current.id):
                    raise Invalid({"vehicle_id": str(_l(
                        "%(plate)s is out on its route: its driver stays until it is back.", plate=v.plate))})
            if active is False or user_id != current.user_id:
                _refuse_if_on_the_road(current, "active")
    elif target is not None and road_state(target.id).started:
        raise Invalid({"vehicle_id": str(_l("%(plate)s is out on its route: its driver stays until it is back.",
                                             plate=target.plate))})
    d = current or Driver(name=name, mobile=mobile)
    before = _driver_fields(d, old_vehicle.id if old_vehicle else None) if current else {}
    d.name, d.mobile, d.user_id, d.active = name, mobile, user_id, bool(active)
    if current is None:
        db.session.add(d)
    db.session.flush()
    if old_vehicle is not None and old_vehicle is not target:
        old_vehicle.driver_id = None
    if target is not None:
        target.driver_id = d.id
    after = _driver_fields(d, target.id if target else None)
    if current is None:
        audit("driver.create", actor_id=actor_id, object_type="driver", object_id=d.id,
              data={"before": {}, "after": after, "once": once})
        changed = True
    else:
        changed = _record("driver.update", actor_id, "driver", d.id, before, after)
    if not changed:
        db.session.rollback()
        return Outcome(d.id, False)
    try:
        _commit()
    except sa.exc.IntegrityError:
        raise Invalid({"mobile": str(_l("Another driver has this mobile number."))}) from None
    return Outcome(d.id, True)


# --- window classes ------------------------------------------------------------------------------


def window_classes() -> list[WindowClass]:
    return list(db.session.scalars(sa.select(WindowClass).order_by(WindowClass.hours)))


def window_class(class_id: int) -> WindowClass:
    found = db.session.get(WindowClass, class_id)
    if found is None:
        raise NotFound()
    return found


def steps_text(steps: list[list[int]]) -> str:
    """Stored steps ([[seconds late, fen]…]) as the form shows them: "minutes, yuan" lines."""
    def yuan(fen: int) -> str:
        return f"{fen // 100}.{fen % 100:02d}"

    return "\n".join(f"{int(seconds) // 60}, {yuan(int(fen))}" for seconds, fen in steps)


def parse_steps(problems: Problems, text: Any) -> list[list[int]]:
    """Lines of "minutes late ≥, compensation in yuan", ascending by minutes; each ≥ 0."""
    steps: list[list[int]] = []
    lines = [line.strip() for line in str(text or "").splitlines() if line.strip()]
    if len(lines) > 20:
        problems.add("steps", _l("At most 20 steps."))
        return []
    for n, line in enumerate(lines, 1):
        parts = [p.strip() for p in re.split(r"[,，\t]|\s+", line) if p.strip()]
        if len(parts) != 2 or not re.fullmatch(r"[0-9]{1,5}", parts[0]):
            problems.add("steps", _l("Line %(n)d: write minutes late, then the compensation in yuan, e.g. 30, 10.00.",
                                     n=n))
            return []
        inner = Problems()
        fen = yuan_to_fen(inner, "steps", parts[1])
        if fen is None:
            problems.add("steps", _l("Line %(n)d: write minutes late, then the compensation in yuan, e.g. 30, 10.00.",
                                     n=n))
            return []
        minutes = int(parts[0])
        if steps and minutes * 60 <= steps[-1][0]:
            problems.add("steps", _l("Line %(n)d: the minutes must grow from line to line.", n=n))
            return []
        steps.append([minutes * 60, fen])
    return steps


def _class_fields(c: WindowClass) -> dict[str, Any]:
    return {"fee_fen": c.fee_fen, "name_zh": c.name_zh, "name_en": c.name_en,
            "compensation_steps": [list(s) for s in c.compensation_steps or []],
            "compensation_cap_fen": c.compensation_cap_fen, "active": c.active}


def update_window_class(actor_id: int, class_id: int, data: dict[str, Any]) -> Outcome:
    """Fee, compensation steps and cap, names, active. The hours are the product's promise
    (2/6/12/18) and do not change here. An inactive class is no longer quoted; at least one
    stays active. Orders already placed keep the fee they paid."""
    c = window_class(class_id)
    problems = Problems()
    fee = yuan_to_fen(problems, "fee", data.get("fee"))
    cap = yuan_to_fen(problems, "cap", data.get("cap"))
    steps = parse_steps(problems, data.get("steps"))
    zh = _text(problems, "name_zh", data.get("name_zh"), max_len=32, message=_l("Enter the Chinese name."))
    en = _text(problems, "name_en", data.get("name_en"), max_len=64, message=_l("Enter the English name."))
    active = _flag(problems, "active", data.get("active"))
    if active is False and c.active and not db.session.scalar(sa.select(WindowClass.id).where(
            WindowClass.active.is_(True), WindowClass.id != c.id).limit(1)):
        problems.add("active", _l("This is the last window class offered: keep it active."))
    problems.check()
    before = _class_fields(c)
    c.fee_fen, c.compensation_cap_fen, c.compensation_steps = fee, cap, steps  # type: ignore[assignment]
    c.name_zh, c.name_en, c.active = zh, en, bool(active)
    changed = _record("window_class.update", actor_id, "window_class", c.id, before, _class_fields(c))
    if not changed:
        db.session.rollback()
        return Outcome(c.id, False)
    _commit()  # (the planning-input hook bumps every warehouse's plan version in this commit)
    return Outcome(c.id, True)
