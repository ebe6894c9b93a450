"""Network tools: MTR to a monitor's target (pro users) and WHOIS for a domain or an IP address.

- MTR runs on the appliance's `Mtr` (appliance/tools/mtr.py), which bounds how many runs go at
  once (503 beyond) and needs raw ICMP sockets (503 with what to do when they are refused).
  It is limited per user more tightly than the rest of the API (`mtr_rate_limit`).
- WHOIS goes through the appliance's one WhoisClient, the domain checker's too, so both share
  its cache (hours). The target is checked before any traffic; nothing user-given reaches a
  shell or a file path. The route takes any text, so a target with slashes is a clean 400.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from werkzeug.routing import PathConverter

from appliance.timeutil import iso
from appliance.tools.mtr import (DEFAULT_MAX_HOPS, DEFAULT_ROUNDS, DEFAULT_TIMEOUT, MtrBusy, MtrError,
                                 MtrPermissionError, MtrResolveError, target_host)
from appliance.tools.whois import WhoisError, WhoisNotFound, WhoisTimeout
from server.auth import appliance, current_user, require_login
from server.errors import ApiError, not_found
from server.limits import limit_endpoint, user_or_ip

bp = Blueprint("tools", __name__, url_prefix="/api/monitors")
bp.before_request(require_login)


class AnyText(PathConverter):
    """The rest of the path, whatever it is (leading slash too), so a WHOIS target with slashes
    reaches the view and gets its 400 from the target check instead of a 404 or a redirect."""

    part_isolating = False  # werkzeug would infer True from a regex without "/"
    regex = r"[\s\S]+"  # "." would stop at a newline, and "a%0Ab" would be a 404


# Before the routes: the rule below needs the converter when the blueprint adds it.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("anytext", AnyText))

PREMIUM_MESSAGE = "MTR is a premium feature"
MAX_ROUNDS = 10
MAX_HOPS = 30
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 5.0
_DECIMAL = re.compile(r"^\d{1,3}(?:\.\d{1,3})?$")


@bp.get("/<int:monitor_id>/mtr")
def mtr(monitor_id: int):
    if current_user.subscription_tier == "free":
        raise ApiError(403, PREMIUM_MESSAGE)
    monitor = appliance().entities.get_monitor(monitor_id, current_user.id)
    if monitor is None:
        raise not_found()
    rounds = _whole("rounds", DEFAULT_ROUNDS, 1, MAX_ROUNDS)
    max_hops = _whole("max_hops", DEFAULT_MAX_HOPS, 1, MAX_HOPS)
    timeout = _seconds("timeout", DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT)
    try:
        host = target_host(monitor.type, monitor.target)
    except ValueError as exc:
        raise ApiError(400, f"Cannot run MTR for this monitor: {exc}.", {"target": str(exc)}) from None
    try:
        report = appliance().mtr.run(host, rounds=rounds, max_hops=max_hops, timeout=timeout)
    except (MtrBusy, MtrPermissionError) as exc:
        raise ApiError(503, f"{_sentence(exc)}.") from None
    except MtrResolveError as exc:
        raise ApiError(502, f"MTR failed: {exc}.") from None
    except MtrError as exc:
        raise ApiError(502, f"MTR to {host} failed: {exc}.") from None
    return jsonify(report.to_dict())


@bp.get("/tools/whois/<anytext:target>", merge_slashes=False)
def whois(target: str):
    try:
        result = appliance().whois.lookup(target)
    except ValueError as exc:
        raise ApiError(400, f"Invalid WHOIS target: {exc}.", {"target": str(exc)}) from None
    except WhoisNotFound as exc:
        raise ApiError(404, f"{_sentence(exc)}.") from None
    except WhoisTimeout as exc:
        raise ApiError(504, f"WHOIS lookup timed out: {exc}.") from None
    except WhoisError as exc:
        raise ApiError(502, f"WHOIS lookup failed: {exc}.") from None
    body = result.to_dict()
    for name in ("creation_date", "expiration_date"):
        body[name] = iso(body[name])
    return jsonify(body)


def register_tool_limits(app, limiter, settings) -> None:
    """MTR sends hundreds of probes a run: a per-user limit tighter than the API's."""
    limit_endpoint(app, limiter, "tools.mtr", settings.mtr_rate_limit, user_or_ip)


def _whole(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 6 or not low <= int(text) <= high:
        raise ApiError(400, f"Query parameter {name} must be a whole number between {low} and {high}.",
                       {name: f"must be {low}-{high}"})
    return int(text)


def _seconds(name: str, default: float, low: float, high: float) -> float:
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    if not _DECIMAL.match(text) or not low <= float(text) <= high:
        raise ApiError(400, f"Query parameter {name} must be a number of seconds between {low:g} and {high:g}.",
                       {name: f"must be {low:g}-{high:g} seconds"})
    return float(text)


def _sentence(exc: Exception) -> str:
    text = str(exc).rstrip(".")
    return text[:1].upper() + text[1:]
