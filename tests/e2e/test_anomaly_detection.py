"""Anomalies from real checks: a local server whose latency is raised for a moment produces one
response_time_spike, listed, acknowledged and sent as a webhook event. The checks are real HTTP
checks run by the engine's runner back to back (the schedule is not what is under test here)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import HttpPeer

# Timing-sensitive (real response times): never beside the heavy-load runs (install.sh: --dist loadgroup).
pytestmark = pytest.mark.xdist_group("heavy")


class Receiver:
    def __init__(self):
        bodies = self.bodies = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def test_it_reports_one_spike_when_the_target_slows_down_for_a_moment(tmp_path):
    receiver = Receiver()
    server = InProcessAppliance(tmp_path / "data").start()
    try:
        api, admin = server.api, server.admin()
        api.post("/api/settings/webhooks", admin, json={"url": receiver.url, "events": ["anomaly.detected"]})
        with HttpPeer() as peer:
            peer.httpd.body = b"x" * 200_000  # a page that takes a little while to send
            monitor = api.create_monitor(admin, name="Shop", type="http", target=peer.url + "/", interval=3600,
                                         timeout=60)
            runner, scheduler = server.appliance.runner, server.appliance.scheduler
            spec = wait_for(lambda: scheduler.current(monitor["id"]), message="the monitor scheduled")

            slowest = 0.0
            for _ in range(80):  # learn the usual response time
                started = time.monotonic()
                runner.run(spec)
                slowest = max(slowest, time.monotonic() - started)
            assert api.get("/api/monitors/anomalies", admin).json() == []
            # The target slows down, far beyond anything seen while learning: on a loaded test box
            # the hiccups then are spikes too, and one no bigger than those is rightly not reported.
            peer.httpd.delay = max(2.0, 3 * slowest)
            assert peer.httpd.delay < 30, f"the box is too loaded to learn a usual time (slowest {slowest:.1f} s)"
            runner.run(spec)
            runner.run(spec)
            peer.httpd.delay = 0.0  # ...and recovers
            for _ in range(12):
                runner.run(spec)

        anomalies = api.get("/api/monitors/anomalies", admin).json()
        server.appliance.history.flush()
        seen = [row["response_time"] for row in
                api.get(f"/api/monitors/{monitor['id']}/history", admin).json()["history"]]
        assert [a["kind"] for a in anomalies] == ["response_time_spike"], f"response times: {seen}"
        spike = anomalies[0]
        assert spike["monitor_id"] == monitor["id"] and spike["monitor_name"] == "Shop"
        assert spike["location"] == "local" and spike["acknowledged"] is False
        assert spike["value"] >= 2000 and spike["baseline"] < spike["value"] / 3
        assert "usual" in spike["message"]
        insights = api.get(f"/api/monitors/{monitor['id']}/insights", admin).json()
        assert [a["id"] for a in insights["anomalies"]] == [spike["id"]]
        # every check has its anomaly score: 0..1, the one that completed the report scores 1
        [latest] = insights["anomaly_scores"]
        assert latest["location"] == "local" and 0 <= latest["anomaly_score"] < 1
        server.appliance.history.flush()
        rows = api.get(f"/api/monitors/{monitor['id']}/history", admin).json()["history"]
        assert len(rows) >= 94  # ours, and the scheduler's first check
        assert all(0 <= row["anomaly_score"] <= 1 for row in rows)
        assert [row["anomaly_score"] for row in rows].count(1.0) == 1
        assert rows[-1]["checked_at"] == latest["checked_at"]

        acked = api.post(f"/api/monitors/anomalies/{spike['id']}/acknowledge", admin)
        assert acked.status_code == 200 and acked.json()["acknowledged"] is True
        assert api.get("/api/monitors/anomalies", admin).json() == []

        wait_for(lambda: receiver.bodies, timeout=10, message="the anomaly.detected webhook")
        event = receiver.bodies[0]
        assert event["event"] == "anomaly.detected"
        assert event["monitor"]["name"] == "Shop"
        assert event["details"]["kind"] == "response_time_spike"
        assert event["details"]["message"] == spike["message"]
    finally:
        server.stop()
        receiver.close()


def test_it_keeps_anomalies_private_and_404s_others(tmp_path):
    server = InProcessAppliance(tmp_path / "data").start(engine=False)
    try:
        api, admin = server.api, server.admin()
        other = api.create_user(admin, "someone@example.test")
        assert api.get("/api/monitors/anomalies", other).json() == []
        assert api.post("/api/monitors/anomalies/1/acknowledge", other).status_code == 404
        assert api.get("/api/monitors/anomalies").status_code == 401
    finally:
        server.stop()
