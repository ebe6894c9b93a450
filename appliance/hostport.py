"""`host[:port]` settings (DNS servers, the WHOIS server): parsed and checked in one place.

Accepted: `name`, `name:port`, `192.0.2.1`, `192.0.2.1:5353`, `::1`, `[::1]`, `[::1]:5353`.
Host names must be plain ASCII labels (letters, digits, hyphens); nothing else is let through,
so a value can go to a socket as it is.
"""

from __future__ import annotations

import ipaddress
import re

# \Z, not $: $ also matches before a final newline, which let "ns1\n.example.com" through.
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def parse_host_port(text: str, default_port: int) -> tuple[str, int]:
    """Split and check `host[:port]`; raises ValueError with a message a person can act on."""
    if not isinstance(text, str) or not text.strip():
        raise ValueError("is empty; write host or host:port")
    value = text.strip()
    if len(value) > 300:
        raise ValueError("is too long to be host or host:port")
    port_text = None
    if value.startswith("["):
        host, bracket, rest = value[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise ValueError(f"{value!r} is not host or host:port (write IPv6 addresses as [::1]:53)")
        port_text = rest[1:] if rest else None
        if not _is_ip(host, version=6):
            raise ValueError(f"{value!r}: {host!r} is not an IPv6 address")
    elif value.count(":") > 1:  # a bare IPv6 address, no port
        host = value
        if not _is_ip(host, version=6):
            raise ValueError(f"{value!r} is not an IPv6 address (write [address]:port to give a port)")
    else:
        host, _, port_text = value.partition(":")
        if not _:
            port_text = None
        host = check_host(host)
    if port_text is None:
        port = default_port
    elif port_text.isdigit() and port_text.isascii() and 1 <= int(port_text) <= 65535:
        port = int(port_text)
    else:
        raise ValueError(f"{value!r} has a port that is not a number between 1 and 65535")
    if ":" in host:
        host = str(ipaddress.IPv6Address(host))
    return host, port


def check_host(host: str) -> str:
    """A host name (ASCII letters, digits, hyphens, dots) or an IP address, lowercased."""
    if _is_ip(host):
        return str(ipaddress.ip_address(host))
    name = host.lower().rstrip(".") if host.endswith(".") and not host.endswith("..") else host.lower()
    if (not name or len(name) > 253 or not name.isascii()
            or not all(_LABEL.match(label) for label in name.split("."))):
        raise ValueError(f"{host[:80]!r} is not a valid host name or IP address")
    return name


def _is_ip(text: str, version: int | None = None) -> bool:
    if "%" in text or not text.isascii():
        return False
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return version is None or address.version == version
