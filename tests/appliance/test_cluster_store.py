"""Cluster leases and fencing on a real PostgreSQL (storage/cluster.py, EntityStore.fence), and
the rendezvous share (appliance/cluster.py)."""

from __future__ import annotations

import time
from datetime import timedelta

from appliance.cluster import owner
from appliance.storage.cluster import ClusterStore
from appliance.storage.entities import EntityStore, Transition
from appliance.timeutil import utcnow
from tests.support.appliance import cheap_hasher


def stores(url, lease=1.0):
    entities = EntityStore(url, hasher=cheap_hasher())
    return entities, ClusterStore(entities.engine, lease)


def test_a_lease_held_by_a_live_node_is_never_taken_and_an_expired_one_is(postgres_url):
    entities, cluster = stores(postgres_url)
    try:
        assert cluster.settle_leases("a", [1, 2]) == {1, 2}
        assert cluster.settle_leases("b", [1, 2, 3]) == {3}  # a still holds 1 and 2
        assert cluster.settle_leases("a", [1, 2]) == {1, 2}  # renewed
        time.sleep(1.3)  # a stops renewing: its leases run out by the database's clock
        assert cluster.settle_leases("b", [1, 2, 3]) == {1, 2, 3}
        assert cluster.settle_leases("a", [1, 2]) == set()
        assert cluster.settle_leases("b", [3]) == {3}  # giving up 1 and 2 frees them at once
        assert cluster.settle_leases("a", [1, 2]) == {1, 2}
    finally:
        entities.close()


def test_a_status_change_without_the_lease_is_refused(postgres_url):
    entities, cluster = stores(postgres_url)
    try:
        user = entities.create_user("owner@example.test", "correct-horse-1")
        monitor = entities.create_monitor(user.id, {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/"})
        entities.fence = cluster.fence("a")
        change = Transition(monitor_id=monitor.id, old_status="pending", new_status="down", at=utcnow(), cause="x")
        assert entities.record_transition(change) is None  # "a" holds no lease
        assert entities.get_monitor(monitor.id).status == "pending"
        cluster.settle_leases("b", [monitor.id])
        assert entities.record_transition(change) is None  # "b" holds it
        cluster.settle_leases("b", [])
        cluster.settle_leases("a", [monitor.id])
        assert entities.record_transition(change) is not None
        assert entities.get_monitor(monitor.id).status == "down"
        time.sleep(1.3)  # the lease ran out: a late verdict is refused
        late = Transition(monitor_id=monitor.id, old_status="down", new_status="up",
                          at=utcnow() + timedelta(seconds=1), cause="")
        assert entities.record_transition(late) is None
        assert entities.get_monitor(monitor.id).status == "down"
    finally:
        entities.close()


def test_the_change_counter_moves_with_every_monitor_write(postgres_url):
    entities, cluster = stores(postgres_url)
    try:
        before = cluster.counter()
        user = entities.create_user("owner@example.test", "correct-horse-1")
        monitor = entities.create_monitor(user.id, {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/"})
        after_create = cluster.counter()
        entities.update_monitor(monitor.id, user.id, {"name": "Renamed"})
        assert before < after_create < cluster.counter()
    finally:
        entities.close()


def test_a_node_joining_moves_only_its_own_share():
    monitors = range(1, 3001)
    two = {m: owner(m, ["a", "b"]) for m in monitors}
    three = {m: owner(m, ["a", "b", "c"]) for m in monitors}
    moved = [m for m in monitors if two[m] != three[m]]
    assert all(three[m] == "c" for m in moved)
    assert 800 < len(moved) < 1200  # about a third
    assert 800 < sum(1 for m in monitors if three[m] == "a") < 1200


def test_a_status_write_moves_no_change_counter_and_other_nodes_read_it_again(postgres_url):
    # A status change moving the counter made every node reload every monitor, and queued every
    # status write in the cluster behind the counter's row lock.
    entities, cluster = stores(postgres_url)
    other = EntityStore(postgres_url, hasher=cheap_hasher())  # another node's store
    try:
        user = entities.create_user("owner@example.test", "correct-horse-1")
        monitor = entities.create_monitor(user.id, {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/"})
        assert other.get_monitor(monitor.id).status == "pending"
        cluster.settle_leases("a", [monitor.id])
        entities.fence = cluster.fence("a")
        before = cluster.counter()
        assert entities.record_transition(Transition(monitor.id, "pending", "down", utcnow(), "x")) is not None
        entities.set_monitor_fields(monitor.id, heartbeat_since=utcnow())
        assert cluster.counter() == before
        assert other.get_monitor(monitor.id).status == "pending"  # its snapshot, until read again
        assert other.reread_engine_columns() == 1
        assert other.get_monitor(monitor.id).status == "down"
        assert other.get_monitor(monitor.id).heartbeat_since is not None
        assert other.reread_engine_columns() == 0  # nothing new
        entities.update_monitor(monitor.id, user.id, {"interval": 120})  # an edit still moves it
        assert cluster.counter() > before
    finally:
        other.close()
        entities.close()


def test_settling_gives_up_only_this_nodes_leases_outside_its_share(postgres_url):
    # The release is an anti-join against the wanted ids (an array scan per row was ~100 ms a
    # heartbeat at 3,300 leases): it must drop exactly this node's leases it no longer wants.
    entities, cluster = stores(postgres_url, lease=30.0)
    try:
        assert cluster.settle_leases("a", list(range(1, 301))) == set(range(1, 301))
        assert cluster.settle_leases("b", list(range(301, 601))) == set(range(301, 601))
        assert cluster.settle_leases("a", list(range(1, 151))) == set(range(1, 151))
        assert cluster.settle_leases("c", list(range(1, 601))) == set(range(151, 301))  # a's freed ones only
        assert cluster.settle_leases("b", list(range(301, 601))) == set(range(301, 601))  # b's untouched
        assert cluster.settle_leases("a", []) == set()
        assert cluster.settle_leases("c", list(range(1, 601))) == set(range(1, 301))
    finally:
        entities.close()


def test_a_status_read_again_never_overwrites_a_newer_one_written_here(postgres_url):
    # reread_engine_columns reads every monitor, then patches: a status change this node wrote
    # in between is newer than what it read and stays (the read one is compared again next time).
    entities, cluster = stores(postgres_url, lease=30.0)
    try:
        user = entities.create_user("owner@example.test", "correct-horse-1")
        monitor = entities.create_monitor(user.id, {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/"})
        cluster.settle_leases("a", [monitor.id])  # (a commit on this engine: drops the snapshot)
        entities.fence = cluster.fence("a")
        read_at = (entities.generation, entities._monitors()[1])  # as a reread starting now
        assert entities.record_transition(Transition(monitor.id, "pending", "down", utcnow(), "x")) is not None
        skipped = entities._patch({monitor.id: {"status": "pending"}}, read_at=read_at)  # what it read
        assert skipped == {monitor.id}
        assert entities.get_monitor(monitor.id).status == "down"
        assert entities.reread_engine_columns() == 0  # the database agrees
        assert entities.get_monitor(monitor.id).status == "down"
    finally:
        entities.close()
