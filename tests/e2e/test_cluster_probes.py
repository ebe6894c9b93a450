"""Cluster mode and remote probes: a probe posts to whichever node the load balancer picks, and
the monitor's owner decides on every one of its results (storage/probe_relay.py). Real
PostgreSQL, real `statuscore serve --cluster` nodes, a real `statuscore probe` process (or the
probe API driven over HTTP), a real web peer and webhook receiver.

The monitors here are checked from the probe's location only, so every verdict comes from
results that reached a node other than the owner.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e.test_cluster import BEAT, INTERVAL, LEASE, events, leases, node, sql, start_all, stop_all
from tests.e2e.test_probes import ProbeProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver
from appliance.timeutil import iso, utcnow

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("heavy")]

# A probe calls in every 5 s (a third of this); the nodes share when they last heard from it.
PROBE_ENV = {"STATUSCORE_PROBE_OFFLINE_AFTER": "15", "STATUSCORE_WEBHOOK_BACKOFF": "1,1,1"}


def register_probe(proc, admin, name: str = "eu-west") -> str:
    response = proc.api.post("/api/admin/probes", admin, json={"name": name, "display_name": "EU-West"})
    assert response.status_code == 201, response.text
    return response.json()["token"]


def subscribe(proc, admin, hook) -> None:
    response = proc.api.post("/api/settings/webhooks", admin, json={
        "url": hook.url, "format": "generic", "events": ["monitor.down", "monitor.up"]})
    assert response.status_code == 201, response.text


def pending_deliveries(url: str) -> int:
    return sql(url, "SELECT count(*) FROM delivery WHERE state = 'pending'")[0][0]


def stored_twice(url: str, monitor_id: int) -> int:
    """Results stored more than once (same location and check time)."""
    return sql(url, "SELECT count(*) - count(DISTINCT (location, checked_at)) FROM results WHERE monitor_id = %s",
               monitor_id)[0][0]


def test_the_owner_decides_on_probe_results_sent_to_another_node_and_after_a_failover(
        tmp_path, postgres_url):
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url, **PROBE_ENV) for i in range(3)])
    probe = None
    try:
        with HttpPeer() as web, Receiver() as hook:
            admin = nodes[0].admin()
            subscribe(nodes[0], admin, hook)
            token = register_probe(nodes[0], admin)
            site = nodes[0].api.create_monitor(admin, name="Site", type="http", target=web.url + "/",
                                               interval=INTERVAL, retries=0, check_locations=["eu-west"])
            wait_for(lambda: site["id"] in leases(postgres_url), timeout=20, message="the monitor leased")
            owner = next(p for p in nodes if str(p.port) == leases(postgres_url)[site["id"]])
            entry, third = [p for p in nodes if p is not owner]
            # The load balancer sends every call of this probe to a node that does not own the monitor.
            probe = ProbeProcess(tmp_path, entry.url, token, "eu-west").start()

            def at_owner():
                return owner.api.get(f"/api/monitors/{site['id']}", owner.admin()).json()

            wait_for(lambda: at_owner()["status"] == "up", timeout=3 * INTERVAL, message="up from the probe's results")
            web.set_status(503)
            wait_for(lambda: hook.events() == ["monitor.down"], timeout=2 * INTERVAL + 5, message="one down alert")
            assert at_owner()["location_status"] == {"eu-west": "down"}
            web.set_status(None)
            wait_for(lambda: hook.events() == ["monitor.down", "monitor.up"], timeout=2 * INTERVAL + 5,
                     message="the recovery")

            # Delivered is not yet recorded: a node killed in between sends that one again on
            # restart or takeover (at least once). That window is not what this test is about.
            wait_for(lambda: not pending_deliveries(postgres_url), timeout=10, message="the deliveries recorded")

            # The owner dies; the probe keeps posting to the same node. Whoever takes the monitor
            # over decides on what reached any node meanwhile: one down alert, not zero, not two.
            owner.kill()
            web.set_status(503)
            # The bound (2 x interval + lease) plus room for a loaded box; a miss tells what happened.
            try:
                wait_for(lambda: hook.events() == ["monitor.down", "monitor.up", "monitor.down"],
                         timeout=2 * INTERVAL + LEASE + 10 * BEAT + 20, message="the down decided by the new owner")
            except AssertionError as failed:
                raise AssertionError(f"{failed}: events {events(postgres_url, site['id'])}, sent {hook.events()}, "
                                     f"leases {leases(postgres_url)}, entry's log:\n{entry.log()[-2000:]}\n"
                                     f"third's log:\n{third.log()[-2000:]}") from None
            assert leases(postgres_url)[site["id"]] in {str(entry.port), str(third.port)}
            time.sleep(INTERVAL + 2 * BEAT)
            assert hook.events() == ["monitor.down", "monitor.up", "monitor.down"], "the down is announced once"
            assert events(postgres_url, site["id"]) == ["monitor.down", "monitor.up", "monitor.down"]
            assert stored_twice(postgres_url, site["id"]) == 0
            assert sql(postgres_url, "SELECT count(*) FROM results WHERE monitor_id = %s AND location = 'eu-west'",
                       site["id"])[0][0] >= 4
    finally:
        if probe is not None:
            probe.stop()
        stop_all(nodes)


def test_a_batch_sent_again_to_another_node_counts_once_and_a_queued_result_survives_its_owner(tmp_path, postgres_url):
    nodes = start_all([node(tmp_path, f"n{i}", postgres_url, **PROBE_ENV) for i in range(2)])
    try:
        with HttpPeer() as web, Receiver() as hook:
            a, b = nodes
            admin = a.admin()
            subscribe(a, admin, hook)
            token = register_probe(a, admin)
            probe_auth = {"Authorization": f"Bearer {token}"}
            # Enough monitors that each node owns one (hashing): a node owning none, 2 x 2^-8.
            monitors = [a.api.create_monitor(admin, name=f"Site {i}", type="http", target=web.url + "/",
                                             interval=3600, retries=1, check_locations=["eu-west"])
                        for i in range(8)]
            ids = {m["id"] for m in monitors}
            wait_for(lambda: set(leases(postgres_url)) == ids and len(set(leases(postgres_url).values())) == 2,
                     timeout=20, message="every monitor leased, both nodes holding some")
            owners = leases(postgres_url)
            mine = next(m for m in ids if owners[m] == str(a.port))  # a owns it, b does not
            # The probe is heard from at b only (its results may go anywhere).
            assert b.api.get("/api/probe/assignments", headers=probe_auth).status_code == 200

            def post(proc, *results):
                response = proc.api.post("/api/probe/results", headers=probe_auth, json={"results": list(results)})
                assert response.status_code == 200, response.text
                return response.json()

            def failure(n):
                return {"id": f"fail-{n}", "monitor_id": mine, "checked_at": iso(utcnow(), millis=True),
                        "up": False, "response_time": None, "error": "HTTP 503"}

            first = failure(1)
            assert post(b, first) == {"accepted": 1, "duplicates": 0, "rejected": []}
            # The answer was lost; the probe sends the batch again and the balancer picks the owner:
            # a duplicate, so retries=1 still waits for a second failure.
            assert post(a, first) == {"accepted": 0, "duplicates": 1, "rejected": []}
            assert post(b, first) == {"accepted": 0, "duplicates": 1, "rejected": []}
            time.sleep(3 * BEAT + 2)  # the owner replays within a heartbeat: room for a wrong down
            assert events(postgres_url, mine) == []
            second = failure(2)
            assert post(b, second)["accepted"] == 1
            wait_for(lambda: hook.events() == ["monitor.down"], timeout=5 * BEAT + 5, message="down after two failures")
            assert stored_twice(postgres_url, mine) == 0
            assert sql(postgres_url, "SELECT count(*) FROM results WHERE monitor_id = %s", mine)[0][0] == 2
            assert sql(postgres_url, "SELECT count(*) FROM probe_relay")[0][0] == 0

            # The owner dies; a result reaching b before b may take the monitor over (the lease
            # has seconds to run) waits in the queue, and b decides on it when it takes over.
            a.kill()
            recovered = {**failure(3), "id": "ok-3", "up": True, "response_time": 12.0, "error": None}
            assert post(b, recovered)["accepted"] == 1
            assert sql(postgres_url, "SELECT count(*) FROM probe_relay")[0][0] == 1, "queued: nobody decided yet"
            assert "statuscore_cluster_probe_results_waiting 1" in b.api.get("/metrics", b.admin()).text
            # Bounded generously: on a loaded box the takeover waits for the lease, then a beat.
            try:
                wait_for(lambda: hook.events() == ["monitor.down", "monitor.up"], timeout=LEASE + 10 * BEAT + 20,
                         message="the recovery decided by the node that took the monitor over")
            except AssertionError as failed:
                raise AssertionError(f"{failed}: events {events(postgres_url, mine)}, sent {hook.events()}, "
                                     f"leases {leases(postgres_url)}, b's log:\n{b.log()[-3000:]}") from None
            assert leases(postgres_url)[mine] == str(b.port)
            assert sql(postgres_url, "SELECT count(*) FROM probe_relay")[0][0] == 0
            assert events(postgres_url, mine) == ["monitor.down", "monitor.up"]
            assert "statuscore_cluster_probe_results_waiting 0" in b.api.get("/metrics", b.admin()).text
    finally:
        stop_all(nodes)
