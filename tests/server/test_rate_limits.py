"""Rate limits (API.md "Rate limits"): per user for token holders, per client IP for anonymous
requests, and failed logins per (account, client address) and per address on top (the login
throttle's rules in detail: tests/server/test_login_throttle_rules.py; attacks on it over HTTP:
tests/security/test_login_throttle.py).

Every test starts its own appliance with low limits, because the counters live in that
appliance's memory. The windows start at the first request counted (fixed window), so a test
that finishes within the minute sees exactly the configured numbers.
"""

from __future__ import annotations

import time

import pytest

from appliance.config import Settings
from tests.support.api import Api
from tests.support.appliance import ApplianceProcess, InProcessAppliance

RATE = "5/minute"
LOGIN_RATE = "3/minute"
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")


@pytest.fixture
def limited(tmp_path):
    """start(rate_limit, login_rate_limit) -> a fresh in-process appliance (engine off)."""
    started: list[InProcessAppliance] = []

    def start(rate_limit: str = RATE, login_rate_limit: str = LOGIN_RATE) -> InProcessAppliance:
        server = InProcessAppliance(tmp_path / f"data{len(started)}", rate_limit=rate_limit,
                                    login_rate_limit=login_rate_limit).start(engine=False)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


def _user(server: InProcessAppliance, name: str):
    """A user made in the store directly, so setting it up costs no request but its login."""
    email, password = f"{name}@example.test", f"{name}-password-1"
    server.appliance.entities.create_user(email, password, full_name=name.title())
    return server.api.login(email, password)


