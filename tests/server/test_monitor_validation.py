"""Every input rule for monitors (API.md "Monitors" and "Target validation by type"), over HTTP.

Each rejected body must come back as 400 with a sentence in `error` and `details` naming the
field; nothing is ever coerced or stored. The server runs without its engine: targets are
only validated, never contacted.
"""

from __future__ import annotations

import json

import pytest

from tests.support.asserts import assert_error


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


@pytest.fixture(scope="module")
def owner(api, admin):
    """One user for the whole table (the rules do not depend on who asks)."""
    return api.create_user(admin, "validation-owner@example.test", full_name="Owner")


@pytest.fixture
def no_new_monitors(api, owner):
    """Asserts after the test that it stored nothing."""
    before = api.get("/api/monitors", owner).json()
    yield
    assert api.get("/api/monitors", owner).json() == before


def _assert_field_error(response, field: str) -> dict:
    body = assert_error(response, 400)
    details = body.get("details") or {}
    named = [key for key in details if key == field or key.startswith(field + ".")]
    assert named, f"details should name {field!r}: {body}"
    assert all(isinstance(details[key], str) and details[key] for key in named), body
    assert len(body["error"]) > 10 and field in body["error"], body
    return body


BASE = {
    "http": {"name": "H", "type": "http", "target": "http://example.com"},
    "https": {"name": "S", "type": "https", "target": "https://example.com"},
    "ping": {"name": "P", "type": "ping", "target": "127.10.0.1"},
    "tcp": {"name": "T", "type": "tcp", "target": "127.10.0.1", "port": 22},
    "sip": {"name": "V", "type": "sip", "target": "pbx.example.com"},
    "domain": {"name": "D", "type": "domain", "target": "example.com"},
    "heartbeat": {"name": "B", "type": "heartbeat"},
}


# ---- what is accepted --------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fields, expected", [
    ("http", {"target": "http://example.com"}, {}),
    ("http", {"target": "http://127.0.0.1:8080/health?full=1"}, {}),
    ("http", {"target": "HTTP://Example.com/"}, {}),
    ("http", {"target": "http://[::1]:8080/"}, {}),
    ("http", {"target": "http://intranet/"}, {}),
    ("http", {"target": "  http://example.com/padded  "}, {"target": "http://example.com/padded"}),
    ("https", {"target": "https://example.com:8443/x"}, {}),
    ("https", {"target": "https://bücher.example/"}, {}),
    ("ping", {"target": "example.com"}, {}),
    ("ping", {"target": "::1"}, {}),
    ("ping", {"target": "localhost"}, {}),
    ("tcp", {"target": "db.internal", "port": 1}, {}),
    ("tcp", {"target": "127.10.0.1", "port": 65535}, {}),
    ("tcp", {"target": "2001:db8::1", "port": 443}, {}),
    ("sip", {"target": "sip:pbx.example.com"}, {"target": "pbx.example.com", "port": None}),
    ("sip", {"target": "sip:pbx.example.com:5080"}, {"target": "pbx.example.com", "port": 5080}),
    ("sip", {"target": "sip:100@pbx.example.com"}, {"target": "pbx.example.com"}),
    ("sip", {"target": "127.10.0.9", "port": 5060}, {"port": 5060}),
    ("sip", {"target": "sip:[2001:db8::1]:5062"}, {"target": "2001:db8::1", "port": 5062}),
    ("domain", {"target": "example.co.uk"}, {}),
    ("domain", {"target": "Example.COM."}, {"target": "example.com"}),
    ("domain", {"target": "xn--bcher-kva.example"}, {}),
    ("heartbeat", {}, {"target": None}),
    ("heartbeat", {"target": None}, {"target": None}),
    ("http", {"interval": 10, "timeout": 10}, {"interval": 10, "timeout": 10}),
    ("http", {"interval": 86400, "timeout": 120, "retries": 10}, {"retries": 10}),
    ("http", {"retries": 0}, {"retries": 0}),
    ("http", {"check_locations": ["all"]}, {"check_locations": ["all"]}),
    ("http", {"check_locations": ["local"]}, {"check_locations": ["local"]}),
    ("http", {"keyword": "Welcome", "expected_status": 301}, {"keyword": "Welcome", "expected_status": 301}),
    ("heartbeat", {"grace": 0, "interval": 10}, {"grace": 0}),
    ("heartbeat", {"timeout": 60, "interval": 10}, {}),
    ("https", {"ssl_check": False}, {"ssl_check": False}),
    ("http", {"ssl_check": False}, {"ssl_check": False}),
    ("http", {"port": None, "keyword": None, "expected_status": None}, {"port": None}),
    ("heartbeat", {"grace": None}, {"grace": 60}),
])
def test_it_accepts_a_valid_monitor(api, owner, kind, fields, expected):
    response = api.post("/api/monitors", owner, json={**BASE[kind], **fields})
    assert response.status_code == 201, response.text
    body = response.json()
    for key, value in {**{k: v for k, v in fields.items() if k != "target"}, **expected}.items():
        assert body[key] == value, (key, body)
    if "target" in fields and "target" not in expected and fields["target"] is not None:
        assert body["target"] == fields["target"].strip()
    assert api.delete(f"/api/monitors/{body['id']}", owner).status_code == 204


