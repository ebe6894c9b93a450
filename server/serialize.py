"""How entities look on the wire (API.md's monitor object)."""

from __future__ import annotations

from typing import NamedTuple

from appliance.availability import display_percent, percent_text
from appliance.engine.live import LiveState
from appliance.models import Monitor
from appliance.monitor_types import TYPES
from appliance.monitor_types.fields import PROBE_FIELDS
from appliance.timeutil import iso


percent = percent_text  # two decimals, as `uptime_percentage` ("99.95"); None without data


def uptime_text(value: float | None) -> str | None:
    """Up to three decimals without trailing zeros, as the history stats' `uptime` ("99.9")."""
    shown = display_percent(value, 3)
    return None if shown is None else f"{shown:.3f}".rstrip("0").rstrip(".")


class MonitorConfig(NamedTuple):
    """The parts of a monitor object that only change when the monitor is edited, split where the
    live part goes in between (callers may cache it while the stored monitor is unchanged)."""
    head: dict   # id … public_status, in the answer's order
    rest: dict   # created_at, then what the type shows (heartbeat_url, grace, keyword, …)
    type: str
    is_active: bool


def monitor_config_json(monitor: Monitor) -> MonitorConfig:
    head = {
        "id": monitor.id,
        "name": monitor.name,
        "type": monitor.type,
        "target": monitor.target,
        "port": monitor.port,
        "ssl_check": monitor.ssl_check,
        "check_locations": list(monitor.check_locations),
        "interval": monitor.interval,
        "timeout": monitor.timeout,
        "retries": monitor.retries,
        "recovery_checks": monitor.recovery_checks or 1,
        "reminder_minutes": monitor.reminder_minutes,
        "is_active": monitor.is_active,
        "public_status": monitor.public_status,
        "group": monitor.group,
    }
    rest = {"created_at": iso(monitor.created_at)}
    for key in TYPES[monitor.type].shown:
        # heartbeat_full_url depends on the request too: monitor_json fills in this place.
        rest[key] = (f"/api/heartbeat/{monitor.heartbeat_token}" if key in ("heartbeat_url", "heartbeat_full_url")
                     else getattr(monitor, key))
    return MonitorConfig(head, rest, monitor.type, monitor.is_active)


# The order of the keys in the answer: the API.md example's order (config head, live part,
# created_at), extensions after: what only some types show (each type's keys in its declared
# order), then last_error. monitor_json builds the object in this order directly (the list of
# 1,000 monitors goes through it per request); tests/server/test_response_bodies.py pins it.
_ORDER = ("id", "name", "type", "target", "port", "ssl_check", "check_locations", "interval", "timeout",
          "retries", "recovery_checks", "reminder_minutes", "is_active", "public_status", "group", "status",
          "response_time", "last_check", "uptime_percentage", "location_status", "in_maintenance", "created_at",
          *dict.fromkeys(key for t in TYPES.values() for key in (*t.shown, *t.details)), "last_error")


def monitor_json(monitor: Monitor, live: LiveState, uptime: float | None, in_maintenance: bool = False,
                 config: MonitorConfig | None = None, base_url: str = "") -> dict:
    """`uptime` is the 24 h percentage (None before any result); `config` is
    monitor_config_json(monitor) when the caller has it at hand; `base_url` is where users reach
    the appliance (for the absolute heartbeat_full_url next to the contract's relative heartbeat_url)."""
    config = config if config is not None else monitor_config_json(monitor)
    active = config.is_active
    out = config.head.copy()
    out["status"] = "paused" if not active else live.status
    out["response_time"] = None if live.response_time is None or not active else round(live.response_time)
    out["last_check"] = iso(live.last_check)
    out["uptime_percentage"] = percent(uptime)
    out["location_status"] = {} if not active else live.location_status
    out["in_maintenance"] = in_maintenance
    out.update(config.rest)
    if "heartbeat_full_url" in out:
        out["heartbeat_full_url"] = base_url.rstrip("/") + out["heartbeat_url"]
    for key, needs, shape in _DETAIL_RULES[config.type]:
        if needs is None or config.head.get(needs, config.rest.get(needs)):
            out[key] = shape(live.details.get(key))
    if live.last_error and active:
        out["last_error"] = live.last_error
    return out


def _ssl_json(info: dict | None) -> dict | None:
    if not info:
        return None
    shown = {"valid": info.get("valid"), "expires_at": iso(info.get("expires_at")),
             "days_left": info.get("days_left"), "issuer": info.get("issuer")}
    if info.get("error"):  # why it is not valid ("self-signed certificate"), for people and the console
        shown["error"] = info["error"]
    return shown


def _domain_json(info: dict | None) -> dict | None:
    if not info:
        return None
    return {"expires_at": iso(info.get("expires_at")), "days_left": info.get("days_left"),
            "registrar": info.get("registrar")}


_DETAILS = {"ssl": _ssl_json, "domain": _domain_json}
# Per type: (key, the field that must be on or None, how it is shaped), worked out once (the list
# of 1,000 monitors goes through monitor_json per request).
_DETAIL_RULES = {name: tuple((key, needs, _DETAILS[key]) for key, needs in t.details.items())
                 for name, t in TYPES.items()}


def spec_json(spec) -> dict:
    """A monitor's check configuration, as a probe needs it (no owner, no state)."""
    return {"id": spec.id, "name": spec.name, "type": spec.type,
            **{name: getattr(spec, name) for name in PROBE_FIELDS}}


def monitor_type_json(kind) -> dict:
    """A monitor type as forms need it: what it takes and what its target looks like."""
    return {"name": kind.name, "summary": kind.summary, "has_target": kind.parse_target is not None,
            "target_hint": kind.target_hint, "options": list(kind.options), "required": list(kind.required),
            "defaults": dict(kind.defaults), "pushed": kind.pushed}
