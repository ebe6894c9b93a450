"""Password guessing is throttled per account and per client address, and neither can be dodged.

tests/server/test_rate_limits.py has the basics (failed logins limited per email and per address,
successes and malformed bodies not counted). Here the evasions: guessing one account's password
from many addresses (the per-account limit holds: the guesses come from 127.0.0.2, .3, ... on
loopback), and claiming another address in X-Forwarded-For / X-Real-IP / Forwarded (ignored: the
appliance is not told to trust a proxy, so the per-address limit holds).
"""

from __future__ import annotations

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.appliance import InProcessAppliance

LOGIN_RATE = 3


class FromAddress(HTTPAdapter):
    """Connections from a chosen loopback source address."""

    def __init__(self, source: str):
        self.source = source
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source, 0)
        super().init_poolmanager(*args, **kwargs)


def client(source: str) -> requests.Session:
    session = requests.Session()
    session.mount("http://", FromAddress(source))
    return session


@pytest.fixture
def server(tmp_path):
    instance = InProcessAppliance(tmp_path / "data", rate_limit="1000/minute",
                                  login_rate_limit=f"{LOGIN_RATE}/minute").start(engine=False)
    instance.appliance.entities.create_user("alice@example.test", "alice-password-1")
    yield instance
    instance.stop()


def login(server, session: requests.Session, email: str, password: str, **headers) -> int:
    return session.post(server.url + "/api/auth/login", json={"email": email, "password": password},
                        headers=headers, timeout=30).status_code


def test_it_throttles_guesses_at_one_account_from_many_addresses(server):
    addresses = [f"127.0.0.{n}" for n in range(2, 2 + LOGIN_RATE + 2)]
    statuses = [login(server, client(address), "alice@example.test", f"guess-{n}")
                for n, address in enumerate(addresses)]
    assert statuses == [401] * LOGIN_RATE + [429, 429]
    # The right password waits too while the account is under attack (until the window ends).
    assert login(server, client("127.0.0.20"), "alice@example.test", "alice-password-1") == 429
    # Another account, from an address that took part, is not affected by alice's limit.
    server.appliance.entities.create_user("bob@example.test", "bob-password-1")
    assert login(server, client(addresses[0]), "bob@example.test", "bob-password-1") == 200


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_it_ignores_a_claimed_client_address(server, header):
    session = client("127.0.0.9")
    statuses = []
    for n in range(LOGIN_RATE + 1):
        claimed = f"203.0.113.{n + 1}"
        value = f"for={claimed}" if header == "Forwarded" else claimed
        statuses.append(login(server, session, f"nobody{n}@example.test", "guess", **{header: value}))
    assert statuses == [401] * LOGIN_RATE + [429]
    assert login(server, client("127.0.0.10"), "alice@example.test", "alice-password-1") == 200