# ---- targets by type ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind, target", [
    ("http", "https://example.com"),
    ("http", "example.com"),
    ("http", "ftp://example.com"),
    ("http", "http://"),
    ("http", "http:///path"),
    ("http", "http://exa mple.com/"),
    ("http", "http://example.com/a b"),
    ("http", "http://example.com:0/"),
    ("http", "http://example.com:99999/"),
    ("http", "http://example.com:port/"),
    ("http", "http://-bad-.example/"),
    ("http", "http://example.com/\x07"),
    ("http", "javascript:alert(1)"),
    ("http", "http://" + "a" * 2050 + ".com"),
    ("https", "http://example.com"),
    ("https", "example.com"),
    ("https", "https://"),
    ("ping", "http://example.com"),
    ("ping", "example.com/path"),
    ("ping", "example.com:80"),
    ("ping", "two words"),
    ("ping", "under_score.example"),
    ("ping", "-leading.example"),
    ("ping", "a" * 64 + ".example"),
    ("ping", "exa\tmple.com"),
    ("ping", "$(reboot)"),
    ("ping", "example.com; rm -rf /"),
    ("tcp", "tcp://127.10.0.1"),
    ("tcp", "127.10.0.1:22"),
    ("tcp", "db internal"),
    ("sip", "sip:pbx.example.com:99999"),
    ("sip", "sip:pbx.example.com:0"),
    ("sip", "sip:pbx.example.com:abc"),
    ("sip", "sips://pbx.example.com"),
    ("sip", "http://pbx.example.com"),
    ("sip", "sip:"),
    ("sip", "pbx example.com"),
    ("domain", "localhost"),
    ("domain", "example"),
    ("domain", "http://example.com"),
    ("domain", "example.com/path"),
    ("domain", "127.168.1.1"),
    ("domain", "exa_mple.com"),
    ("domain", "example.c0m"),
    ("domain", "-example.com"),
])
def test_it_rejects_a_target_that_does_not_fit_the_type(api, owner, no_new_monitors, kind, target):
    body = {**BASE[kind], "target": target}
    _assert_field_error(api.post("/api/monitors", owner, json=body), "target")


@pytest.mark.parametrize("kind", ["http", "https", "ping", "tcp", "sip", "domain"])
@pytest.mark.parametrize("target", [None, "", "   "], ids=["null", "empty", "blank"])
def test_it_requires_a_target_except_for_heartbeats(api, owner, no_new_monitors, kind, target):
    body = {**BASE[kind], "target": target}
    _assert_field_error(api.post("/api/monitors", owner, json=body), "target")
    without = {k: v for k, v in BASE[kind].items() if k != "target"}
    _assert_field_error(api.post("/api/monitors", owner, json=without), "target")


def test_it_rejects_a_target_on_a_heartbeat(api, owner, no_new_monitors):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE["heartbeat"], "target": "example.com"}),
                        "target")


# ---- ports -------------------------------------------------------------------------------------

@pytest.mark.parametrize("port", [0, -1, 65536, 100000], ids=str)
@pytest.mark.parametrize("kind", ["tcp", "sip"])
def test_it_rejects_a_port_out_of_range(api, owner, no_new_monitors, kind, port):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE[kind], "port": port}), "port")


