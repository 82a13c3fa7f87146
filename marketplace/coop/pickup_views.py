"""Pick lists from the current plan, handovers to the van, replenishment suggestions."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..columns import utcnow
from ..errors import DomainError
from . import pickups as pick
from . import replenishment as milk_runs
from . import services
from .pickup_forms import AcceptForm, CancelForm, handover_form
from .views import bp


@bp.get("/pickups")
def pickups():
    coop = services.cooperative_of(current_user)
    return render_template("coop/pickups.html", coop=coop, days=pick.pick_days(coop.id), now=utcnow())


@bp.get("/pickups/print")
def pickups_print():
    """The day's pick lists (or one pickup's, ?pickup=<id>) on clean A4 paper."""
    coop = services.cooperative_of(current_user)
    raw = request.args.get("pickup", "")
    if raw:
        if not raw.isdigit() or len(raw) > 12:
            abort(404)
        one = pick.pickup_of(coop.id, int(raw))
        days = [pick.PickDay(one.planned_at.astimezone(pick.SHANGHAI).date(), [one])]
    else:
        days = pick.pick_days(coop.id)
    return render_template("coop/pickup_print.html", coop=coop, days=days, single=bool(raw), now=utcnow())


@bp.route("/pickups/<int:pickup_id>/handover", methods=["GET", "POST"])
def handover(pickup_id: int):
    coop = services.cooperative_of(current_user)
    pickup = pick.pickup_of(coop.id, pickup_id)
    remaining = pickup.remaining
    now = utcnow()
    form = handover_form(remaining, handed_over_by=coop.head_name,
                         handed_at=now.astimezone(pick.SHANGHAI).replace(second=0, microsecond=0, tzinfo=None))
    status = 200
    if request.method == "POST":
        if not remaining:  # a second submission: the first one stands
            flash(_("This handover was already recorded."), "info")
            return redirect(url_for("coop.pickups"))
        if form.validate():
            counts = {field.item.key: field.data for field in form.count_fields()}
            try:
                done = pick.record_handover(
                    coop.id, pickup.id, current_user.id, counts=counts, handed_over_by=form.handed_over_by.data,
                    handed_at=form.handed_at.data.replace(tzinfo=pick.SHANGHAI), note=form.note.data or "", now=now)
            except DomainError as error:
                target = getattr(form, error.field, None) if error.field else None
                if target is not None:
                    target.errors = [*target.errors, error.message] if isinstance(target.errors, list) else [error.message]
                else:
                    flash(error.message, "error")
                status = error.status
            else:
                if not done.new:
                    flash(_("This handover was already recorded."), "info")
                elif done.handover.mismatch:
                    flash(_("Handover recorded with a mismatch: the dispatcher has been alerted."), "warning")
                else:
                    flash(_("Handover recorded."), "success")
                return redirect(url_for("coop.pickups", _anchor=f"pickup-{pickup.id}"))
        else:
            status = 422
    return render_template("coop/handover.html", coop=coop, pickup=pickup, form=form, now=now), status


@bp.get("/replenishment")
def replenishment():
    coop = services.cooperative_of(current_user)
    return render_template("coop/replenishment.html", coop=coop, page=milk_runs.page(coop),
                           accept_form=AcceptForm(), cancel_form=CancelForm(), now=utcnow())


@bp.post("/replenishment/accept")
def replenishment_accept():
    coop = services.cooperative_of(current_user)
    form = AcceptForm()
    if not form.validate():
        for errors in form.errors.values():
            for message in errors:
                flash(message, "error")
        return redirect(url_for("coop.replenishment")), 303
    product_id, warehouse_id = form.product_id.data, form.warehouse_id.data
    if not (product_id.isdigit() and warehouse_id.isdigit() and len(product_id) < 12 and len(warehouse_id) < 12):
        abort(404)
    try:
        move = milk_runs.accept(coop.id, current_user.id, int(product_id), int(warehouse_id), form.quantity.data)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("coop.replenishment")), 303
    flash(_("Move of %(n)d units requested: the units are reserved at your site and the next plan puts it on a van.",
            n=move.quantity), "success")
    return redirect(url_for("coop.replenishment", _anchor=f"move-{move.id}")), 303


@bp.post("/replenishment/<int:move_id>/cancel")
def replenishment_cancel(move_id: int):
    coop = services.cooperative_of(current_user)
    milk_runs.own_move(coop.id, move_id)  # another cooperative's move: not found
    if not CancelForm().validate():
        abort(400)
    try:
        _move, cancelled = milk_runs.cancel(coop.id, move_id, current_user.id)
    except DomainError as error:
        if error.status == 404:
            raise
        flash(error.message, "error")
        return redirect(url_for("coop.replenishment")), 303
    flash(_("Move cancelled: its units are available again at your site.") if cancelled
          else _("This move was already cancelled."), "success" if cancelled else "info")
    return redirect(url_for("coop.replenishment")), 303
