"""The login throttle's rules (server/login_throttle.py), with the clock injected: no sleeping.

Over real HTTP they are in tests/security/test_login_throttle.py.
"""

from __future__ import annotations

import threading

import pytest

from server.login_throttle import BACKOFF_CAP, CLIENT_FACTOR, LoginThrottle, Rate, Throttled, client_key

BUDGET = 10
PERIOD = 900.0  # 10 per 15 minutes: one failure drains every 90 s


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def throttle(clock):
    return LoginThrottle(Rate(BUDGET, PERIOD), clock=clock)


def fail(throttle, account: str, client: str, times: int = 1) -> None:
    for _ in range(times):
        throttle.attempt(account, client)  # not succeeded(): a wrong password


def refusal(throttle, account: str, client: str) -> Throttled:
    with pytest.raises(Throttled) as caught:
        throttle.attempt(account, client)
    return caught.value


def test_it_blocks_a_client_after_its_budget_of_failures_at_one_account(throttle, clock):
    fail(throttle, "alice", "A", BUDGET)
    refused = refusal(throttle, "alice", "A")
    assert refused.reason == "account" and refused.limit == BUDGET
    assert refused.retry_after == pytest.approx(90)  # one failure drains every 90 s
    clock.advance(89)
    assert refusal(throttle, "alice", "A").retry_after == pytest.approx(1)
    clock.advance(1)
    fail(throttle, "alice", "A")  # one more, then blocked again
    assert refusal(throttle, "alice", "A").retry_after == pytest.approx(90)
    clock.advance(PERIOD)
    fail(throttle, "alice", "A", BUDGET)  # the whole budget is back after the period


def test_it_does_not_count_refused_attempts(throttle, clock):
    fail(throttle, "alice", "A", BUDGET)
    for _ in range(100):
        refusal(throttle, "alice", "A")
    clock.advance(90)
    fail(throttle, "alice", "A")


def test_it_leaves_other_clients_and_other_accounts_alone(throttle):
    fail(throttle, "alice", "A", BUDGET)
    refusal(throttle, "alice", "A")
    throttle.attempt("alice", "B").succeeded()  # alice herself, elsewhere
    throttle.attempt("bob", "A").succeeded()  # another account from the guessing address


def test_it_does_not_let_a_stranger_hold_an_account_however_long_he_tries(throttle, clock):
    for _ in range(24 * 60):  # a day of trying once a minute, after the first burst
        try:
            fail(throttle, "alice", "A", BUDGET)
        except Throttled:
            pass
        clock.advance(60)
        attempt = throttle.attempt("alice", "B")  # alice, at any moment, gets straight in
        attempt.succeeded()


def test_it_throttles_a_typo_of_alice_while_her_account_is_under_attack_by_seconds_only(throttle, clock):
    for n in range(60):  # a guess from each of many addresses: the account is far beyond its budget
        fail(throttle, "alice", f"10.0.0.{n}")
    fail(throttle, "alice", "B")  # alice mistypes
    refused = refusal(throttle, "alice", "B")
    assert refused.reason == "backoff"
    assert refused.retry_after <= BACKOFF_CAP
    clock.advance(refused.retry_after)
    throttle.attempt("alice", "B").succeeded()


def test_it_backs_off_each_client_of_an_account_beyond_its_budget_increasingly_up_to_a_cap(throttle, clock):
    assert [throttle.backoff(f) for f in (0, BUDGET, BUDGET + 1, BUDGET + 2, BUDGET + 3)] == [0, 0, 1, 2, 4]
    assert throttle.backoff(BUDGET + 50) == BACKOFF_CAP
    for n in range(BUDGET):  # one guess from each of many addresses: no client is over its budget
        fail(throttle, "alice", f"127.10.1.{n}")
    fail(throttle, "alice", "127.10.1.0")  # the account is now one beyond: clients wait 1 s between attempts
    assert refusal(throttle, "alice", "127.10.1.0").retry_after == pytest.approx(1)
    clock.advance(1)
    fail(throttle, "alice", "127.10.1.0")  # two beyond: 2 s
    assert refusal(throttle, "alice", "127.10.1.0").retry_after == pytest.approx(2)
    assert refusal(throttle, "alice", "127.10.1.1").reason == "backoff"  # each client that failed here waits
    fail(throttle, "alice", "127.10.1.99")  # a client that has not failed here is not held back
    fail(throttle, "carol", "127.10.1.0")  # nor are other accounts


def test_it_limits_one_client_across_accounts(throttle, clock):
    across = CLIENT_FACTOR * BUDGET
    for n in range(across):
        fail(throttle, f"user{n}", "A")
    refused = refusal(throttle, "someone-else", "A")
    assert refused.reason == "client" and refused.limit == across
    assert refused.retry_after == pytest.approx(PERIOD / across)
    fail(throttle, "someone-else", "B")


def test_it_gives_a_successful_attempt_back_and_clears_the_clients_failures_there(throttle):
    fail(throttle, "alice", "A", BUDGET - 1)
    throttle.attempt("alice", "A").succeeded()
    fail(throttle, "alice", "A", BUDGET)  # a fresh budget at alice's account: her typos are forgotten
    assert refusal(throttle, "alice", "A").reason == "account"  # ... also by the account's backoff
    for _ in range(CLIENT_FACTOR * BUDGET):  # successes never use up the address's budget either
        throttle.attempt("bob", "B").succeeded()
    fail(throttle, "carol", "B")


def test_it_gives_a_cancelled_attempt_back(throttle):
    for _ in range(3 * BUDGET):
        throttle.attempt("alice", "A").cancelled()
    fail(throttle, "alice", "A", BUDGET)


def test_it_says_whether_a_refusal_is_the_first_since_the_last_attempt_let_through(throttle, clock):
    fail(throttle, "alice", "A", BUDGET)
    assert [refusal(throttle, "alice", "A").first for _ in range(3)] == [True, False, False]
    clock.advance(90)
    fail(throttle, "alice", "A")
    assert refusal(throttle, "alice", "A").first


def test_it_lets_exactly_the_budget_through_concurrent_attempts(clock):
    throttle = LoginThrottle(Rate(BUDGET, PERIOD), clock=clock)
    start = threading.Barrier(64)
    through = []

    def guess():
        start.wait()
        try:
            throttle.attempt("alice", "A")
            through.append(1)
        except Throttled:
            pass

    threads = [threading.Thread(target=guess) for _ in range(64)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(through) == BUDGET


def test_it_forgets_spent_entries_and_stays_within_its_size(clock):
    throttle = LoginThrottle(Rate(BUDGET, PERIOD), clock=clock, max_entries=100)
    for n in range(1000):
        fail(throttle, f"user{n}", f"client{n}")
    assert max(len(t) for t in throttle.meters.tables.values()) <= 100
    fail(throttle, "user999", "client999", BUDGET - 1)  # the most recent are kept
    refusal(throttle, "user999", "client999")
    clock.advance(PERIOD + BACKOFF_CAP)
    fail(throttle, "x", "y")
    for _ in range(1100):  # the next tidy-up forgets everything drained
        throttle.attempt("bob", "B").succeeded()
    assert len(throttle.meters.tables["pair"]) <= 2


@pytest.mark.parametrize("address, key", [
    ("127.51.100.7", "127.51.100.7"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
    ("::ffff:127.51.100.7", "127.51.100.7"),
    ("", "unknown"),
])
def test_it_throttles_an_ipv6_client_by_its_64(address, key):
    assert client_key(address) == key
