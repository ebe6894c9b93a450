"""Probe results relayed to a monitor's owner in cluster mode (storage/probe_relay.py), on a real
PostgreSQL: accepted once cluster-wide, stored before the commit, taken once and in order."""

from __future__ import annotations

from datetime import timedelta

import pytest

from appliance.storage.probe_relay import ProbeRelayStore, RelayedResult
from appliance.timeutil import utcnow


def result(monitor_id: int, at, up: bool = True, location: str = "eu-west") -> RelayedResult:
    return RelayedResult(monitor_id, location, at, up, 12.5 if up else None, None if up else "refused",
                         {"ssl": {"days_left": 40, "expires_at": "2027-01-01T00:00:00Z"}})


@pytest.fixture
def relays(two_node_engines):
    """Two nodes' views of one database (each with an engine of its own)."""
    return [ProbeRelayStore(engine) for engine in two_node_engines]


def test_a_batch_sent_again_to_another_node_is_accepted_once(relays):
    a, b = relays
    now = utcnow()
    batch = [result(1, now - timedelta(seconds=20)), result(1, now - timedelta(seconds=10), up=False),
             result(2, now - timedelta(seconds=15))]
    stored = []
    assert a.admit(batch, {}, stored.extend) == sorted(batch, key=lambda r: r.checked_at)
    assert b.admit(batch, {}, stored.extend) == []  # the answer was lost; the probe sent it to b
    assert len(stored) == 3
    later = result(1, now - timedelta(seconds=5))
    assert b.admit([*batch, later], {}, stored.extend) == [later]
    # Another location's results have their own watermark.
    assert a.admit([result(1, now - timedelta(seconds=20), location="us-east")], {}, stored.extend) != []


def test_the_owner_takes_each_result_once_oldest_first(relays):
    a, b = relays
    now = utcnow()
    first = [result(1, now - timedelta(seconds=30)), result(2, now - timedelta(seconds=29))]
    second = [result(1, now - timedelta(seconds=20), up=False)]
    a.admit(first, {}, lambda rows: None)
    b.admit(second, {}, lambda rows: None)
    taken = b.take([1])
    assert [(r.monitor_id, r.up) for r in taken] == [(1, True), (1, False)]
    assert taken[0].details["ssl"]["days_left"] == 40 and taken[1].error == "refused"
    assert a.take([1]) == []
    assert [r.monitor_id for r in a.take([1, 2])] == [2]
    assert a.waiting() == 0


def test_a_failed_history_write_accepts_nothing(relays):
    a, b = relays
    batch = [result(1, utcnow() - timedelta(seconds=10))]

    def disk_full(rows):
        raise OSError("No space left on device")

    with pytest.raises(OSError):
        a.admit(batch, {}, disk_full)
    assert a.waiting() == 0
    assert b.admit(batch, {}, lambda rows: None) == batch  # sent again: taken this time


def test_a_nodes_own_watermark_seeds_a_pair_the_cluster_has_none_for(relays):
    a, _ = relays
    now = utcnow()
    old, new = result(1, now - timedelta(seconds=20)), result(1, now - timedelta(seconds=5))
    # This node's history (before cluster mode) already has a result at old's time.
    assert a.admit([old, new], {1: old.checked_at}, lambda rows: None) == [new]


def test_prune_drops_what_nobody_took(relays):
    a, _ = relays
    a.admit([result(1, utcnow() - timedelta(hours=3))], {}, lambda rows: None)
    a.prune(keep_seconds=3600)
    assert a.waiting() == 0
    # The watermark went too: a result that old would be refused as too old before reaching it.
    assert a.admit([result(1, utcnow() - timedelta(hours=2))], {}, lambda rows: None) != []
