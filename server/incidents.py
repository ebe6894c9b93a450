"""All of a user's incidents, and one incident's timeline:

- GET /api/incidents?monitor=&open=true|false&since=&limit=&offset=   newest first, a page at a time
- GET /api/incidents/<id>                                            the incident and its timeline

An incident is its owner's only: another user's is 404, like a monitor."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from flask import Blueprint, jsonify, request

from appliance.services.incidents import TimelineEvent
from appliance.timeutil import iso
from server.auth import current_user, require_login, services
from server.insights import incident_json
from server.openapi import MAX_ID
from server.query import bool_arg, int_arg, time_arg

bp = Blueprint("incidents", __name__, url_prefix="/api/incidents")
bp.before_request(require_login)

DEFAULT_LIMIT, MAX_LIMIT = 50, 200
MAX_OFFSET = 10**9


@bp.get("")
def list_incidents():
    monitor_id = int_arg("monitor", 0, 1, MAX_ID) or None
    ongoing, since = bool_arg("open"), time_arg("since")
    limit, offset = int_arg("limit", DEFAULT_LIMIT, 1, MAX_LIMIT), int_arg("offset", 0, 0, MAX_OFFSET)
    found = services().incidents.page(current_user, monitor_id, ongoing, since, limit, offset)
    after = offset + len(found.incidents)
    return jsonify({
        "incidents": [incident_json(i, found.names[i.monitor_id]) for i in found.incidents],
        "total": found.total,
        "limit": limit,
        "offset": offset,
        "next": _page_url(after, limit) if after < found.total and found.incidents else None,
    })


def _page_url(offset: int, limit: int) -> str:
    """This list's next page: the same filters, the next offset."""
    args = {key: value for key, value in request.args.items() if key not in ("offset", "limit")}
    return f"{request.path}?{urlencode({**args, 'limit': limit, 'offset': offset})}"


@bp.get("/<int:incident_id>")
def get_incident(incident_id: int):
    found = services().incidents.timeline(current_user, incident_id)
    return jsonify({**incident_json(found.incident, found.monitor_name),
                    "timeline": [event_json(e) for e in found.events]})


def event_json(event: TimelineEvent) -> dict:
    return {"at": iso(event.at), "kind": event.kind, "message": event.message, "location": event.location,
            "details": {key: iso(value) if isinstance(value, datetime) else value
                        for key, value in event.details.items()}}
