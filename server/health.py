"""GET /api/health: is the appliance serving, which version, and which data dir's appliance this
is (`instance_id`, made once per data dir: `statuscore doctor` compares it with its own data dir's
to tell this appliance from another one on the same port). No login; nothing private."""

from __future__ import annotations

from flask import Blueprint, jsonify

from server.auth import services

bp = Blueprint("health", __name__, url_prefix="/api")


@bp.get("/health")
def health():
    about = services().about
    return jsonify({"status": "ok", "version": about.version, "instance_id": about.instance_id})
