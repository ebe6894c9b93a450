"""Maintenance windows: one-off or weekly, for a set of the user's monitors."""

from __future__ import annotations

from flask import Blueprint, jsonify

from appliance.maintenance import Window, schedule_problems
from appliance.models import Maintenance
from appliance.timeutil import as_utc, iso, utcnow
from server.auth import appliance, current_user, require_login
from server.errors import ApiError, not_found
from server.schemas import MaintenanceBody, MaintenanceUpdateBody, parse_body

bp = Blueprint("maintenance", __name__, url_prefix="/api/maintenance")
bp.before_request(require_login)


def maintenance_json(row: Maintenance, now=None) -> dict:
    now = now or utcnow()
    return {"id": row.id, "name": row.name, "monitor_ids": list(row.monitor_ids),
            "starts_at": iso(row.starts_at), "ends_at": iso(row.ends_at), "recurring": row.recurring,
            "active": Window.from_record(row).is_active(now), "created_at": iso(row.created_at)}


def _checked(fields: dict) -> dict:
    """The complete window's rules: one kind of schedule, a sane range, the user's own monitors."""
    details = schedule_problems(fields)
    ids = fields.get("monitor_ids") or []
    own = {m.id for m in appliance().entities.list_monitors(current_user.id)}
    unknown = [i for i in ids if i not in own]
    if unknown:
        details["monitor_ids"] = f"unknown monitor id(s): {', '.join(map(str, unknown))}"
    elif len(set(ids)) != len(ids):
        details["monitor_ids"] = "lists a monitor twice"
    if details:
        field, problem = next(iter(details.items()))
        raise ApiError(400, f"Invalid maintenance window: {field} {problem}.", details)
    return fields


def _owned(window_id: int) -> Maintenance:
    row = appliance().maintenance.get(window_id, current_user.id)
    if row is None:
        raise not_found("maintenance window")
    return row


def _save(row: Maintenance):
    saved = appliance().maintenance.save(row)
    appliance().reload_maintenance()
    appliance().page_versions.bump(current_user.id)  # the status page says "under maintenance"
    return saved


@bp.get("")
def list_windows():
    now = utcnow()
    return jsonify([maintenance_json(r, now) for r in appliance().maintenance.list(current_user.id)])


@bp.post("")
def create_window():
    body = parse_body(MaintenanceBody)
    fields = _checked(body.model_dump())
    row = _save(Maintenance(user_id=current_user.id, name=fields["name"], monitor_ids=fields["monitor_ids"],
                            starts_at=fields["starts_at"], ends_at=fields["ends_at"], recurring=fields["recurring"]))
    return jsonify(maintenance_json(row)), 201


@bp.get("/<int:window_id>")
def get_window(window_id: int):
    return jsonify(maintenance_json(_owned(window_id)))


@bp.put("/<int:window_id>")
def update_window(window_id: int):
    row = _owned(window_id)
    body = parse_body(MaintenanceUpdateBody)
    changes = body.model_dump(exclude_unset=True)
    current = {"name": row.name, "monitor_ids": list(row.monitor_ids),
               "starts_at": as_utc(row.starts_at) if row.starts_at else None,
               "ends_at": as_utc(row.ends_at) if row.ends_at else None, "recurring": row.recurring}
    if "recurring" in changes and changes["recurring"] is not None:  # switching to weekly
        current["starts_at"] = current["ends_at"] = None
    if changes.get("starts_at") is not None or changes.get("ends_at") is not None:  # switching to one-off
        current["recurring"] = None
    fields = _checked({**current, **changes})
    for key, value in fields.items():
        setattr(row, key, value)
    return jsonify(maintenance_json(_save(row)))


@bp.delete("/<int:window_id>")
def delete_window(window_id: int):
    if not appliance().maintenance.delete(window_id, current_user.id):
        raise not_found("maintenance window")
    appliance().reload_maintenance()
    appliance().page_versions.bump(current_user.id)
    return "", 204
