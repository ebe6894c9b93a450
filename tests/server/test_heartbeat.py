"""Heartbeat monitors end to end over HTTP: jobs call their URL (no login), the deadline
turns a silent job down, /fail turns it down at once."""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for


def status(api, user, monitor_id):
    return api.get(f"/api/monitors/{monitor_id}", user).json()["status"]


def test_it_turns_up_when_the_job_calls_with_get_or_post(api, alice):
    monitor = api.create_monitor(alice, name="nightly backup", type="heartbeat", interval=3600)
    assert monitor["status"] == "pending"
    assert monitor["heartbeat_url"].startswith("/api/heartbeat/")
    assert monitor["grace"] == 60
    response = api.get(monitor["heartbeat_url"])
    assert response.status_code == 200 and response.json()["ok"] is True
    assert status(api, alice, monitor["id"]) == "up"
    assert api.post(monitor["heartbeat_url"]).status_code == 200
    history = api.get(f"/api/monitors/{monitor['id']}/history", alice)
    assert history.status_code == 200


def test_it_goes_down_at_once_on_fail_and_opens_an_incident(api, alice):
    monitor = api.create_monitor(alice, name="etl", type="heartbeat", interval=3600, grace=10)
    api.get(monitor["heartbeat_url"])
    response = api.post(monitor["heartbeat_url"] + "/fail")
    assert response.status_code == 200
    assert status(api, alice, monitor["id"]) == "down"
    incidents = api.get(f"/api/monitors/{monitor['id']}/insights", alice).json()["incidents"]
    assert len(incidents) == 1 and incidents[0]["status"] == "ongoing"
    assert "failure" in incidents[0]["cause"]
    api.get(monitor["heartbeat_url"])
    assert status(api, alice, monitor["id"]) == "up"
    incidents = api.get(f"/api/monitors/{monitor['id']}/insights", alice).json()["incidents"]
    assert incidents[0]["status"] == "resolved"


def test_it_answers_404_for_an_unknown_or_malformed_token(api):
    assert api.get("/api/heartbeat/not-a-real-token-000").status_code == 404
    assert api.get("/api/heartbeat/..%2F..%2Fetc").status_code == 404
    assert api.post("/api/heartbeat/" + "x" * 500).status_code == 404
    assert "error" in api.get("/api/heartbeat/zzzzzzzzzzzz").json()


def test_it_acknowledges_but_ignores_calls_to_a_paused_monitor(api, alice):
    monitor = api.create_monitor(alice, name="paused job", type="heartbeat", interval=600)
    api.patch(f"/api/monitors/{monitor['id']}/toggle", alice, json={"is_active": False})
    response = api.get(monitor["heartbeat_url"])
    assert response.status_code == 200 and response.json()["status"] == "paused"
    assert status(api, alice, monitor["id"]) == "paused"


@pytest.mark.slow
def test_it_goes_down_when_no_call_arrives_within_interval_plus_grace(api, alice):
    monitor = api.create_monitor(alice, name="cron", type="heartbeat", interval=10, grace=0)
    api.get(monitor["heartbeat_url"])
    assert status(api, alice, monitor["id"]) == "up"
    wait_for(lambda: status(api, alice, monitor["id"]) == "down", timeout=30, interval=0.5,
             message="missed heartbeat to turn the monitor down")
    body = api.get(f"/api/monitors/{monitor['id']}", alice).json()
    assert "no heartbeat" in body["last_error"]


def test_it_limits_calls_per_token_not_per_user(api, alice):
    first = api.create_monitor(alice, name="chatty", type="heartbeat", interval=600)
    second = api.create_monitor(alice, name="quiet", type="heartbeat", interval=600)
    codes = [api.get(first["heartbeat_url"]).status_code for _ in range(61)]
    assert codes[:60] == [200] * 60
    limited = api.get(first["heartbeat_url"])
    assert limited.status_code == 429
    assert limited.json() == {"error": "rate limit exceeded"}
    assert "Retry-After" in limited.headers
    assert api.get(second["heartbeat_url"]).status_code == 200


def test_its_deadline_survives_a_restart(tmp_path):
    first = InProcessAppliance(tmp_path / "data").start()
    try:
        admin = first.admin()
        monitor = first.api.create_monitor(admin, name="job", type="heartbeat", interval=600, grace=0)
        first.api.get(monitor["heartbeat_url"])
        since = first.appliance.heartbeats.since(monitor["id"])
    finally:
        first.stop()
    second = InProcessAppliance(tmp_path / "data").start()
    try:
        assert second.appliance.heartbeats.since(monitor["id"]) == since
        assert status(second.api, second.admin(), monitor["id"]) == "up"
    finally:
        second.stop()


def test_it_gives_an_absolute_heartbeat_url_beside_the_contracts_relative_one(api, alice, server):
    monitor = api.create_monitor(alice, name="cron", type="heartbeat", interval=3600)
    assert monitor["heartbeat_full_url"] == server.url + monitor["heartbeat_url"]
    listed = {m["id"]: m for m in api.get("/api/monitors", alice).json()}[monitor["id"]]
    assert listed["heartbeat_full_url"] == monitor["heartbeat_full_url"]
    keys = list(monitor)
    assert keys.index("heartbeat_full_url") == keys.index("heartbeat_url") + 1
    assert api.session.get(monitor["heartbeat_full_url"], timeout=10).json()["ok"] is True  # works as given
    http = api.create_monitor(alice, name="site", type="http", target="http://127.0.0.1:9/")
    assert "heartbeat_full_url" not in http


def test_the_absolute_heartbeat_url_uses_the_public_url_when_set(tmp_path):
    served = InProcessAppliance(tmp_path / "data", public_url="https://status.example.test/base/").start(engine=False)
    try:
        owner = served.admin()
        monitor = served.api.create_monitor(owner, name="cron", type="heartbeat", interval=3600)
        assert monitor["heartbeat_url"].startswith("/api/heartbeat/")
        assert monitor["heartbeat_full_url"] == "https://status.example.test/base" + monitor["heartbeat_url"]
    finally:
        served.stop()
