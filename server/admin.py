"""Admin: user management, engine status and backups (admins only)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from flask import Blueprint, g, jsonify, send_file

from appliance.timeutil import iso, utcnow
from server.auth import current_user, require_admin, services, session_only, user_json
from server.errors import ApiError
from server.schemas import UserCreateBody, UserUpdateBody, parse_body

bp = Blueprint("admin", __name__, url_prefix="/api/admin")
bp.before_request(require_admin)


def _admin_user_json(user) -> dict:
    return {**user_json(user, full=True), "createdAt": iso(user.created_at)}


@bp.get("/users")
@session_only
def list_users():
    return jsonify([_admin_user_json(u) for u in services().users.list()])


@bp.post("/users")
@session_only
def create_user():
    body = parse_body(UserCreateBody)
    user = services().users.create(body.email, body.password, body.full_name, body.subscription_tier, body.is_admin)
    return jsonify(_admin_user_json(user)), 201


@bp.patch("/users/<int:user_id>")
@session_only
def update_user(user_id: int):
    body = parse_body(UserUpdateBody)
    return jsonify(_admin_user_json(services().users.update(current_user, user_id, body.model_dump(exclude_unset=True))))


@bp.delete("/users/<int:user_id>")
@session_only
def delete_user(user_id: int):
    services().users.delete(current_user, user_id)
    return "", 204


@bp.get("/engine")
def engine_status():
    """How the check engine keeps up: schedule lag, backlog and the history writer's health."""
    return jsonify(services().users.engine_status())


@bp.get("/backup")
def backup():
    """A consistent backup of both stores, as a .tar.gz download (`statuscore backup` calls this)."""
    key = g.get("api_key")
    if key is not None and key.scope != "write":
        # It holds the signing secret and every password hash: whoever has it can do anything,
        # so a read-only key must not get it.
        raise ApiError(403, "A backup holds every secret of the appliance: use a login or a write API key.")
    users = services().users
    fd, name = tempfile.mkstemp(dir=users.data_dir, prefix=".backup-", suffix=".tar.gz")
    os.close(fd)
    try:
        users.backup(Path(name))
        handle = open(name, "rb")
    finally:
        os.unlink(name)  # the open handle keeps the data until the download ends
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    response = send_file(handle, mimetype="application/gzip", as_attachment=True,
                         download_name=f"statuscore-backup-{stamp}.tar.gz", max_age=0)
    response.headers["Cache-Control"] = "no-store"  # every secret of the appliance: never kept in a cache
    return response
