"""An import is all or nothing, and its dry run tells the truth: for documents that once passed a
dry run and then failed the real run (after creating a monitor), or failed half-way, the dry run
now answers exactly what the real run answers, and a refused real run leaves the store as it was.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest

from appliance.imports import ImportPlan, WindowSpec
from appliance.storage.entities import Conflict
from appliance.validation import normalize_monitor
from appliance.monitor_types.fields import CONFIG_FIELDS, CREATE_DEFAULTS
from tests.support.appliance import InProcessAppliance

NEW = {"name": "New", "type": "tcp", "target": "127.0.0.1", "port": 9, "is_active": False}
DB = {"name": "DB", "type": "tcp", "target": "127.0.0.1", "port": 9, "is_active": False}
ONE_OFF = {"starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"}
HOOK = "http://127.0.0.1:9/hook"

TRICKY = {
    # name: (document, the status both runs answer)
    "two monitors with one name": ({"monitors": [NEW, {**NEW, "port": 10}]}, 400),
    "a window for a monitor the document creates": (
        {"monitors": [NEW], "maintenance": [{"name": "Deploy", "monitors": ["New", "DB"], **ONE_OFF}]}, 200),
    "the status page address of another user": (
        {"monitors": [NEW], "webhooks": [{"url": HOOK}], "status_page": {"company_name": "Alice", "slug": "taken"}},
        409),
    "one webhook URL twice": ({"monitors": [NEW], "webhooks": [{"url": HOOK}, {"url": HOOK, "format": "slack"}]}, 400),
    "a monitor whose type changes, after a new one": (
        {"monitors": [NEW, {**DB, "type": "https", "target": "https://127.0.0.1:9/", "port": None}]}, 400),
    "a window starting off the calendar in UTC": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New"],
                                              "starts_at": "0001-01-01T00:00:00+14:00", "ends_at": ONE_OFF["ends_at"]}]},
        400),
    "a window ending off the calendar in UTC": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New"], "starts_at": ONE_OFF["starts_at"],
                                              "ends_at": "9999-12-31T23:00:00-01:00"}]}, 400),
    "a weekly window in a folder of the zone database": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New"], "recurring": {
            "weekdays": ["sun"], "start": "02:00", "duration_minutes": 60, "timezone": "Europe"}}]}, 400),
    "a window naming a monitor twice": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New", "New"], **ONE_OFF}]}, 400),
    "two windows with one name": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New"], **ONE_OFF},
                                            {"name": "W", "monitors": ["DB"], **ONE_OFF}]}, 400),
    "a window naming an unknown monitor": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New", "Nope"], **ONE_OFF}]}, 400),
    "a window whose monitors are not names": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": [{"name": "New"}], **ONE_OFF}]}, 400),
    "a window with monitor_ids as the API has them": (
        {"maintenance": [{"name": "W", "monitors": ["DB"], "monitor_ids": [1], **ONE_OFF}]}, 400),
    "a window time given as a Unix time": (
        {"monitors": [NEW], "maintenance": [{"name": "W", "monitors": ["New"], "starts_at": 1893456000,
                                              "ends_at": 1893459600}]}, 400),
    "version 1.0": ({"version": 1.0, "monitors": [NEW]}, 400),
    "an empty object where a list belongs": ({"monitors": [NEW], "maintenance": {}}, 400),
    "everything at once": (
        {"monitors": [NEW, {**DB, "retries": 3}], "webhooks": [{"url": HOOK, "events": ["monitor.down"]}],
         "status_page": {"company_name": "Alice", "slug": "alice-status"},
         "maintenance": [{"name": "Existing", "monitors": ["DB", "New"], **ONE_OFF}]}, 200),
}


@pytest.fixture
def server(tmp_path):
    instance = InProcessAppliance(tmp_path / "data").start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def alice(server):
    """alice has a monitor DB, a webhook and a window on DB; bob's status page is at "taken"."""
    api, admin = server.api, server.admin()
    alice = api.create_user(admin, "alice@example.test")
    db = api.create_monitor(alice, **DB)
    assert api.post("/api/settings/webhooks", alice, json={"url": "http://127.0.0.1:9/existing"}).status_code == 201
    assert api.post("/api/maintenance", alice, json={"name": "Existing", "monitor_ids": [db["id"]],
                                                      **ONE_OFF}).status_code == 201
    bob = api.create_user(admin, "bob@example.test")
    assert api.put("/api/settings/status-page", bob, json={"company_name": "Bob", "slug": "taken"}).status_code == 200
    return alice


