"""Maintenance windows over HTTP: validation, privacy, and what a window does to a failing
monitor: checks go on and are stored, no incident, no down alert; after it, the alert comes."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import HttpPeer


def soon(seconds: float) -> str:
    return (datetime.now(timezone.utc) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def monitor(api, alice):
    return api.create_monitor(alice, name="db", type="tcp", target="127.0.0.1", port=9, is_active=False)


def test_it_creates_lists_updates_and_deletes_windows(api, alice, monitor):
    created = api.post("/api/maintenance", alice, json={
        "name": "Backups", "monitor_ids": [monitor["id"]],
        "recurring": {"weekdays": ["sun"], "start": "02:00", "duration_minutes": 60, "timezone": "Europe/Berlin"}})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["recurring"]["timezone"] == "Europe/Berlin" and body["starts_at"] is None
    assert isinstance(body["active"], bool)
    assert api.get("/api/maintenance", alice).json() == [body]
    one_off = api.put(f"/api/maintenance/{body['id']}", alice, json={"starts_at": soon(-60), "ends_at": soon(3600)})
    assert one_off.status_code == 200 and one_off.json()["recurring"] is None and one_off.json()["active"] is True
    assert api.get(f"/api/monitors/{monitor['id']}", alice).json()["in_maintenance"] is False  # paused monitor
    assert api.delete(f"/api/maintenance/{body['id']}", alice).status_code == 204
    assert api.get(f"/api/maintenance/{body['id']}", alice).status_code == 404


@pytest.mark.parametrize("body, field", [
    ({"name": "x", "monitor_ids": [], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"},
     "monitor_ids"),
    ({"name": "x", "monitor_ids": ["MID"]}, "starts_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T01:00:00Z", "ends_at": "2030-01-01T00:00:00Z"},
     "ends_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00Z"}, "ends_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00", "ends_at": "2030-01-01T01:00:00Z"},
     "starts_at"),
    ({"name": "x", "monitor_ids": ["MID"], "recurring": {"weekdays": ["mon"], "start": "25:00",
                                                           "duration_minutes": 5}}, "recurring.start"),
    ({"name": "x", "monitor_ids": ["MID"], "recurring": {"weekdays": ["mon"], "start": "02:00",
                                                           "duration_minutes": 5, "timezone": "Mars/Olympus"}},
     "recurring.timezone"),
    ({"name": "x", "monitor_ids": ["MID"], "recurring": {"weekdays": ["funday"], "start": "02:00",
                                                           "duration_minutes": 5}}, "recurring.weekdays.0"),
    ({"name": "x", "monitor_ids": [999999], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"},
     "monitor_ids"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z",
      "recurring": {"weekdays": ["mon"], "start": "02:00", "duration_minutes": 5}}, "recurring"),
    # Off the calendar once in UTC (an OverflowError, 500, before), a Unix time, a zone folder.
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "2030-01-01T01:00:00Z"},
     "starts_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "9999-12-31T23:00:00-01:00"},
     "ends_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": 1893456000, "ends_at": "2030-01-01T01:00:00Z"}, "starts_at"),
    ({"name": "x", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "1893459600"}, "ends_at"),
    ({"name": "x", "monitor_ids": ["MID"], "recurring": {"weekdays": ["mon"], "start": "02:00",
                                                           "duration_minutes": 5, "timezone": "Europe"}},
     "recurring.timezone"),
    ({"name": "x", "monitor_ids": ["MID"], "recurring": {"weekdays": ["mon"], "start": "02:00",
                                                           "duration_minutes": 5, "timezone": "zone.tab"}},
     "recurring.timezone"),
])
def test_it_rejects_bad_windows_naming_the_field(api, alice, monitor, body, field):
    body = {**body, "monitor_ids": [monitor["id"] if m == "MID" else m for m in body["monitor_ids"]]}
    response = api.post("/api/maintenance", alice, json=body)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]


@pytest.mark.parametrize("change, field", [
    ({"starts_at": "0001-01-01T00:00:00+14:00"}, "starts_at"),
    ({"ends_at": "9999-12-31T23:00:00-01:00"}, "ends_at"),
    ({"starts_at": "0001-01-01T00:00:00+14:00", "ends_at": "9999-12-31T23:00:00-01:00"}, "starts_at"),
    ({"recurring": {"weekdays": ["mon"], "start": "02:00", "duration_minutes": 5, "timezone": "America"}},
     "recurring.timezone"),
])
def test_it_rejects_a_bad_change_and_keeps_the_window(api, alice, monitor, change, field):
    window = api.post("/api/maintenance", alice, json={"name": "w", "monitor_ids": [monitor["id"]],
                                                        "starts_at": soon(60), "ends_at": soon(120)}).json()
    response = api.put(f"/api/maintenance/{window['id']}", alice, json=change)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"] and response.json()["error"].endswith(".")
    assert api.get(f"/api/maintenance/{window['id']}", alice).json() == {**window, "active": False}


def test_a_window_from_the_first_to_the_last_moment_of_the_calendar_works_everywhere(api, alice):
    monitor = api.create_monitor(alice, name="edge", type="tcp", target="127.0.0.1", port=9, public_status=True)
    created = api.post("/api/maintenance", alice, json={
        "name": "forever", "monitor_ids": [monitor["id"]], "starts_at": "0001-01-01T00:00:00Z",
        "ends_at": "9999-12-31T23:59:59Z"})
    assert created.status_code == 201, created.text
    assert created.json()["active"] is True
    slug = f"edge-{alice.id}"
    assert api.put("/api/settings/status-page", alice, json={"company_name": "Edge", "slug": slug}).status_code == 200
    url = f"/api/monitors/{monitor['id']}"
    for path in ("/api/maintenance", f"/api/maintenance/{created.json()['id']}", "/api/monitors", url,
                 url + "/history?hours=2160", url + "/stats?days=365", url + "/insights",
                 f"/api/public/status/{slug}", f"/status/{slug}", "/api/export", "/api/export?format=yaml"):
        assert api.get(path, alice).status_code == 200, path
    assert api.get(url, alice).json()["in_maintenance"] is True
    again = api.post("/api/import", alice, json=api.get("/api/export", alice).json())
    assert again.status_code == 200 and again.json()["updated"] == []


def test_windows_are_private(api, alice, bob, monitor):
    created = api.post("/api/maintenance", alice, json={"name": "w", "monitor_ids": [monitor["id"]],
                                                         "starts_at": soon(0), "ends_at": soon(60)}).json()
    assert api.get(f"/api/maintenance/{created['id']}", bob).status_code == 404
    assert api.delete(f"/api/maintenance/{created['id']}", bob).status_code == 404
    assert api.get("/api/maintenance", bob).json() == []
    # bob cannot put alice's monitor into his window either
    stolen = api.post("/api/maintenance", bob, json={"name": "w", "monitor_ids": [monitor["id"]],
                                                      "starts_at": soon(0), "ends_at": soon(60)})
    assert stolen.status_code == 400
    assert api.get("/api/maintenance").status_code == 401


@pytest.mark.slow
def test_a_failing_monitor_in_maintenance_opens_no_incident_until_the_window_ends(tmp_path):
    server = InProcessAppliance(tmp_path / "data").start()
    try:
        api, admin = server.api, server.admin()
        api.put("/api/settings/status-page", admin, json={"company_name": "Acme", "slug": "acme"})
        with HttpPeer() as peer:
            monitor = api.create_monitor(admin, name="API", type="http", target=peer.url + "/", interval=10,
                                         retries=0, public_status=True)
            url = f"/api/monitors/{monitor['id']}"
            wait_for(lambda: api.get(url, admin).json()["status"] == "up", timeout=15, message="up first")
            window = api.post("/api/maintenance", admin, json={
                "name": "deploy", "monitor_ids": [monitor["id"]], "starts_at": soon(-5), "ends_at": soon(12)}).json()
            assert window["active"] is True
            peer.set_status(503)
            hits = peer.hits
            api.put(url, admin, json={"name": "API (deploying)"})  # checks at once
            wait_for(lambda: peer.hits > hits and api.get(url, admin).json()["last_check"] is not None,
                     timeout=10, message="a failed check in the window")
            wait_for(lambda: [e for e in api.get(url + "/history", admin).json()["history"] if e["status"] == "down"],
                     timeout=5, message="the failed check stored")
            inside = api.get(url, admin).json()
            assert inside["in_maintenance"] is True and inside["status"] == "up"
            assert api.get(url + "/insights", admin).json()["incidents"] == []
            page = api.get("/status/acme")
            assert "Under maintenance" in page.text
            # After the window the next failed check is an outage, with its alert.
            wait_for(lambda: api.get(url, admin).json()["status"] == "down", timeout=40, interval=0.5,
                     message="the outage after the window")
            assert api.get(url, admin).json()["in_maintenance"] is False
            assert len(api.get(url + "/insights", admin).json()["incidents"]) == 1
    finally:
        server.stop()
    with sqlite3.connect(tmp_path / "data" / "statuscore.sqlite") as db:
        events = [row[0] for row in db.execute("SELECT event FROM state_change")]
    assert events == ["monitor.down"]