def test_it_requires_a_port_for_tcp(api, owner, no_new_monitors):
    body = {k: v for k, v in BASE["tcp"].items() if k != "port"}
    _assert_field_error(api.post("/api/monitors", owner, json=body), "port")
    _assert_field_error(api.post("/api/monitors", owner, json={**body, "port": None}), "port")


@pytest.mark.parametrize("kind", ["http", "https", "ping", "domain", "heartbeat"])
def test_it_rejects_a_port_for_types_without_one(api, owner, no_new_monitors, kind):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE[kind], "port": 80}), "port")


def test_it_rejects_a_sip_port_that_contradicts_the_target(api, owner, no_new_monitors):
    body = {**BASE["sip"], "target": "sip:pbx.example.com:5070", "port": 5060}
    _assert_field_error(api.post("/api/monitors", owner, json=body), "port")


# ---- the other fields --------------------------------------------------------------------------

@pytest.mark.parametrize("fields, field", [
    ({"interval": 9}, "interval"),
    ({"interval": 0}, "interval"),
    ({"interval": -60}, "interval"),
    ({"interval": 86401}, "interval"),
    ({"timeout": 0}, "timeout"),
    ({"timeout": 121}, "timeout"),
    ({"interval": 10, "timeout": 11}, "timeout"),
    ({"interval": 30}, "timeout"),
    ({"retries": -1}, "retries"),
    ({"retries": 11}, "retries"),
    ({"expected_status": 99}, "expected_status"),
    ({"expected_status": 600}, "expected_status"),
    ({"keyword": "k" * 1001}, "keyword"),
    ({"name": ""}, "name"),
    ({"name": "   "}, "name"),
    ({"name": "n" * 201}, "name"),
    ({"ssl_check": True}, "ssl_check"),
    ({"grace": 60}, "grace"),
], ids=lambda v: json.dumps(v) if isinstance(v, dict) else v)
def test_it_rejects_an_out_of_range_or_misplaced_field(api, owner, no_new_monitors, fields, field):
    body = {**BASE["http"], **fields}
    if fields == {"interval": 30}:
        body["timeout"] = 31
    _assert_field_error(api.post("/api/monitors", owner, json=body), field)


@pytest.mark.parametrize("kind, fields, field", [
    ("tcp", {"keyword": "x"}, "keyword"),
    ("ping", {"expected_status": 200}, "expected_status"),
    ("domain", {"ssl_check": True}, "ssl_check"),
    ("heartbeat", {"keyword": "x"}, "keyword"),
    ("heartbeat", {"grace": -1}, "grace"),
    ("heartbeat", {"grace": 86401}, "grace"),
    ("heartbeat", {"interval": 5}, "interval"),
])
def test_it_rejects_fields_that_do_not_apply_to_the_type(api, owner, no_new_monitors, kind, fields, field):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE[kind], **fields}), field)


@pytest.mark.parametrize("locations", [
    [], ["mars"], ["all", "local"], ["local", "local"], ["local", "mars"], [""], ["x" * 65],
    "all", "local", [1], [None], {"all": True}, ["ALL"],
], ids=json.dumps)
def test_it_rejects_unknown_or_malformed_check_locations(api, owner, no_new_monitors, locations):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE["http"], "check_locations": locations}),
                        "check_locations")


# ---- required fields, unknown fields, types ----------------------------------------------------

@pytest.mark.parametrize("missing", ["name", "type"])
def test_it_requires_name_and_type(api, owner, no_new_monitors, missing):
    body = {k: v for k, v in BASE["http"].items() if k != missing}
    _assert_field_error(api.post("/api/monitors", owner, json=body), missing)


@pytest.mark.parametrize("kind", ["HTTP", "icmp", "dns", "", "web"])
def test_it_rejects_an_unknown_type(api, owner, no_new_monitors, kind):
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE["http"], "type": kind}), "type")


@pytest.mark.parametrize("extra", [
    {"colour": "red"}, {"id": 5}, {"user_id": 1}, {"status": "up"}, {"heartbeat_token": "mine"},
    {"uptime_percentage": "100.00"}, {"Name": "x"},
], ids=lambda d: next(iter(d)))
def test_it_rejects_unknown_fields_and_names_them(api, owner, no_new_monitors, extra):
    field = next(iter(extra))
    body = _assert_field_error(api.post("/api/monitors", owner, json={**BASE["http"], **extra}), field)
    assert body["details"][field]


