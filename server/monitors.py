"""Monitors: CRUD, toggle, public flag, history and stats, each scoped to the logged-in user."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from appliance.monitor_types import TYPES
from appliance.services.monitors import MonitorView
from server.auth import current_user, require_login, services
from server.errors import ApiError
from server.links import link_base
from server.query import int_arg
from server.schemas import (MonitorCreateBody, MonitorUpdateBody, PublicBody, ToggleBody,
                            parse_body)
from server.serialize import monitor_config_json, monitor_json, monitor_type_json, percent, uptime_text

bp = Blueprint("monitors", __name__, url_prefix="/api/monitors")
bp.before_request(require_login)


def _json(view: MonitorView) -> dict:
    return _many([view])[0]


def _many(views: list[MonitorView]) -> list[dict]:
    """Monitor objects for the answer; the unchanging part of each is cached until a stored
    monitor changes (the list is read far more often than monitors are edited)."""
    generation = services().monitors.generation
    cached = current_app.extensions.get("statuscore.monitor_config")
    if cached is None or cached[0] != generation:
        cached = current_app.extensions["statuscore.monitor_config"] = (generation, {})
    configs = cached[1]
    base = link_base()
    out = []
    for view in views:
        monitor = view.monitor
        config = configs.get(monitor.id)
        if config is None:
            config = configs[monitor.id] = monitor_config_json(monitor)
        out.append(monitor_json(monitor, view.live, view.uptime, view.in_maintenance, config, base))
    return out


@bp.get("/types")
def monitor_types():
    """Every monitor type with what it takes (the registry, appliance/monitor_types), for forms."""
    return jsonify([monitor_type_json(t) for t in TYPES.values()])


@bp.get("")
def list_monitors():
    return jsonify(_many(services().monitors.list(current_user)))


@bp.post("")
def create_monitor():
    body = parse_body(MonitorCreateBody)
    return jsonify(_json(services().monitors.create(current_user, body.model_dump(exclude_unset=True)))), 201


@bp.get("/<int:monitor_id>")
def get_monitor(monitor_id: int):
    return jsonify(_json(services().monitors.get(current_user, monitor_id)))


@bp.put("/<int:monitor_id>")
def update_monitor(monitor_id: int):
    monitor = services().monitors.owned(current_user, monitor_id)  # 404 before a 400 about the body
    body = parse_body(MonitorUpdateBody)
    return jsonify(_json(services().monitors.update(current_user, monitor, body.model_dump(exclude_unset=True))))


@bp.delete("/<int:monitor_id>")
def delete_monitor(monitor_id: int):
    services().monitors.delete(current_user, monitor_id)
    return "", 204


@bp.patch("/<int:monitor_id>/toggle")
def toggle_monitor(monitor_id: int):
    """`{"is_active": bool}` sets it; `{}` or no body flips it (what a "toggle" button sends)."""
    monitor = services().monitors.owned(current_user, monitor_id)
    body = parse_body(ToggleBody) if request.get_data(cache=True) else ToggleBody()
    active = (not monitor.is_active) if body.is_active is None else body.is_active
    return jsonify(_json(services().monitors.set_active(current_user, monitor, active)))


@bp.patch("/<int:monitor_id>/public")
def publish_monitor(monitor_id: int):
    monitor = services().monitors.owned(current_user, monitor_id)
    body = parse_body(PublicBody)
    return jsonify(_json(services().monitors.set_public(current_user, monitor, body.public_status)))


@bp.get("/<int:monitor_id>/history")
def history(monitor_id: int):
    monitor = services().monitors.owned(current_user, monitor_id)  # 404 before a 400 about the query
    hours = int_arg("hours", 24, 1, 2160)
    found = services().monitors.history(current_user, monitor, hours)
    summary = found.summary
    return jsonify({
        "monitor": _json(found.view),
        "history": found.rows,
        "stats": {"avg": _ms(summary.avg), "min": _ms(summary.min), "max": _ms(summary.max),
                  "uptime": uptime_text(found.uptime)},
    })


@bp.get("/<int:monitor_id>/stats")
def stats(monitor_id: int):
    monitor = services().monitors.owned(current_user, monitor_id)
    days = int_arg("days", 30, 1, 365)
    monitor, report = services().monitors.stats(current_user, monitor, days)
    summary = report.summary
    return jsonify({
        "monitor_id": monitor.id,
        "days": days,
        "uptime": uptime_text(report.uptime),
        "avg": _ms(summary.avg), "min": _ms(summary.min), "max": _ms(summary.max),
        "p50": _ms(summary.p50), "p95": _ms(summary.p95), "p99": _ms(summary.p99),
        "checks": summary.checks,
        "failures": summary.failures,
        "incidents": report.incidents,
        "mttr_seconds": None if report.mttr_seconds is None else round(report.mttr_seconds),
        "daily": [{"date": d.day.isoformat(), "uptime": percent(d.uptime), "avg": _ms(d.avg), "checks": d.checks}
                  for d in report.daily],
    })


def _ms(value: float | None) -> int | None:
    return None if value is None else round(value)
