"""Behind a reverse proxy: who the client is, believed from X-Forwarded-* only when a trusted
proxy says it.

WSGI middleware, installed by create_app when `trusted_proxies` is set. When the direct peer
(REMOTE_ADDR) is one of the trusted addresses or networks, the client is the right-most
X-Forwarded-For entry that is not itself a trusted proxy: each proxy appends the address it was
reached from, so the entries to the left of that one were written by the client and could say
anything. REMOTE_ADDR is replaced by it, so everything downstream (the rate limits, the login
throttle, logs) sees the client; the proxy's own address stays in environ["statuscore.proxy"].
X-Forwarded-Proto and X-Forwarded-Host (their last values) give the scheme and host the client
used. From any other peer the headers are removed, unread.

waitress removes them itself before the application sees them, unless told otherwise:
server.http_server.make_server(proxy_headers=True) says so when proxies are trusted (waitress's
own proxy support trusts one address, or any, by hop count; this one trusts networks and only them).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Iterable

PROXY_ENVIRON_KEY = "statuscore.proxy"
_FORWARDING = ("HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_HOST",
               "HTTP_X_FORWARDED_PORT", "HTTP_X_FORWARDED_BY", "HTTP_FORWARDED")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?")


class TrustedProxies:
    def __init__(self, app, proxies: Iterable[str]):
        self.app = app
        self.networks = tuple(ipaddress.ip_network(proxy, strict=False) for proxy in proxies)

    def __call__(self, environ, start_response):
        peer = environ.get("REMOTE_ADDR", "")
        if self.trusts(peer):
            environ[PROXY_ENVIRON_KEY] = peer
            environ["REMOTE_ADDR"] = self.client(peer, environ.get("HTTP_X_FORWARDED_FOR", ""))
            proto = _last(environ.get("HTTP_X_FORWARDED_PROTO", "")).lower()
            if proto in ("http", "https"):
                environ["wsgi.url_scheme"] = proto
            host = _last(environ.get("HTTP_X_FORWARDED_HOST", ""))
            if _HOST.fullmatch(host):
                environ["HTTP_HOST"] = host
        else:
            for key in _FORWARDING:
                environ.pop(key, None)
        return self.app(environ, start_response)

    def trusts(self, address: str) -> bool:
        ip = parse_address(address)
        return ip is not None and any(ip in network for network in self.networks)

    def client(self, peer: str, forwarded_for: str) -> str:
        """The right-most address in X-Forwarded-For that is not a trusted proxy (the left-most
        one when all are); the peer itself when the header is missing. An entry that is not an
        address ends the walk: the last address a trusted proxy vouched for is used."""
        client = peer
        for entry in reversed(forwarded_for.split(",")):
            ip = parse_address(entry.strip())
            if ip is None:
                break
            client = str(ip)
            if not any(ip in network for network in self.networks):
                break
        return client


def parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An IP address (an IPv4 one mapped into IPv6 as itself), or None for anything else."""
    try:
        ip = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    return ip.ipv4_mapped or ip if ip.version == 6 else ip


def _last(value: str) -> str:
    return value.rsplit(",", 1)[-1].strip()

