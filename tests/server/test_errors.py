"""API.md "Conventions": every error is JSON {"error": ..., "details": ...} with the documented
status, and bad input never produces a 500."""

from __future__ import annotations

import json

import pytest

from tests.support.asserts import assert_error

ONE_MIB = 1024 * 1024


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


@pytest.fixture(scope="module")
def owner(api, admin):
    return api.create_user(admin, "errors-owner@example.test")


@pytest.fixture(scope="module")
def monitor(api, owner):
    return api.create_monitor(owner, name="Site", type="http", target="http://example.com")


# ---- 404 and 405 -------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/nope", "/api", "/api/", "/api/nope", "/api/monitors/abc", "/api/monitors/1.5", "/api/monitors/-1",
    "/api/monitors/1/nope", "/api/auth", "/api/auth/logout", "/api/admin/nope", "/api/monitors//history",
    "/api/monitors/99999999999999999999999", "/%00", "/api/monitors/%2e%2e/admin",
])
@pytest.mark.parametrize("as_user", [True, False], ids=["token", "anonymous"])
def test_it_answers_an_unknown_path_with_a_json_404(api, owner, path, as_user):
    assert_error(api.get(path, owner if as_user else None), 404)


@pytest.mark.parametrize("method, path, allowed", [
    ("DELETE", "/api/monitors", {"GET", "POST"}),
    ("PATCH", "/api/monitors", {"GET", "POST"}),
    ("GET", "/api/auth/login", {"POST"}),
    ("PUT", "/api/auth/login", {"POST"}),
    ("POST", "/api/auth/me", {"GET"}),
    ("GET", "/api/auth/password", {"POST"}),
    ("POST", "/api/monitors/{id}", {"GET", "PUT", "DELETE"}),
    ("GET", "/api/monitors/{id}/toggle", {"PATCH"}),
    ("PUT", "/api/monitors/{id}/public", {"PATCH"}),
    ("POST", "/api/monitors/{id}/history", {"GET"}),
    ("DELETE", "/api/monitors/{id}/stats", {"GET"}),
    ("PUT", "/api/admin/users", {"GET", "POST"}),
    ("GET", "/api/admin/users/1", {"PATCH", "DELETE"}),
])
@pytest.mark.parametrize("as_user", [True, False], ids=["token", "anonymous"])
def test_it_answers_a_wrong_method_with_a_json_405(api, owner, monitor, method, path, allowed, as_user):
    response = api.request(method, path.format(id=monitor["id"]), owner if as_user else None, json={})
    assert_error(response, 405)
    assert allowed <= {m.strip() for m in response.headers["Allow"].split(",")}


# ---- body size ---------------------------------------------------------------------------------

def _big_json(size: int) -> bytes:
    head, tail = b'{"name": "', b'"}'
    return head + b"x" * (size - len(head) - len(tail)) + tail


@pytest.mark.parametrize("method, path", [
    ("POST", "/api/monitors"), ("PUT", "/api/monitors/{id}"), ("PATCH", "/api/monitors/{id}/toggle"),
    ("POST", "/api/auth/password"), ("POST", "/api/admin/users"), ("POST", "/api/auth/login"),
])
def test_it_refuses_a_body_over_one_mib_with_a_json_413(api, admin, monitor, owner, method, path):
    user = admin if "admin" in path else owner
    response = api.request(method, path.format(id=monitor["id"]), user, data=_big_json(ONE_MIB + 1),
                           headers={"Content-Type": "application/json"})
    assert_error(response, 413)


def test_it_refuses_a_chunked_body_over_one_mib(api, owner):
    def chunks():
        yield b'{"name": "'
        for _ in range(17):
            yield b"x" * 65536
        yield b'"}'

    response = api.post("/api/monitors", owner, data=chunks(), headers={"Content-Type": "application/json"})
    assert_error(response, 413)


def test_it_reads_a_body_of_exactly_one_mib(api, owner):
    response = api.post("/api/monitors", owner, data=_big_json(ONE_MIB),
                        headers={"Content-Type": "application/json"})
    assert_error(response, 400, "name")  # judged on its content (name too long), not its size


def test_it_keeps_serving_after_a_huge_body(api, owner):
    api.post("/api/monitors", owner, data=b"[" * (2 * ONE_MIB), headers={"Content-Type": "application/json"})
    assert api.get("/api/monitors", owner).status_code == 200


# ---- malformed JSON ----------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [
    b"{", b"}", b'{"name": }', b"{'a': 1}", b"nul", b"\xff\xfe\x00", b'{"a": 1,}', b"[" * 10000 + b"]" * 10000,
    b'{"a": ' * 5000 + b"1" + b"}" * 5000, b'{"name": "\\ud800"}', b"\x00",
], ids=lambda r: repr(r[:20]))
@pytest.mark.parametrize("path", ["/api/monitors", "/api/auth/login", "/api/auth/password"])
def test_it_answers_malformed_json_with_400(api, owner, raw, path):
    response = api.post(path, owner, data=raw, headers={"Content-Type": "application/json"})
    assert_error(response, 400)


