"""Users and roles, warehouses and service zones, vehicles, drivers and shifts, window classes.

Operator pages on the ``admin`` blueprint (its guard lets only operators in). Each form posts to
its page; :mod:`.fleet` validates, writes and audits, and its per-field messages are shown on
the form (HTTP 422)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..auth.models import Role
from ..errors import DomainError
from ..i18n import localized
from ..inputs import parse_id
from ..labels import LABELS
from ..logistics.models import VehicleKind
from . import fleet
from .fleet_forms import (
    ActiveForm,
    DriverForm,
    NewUserForm,
    UserFilterForm,
    UserRoleForm,
    VehicleForm,
    WarehouseForm,
    WindowClassForm,
)
from .views import bp

KIND_NAMES = {
    "minivan": _l("Minivan"), "van": _l("Van"), "light_truck": _l("Light truck"), "cold_van": _l("Refrigerated van"),
}


def _role_choices(roles=tuple(Role)) -> list[tuple[str, str]]:
    return [(r.value, str(LABELS["role_names"][r.value])) for r in roles]


def _apply(form, run: Callable[[], fleet.Outcome]) -> fleet.Outcome | None:
    """Run a service; its field errors go onto the form's fields (others are flashed)."""
    try:
        return run()
    except fleet.Invalid as error:
        for name, message in error.errors.items():
            field = getattr(form, name, None)
            if field is not None:
                field.errors = [*list(field.errors or []), message]
            else:
                flash(message, "error")
    except DomainError as error:
        flash(error.message, "error")
    return None


def _posted() -> dict[str, Any]:
    data: dict[str, Any] = {k: v for k, v in request.form.items()}
    data["zone_ids"] = request.form.getlist("zone_ids")
    return data


def _page() -> int:
    try:
        return parse_id(request.args.get("page", "1"))
    except ValueError:
        return 1


# --- users ------------------------------------------------------------------------------------------


def _coop_choices() -> list[tuple[str, str]]:
    return [("", _("No cooperative"))] + [(str(c.id), f"{localized(c)} ({c.code})") for c in fleet.cooperatives()]


@bp.get("/users")
def users():
    form = UserFilterForm(request.args)
    form.role.choices = [("", _("All roles"))] + _role_choices()
    listing = fleet.list_users(request.args.get("role") or None, request.args.get("q"), _page())
    return render_template("admin/users.html", form=form, listing=listing,
                           role=request.args.get("role") or "", q=request.args.get("q") or "")


@bp.route("/users/new", methods=["GET", "POST"])
def user_new():
    form = NewUserForm()
    form.role.choices = _role_choices(fleet.STAFF_ROLES)
    form.cooperative_id.choices = _coop_choices()
    status = 200
    if request.method == "POST" and form.validate_on_submit():
        outcome = _apply(form, lambda: fleet.create_user(
            current_user.id, role=form.role.data, name=form.name.data, mobile=form.mobile.data,
            password=form.password.data, confirm=form.confirm.data, cooperative_id=form.cooperative_id.data,
            once=form.once.data or ""))
        if outcome is not None:
            flash(_("Account created. Give the temporary password to its owner in person; they change it in "
                    "My account.") if outcome.changed else _("This account was already created."), "success")
            return redirect(url_for(".user_edit", user_id=outcome.id), code=303)
        status = 422
    elif request.method == "POST":
        status = 400
    if not form.once.data:
        form.once.data = fleet.new_once()
    return render_template("admin/users_new.html", form=form), status


@bp.get("/users/<int:user_id>")
def user_edit(user_id: int):
    return _user_page(user_id, UserRoleForm(), 200)


def _user_page(user_id: int, form: UserRoleForm, status: int, active_form: ActiveForm | None = None):
    account = fleet.user(user_id)
    form.role.choices = _role_choices()
    form.cooperative_id.choices = _coop_choices()
    if request.method == "GET" or form.role.data is None:
        form.role.data = account.role.value
        form.cooperative_id.data = str(account.cooperative_id or "")
    return render_template("admin/users_edit.html", account=account, form=form, active_form=active_form or ActiveForm(formdata=None),
                           driver=fleet.driver_of_user(account.id)), status


@bp.post("/users/<int:user_id>/role")
def user_role(user_id: int):
    form = UserRoleForm()
    form.role.choices = _role_choices()
    form.cooperative_id.choices = _coop_choices()
    if not form.validate_on_submit():
        return _user_page(user_id, form, 400)
    outcome = _apply(form, lambda: fleet.update_user(current_user.id, user_id, role=form.role.data,
                                                     cooperative_id=form.cooperative_id.data))
    if outcome is None:
        return _user_page(user_id, form, 422)
    flash(_("Role saved.") if outcome.changed else _("Nothing to change."), "success" if outcome.changed else "info")
    return redirect(url_for(".user_edit", user_id=user_id), code=303)


