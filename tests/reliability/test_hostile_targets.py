"""Targets that fight back, checked by a real `statuscore serve` (timeout 2 s, interval 10 s):
one that hangs, one that answers a byte a second, one that sends 100 MiB (with and without a
keyword to look for), one that redirects forever, TLS handshakes that never end (silent, or a
byte a second), a SIP server that never answers (UDP) and one that floods (TCP), a TCP port whose
accept queue is full; and a healthy target beside them.

Every check ends within its timeout (seen from the target: each connection is hung up within the
timeout and a margin; seen from the API: each monitor is down with a clear last_error, checked
again at its next slot, and the engine's lag stays small), and reads a bounded amount (the bytes
the targets managed to send, kernel buffers included, stay far below what they offered).
"""

from __future__ import annotations


import pytest

from appliance.checkers.http import MAX_BODY_BYTES, MAX_REDIRECTS
from tests.reliability.hostile import HUGE_BYTES, HostileServer
from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer, full_accept_queue
from tests.support.sip_peer import SipPeer

pytestmark = pytest.mark.slow

TIMEOUT = 2
MARGIN = 3.0  # seconds allowed past the timeout for scheduling and hanging up (not a benchmark)
# What a target can push before the checker stops reading: what the checker reads plus the
# socket buffers on both sides (the receiver's autotunes to a few MiB on Linux).
BOUND = MAX_BODY_BYTES + 12 * 1024 * 1024


@pytest.fixture
def full_backlog():
    with full_accept_queue() as port:
        if port is None:
            pytest.skip("the kernel kept accepting connections into the backlog")
        yield port


def test_it_ends_every_check_of_a_hostile_target_within_its_timeout(tmp_path, full_backlog):
    servers = {name: HostileServer(behaviour) for name, behaviour in (
        ("hang", "hang"), ("drip", "drip"), ("huge", "huge"), ("huge-keyword", "huge"), ("redirect", "redirect"),
        ("tls-stall", "tls_stall"), ("tls-drip", "tls_drip"))}
    with HttpPeer() as healthy, SipPeer("udp", "silent") as sip_silent, \
            SipPeer("tcp", "flood", flood_limit=HUGE_BYTES) as sip_flood:
        for server in servers.values():
            server.__enter__()
        proc = ApplianceProcess(tmp_path / "data").start()
        try:
            api, admin = proc.api, proc.admin()
            fields = {"interval": 10, "timeout": TIMEOUT, "retries": 0}
            monitors = {name: api.create_monitor(admin, name=name, type="https" if name.startswith("tls") else "http",
                                                 target=server.url, **fields,
                                                 **({"keyword": "needle"} if name == "huge-keyword" else {}))
                        for name, server in servers.items()}
            monitors["sip-silent"] = api.create_monitor(admin, name="sip-silent", type="sip",
                                                        target=sip_silent.target(), **fields)
            monitors["sip-flood"] = api.create_monitor(admin, name="sip-flood", type="sip",
                                                       target=sip_flood.target(), **fields)
            monitors["tcp-full"] = api.create_monitor(admin, name="tcp-full", type="tcp", target="127.0.0.1",
                                                      port=full_backlog, **fields)
            monitors["healthy"] = api.create_monitor(admin, name="healthy", type="http", target=healthy.url + "/",
                                                     **fields)

            def current() -> dict[str, dict]:
                by_id = {m["id"]: m for m in api.get("/api/monitors", admin).json()}
                return {name: by_id[m["id"]] for name, m in monitors.items()}

            first = wait_for(lambda: (now := current()) and all(m["last_check"] for m in now.values()) and now,
                             timeout=TIMEOUT + 15, message="a first check of every monitor")
            # Checked again at the next slot (10 s later): no check is stuck, no worker held.
            second = wait_for(lambda: (now := current()) and all(now[n]["last_check"] != first[n]["last_check"]
                                                                   for n in now) and now,
                              timeout=30, interval=0.5, message="a second check of every monitor")
            engine = api.get("/api/admin/engine", admin).json()
        finally:
            proc.stop()
            for server in servers.values():
                server.__exit__(None, None, None)

    # A 200 with a huge body is up when nothing in the body matters: the body is not read.
    up = {"healthy", "huge"}
    assert {name: m["status"] for name, m in second.items()} == \
        {name: "up" if name in up else "down" for name in second}
    for name, monitor in second.items():
        assert monitor["response_time"] is None or monitor["response_time"] <= (TIMEOUT + MARGIN) * 1000, monitor
    errors = {name: m.get("last_error", "") for name, m in second.items()}
    for name in ("hang", "drip", "tls-stall", "tls-drip", "tcp-full"):
        assert f"within {TIMEOUT} s" in errors[name], (name, errors[name])
    assert "redirects" in errors["redirect"]
    assert "keyword 'needle' not found" in errors["huge-keyword"]
    assert errors["sip-silent"] and errors["sip-flood"]

    # From the targets' side: hung up within the timeout, a bounded amount taken.
    for name, server in servers.items():
        closed = server.closed()
        assert closed, f"{name}: no connection was ever closed"
        longest = max(c.duration for c in closed)
        assert longest <= TIMEOUT + MARGIN, f"{name}: a connection stayed open {longest:.1f} s"
    for name in ("huge", "huge-keyword"):
        taken = max(c.sent for c in servers[name].connections)
        assert taken < BOUND, f"{name}: {taken} bytes taken of {HUGE_BYTES}"
    checks = 2  # at least; the redirect chain of one check is at most MAX_REDIRECTS + 1 requests
    assert len(servers["redirect"].connections) <= (MAX_REDIRECTS + 1) * (checks + 1)
    assert sip_flood.flooded < BOUND, f"the SIP flood got {sip_flood.flooded} bytes through"

    assert engine["lag_max_ms"] is not None and engine["lag_max_ms"] < 2000, engine
    assert engine["backlog"] == 0, engine
