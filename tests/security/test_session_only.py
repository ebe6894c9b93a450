"""API keys never manage users, passwords, keys or probes, whatever their scope and whoever owns
them: an administrator's write key that leaks must not reset a password, make an admin, mint
itself a new key or register a probe. A login token of the same administrator may.

The rule is declared once per view (server.auth.session_only) and shown in the OpenAPI document
(`x-session-only`); the table below runs every such operation of the document against a served
appliance with both kinds of key and with the login."""

from __future__ import annotations

import itertools

import pytest

from server import create_app
from server.openapi import build_document
from tests.support.asserts import assert_error

DOCUMENT = build_document()
METHODS = ("get", "post", "put", "patch", "delete")
MANAGES_ACCOUNTS = ("/api/admin/users", "/api/auth/password", "/api/auth/keys", "/api/admin/probes")
# Every operation on those paths (the table below), and the ones the document marks.
MANAGING = sorted((method.upper(), path) for path, item in DOCUMENT["paths"].items()
                  for method in item if method in METHODS and path.startswith(MANAGES_ACCOUNTS))
SESSION_ONLY = sorted((method.upper(), path) for path, item in DOCUMENT["paths"].items()
                      for method, op in item.items() if method in METHODS and op.get("x-session-only"))
_serial = itertools.count()


def _created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


@pytest.fixture(scope="module")
def keys(api, admin) -> dict[str, str]:
    """The administrator's API keys, one per scope."""
    return {scope: _created(api.post("/api/auth/keys", admin, json={"name": f"ops-{scope}", "scope": scope}))["key"]
            for scope in ("read", "write")}


def request_for(api, admin, method: str, path: str, for_real: bool) -> tuple[str, dict | None, str | None]:
    """(url, body, token of the login that may do it) for one operation. `for_real`: the call will
    succeed, so objects it uses up (deleted, password changed) are fresh ones."""
    victim = api.create_user(admin, f"victim-{next(_serial)}@example.test")
    probe = _created(api.post("/api/admin/probes", admin,
                              json={"name": f"p{next(_serial)}", "display_name": "Spare"}))
    key = _created(api.post("/api/auth/keys", admin, json={"name": "spare"}))
    url = (path.replace("{user_id}", str(victim.id)).replace("{probe_id}", str(probe["id"]))
           .replace("{key_id}", str(key["id"])))
    token = admin.token
    bodies = {
        ("POST", "/api/admin/users"): {"email": f"made-{next(_serial)}@example.test", "password": "long-enough-1",
                                       "is_admin": True},
        ("PATCH", "/api/admin/users/{user_id}"): {"password": "taken-over-1", "is_admin": True},
        ("POST", "/api/admin/probes"): {"name": f"made-{next(_serial)}", "display_name": "Made"},
        ("PATCH", "/api/admin/probes/{probe_id}"): {"display_name": "Renamed"},
        ("POST", "/api/auth/keys"): {"name": "another", "scope": "write"},
        ("POST", "/api/auth/password"): {"current_password": admin.password, "new_password": "taken-over-1"},
    }
    if path == "/api/auth/password" and for_real:  # it retires the caller's tokens: a throwaway admin
        other = api.create_user(admin, f"boss-{next(_serial)}@example.test", is_admin=True)
        token = other.token
        bodies[(method, path)] = {"current_password": other.password, "new_password": "taken-over-1"}
    return url, bodies.get((method, path)), token


def test_it_marks_every_operation_that_manages_accounts_and_no_other():
    assert len(MANAGING) == 12
    assert SESSION_ONLY == MANAGING


def test_the_document_and_the_views_declare_the_same_operations(server):
    app = create_app(server.appliance)
    declared = set()
    for rule in app.url_map.iter_rules():
        if getattr(app.view_functions[rule.endpoint], "session_only", False):
            path = rule.rule.replace("<int:", "{").replace(">", "}")
            declared |= {(m, path) for m in rule.methods - {"HEAD", "OPTIONS"}}
    assert sorted(declared) == MANAGING


@pytest.mark.parametrize("scope", ("read", "write"))
@pytest.mark.parametrize("method, path", MANAGING, ids=[f"{m} {p}" for m, p in MANAGING])
def test_an_admins_api_key_is_refused(api, admin, keys, method, path, scope):
    url, body, _ = request_for(api, admin, method, path, for_real=False)
    users_before = api.get("/api/admin/users", admin).json()
    keys_before = api.get("/api/auth/keys", admin).json()
    response = api.request(method, url, keys[scope], json=body)
    if scope == "read" and method != "GET":
        assert_error(response, 403)  # a read key is refused any write before anything else
    else:
        error = assert_error(response, 403)["error"]
        assert error == ("API keys cannot manage users, passwords, API keys or probes; "
                         "log in with your password to do this.")
    assert api.get("/api/admin/users", admin).json() == users_before
    assert [k["id"] for k in api.get("/api/auth/keys", admin).json()] == [k["id"] for k in keys_before]
    assert api.post("/api/auth/login", json={"email": admin.email, "password": admin.password}).status_code == 200


@pytest.mark.parametrize("method, path", MANAGING, ids=[f"{m} {p}" for m, p in MANAGING])
def test_the_admins_login_is_allowed(api, admin, method, path):
    url, body, token = request_for(api, admin, method, path, for_real=True)
    response = api.request(method, url, token, json=body)
    ok = next(int(c) for c in DOCUMENT["paths"][path][method.lower()]["responses"] if c.startswith("2"))
    assert response.status_code == ok, response.text


@pytest.mark.parametrize("scope", ("read", "write"))
def test_keys_keep_the_rest_of_their_reach(api, admin, keys, scope):
    """Metrics, the engine status and (write keys) backups are still for API keys."""
    assert api.get("/metrics", keys[scope]).status_code == 200
    assert api.get("/api/admin/engine", keys[scope]).status_code == 200
    assert api.get("/api/monitors", keys[scope]).status_code == 200
