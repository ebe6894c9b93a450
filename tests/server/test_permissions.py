"""Who may touch what: every monitor endpoint for the owner, another user and nobody, and the
admin endpoints for an admin, a user and nobody.

Another user's monitor is answered exactly like a monitor that does not exist (404, never 403),
so ids reveal nothing.
"""

from __future__ import annotations

import pytest

from tests.support.asserts import assert_error

_fresh = iter(range(10**6))


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


# alice and bob live for the whole module here: each test makes its own monitor, and nothing
# below changes who they are.
@pytest.fixture(scope="module")
def alice(api, admin):
    return api.create_user(admin, "perm-alice@example.test", full_name="Alice", subscription_tier="pro")


@pytest.fixture(scope="module")
def bob(api, admin):
    return api.create_user(admin, "perm-bob@example.test", full_name="Bob")


@pytest.fixture
def victim(server):
    """A user the admin endpoints may change or delete."""
    user = server.appliance.entities.create_user(f"victim-{next(_fresh)}@example.test", "long-enough",
                                                 full_name="Victim")
    return user.id


@pytest.fixture
def monitor(api, alice) -> dict:
    return api.create_monitor(alice, name="Alice's API", type="https", target="https://api.example.com",
                              keyword="ok")


# (method, path under /api/monitors/<id>, a valid body, the owner's status)
MONITOR_ENDPOINTS = [
    ("GET", "", None, 200),
    ("PUT", "", {"name": "Taken over", "interval": 300}, 200),
    ("DELETE", "", None, 204),
    ("PATCH", "/toggle", {"is_active": False}, 200),
    ("PATCH", "/public", {"public_status": True}, 200),
    ("GET", "/history", None, 200),
    ("GET", "/history?hours=48", None, 200),
    ("GET", "/stats", None, 200),
    ("GET", "/stats?days=7", None, 200),
]
IDS = [f"{m} {p or '/'}" for m, p, _, _ in MONITOR_ENDPOINTS]


@pytest.mark.parametrize("method, suffix, body, expected", MONITOR_ENDPOINTS, ids=IDS)
def test_it_lets_the_owner_use_every_monitor_endpoint(api, alice, monitor, method, suffix, body, expected):
    response = api.request(method, f"/api/monitors/{monitor['id']}{suffix}", alice, json=body)
    assert response.status_code == expected, response.text


@pytest.mark.parametrize("method, suffix, body, _expected", MONITOR_ENDPOINTS, ids=IDS)
@pytest.mark.parametrize("intruder", ["bob", "admin"])
def test_it_answers_404_to_another_user_and_changes_nothing(request, api, alice, monitor, intruder,
                                                             method, suffix, body, _expected):
    other = request.getfixturevalue(intruder)
    path = f"/api/monitors/{monitor['id']}{suffix}"
    theirs = assert_error(api.request(method, path, other, json=body), 404)
    missing = assert_error(api.request(method, f"/api/monitors/999999{suffix}", other, json=body), 404)
    assert theirs == missing  # indistinguishable from an id that does not exist
    assert api.get(f"/api/monitors/{monitor['id']}", alice).json() == monitor


@pytest.mark.parametrize("method, suffix, body", [
    ("PUT", "", {"type": "tcp"}),
    ("PUT", "", {"nonsense": True}),
    ("PATCH", "/toggle", {"is_active": "no"}),
    ("PATCH", "/public", {}),
    ("GET", "/history?hours=0", None),
    ("GET", "/stats?days=abc", None),
])
def test_it_answers_404_to_another_user_even_for_an_invalid_request(api, alice, bob, monitor, method, suffix, body):
    response = api.request(method, f"/api/monitors/{monitor['id']}{suffix}", bob, json=body)
    assert_error(response, 404)