def test_it_names_every_unknown_field(api, owner, no_new_monitors):
    body = assert_error(api.post("/api/monitors", owner, json={**BASE["http"], "foo": 1, "bar": 2}), 400)
    assert {"foo", "bar"} <= set(body["details"])
    assert "foo" in body["error"] and "bar" in body["error"]


@pytest.mark.parametrize("field, value", [
    ("interval", "60"), ("interval", True), ("interval", 60.5), ("interval", 60.0), ("interval", None),
    ("interval", [60]),
    ("timeout", "10"), ("timeout", False),
    ("retries", "1"), ("retries", True),
    ("port", "22"), ("port", True), ("port", 22.0),
    ("expected_status", "200"), ("expected_status", True),
    ("grace", "60"),
    ("ssl_check", 1), ("ssl_check", "true"), ("ssl_check", 0),
    ("is_active", 1), ("is_active", "false"), ("is_active", None),
    ("public_status", 0), ("public_status", "yes"), ("public_status", None),
    ("name", 123), ("name", None), ("name", ["x"]), ("name", {"x": 1}),
    ("type", None), ("type", 1),
    ("target", 1234), ("target", ["http://example.com"]),
    ("keyword", 5), ("keyword", True),
    ("check_locations", None),
], ids=lambda v: json.dumps(v))
def test_it_rejects_wrong_types_without_coercing(api, owner, no_new_monitors, field, value):
    kind = "tcp" if field == "port" else "heartbeat" if field == "grace" else "http"
    _assert_field_error(api.post("/api/monitors", owner, json={**BASE[kind], field: value}), field)


@pytest.mark.parametrize("field, value", [
    ("interval", "60"), ("interval", True), ("interval", None), ("timeout", None), ("retries", None),
    ("name", None), ("name", 5), ("check_locations", None), ("is_active", None), ("is_active", 1),
    ("public_status", None), ("keyword", 5), ("target", 5), ("type", None), ("type", 1),
], ids=lambda v: json.dumps(v))
def test_it_rejects_wrong_types_in_an_update(api, owner, field, value):
    monitor = api.create_monitor(owner, **BASE["http"])
    _assert_field_error(api.put(f"/api/monitors/{monitor['id']}", owner, json={field: value}), field)
    assert api.get(f"/api/monitors/{monitor['id']}", owner).json() == monitor
    api.delete(f"/api/monitors/{monitor['id']}", owner)


# ---- bodies that are not a JSON object ---------------------------------------------------------

NOT_OBJECTS = ["[]", '[{"name": "x"}]', '"http"', "42", "null", "true", '""']
NOT_JSON = ["{", '{"name": "x",}', "{'name': 'x'}", "name=x&type=http", "\x00\x01", '{"name": NaN}',
            '{"name": "x"} {"type": "http"}', "\xff\xfe"]


@pytest.mark.parametrize("raw", NOT_OBJECTS + NOT_JSON + ["", "   "], ids=repr)
@pytest.mark.parametrize("method, path", [("POST", "/api/monitors"), ("PUT", "/api/monitors/{id}"),
                                          ("PATCH", "/api/monitors/{id}/toggle"),
                                          ("PATCH", "/api/monitors/{id}/public")])
def test_it_rejects_a_body_that_is_not_a_json_object(api, owner, method, path, raw):
    if path.endswith("/toggle") and raw == "":
        pytest.skip("no body at all flips a monitor (test_monitors_crud.py)")
    monitor = api.get("/api/monitors", owner).json()
    target_id = monitor[0]["id"] if monitor else api.create_monitor(owner, **BASE["ping"])["id"]
    response = api.request(method, path.format(id=target_id), owner, data=raw.encode("latin-1"),
                           headers={"Content-Type": "application/json"})
    assert_error(response, 400)


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_it_reads_a_json_object_whatever_the_content_type_says(api, owner, content_type):
    headers = {"Content-Type": content_type} if content_type else {}
    response = api.post("/api/monitors", owner, data=json.dumps(BASE["ping"]), headers=headers)
    assert response.status_code == 201, response.text
    api.delete(f"/api/monitors/{response.json()['id']}", owner)
