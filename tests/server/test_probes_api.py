"""Locations and remote probes over HTTP: admins register (token shown once), rename and revoke
probes; every user lists the locations; a probe pulls its assignments and pushes results with
its own token, and the server keeps only valid, assigned, fresh results, each once.

The check engine is off, so no monitor target is ever contacted and only the results the tests
push as a probe reach the history."""

from __future__ import annotations

import hashlib
import itertools
import re
import uuid
from datetime import datetime, timedelta, timezone

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error

PROBES = "/api/admin/probes"
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
PROBE_KEYS = {"id", "name", "display_name", "online", "last_seen", "created_at"}
_names = itertools.count()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("probes") / "data")
    instance.start(engine=False)
    yield instance
    instance.stop()


def register(api, admin, name: str | None = None, display_name: str = "Frankfurt (EU)") -> dict:
    name = name or f"probe-{next(_names)}"
    response = api.post(PROBES, admin, json={"name": name, "display_name": display_name})
    assert response.status_code == 201, response.text
    return response.json()


def as_probe(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def result(monitor_id: int, at: datetime | None = None, up: bool = True, **extra) -> dict:
    at = at or datetime.now(timezone.utc)
    return {"id": uuid.uuid4().hex, "monitor_id": monitor_id,
            "checked_at": at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond // 1000:03d}Z",
            "up": up, "response_time": 12.5 if up else None, "error": None if up else "HTTP 503", **extra}


def push(api, token: str, results: list[dict]):
    return api.post("/api/probe/results", headers=as_probe(token), json={"results": results})


def stored(server, monitor_id: int, location: str | None = None) -> list[tuple]:
    server.appliance.history.flush()
    rows = server.appliance.history._cursor().execute(
        "SELECT checked_at, location, up FROM results WHERE monitor_id = ? ORDER BY checked_at",
        [monitor_id]).fetchall()
    return [row for row in rows if location is None or row[1] == location]


def http_monitor(api, user, **fields) -> dict:
    return api.create_monitor(user, **{"name": "Site", "type": "http", "target": "http://127.0.0.1:9/", **fields})


# ---- admin: register, list, rename, revoke --------------------------------------------------------

def test_it_registers_a_probe_and_shows_its_token_only_once(api, admin, server):
    probe = register(api, admin, "eu-frankfurt", "EU (Frankfurt)")
    assert set(probe) == PROBE_KEYS | {"token"}
    token = probe.pop("token")
    assert token.startswith("scp_") and len(token) >= 40
    assert probe["name"] == "eu-frankfurt" and probe["display_name"] == "EU (Frankfurt)"
    assert probe["online"] is False and probe["last_seen"] is None
    assert TIMESTAMP.match(probe["created_at"])

    listed = api.get(PROBES, admin)
    assert listed.status_code == 200
    assert token not in listed.text
    assert [p for p in listed.json() if p["id"] == probe["id"]] == [probe]
    assert all(set(p) == PROBE_KEYS for p in listed.json())
    # Stored hashed, never in clear.
    stored_probe = server.appliance.probes.get(probe["id"])
    assert stored_probe.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (server.settings.entities_path.read_bytes() + _wal(server)).decode("latin-1")
    # Another probe, another token.
    assert register(api, admin)["token"] != token


def _wal(server) -> bytes:
    wal = server.settings.entities_path.with_name(server.settings.entities_path.name + "-wal")
    return wal.read_bytes() if wal.exists() else b""


def test_it_refuses_a_taken_name_with_409(api, admin):
    probe = register(api, admin)
    for name in (probe["name"], "local", "all"):
        response = api.post(PROBES, admin, json={"name": name, "display_name": "Again"})
        assert_error(response, 409, "name")
    assert [p["name"] for p in api.get(PROBES, admin).json()].count(probe["name"]) == 1


@pytest.mark.parametrize("body, field", [
    ({"name": "", "display_name": "X"}, "name"),
    ({"name": "Upper", "display_name": "X"}, "name"),
    ({"name": "-leading", "display_name": "X"}, "name"),
    ({"name": "has space", "display_name": "X"}, "name"),
    ({"name": "under_score", "display_name": "X"}, "name"),
    ({"name": "a" * 41, "display_name": "X"}, "name"),
    ({"name": "münchen", "display_name": "X"}, "name"),
    ({"name": 5, "display_name": "X"}, "name"),
    ({"name": None, "display_name": "X"}, "name"),
    ({"display_name": "X"}, "name"),
    ({"name": "ok-name"}, "display_name"),
    ({"name": "ok-name", "display_name": ""}, "display_name"),
    ({"name": "ok-name", "display_name": "   "}, "display_name"),
    ({"name": "ok-name", "display_name": "x" * 101}, "display_name"),
    ({"name": "ok-name", "display_name": "X", "token": "scp_mine"}, "token"),
    ({"name": "ok-name", "display_name": "X", "online": True}, "online"),
])
def test_it_refuses_an_invalid_probe_with_400(api, admin, body, field):
    assert_error(api.post(PROBES, admin, json=body), 400, field)
    assert "ok-name" not in [p["name"] for p in api.get(PROBES, admin).json()]


def test_it_refuses_a_body_that_is_not_a_json_object(api, admin):
    assert_error(api.post(PROBES, admin, data="not json"), 400)
    assert_error(api.post(PROBES, admin, json=["name"]), 400)


def test_it_renames_a_probe(api, admin, alice):
    probe = register(api, admin, display_name="Old name")
    response = api.patch(f"{PROBES}/{probe['id']}", admin, json={"display_name": "  US-West (Oregon) "})
    assert response.status_code == 200, response.text
    renamed = response.json()
    assert set(renamed) == PROBE_KEYS
    assert (renamed["id"], renamed["name"], renamed["display_name"]) == (probe["id"], probe["name"], "US-West (Oregon)")
    locations = {loc["name"]: loc for loc in api.get("/api/locations", alice).json()}
    assert locations[probe["name"]]["display_name"] == "US-West (Oregon)"
    # The location name is what monitors refer to: it cannot change.
    assert_error(api.patch(f"{PROBES}/{probe['id']}", admin, json={"name": "other"}), 400, "name")
    assert_error(api.patch(f"{PROBES}/{probe['id']}", admin, json={"display_name": ""}), 400, "display_name")
    assert_error(api.patch(f"{PROBES}/999999", admin, json={"display_name": "X"}), 404)


def test_it_revokes_a_probe_and_its_token_stops_working_at_once(api, admin, alice):
    probe = register(api, admin)
    token = probe["token"]
    assert api.get("/api/probe/assignments", headers=as_probe(token)).status_code == 200
    assert api.delete(f"{PROBES}/{probe['id']}", admin).status_code == 204
    assert_error(api.get("/api/probe/assignments", headers=as_probe(token)), 401)
    assert_error(push(api, token, []), 401)
    assert probe["id"] not in [p["id"] for p in api.get(PROBES, admin).json()]
    assert probe["name"] not in [loc["name"] for loc in api.get("/api/locations", alice).json()]
    assert_error(api.delete(f"{PROBES}/{probe['id']}", admin), 404)
    # A monitor can no longer be pointed at it.
    response = api.post("/api/monitors", alice, json={"name": "S", "type": "http", "target": "http://127.0.0.1:9/",
                                                      "check_locations": [probe["name"]]})
    assert_error(response, 400, "check_locations")


@pytest.mark.parametrize("method, path, body", [
    ("GET", PROBES, None),
    ("POST", PROBES, {"name": "by-alice", "display_name": "Alice's"}),
    ("PATCH", PROBES + "/{id}", {"display_name": "Alice's"}),
    ("DELETE", PROBES + "/{id}", None),
])
def test_it_lets_only_admins_manage_probes(api, admin, alice, anonymous, method, path, body):
    probe = register(api, admin, display_name="Untouched")
    url = path.replace("{id}", str(probe["id"]))
    assert_error(api.request(method, url, alice, json=body), 403)
    assert_error(api.request(method, url, anonymous, json=body), 401)
    assert_error(api.request(method, url, probe["token"], json=body), 401)  # a probe token is no login
    listed = {p["id"]: p for p in api.get(PROBES, admin).json()}
    assert listed[probe["id"]]["display_name"] == "Untouched"
    assert "by-alice" not in [p["name"] for p in listed.values()]


# ---- locations -------------------------------------------------------------------------------------

def test_it_lists_the_locations_with_their_online_state_for_any_user(api, admin, alice, anonymous):
    probe = register(api, admin, display_name="Asia (Tokyo)")
    response = api.get("/api/locations", alice)
    assert response.status_code == 200
    locations = response.json()
    assert all(set(loc) == {"name", "display_name", "online", "last_seen"} for loc in locations)
    assert locations[0]["name"] == "local" and locations[0]["display_name"] == "Local"
    assert locations[0]["online"] is True and TIMESTAMP.match(locations[0]["last_seen"])
    mine = next(loc for loc in locations if loc["name"] == probe["name"])
    assert mine == {"name": probe["name"], "display_name": "Asia (Tokyo)", "online": False, "last_seen": None}

    assert api.get("/api/probe/assignments", headers=as_probe(probe["token"])).status_code == 200
    mine = next(loc for loc in api.get("/api/locations", alice).json() if loc["name"] == probe["name"])
    assert mine["online"] is True and TIMESTAMP.match(mine["last_seen"])
    admin_view = next(p for p in api.get(PROBES, admin).json() if p["id"] == probe["id"])
    assert admin_view["online"] is True and admin_view["last_seen"] == mine["last_seen"]

    assert_error(api.get("/api/locations", anonymous), 401)
    assert_error(api.get("/api/locations", probe["token"]), 401)


def test_it_lets_monitors_name_a_probe_location_once_it_is_registered(api, admin, alice):
    name = f"late-{next(_names)}"
    body = {"name": "Site", "type": "http", "target": "http://127.0.0.1:9/", "check_locations": [name, "local"]}
    assert_error(api.post("/api/monitors", alice, json=body), 400, "check_locations")
    register(api, admin, name)
    response = api.post("/api/monitors", alice, json=body)
    assert response.status_code == 201, response.text
    assert response.json()["check_locations"] == [name, "local"]
    monitor_id = response.json()["id"]
    changed = api.put(f"/api/monitors/{monitor_id}", alice, json={"check_locations": [name]})
    assert changed.status_code == 200 and changed.json()["check_locations"] == [name]
    assert_error(api.put(f"/api/monitors/{monitor_id}", alice, json={"check_locations": ["nowhere"]}),
                 400, "check_locations")


# ---- the probe's own API ---------------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {},
    {"Authorization": ""},
    {"Authorization": "Bearer "},
    {"Authorization": "Bearer scp_not-a-real-token"},
    {"Authorization": "Bearer not-even-the-prefix"},
    {"Authorization": "Basic c2NwXzpwYXNzd29yZA=="},
])
def test_it_refuses_the_probe_api_without_a_valid_probe_token(api, admin, headers):
    assert_error(api.get("/api/probe/assignments", headers=headers), 401)
    assert_error(api.post("/api/probe/results", headers=headers, json={"results": []}), 401)
    # A user's login token is not a probe token either.
    assert_error(api.get("/api/probe/assignments", admin), 401)
    assert_error(api.post("/api/probe/results", admin, json={"results": []}), 401)