def test_it_answers_an_empty_body_with_400(api, owner):
    for path in ("/api/monitors", "/api/auth/login", "/api/auth/password"):
        body = assert_error(api.post(path, owner, data=b""), 400)
        assert "body" in body["error"].lower()


# ---- query parameters --------------------------------------------------------------------------

@pytest.mark.parametrize("query", [
    "hours=0", "hours=2161", "hours=abc", "hours=-1", "hours=1.5", "hours=", "hours=1e3", "hours=0x10",
    "hours=99999999999999999999999999", "hours=%C2%B2", "hours=%E2%85%A0", "hours=%00", "hours=24h",
])
def test_it_rejects_a_bad_history_window_with_400(api, owner, monitor, query):
    assert_error(api.get(f"/api/monitors/{monitor['id']}/history?{query}", owner), 400, "hours")


@pytest.mark.parametrize("query", ["days=0", "days=366", "days=abc", "days=-5", "days=", "days=%C2%B2",
                                   "days=7.0", "days=1000000000000000000000"])
def test_it_rejects_a_bad_stats_window_with_400(api, owner, monitor, query):
    assert_error(api.get(f"/api/monitors/{monitor['id']}/stats?{query}", owner), 400, "days")


@pytest.mark.parametrize("path", ["history?hours=1", "history?hours=2160", "history", "stats?days=1",
                                  "stats?days=365", "stats", "history?hours=%201", "history?other=x"])
def test_it_accepts_windows_at_the_limits(api, owner, monitor, path):
    assert api.get(f"/api/monitors/{monitor['id']}/{path}", owner).status_code == 200


# ---- never a 500 -------------------------------------------------------------------------------

ODD_REQUESTS = [
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x" * 10000, "type": "http"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "http", "target": "http://[::1"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "http", "target": "http://" + "é" * 300})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "https", "target": "https://a..b"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "ping", "target": "\u202e" + "a"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "domain", "target": "ä" * 70 + ".com"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "sip", "target": "sip:[::1"})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "tcp", "target": "h", "port": 2**64})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "http", "target": "http://x",
                                                   "interval": 10**30})}),
    ("POST", "/api/monitors", {"data": json.dumps({"name": "x", "type": "http", "target": "http://x",
                                                   "check_locations": ["local"] * 1000})}),
    ("POST", "/api/monitors", {"data": b'{"name": "\xc3\x28"}'}),
    ("POST", "/api/monitors", {"data": b'{"name": 1e999}'}),
    ("POST", "/api/monitors", {"data": b'{"name": "x", "name": "y", "type": "ping", "target": "h_"}'}),
    ("POST", "/api/auth/login", {"data": json.dumps({"email": "a" * 300, "password": "x"})}),
    ("POST", "/api/auth/login", {"data": json.dumps({"email": ["a"], "password": {"x": 1}})}),
    ("POST", "/api/auth/login", {"data": json.dumps({"email": "\x00@x", "password": "\x00"})}),
    ("POST", "/api/auth/password", {"data": json.dumps({"current_password": "x" * 300, "new_password": "y" * 300})}),
    ("PUT", "/api/monitors/{id}", {"data": json.dumps({"check_locations": []})}),
    ("PUT", "/api/monitors/{id}", {"data": json.dumps({"target": None})}),
    ("GET", "/api/monitors/{id}/history?hours=" + "9" * 5000, {}),
    ("GET", "/api/monitors/{id}", {"headers": {"Accept": "text/html"}}),
    ("GET", "/api/monitors", {"headers": {"Authorization": "Bearer " + "A" * 8000}}),
    ("GET", "/api/monitors", {"headers": {"Authorization": "Bearer éé.é.é".encode().decode("latin-1")}}),
]


@pytest.mark.parametrize("method, path, kwargs", ODD_REQUESTS,
                         ids=[f"{i}-{m} {p[:40]}" for i, (m, p, _) in enumerate(ODD_REQUESTS)])
def test_it_never_answers_bad_input_with_a_500(api, owner, monitor, method, path, kwargs):
    kwargs = dict(kwargs)
    headers = {"Content-Type": "application/json", **kwargs.pop("headers", {})}
    response = api.request(method, path.format(id=monitor["id"]), None if "Authorization" in headers else owner,
                           headers=headers, **kwargs)
    assert response.status_code < 500, response.text[:500]
    if response.status_code >= 400:
        assert_error(response, response.status_code)


def test_it_answers_every_error_as_json_even_when_html_is_asked_for(api, owner):
    response = api.get("/api/nope", owner, headers={"Accept": "text/html"})
    assert_error(response, 404)
