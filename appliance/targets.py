"""Targets, parsed and checked in one place: IP addresses and host names, `host[:port]`, URLs,
registrable domains and SIP targets. Pure functions, no I/O.

Two kinds of function:
- checks of what a person typed (a monitor's target, a webhook URL, a host:port setting): they
  return the normalised form or raise ValueError with the problem in words a user can act on
  (the caller names the field or setting);
- building blocks and readers (ip, is_host_name, split_port, url_parts, read_sip...) for the
  checkers and tools, which word their own messages or read a stored target back leniently.

URLs (http/https targets and webhook receivers): the scheme of the type (webhooks: http or https),
a valid host name or IP address (private and loopback ones included: an appliance watches and
notifies internal systems), a port 1-65535 if given, any path, query and fragment; never spaces,
control characters (DEL included) or credentials (`user:password@`: they would not be sent, and
a URL shows in alerts and exports). At most 2048 characters.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import NamedTuple
from urllib.parse import urlsplit

# \Z, not $: $ also matches before a final newline.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_TLD = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})\Z")
MAX_TARGET = 2048
MAX_NAME = 253  # a DNS name's length without the root dot
MAX_HOST_PORT = 300
SIP_TRANSPORTS = ("udp", "tcp")


# ---- building blocks ---------------------------------------------------------------------------

def ip(text: str, scoped: bool = False) -> str | None:
    """The normalised address if `text` is an IP address, else None. A scope id (fe80::1%eth0)
    only when `scoped`: values that go to a socket as they are never carry one."""
    if "%" in text and not scoped:
        return None
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return None


def is_host_name(name: str) -> bool:
    """Dot-separated labels of lowercase ASCII letters, digits and inner hyphens (no empty one).
    The length of the whole and a trailing dot are the caller's to judge."""
    return all(_LABEL.match(label) for label in name.split("."))


def is_domain_name(name: str) -> bool:
    """A host name of two labels or more whose last is a TLD (letters, or an xn-- IDN)."""
    labels = name.split(".")
    return len(labels) >= 2 and is_host_name(name) and bool(_TLD.match(labels[-1]))


def port_number(text: str) -> int | None:
    """A port written in ASCII digits (leading zeros allowed) within 1-65535, else None."""
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 5:  # no int() of a huge text
        return None
    number = int(text)
    return number if 1 <= number <= 65535 else None


def split_port(text: str) -> tuple[str, str | None]:
    """`host:port`, `[v6]:port`, `[v6]`, `host` or a bare IPv6 address -> (host without brackets,
    port text or None). Checks neither part. ValueError when a `[` is not closed or its `]` is
    followed by anything but `:port`."""
    if text.startswith("["):
        host, bracket, tail = text[1:].partition("]")
        if not bracket or (tail and not tail.startswith(":")):
            raise ValueError("is not [address] or [address]:port")
        return host, (tail[1:] if tail else None)
    if text.count(":") == 1:
        host, port = text.split(":")
        return host, port
    return text, None  # a name, an IPv4 address or a bare IPv6 address (whose colons are no port)


def join_host_port(host: str, port: int | None = None) -> str:
    """split_port's inverse: an IPv6 address in brackets, then `:port` if given."""
    if ":" in host:
        host = f"[{host}]"
    return host if port is None else f"{host}:{port}"


# ---- what a person typed -----------------------------------------------------------------------

def plain(target: str) -> str:
    """What every target must be: not too long, no spaces or control characters."""
    if len(target) > MAX_TARGET:
        raise ValueError(f"is longer than {MAX_TARGET} characters")
    if any(ch.isspace() for ch in target) or any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        raise ValueError("must not contain spaces or control characters")
    return target


def host(text: str) -> str:
    """A monitor's host: a host name (IDN allowed, stored as ASCII; a trailing dot kept) or an IP
    address (a scope id allowed: pinging fe80::1%eth0 needs it), no scheme, no port."""
    if "://" in text:
        raise ValueError("must be a host name or IP address without a scheme (no http://)")
    address = ip(text[1:-1] if text.startswith("[") and text.endswith("]") else text, scoped=True)
    if address is not None:
        return address
    name = _ascii_name(text)
    if not name or len(name) > MAX_NAME or not is_host_name(name.rstrip(".")):
        raise ValueError("is not a valid host name or IP address")
    return name


def ascii_host(text: str) -> str:
    """A host for a socket as it is (host:port settings, WHOIS referrals): an IP address without a
    scope id, or a host name of plain ASCII labels (no IDN), lowercased, one trailing dot dropped."""
    address = ip(text)
    if address is not None:
        return address
    name = text.lower()
    if name.endswith("."):
        name = name[:-1]
    if not name or len(name) > MAX_NAME or not is_host_name(name):
        raise ValueError(f"{text[:80]!r} is not a valid host name or IP address")
    return name


