"""JSON API for mobile apps, under /api/v1 (token auth; CSRF does not apply)."""

from __future__ import annotations

from flask import Blueprint, jsonify

from ..extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/")
def index():
    return jsonify(name="shanhuo", version="v1")
