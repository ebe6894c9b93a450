"""Cluster mode's rate-limit counters and login meters on a real PostgreSQL
(appliance/storage/shared_limits.py), through the adapters the server uses: flask-limiter's
storage (server/shared_limits.py) and the login throttle's SharedMeters. Two engines stand for
two nodes. Over HTTP with real nodes: tests/e2e/test_cluster_limits.py."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.strategies import FixedWindowRateLimiter

from appliance.storage.shared_limits import SharedLimits
from server.login_throttle import LoginThrottle, Rate, SharedMeters, Throttled
from server.shared_limits import SCHEME, SharedStorage
from limits.storage import storage_from_string

BUDGET, PERIOD = 10, 900.0


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def nodes(two_node_engines):
    return [SharedLimits(engine) for engine in two_node_engines]


def test_the_window_is_counted_for_every_node_and_starts_again_when_it_ends(nodes):
    a, b = nodes
    assert a.hit("user:1", 1)[0] == 1
    assert b.hit("user:1", 1)[0] == 2
    count, ends = a.hit("user:1", 1, amount=3)
    assert count == 5 and b.window("user:1") == (5, ends)
    assert b.window("user:2")[0] == 0
    time.sleep(1.2)  # the window's end, by the database's clock
    assert b.window("user:1")[0] == 0
    assert b.hit("user:1", 1)[0] == 1
    a.clear("user:1")
    assert b.window("user:1")[0] == 0


def test_flask_limiters_fixed_window_over_two_nodes_gives_one_budget(nodes):
    limit = parse("5/minute")
    limiters = [FixedWindowRateLimiter(storage_from_string(f"{SCHEME}://", counters=node)) for node in nodes]
    assert all(isinstance(limiter.storage, SharedStorage) for limiter in limiters)
    allowed = [limiters[n % 2].hit(limit, "user:7") for n in range(8)]
    assert allowed == [True] * 5 + [False] * 3
    # The header figures come from the count just made (no second query) and agree across nodes.
    reset, remaining = limiters[0].get_window_stats(limit, "user:7")
    assert remaining == 0 and reset == pytest.approx(limiters[1].get_window_stats(limit, "user:7")[0], abs=0.01)


def test_the_login_budget_is_one_for_all_nodes(nodes):
    clock = Clock()
    throttles = [LoginThrottle(Rate(BUDGET, PERIOD), meters=SharedMeters(node, clock=clock)) for node in nodes]
    for n in range(BUDGET):
        throttles[n % 2].attempt("alice", "A")  # wrong passwords, alternately at either node
    with pytest.raises(Throttled) as refused:
        throttles[0].attempt("alice", "A")
    assert refused.value.reason == "account" and refused.value.retry_after == pytest.approx(90)
    with pytest.raises(Throttled) as again:
        throttles[1].attempt("alice", "A")
    assert not again.value.first  # the refusal was marked for every node
    throttles[1].attempt("alice", "B").succeeded()  # alice herself, from elsewhere
    clock.now += 90
    throttles[1].attempt("alice", "A")  # one failure drained: one more attempt, at either node
    with pytest.raises(Throttled):
        throttles[0].attempt("alice", "A")


def test_a_success_gives_the_clients_failures_back_at_every_node(nodes):
    clock = Clock()
    a, b = (LoginThrottle(Rate(BUDGET, PERIOD), meters=SharedMeters(node, clock=clock)) for node in nodes)
    for _ in range(BUDGET - 1):
        a.attempt("alice", "A")
    b.attempt("alice", "A").succeeded()
    for _ in range(BUDGET):
        a.attempt("alice", "A")  # a fresh budget
    with pytest.raises(Throttled):
        b.attempt("alice", "A")


def test_concurrent_guesses_at_two_nodes_get_exactly_the_budget(nodes):
    throttles = [LoginThrottle(Rate(BUDGET, PERIOD), meters=SharedMeters(node)) for node in nodes]
    start = threading.Barrier(24)
    through = []

    def guess(n):
        start.wait()
        try:
            throttles[n % 2].attempt("alice", "A")
            through.append(n)
        except Throttled:
            pass

    threads = [threading.Thread(target=guess, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(through) == BUDGET
