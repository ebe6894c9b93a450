"""Monitor targets, parsed and checked in one place: URLs, host names and IP addresses,
registrable domains and SIP targets. Each function returns the normalised form or raises
ValueError with the problem in words a user can act on (the caller names the field).

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

_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")
MAX_TARGET = 2048


def plain(target: str) -> str:
    """What every target must be: not too long, no spaces or control characters."""
    if len(target) > MAX_TARGET:
        raise ValueError(f"is longer than {MAX_TARGET} characters")
    if any(ch.isspace() for ch in target) or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        raise ValueError("must not contain spaces or control characters")
    return target


def url(kind: str, target: str) -> str:
    """An absolute URL whose scheme is `kind` (http or https)."""
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
    host(parts.hostname)
    if port == 0:
        raise ValueError("has port 0")
    return target


def host(text: str) -> str:
    """A host name or an IP address, no scheme, no port."""
    if "://" in text:
        raise ValueError("must be a host name or IP address without a scheme (no http://)")
    bare = text[1:-1] if text.startswith("[") and text.endswith("]") else text
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    name = _ascii_name(text)
    labels = name.rstrip(".").split(".")
    if not name or len(name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError("is not a valid host name or IP address")
    return name


def domain(target: str) -> str:
    """A registrable domain name (example.com), IDN allowed (stored as ASCII)."""
    if "://" in target or "/" in target:
        raise ValueError("must be a domain name like example.com, without a scheme or path")
    name = _ascii_name(target).rstrip(".")
    labels = name.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels) or not _TLD.match(labels[-1]):
        raise ValueError("is not a registrable domain name (like example.com)")
    return name


def sip(target: str) -> tuple[str, int | None]:
    """`host`, `sip:host[:port]`, optionally with `;transport=udp|tcp`. UDP (the default) normalises
    to the bare host as before; TCP keeps the parameter: `sip:host;transport=tcp` (port returned)."""
    rest = target[4:] if target.lower().startswith("sip:") else target
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    rest, transport = _sip_transport(rest)
    name, port = _sip_hostport(rest)
    if transport == "tcp":
        return f"sip:{f'[{name}]' if ':' in name else name};transport=tcp", port
    return name, port


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
        name, bracket, tail = rest[1:].partition("]")
        if tail.startswith(":"):
            port = _port(tail[1:])
        elif tail or not bracket:
            raise ValueError("is not a valid sip target (write host, sip:host or sip:host:port)")
    elif rest.count(":") == 1:
        name, port_text = rest.split(":")
        port = _port(port_text)
    else:
        name = rest
    return host(name), port


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


