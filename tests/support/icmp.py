"""Whether this process may open raw ICMP sockets (root or CAP_NET_RAW), for tests that send
real ICMP probes (to 127.0.0.1 only)."""

from __future__ import annotations

import socket

import pytest


def raw_icmp_unavailable() -> str | None:
    try:
        socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close()
    except OSError:
        return "raw ICMP sockets are not permitted here (needs root or CAP_NET_RAW)"
    return None


needs_raw_icmp = pytest.mark.skipif(raw_icmp_unavailable() is not None, reason=str(raw_icmp_unavailable()))
