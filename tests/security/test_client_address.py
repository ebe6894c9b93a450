"""Who the client is, behind a reverse proxy and not: a served appliance on loopback.

The "proxy" is this test process connecting from 127.0.0.5 and saying X-Forwarded-For; another
client connects from 127.0.0.2 and says the same. Only with STATUSCORE_TRUSTED_PROXIES naming
127.0.0.5 is the header believed, and then only from 127.0.0.5: everything that keys on the client
(the API's per-address limit, the login throttle, its log line) sees the forwarded address.
"""

from __future__ import annotations

import logging

import pytest
import requests

from tests.security.test_login_throttle import client
from tests.support.appliance import ApplianceProcess, InProcessAppliance

RATE = 5
PROXY = "127.0.0.5"  # not 127.0.0.1, which the fixture's readiness check comes from


@pytest.fixture
def serve(tmp_path):
    started: list[InProcessAppliance] = []

    def start(**settings) -> InProcessAppliance:
        server = InProcessAppliance(tmp_path / f"data{len(started)}", rate_limit=f"{RATE}/minute",
                                    login_rate_limit="3/15 minutes", **settings).start(engine=False)
        server.appliance.entities.create_user("alice@example.test", "alice-password-1")
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def anonymous(server, session: requests.Session, forwarded_for: str) -> int:
    return session.get(server.url + "/api/monitors", headers={"X-Forwarded-For": forwarded_for},
                       timeout=30).status_code


def guess(server, session: requests.Session, forwarded_for: str, password: str = "guess") -> int:
    return session.post(server.url + "/api/auth/login", json={"email": "alice@example.test", "password": password},
                        headers={"X-Forwarded-For": forwarded_for}, timeout=30).status_code


def test_it_gives_each_client_behind_a_trusted_proxy_its_own_budget(serve):
    server = serve(trusted_proxies=PROXY)
    proxy = client(PROXY)
    assert [anonymous(server, proxy, "127.51.100.1") for _ in range(RATE + 1)] == [401] * RATE + [429]
    assert anonymous(server, proxy, "127.51.100.2") == 401
    # nginx appends the address it saw: what the client wrote to the left of it is not believed
    assert anonymous(server, proxy, "127.51.100.2, 127.51.100.1") == 429


def test_it_throttles_logins_per_client_behind_a_trusted_proxy_and_logs_the_client(serve, caplog):
    server = serve(trusted_proxies=f"{PROXY},127.10.0.0/16")
    proxy = client(PROXY)
    with caplog.at_level(logging.WARNING, logger="statuscore.api"):
        assert [guess(server, proxy, "127.51.100.1, 127.10.0.7") for _ in range(4)] == [401] * 3 + [429]
    assert guess(server, proxy, "127.51.100.2", "alice-password-1") == 200
    assert f"login throttled (account) for 'alice@example.test' from 127.51.100.1 (via proxy {PROXY})" in caplog.text


def test_it_ignores_the_header_from_a_peer_that_is_not_a_trusted_proxy(serve):
    server = serve(trusted_proxies=PROXY)
    stranger = client("127.0.0.2")
    statuses = [anonymous(server, stranger, f"198.51.100.{n}") for n in range(RATE + 1)]
    assert statuses == [401] * RATE + [429]  # one budget, 127.0.0.2's, whatever it claims
    assert anonymous(server, client(PROXY), "127.51.100.1") == 401  # the claimed client is untouched


def test_it_ignores_the_header_when_no_proxy_is_trusted(serve):
    server = serve()
    proxy = client(PROXY)
    statuses = [anonymous(server, proxy, f"198.51.100.{n}") for n in range(RATE + 1)]
    assert statuses == [401] * RATE + [429]


@pytest.mark.slow
def test_it_takes_the_trusted_proxies_from_the_serve_flag(tmp_path):
    proc = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_RATE_LIMIT": f"{RATE}/minute"},
                            args=["--trusted-proxies", f"{PROXY},127.10.0.0/16"]).start()
    try:
        proxy = client(PROXY)
        assert [anonymous(proc, proxy, "127.51.100.1") for _ in range(RATE + 1)] == [401] * RATE + [429]
        assert anonymous(proc, proxy, "127.51.100.2, 127.10.0.7") == 401
    finally:
        proc.stop()