def _fresh_role_form() -> UserRoleForm:
    form = UserRoleForm(formdata=None)
    form.role.data = None
    return form


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    form = ActiveForm()
    fleet.user(user_id)  # 404 first
    if not form.validate_on_submit():
        return _user_page(user_id, _fresh_role_form(), 400, form)
    outcome = _apply(form, lambda: fleet.set_user_active(current_user.id, user_id, form.active.data))
    if outcome is None:
        return _user_page(user_id, _fresh_role_form(), 422, form)
    if not outcome.changed:
        flash(_("Nothing to change."), "info")
    elif form.active.data == "1":
        flash(_("Account reactivated: it can sign in again."), "success")
    else:
        flash(_("Account deactivated: it is signed out everywhere, its API tokens are revoked and it cannot sign "
                "in."), "success")
    return redirect(url_for(".user_edit", user_id=user_id), code=303)


# --- warehouses ---------------------------------------------------------------------------------------


def _warehouse_form(form: WarehouseForm) -> WarehouseForm:
    form.village_id.choices = [("", _("Choose a village"))] + [
        (str(v.id), f"{localized(v)} ({v.code})") for v in fleet.villages()]
    form.zone_ids.choices = [(str(z.id), f"{localized(z)} ({z.code})") for z in fleet.zones()]
    return form


@bp.get("/warehouses")
def warehouses():
    return render_template("admin/warehouses.html", rows=fleet.list_warehouses(), unserved=fleet.unserved_zones())


@bp.route("/warehouses/new", methods=["GET", "POST"])
def warehouse_new():
    form = _warehouse_form(WarehouseForm())
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = _posted()
            outcome = _apply(form, lambda: fleet.create_warehouse(
                current_user.id, code=data.get("code"), name_zh=data.get("name_zh"), name_en=data.get("name_en"),
                address_zh=data.get("address_zh"), village_id=data.get("village_id"), lat=data.get("lat"),
                lon=data.get("lon"), zone_ids=data["zone_ids"], once=data.get("once", "")))
            if outcome is not None:
                flash(_("Warehouse created. Add its vehicles: until it has some, its zones' orders are planned "
                        "from the other warehouses serving them.") if outcome.changed
                      else _("This warehouse was already created."), "success")
                return redirect(url_for(".warehouse_edit", warehouse_id=outcome.id), code=303)
            status = 422
    if not form.once.data:
        form.once.data = fleet.new_once()
    bounds = fleet.county_bounds()
    return render_template("admin/warehouse_form.html", form=form, warehouse=None, bounds=bounds), status


@bp.route("/warehouses/<int:warehouse_id>", methods=["GET", "POST"])
def warehouse_edit(warehouse_id: int):
    w = fleet.warehouse(warehouse_id)
    form = _warehouse_form(WarehouseForm())
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = _posted()
            outcome = _apply(form, lambda: fleet.update_warehouse(
                current_user.id, warehouse_id, name_zh=data.get("name_zh"), name_en=data.get("name_en"),
                address_zh=data.get("address_zh"), active=data.get("active"), zone_ids=data["zone_ids"]))
            if outcome is not None:
                flash(_("Warehouse saved. Quotes and the next re-plan use the change.") if outcome.changed
                      else _("Nothing to change."), "success" if outcome.changed else "info")
                return redirect(url_for(".warehouse_edit", warehouse_id=warehouse_id), code=303)
            status = 422
    else:
        form.name_zh.data, form.name_en.data = w.location.name_zh, w.location.name_en
        form.address_zh.data = w.location.address_zh
        form.active.data = "1" if w.active else "0"
        form.zone_ids.data = [str(z.id) for z in w.zones]
    return render_template("admin/warehouse_form.html", form=form, warehouse=w, bounds=None,
                           open_orders=fleet._open_orders(w.id)), status


# --- vehicles -----------------------------------------------------------------------------------------


def _vehicle_form(form: VehicleForm) -> VehicleForm:
    form.kind.choices = [(k.value, str(KIND_NAMES[k.value])) for k in VehicleKind]
    form.warehouse_id.choices = [("", _("Choose a warehouse"))] + [
        (str(w.id), f"{localized(w.location)} ({w.code})") for w in fleet.all_warehouses()]
    form.driver_id.choices = [("", _("No driver"))] + [(str(d.id), f"{d.name} ({d.mobile})")
                                                       for d in fleet.drivers_for_choice()]
    return form


@bp.get("/vehicles")
def vehicles():
    return render_template("admin/vehicles.html", rows=fleet.list_vehicles(), kind_names=KIND_NAMES)


@bp.route("/vehicles/new", methods=["GET", "POST"])
def vehicle_new():
    return _vehicle_page(None)


@bp.route("/vehicles/<int:vehicle_id>", methods=["GET", "POST"])
def vehicle_edit(vehicle_id: int):
    return _vehicle_page(vehicle_id)


