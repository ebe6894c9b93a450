"""A restart (even kill -9) neither forgets a down nor announces it again, and a recovery after
the restart is still seen: the confirmed status lives in the entity store, not only in memory."""

from __future__ import annotations

import sqlite3

import pytest

from tests.support.appliance import ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer

pytestmark = pytest.mark.slow


def outbox(data_dir, monitor_id):
    with sqlite3.connect(data_dir / "statuscore.sqlite") as db:
        return [row[0] for row in db.execute(
            "SELECT event FROM state_change WHERE monitor_id = ? ORDER BY id", (monitor_id,))]


def test_it_keeps_a_down_across_kill_9_and_sees_the_recovery(tmp_path):
    data_dir = tmp_path / "data"
    with HttpPeer() as peer:
        peer.set_status(503)
        proc = ApplianceProcess(data_dir).start()
        try:
            admin = proc.admin()
            monitor = proc.api.create_monitor(admin, name="API", type="http", target=peer.url + "/health",
                                              interval=10, retries=0)
            url = f"/api/monitors/{monitor['id']}"
            wait_for(lambda: proc.api.get(url, admin).json()["status"] == "down", timeout=20,
                     message="the monitor to go down")
            assert outbox(data_dir, monitor["id"]) == ["monitor.down"]
        finally:
            proc.kill()

        hits_before_restart = peer.hits
        proc = ApplianceProcess(data_dir, port=proc.port).start()
        try:
            admin = proc.admin()
            assert proc.api.get(url, admin).json()["status"] == "down"
            # First checks after a restart are spread over the interval: wait for one to happen.
            wait_for(lambda: peer.hits > hits_before_restart, timeout=20, message="a check after the restart")
            wait_for(lambda: proc.api.get(url, admin).json()["last_check"] is not None, timeout=5,
                     message="the check to be recorded")
            assert proc.api.get(url, admin).json()["status"] == "down"
            assert outbox(data_dir, monitor["id"]) == ["monitor.down"], "a restart must not re-alert"

            peer.set_status(None)
            wait_for(lambda: proc.api.get(url, admin).json()["status"] == "up", timeout=20,
                     message="the recovery to be seen")
            assert outbox(data_dir, monitor["id"]) == ["monitor.down", "monitor.up"]
            incidents = proc.api.get(url + "/insights", admin).json()["incidents"]
            assert [i["status"] for i in incidents] == ["resolved"]
        finally:
            proc.stop()