def test_it_gives_a_probe_the_monitors_its_location_checks(api, admin, alice, bob):
    probe = register(api, admin)
    everywhere = http_monitor(api, alice, name="Everywhere")
    here = http_monitor(api, bob, name="Here", check_locations=[probe["name"]])
    local_only = http_monitor(api, alice, name="Local only", check_locations=["local"])
    paused = http_monitor(api, alice, name="Paused")
    api.patch(f"/api/monitors/{paused['id']}/toggle", alice, json={"is_active": False})
    heartbeat = api.create_monitor(alice, name="Job", type="heartbeat", interval=60)

    response = api.get("/api/probe/assignments", headers=as_probe(probe["token"]))
    assert response.status_code == 200
    body = response.json()
    assert body["location"] == probe["name"]
    assert TIMESTAMP.match(body["server_time"])
    assert body["refresh_seconds"] == 30  # a third of the default 90 s of silence, at most 30
    ids = {m["id"] for m in body["monitors"]}
    assert {everywhere["id"], here["id"]} <= ids
    assert not ids & {local_only["id"], paused["id"], heartbeat["id"]}
    one = next(m for m in body["monitors"] if m["id"] == here["id"])
    assert one["type"] == "http" and one["target"] == "http://127.0.0.1:9/" and one["interval"] == 60
    assert "user_id" not in one and "heartbeat_url" not in one


