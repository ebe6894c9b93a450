"""Monitor CRUD over HTTP: create, list, get, update, delete, toggle and the public flag.

The server here runs without its check engine, so no target is ever contacted and every
active monitor stays `pending`.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from appliance.storage.history import ResultRow
from appliance.timeutil import utcnow
from tests.support.asserts import assert_error

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
BASE_KEYS = {"id", "name", "type", "target", "port", "ssl_check", "check_locations", "interval", "timeout",
             "retries", "is_active", "public_status", "status", "response_time", "last_check",
             "uptime_percentage", "location_status", "created_at"}


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


# alice and bob live for the whole module: every test makes its own monitors.
@pytest.fixture(scope="module")
def alice(api, admin):
    return api.create_user(admin, "crud-alice@example.test", full_name="Alice", subscription_tier="pro")


@pytest.fixture(scope="module")
def bob(api, admin):
    return api.create_user(admin, "crud-bob@example.test", full_name="Bob")


def _url(monitor: dict, suffix: str = "") -> str:
    return f"/api/monitors/{monitor['id']}{suffix}"


# ---- create ------------------------------------------------------------------------------------

def test_it_creates_an_https_monitor_with_the_documented_defaults(api, alice):
    response = api.post("/api/monitors", alice, json={"name": "Website", "type": "https",
                                                       "target": "https://example.com"})
    assert response.status_code == 201, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert BASE_KEYS <= set(body)
    assert isinstance(body["id"], int)
    assert {k: body[k] for k in ("name", "type", "target", "port", "ssl_check", "check_locations", "interval",
                                 "timeout", "retries", "is_active", "public_status", "status")} == {
        "name": "Website", "type": "https", "target": "https://example.com", "port": None, "ssl_check": True,
        "check_locations": ["all"], "interval": 60, "timeout": 10, "retries": 1, "is_active": True,
        "public_status": False, "status": "pending"}
    assert body["response_time"] is None and body["last_check"] is None
    assert body["uptime_percentage"] is None
    assert ISO_Z.match(body["created_at"])
    assert "ssl" in body
    assert not {"domain", "heartbeat_url", "grace"} & set(body)


def test_it_creates_an_http_monitor_without_ssl_check(api, alice):
    body = api.create_monitor(alice, name="Plain", type="http", target="http://intranet.example/health")
    assert body["ssl_check"] is False
    assert not {"ssl", "domain", "heartbeat_url", "grace"} & set(body)
    assert body["port"] is None


def test_it_leaves_out_ssl_when_an_https_monitor_skips_the_certificate_check(api, alice):
    body = api.create_monitor(alice, name="No cert", type="https", target="https://example.com", ssl_check=False)
    assert body["ssl_check"] is False
    assert "ssl" not in body


def test_it_stores_every_optional_field_given(api, alice):
    body = api.create_monitor(alice, name="Tuned", type="https", target="https://example.com/health?x=1",
                              interval=30, timeout=5, retries=3, check_locations=["local"],
                              keyword="healthy", expected_status=204, is_active=True, public_status=True)
    assert (body["interval"], body["timeout"], body["retries"]) == (30, 5, 3)
    assert body["check_locations"] == ["local"]
    assert (body["keyword"], body["expected_status"], body["public_status"]) == ("healthy", 204, True)
    assert api.get(_url(body), alice).json() == body


def test_it_creates_a_tcp_monitor_with_its_port(api, alice):
    body = api.create_monitor(alice, name="Database", type="tcp", target="db.internal", port=5432)
    assert (body["target"], body["port"], body["ssl_check"]) == ("db.internal", 5432, False)
    assert not {"ssl", "domain", "heartbeat_url", "grace", "keyword"} & set(body)


def test_it_creates_a_sip_monitor_with_or_without_a_port(api, alice):
    assert api.create_monitor(alice, name="PBX", type="sip", target="pbx.example.com")["port"] is None
    with_port = api.create_monitor(alice, name="PBX 2", type="sip", target="sip:pbx.example.com:5070")
    assert with_port["port"] == 5070
    assert api.create_monitor(alice, name="PBX 3", type="sip", target="127.10.0.5", port=5061)["port"] == 5061


def test_it_creates_a_ping_monitor_with_a_null_port(api, alice):
    body = api.create_monitor(alice, name="Router", type="ping", target="127.168.1.1")
    assert body["port"] is None and body["target"] == "127.168.1.1"


def test_it_gives_a_domain_monitor_a_domain_key(api, alice):
    body = api.create_monitor(alice, name="Domain", type="domain", target="example.com")
    assert "domain" in body and body["port"] is None
    assert not {"ssl", "heartbeat_url", "grace"} & set(body)


def test_it_gives_a_heartbeat_monitor_a_url_and_grace_and_no_target(api, alice):
    body = api.create_monitor(alice, name="Nightly backup", type="heartbeat", interval=3600)
    assert body["target"] is None and body["port"] is None
    assert re.fullmatch(r"/api/heartbeat/[A-Za-z0-9_-]{16,}", body["heartbeat_url"])
    assert body["grace"] == 60
    assert not {"ssl", "domain"} & set(body)
    other = api.create_monitor(alice, name="Hourly job", type="heartbeat", grace=300)
    assert other["grace"] == 300
    assert other["heartbeat_url"] != body["heartbeat_url"]


def test_it_creates_an_inactive_monitor_as_paused(api, alice):
    body = api.create_monitor(alice, name="Later", type="http", target="http://example.com", is_active=False)
    assert body["is_active"] is False and body["status"] == "paused"


def test_it_trims_the_name(api, alice):
    assert api.create_monitor(alice, name="  Spaced  ", type="ping", target="127.10.0.1")["name"] == "Spaced"


# ---- list and get ------------------------------------------------------------------------------

def test_it_lists_only_my_monitors_in_creation_order(api, admin, bob):
    carol = api.create_user(admin, "crud-carol@example.test")
    mine = [api.create_monitor(carol, name=f"M{i}", type="ping", target=f"127.10.0.{i}") for i in range(1, 4)]
    api.create_monitor(bob, name="Bob's", type="ping", target="127.10.1.1")
    response = api.get("/api/monitors", carol)
    assert response.status_code == 200
    listed = response.json()
    assert [m["id"] for m in listed] == [m["id"] for m in mine]
    assert listed == mine
    assert all(BASE_KEYS <= set(m) for m in listed)


def test_it_lists_nothing_for_a_new_user(api, admin):
    dave = api.create_user(admin, "crud-dave@example.test")
    assert api.get("/api/monitors", dave).json() == []


def test_it_gets_one_monitor(api, alice):
    created = api.create_monitor(alice, name="One", type="tcp", target="127.11.1.1", port=22)
    response = api.get(_url(created), alice)
    assert response.status_code == 200
    assert response.json() == created


def test_it_answers_404_for_a_monitor_that_never_existed(api, alice):
    assert_error(api.get("/api/monitors/987654", alice), 404)


# ---- update ------------------------------------------------------------------------------------

def test_it_updates_some_fields_and_keeps_the_others(api, alice):
    created = api.create_monitor(alice, name="Site", type="https", target="https://example.com", retries=2,
                                 keyword="Welcome", public_status=True)
    response = api.put(_url(created), alice, json={"name": "Renamed", "interval": 120})
    assert response.status_code == 200, response.text
    updated = response.json()
    assert (updated["name"], updated["interval"]) == ("Renamed", 120)
    unchanged = {k: v for k, v in created.items() if k not in ("name", "interval")}
    assert {k: updated[k] for k in unchanged} == unchanged
    assert api.get(_url(created), alice).json() == updated


def test_it_updates_every_editable_field(api, alice):
    created = api.create_monitor(alice, name="Site", type="https", target="https://example.com")
    changes = {"name": "New", "target": "https://example.org/ping", "ssl_check": False,
               "check_locations": ["local"], "interval": 300, "timeout": 30, "retries": 0,
               "keyword": "pong", "expected_status": 200, "is_active": False, "public_status": True}
    updated = api.put(_url(created), alice, json=changes).json()
    assert {k: updated[k] for k in changes} == changes
    assert updated["status"] == "paused"


def test_it_accepts_the_same_type_in_an_update(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    response = api.put(_url(created), alice, json={"type": "http", "name": "Same type"})
    assert response.status_code == 200 and response.json()["name"] == "Same type"


def test_it_refuses_to_change_the_type(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    for body in ({"type": "https", "target": "https://example.com"}, {"type": "tcp", "port": 80}):
        assert_error(api.put(_url(created), alice, json=body), 400, "type")
    assert api.get(_url(created), alice).json() == created


def test_it_validates_an_update_against_the_monitors_type(api, alice):
    created = api.create_monitor(alice, name="DB", type="tcp", target="127.10.0.1", port=5432)
    assert_error(api.put(_url(created), alice, json={"target": "http://127.10.0.1"}), 400, "target")
    assert_error(api.put(_url(created), alice, json={"port": None}), 400, "port")
    assert_error(api.put(_url(created), alice, json={"ssl_check": True}), 400, "ssl_check")
    assert_error(api.put(_url(created), alice, json={"interval": 5}), 400, "interval")
    assert_error(api.put(_url(created), alice, json={"name": None}), 400, "name")
    assert_error(api.put(_url(created), alice, json={"colour": "red"}), 400, "colour")
    assert api.get(_url(created), alice).json() == created


def test_it_clears_an_optional_field_with_null(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com",
                                 keyword="Welcome", expected_status=200)
    updated = api.put(_url(created), alice, json={"keyword": None, "expected_status": None}).json()
    assert updated["keyword"] is None and updated["expected_status"] is None


def test_it_changes_a_heartbeats_grace_but_keeps_its_url(api, alice):
    created = api.create_monitor(alice, name="Cron", type="heartbeat")
    updated = api.put(_url(created), alice, json={"grace": 600, "interval": 900}).json()
    assert (updated["grace"], updated["interval"]) == (600, 900)
    assert updated["heartbeat_url"] == created["heartbeat_url"]


def test_it_accepts_an_empty_update(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    response = api.put(_url(created), alice, json={})
    assert response.status_code == 200 and response.json() == created


# ---- delete ------------------------------------------------------------------------------------

def test_it_deletes_a_monitor_and_all_its_history(api, server, alice):
    doomed = api.create_monitor(alice, name="Doomed", type="http", target="http://example.com")
    kept = api.create_monitor(alice, name="Kept", type="http", target="http://example.com")
    history = server.appliance.history
    now = utcnow()
    for monitor in (doomed, kept):
        history.append_many(ResultRow(monitor["id"], now - timedelta(minutes=i), "local", i % 2 == 0, 10.0 + i)
                            for i in range(5))
    history.flush()
    assert api.get(_url(doomed, "/history"), alice).json()["history"]

    response = api.delete(_url(doomed), alice)
    assert response.status_code == 204
    assert response.content == b""

    assert_error(api.get(_url(doomed), alice), 404)
    assert_error(api.get(_url(doomed, "/history"), alice), 404)
    assert_error(api.delete(_url(doomed), alice), 404)
    assert history.count(doomed["id"]) == 0
    assert history.count(kept["id"]) == 5
    assert doomed["id"] not in [m["id"] for m in api.get("/api/monitors", alice).json()]


def test_it_never_reuses_a_deleted_monitors_id(api, alice):
    first = api.create_monitor(alice, name="A", type="ping", target="127.10.0.1")
    assert api.delete(_url(first), alice).status_code == 204
    second = api.create_monitor(alice, name="B", type="ping", target="127.10.0.1")
    assert second["id"] > first["id"]


# ---- toggle and public -------------------------------------------------------------------------

def test_it_pauses_and_resumes_a_monitor(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    paused = api.patch(_url(created, "/toggle"), alice, json={"is_active": False})
    assert paused.status_code == 200, paused.text
    assert paused.json()["is_active"] is False and paused.json()["status"] == "paused"
    assert api.get(_url(created), alice).json()["status"] == "paused"
    listed = {m["id"]: m for m in api.get("/api/monitors", alice).json()}
    assert listed[created["id"]]["status"] == "paused"

    again = api.patch(_url(created, "/toggle"), alice, json={"is_active": False})
    assert again.status_code == 200 and again.json()["status"] == "paused"

    resumed = api.patch(_url(created, "/toggle"), alice, json={"is_active": True}).json()
    assert resumed["is_active"] is True and resumed["status"] == "pending"
    assert {k: resumed[k] for k in ("name", "target", "interval")} == {
        k: created[k] for k in ("name", "target", "interval")}


@pytest.mark.parametrize("send", [{"json": {}}, {}, {"data": b"", "headers": {"Content-Type": "application/json"}}],
                         ids=["{}", "no body", "empty JSON body"])
def test_an_empty_toggle_flips_the_monitor(api, alice, send):
    """What a "toggle" button sends: no is_active at all. (Before, it needed an undocumented body.)"""
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    paused = api.patch(_url(created, "/toggle"), alice, **send)
    assert paused.status_code == 200, paused.text
    assert paused.json()["is_active"] is False and paused.json()["status"] == "paused"
    resumed = api.patch(_url(created, "/toggle"), alice, **send)
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["is_active"] is True and resumed.json()["status"] == "pending"


def test_an_empty_toggle_of_another_users_monitor_is_not_found(api, alice, bob):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    assert_error(api.patch(_url(created, "/toggle"), bob), 404)
    assert api.get(_url(created), alice).json()["is_active"] is True


def test_it_publishes_and_unpublishes_a_monitor(api, alice):
    created = api.create_monitor(alice, name="Site", type="http", target="http://example.com")
    assert created["public_status"] is False
    response = api.patch(_url(created, "/public"), alice, json={"public_status": True})
    assert response.status_code == 200, response.text
    assert response.json()["public_status"] is True
    assert api.get(_url(created), alice).json()["public_status"] is True
    assert api.patch(_url(created, "/public"), alice, json={"public_status": False}).json()["public_status"] is False


@pytest.mark.parametrize("suffix, body, field", [
    ("/toggle", {"is_active": "false"}, "is_active"),
    ("/toggle", {"is_active": 0}, "is_active"),
    ("/toggle", {"is_active": None}, "is_active"),
    ("/toggle", {"is_active": True, "public_status": True}, "public_status"),
    ("/public", {}, "public_status"),
    ("/public", {"public_status": "yes"}, "public_status"),
    ("/public", {"public_status": 1}, "public_status"),
    ("/public", {"public_status": True, "name": "x"}, "name"),
])
def test_it_rejects_a_bad_toggle_or_public_body(api, alice, suffix, body, field):
    created = api.create_monitor(alice, name="Site", type="ping", target="127.10.0.1")
    assert_error(api.patch(_url(created, suffix), alice, json=body), 400, field)
    assert api.get(_url(created), alice).json() == created
