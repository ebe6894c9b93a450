"""Recovery confirmation (successes in a row before up) and down reminders, with real checks and
a real webhook receiver."""

from __future__ import annotations

from datetime import timedelta

from appliance.timeutil import utcnow
from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver


def check_now(api, admin, url, peer, n=1):
    """An edit makes the engine check at once: n more checks, each awaited."""
    for _ in range(n):
        hits = peer.hits
        api.put(url, admin, json={"name": f"API {hits}"})
        wait_for(lambda: peer.hits > hits, timeout=10, message="a check")
        wait_for(lambda: api.get(url, admin).json()["name"] == f"API {hits}", timeout=5, message="the edit")


def test_it_waits_for_recovery_checks_successes_before_up(tmp_path):
    server = InProcessAppliance(tmp_path / "data").start()
    try:
        api, admin = server.api, server.admin()
        with HttpPeer() as peer:
            peer.set_status(500)
            monitor = api.create_monitor(admin, name="API", type="http", target=peer.url + "/", interval=3600,
                                         retries=0, recovery_checks=3)
            url = f"/api/monitors/{monitor['id']}"
            assert monitor["recovery_checks"] == 3
            wait_for(lambda: api.get(url, admin).json()["status"] == "down", timeout=10, message="down")
            peer.set_status(None)
            check_now(api, admin, url, peer, 2)
            wait_for(lambda: [e["status"] for e in api.get(url + "/history", admin).json()["history"]][-2:]
                     == ["up", "up"], timeout=10, message="two successes stored")
            assert api.get(url, admin).json()["status"] == "down"  # two successes are not enough
            check_now(api, admin, url, peer, 1)
            wait_for(lambda: api.get(url, admin).json()["status"] == "up", timeout=10, message="up after three")
    finally:
        server.stop()


def test_it_reminds_while_down_and_stops_when_back_up(tmp_path):
    with Receiver() as receiver:
        server = InProcessAppliance(tmp_path / "data").start()
        try:
            api, admin = server.api, server.admin()
            api.post("/api/settings/webhooks", admin, json={"url": receiver.url, "events": ["monitor.down"]})
            with HttpPeer() as peer:
                peer.set_status(503)
                monitor = api.create_monitor(admin, name="API", type="http", target=peer.url + "/", interval=3600,
                                             retries=0, reminder_minutes=30)
                wait_for(lambda: len(receiver.messages) == 1, timeout=10, message="the first down alert")
                appliance = server.appliance
                appliance.send_reminders()  # not due yet
                # 31 minutes later (moved in the data, not waited for):
                appliance.entities.set_monitor_fields(monitor["id"], last_alert_at=utcnow() - timedelta(minutes=31))
                appliance.send_reminders()
                appliance.send_reminders()  # once per interval, not per call
                wait_for(lambda: len(receiver.messages) == 2, timeout=10, message="the reminder")
                reminder = receiver.messages[1].json()
                assert reminder["event"] == "monitor.down" and reminder["details"]["reminder"] is True
                assert reminder["details"]["locations"] == "Local"
                peer.set_status(None)
                api.put(f"/api/monitors/{monitor['id']}", admin, json={"name": "API!"})
                wait_for(lambda: api.get(f"/api/monitors/{monitor['id']}", admin).json()["status"] == "up",
                         timeout=10, message="recovery")
                appliance.entities.set_monitor_fields(monitor["id"], last_alert_at=utcnow() - timedelta(minutes=99))
                appliance.send_reminders()
            assert len(receiver.messages) == 2
        finally:
            server.stop()