def assert_limited(response, limit: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == "rate limit exceeded"
    assert set(body) <= {"error", "details"}  # a login refusal says in `details` why and how long
    retry_after = int(response.headers["Retry-After"])
    assert 0 < retry_after <= 60
    assert response.headers["X-RateLimit-Limit"] == str(limit)
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert int(response.headers["X-RateLimit-Reset"]) >= int(time.time()) - 1


def _remaining(response) -> int:
    return int(response.headers["X-RateLimit-Remaining"])


# ---- per user ----------------------------------------------------------------------------------

def test_it_limits_each_user_and_answers_the_sixth_request_with_429(limited):
    server = limited()
    api = server.api
    alice, bob = _user(server, "alice"), _user(server, "bob")

    for expected_remaining in (4, 3, 2, 1, 0):
        response = api.get("/api/monitors", alice)
        assert response.status_code == 200, response.text
        assert response.headers["X-RateLimit-Limit"] == "5"
        assert _remaining(response) == expected_remaining
        assert int(response.headers["X-RateLimit-Reset"]) > 0
    assert_limited(api.get("/api/monitors", alice), 5)
    assert_limited(api.get("/api/auth/me", alice), 5)  # one budget for every endpoint
    assert_limited(api.post("/api/monitors", alice, json={"name": "x", "type": "ping", "target": "127.10.0.1"}), 5)

    # bob comes from the same address and is not affected
    response = api.get("/api/monitors", bob)
    assert response.status_code == 200 and _remaining(response) == 4


def test_it_keys_the_user_limit_on_the_token_not_on_the_address(limited):
    server = limited()
    api = server.api
    alice = _user(server, "alice")
    again = api.login(alice.email, alice.password)  # a second token of the same user
    for _ in range(3):
        assert api.get("/api/monitors", alice).status_code == 200
    assert api.get("/api/monitors", again).status_code == 200
    assert api.get("/api/monitors", again).status_code == 200
    assert_limited(api.get("/api/monitors", alice), 5)
    assert_limited(api.get("/api/monitors", again), 5)


# ---- anonymous ---------------------------------------------------------------------------------

def test_it_limits_anonymous_requests_per_address(limited):
    server = limited()
    api = server.api
    alice = _user(server, "alice")  # her login is one anonymous request from this address

    first = api.get("/api/monitors")
    assert first.status_code == 401 and first.headers["X-RateLimit-Limit"] == "5"
    left = _remaining(first)
    assert 0 <= left < 5
    for _ in range(left):
        assert api.get("/api/monitors").status_code == 401
    assert_limited(api.get("/api/monitors"), 5)
    assert_limited(api.get("/api/auth/me"), 5)  # one budget per address for every endpoint
    assert_limited(api.get("/api/monitors", "not-a-token"), 5)  # a bad token counts as anonymous
    assert_limited(api.post("/api/auth/login", json={"email": alice.email, "password": alice.password}), 5)

    # a logged-in user from the same address has a budget of their own
    response = api.get("/api/monitors", alice)
    assert response.status_code == 200 and _remaining(response) == 4


# ---- login -------------------------------------------------------------------------------------

def test_it_throttles_failed_logins_for_an_account_from_an_address(limited):
    server = limited(rate_limit="1000/minute")
    api = server.api
    _user(server, "alice")
    for _ in range(3):
        response = api.post("/api/auth/login", json={"email": "alice@example.test", "password": "guess-guess"})
        assert response.status_code == 401, response.text
    for password in ("guess-again", "alice-password-1"):  # even the right password waits, from here
        response = api.post("/api/auth/login", json={"email": "alice@example.test", "password": password})
        assert_limited(response, 3)
        retry_after = int(response.headers["Retry-After"])
        assert 15 <= retry_after <= 20  # 3/minute: one failure drains every 20 s
        assert response.json()["details"] == {
            "login": f"Too many failed logins for this account from your address; try again in {retry_after} s."}
    assert_limited(api.post("/api/auth/login", json={"email": "ALICE@example.test ", "password": "x"}), 3)


def test_it_throttles_failed_logins_from_an_address_across_emails(limited):
    server = limited(rate_limit="1000/minute")
    api = server.api
    across = 5 * 3  # five times the per-account budget
    for i in range(across):
        response = api.post("/api/auth/login", json={"email": f"guess{i}@example.test", "password": "guess-guess"})
        assert response.status_code == 401
    response = api.post("/api/auth/login", json={"email": "another@example.test", "password": "x"})
    assert_limited(response, across)
    retry_after = int(response.headers["Retry-After"])
    assert retry_after <= 4  # 15/minute: one failure drains every 4 s
    assert response.json()["details"] == {
        "login": f"Too many failed logins from your address; try again in {retry_after} s."}


def test_it_does_not_count_successful_logins_against_the_login_limit(limited):
    server = limited(rate_limit="1000/minute")
    api = server.api
    alice = _user(server, "alice")
    for _ in range(5):
        api.login(alice.email, alice.password)
    for _ in range(3):
        response = api.post("/api/auth/login", json={"email": alice.email, "password": "wrong-wrong"})
        assert response.status_code == 401, response.text
    assert_limited(api.post("/api/auth/login", json={"email": alice.email, "password": "wrong-wrong"}), 3)


def test_it_does_not_count_malformed_logins_against_the_login_limit(limited):
    server = limited(rate_limit="1000/minute")
    api = server.api
    alice = _user(server, "alice")
    for _ in range(5):
        assert api.post("/api/auth/login", json={"email": alice.email}).status_code == 400
    api.login(alice.email, alice.password)


def test_it_leaves_logged_in_users_alone_while_logins_are_throttled(limited):
    server = limited(rate_limit="1000/minute")
    api = server.api
    alice = _user(server, "alice")
    for _ in range(4):
        api.post("/api/auth/login", json={"email": alice.email, "password": "wrong-wrong"})
    assert api.get("/api/auth/me", alice).status_code == 200


# ---- configuration -----------------------------------------------------------------------------

def test_it_defaults_to_100_requests_per_minute_and_10_failed_logins_per_15_minutes():
    settings = Settings.load({}, env={})
    assert settings.rate_limit == "100/minute"
    assert settings.login_rate_limit == "10/15 minutes"


@pytest.mark.slow
def test_it_takes_the_limit_from_the_flag_over_the_environment(tmp_path):
    proc = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_RATE_LIMIT": "7/minute"},
                            args=["--rate-limit", "9/minute"]).start()
    try:
        response = Api(proc.url).get("/api/monitors")
        assert response.status_code == 401
        assert response.headers["X-RateLimit-Limit"] == "9"
    finally:
        proc.stop()
    env_only = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_RATE_LIMIT": "7/minute"}).start()
    try:
        assert Api(env_only.url).get("/api/monitors").headers["X-RateLimit-Limit"] == "7"
    finally:
        env_only.stop()
