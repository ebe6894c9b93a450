"""Multi-location checking end to end: a real `statuscore serve` and real `statuscore probe`
processes on loopback. The probes bind their checks to their own source addresses (127.0.0.2,
127.0.0.3; the appliance itself checks from 127.0.0.1), and the HTTP peer on 127.0.0.1 fails
the requests of chosen client addresses, so each location sees what the test decides.

- Quorum: one location failing shows down for that location only; two of three make the
  monitor down, and the webhook names both by display name.
- The appliance stopped while the probes run: they spool, and after the restart every spooled
  result arrives, none stored twice (checked in the DuckDB file once the appliance is stopped).
- A probe killed with -9 goes offline after STATUSCORE_PROBE_OFFLINE_AFTER and the verdict
  follows the remaining locations.
- A revoked probe gets 401, keeps running and keeps its results spooled.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.support.appliance import ROOT, ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver

pytestmark = pytest.mark.slow

SOURCES = {"eu-west": "127.0.0.2", "us-east": "127.0.0.3"}
DISPLAY = {"eu-west": "EU-West (Dublin)", "us-east": "US-East (Virginia)"}
SETTINGS = {"STATUSCORE_LOCATION_DISPLAY_NAME": "Lab (local)", "STATUSCORE_WEBHOOK_BACKOFF": "1,1,1"}


class ProbeProcess:
    """`statuscore probe` in a subprocess with its own data dir (its spool)."""

    def __init__(self, tmp_path: Path, server: str, token: str, location: str, source: str | None = None):
        self.location = location
        self.data_dir = tmp_path / f"probe-{location}"
        self.log_path = tmp_path / f"probe-{location}.log"
        self.args = [sys.executable, "-m", "statuscore", "probe", "--server", server, "--token", token,
                     "--location", location, "--data-dir", str(self.data_dir)]
        if source:
            self.args += ["--source-address", source]
        self.proc: subprocess.Popen | None = None

    def start(self) -> "ProbeProcess":
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items() if not k.startswith("STATUSCORE_")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(self.args, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def spooled(self) -> list[dict]:
        """The results waiting in the spool (read beside the running probe: SQLite WAL)."""
        path = self.data_dir / f"spool-{self.location}.sqlite"
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
        try:
            return [json.loads(body) for (body,) in db.execute("SELECT body FROM spool ORDER BY seq")]
        except sqlite3.OperationalError:  # the table is not created yet
            return []
        finally:
            db.close()

    def kill(self) -> None:
        if self.alive:
            self.proc.kill()
            self.proc.wait(5)

    def stop(self) -> None:
        if self.alive:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
def probes(tmp_path):
    """Start probe processes; every one is stopped when the test ends, whatever happened."""
    started: list[ProbeProcess] = []

    def start(server: str, token: str, location: str, source: str | None = None) -> ProbeProcess:
        started.append(ProbeProcess(tmp_path, server, token, location, source).start())
        return started[-1]

    yield start
    for probe in started:
        probe.stop()


@pytest.fixture
def peer():
    with HttpPeer() as server:
        yield server


class Appliance:
    """The appliance process, logged in as its admin, with the two probes registered."""

    def __init__(self, tmp_path: Path, env: dict | None = None):
        self.proc = ApplianceProcess(tmp_path / "data", env={**SETTINGS, **(env or {})}).start()
        self.admin = self.proc.admin()
        self.tokens: dict[str, str] = {}
        self.ids: dict[str, int] = {}

    @property
    def api(self):
        return self.proc.api

    def register(self, *names: str) -> None:
        for name in names:
            response = self.api.post("/api/admin/probes", self.admin,
                                     json={"name": name, "display_name": DISPLAY[name]})
            assert response.status_code == 201, response.text
            self.tokens[name], self.ids[name] = response.json()["token"], response.json()["id"]

    def monitor(self, url: str, **fields) -> dict:
        return self.api.create_monitor(self.admin, name="Production API", type="http", target=url,
                                       interval=10, retries=0, **fields)

    def get(self, monitor: dict) -> dict:
        return self.api.get(f"/api/monitors/{monitor['id']}", self.admin).json()

    def wait_locations(self, monitor: dict, expected: dict, timeout: float = 25.0) -> dict:
        return wait_for(lambda: (m := self.get(monitor))["location_status"] == expected and m,
                        timeout=timeout, message=f"location_status {expected} (now {self.get(monitor)})")

    def locations(self) -> dict[str, dict]:
        return {loc["name"]: loc for loc in self.api.get("/api/locations", self.admin).json()}

    def history(self, monitor: dict) -> list[dict]:
        return self.api.get(f"/api/monitors/{monitor['id']}/history", self.admin).json()["history"]


def stored_results(data_dir: Path, monitor_id: int) -> list[tuple]:
    """(location, checked_at) of every stored result, read from the DuckDB file (appliance stopped)."""
    db = duckdb.connect(str(data_dir / "history.duckdb"), read_only=True)
    try:
        return db.execute("SELECT location, checked_at FROM results WHERE monitor_id = ? ORDER BY checked_at",
                          [monitor_id]).fetchall()
    finally:
        db.close()


# ---- the tests ----------------------------------------------------------------------------------

def test_it_decides_by_quorum_across_the_appliance_and_two_probes(tmp_path, peer, probes):
    appliance = Appliance(tmp_path)
    try:
        with Receiver() as hook:
            appliance.register("eu-west", "us-east")
            created = appliance.api.post("/api/settings/webhooks", appliance.admin,
                                         json={"url": hook.url, "events": ["monitor.down", "monitor.up"]})
            assert created.status_code == 201, created.text
            peer.fail_from(SOURCES["eu-west"])
            monitor = appliance.monitor(peer.url + "/health", check_locations=["all"])
            # The appliance's own check first: a lone failing probe must not decide alone.
            appliance.wait_locations(monitor, {"local": "up"})
            for name in ("eu-west", "us-east"):
                probes(appliance.proc.url, appliance.tokens[name], name, SOURCES[name])

            seen = appliance.wait_locations(monitor, {"local": "up", "eu-west": "down", "us-east": "up"})
            assert seen["status"] == "up"
            assert {"127.0.0.1", "127.0.0.2", "127.0.0.3"} <= set(peer.clients)
            # Every result stored under its location (the history is written in batches).
            wait_for(lambda: {h["location"]: h["status"] for h in appliance.history(monitor)}
                     == {"local": "up", "eu-west": "down", "us-east": "up"}, timeout=5,
                     message="the results in the history, each under its location")
            locations = appliance.locations()
            assert locations["eu-west"]["online"] and locations["us-east"]["online"]
            assert locations["eu-west"]["display_name"] == "EU-West (Dublin)"

            peer.fail_from(SOURCES["eu-west"], SOURCES["us-east"])  # two of three: down
            seen = appliance.wait_locations(monitor, {"local": "up", "eu-west": "down", "us-east": "down"})
            assert seen["status"] == "down"
            messages = hook.wait_for_count(1)
            body = messages[0].json()
            assert body["event"] == "monitor.down"
            assert body["monitor"]["id"] == monitor["id"] and body["monitor"]["status"] == "down"
            assert body["details"]["locations"] == "EU-West (Dublin), US-East (Virginia)"
            incidents = appliance.api.get(f"/api/monitors/{monitor['id']}/insights", appliance.admin).json()["incidents"]
            assert [(i["status"], i["locations"]) for i in incidents] == [("ongoing", ["eu-west", "us-east"])]
            assert [m.event for m in hook.messages] == ["monitor.down"]
    finally:
        appliance.proc.stop()


def test_it_takes_the_spooled_results_after_a_restart_each_once(tmp_path, peer, probes):
    appliance = Appliance(tmp_path)
    data_dir, port = appliance.proc.data_dir, appliance.proc.port
    running: list = []
    try:
        appliance.register("eu-west", "us-east")
        monitor = appliance.monitor(peer.url + "/health", check_locations=["eu-west", "us-east"])
        running = [probes(appliance.proc.url, appliance.tokens[n], n, SOURCES[n]) for n in ("eu-west", "us-east")]
        appliance.wait_locations(monitor, {"eu-west": "up", "us-east": "up"})

        appliance.proc.stop()
        # The probes go on checking; their results wait in their spools.
        wait_for(lambda: all(p.spooled() for p in running), timeout=25, message="results spooled by both probes")
        pending = {p.location: p.spooled() for p in running}
        assert all(p.alive for p in running)

        appliance.proc = ApplianceProcess(data_dir, env=SETTINGS, port=port).start()
        appliance.admin = appliance.proc.admin()
        wait_for(lambda: not any(p.spooled() for p in running), timeout=40,
                 message="the spools to be delivered after the restart")
        expected = {(location, item["checked_at"][:19] + "Z") for location, items in pending.items() for item in items}
        wait_for(lambda: expected <= {(h["location"], h["checked_at"]) for h in appliance.history(monitor)},
                 timeout=5, message="the spooled results in the history")

        # The answer to a delivery lost on its way back: the same batches again, before and
        # after one more restart, are duplicates.
        for location, items in pending.items():
            again = appliance.api.post("/api/probe/results", headers={"Authorization": f"Bearer {appliance.tokens[location]}"},
                                       json={"results": items})
            assert again.json() == {"accepted": 0, "duplicates": len(items), "rejected": []}
        appliance.proc.stop()
        appliance.proc = ApplianceProcess(data_dir, env=SETTINGS, port=port).start()
        for location, items in pending.items():
            again = appliance.api.post("/api/probe/results", headers={"Authorization": f"Bearer {appliance.tokens[location]}"},
                                       json={"results": items})
            assert again.json() == {"accepted": 0, "duplicates": len(items), "rejected": []}
    finally:
        for probe in running:
            probe.stop()
        appliance.proc.stop()

    rows = stored_results(data_dir, monitor["id"])
    assert len(rows) == len(set(rows)), "a result was stored twice"
    assert {loc for loc, _ in rows} == {"eu-west", "us-east"}
    stored = {(loc, at.isoformat(timespec="milliseconds")) for loc, at in rows}
    for location, items in pending.items():
        for item in items:
            assert (location, item["checked_at"].removesuffix("Z")) in stored


def test_it_follows_the_remaining_locations_when_a_probe_dies(tmp_path, peer, probes):
    appliance = Appliance(tmp_path, env={"STATUSCORE_PROBE_OFFLINE_AFTER": "6"})  # probes call in every 2 s
    try:
        appliance.register("eu-west", "us-east")
        peer.fail_from(SOURCES["eu-west"], SOURCES["us-east"])
        # Checked from the probe that dies only (created first: re-decided first, see below).
        lone = appliance.monitor(peer.url + "/lone", check_locations=["us-east"])
        monitor = appliance.monitor(peer.url + "/health", check_locations=["all"])
        appliance.wait_locations(monitor, {"local": "up"})
        running = {n: probes(appliance.proc.url, appliance.tokens[n], n, SOURCES[n]) for n in ("eu-west", "us-east")}
        seen = appliance.wait_locations(monitor, {"local": "up", "eu-west": "down", "us-east": "down"})
        assert seen["status"] == "down"
        assert appliance.wait_locations(lone, {"us-east": "down"})["status"] == "down"
        locations = appliance.locations()
        assert locations["eu-west"]["online"] and locations["us-east"]["online"]

        running["us-east"].kill()
        survivor_online: list[bool] = []

        def killed_is_offline() -> bool:
            locations = appliance.locations()
            survivor_online.append(locations["eu-west"]["online"])
            return not locations["us-east"]["online"]

        wait_for(killed_is_offline, timeout=20, interval=0.2, message="the killed probe to show offline")
        # The one still running calls in often enough to stay online, checks due or not.
        assert all(survivor_online), survivor_online
        # Local (up) and eu-west (down) remain: not more than half down.
        wait_for(lambda: appliance.get(monitor)["status"] == "up", timeout=10,
                 message="the verdict to follow the remaining locations")
        locations = appliance.locations()
        assert locations["eu-west"]["online"] is True and locations["local"]["online"] is True
        assert locations["us-east"]["last_seen"] is not None
        incidents = appliance.api.get(f"/api/monitors/{monitor['id']}/insights", appliance.admin).json()["incidents"]
        assert [i["status"] for i in incidents] == ["resolved"]
        # No location of its own is online: nothing new is known, so it stays down (re-decided
        # in the same pass as the monitor above, before it). Not pending, incident not closed.
        lone_now = appliance.get(lone)
        assert lone_now["status"] == "down", lone_now
        incidents = appliance.api.get(f"/api/monitors/{lone['id']}/insights", appliance.admin).json()["incidents"]
        assert [i["status"] for i in incidents] == ["ongoing"]
    finally:
        appliance.proc.stop()


def test_it_refuses_a_revoked_probe_which_keeps_its_results(tmp_path, peer, probes):
    appliance = Appliance(tmp_path)
    try:
        appliance.register("eu-west")
        monitor = appliance.monitor(peer.url + "/health", check_locations=["eu-west"])
        probe = probes(appliance.proc.url, appliance.tokens["eu-west"], "eu-west", SOURCES["eu-west"])
        appliance.wait_locations(monitor, {"eu-west": "up"})
        wait_for(lambda: appliance.history(monitor), timeout=5, message="the first result in the history")

        assert appliance.api.delete(f"/api/admin/probes/{appliance.ids['eu-west']}", appliance.admin).status_code == 204
        stored_before = len(appliance.history(monitor))
        wait_for(lambda: len(probe.spooled()) >= 1, timeout=25, message="a result spooled after the revocation")
        wait_for(lambda: "401" in probe.log(), timeout=15, message="the probe to report the refusal")
        assert probe.alive, probe.log()
        assert len(appliance.history(monitor)) == stored_before
        assert "Traceback" not in probe.log()
        # It goes on checking and keeping what it cannot deliver.
        count = len(probe.spooled())
        wait_for(lambda: len(probe.spooled()) > count, timeout=25, message="one more result spooled")
        assert probe.alive and len(appliance.history(monitor)) == stored_before
    finally:
        appliance.proc.stop()