def test_it_stores_a_probes_results_under_its_location(api, admin, alice, server):
    probe = register(api, admin, display_name="EU (Paris)")
    monitor = http_monitor(api, alice, check_locations=[probe["name"]], retries=0)
    now = datetime.now(timezone.utc)
    sent = [result(monitor["id"], now - timedelta(seconds=20)), result(monitor["id"], now, up=False)]
    response = push(api, probe["token"], sent)
    assert response.status_code == 200, response.text
    assert response.json() == {"accepted": 2, "duplicates": 0, "rejected": []}
    assert [(loc, up) for _, loc, up in stored(server, monitor["id"])] == [(probe["name"], True), (probe["name"], False)]
    history = api.get(f"/api/monitors/{monitor['id']}/history", alice).json()["history"]
    assert [(h["location"], h["status"]) for h in history] == [(probe["name"], "up"), (probe["name"], "down")]
    shown = api.get(f"/api/monitors/{monitor['id']}", alice).json()
    assert shown["location_status"] == {probe["name"]: "down"}
    assert shown["status"] == "down"


def test_it_rejects_results_for_monitors_not_assigned_to_the_location(api, admin, alice, server):
    probe = register(api, admin)
    local_only = http_monitor(api, alice, check_locations=["local"])
    other = register(api, admin)
    elsewhere = http_monitor(api, alice, check_locations=[other["name"]])
    assigned = http_monitor(api, alice)
    paused = http_monitor(api, alice)
    api.patch(f"/api/monitors/{paused['id']}/toggle", alice, json={"is_active": False})
    wrong = [result(local_only["id"]), result(elsewhere["id"]), result(paused["id"]), result(10**12)]
    right = result(assigned["id"])
    response = push(api, probe["token"], [*wrong, right])
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["accepted"] == 1 and report["duplicates"] == 0
    assert {r["id"] for r in report["rejected"]} == {r["id"] for r in wrong}
    assert all("not assigned" in r["reason"] for r in report["rejected"])
    for monitor in (local_only, elsewhere, paused):
        assert stored(server, monitor["id"]) == []
    assert len(stored(server, assigned["id"], probe["name"])) == 1


