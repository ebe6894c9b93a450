"""Incidents (and, with the insights issue, anomalies) of a monitor."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask_jwt_extended import current_user

from appliance.models import Incident
from appliance.timeutil import as_utc, iso, utcnow
from server.auth import appliance, require_login
from server.errors import not_found

bp = Blueprint("insights", __name__, url_prefix="/api/monitors")
bp.before_request(require_login)


def incident_json(incident: Incident, monitor_name: str) -> dict:
    end = as_utc(incident.resolved_at) if incident.resolved_at else utcnow()
    return {
        "id": incident.id,
        "monitor_id": incident.monitor_id,
        "monitor_name": monitor_name,
        "started_at": iso(incident.started_at),
        "resolved_at": iso(incident.resolved_at),
        "status": "resolved" if incident.resolved_at else "ongoing",
        "duration_seconds": max(0, round((end - as_utc(incident.started_at)).total_seconds())),
        "cause": incident.cause,
        "locations": list(incident.locations or []),
    }


@bp.get("/<int:monitor_id>/insights")
def insights(monitor_id: int):
    monitor = appliance().entities.get_monitor(monitor_id, current_user.id)
    if monitor is None:
        raise not_found()
    incidents = appliance().entities.incidents([monitor.id], limit=100)
    return jsonify({"incidents": [incident_json(i, monitor.name) for i in incidents], "anomalies": []})
