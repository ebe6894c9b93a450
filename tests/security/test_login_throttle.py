"""Password guessing is throttled per (account, client address), and nobody can lock an account.

A served appliance on loopback; the clients are told apart by their source address (127.0.0.2,
.3, ... on loopback). The rules themselves, with the clock injected, are in
tests/server/test_login_throttle_rules.py; here they are shown over real HTTP:
- N concurrent wrong passwords get at most the budget checked (the check and the count are one step);
- a stranger hammering alice's account from one address does not stop alice logging in from hers;
- an address has one budget across all accounts (credential stuffing), and claiming another
  address in X-Forwarded-For / X-Real-IP / Forwarded does not get a fresh one (no trusted proxy).
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.support.appliance import InProcessAppliance

BUDGET = 10
LOGIN_RATE = f"{BUDGET}/15 minutes"  # the budget refills at one failure per 90 s: not within a test


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
    instance = InProcessAppliance(tmp_path / "data", rate_limit="100000/minute",
                                  login_rate_limit=LOGIN_RATE).start(engine=False)
    instance.appliance.entities.create_user("alice@example.test", "alice-password-1")
    yield instance
    instance.stop()


def post_login(server, session: requests.Session, email: str, password: str, **headers) -> requests.Response:
    return session.post(server.url + "/api/auth/login", json={"email": email, "password": password},
                        headers=headers, timeout=60)


def login(server, session: requests.Session, email: str, password: str, **headers) -> int:
    return post_login(server, session, email, password, **headers).status_code


def assert_throttled(response: requests.Response) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "rate limit exceeded"
    assert 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_it_lets_at_most_the_budget_of_80_concurrent_wrong_passwords_be_checked(server):
    start = threading.Barrier(80)

    def guess(n: int) -> int:
        session = client("127.0.0.2")
        start.wait()
        return login(server, session, "alice@example.test", f"guess-{n}")

    with ThreadPoolExecutor(80) as pool:
        statuses = list(pool.map(guess, range(80)))
    assert statuses.count(401) == BUDGET, statuses  # before: 16 of 80 through a limit of 10
    assert statuses.count(429) == 80 - BUDGET
    # The attacker's address is done with alice's account; alice, elsewhere, is not.
    assert login(server, client("127.0.0.2"), "alice@example.test", "alice-password-1") == 429
    assert login(server, client("127.0.0.3"), "alice@example.test", "alice-password-1") == 200


def test_it_does_not_let_a_stranger_lock_alice_out(server):
    stranger = client("127.0.0.2")
    statuses = [login(server, stranger, "alice@example.test", f"guess-{n}") for n in range(50)]
    assert statuses == [401] * BUDGET + [429] * (50 - BUDGET)
    assert_throttled(post_login(server, stranger, "alice@example.test", "guess-again"))

    began = time.monotonic()
    assert login(server, client("127.0.0.3"), "alice@example.test", "alice-password-1") == 200
    assert time.monotonic() - began < 5  # no waiting: her address has not failed at her account
    # ... and the stranger is still throttled: alice's success elsewhere does not help him.
    assert_throttled(post_login(server, stranger, "alice@example.test", "guess-more"))


def test_it_throttles_one_address_across_accounts(server):
    """Credential stuffing: one guess at each of many accounts from one address."""
    stuffer = client("127.0.0.4")
    across = 5 * BUDGET  # the per-address budget across accounts
    statuses = [login(server, stuffer, f"user{n}@example.test", "Summer2024!") for n in range(across + 2)]
    assert statuses == [401] * across + [429, 429]
    assert_throttled(post_login(server, stuffer, "alice@example.test", "alice-password-1"))
    # Another address is not affected.
    assert login(server, client("127.0.0.5"), "user0@example.test", "Summer2024!") == 401


def test_it_does_not_count_a_successful_login(server):
    session = client("127.0.0.6")
    for _ in range(BUDGET + 5):
        assert login(server, session, "alice@example.test", "alice-password-1") == 200
    statuses = [login(server, session, "alice@example.test", "typo") for _ in range(BUDGET + 1)]
    assert statuses == [401] * BUDGET + [429]


@pytest.mark.parametrize("header", ["X-Forwarded-For", "X-Real-IP", "Forwarded"])
def test_it_ignores_a_claimed_client_address(server, header):
    session = client("127.0.0.9")
    statuses = []
    for n in range(BUDGET + 1):
        claimed = f"203.0.113.{n + 1}"
        value = f"for={claimed}" if header == "Forwarded" else claimed
        statuses.append(login(server, session, "alice@example.test", "guess", **{header: value}))
    assert statuses == [401] * BUDGET + [429]
    assert login(server, client("127.0.0.10"), "alice@example.test", "alice-password-1") == 200