def host_port(text: str, default_port: int) -> tuple[str, int]:
    """A `host[:port]` setting (DNS servers, the WHOIS server): `name`, `name:port`, `192.0.2.1`,
    `192.0.2.1:5353`, `::1`, `[::1]`, `[::1]:5353`, the host as ascii_host takes it."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("is empty; write host or host:port")
    value = text.strip()
    if len(value) > MAX_HOST_PORT:
        raise ValueError("is too long to be host or host:port")
    try:
        name, port_text = split_port(value)
    except ValueError:
        raise ValueError(f"{value!r} is not host or host:port (write IPv6 addresses as [::1]:53)") from None
    if value.startswith("["):
        address = _ipv6(name)
        if address is None:
            raise ValueError(f"{value!r}: {name!r} is not an IPv6 address")
    elif ":" in name:  # more than one colon: a bare IPv6 address, no port
        address = _ipv6(name)
        if address is None:
            raise ValueError(f"{value!r} is not an IPv6 address (write [address]:port to give a port)")
    else:
        address = ascii_host(name)
    port = default_port if port_text is None else port_number(port_text)
    if port is None:
        raise ValueError(f"{value!r} has a port that is not a number between 1 and 65535")
    return address, port


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


def domain(target: str) -> str:
    """A registrable domain name (example.com), IDN allowed (stored as ASCII)."""
    if "://" in target or "/" in target:
        raise ValueError("must be a domain name like example.com, without a scheme or path")
    name = _ascii_name(target).rstrip(".")
    if not is_domain_name(name):
        raise ValueError("is not a registrable domain name (like example.com)")
    return name


def _ascii_name(name: str) -> str:
    name = name.lower()
    try:
        return name.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("is not a valid host name") from None


def _ipv6(text: str) -> str | None:
    address = ip(text)
    return address if address is not None and ":" in address else None


# ---- URLs, read for a check --------------------------------------------------------------------

class UrlParts(NamedTuple):
    host: str
    port: int  # the scheme's default when the URL names none
    tls: bool
    path: str  # path and query, as sent in the request line


def url_parts(target: str) -> UrlParts:
    """Where an http(s) URL connects and what it asks for. ValueError for a URL without a host
    or with a bad port (e.g. in a redirect)."""
    parts = urlsplit(target)
    if not parts.hostname:
        raise ValueError(f"no host in {target[:200]}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {target[:200]}") from None
    tls = parts.scheme == "https"
    return UrlParts(parts.hostname, port or (443 if tls else 80), tls,
                    (parts.path or "/") + (f"?{parts.query}" if parts.query else ""))


# ---- SIP ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class SipTarget:
    host: str
    port: int | None  # None: the monitor's port field decides, else 5060
    transport: str  # "udp" or "tcp"

    def stored(self) -> str:
        """As a monitor stores it: UDP (the default) as the bare host, TCP as
        `sip:host;transport=tcp` (the port goes to the monitor's port field)."""
        if self.transport == "tcp":
            return f"sip:{join_host_port(self.host)};transport=tcp"
        return self.host


def sip(target: str) -> SipTarget:
    """A sip target as typed: `host`, `host:port`, `[v6]:port` or `sip:[user@]host[:port]`,
    optionally with `;transport=udp|tcp` and no other parameter."""
    rest = target[4:] if target.lower().startswith("sip:") else target
    if "@" in rest:
        rest = rest.split("@", 1)[1]
    rest, transport = _sip_transport(rest)
    try:
        name, port_text = split_port(rest)
    except ValueError:
        raise ValueError("is not a valid sip target (write host, sip:host or sip:host:port)") from None
    port = None
    if port_text is not None:
        port = port_number(port_text) if len(port_text) <= 5 else None  # typed sip ports never took padding zeros
        if port is None:
            raise ValueError("has a port that is not a number between 1 and 65535")
    return SipTarget(host(name), port, transport)


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
        if transport not in SIP_TRANSPORTS:
            raise ValueError("has an unsupported transport (use ;transport=udp or ;transport=tcp)")
    return rest, transport


def read_sip(target: str) -> SipTarget:
    """A stored sip target read back for a check or a trace, more leniently than sip(): a user
    part, URI headers (`?...`) and parameters other than transport mean nothing to an OPTIONS
    ping and are skipped; the host is not checked (the resolver will say)."""
    text = (target or "").strip()
    if text[:5].lower() == "sips:":
        raise ValueError("sips: (SIP over TLS) targets are not supported")
    if text[:4].lower() == "sip:":
        text = text[4:]
    text = text.split("?", 1)[0]
    if "@" in text:
        text = text.rsplit("@", 1)[1]
    text, *params = text.split(";")
    transport = "udp"
    for param in params:
        name, _, value = param.partition("=")
        if name.strip().lower() == "transport":
            transport = value.strip().lower()
            if transport not in SIP_TRANSPORTS:
                raise ValueError(f"transport {value!r} is not supported (use udp or tcp)")
    try:
        name, port_text = split_port(text)
    except ValueError:
        raise ValueError(f"{target!r} is not a valid sip target") from None
    port = None
    if port_text is not None:
        port = port_number(port_text)
        if port is None:
            raise ValueError(f"port {port_text!r} is not a number between 1 and 65535")
    if not name:
        raise ValueError(f"{target!r} has no host")
    return SipTarget(name.lower(), port, transport)
