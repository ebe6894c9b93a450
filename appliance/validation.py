"""Monitor configuration rules that depend on the type (pure; the API's schemas check types
and ranges first), derived from the monitor types' declarations (appliance/monitor_types).
Raises InvalidMonitor with one message per field, in words a user can act on.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from appliance import targets
from appliance.monitor_types import MONITOR_TYPES, TYPES, types_taking
from appliance.monitor_types.fields import BY_NAME as FIELDS


# Text people typed (names, keywords, URLs...) is shown back in the console, the status page,
# alerts and logs, so it must not carry characters that are invisible there or rearrange what is
# shown: C0 and C1 control characters (NUL, ESC, DEL...), the bidirectional embeddings, overrides
# and isolates (U+202A-U+202E, U+2066-U+2069: "Trojan Source" reordering) and, outside multi-line
# fields, the line and paragraph separators U+2028/U+2029. The bidi marks LRM, RLM and ALM
# (U+200E, U+200F, U+061C) stay allowed: they reorder nothing by themselves and right-to-left
# names need them. Multi-line fields (a monitor's keyword) also take tab, LF and CR.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
LINE_SEPARATORS = frozenset("\u2028\u2029")
MULTILINE_WHITESPACE = frozenset("\t\n\r")
# The same rule for the OpenAPI document (a JSON Schema pattern of what single-line fields accept).
PLAIN_TEXT_PATTERN = r"^[^\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]*$"


def text_problem(value: str, multiline: bool = False) -> str | None:
    """What is wrong with a user-given text, in words (naming the first bad character), or None."""
    for ch in value:
        if multiline and ch in MULTILINE_WHITESPACE:
            continue
        code = ord(ch)
        if code < 0x20 or 0x7f <= code <= 0x9f:
            return f"must not contain control characters (found U+{code:04X})"
        if ch in BIDI_CONTROLS:
            return f"must not contain bidirectional override or isolate characters (found U+{code:04X})"
        if ch in LINE_SEPARATORS and not multiline:
            return f"must be a single line (found U+{code:04X})"
    return None


class InvalidMonitor(ValueError):
    def __init__(self, details: dict[str, str]):
        self.details = details
        field, problem = next(iter(details.items()))
        super().__init__(f"{field}: {problem}")


def normalize_monitor(fields: dict, known_locations: set[str]) -> dict:
    """Check a complete monitor configuration and return it with type defaults filled in.

    `fields` holds every create field (missing ones as None or their schema defaults)."""
    errors: dict[str, str] = {}
    out = dict(fields)
    kind = out.get("type")
    if kind not in MONITOR_TYPES:
        raise InvalidMonitor({"type": f"must be one of {', '.join(MONITOR_TYPES)}"})

    monitor_type = TYPES[kind]
    target = out.get("target")
    port_in_target = None
    if monitor_type.parse_target is None:
        if target not in (None, ""):
            errors["target"] = f"{kind} monitors have no target: the job calls their heartbeat_url"
        out["target"] = None
    elif target is None or not str(target).strip():
        errors["target"] = f"is required for {kind} monitors"
    else:
        try:
            out["target"], port_in_target = monitor_type.parse_target(target.strip())
        except ValueError as exc:
            errors["target"] = str(exc)

    for name in per_type_fields(out):
        if name in monitor_type.options:
            continue
        errors[name] = f"applies only to {_spoken(types_taking(name))} monitors"
    if port_in_target is not None and "port" not in errors:
        if out.get("port") not in (None, port_in_target):
            errors["port"] = f"differs from the port in the {kind}: target"
        out["port"] = port_in_target
    for name in monitor_type.required:
        if out.get(name) is None and name not in errors:
            field = FIELDS[name]
            errors[name] = f"is required for {kind} monitors ({field.minimum}-{field.maximum})"
    for name in monitor_type.options:
        if out.get(name) is None and name in monitor_type.defaults:
            out[name] = monitor_type.defaults[name]
    if out.get("ssl_check") is None:
        out["ssl_check"] = False  # stored for every monitor: only types that take it check it
    if out.get("keyword") == "":
        out["keyword"] = None
    if out.get("recovery_checks") is None:
        out["recovery_checks"] = 1

    if monitor_type.polled and out.get("timeout", 0) > out.get("interval", 0):
        errors["timeout"] = "must not be longer than the interval"

    locations = out.get("check_locations")
    if locations is None:
        out["check_locations"] = ["all"]
    else:
        problem = _check_locations(locations, known_locations)
        if problem:
            errors["check_locations"] = problem

    if errors:
        raise InvalidMonitor(dict(sorted(errors.items(), key=lambda item: _report_rank(item[0]))))
    return out


# The order problems are reported in (the first one makes the error's sentence); fields not
# named here come after, in their order.
_REPORT_ORDER = ("target", "port", "ssl_check", "keyword", "expected_status", "grace", "timeout", "check_locations")


def _report_rank(name: str) -> int:
    return _REPORT_ORDER.index(name) if name in _REPORT_ORDER else len(_REPORT_ORDER)


def _check_locations(locations: list, known: set[str]) -> str | None:
    if not locations:
        return 'must name at least one location, or be ["all"]'
    if "all" in locations and len(locations) > 1:
        return '"all" cannot be combined with other locations'
    unknown = [name for name in locations if name != "all" and name not in known]
    if unknown:
        return f"unknown location(s): {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}"
    if len(set(locations)) != len(locations):
        return "lists a location twice"
    return None


def per_type_fields(fields: dict) -> list[str]:
    """The per-type fields that are set (a false ssl_check counts as not set)."""
    return [name for name, field in FIELDS.items()
            if field.per_type and fields.get(name) not in (None, False)]


def _spoken(names: tuple[str, ...]) -> str:
    """("tcp", "sip") -> "tcp and sip"."""
    return names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"


def check_webhook_url(url: str) -> str:
    """A webhook receiver: an http(s) URL with a valid host (private addresses allowed: the
    appliance often notifies internal systems)."""
    if any(ch.isspace() for ch in url):
        raise ValueError("must not contain spaces")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):  # never sendable (http.client refuses them)
        raise ValueError("must not contain control characters")
    kind = urlsplit(url).scheme.lower()
    if kind not in ("http", "https"):
        raise ValueError("must be an http:// or https:// URL")
    return targets.url(kind, url)
