"""The section bar of the staff areas: each area's pages in one row under the area bar.

An area declares its sections here (endpoint, label); a page of that area shows the bar with the
sections whose endpoint exists, the current one marked."""

from __future__ import annotations

from flask import Flask, current_app, request
from flask_babel import lazy_gettext as _l

SECTIONS: dict[str, list[tuple[str, object]]] = {
    "coop": [
        ("coop.index", _l("Overview")),
        ("coop.listings", _l("Listings")),
        ("coop.batches", _l("Batches")),
        ("coop.stock", _l("Stock")),
        ("coop.pickups", _l("Pick lists")),
        ("coop.replenishment", _l("Replenishment")),
        ("coop.stats", _l("Statistics")),
    ],
    "admin": [
        ("admin.index", _l("Overview")),
        ("admin.cooperatives", _l("Cooperatives")),
        ("admin.listings", _l("Listings")),
        ("admin.terms", _l("Prohibited terms")),
        ("admin.users", _l("Users")),
        ("admin.warehouses", _l("Warehouses")),
        ("admin.vehicles", _l("Vehicles")),
        ("admin.drivers", _l("Drivers")),
        ("admin.window_classes", _l("Window classes")),
        ("admin.audit", _l("Audit log")),
        ("admin.jobs", _l("Jobs")),
        ("admin.parameters", _l("Logistics parameters")),
    ],
    "complaints": [
        ("complaints.index", _l("Complaint queue")),
        ("complaints.new", _l("New complaint (phone call)")),
    ],
    "reports": [
        ("reports.index", _l("Dashboard")),
        ("reports.bureau", _l("Bureau reports")),
    ],
}


def sections() -> list[tuple[str, object, bool]]:
    """(endpoint, label, current) for the request's area; [] outside the staff areas."""
    endpoint = request.endpoint or ""
    area = endpoint.split(".", 1)[0]
    views = current_app.view_functions
    return [(name, label, name == endpoint) for name, label in SECTIONS.get(area, []) if name in views]


def init_app(app: Flask) -> None:
    app.context_processor(lambda: {"sections": sections})
