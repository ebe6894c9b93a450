"""What a status page visitor can follow beyond the live states (issue #18): component groups with a
roll-up status, each day's response time, the owner's incident updates and maintenance notices,
and an Atom feed of it all.

Over real HTTP to an in-process appliance whose check engine is off: monitor states, results and
incidents are put into the stores directly, as the engine would have (no target is contacted).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta, timezone

import pytest
import schemathesis

from appliance.engine.live import LiveState
from appliance.services.status_pages import group_status
from appliance.state import LocationState
from appliance.storage.entities import Transition
from appliance.storage.history import ResultRow
from appliance.timeutil import iso
from server.openapi import build_document
from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.net import wait_for

CACHE_SECONDS = 0.5
ATOM = "{http://www.w3.org/2005/Atom}"
TARGET = "http://127.0.0.1:9/follow-target"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Overrides conftest's: engine off, and a short status page cache."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("follow") / "data",
                                  status_page_cache_seconds=CACHE_SECONDS).start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def openapi_schema():
    return schemathesis.openapi.from_dict(build_document())


_slugs = iter(range(1, 10_000))


def new_page(api, user, company: str = "Follow Co") -> str:
    slug = f"follow-{next(_slugs)}"
    response = api.put("/api/settings/status-page", user, json={"company_name": company, "slug": slug})
    assert response.status_code == 200, response.text
    return slug


def public_monitor(api, user, name: str, **fields) -> dict:
    monitor = api.create_monitor(user, name=name, type="http", target=TARGET, **fields)
    response = api.patch(f"/api/monitors/{monitor['id']}/public", user, json={"public_status": True})
    assert response.status_code == 200, response.text
    return response.json()


def set_live(server, monitor_id: int, status: str) -> None:
    server.appliance.live.set(monitor_id, LiveState(status=status, locations={"local": LocationState(status)},
                                                    last_check=datetime.now(timezone.utc)))


def fresh(api, slug: str, predicate, message: str) -> dict:
    """The public JSON once the cache has caught up (bounded by a few cache lifetimes)."""
    def attempt():
        response = api.get(f"/api/public/status/{slug}")
        assert response.status_code == 200, response.text
        body = response.json()
        return body if predicate(body) else None
    return wait_for(attempt, timeout=CACHE_SECONDS * 20, interval=0.1, message=message)


def open_incident(server, monitor_id: int, minutes_ago: int = 30) -> int:
    at = datetime.now(timezone.utc) - timedelta(minutes=minutes_ago)
    assert server.appliance.entities.record_transition(Transition(monitor_id, "pending", "down", at, "refused"))
    set_live(server, monitor_id, "down")
    return server.appliance.entities.incidents([monitor_id], limit=1)[0].id


# ---- groups -------------------------------------------------------------------------------------

def test_the_group_field_is_a_monitor_field_validated_and_shown(api, alice, openapi_schema):
    made = api.post("/api/monitors", alice, json={"name": "Grouped", "type": "http", "target": TARGET,
                                                  "group": "  Website  "})
    assert made.status_code == 201, made.text
    openapi_schema["/api/monitors"]["POST"].validate_response(made)
    assert made.json()["group"] == "Website"  # trimmed, like a name
    changed = api.put(f"/api/monitors/{made.json()['id']}", alice, json={"group": None})
    assert changed.status_code == 200 and changed.json()["group"] is None
    assert api.create_monitor(alice, name="Plain", type="http", target=TARGET)["group"] is None
    assert_error(api.post("/api/monitors", alice, json={"name": "G", "type": "http", "target": TARGET,
                                                        "group": "x" * 201}), 400, "group")
    assert_error(api.post("/api/monitors", alice, json={"name": "G", "type": "http", "target": TARGET,
                                                        "group": 7}), 400, "group")
    assert_error(api.put(f"/api/monitors/{made.json()['id']}", alice, json={"group": "two\nlines"}), 400, "group")


def test_groups_roll_up_to_the_worst_of_their_members(server, api, alice, openapi_schema):
    slug = new_page(api, alice)
    web = public_monitor(api, alice, "Website", group="Web")
    cdn = public_monitor(api, alice, "CDN", group="Web")
    rest = public_monitor(api, alice, "REST API", group="API")
    grpc = public_monitor(api, alice, "gRPC API", group="API", is_active=False)
    loose = public_monitor(api, alice, "Mail")
    for m, status in ((web, "up"), (cdn, "down"), (rest, "up"), (loose, "up")):
        set_live(server, m["id"], status)

    response = api.get(f"/api/public/status/{slug}")
    openapi_schema["/api/public/status/{slug}"]["GET"].validate_response(response)
    body = fresh(api, slug, lambda b: len(b["monitors"]) == 5 and b["groups"][0]["status"] == "partial_outage",
                 "the groups on the page")
    assert body["groups"] == [
        {"name": "Web", "status": "partial_outage", "monitor_ids": [web["id"], cdn["id"]]},
        {"name": "API", "status": "operational", "monitor_ids": [rest["id"], grpc["id"]]},  # paused: no vote
    ]
    assert [m["group"] for m in body["monitors"]] == ["Web", "Web", "API", "API", None]

    html = api.get(f"/status/{slug}").text
    assert 'aria-label="Web" data-group-status="partial_outage"' in html
    assert 'aria-label="API" data-group-status="operational"' in html
    assert html.index(">Mail<") < html.index(">Website<")  # ungrouped first, then the sections


@pytest.mark.parametrize("states, expected", [
    (["up", "up"], "operational"),
    (["up", "down"], "partial_outage"),
    (["down", "down", "paused"], "major_outage"),
    (["up", "maintenance"], "under_maintenance"),
    (["down", "maintenance"], "partial_outage"),  # a member down outranks one in maintenance
    (["maintenance", "paused"], "under_maintenance"),
    (["pending", "up"], "operational"),
    (["pending"], "no_data"),
    (["paused", "paused"], "paused"),
])
def test_the_roll_up_rule(states, expected):
    assert group_status(states) == expected


# ---- response times, time zones, the bar of a new monitor ------------------------------------------

def test_each_day_carries_its_average_response_time_and_the_page_draws_it(server, api, alice):
    slug = new_page(api, alice)
    monitor = public_monitor(api, alice, "Graphed")
    today = datetime.now(timezone.utc).date()
    rows = [ResultRow(monitor["id"], datetime.combine(today - timedelta(days=d), time(h), tzinfo=timezone.utc),
                      "local", True, float(ms)) for d, h, ms in ((2, 1, 100), (2, 2, 200), (1, 3, 50))]
    server.appliance.history.append_many(rows)
    server.appliance.history.flush()
    body = fresh(api, slug, lambda b: b["monitors"] and b["monitors"][0]["history"][-3]["response_time"],
                 "the response times")
    history = body["monitors"][0]["history"]
    assert [h["response_time"] for h in history[-3:]] == [150, 50, None]
    assert all(h["response_time"] is None for h in history[:-3])

    html = api.get(f"/status/{slug}").text
    assert '<svg class="rt"' in html and "<polyline" in html and "<script" not in html.split("<body>")[1]
    assert "50–150 ms" in html and "100 ms on average" in html
    assert f"{(today - timedelta(days=2)).isoformat()}: 150 ms" in html  # each day's point says it


def test_a_new_monitor_shows_the_days_before_it_existed_as_such(server, api, alice):
    slug = new_page(api, alice)
    public_monitor(api, alice, "Brand new")
    body = fresh(api, slug, lambda b: b["monitors"], "the monitor")
    today = datetime.now(timezone.utc).date().isoformat()
    assert body["monitors"][0]["monitoring_since"] == today
    html = api.get(f"/status/{slug}").text
    assert html.count("day day-before") == 89 and html.count("day day-none") == 1  # today: watched, no data yet
    assert ": not monitored yet" in html and f"Monitored since {today}" in html
    assert "not monitored yet</li>" in html  # in the legend too
    assert "No data yet" in html


def test_times_name_their_zone_and_an_ongoing_incident_is_down_not_was(server, api, alice):
    slug = new_page(api, alice)
    monitor = public_monitor(api, alice, "Checkout")
    open_incident(server, monitor["id"])
    fresh(api, slug, lambda b: b["incidents"], "the incident")
    html = api.get(f"/status/{slug}").text
    assert "Checkout is down" in html and "Checkout was down" not in html
    assert "Down since <time datetime=" in html and re.search(r"ongoing for \d+ min", html)
    started = server.appliance.entities.incidents([monitor["id"]])[0].started_at
    assert f'data-local>{iso(started)[:16].replace("T", " ")} UTC</time>' in html


# ---- incident updates -------------------------------------------------------------------------------

def test_the_owner_posts_updates_that_visitors_read(server, api, alice, openapi_schema):
    slug = new_page(api, alice)
    monitor = public_monitor(api, alice, "Payments")
    incident_id = open_incident(server, monitor["id"])

    first = api.post(f"/api/incidents/{incident_id}/updates", alice,
                     json={"status": "investigating", "message": "  The card processor times out.\nWe are on it.  "})
    assert first.status_code == 201, first.text
    openapi_schema["/api/incidents/{incident_id}/updates"]["POST"].validate_response(first)
    assert first.json()["message"] == "The card processor times out.\nWe are on it."
    second = api.post(f"/api/incidents/{incident_id}/updates", alice,
                      json={"status": "monitoring", "message": "A fix is out; watching."})
    assert second.status_code == 201
    listed = api.get(f"/api/incidents/{incident_id}/updates", alice)
    openapi_schema["/api/incidents/{incident_id}/updates"]["GET"].validate_response(listed)
    assert [u["status"] for u in listed.json()] == ["monitoring", "investigating"]  # newest first

    body = fresh(api, slug, lambda b: b["incidents"] and len(b["incidents"][0]["updates"]) == 2, "the updates")
    openapi_schema["/api/public/status/{slug}"]["GET"].validate_response(api.get(f"/api/public/status/{slug}"))
    assert [(u["status"], u["message"]) for u in body["incidents"][0]["updates"]] == [
        ("monitoring", "A fix is out; watching."), ("investigating", "The card processor times out.\nWe are on it.")]
    assert body["incidents"][0]["status"] == "ongoing"  # words never resolve what the checks see
    html = api.get(f"/status/{slug}").text
    assert "Monitoring</strong>" in html and "A fix is out; watching." in html

    removed = api.delete(f"/api/incidents/{incident_id}/updates/{second.json()['id']}", alice)
    assert removed.status_code == 204
    fresh(api, slug, lambda b: len(b["incidents"][0]["updates"]) == 1, "the update gone from the page")
    assert_error(api.delete(f"/api/incidents/{incident_id}/updates/{second.json()['id']}", alice), 404)


def test_updates_are_stored_durably(tmp_path, api):
    """A restart keeps them (SQLite, like every entity), and the table is added to an older data dir."""
    instance = InProcessAppliance(tmp_path / "data").start(engine=False)
    try:
        admin = instance.admin()
        monitor = instance.api.create_monitor(admin, name="Durable", type="http", target=TARGET)
        incident_id = open_incident(instance, monitor["id"])
        assert instance.api.post(f"/api/incidents/{incident_id}/updates", admin,
                                 json={"status": "identified", "message": "Disk full."}).status_code == 201
    finally:
        instance.stop()
    again = InProcessAppliance(tmp_path / "data").start(engine=False)
    try:
        listed = again.api.get(f"/api/incidents/{incident_id}/updates", again.admin()).json()
        assert [(u["status"], u["message"]) for u in listed] == [("identified", "Disk full.")]
    finally:
        again.stop()


def test_nobody_else_reads_or_writes_an_incidents_updates(server, api, alice, bob, anonymous):
    monitor = api.create_monitor(alice, name="Alice's", type="http", target=TARGET)
    incident_id = open_incident(server, monitor["id"])
    posted = api.post(f"/api/incidents/{incident_id}/updates", alice, json={"status": "identified", "message": "x"})
    path = f"/api/incidents/{incident_id}/updates"
    body = {"status": "resolved", "message": "fixed"}
    assert_error(api.get(path, bob), 404)
    assert_error(api.post(path, bob, json=body), 404)
    assert_error(api.post(path, bob, json={"bad": 1}), 404)  # 404 before anything about the body
    assert_error(api.delete(f"{path}/{posted.json()['id']}", bob), 404)
    assert api.get(path, anonymous).status_code == 401
    assert_error(api.post("/api/incidents/999999/updates", alice, json=body), 404)
    assert len(api.get(path, alice).json()) == 1


@pytest.mark.parametrize("body, field", [
    ({"status": "fixed", "message": "x"}, "status"),
    ({"status": "resolved", "message": ""}, "message"),
    ({"status": "resolved", "message": "   "}, "message"),
    ({"status": "resolved", "message": "x" * 5001}, "message"),
    ({"status": "resolved", "message": 5}, "message"),
    ({"status": "resolved", "message": "bad\x1bescape"}, "message"),
    ({"status": "resolved", "message": "hidden \u202e order"}, "message"),
    ({"status": "resolved"}, "message"),
    ({"status": "resolved", "message": "x", "extra": 1}, "extra"),
])
def test_an_update_is_validated(server, api, alice, body, field):
    monitor = api.create_monitor(alice, name="Validated", type="http", target=TARGET)
    incident_id = open_incident(server, monitor["id"])
    assert_error(api.post(f"/api/incidents/{incident_id}/updates", alice, json=body), 400, field)


# ---- maintenance notices ---------------------------------------------------------------------------

def window(monitor_ids: list[int], hours_from_now: float, hours: float = 2, **fields) -> dict:
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=hours_from_now)
    return {"name": "Database upgrade", "monitor_ids": monitor_ids, "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=hours)), **fields}


def test_a_maintenance_window_with_a_notice_is_announced(server, api, alice, openapi_schema):
    slug = new_page(api, alice)
    db = public_monitor(api, alice, "Database")
    hidden = api.create_monitor(alice, name="Hidden replica", type="http", target=TARGET)
    made = api.post("/api/maintenance", alice, json=window(
        [db["id"], hidden["id"]], 24, notice="We move to new disks.\nExpect 5 minutes of errors."))
    assert made.status_code == 201, made.text
    openapi_schema["/api/maintenance"]["POST"].validate_response(made)
    assert made.json()["notice"] == "We move to new disks.\nExpect 5 minutes of errors."
    api.post("/api/maintenance", alice, json=window([db["id"]], 2, name="Quiet one"))  # no notice: not shown
    api.post("/api/maintenance", alice, json=window([db["id"]], 24 * 40, name="Far", notice="later"))  # > 30 days

    body = fresh(api, slug, lambda b: b["notices"], "the notice")
    openapi_schema["/api/public/status/{slug}"]["GET"].validate_response(api.get(f"/api/public/status/{slug}"))
    [notice] = body["notices"]
    assert notice["title"] == "Database upgrade" and notice["status"] == "scheduled"
    assert notice["monitor_ids"] == [db["id"]]  # never the private monitor
    assert notice["starts_at"] == made.json()["starts_at"] and notice["recurring"] is False
    html = api.get(f"/status/{slug}").text
    assert "Scheduled maintenance</span> Database upgrade" in html and "Affects: Database" in html
    assert "Hidden replica" not in html

    api.put(f"/api/maintenance/{made.json()['id']}", alice, json={
        "starts_at": iso(datetime.now(timezone.utc) - timedelta(minutes=5)),
        "ends_at": iso(datetime.now(timezone.utc) + timedelta(hours=1))})
    body = fresh(api, slug, lambda b: b["notices"] and b["notices"][0]["status"] == "in_progress", "in progress")
    assert body["monitors"][0]["in_maintenance"] is True
    assert "Maintenance in progress" in api.get(f"/status/{slug}").text

    cleared = api.put(f"/api/maintenance/{made.json()['id']}", alice, json={"notice": None})
    assert cleared.json()["notice"] is None
    fresh(api, slug, lambda b: not b["notices"], "the notice withdrawn")


def test_a_weekly_window_announces_its_next_period(server, api, alice):
    slug = new_page(api, alice)
    db = public_monitor(api, alice, "Nightly DB")
    made = api.post("/api/maintenance", alice, json={
        "name": "Backups", "monitor_ids": [db["id"]], "notice": "Read-only for a few minutes.",
        "recurring": {"weekdays": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"], "start": "03:00",
                      "duration_minutes": 30, "timezone": "Europe/Berlin"}})
    assert made.status_code == 201, made.text
    notice = fresh(api, slug, lambda b: b["notices"], "the weekly notice")["notices"][0]
    assert notice["recurring"] is True
    start = datetime.fromisoformat(notice["starts_at"].replace("Z", "+00:00"))
    assert start - datetime.now(timezone.utc) < timedelta(days=1, minutes=1)  # the next one, within a day


@pytest.mark.parametrize("notice", ["x" * 2001, "bad\x00nul", "bi\u2066di", 12])
def test_a_notice_is_validated(api, alice, notice):
    monitor = api.create_monitor(alice, name="N", type="http", target=TARGET)
    assert_error(api.post("/api/maintenance", alice, json=window([monitor["id"]], 1, notice=notice)), 400, "notice")


# ---- the Atom feed ---------------------------------------------------------------------------------

def test_the_feed_is_valid_atom_with_incidents_updates_and_notices(server, api, alice):
    slug = new_page(api, alice, "Feed & Co")
    web = public_monitor(api, alice, "Web <shop>")
    private = api.create_monitor(alice, name="Private thing", type="http", target=TARGET)
    incident_id = open_incident(server, web["id"], minutes_ago=90)
    open_incident(server, private["id"])
    api.post(f"/api/incidents/{incident_id}/updates", alice, json={"status": "identified", "message": "A bad deploy."})
    api.post("/api/maintenance", alice, json=window([web["id"]], 5, notice="Shop closed & back soon."))
    fresh(api, slug, lambda b: b["notices"] and b["incidents"] and b["incidents"][0]["updates"], "everything")

    response = api.get(f"/status/{slug}/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.content)
    assert root.tag == f"{ATOM}feed"
    page_url = f"{api.base_url}/status/{slug}"
    assert root.findtext(f"{ATOM}id") == page_url
    assert root.findtext(f"{ATOM}title") == "Feed & Co status"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated").replace("Z", "+00:00"))
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links == {"self": f"{page_url}/feed.atom", "alternate": page_url}
    assert root.find(f"{ATOM}author/{ATOM}name").text == "Feed & Co"

    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2  # the public incident and the notice; never the private monitor's
    by_kind = {e.find(f"{ATOM}category").get("term"): e for e in entries}
    incident = by_kind["incident"]
    assert incident.findtext(f"{ATOM}id") == f"{page_url}#incident-{incident_id}"
    assert incident.find(f"{ATOM}link").get("href") == f"{page_url}#incident-{incident_id}"
    assert incident.findtext(f"{ATOM}title") == "Web <shop> is down"
    assert "Identified" in incident.findtext(f"{ATOM}content") and "A bad deploy." in incident.findtext(f"{ATOM}content")
    notice = by_kind["maintenance"]
    assert notice.findtext(f"{ATOM}title") == "Scheduled maintenance: Database upgrade"
    assert "Shop closed & back soon." in notice.findtext(f"{ATOM}content")
    for entry in entries:
        for tag in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{tag}"), f"an entry without {tag}"
        datetime.fromisoformat(entry.findtext(f"{ATOM}updated").replace("Z", "+00:00"))
    assert "Private thing" not in response.text and TARGET not in response.text

    html = api.get(f"/status/{slug}").text
    assert (f'<link rel="alternate" type="application/atom+xml" title="Feed &amp; Co status: incidents and '
            f'maintenance" href="/status/{slug}/feed.atom">') in html
    assert f'id="incident-{incident_id}"' in html  # where the entries link to


def test_the_feed_of_an_unknown_page_is_404(api):
    assert_error(api.get("/status/no-such-page/feed.atom"), 404)
    assert_error(api.get("/status/NOPE/feed.atom"), 404)


def test_group_and_notice_travel_in_an_export_and_import(server, api, alice, admin):
    monitor = api.create_monitor(alice, name="Exported", type="http", target=TARGET, group="Website")
    assert api.post("/api/maintenance", alice, json=window([monitor["id"]], 3, name="Announced",
                                                           notice="Back soon.")).status_code == 201
    document = api.get("/api/export?format=json", alice).json()
    assert next(m for m in document["monitors"] if m["name"] == "Exported")["group"] == "Website"
    assert next(w for w in document["maintenance"] if w["name"] == "Announced")["notice"] == "Back soon."

    again = api.post("/api/import?dry_run=true", alice, json=document)
    assert again.status_code == 200 and not again.json()["updated"], again.text  # unchanged
    changed = next(w for w in document["maintenance"] if w["name"] == "Announced")
    changed["notice"] = "Back in an hour."
    report = api.post("/api/import?dry_run=false", alice, json=document).json()
    assert report["updated"] == [{"kind": "maintenance", "name": "Announced"}], report
    windows = api.get("/api/maintenance", alice).json()
    assert next(w for w in windows if w["name"] == "Announced")["notice"] == "Back in an hour."
