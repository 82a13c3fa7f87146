"""Dispatch console (调度): today's plans per warehouse, the fleet and alerts.

``/dispatch/`` lists the warehouses; ``/dispatch/<warehouse>/`` is a warehouse's console (map,
vehicles with their timelines and stops, alerts), kept current by static/js/dispatch.js polling
``state.json`` (an unchanged state answers 304 to its ETag); each route has a printable driver
manifest; alerts are acknowledged and resolved by POST (forms, or the script with JSON)."""

from __future__ import annotations

from flask import (
    Blueprint,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from .. import vendor
from ..auth.access import AREA_ROLES, guard_blueprint
from ..columns import utcnow
from ..errors import wants_json
from ..i18n import current_language
from ..logistics.models import Warehouse
from . import services

bp = Blueprint("dispatch", __name__, url_prefix="/dispatch", template_folder="templates")
guard_blueprint(bp, *AREA_ROLES["dispatch"])

POLL_SECONDS = 12  # how often the console asks for its state (DISPATCH_POLL_SECONDS overrides it)
_ID = 987654321  # stands for an id in the URL templates the script fills in


@bp.get("/")
def index():
    alerts = services.open_alerts()
    return render_template("dispatch/index.html", boards=services.boards(), alerts=alerts,
                           reasons=services.alert_reasons(alerts), alert_text=services.alert_text,
                           alert_kinds=services.ALERT_KINDS)


def _urls(warehouse: Warehouse) -> dict[str, str]:
    def template(endpoint: str, name: str, placeholder: str) -> str:
        return url_for(endpoint, warehouse=warehouse.code, **{name: _ID}).replace(str(_ID), placeholder)

    return {"manifest": template(".manifest", "route_id", "{route}"),
            "acknowledge": template(".acknowledge", "alert_id", "{alert}"),
            "resolve": template(".resolve", "alert_id", "{alert}")}


def _etag(warehouse: Warehouse) -> str:
    return f"{services.console_stamp(warehouse.id)}-{current_language()}"


@bp.get("/<warehouse>/")
def console(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    state = services.console_state(found)
    return render_template(
        "dispatch/console.html", warehouse=found, doc=services.state_document(state, _urls(found)), etag=_etag(found),
        routes={line.route.id: line.route for line in state.vehicles if line.route is not None},
        warehouses=services.warehouses(), asset=vendor.asset_url,
        poll_seconds=int(current_app.config.get("DISPATCH_POLL_SECONDS", POLL_SECONDS)),
        segment_kinds=services.SEGMENT_KINDS, stop_states=services.STOP_STATES)


@bp.get("/<warehouse>/state.json")
def state(warehouse: str):
    found = services.warehouse_by_code(warehouse)
    etag = _etag(found)
    if etag in request.if_none_match:
        response = current_app.response_class(status=304)
    else:
        document = services.state_document(services.console_state(found), _urls(found))
        response = jsonify(document)
        etag = _etag(found)  # after the console raised or cleared its own alerts
    response.set_etag(etag)
    response.headers["Cache-Control"] = "private, no-cache"
    response.vary.update(("Cookie", "Accept-Language"))
    return response


@bp.get("/<warehouse>/routes/<int:route_id>/manifest")
def manifest(warehouse: str, route_id: int):
    found = services.warehouse_by_code(warehouse)
    route = services.route_of(found, route_id)
    return render_template("dispatch/manifest.html", warehouse=found, route=route, rows=services.manifest(route),
                           stop_kinds=services.STOP_KINDS, now=utcnow())


def _after_alert(warehouse: Warehouse, alert, message: str):
    if wants_json():
        return jsonify(id=alert.id, acknowledged_at=alert.acknowledged_at and alert.acknowledged_at.isoformat(),
                       acknowledged_by_id=alert.acknowledged_by_id,
                       resolved_at=alert.resolved_at and alert.resolved_at.isoformat(),
                       resolved_by_id=alert.resolved_by_id)
    flash(message, "info")
    return redirect(url_for(".console", warehouse=warehouse.code, _anchor="alerts"), 303)


@bp.post("/<warehouse>/alerts/<int:alert_id>/acknowledge")
def acknowledge(warehouse: str, alert_id: int):
    found = services.warehouse_by_code(warehouse)
    alert = services.acknowledge_alert(found.id, alert_id, current_user.id)
    return _after_alert(found, alert, _("Alert acknowledged."))


@bp.post("/<warehouse>/alerts/<int:alert_id>/resolve")
def resolve(warehouse: str, alert_id: int):
    found = services.warehouse_by_code(warehouse)
    alert = services.resolve_alert(found.id, alert_id, current_user.id)
    return _after_alert(found, alert, _("Alert resolved."))


from . import action_views  # noqa: E402,F401
