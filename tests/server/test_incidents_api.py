"""GET /api/incidents (all of a user's incidents, filtered, a page at a time, newest first) and
GET /api/incidents/:id (one incident and its timeline), over HTTP against a running appliance
with its engine on. Incidents are made the real way: a heartbeat monitor's job reports a failure
(/fail: down at once) and then succeeds (up again); webhooks go to a real local receiver."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.net import wait_for
from tests.support.receiver import Receiver


def heartbeat_monitor(api, user, name="Nightly job") -> dict:
    return api.create_monitor(user, name=name, type="heartbeat", interval=3600, grace=600)


def report(api, monitor, failed: bool) -> None:
    response = api.get(monitor["heartbeat_url"] + ("/fail" if failed else ""))
    assert response.status_code == 200, response.text


def incidents(api, user, query: str = "") -> dict:
    response = api.get(f"/api/incidents{query}", user)
    assert response.status_code == 200, response.text
    return response.json()


def timeline(api, user, incident_id: int) -> dict:
    response = api.get(f"/api/incidents/{incident_id}", user)
    assert response.status_code == 200, response.text
    return response.json()


def test_it_lists_every_incident_of_mine_newest_first(api, alice, bob):
    job, other = heartbeat_monitor(api, alice), heartbeat_monitor(api, alice, "Backup")
    report(api, job, failed=True)
    report(api, job, failed=False)
    report(api, other, failed=True)
    report(api, job, failed=True)
    report(api, heartbeat_monitor(api, bob), failed=True)  # bob's: never in alice's list

    found = incidents(api, alice)
    listed = [(i["monitor_name"], i["status"]) for i in found["incidents"]]
    assert listed == [("Nightly job", "ongoing"), ("Backup", "ongoing"), ("Nightly job", "resolved")]
    ids = [i["id"] for i in found["incidents"]]
    assert ids == sorted(ids, reverse=True)
    assert (found["total"], found["limit"], found["offset"], found["next"]) == (3, 50, 0, None)
    first = found["incidents"][0]
    assert first["cause"] == "the job reported a failure (/fail)" and first["locations"] == ["local"]
    assert first["resolved_at"] is None and first["duration_seconds"] >= 0
    assert [i["monitor_name"] for i in incidents(api, bob)["incidents"]] == ["Nightly job"]


def test_it_filters_by_monitor_open_and_since(api, alice, bob):
    job, other = heartbeat_monitor(api, alice), heartbeat_monitor(api, alice, "Backup")
    report(api, job, failed=True)
    report(api, job, failed=False)
    report(api, other, failed=True)

    assert [i["monitor_id"] for i in incidents(api, alice, f"?monitor={job['id']}")["incidents"]] == [job["id"]]
    assert [i["monitor_name"] for i in incidents(api, alice, "?open=true")["incidents"]] == ["Backup"]
    assert [i["monitor_name"] for i in incidents(api, alice, "?open=false")["incidents"]] == ["Nightly job"]
    assert [i["monitor_name"] for i in incidents(api, alice, f"?open=false&monitor={other['id']}")["incidents"]] == []
    # since: those still going on at or after that time (an ongoing one always is).
    assert incidents(api, alice, "?since=2000-01-01T00:00:00Z")["total"] == 2
    assert [i["monitor_name"] for i in incidents(api, alice, "?since=2999-01-01T00:00:00Z")["incidents"]] == ["Backup"]
    # Another user's monitor is not found, as everywhere.
    response = api.get(f"/api/incidents?monitor={job['id']}", bob)
    assert response.status_code == 404 and response.json() == {"error": "monitor not found"}


def test_it_pages_with_limit_offset_and_next(api, alice):
    job = heartbeat_monitor(api, alice)
    for _ in range(3):
        report(api, job, failed=True)
        report(api, job, failed=False)

    page = incidents(api, alice, "?limit=2&open=false")
    assert (len(page["incidents"]), page["total"], page["offset"]) == (2, 3, 0)
    assert urlsplit(page["next"]).path == "/api/incidents"
    assert parse_qs(urlsplit(page["next"]).query) == {"open": ["false"], "limit": ["2"], "offset": ["2"]}
    rest = incidents(api, alice, page["next"].removeprefix("/api/incidents"))
    assert (len(rest["incidents"]), rest["offset"], rest["next"]) == (1, 2, None)
    every = [i["id"] for i in page["incidents"] + rest["incidents"]]
    assert every == sorted(every, reverse=True) and len(set(every)) == 3
    assert incidents(api, alice, "?offset=50")["incidents"] == []


@pytest.mark.parametrize("query, field", [
    ("?open=maybe", "open"), ("?since=yesterday", "since"), ("?since=2024-01-15T10:30:00", "since"),
    ("?limit=0", "limit"), ("?limit=201", "limit"), ("?offset=-1", "offset"), ("?monitor=abc", "monitor"),
])
def test_it_refuses_bad_filters_with_a_400_naming_them(api, alice, query, field):
    response = api.get(f"/api/incidents{query}", alice)
    assert response.status_code == 400, response.text
    assert field in response.json()["details"]


def test_it_needs_a_login(api, anonymous):
    assert api.get("/api/incidents", anonymous).status_code == 401
    assert api.get("/api/incidents/1", anonymous).status_code == 401


def test_an_incident_has_a_timeline_of_checks_down_notifications_and_recovery(api, alice):
    with Receiver() as hook:
        created = api.post("/api/settings/webhooks", alice,
                           json={"url": hook.url, "events": ["monitor.down", "monitor.up"]})
        assert created.status_code == 201, created.text
        job = heartbeat_monitor(api, alice)
        report(api, job, failed=True)
        report(api, job, failed=False)
        hook.wait_for_count(2)
        incident_id = incidents(api, alice, f"?monitor={job['id']}")["incidents"][0]["id"]

        def settled():  # the deliveries finished and the failed check is in the history
            body = timeline(api, alice, incident_id)
            kinds = [e["kind"] for e in body["timeline"]]
            delivered = [e for e in body["timeline"] if e["kind"] == "notification"
                         and e["details"]["state"] == "delivered"]
            return body if "failing" in kinds and len(delivered) == 2 else None

        body = wait_for(settled, timeout=20, message="the incident's timeline")
        api.delete(f"/api/settings/webhooks/{created.json()['id']}", alice)

    assert body["id"] == incident_id and body["status"] == "resolved" and body["monitor_name"] == "Nightly job"
    events = body["timeline"]
    # A notification stands at the time it finished (here maybe after the quick recovery).
    assert [e["kind"] for e in events if e["kind"] != "notification"] == ["failing", "down", "up"]
    failing, down, up = [e for e in events if e["kind"] != "notification"]
    sent_down, sent_up = sorted((e for e in events if e["kind"] == "notification"),
                                key=lambda e: e["details"]["event"])
    assert events.index(sent_down) > events.index(down) and events.index(sent_up) > events.index(up)
    assert failing["location"] == "local" and failing["details"]["failures"] == 1
    assert failing["details"]["errors"] == [{"error": "the job reported a failure (/fail)", "count": 1}]
    assert failing["message"].startswith("local: 1 of ")
    assert failing["message"].endswith("(most often: the job reported a failure (/fail))")
    assert down["at"] == body["started_at"] and down["details"] == {
        "cause": "the job reported a failure (/fail)", "locations": ["local"]}
    assert "Confirmed down at local" in down["message"]
    assert up["at"] == body["resolved_at"] and up["message"] == "Back up at local"
    for sent, event in ((sent_down, "monitor.down"), (sent_up, "monitor.up")):
        assert sent["details"]["event"] == event and sent["details"]["status_code"] == 200
        assert sent["details"]["attempts"] == 1 and sent["details"]["format"] == "generic"
        assert f"{event} to webhook" in sent["message"] and "delivered (HTTP 200, 1 attempt)" in sent["message"]
    assert all(e["at"] <= later["at"] for e, later in zip(events, events[1:]))


def test_a_paused_monitors_incident_ends_closed_not_recovered(api, alice):
    job = heartbeat_monitor(api, alice)
    report(api, job, failed=True)
    incident_id = incidents(api, alice, f"?monitor={job['id']}")["incidents"][0]["id"]
    posted = api.post(f"/api/incidents/{incident_id}/updates", alice,
                      json={"status": "identified", "message": "The disk is full; cleaning up."})
    assert posted.status_code == 201, posted.text
    assert api.patch(f"/api/monitors/{job['id']}/toggle", alice, json={"is_active": False}).status_code == 200
    incident = incidents(api, alice, f"?monitor={job['id']}")["incidents"][0]
    events = timeline(api, alice, incident["id"])["timeline"]
    assert [e["kind"] for e in events if e["kind"] != "failing"] == ["down", "update", "closed"]
    update = events[-2]
    assert update["message"] == "Update (identified): The disk is full; cleaning up."
    assert update["details"] == {"update_id": posted.json()["id"], "status": "identified"}
    assert events[-1]["at"] == incident["resolved_at"] and "paused" in events[-1]["message"]


def test_another_users_incident_is_not_found(api, alice, bob):
    job = heartbeat_monitor(api, alice)
    report(api, job, failed=True)
    incident_id = incidents(api, alice, f"?monitor={job['id']}")["incidents"][0]["id"]
    response = api.get(f"/api/incidents/{incident_id}", bob)
    assert response.status_code == 404 and response.json() == {"error": "incident not found"}
    assert api.get("/api/incidents/999999999", alice).status_code == 404