def snapshot(api, user) -> dict:
    """Everything an import could touch, ids included (a row deleted and made again shows)."""
    return {"export": api.get("/api/export", user).json(),
            "monitors": [(m["id"], m["name"], m["retries"]) for m in api.get("/api/monitors", user).json()],
            "webhooks": [(h["id"], h["url"], h["events"]) for h in api.get("/api/settings/webhooks", user).json()],
            "maintenance": [(w["id"], w["monitor_ids"], w["starts_at"]) for w in api.get("/api/maintenance", user).json()],
            "status_page": api.get("/api/settings/status-page", user).json()}


@pytest.mark.parametrize("name", TRICKY)
def test_a_dry_run_answers_what_the_real_run_does_and_a_refused_run_changes_nothing(server, alice, name):
    document, status = TRICKY[name]
    api = server.api
    before = snapshot(api, alice)
    dry = api.post("/api/import?dry_run=true", alice, json=document)
    assert snapshot(api, alice) == before
    real = api.post("/api/import", alice, json=document)
    assert (dry.status_code, real.status_code) == (status, status), (dry.text, real.text)
    if status == 200:
        assert {**dry.json(), "dry_run": False} == real.json()
        assert api.post("/api/import", alice, json=document).json()["created"] == []  # done: nothing more to do
        return
    assert dry.json() == real.json()
    error = real.json()
    assert error["error"].endswith(".") and error["details"], error
    assert snapshot(api, alice) == before


def test_it_refuses_a_name_that_matches_several_of_your_monitors(server, alice):
    api = server.api
    api.create_monitor(alice, **DB)  # a second "DB": the API allows it, an import cannot tell them apart
    for dry_run in ("true", "false"):
        response = api.post(f"/api/import?dry_run={dry_run}", alice, json={"monitors": [{**DB, "retries": 4}]})
        assert response.status_code == 400 and "2 of your monitors are named 'DB'" in response.json()["error"]
        response = api.post(f"/api/import?dry_run={dry_run}", alice, json={
            "maintenance": [{"name": "W", "monitors": ["DB"], **ONE_OFF}]})
        assert response.status_code == 400 and "maintenance[0].monitors" in response.json()["details"]


def test_a_window_whose_monitors_are_gone_exports_and_imports_again(server, alice):
    api = server.api
    db = api.get("/api/monitors", alice).json()[0]
    assert api.delete(f"/api/monitors/{db['id']}", alice).status_code == 204
    exported = api.get("/api/export", alice).json()
    assert exported["maintenance"][0]["monitors"] == []
    again = api.post("/api/import", alice, json=exported)
    assert again.status_code == 200 and again.json()["created"] == [] and again.json()["updated"] == []


@pytest.fixture
def engine_server(tmp_path):
    instance = InProcessAppliance(tmp_path / "data").start()
    yield instance
    instance.stop()


def test_a_failure_inside_the_transaction_leaves_no_row_and_no_schedule(engine_server):
    """What no plan check can see coming (the slug taken, a monitor deleted, between the check and
    the write) fails the one transaction: nothing is written, nothing scheduled."""
    api, app = engine_server.api, engine_server.appliance
    admin = engine_server.admin()
    alice = api.create_user(admin, "alice@example.test")
    bob = api.create_user(admin, "bob@example.test")
    api.put("/api/settings/status-page", bob, json={"company_name": "Bob", "slug": "taken"})
    fields = normalize_monitor({f: {**CREATE_DEFAULTS, **NEW, "is_active": True}.get(f) for f in CONFIG_FIELDS},
                               app.known_locations())
    start = datetime.now(timezone.utc) + timedelta(days=1)
    plan = ImportPlan(alice.id, new_monitors=[fields],
                      new_webhooks=[{"url": HOOK, "format": "generic", "events": ["monitor.down"], "enabled": True}],
                      new_windows=[WindowSpec("W", ("New",), start, start + timedelta(hours=1))],
                      status_page={"company_name": "Alice", "status_page_slug": "taken"})
    user = app.entities.get_user(alice.id)
    scheduled = len(app.scheduler)
    before = snapshot(api, alice)
    with pytest.raises(Conflict):
        app.apply_import(user, plan)
    with pytest.raises(Conflict):  # a monitor it changes was deleted meanwhile
        app.apply_import(user, replace(plan, status_page=None, monitor_changes={10**9: {"retries": 2}}))
    assert snapshot(api, alice) == before and len(app.scheduler) == scheduled

    app.apply_import(user, replace(plan, status_page=None))  # the rest of it goes through, and is checked
    monitors = api.get("/api/monitors", alice).json()
    assert [m["name"] for m in monitors] == ["New"] and len(app.scheduler) == scheduled + 1
    assert api.get("/api/maintenance", alice).json()[0]["monitor_ids"] == [monitors[0]["id"]]
