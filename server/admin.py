"""Admin: user management, engine status and backups (admins only)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, g, jsonify, send_file

from appliance.backup import create_backup
from appliance.storage.entities import Conflict
from appliance.timeutil import iso, utcnow
from server.auth import appliance, current_user, require_admin, session_only, user_json
from server.errors import ApiError, not_found
from server.schemas import UserCreateBody, UserUpdateBody, parse_body

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
bp.before_request(require_admin)


def _admin_user_json(user) -> dict:
    return {**user_json(user, full=True), "createdAt": iso(user.created_at)}


@bp.get("/users")
@session_only
def list_users():
    return jsonify([_admin_user_json(u) for u in appliance().entities.list_users()])


@bp.post("/users")
@session_only
def create_user():
    body = parse_body(UserCreateBody)
    try:
        user = appliance().entities.create_user(body.email, body.password, body.full_name,
                                                body.subscription_tier, body.is_admin)
    except Conflict as exc:
        raise ApiError(409, f"A user with email {body.email.lower()} already exists.",
                       {"email": "already taken"}) from exc
    return jsonify(_admin_user_json(user)), 201


@bp.patch("/users/<int:user_id>")
@session_only
def update_user(user_id: int):
    body = parse_body(UserUpdateBody)
    changes = body.model_dump(exclude_unset=True)
    nulls = {name: "must not be null" for name, value in changes.items() if value is None}
    if nulls:  # an explicit null is a wrong type, not "leave unchanged" (API.md: never coerced)
        raise ApiError(400, f"Invalid {next(iter(nulls))}: must not be null.", nulls)
    if user_id == current_user.id and changes.get("is_admin") is False:
        raise ApiError(400, "You cannot remove your own administrator rights; ask another admin.",
                       {"is_admin": "cannot demote yourself"})
    entities = appliance().entities
    if entities.get_user(user_id) is None:
        raise not_found("user")
    try:
        user = entities.update_user(user_id, **changes)
    except Conflict as exc:
        raise ApiError(409, "That email is already taken.", {"email": "already taken"}) from exc
    appliance().api_keys.forget_user(user_id)  # cached key lookups carry the user: a demotion counts at once
    return jsonify(_admin_user_json(user))


@bp.delete("/users/<int:user_id>")
@session_only
def delete_user(user_id: int):
    if user_id == current_user.id:
        raise ApiError(400, "You cannot delete your own account.")
    if appliance().entities.get_user(user_id) is None:
        raise not_found("user")
    appliance().delete_user(user_id)
    return "", 204


@bp.get("/engine")
def engine_status():
    """How the check engine keeps up: schedule lag, backlog and the history writer's health."""
    return jsonify(appliance().engine_status())


@bp.get("/backup")
def backup():
    """A consistent backup of both stores, as a .tar.gz download (`statuscore backup` calls this)."""
    key = g.get("api_key")
    if key is not None and key.scope != "write":
        # It holds the signing secret and every password hash: whoever has it can do anything,
        # so a read-only key must not get it.
        raise ApiError(403, "A backup holds every secret of the appliance: use a login or a write API key.")
    app = appliance()
    fd, name = tempfile.mkstemp(dir=app.settings.data_dir, prefix=".backup-", suffix=".tar.gz")
    os.close(fd)
    try:
        create_backup(app, Path(name))
        handle = open(name, "rb")
    finally:
        os.unlink(name)  # the open handle keeps the data until the download ends
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    response = send_file(handle, mimetype="application/gzip", as_attachment=True,
                         download_name=f"statuscore-backup-{stamp}.tar.gz", max_age=0)
    response.headers["Cache-Control"] = "no-store"  # every secret of the appliance: never kept in a cache
    return response