def test_it_rejects_future_dated_and_too_old_results(api, admin, alice, server):
    probe = register(api, admin)
    monitor = http_monitor(api, alice)
    now = datetime.now(timezone.utc)
    future = result(monitor["id"], now + timedelta(minutes=5))
    ancient = result(monitor["id"], now - timedelta(hours=7))  # the default oldest accepted: 6 h
    slightly_ahead = result(monitor["id"], now + timedelta(seconds=20))  # within the tolerance
    report = push(api, probe["token"], [future, ancient, slightly_ahead]).json()
    reasons = {r["id"]: r["reason"] for r in report["rejected"]}
    assert set(reasons) == {future["id"], ancient["id"]}
    assert "future" in reasons[future["id"]] and "clock" in reasons[future["id"]]
    assert "old" in reasons[ancient["id"]]
    assert report["accepted"] == 1
    assert len(stored(server, monitor["id"])) == 1


def test_it_stores_a_batch_sent_twice_only_once(api, admin, alice, server):
    probe = register(api, admin)
    monitor = http_monitor(api, alice)
    now = datetime.now(timezone.utc)
    batch = [result(monitor["id"], now - timedelta(seconds=30 - 10 * i), up=i != 1) for i in range(3)]
    first = push(api, probe["token"], batch)
    assert first.json() == {"accepted": 3, "duplicates": 0, "rejected": []}
    again = push(api, probe["token"], list(reversed(batch)))
    assert again.status_code == 200
    assert again.json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    # Resent under new ids (a probe that lost its spool's bookkeeping): the check times give it away.
    renamed = [{**item, "id": uuid.uuid4().hex} for item in batch]
    assert push(api, probe["token"], renamed).json() == {"accepted": 0, "duplicates": 3, "rejected": []}
    # A newer one still goes in.
    assert push(api, probe["token"], [*batch, result(monitor["id"])]).json() == \
        {"accepted": 1, "duplicates": 3, "rejected": []}
    rows = stored(server, monitor["id"], probe["name"])
    assert len(rows) == 4 and len({at for at, _, _ in rows}) == 4
    history = api.get(f"/api/monitors/{monitor['id']}/history", alice).json()["history"]
    assert len([h for h in history if h["location"] == probe["name"]]) == 4


def test_it_keeps_two_probes_results_apart(api, admin, alice, server):
    """The same check time from two locations is two results, not a duplicate."""
    first, second = register(api, admin), register(api, admin)
    monitor = http_monitor(api, alice)
    at = datetime.now(timezone.utc)
    assert push(api, first["token"], [result(monitor["id"], at)]).json()["accepted"] == 1
    assert push(api, second["token"], [result(monitor["id"], at, up=False)]).json()["accepted"] == 1
    assert sorted((loc, up) for _, loc, up in stored(server, monitor["id"])) == \
        sorted([(first["name"], True), (second["name"], False)])


