"""GET /api/openapi.json: the OpenAPI 3.1 document (placeholder; filled in below)."""

from __future__ import annotations

from flask import Blueprint, jsonify

bp = Blueprint("openapi", __name__, url_prefix="/api")


@bp.get("/openapi.json")
def document():
    return jsonify({"openapi": "3.1.0", "info": {"title": "StatusCore", "version": "0"}, "paths": {}})
