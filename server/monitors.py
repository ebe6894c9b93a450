"""Monitors: CRUD, toggle, public flag, history and stats, each scoped to the logged-in user."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, current_app, jsonify, request

from appliance.models import Monitor
from appliance.monitor_types.fields import CONFIG_FIELDS, CREATE_DEFAULTS, NOT_NULL
from appliance.reports import monitor_report, window_uptime
from appliance.timeutil import as_utc, utcnow
from appliance.validation import InvalidMonitor, normalize_monitor
from server.auth import appliance, current_user, require_login
from server.errors import ApiError, not_found
from server.schemas import (MonitorCreateBody, MonitorUpdateBody, PublicBody, ToggleBody,
                            parse_body)
from server.serialize import monitor_config_json, monitor_json, percent, uptime_text

bp = Blueprint("monitors", __name__, url_prefix="/api/monitors")
bp.before_request(require_login)



def _json(monitor: Monitor) -> dict:
    return _many([monitor])[0]


def _many(monitors: list[Monitor]) -> list[dict]:
    """Monitor objects for the answer; the unchanging part of each is cached until the entity
    store changes (the list is read far more often than monitors are edited)."""
    app = appliance()
    generation = app.entities.generation
    cached = current_app.extensions.get("statuscore.monitor_config")
    if cached is None or cached[0] != generation:
        cached = current_app.extensions["statuscore.monitor_config"] = (generation, {})
    configs = cached[1]
    known = app.locations.known()
    now = utcnow()
    out = []
    for monitor in monitors:
        config = configs.get(monitor.id)
        if config is None:
            config = configs[monitor.id] = monitor_config_json(monitor)
        active = config["is_active"]
        out.append(monitor_json(monitor, app.live_state(monitor, known), app.uptime.percent(monitor.id, now),
                                active and app.calendar.covers(monitor.id, now), config))
    return out


def _reject_nulls(given: dict) -> None:
    """null is a wrong type for these fields (API.md: never coerced), on create as on update."""
    for name in NOT_NULL:
        if name in given and given[name] is None:
            raise ApiError(400, f"Invalid {name}: must not be null.", {name: "must not be null"})


def _owned(monitor_id: int) -> Monitor:
    monitor = appliance().entities.get_monitor(monitor_id, current_user.id)
    if monitor is None:
        raise not_found()
    return monitor


def _normalized(fields: dict) -> dict:
    try:
        return normalize_monitor(fields, appliance().known_locations())
    except InvalidMonitor as exc:
        raise ApiError(400, f"Invalid monitor: {exc}.", exc.details) from None


def _int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):  # isdigit() alone takes "²", which int() refuses
        raise ApiError(400, f"Query parameter {name} must be a whole number.", {name: "not a number"})
    value = int(text) if len(digits) <= 18 else None  # longer: out of range (and int() caps digits)
    if value is None or not low <= value <= high:
        raise ApiError(400, f"Query parameter {name} must be between {low} and {high}.",
                       {name: f"must be {low}-{high}"})
    return value


@bp.get("")
def list_monitors():
    return jsonify(_many(appliance().entities.list_monitors(current_user.id)))


@bp.post("")
def create_monitor():
    body = parse_body(MonitorCreateBody)
    given = body.model_dump(exclude_unset=True)
    _reject_nulls(given)
    fields = {**CREATE_DEFAULTS, **{k: v for k, v in given.items() if v is not None}}
    fields = _normalized({name: fields.get(name) for name in CONFIG_FIELDS})
    monitor = appliance().create_monitor(current_user, fields)
    return jsonify(_json(monitor)), 201


@bp.get("/<int:monitor_id>")
def get_monitor(monitor_id: int):
    return jsonify(_json(_owned(monitor_id)))


@bp.put("/<int:monitor_id>")
def update_monitor(monitor_id: int):
    monitor = _owned(monitor_id)
    body = parse_body(MonitorUpdateBody)
    changes = body.model_dump(exclude_unset=True)
    if changes.get("type") not in (None, monitor.type):
        raise ApiError(400, "A monitor's type cannot be changed; create a new monitor instead.",
                       {"type": "cannot be changed"})
    _reject_nulls(changes)
    changes.pop("type", None)
    if "ssl_check" in changes and changes["ssl_check"] is None:
        changes.pop("ssl_check")
    current = {name: getattr(monitor, name) for name in CONFIG_FIELDS}
    merged = _normalized({**current, **changes})
    updates = {name: merged[name] for name in CONFIG_FIELDS if merged[name] != current[name]}
    return _save(monitor, updates)


@bp.delete("/<int:monitor_id>")
def delete_monitor(monitor_id: int):
    _owned(monitor_id)
    appliance().delete_monitor(current_user, monitor_id)
    return "", 204


@bp.patch("/<int:monitor_id>/toggle")
def toggle_monitor(monitor_id: int):
    monitor = _owned(monitor_id)
    body = parse_body(ToggleBody)
    return _save(monitor, {"is_active": body.is_active})


@bp.patch("/<int:monitor_id>/public")
def publish_monitor(monitor_id: int):
    monitor = _owned(monitor_id)
    body = parse_body(PublicBody)
    return _save(monitor, {"public_status": body.public_status})


def _save(monitor: Monitor, updates: dict):
    app = appliance()
    if updates:
        monitor = app.update_monitor(current_user, monitor.id, updates)
        if monitor is None:
            raise not_found()
    return jsonify(_json(monitor))


@bp.get("/<int:monitor_id>/history")
def history(monitor_id: int):
    monitor = _owned(monitor_id)
    hours = _int_arg("hours", 24, 1, 2160)
    app = appliance()
    since = utcnow() - timedelta(hours=hours)
    now = since + timedelta(hours=hours)
    rows, summary = app.history.history_with_summary(monitor.id, since)
    uptime = window_uptime(app.history, app.entities, monitor.id, since, now, summary, as_utc(monitor.created_at))
    return jsonify({
        "monitor": _json(monitor),
        "history": rows,
        "stats": {"avg": _ms(summary.avg), "min": _ms(summary.min), "max": _ms(summary.max),
                  "uptime": uptime_text(uptime)},
    })


@bp.get("/<int:monitor_id>/stats")
def stats(monitor_id: int):
    monitor = _owned(monitor_id)
    days = _int_arg("days", 30, 1, 365)
    app = appliance()
    report = monitor_report(app.history, app.entities, monitor.id, days, utcnow(), as_utc(monitor.created_at))
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