@pytest.mark.parametrize("item, field", [
    ({"checked_at": "2024-01-15T10:30:00"}, "results.0.checked_at"),  # no offset: which clock?
    ({"checked_at": "yesterday"}, "results.0.checked_at"),
    ({"checked_at": 1705314600}, "results.0.checked_at"),  # a number is not read as a Unix time
    ({"checked_at": 1705314600.5}, "results.0.checked_at"),
    ({"up": "true"}, "results.0.up"),
    ({"monitor_id": "1"}, "results.0.monitor_id"),
    ({"monitor_id": 0}, "results.0.monitor_id"),
    ({"id": ""}, "results.0.id"),
    ({"response_time": -1}, "results.0.response_time"),
    ({"location": "somewhere-else"}, "results.0.location"),
])
def test_it_refuses_malformed_results_with_400(api, admin, alice, item, field):
    probe = register(api, admin)
    monitor = http_monitor(api, alice)
    body = {**result(monitor["id"]), **item}
    assert_error(api.post("/api/probe/results", headers=as_probe(probe["token"]), json={"results": [body]}),
                 400, field)
    assert_error(api.post("/api/probe/results", headers=as_probe(probe["token"]), json={"result": []}), 400)


def test_it_answers_out_of_range_check_times_without_an_error(api, admin, alice):
    """Dates at the edges of the calendar are refused, never a 500 (was: OverflowError)."""
    probe = register(api, admin)
    monitor = http_monitor(api, alice)
    for text in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):  # off the calendar in UTC
        response = push(api, probe["token"], [{**result(monitor["id"]), "checked_at": text}])
        assert_error(response, 400, "results.0.checked_at")
    ancient = {**result(monitor["id"]), "checked_at": "0001-01-01T00:00:00Z"}
    report = push(api, probe["token"], [ancient]).json()
    assert report["accepted"] == 0 and [r["id"] for r in report["rejected"]] == [ancient["id"]]


def test_it_shows_the_newest_check_when_a_probe_catches_up_with_older_results(api, admin, alice):
    """A probe back from an outage delivers its spool: the monitor's latest check stays the newest."""
    current, late = register(api, admin), register(api, admin)
    monitor = http_monitor(api, alice, check_locations=[current["name"], late["name"]])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    assert push(api, current["token"], [result(monitor["id"], now)]).json()["accepted"] == 1
    spooled = [result(monitor["id"], now - timedelta(minutes=30 - i), up=False) for i in range(3)]
    assert push(api, late["token"], spooled).json()["accepted"] == 3
    shown = api.get(f"/api/monitors/{monitor['id']}", alice).json()
    assert shown["last_check"] == now.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert shown["response_time"] == 12 and "last_error" not in shown
    assert shown["location_status"] == {current["name"]: "up", late["name"]: "down"}


def test_it_shows_only_the_locations_that_check_the_monitor_now(api, admin, alice):
    """location_status drops a location the monitor no longer runs at, and a revoked probe."""
    kept, dropped, revoked = register(api, admin), register(api, admin), register(api, admin)
    monitor = http_monitor(api, alice, check_locations=[kept["name"], dropped["name"], revoked["name"]])
    for probe in (kept, dropped, revoked):
        assert push(api, probe["token"], [result(monitor["id"])]).json()["accepted"] == 1
    url = f"/api/monitors/{monitor['id']}"
    assert set(api.get(url, alice).json()["location_status"]) == {kept["name"], dropped["name"], revoked["name"]}
    changed = api.put(url, alice, json={"check_locations": [kept["name"], revoked["name"]]})
    assert changed.status_code == 200, changed.text
    assert set(changed.json()["location_status"]) == {kept["name"], revoked["name"]}
    assert api.delete(f"{PROBES}/{revoked['id']}", admin).status_code == 204
    shown = api.get(url, alice).json()
    assert shown["location_status"] == {kept["name"]: "up"} and shown["status"] == "up"
    assert [m["location_status"] for m in api.get("/api/monitors", alice).json() if m["id"] == monitor["id"]] == \
        [{kept["name"]: "up"}]


@pytest.mark.parametrize("quorum, expected", [(None, "up"), (0.3, "down")])
def test_it_decides_with_the_configured_quorum(tmp_path, quorum, expected):
    """One of two locations down: not more than half (the default), but more than 30 %."""
    settings = {} if quorum is None else {"quorum": quorum}
    instance = InProcessAppliance(tmp_path / "data", **settings).start(engine=False)
    try:
        api, admin = instance.api, instance.admin()
        first, second = register(api, admin, "first"), register(api, admin, "second")
        monitor = http_monitor(api, admin, check_locations=["first", "second"], retries=0)
        assert push(api, second["token"], [result(monitor["id"])]).json()["accepted"] == 1
        assert push(api, first["token"], [result(monitor["id"], up=False)]).json()["accepted"] == 1
        shown = api.get(f"/api/monitors/{monitor['id']}", admin).json()
        assert shown["location_status"] == {"first": "down", "second": "up"}
        assert shown["status"] == expected
    finally:
        instance.stop()