def _vehicle_page(vehicle_id: int | None):
    v = fleet.vehicle(vehicle_id) if vehicle_id is not None else None
    form = _vehicle_form(VehicleForm())
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = _posted()
            outcome = _apply(form, lambda: fleet.save_vehicle(current_user.id, vehicle_id, data,
                                                              once=data.get("once", "")))
            if outcome is not None:
                if not outcome.changed:
                    flash(_("Nothing to change.") if v else _("This vehicle was already created."), "info")
                else:
                    flash(" ".join(filter(None, [_("Vehicle saved."), outcome.note])), "success")
                return redirect(url_for(".vehicle_edit", vehicle_id=outcome.id), code=303)
            status = 422
    elif v is not None:
        form.plate.data, form.kind.data = v.plate, v.kind.value
        form.warehouse_id.data, form.driver_id.data = str(v.warehouse_id), str(v.driver_id or "")
        form.capacity_kg.data = _number(v.capacity_weight_g / 1000)
        form.capacity_l.data = _number(v.capacity_volume_cm3 / 1000)
        form.speed_kmh.data = str(v.speed_kmh)
        form.shift_start.data, form.shift_end.data = v.shift_start.strftime("%H:%M"), v.shift_end.strftime("%H:%M")
        form.active.data = "1" if v.active else "0"
    else:
        form.kind.data, form.speed_kmh.data = VehicleKind.VAN.value, "45"
        form.shift_start.data, form.shift_end.data = "08:00", "20:00"
    if v is None and not form.once.data:
        form.once.data = fleet.new_once()
    state = fleet.road_state(v.id) if v is not None else None
    return render_template("admin/vehicle_form.html", form=form, vehicle=v, state=state), status


def _number(value: float) -> str:
    return f"{value:.3f}".rstrip("0").rstrip(".")


# --- drivers ------------------------------------------------------------------------------------------


def _driver_form(form: DriverForm, driver_id: int | None) -> DriverForm:
    form.user_id.choices = [("", _("No account"))] + [(str(u.id), f"{u.name} ({u.mobile})")
                                                      for u in fleet.driver_accounts(driver_id)]
    form.vehicle_id.choices = [("", _("No vehicle"))] + [(str(v.id), f"{v.plate} · {v.warehouse.code}")
                                                         for v in fleet.vehicles_for_choice()]
    return form


@bp.get("/drivers")
def drivers():
    return render_template("admin/drivers.html", rows=fleet.list_drivers())


@bp.route("/drivers/new", methods=["GET", "POST"])
def driver_new():
    return _driver_page(None)


@bp.route("/drivers/<int:driver_id>", methods=["GET", "POST"])
def driver_edit(driver_id: int):
    return _driver_page(driver_id)


def _driver_page(driver_id: int | None):
    d = fleet.driver(driver_id) if driver_id is not None else None
    form = _driver_form(DriverForm(), driver_id)
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = _posted()
            outcome = _apply(form, lambda: fleet.save_driver(current_user.id, driver_id, data,
                                                             once=data.get("once", "")))
            if outcome is not None:
                flash(_("Driver saved.") if outcome.changed else
                      (_("Nothing to change.") if d else _("This driver was already created.")),
                      "success" if outcome.changed else "info")
                return redirect(url_for(".driver_edit", driver_id=outcome.id), code=303)
            status = 422
    elif d is not None:
        current_vehicle = fleet._vehicle_of(d.id)
        form.name.data, form.mobile.data = d.name, d.mobile
        form.user_id.data = str(d.user_id or "")
        form.vehicle_id.data = str(current_vehicle.id) if current_vehicle else ""
        form.active.data = "1" if d.active else "0"
    if d is None and not form.once.data:
        form.once.data = fleet.new_once()
    return render_template("admin/driver_form.html", form=form, driver=d), status


# --- window classes -----------------------------------------------------------------------------------


@bp.get("/window-classes")
def window_classes():
    return render_template("admin/window_classes.html", classes=fleet.window_classes())


@bp.route("/window-classes/<int:window_class_id>", methods=["GET", "POST"])
def window_class_edit(window_class_id: int):
    c = fleet.window_class(window_class_id)
    form = WindowClassForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            data = _posted()
            outcome = _apply(form, lambda: fleet.update_window_class(current_user.id, window_class_id, data))
            if outcome is not None:
                flash(_("Window class saved. Quotes use it now; orders already placed keep their fee.")
                      if outcome.changed else _("Nothing to change."), "success" if outcome.changed else "info")
                return redirect(url_for(".window_classes"), code=303)
            status = 422
    else:
        form.name_zh.data, form.name_en.data = c.name_zh, c.name_en
        form.fee.data = _yuan(c.fee_fen)
        form.cap.data = _yuan(c.compensation_cap_fen)
        form.steps.data = fleet.steps_text(c.compensation_steps or [])
        form.active.data = "1" if c.active else "0"
    return render_template("admin/window_class_form.html", form=form, wclass=c), status


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"
