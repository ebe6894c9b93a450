"""The appliance under attack at the connection level keeps answering, and never blames a
heartbeat job for calls it could not take itself.

- slowloris: 300 connections that send a header every 5 s and never finish (from another
  loopback address) do not stop other clients or heartbeat calls; a heartbeat monitor whose job
  keeps calling never goes down;
- a full house: at the connection limit the idlest connection makes room for a new one;
- heartbeat calls have their own threads: every API thread held by a slow request does not hold
  up a job's call;
- a restart (kill -9) is blind time: a job that could not reach the appliance is not down
  when it comes back, and one that stays silent is down a full wait after the restart.
"""

from __future__ import annotations

import socket
import statistics
import threading
import time

import pytest
import requests

from tests.support.appliance import ApplianceProcess, InProcessAppliance
from tests.support.net import wait_for
from tests.support.slow_clients import SlowClients
from tests.support.whois_server import WhoisServer

# Heavy load, or timing-sensitive: one worker runs these one after another (install.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("heavy")


class Pinger:
    """A job calling its heartbeat URL every `every` seconds on a fresh connection."""

    def __init__(self, url: str, every: float = 2.0):
        self.url, self.every = url, every
        self.answered, self.failed = 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(self.every):
            try:
                response = requests.get(self.url, timeout=4)
                if response.status_code == 200:
                    self.answered += 1
                else:
                    self.failed.append(response.status_code)
            except requests.RequestException as exc:
                self.failed.append(type(exc).__name__)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)


def heartbeat_monitor(proc, user, **fields) -> dict:
    response = proc.api.post("/api/monitors", user, json={"name": "nightly job", "type": "heartbeat",
                                                          "interval": 10, "grace": 5, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def incidents(proc, user, monitor_id) -> list:
    response = proc.api.get(f"/api/monitors/{monitor_id}/insights", user)
    assert response.status_code == 200, response.text
    return response.json()["incidents"]


@pytest.mark.slow
def test_it_answers_everyone_while_300_slow_clients_hold_connections(tmp_path):
    proc = ApplianceProcess(tmp_path / "data").start()
    try:
        admin = proc.admin()
        monitor = heartbeat_monitor(proc, admin)
        statuses, latencies = set(), []
        with Pinger(proc.url + monitor["heartbeat_url"]) as job, \
                SlowClients(proc.port, count=300, every=5.0, seconds=22.0) as attackers:
            wait_for(lambda: attackers.connections_made >= 300, timeout=10, message="300 slow connections")
            end = time.monotonic() + 15
            while time.monotonic() < end:  # bounded: ~15 s of requests, one at a time (past the 10 s header deadline)
                started = time.monotonic()
                response = requests.get(proc.url + "/api/auth/me", headers=admin.headers, timeout=10)
                latencies.append(time.monotonic() - started)
                assert response.status_code == 200, response.text
                statuses.add(proc.api.get(f"/api/monitors/{monitor['id']}", admin).json()["status"])
                time.sleep(0.2)
        latencies.sort()
        p99 = latencies[int(len(latencies) * 0.99) - 1]
        print(f"/api/auth/me under 300 slow clients: {len(latencies)} requests, "
              f"p50 {statistics.median(latencies) * 1000:.1f} ms, p99 {p99 * 1000:.1f} ms, "
              f"max {latencies[-1] * 1000:.1f} ms; slow connections made {attackers.connections_made}, "
              f"closed by the server {attackers.closed_by_server}")
        assert latencies[-1] < 5.0  # before: every new connection waited behind the slow ones
        assert job.failed == [] and job.answered >= 5
        assert "down" not in statuses
        assert incidents(proc, admin, monitor["id"]) == []
        assert attackers.closed_by_server > 0  # the header deadline let go of them
    finally:
        proc.stop()


def test_it_makes_room_for_a_new_client_when_every_connection_is_taken(tmp_path):
    server = InProcessAppliance(tmp_path / "data", max_connections=20).start(engine=False)
    silent = []
    try:
        for _ in range(40):  # connect and say nothing: each takes a slot
            sock = socket.create_connection(("127.0.0.1", server.settings.port), timeout=2,
                                            source_address=("127.0.0.3", 0))
            silent.append(sock)
        time.sleep(0.5)
        for _ in range(10):
            response = requests.get(server.url + "/api/openapi.json", timeout=5)
            assert response.status_code == 200
    finally:
        for sock in silent:
            sock.close()
        server.stop()


@pytest.mark.slow
def test_it_answers_heartbeat_calls_while_every_api_thread_is_busy(tmp_path):
    with WhoisServer(mode="hang") as whois:
        proc = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_HTTP_THREADS": "2",
                                                        "STATUSCORE_WHOIS_SERVER": whois.address}).start()
        try:
            admin = proc.admin()
            monitor = heartbeat_monitor(proc, admin)
            held = []

            def hold(n):  # a WHOIS lookup the server never answers holds an API thread ~10 s
                try:
                    held.append(proc.api.get(f"/api/monitors/tools/whois/held{n}.com", admin, timeout=40))
                except requests.RequestException as exc:
                    held.append(exc)

            holders = [threading.Thread(target=hold, args=(n,)) for n in range(6)]
            for thread in holders:
                thread.start()
            wait_for(lambda: whois.connections >= 2, timeout=10, message="both API threads held")
            waits = []
            for _ in range(5):
                started = time.monotonic()
                response = requests.get(proc.url + monitor["heartbeat_url"], timeout=8)
                waits.append(time.monotonic() - started)
                assert response.status_code == 200, response.text
            for thread in holders:
                thread.join(60)
            assert max(waits) < 2.0, waits  # before: each call queued behind the lookups (10 s and more)
        finally:
            proc.stop()


@pytest.mark.slow
def test_it_does_not_blame_a_job_for_the_time_the_appliance_was_down(tmp_path):
    data_dir = tmp_path / "data"
    proc = ApplianceProcess(data_dir).start()
    admin = proc.admin()
    monitor = heartbeat_monitor(proc, admin, grace=0)
    assert requests.get(proc.url + monitor["heartbeat_url"], timeout=5).status_code == 200
    proc.kill()
    time.sleep(12)  # longer than interval + grace: the job's calls found nobody answering
    proc = ApplianceProcess(data_dir, port=proc.port).start()
    try:
        admin = proc.admin()
        seen = set()
        end = time.monotonic() + 5
        while time.monotonic() < end:
            seen.add(proc.api.get(f"/api/monitors/{monitor['id']}", admin).json()["status"])
            time.sleep(0.5)
        assert "down" not in seen and incidents(proc, admin, monitor["id"]) == []
        # The job stays silent: a full wait after the restart, it is down.
        wait_for(lambda: proc.api.get(f"/api/monitors/{monitor['id']}", admin).json()["status"] == "down",
                 timeout=20, message="the silent job's monitor going down")
    finally:
        proc.stop()
