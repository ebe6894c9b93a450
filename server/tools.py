"""Network tools: MTR to a monitor's target (pro users) and WHOIS for a domain or an IP address.

The tools' rules are the Tools service's (appliance/services/tools.py): premium, ownership,
bounded runs (503 beyond), WHOIS answers (404 none, 502 failed, 504 timed out). MTR is limited
per user more tightly than the rest of the API (`mtr_rate_limit`). The WHOIS route takes any
text, so a target with slashes is a clean 400.
"""

from __future__ import annotations

import re

from flask import Blueprint, jsonify, request
from werkzeug.routing import PathConverter

from appliance.timeutil import iso
from appliance.tools.mtr import DEFAULT_MAX_HOPS, DEFAULT_ROUNDS, DEFAULT_TIMEOUT
from server.auth import current_user, require_login, services
from server.errors import ApiError
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

MAX_ROUNDS = 10
MAX_HOPS = 30
MIN_TIMEOUT, MAX_TIMEOUT = 0.1, 5.0
_DECIMAL = re.compile(r"^\d{1,3}(?:\.\d{1,3})?$")


@bp.get("/<int:monitor_id>/mtr")
def mtr(monitor_id: int):
    tools = services().tools
    host = tools.mtr_host(current_user, monitor_id)
    rounds = _whole("rounds", DEFAULT_ROUNDS, 1, MAX_ROUNDS)
    max_hops = _whole("max_hops", DEFAULT_MAX_HOPS, 1, MAX_HOPS)
    timeout = _seconds("timeout", DEFAULT_TIMEOUT, MIN_TIMEOUT, MAX_TIMEOUT)
    return jsonify(tools.mtr(host, rounds, max_hops, timeout).to_dict())


@bp.get("/tools/whois/<anytext:target>", merge_slashes=False)
def whois(target: str):
    body = services().tools.whois(target).to_dict()
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
