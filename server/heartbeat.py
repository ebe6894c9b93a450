"""Heartbeat (push) endpoints: a job calls GET or POST /api/heartbeat/<token>[/fail].

No login: the unguessable token is the credential. Limited per token (not per IP: many jobs
may call from one host), outside the per-user API budget.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from flask_limiter import ExemptionScope

from server.auth import services
from server.errors import ApiError
from server.limits import limit_endpoint

bp = Blueprint("heartbeat", __name__, url_prefix="/api/heartbeat")
TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def heartbeat_token_key() -> str:
    return "heartbeat:" + (request.view_args or {}).get("token", "")


def _beat(token: str, failed: bool):
    if not TOKEN.match(token):
        raise ApiError(404, "No heartbeat monitor has this URL; copy heartbeat_url from the monitor again.")
    monitor = services().heartbeats.beat(token, failed=failed)
    state = "paused" if not monitor.is_active else ("failure recorded" if failed else "ok")
    return jsonify({"ok": True, "status": state})


@bp.route("/<token>", methods=["GET", "POST", "HEAD"])
def beat(token: str):
    return _beat(token, failed=False)


@bp.route("/<token>/fail", methods=["GET", "POST", "HEAD"])
def fail(token: str):
    return _beat(token, failed=True)


def register_heartbeat_limits(app, limiter, settings) -> None:
    for endpoint in ("heartbeat.beat", "heartbeat.fail"):
        limit_endpoint(app, limiter, endpoint, settings.heartbeat_rate_limit, heartbeat_token_key)
    limiter.exempt(bp, flags=ExemptionScope.APPLICATION)
