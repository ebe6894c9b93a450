"""Maintenance windows: one-off or weekly, for a set of the user's monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.services.maintenance import WindowView
from appliance.timeutil import iso
from server.auth import current_user, require_login, services
from server.schemas import MaintenanceBody, MaintenanceUpdateBody, parse_body

bp = Blueprint("maintenance", __name__, url_prefix="/api/maintenance")
bp.before_request(require_login)


def maintenance_json(view: WindowView) -> dict:
    row = view.window
    return {"id": row.id, "name": row.name, "monitor_ids": list(row.monitor_ids),
            "starts_at": iso(row.starts_at), "ends_at": iso(row.ends_at), "recurring": row.recurring,
            "notice": row.notice, "active": view.active, "created_at": iso(row.created_at)}


@bp.get("")
def list_windows():
    return jsonify([maintenance_json(v) for v in services().maintenance.list(current_user)])


@bp.post("")
def create_window():
    body = parse_body(MaintenanceBody)
    return jsonify(maintenance_json(services().maintenance.create(current_user, body.model_dump()))), 201


@bp.get("/<int:window_id>")
def get_window(window_id: int):
    return jsonify(maintenance_json(services().maintenance.get(current_user, window_id)))


@bp.put("/<int:window_id>")
def update_window(window_id: int):
    services().maintenance.owned(current_user, window_id)  # 404 before a 400 about the body
    body = parse_body(MaintenanceUpdateBody)
    changes = body.model_dump(exclude_unset=True)
    return jsonify(maintenance_json(services().maintenance.update(current_user, window_id, changes)))


@bp.delete("/<int:window_id>")
def delete_window(window_id: int):
    services().maintenance.delete(current_user, window_id)
    return "", 204
