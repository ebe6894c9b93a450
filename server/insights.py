"""Incidents and anomalies of a user's monitors; acknowledging anomalies."""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.models import AnomalyRecord, Incident
from appliance.services.status_pages import public_incident_json
from appliance.timeutil import iso, utcnow
from server.auth import current_user, require_login, services

bp = Blueprint("insights", __name__, url_prefix="/api/monitors")
bp.before_request(require_login)


def incident_json(incident: Incident, monitor_name: str) -> dict:
    """The public form (status page), and for the owner what caused it and where."""
    return {**public_incident_json(incident, monitor_name, utcnow()),
            "cause": incident.cause, "locations": list(incident.locations or [])}


@bp.get("/<int:monitor_id>/insights")
def insights(monitor_id: int):
    found = services().incidents.insights(current_user, monitor_id)
    return jsonify({"incidents": [incident_json(i, found.monitor_name) for i in found.incidents],
                    "anomalies": [anomaly_json(a, found.monitor_name) for a in found.anomalies],
                    "anomaly_scores": [{"location": location, "checked_at": iso(at), "anomaly_score": score}
                                       for location, at, score in found.scores]})


def anomaly_json(anomaly: AnomalyRecord, monitor_name: str) -> dict:
    return {"id": anomaly.id, "monitor_id": anomaly.monitor_id, "monitor_name": monitor_name,
            "location": anomaly.location, "detected_at": iso(anomaly.detected_at), "kind": anomaly.kind,
            "value": round(anomaly.value, 1), "baseline": round(anomaly.baseline, 1), "severity": anomaly.severity,
            "message": anomaly.message, "acknowledged": anomaly.acknowledged}


@bp.get("/anomalies")
def unacknowledged_anomalies():
    """Every unacknowledged anomaly across the user's monitors, most recent first."""
    rows, names = services().incidents.unacknowledged(current_user)
    return jsonify([anomaly_json(a, names[a.monitor_id]) for a in rows])


@bp.post("/anomalies/<int:anomaly_id>/acknowledge")
def acknowledge(anomaly_id: int):
    row, name = services().incidents.acknowledge(current_user, anomaly_id)
    return jsonify(anomaly_json(row, name))
