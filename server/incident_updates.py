"""The owner's updates on an incident, shown on the public status page and in its Atom feed:

- GET    /api/incidents/<id>/updates              newest first
- POST   /api/incidents/<id>/updates              {status: investigating|identified|monitoring|resolved, message}
- DELETE /api/incidents/<id>/updates/<update_id>

Another user's incident is not found (404). The rules are the IncidentUpdates service's.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.models import IncidentUpdate
from appliance.timeutil import iso
from server.auth import current_user, require_login, services
from server.schemas import IncidentUpdateBody, parse_body

bp = Blueprint("incident_updates", __name__, url_prefix="/api/incidents")
bp.before_request(require_login)


def update_json(row: IncidentUpdate) -> dict:
    return {"id": row.id, "incident_id": row.incident_id, "status": row.status, "message": row.message,
            "created_at": iso(row.created_at)}


@bp.get("/<int:incident_id>/updates")
def list_updates(incident_id: int):
    return jsonify([update_json(u) for u in services().incident_updates.list(current_user, incident_id)])


@bp.post("/<int:incident_id>/updates")
def post_update(incident_id: int):
    services().incident_updates.owned(current_user, incident_id)  # 404 before a 400 about the body
    body = parse_body(IncidentUpdateBody)
    row = services().incident_updates.post(current_user, incident_id, body.status, body.message)
    return jsonify(update_json(row)), 201


@bp.delete("/<int:incident_id>/updates/<int:update_id>")
def delete_update(incident_id: int, update_id: int):
    services().incident_updates.delete(current_user, incident_id, update_id)
    return "", 204
