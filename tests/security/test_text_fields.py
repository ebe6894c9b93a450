"""Text people type is shown back (console, status page, alerts, logs), so no user-given text field
takes control characters (C0, DEL, C1) or bidirectional overrides and isolates, which hide or
reorder what is shown ("Trojan Source"). Each field answers 400 naming itself; a monitor's keyword
may span lines (tab, LF, CR); the bidi marks LRM/RLM and any other Unicode stay allowed."""

from __future__ import annotations

import itertools
import re
from datetime import datetime, timedelta, timezone

import pytest

from appliance.storage.entities import Transition
from appliance.timeutil import iso
from tests.support.asserts import assert_error

BAD = {"NUL": "\x00", "ESC": "\x1b", "DEL": "\x7f", "C1 NEL": "\x85", "RLO": "\u202e", "LRE": "\u202a",
       "RLI": "\u2067", "PDI": "\u2069", "line separator": "\u2028"}
_serial = itertools.count()


def unique(text: str = "x") -> str:
    return f"{text}{next(_serial)}"


@pytest.fixture(scope="module")
def world(server, api, admin):
    monitor = api.create_monitor(admin, name=unique("Site"), type="http", target="http://127.0.0.1:9/",
                                 is_active=False)
    user = api.create_user(admin, f"{unique('text')}@example.test")
    probe = api.post("/api/admin/probes", admin, json={"name": unique("p"), "display_name": "P"}).json()
    # An incident to post updates on, recorded as the engine would (the monitor is paused: not checked).
    entities = server.appliance.entities
    entities.record_transition(Transition(monitor["id"], "pending", "down", datetime.now(timezone.utc), "test"))
    incident = entities.incidents([monitor["id"]], limit=1)[0]
    return {"monitor": monitor["id"], "user": user.id, "probe": probe["id"], "incident": incident.id}


def window(world, **fields) -> dict:
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    return {"name": unique("w"), "monitor_ids": [world["monitor"]], "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1)), **fields}


def weekly(world, zone: str) -> dict:
    return {"name": unique("w"), "monitor_ids": [world["monitor"]],
            "recurring": {"weekdays": ["sun"], "start": "02:00", "duration_minutes": 60, "timezone": zone}}


def http_monitor(**fields) -> dict:
    return {"name": unique("m"), "type": "http", "target": "http://127.0.0.1:9/", "is_active": False, **fields}


# (method, path, body with the text put in, the field `details` must name)
FIELDS = [
    ("POST", "/api/monitors", lambda w, t: http_monitor(name=f"Web{t}site"), "name"),
    ("POST", "/api/monitors", lambda w, t: http_monitor(target=f"http://127.0.0.1:9/a{t}b"), "target"),
    ("POST", "/api/monitors", lambda w, t: http_monitor(keyword=f"Wel{t}come"), "keyword"),
    ("POST", "/api/monitors", lambda w, t: http_monitor(check_locations=[f"local{t}"]), "check_locations.0"),
    ("PUT", "/api/monitors/{monitor}", lambda w, t: {"name": f"Re{t}named"}, "name"),
    ("PUT", "/api/monitors/{monitor}", lambda w, t: {"group": f"Web{t}site"}, "group"),
    ("POST", "/api/maintenance", lambda w, t: window(w, name=f"Up{t}grade"), "name"),
    ("POST", "/api/maintenance", lambda w, t: weekly(w, f"Europe/Berlin{t}"), "recurring.timezone"),
    ("POST", "/api/maintenance", lambda w, t: window(w, notice=f"Down{t}time"), "notice"),
    ("POST", "/api/incidents/{incident}/updates", lambda w, t: {"status": "identified", "message": f"Fi{t}xed"},
     "message"),
    ("PUT", "/api/settings/status-page", lambda w, t: {"company_name": f"Ac{t}me", "slug": unique("acme")},
     "company_name"),
    ("POST", "/api/admin/users", lambda w, t: {"email": f"{unique('n')}{t}@example.test", "password": "long-enough-1"},
     "email"),
    ("POST", "/api/admin/users", lambda w, t: {"email": f"{unique('n')}@example.test", "password": "long-enough-1",
                                               "full_name": f"Ali{t}ce"}, "full_name"),
    ("PATCH", "/api/admin/users/{user}", lambda w, t: {"full_name": f"Bo{t}b"}, "full_name"),
    ("POST", "/api/auth/keys", lambda w, t: {"name": f"de{t}ploy"}, "name"),
    ("POST", "/api/settings/webhooks", lambda w, t: {"url": f"http://127.0.0.1:9/h{t}ook"}, "url"),
    ("POST", "/api/admin/probes", lambda w, t: {"name": unique("q"), "display_name": f"Frank{t}furt"}, "display_name"),
    ("PATCH", "/api/admin/probes/{probe}", lambda w, t: {"display_name": f"Frank{t}furt"}, "display_name"),
    ("POST", "/api/import", lambda w, t: {"monitors": [http_monitor(name=f"Im{t}ported")]}, "monitors[0].name"),
]


def send(api, admin, world, method, path, body):
    for name, value in world.items():
        path = path.replace("{%s}" % name, str(value))
    return api.request(method, path, admin, json=body)


@pytest.mark.parametrize("char", BAD.values(), ids=BAD.keys())
@pytest.mark.parametrize("method, path, body, field", FIELDS, ids=[f"{m} {p} {f}" for m, p, _, f in FIELDS])
def test_it_refuses_control_and_bidi_characters_naming_the_field(api, admin, world, method, path, body, field, char):
    if field in ("keyword", "notice", "message") and char == "\u2028":
        pytest.skip("a keyword, notice or update message may span lines")
    response = send(api, admin, world, method, path, body(world, char))
    error = assert_error(response, 400, field)
    assert all(part in error["error"] for part in re.split(r"[.\[\]]", field) if part), error
    if field != "email":  # its own pattern already refuses whitespace such as U+0085 or U+2028
        assert f"U+{ord(char):04X}" in error["details"][field]


@pytest.mark.parametrize("method, path, body, field", FIELDS, ids=[f"{m} {p} {f}" for m, p, _, f in FIELDS])
def test_the_same_fields_take_other_unicode(api, admin, world, method, path, body, field):
    if field in ("target", "url", "check_locations.0", "recurring.timezone", "email"):
        pytest.skip("not free text: an address, a location or time zone name")
    response = send(api, admin, world, method, path, body(world, "\u200f Zürich ☃ שלום "))
    assert response.status_code in (200, 201), response.text


def test_a_keyword_may_span_lines_but_a_name_may_not(api, admin):
    made = api.post("/api/monitors", admin, json=http_monitor(keyword="<h1>\n\tWelcome\r\n"))
    assert made.status_code == 201, made.text
    assert made.json()["keyword"] == "<h1>\n\tWelcome\r\n"
    assert_error(api.post("/api/monitors", admin, json=http_monitor(name="two\nlines")), 400, "name")
    assert_error(api.post("/api/monitors", admin, json=http_monitor(name="tab\tbed")), 400, "name")
