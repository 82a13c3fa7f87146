"""The dispatch console's actions (POST forms on the console; the services are in
:mod:`.actions`): re-plan now and its diff, lock and unlock a route, pin and unpin an order,
move a stop, mark a vehicle broken down. The ``dispatch`` blueprint's guard lets only
dispatchers and operators in; ids posted must be of the warehouse in the URL (by its code, as
the console's URLs; 404 otherwise). Each answers with a redirect back to the console and a
message: what changed, that nothing had to, or why the checker refused the change."""

from __future__ import annotations

import secrets

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..errors import Conflict, ValidationFailed
from ..i18n import localized
from ..inputs import form_id, parse_id, safe_next
from . import actions, services
from .views import bp


def _back(code: str | None = None):
    """Back to the page the form was on (same site only), else the warehouse's console."""
    default = url_for("dispatch.console", warehouse=code) if code else url_for("dispatch.index")
    return redirect(safe_next(request.form.get("next"), default), code=303)


def _position() -> int | None:
    try:
        return parse_id(request.form.get("position"))
    except ValueError:
        return None


def _answer(code: str, run, done: str, already: str):
    """Run an action: flash what it did (or that nothing had to change, or the refusal with
    the checker's reasons) and go back to the console."""
    try:
        changed = run()
    except Conflict as error:
        flash(error.message, "error")
        return _back(code)
    flash(done if changed else already, "info")
    return _back(code)


@bp.context_processor
def _action_helpers() -> dict:
    def action_state(warehouse: int | str) -> actions.ActionState:
        """By the warehouse's id or code, once per request."""
        cache = g.setdefault("dispatch_action_state", {})
        if warehouse not in cache:
            cache[warehouse] = actions.action_state(warehouse)
        return cache[warehouse]

    return {"dispatch_action_token": lambda: secrets.token_urlsafe(24), "dispatch_action_state": action_state}


def _replan(warehouse_id: int | None):
    outcome = actions.replan(warehouse_id, token=request.form.get("token", ""), actor_id=current_user.id)
    return redirect(url_for("dispatch.replan_result", token=outcome.token), code=303)


@bp.post("/replan")
def replan_all():
    return _replan(None)


@bp.post("/<warehouse>/replan")
def replan(warehouse: str):
    return _replan(services.warehouse_by_code(warehouse).id)


@bp.get("/replan")
def replan_result():
    outcome = actions.replan_request(request.args.get("token", ""))
    if outcome is None:
        flash(_("No such re-plan: start one from the console."), "info")
        return redirect(url_for("dispatch.index"))
    names = {w.code: localized(w.location) for w in services.warehouses()}
    return render_template("dispatch/replan_result.html", outcome=outcome, eta_shifts=actions.eta_shifts,
                           minutes=actions.ETA_SHIFT_MINUTES, names=names)


@bp.post("/<warehouse>/lock")
def lock_route(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    return _answer(found.code, lambda: actions.set_route_locked(found.id, form_id("route_id"), True,
                                                                actor_id=current_user.id),
                   _("Route locked: re-plans keep its stops in this order."), _("The route was already locked."))


@bp.post("/<warehouse>/unlock")
def unlock_route(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    return _answer(found.code, lambda: actions.set_route_locked(found.id, form_id("route_id"), False,
                                                                actor_id=current_user.id),
                   _("Route unlocked: re-plans may change it again."), _("The route was not locked."))


@bp.post("/<warehouse>/pin")
def pin_order(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    return _answer(found.code, lambda: actions.pin_order(found.id, form_id("order_id"), form_id("vehicle_id"),
                                                         actor_id=current_user.id),
                   _("Order pinned: the planner serves it with this vehicle only."),
                   _("The order was already pinned to this vehicle."))


@bp.post("/<warehouse>/unpin")
def unpin_order(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    return _answer(found.code, lambda: actions.unpin_order(found.id, form_id("order_id"), actor_id=current_user.id),
                   _("Pin removed: the planner may choose the vehicle again."), _("The order was not pinned."))


@bp.post("/<warehouse>/move")
def move_stop(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    return _answer(found.code, lambda: actions.move_stop(found.id, form_id("stop_id"), form_id("vehicle_id"),
                                                         _position(), actor_id=current_user.id),
                   _("Stop moved: the checker found every promise and capacity still kept."),
                   _("The stop was already there."))


@bp.post("/<warehouse>/breakdown")
def breakdown(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    vehicle_id = form_id("vehicle_id")
    if request.form.get("confirm") != "1":
        actions.vehicle_of(found.id, vehicle_id)  # (another warehouse's vehicle: 404 first)
        raise ValidationFailed(_("Tick the box to confirm the breakdown."), field="confirm")
    outcome = actions.mark_broken_down(found.id, vehicle_id, actor_id=current_user.id)
    if outcome.already:
        flash(_("This vehicle is already out of service."), "info")
    elif outcome.new_plan_id is None:
        flash(_("Vehicle out of service, but the re-plan failed: the current plan stays and an alert was raised."),
              "error")
    else:
        flash(_("Vehicle out of service: its remaining stops were re-planned onto the other vehicles."), "info")
    return _back(found.code)