@pytest.mark.parametrize("method, suffix, body, _expected", MONITOR_ENDPOINTS, ids=IDS)
def test_it_answers_401_to_anonymous_requests(api, alice, monitor, anonymous, method, suffix, body, _expected):
    assert_error(api.request(method, f"/api/monitors/{monitor['id']}{suffix}", anonymous, json=body), 401)
    assert_error(api.request(method, f"/api/monitors/999999{suffix}", anonymous, json=body), 401)
    assert api.get(f"/api/monitors/{monitor['id']}", alice).json() == monitor


def test_it_never_lists_another_users_monitors(api, server, alice, bob, admin, monitor):
    bobs = api.create_monitor(bob, name="Bob's", type="ping", target="127.10.0.1")
    store = server.appliance.entities
    for user in (alice, bob, admin):
        listed = [m["id"] for m in api.get("/api/monitors", user).json()]
        assert listed == [m.id for m in store.list_monitors(user.id)]
    alice_ids = {m["id"] for m in api.get("/api/monitors", alice).json()}
    bob_ids = {m["id"] for m in api.get("/api/monitors", bob).json()}
    admin_ids = {m["id"] for m in api.get("/api/monitors", admin).json()}
    assert monitor["id"] in alice_ids and bobs["id"] in bob_ids
    assert not alice_ids & bob_ids and not admin_ids & (alice_ids | bob_ids)


def test_it_creates_a_monitor_for_the_caller_only(api, alice, bob):
    created = api.create_monitor(bob, name="Mine", type="ping", target="127.10.0.2")
    assert created["id"] in [m["id"] for m in api.get("/api/monitors", bob).json()]
    assert created["id"] not in [m["id"] for m in api.get("/api/monitors", alice).json()]
    assert_error(api.post("/api/monitors", bob, json={"name": "X", "type": "ping", "target": "127.10.0.3",
                                                      "user_id": alice.id}), 400, "user_id")


@pytest.mark.parametrize("method, path", [("GET", "/api/monitors"), ("POST", "/api/monitors")])
def test_it_answers_401_to_anonymous_list_and_create(api, anonymous, method, path):
    body = {"name": "X", "type": "ping", "target": "127.10.0.1"} if method == "POST" else None
    assert_error(api.request(method, path, anonymous, json=body), 401)


def test_it_checks_the_token_before_the_body(api, anonymous):
    assert_error(api.post("/api/monitors", anonymous, data=b"{not json"), 401)
    assert_error(api.post("/api/monitors", anonymous, json={"bogus": 1}), 401)


# ---- admin endpoints ---------------------------------------------------------------------------

ADMIN_ENDPOINTS = [
    ("GET", "/api/admin/users", None, 200),
    ("POST", "/api/admin/users", {"email": "{fresh}", "password": "long-enough"}, 201),
    ("PATCH", "/api/admin/users/{victim}", {"full_name": "Renamed"}, 200),
    ("DELETE", "/api/admin/users/{victim}", None, 204),
]


@pytest.mark.parametrize("method, path, body, admin_status", ADMIN_ENDPOINTS,
                         ids=[f"{m} {p}" for m, p, _, _ in ADMIN_ENDPOINTS])
@pytest.mark.parametrize("who, expected", [("admin", None), ("alice", 403), ("anonymous", 401)])
def test_it_keeps_the_admin_endpoints_for_admins(request, api, admin, victim, who, expected, method, path, body,
                                                 admin_status):
    caller = request.getfixturevalue(who)
    if body and body.get("email") == "{fresh}":
        body = {**body, "email": f"fresh-{next(_fresh)}@example.test"}
    response = api.request(method, path.format(victim=victim), caller, json=body)
    if expected is None:
        assert response.status_code == admin_status, response.text
    else:
        assert_error(response, expected)
        users = {u["id"]: u for u in api.get("/api/admin/users", admin).json()}
        assert victim in users and users[victim]["fullName"] == "Victim"
        if body and "email" in body:
            assert body["email"] not in {u["email"] for u in users.values()}
