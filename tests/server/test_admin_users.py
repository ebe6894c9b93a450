"""User management over HTTP (admins only), and the CLI paths that create users."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta

import pytest

from appliance.storage.history import ResultRow
from appliance.timeutil import utcnow
from tests.support.api import Api
from tests.support.appliance import ROOT, ApplianceProcess, InProcessAppliance
from tests.support.asserts import assert_error

ADMIN_KEYS = {"id", "email", "fullName", "subscriptionTier", "isAdmin", "statusPageSlug", "createdAt"}


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


_counter = iter(range(10**6))


def _new_email(prefix="user"):
    return f"{prefix}-{next(_counter)}@example.test"


@pytest.fixture(scope="module")
def someone(server):
    """A user that invalid updates aim at (and must leave unchanged)."""
    return server.appliance.entities.create_user("someone@example.test", "long-enough", full_name="Someone")


def _unchanged(api, admin, user) -> None:
    listed = {u["id"]: u for u in api.get("/api/admin/users", admin).json()}[user.id]
    assert (listed["email"], listed["fullName"], listed["subscriptionTier"], listed["isAdmin"]) == (
        user.email, user.full_name, user.subscription_tier, user.is_admin)
    api.login(user.email, "long-enough")


# ---- listing and creating ----------------------------------------------------------------------

def test_it_lists_users_for_an_admin(api, admin, alice, bob):
    response = api.get("/api/admin/users", admin)
    assert response.status_code == 200, response.text
    users = {u["id"]: u for u in response.json()}
    assert {admin.id, alice.id, bob.id} <= set(users)
    assert set(users[alice.id]) == ADMIN_KEYS
    assert users[alice.id]["subscriptionTier"] == "pro" and users[alice.id]["isAdmin"] is False
    assert users[admin.id]["isAdmin"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", users[bob.id]["createdAt"])
    assert "password" not in response.text.lower() and "scrypt" not in response.text


def test_it_creates_a_user_who_can_log_in(api, server, admin):
    email = _new_email("carol")
    response = api.post("/api/admin/users", admin, json={
        "email": email, "password": "carol-password", "full_name": "Carol",
        "subscription_tier": "pro", "is_admin": False})
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == ADMIN_KEYS
    assert body["email"] == email and body["fullName"] == "Carol"
    assert body["subscriptionTier"] == "pro" and body["isAdmin"] is False
    carol = api.login(email, "carol-password")
    assert carol.id == body["id"]
    stored = server.appliance.entities.get_user(carol.id).password_hash
    assert stored.startswith("scrypt$") and "carol-password" not in stored
    assert api.get("/api/auth/me", carol).json()["subscriptionTier"] == "pro"


def test_it_creates_a_free_non_admin_user_by_default(api, admin):
    response = api.post("/api/admin/users", admin, json={"email": _new_email(), "password": "long-enough"})
    assert response.status_code == 201, response.text
    assert response.json()["subscriptionTier"] == "free"
    assert response.json()["isAdmin"] is False
    assert response.json()["fullName"] == ""


def test_it_creates_another_admin_who_can_manage_users(api, admin):
    email = _new_email("root")
    assert api.post("/api/admin/users", admin,
                    json={"email": email, "password": "long-enough", "is_admin": True}).status_code == 201
    second = api.login(email, "long-enough")
    assert api.get("/api/admin/users", second).status_code == 200


def test_it_refuses_a_duplicate_email_with_409(api, admin, alice):
    for email in (alice.email, alice.email.upper()):
        response = api.post("/api/admin/users", admin, json={"email": email, "password": "long-enough"})
        assert_error(response, 409, "email")


@pytest.mark.parametrize("body, field", [
    ({"password": "long-enough"}, "email"),
    ({"email": "not-an-email", "password": "long-enough"}, "email"),
    ({"email": "x@example.test"}, "password"),
    ({"email": "x@example.test", "password": "short"}, "password"),
    ({"email": "x@example.test", "password": "long-enough", "subscription_tier": "gold"}, "subscription_tier"),
    ({"email": "x@example.test", "password": "long-enough", "is_admin": "yes"}, "is_admin"),
    ({"email": "x@example.test", "password": "long-enough", "is_admin": 1}, "is_admin"),
    ({"email": "x@example.test", "password": "long-enough", "full_name": 5}, "full_name"),
    ({"email": "x@example.test", "password": "long-enough", "role": "admin"}, "role"),
])
def test_it_rejects_an_invalid_new_user_with_400(api, admin, body, field):
    assert_error(api.post("/api/admin/users", admin, json=body), 400, field)


# ---- updating ----------------------------------------------------------------------------------

def test_it_updates_a_users_tier_name_and_email(api, admin, bob):
    new_email = _new_email("robert")
    response = api.patch(f"/api/admin/users/{bob.id}", admin,
                         json={"subscription_tier": "pro", "full_name": "Robert", "email": new_email})
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["subscriptionTier"], body["fullName"], body["email"]) == ("pro", "Robert", new_email)
    me = api.get("/api/auth/me", bob).json()
    assert (me["subscriptionTier"], me["fullName"], me["email"]) == ("pro", "Robert", new_email)
    api.login(new_email, bob.password)


def test_it_resets_a_users_password_and_retires_their_tokens(api, admin, bob):
    response = api.patch(f"/api/admin/users/{bob.id}", admin, json={"password": "reset-by-admin"})
    assert response.status_code == 200, response.text
    assert_error(api.get("/api/auth/me", bob), 401)
    api.login(bob.email, "reset-by-admin")


def test_it_promotes_a_user_to_admin_and_back(api, admin, bob):
    assert api.patch(f"/api/admin/users/{bob.id}", admin, json={"is_admin": True}).json()["isAdmin"] is True
    assert api.get("/api/admin/users", bob).status_code == 200
    assert api.patch(f"/api/admin/users/{bob.id}", admin, json={"is_admin": False}).json()["isAdmin"] is False
    assert_error(api.get("/api/admin/users", bob), 403)


def test_it_refuses_to_let_an_admin_demote_itself(api, admin):
    assert_error(api.patch(f"/api/admin/users/{admin.id}", admin, json={"is_admin": False}), 400, "is_admin")
    assert api.get("/api/auth/me", admin).json()["isAdmin"] is True


def test_it_refuses_to_take_an_existing_email_on_update(api, admin, alice, bob):
    assert_error(api.patch(f"/api/admin/users/{bob.id}", admin, json={"email": alice.email}), 409, "email")


@pytest.mark.parametrize("body, field", [
    ({"subscription_tier": "gold"}, "subscription_tier"),
    ({"is_admin": "true"}, "is_admin"),
    ({"password": "short"}, "password"),
    ({"email": "nope"}, "email"),
    ({"nickname": "bobby"}, "nickname"),
])
def test_it_rejects_an_invalid_user_update_with_400(api, admin, someone, body, field):
    assert_error(api.patch(f"/api/admin/users/{someone.id}", admin, json=body), 400, field)
    _unchanged(api, admin, someone)


@pytest.mark.parametrize("field", ["email", "password", "full_name", "subscription_tier", "is_admin"])
def test_it_rejects_null_in_a_user_update(api, admin, someone, field):
    assert_error(api.patch(f"/api/admin/users/{someone.id}", admin, json={field: None}), 400, field)
    _unchanged(api, admin, someone)


def test_it_answers_404_for_an_unknown_user(api, admin):
    assert_error(api.patch("/api/admin/users/999999", admin, json={"full_name": "X"}), 404)
    assert_error(api.delete("/api/admin/users/999999", admin), 404)


# ---- deleting ----------------------------------------------------------------------------------

def test_it_deletes_a_user_with_their_monitors_and_history(api, server, admin, alice, bob):
    first = api.create_monitor(bob, name="Bob's site", type="http", target="http://127.0.0.1:9/")
    second = api.create_monitor(bob, name="Bob's port", type="tcp", target="127.0.0.1", port=9)
    kept = api.create_monitor(alice, name="Alice's site", type="http", target="http://127.0.0.1:9/")
    history = server.appliance.history
    now = utcnow()
    for monitor in (first, second, kept):
        history.append_many(ResultRow(monitor["id"], now - timedelta(minutes=i), "local", True, 5.0)
                            for i in range(3))
    history.flush()
    assert history.count(first["id"]) == 3

    assert api.delete(f"/api/admin/users/{bob.id}", admin).status_code == 204

    assert history.count(first["id"]) == 0 and history.count(second["id"]) == 0
    assert history.count(kept["id"]) == 3
    entities = server.appliance.entities
    assert entities.get_user(bob.id) is None
    assert entities.get_monitor(first["id"]) is None and entities.get_monitor(second["id"]) is None
    assert bob.id not in {u["id"] for u in api.get("/api/admin/users", admin).json()}
    assert_error(api.get("/api/auth/me", bob), 401)
    assert api.get(f"/api/monitors/{kept['id']}", alice).status_code == 200


def test_it_refuses_to_let_an_admin_delete_itself(api, admin):
    assert_error(api.delete(f"/api/admin/users/{admin.id}", admin), 400)
    assert api.get("/api/auth/me", admin).status_code == 200


# ---- permissions -------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, body", [
    ("GET", "/api/admin/users", None),
    ("POST", "/api/admin/users", {"email": "z@example.test", "password": "long-enough"}),
    ("PATCH", "/api/admin/users/{admin_id}", {"full_name": "Hacked"}),
    ("DELETE", "/api/admin/users/{admin_id}", None),
])
def test_it_forbids_user_management_to_non_admins(api, admin, alice, method, path, body):
    response = api.request(method, path.format(admin_id=admin.id), alice, json=body)
    assert_error(response, 403)
    assert_error(api.request(method, path.format(admin_id=admin.id), None, json=body), 401)
    assert api.get("/api/auth/me", admin).json()["fullName"] != "Hacked"


# ---- the command line --------------------------------------------------------------------------

def _cli(*args, stdin: str = "") -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "statuscore", *args], input=stdin, capture_output=True,
                          text=True, cwd=ROOT, timeout=60)


@pytest.mark.slow
def test_it_adds_users_from_the_command_line(tmp_path):
    data = tmp_path / "data"
    added = _cli("user", "add", "--data-dir", str(data), "--email", "Ops@Example.test", "--name", "Ops",
                 "--tier", "pro", "--admin", "--password-stdin", stdin="ops-password-1\n")
    assert added.returncode == 0, added.stderr
    plain = _cli("user", "add", "--data-dir", str(data), "--email", "dev@example.test", "--password-stdin",
                 stdin="dev-password-1\n")
    assert plain.returncode == 0, plain.stderr
    again = _cli("user", "add", "--data-dir", str(data), "--email", "dev@example.test", "--password-stdin",
                 stdin="dev-password-2\n")
    assert again.returncode != 0 and "already exists" in again.stderr
    short = _cli("user", "add", "--data-dir", str(data), "--email", "x@example.test", "--password-stdin",
                 stdin="short\n")
    assert short.returncode != 0 and "8 characters" in short.stderr
    assert "ops-password-1" not in added.stdout + added.stderr

    server = InProcessAppliance(data).start(engine=False)
    try:
        api = server.api
        ops = api.login("ops@example.test", "ops-password-1")
        me = api.get("/api/auth/me", ops).json()
        assert (me["fullName"], me["subscriptionTier"], me["isAdmin"]) == ("Ops", "pro", True)
        dev = api.login("dev@example.test", "dev-password-1")
        me = api.get("/api/auth/me", dev).json()
        assert (me["subscriptionTier"], me["isAdmin"]) == ("free", False)
        # the data dir had users already: serve created no admin of its own
        emails = {u["email"] for u in api.get("/api/admin/users", ops).json()}
        assert emails == {"ops@example.test", "dev@example.test"}
    finally:
        server.stop()


@pytest.mark.slow
def test_it_creates_the_first_admin_from_the_environment_on_an_empty_data_dir(tmp_path):
    proc = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_ADMIN_EMAIL": "Boss@Example.test",
                                                    "STATUSCORE_ADMIN_PASSWORD": "boss-password-1"}).start()
    try:
        api = Api(proc.url)
        boss = api.login("boss@example.test", "boss-password-1")
        assert api.get("/api/auth/me", boss).json()["isAdmin"] is True
        assert "boss-password-1" not in proc.log()
    finally:
        assert proc.stop() == 0
    secret = tmp_path / "data" / "secret"
    assert secret.stat().st_mode & 0o077 == 0  # the signing secret is the owner's alone
    # a second start on the same (no longer empty) data dir creates nobody and prints nothing
    again = ApplianceProcess(tmp_path / "data", env={"STATUSCORE_ADMIN_EMAIL": "other@example.test"}).start()
    try:
        api = Api(again.url)
        users = api.get("/api/admin/users", api.login("boss@example.test", "boss-password-1")).json()
        assert [u["email"] for u in users] == ["boss@example.test"]
        assert api.get("/api/auth/me", boss).status_code == 200  # same secret: tokens survive a restart
        assert again.log().count("Created the admin") == 1
    finally:
        again.stop()


@pytest.mark.slow
def test_it_generates_and_prints_the_first_admins_password_once(tmp_path):
    env = {"STATUSCORE_ADMIN_EMAIL": "", "STATUSCORE_ADMIN_PASSWORD": ""}
    proc = ApplianceProcess(tmp_path / "data", env=env).start()
    try:
        found = re.search(r"admin account (\S+) with password (\S+)", proc.log())
        assert found, proc.log()
        email, password = found.groups()
        assert email == "admin@statuscore.local" and len(password) >= 12
        api = Api(proc.url)
        admin = api.login(email, password)
        assert api.get("/api/auth/me", admin).json()["isAdmin"] is True
    finally:
        proc.stop()
    restarted = ApplianceProcess(tmp_path / "data", env=env).start()
    try:
        assert password not in restarted.log().split(found.group(0), 1)[1]
        assert restarted.log().count(password) == 1
        Api(restarted.url).login(email, password)
    finally:
        restarted.stop()
