"""Monitor configuration rules that depend on the type (pure; the API's schemas check types
and ranges first). Raises InvalidMonitor with one message per field, in words a user can act on.

URLs (http/https targets and webhook receivers): the scheme of the type (webhooks: http or https),
a valid host name or IP address (private and loopback ones included: an appliance watches and
notifies internal systems), a port 1-65535 if given, any path, query and fragment; never spaces,
control characters (DEL included) or credentials (`user:password@`: they would not be sent, and
a URL shows in alerts and exports). At most 2048 characters.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

from appliance.models import MONITOR_TYPES

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
MAX_TARGET = 2048
SSL_TYPES = {"https"}
PORT_TYPES = {"tcp", "sip"}
HTTP_TYPES = {"http", "https"}


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

    target = out.get("target")
    if kind == "heartbeat":
        if target not in (None, ""):
            errors["target"] = "heartbeat monitors have no target: the job calls their heartbeat_url"
        out["target"] = None
    elif target is None or not str(target).strip():
        errors["target"] = f"is required for {kind} monitors"
    else:
        try:
            out["target"], port_in_target = _check_target(kind, target.strip())
        except ValueError as exc:
            errors["target"] = str(exc)
            port_in_target = None
        if kind == "sip" and port_in_target is not None:
            if out.get("port") not in (None, port_in_target):
                errors["port"] = "differs from the port in the sip: target"
            out["port"] = port_in_target

    if kind == "tcp" and out.get("port") is None:
        errors["port"] = "is required for tcp monitors (1-65535)"
    if kind not in PORT_TYPES and out.get("port") is not None:
        errors["port"] = "applies only to tcp and sip monitors"

    if out.get("ssl_check") is None:
        out["ssl_check"] = kind in SSL_TYPES
    elif out["ssl_check"] and kind not in SSL_TYPES:
        errors["ssl_check"] = "applies only to https monitors"

    for name in ("keyword", "expected_status"):
        if out.get(name) is not None and kind not in HTTP_TYPES:
            errors[name] = "applies only to http and https monitors"
    if out.get("keyword") == "":
        out["keyword"] = None

    if out.get("recovery_checks") is None:
        out["recovery_checks"] = 1

    if kind == "heartbeat":
        if out.get("grace") is None:
            out["grace"] = 60
    elif out.get("grace") is not None:
        errors["grace"] = "applies only to heartbeat monitors"

    if kind != "heartbeat" and out.get("timeout", 0) > out.get("interval", 0):
        errors["timeout"] = "must not be longer than the interval"

    locations = out.get("check_locations")
    if locations is None:
        out["check_locations"] = ["all"]
    else:
        problem = _check_locations(locations, known_locations)
        if problem:
            errors["check_locations"] = problem

    if errors:
        raise InvalidMonitor(errors)
    return out


def _check_target(kind: str, target: str) -> tuple[str, int | None]:
    if len(target) > MAX_TARGET:
        raise ValueError(f"is longer than {MAX_TARGET} characters")
    if any(ch.isspace() for ch in target) or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        raise ValueError("must not contain spaces or control characters")
    if kind in HTTP_TYPES:
        return _check_url(kind, target), None
    if kind == "sip":
        return _check_sip(target)
    if kind == "domain":
        return _check_domain(target), None
    return _check_host(target), None


def _check_url(kind: str, target: str) -> str:
    try:
        parts = urlsplit(target)
        port = parts.port
    except ValueError:
        raise ValueError(f"is not a valid {kind}:// URL") from None
    if parts.scheme.lower() != kind:
        raise ValueError(f"must be a URL starting with {kind}:// (got {target[:60]!r})")
    if not parts.hostname:
        raise ValueError(f"has no host name (write it like {kind}://example.com/health)")
    if "@" in parts.netloc:
        # Neither the checks nor the webhooks send them, and URLs are shown in alerts and exports.
        raise ValueError("must not contain a user name or password (user:password@); they would not be sent")
    _check_host(parts.hostname)
    if port == 0:
        raise ValueError("has port 0")
    return target


def _check_host(host: str) -> str:
    """A host name or an IP address, no scheme, no port."""
    if "://" in host:
        raise ValueError("must be a host name or IP address without a scheme (no http://)")
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    name = _ascii_name(host)
    labels = name.rstrip(".").split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("is not a valid host name or IP address")
    return name


def _check_domain(target: str) -> str:
    if "://" in target or "/" in target:
        raise ValueError("must be a domain name like example.com, without a scheme or path")
    name = _ascii_name(target).rstrip(".")
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise ValueError("is not a registrable domain name (like example.com)")
    return name


def _check_sip(target: str) -> tuple[str, int | None]:
    """`host`, `sip:host[:port]`, optionally with `;transport=udp|tcp`. UDP (the default) normalises
    to the bare host as before; TCP keeps the parameter: `sip:host;transport=tcp` (port returned)."""
    rest = target[4:] if target.lower().startswith("sip:") else target
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    rest, transport = _sip_transport(rest)
    host, port = _sip_hostport(rest)
    if transport == "tcp":
        return f"sip:{f'[{host}]' if ':' in host else host};transport=tcp", port
    return host, port


def _sip_transport(rest: str) -> tuple[str, str]:
    if ";" not in rest:
        return rest, "udp"
    rest, *params = rest.split(";")
    transport = None
    for param in params:
        name, _, value = param.partition("=")
        if name.lower() != "transport":
            raise ValueError("takes only the ;transport=udp or ;transport=tcp parameter")
        if transport is not None:
            raise ValueError("has the ;transport parameter twice")
        transport = value.lower()
        if transport not in ("udp", "tcp"):
            raise ValueError("has an unsupported transport (use ;transport=udp or ;transport=tcp)")
    return rest, transport


def _sip_hostport(rest: str) -> tuple[str, int | None]:
    port = None
    if rest.startswith("["):  # [ipv6]:port
        host, _, tail = rest[1:].partition("]")
        if tail.startswith(":"):
            port = _port(tail[1:])
        elif tail:
            raise ValueError("is not a valid sip target (write host, sip:host or sip:host:port)")
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
        port = _port(port_text)
    else:
        host = rest
    return _check_host(host), port


def _port(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or len(text) > 5 or not 1 <= int(text) <= 65535:
        raise ValueError("has a port that is not a number between 1 and 65535")
    return int(text)


def _ascii_name(name: str) -> str:
    name = name.lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("is not a valid host name") from None


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


def check_webhook_url(url: str) -> str:
    """A webhook receiver: an http(s) URL with a valid host (private addresses allowed: the
    appliance often notifies internal systems)."""
    if any(ch.isspace() for ch in url):
        raise ValueError("must not contain spaces")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in url):  # never sendable (http.client refuses them)
        raise ValueError("must not contain control characters")
    kind = urlsplit(url).scheme.lower()
    if kind not in HTTP_TYPES:
        raise ValueError("must be an http:// or https:// URL")
    return _check_url(kind, url)
