"""The driver's phone page (司机): today's route, the next stop first, and a form per action.
Every action is a POST (CSRF-checked) that answers with a redirect back to the page, so a
double tap or a reload records nothing twice; it works without script (the page's script only
adds the phone's position and checks a photo's size before it is sent)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import uploads as photos
from ..auth.access import guard_blueprint, roles_required
from ..auth.models import Role
from ..dispatch.models import StopKind
from ..errors import Conflict, ValidationFailed
from . import services

bp = Blueprint("driver", __name__, url_prefix="/driver", template_folder="templates")
guard_blueprint(bp, Role.DRIVER, public_endpoints=("photo",))

#: who may open a proof photo at all (which photo: services.photo_file decides)
PHOTO_ROLES = (Role.DRIVER, Role.CONSUMER, Role.DISPATCHER, Role.OPERATOR)


@bp.get("/")
def index():
    return render_template("driver/index.html", day=services.day_of(current_user.id),
                           reasons=services.FAILURE_REASONS, max_photo_bytes=photos.max_bytes())


def _back(stop_id: int | None = None):
    return redirect(url_for("driver.index", _anchor=f"stop-{stop_id}" if stop_id else None), code=303)


# (``own_route_id``, not ``route_id``: the authorization matrix fills URL parameters by name, and
# a dispatcher's ``route_id`` is any route of a warehouse, a driver's only their own)
@bp.post("/routes/<int:own_route_id>/start")
def start(own_route_id: int):
    try:
        services.start(current_user.id, own_route_id)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash(_("Route started. Drive safely!"), "success")
    return _back()


@bp.post("/routes/<int:own_route_id>/back")
def back(own_route_id: int):
    try:
        services.back(current_user.id, own_route_id)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash(_("Welcome back. The van is ready for its next trip."), "success")
    return _back()


@bp.post("/stops/<int:stop_id>/arrive")
def arrive(stop_id: int):
    try:
        services.arrive(current_user.id, stop_id)
    except Conflict as error:
        flash(error.message, "error")
    else:
        flash(_("Arrival recorded."), "success")
    return _back(stop_id)


def _common() -> dict:
    form = request.form
    return {
        "position": services.Position.parse(form.get("lat"), form.get("lon"), form.get("accuracy")),
        "device_at": services.device_time(form.get("device_at")),
    }


def _photo() -> bytes | None:
    upload = request.files.get("photo")
    if upload is None or not upload.filename and not upload.content_length:
        return None
    data = photos.read_upload(upload.stream)
    return data or None


def _recorded(stop_id: int, action, message: str):
    try:
        recorded = action()
    except (ValidationFailed, Conflict) as error:
        flash(error.message, "error")
        return _back(stop_id)
    if recorded.new:
        flash(message, "success")
    else:
        flash(_("This stop was already recorded; nothing changed."), "info")
    return _back()  # the next stop is first on the page


@bp.post("/stops/<int:stop_id>/deliver")
def deliver(stop_id: int):
    def action():
        return services.deliver(current_user.id, stop_id, name=request.form.get("name", ""), photo=_photo(),
                                **_common())

    stop = services.own_stop(current_user.id, stop_id)
    done = _("Delivered. Thank you!") if stop.kind == StopKind.DELIVERY else _("Stop done.")
    return _recorded(stop_id, action, done)


@bp.post("/stops/<int:stop_id>/fail")
def fail(stop_id: int):
    def action():
        return services.fail(current_user.id, stop_id, reason=request.form.get("reason", ""),
                             note=request.form.get("note", ""), photo=_photo(), **_common())

    services.own_stop(current_user.id, stop_id)
    return _recorded(stop_id, action, _("Recorded as not made. The dispatcher will see the reason."))


@bp.errorhandler(RequestEntityTooLarge)
def _too_large(error):
    """A photo far beyond the limit (the whole request is refused before it is read)."""
    if request.endpoint in ("driver.deliver", "driver.fail"):
        flash(photos.too_large_message(), "error")
        return _back()
    return error


@bp.get("/photos/<photo_id>")
@roles_required(*PHOTO_ROLES)
def photo(photo_id: str):
    path = services.photo_file(current_user, photo_id)
    response = send_file(path, mimetype="image/jpeg", max_age=86400, conditional=True, etag=True)
    response.cache_control.private = True
    response.cache_control.public = False
    return response


@bp.app_template_global("delivery_attempts")
def delivery_attempts(order) -> list[services.Attempt]:
    """For the consumer's order page (orders/_delivery.html): the order's delivery attempts."""
    return services.attempts_of(order.id)
