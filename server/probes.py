"""Locations and remote probes.

- Admins register probes (`POST /api/admin/probes` → a token shown once), list, rename and
  revoke them; every user can list the locations with their online state.
- Probes themselves call `/api/probe/*` with their token: pull assignments, push results.
  They never need inbound connections.
"""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request
from flask_limiter import ExemptionScope

from appliance.services.probes import ProbeView
from appliance.timeutil import iso, utcnow
from server.auth import require_admin, require_login, services, session_only
from server.errors import ApiError
from server.limits import limit_endpoint
from server.schemas import ProbeCreateBody, ProbeResultsBody, ProbeUpdateBody, parse_body
from server.serialize import spec_json

admin_bp = Blueprint("probes_admin", __name__, url_prefix="/api/admin/probes")
admin_bp.before_request(require_admin)
locations_bp = Blueprint("locations", __name__, url_prefix="/api/locations")
locations_bp.before_request(require_login)
probe_bp = Blueprint("probe", __name__, url_prefix="/api/probe")

PROBE_RATE_LIMIT = "600/minute"


def probe_json(view: ProbeView) -> dict:
    probe, location = view.probe, view.location
    return {"id": probe.id, "name": probe.name, "display_name": probe.display_name,
            "online": bool(location and location.online),
            "last_seen": iso(location.last_seen) if location else None,
            "created_at": iso(probe.created_at)}


@admin_bp.get("")
@session_only
def list_probes():
    return jsonify([probe_json(v) for v in services().probes.list()])


@admin_bp.post("")
@session_only
def register_probe():
    body = parse_body(ProbeCreateBody)
    view, token = services().probes.register(body.name, body.display_name)
    return jsonify({**probe_json(view), "token": token}), 201


@admin_bp.patch("/<int:probe_id>")
@session_only
def rename_probe(probe_id: int):
    body = parse_body(ProbeUpdateBody)
    return jsonify(probe_json(services().probes.rename(probe_id, body.display_name)))


@admin_bp.delete("/<int:probe_id>")
@session_only
def revoke_probe(probe_id: int):
    """Revoke: the token stops working at once; the location's stored results stay."""
    services().probes.revoke(probe_id)
    return "", 204


@locations_bp.get("")
def list_locations():
    return jsonify([{"name": loc.name, "display_name": loc.display_name, "online": loc.online,
                     "last_seen": iso(loc.last_seen)} for loc in services().probes.locations()])


# ---- the probe's own API -------------------------------------------------------------------------
@probe_bp.before_request
def authenticate_probe():
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    probe = services().probes.authenticate(token)
    if probe is None:
        raise ApiError(401, "Unknown or revoked probe token; register the probe again with POST /api/admin/probes.")
    g.probe = probe


def probe_key() -> str:
    return "probe:" + request.headers.get("Authorization", "")[-16:]


@probe_bp.get("/assignments")
def assignments():
    found = services().probes.assignments(g.probe)
    return jsonify({"location": found.location, "server_time": iso(utcnow()),
                    "refresh_seconds": found.refresh_seconds,
                    "monitors": [spec_json(spec) for spec in found.specs]})


@probe_bp.post("/results")
def results():
    body = parse_body(ProbeResultsBody)
    report = services().probes.take_results(g.probe, [r.model_dump() for r in body.results])
    return jsonify({"accepted": report.accepted, "duplicates": report.duplicates, "rejected": report.rejected})


def register_probe_limits(app, limiter) -> None:
    for endpoint in ("probe.assignments", "probe.results"):
        limit_endpoint(app, limiter, endpoint, PROBE_RATE_LIMIT, probe_key)
    limiter.exempt(probe_bp, flags=ExemptionScope.APPLICATION)
