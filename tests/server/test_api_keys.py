"""API keys for scripts: shown once, stored hashed, read or write, revocable, rate-limited like
their user, and unable to manage keys or the password."""

from __future__ import annotations

from tests.support.appliance import InProcessAppliance


def make_key(api, user, name="ci", scope="read"):
    response = api.post("/api/auth/keys", user, json={"name": name, "scope": scope})
    assert response.status_code == 201, response.text
    return response.json()


def test_it_shows_the_key_once_and_stores_only_a_hash(api, server, alice):
    created = make_key(api, alice, "deploy check")
    assert created["key"].startswith("sc_") and created["prefix"] == created["key"][:10]
    listed = api.get("/api/auth/keys", alice).json()
    assert listed == [{k: v for k, v in created.items() if k != "key"}]
    with server.appliance.entities.engine.connect() as db:  # SQLite or PostgreSQL alike
        stored = [row[0] for row in db.exec_driver_sql("SELECT key_hash FROM api_key")]
    assert created["key"] not in stored and all(len(h) == 64 for h in stored)


def test_a_read_key_reads_and_gets_403_on_any_write(api, alice):
    key = make_key(api, alice, scope="read")["key"]
    assert api.get("/api/monitors", key).status_code == 200
    assert api.get("/api/auth/me", key).json()["email"] == alice.email
    refused = api.post("/api/monitors", key, json={"name": "x", "type": "tcp", "target": "127.0.0.1", "port": 1})
    assert refused.status_code == 403 and "read-only" in refused.json()["error"]
    assert api.get("/api/monitors", alice).json() == []


def test_a_write_key_can_change_monitors(api, alice):
    key = make_key(api, alice, scope="write")["key"]
    created = api.post("/api/monitors", key, json={"name": "db", "type": "tcp", "target": "127.0.0.1", "port": 5432,
                                                   "is_active": False})
    assert created.status_code == 201
    assert [m["name"] for m in api.get("/api/monitors", alice).json()] == ["db"]


def test_a_revoked_key_stops_working_at_once(api, alice):
    created = make_key(api, alice)
    assert api.get("/api/monitors", created["key"]).status_code == 200
    assert api.delete(f"/api/auth/keys/{created['id']}", alice).status_code == 204
    assert api.get("/api/monitors", created["key"]).status_code == 401
    assert api.get("/api/monitors", "sc_not-a-real-key").status_code == 401


def test_keys_cannot_manage_keys_or_the_password(api, alice):
    key = make_key(api, alice, scope="write")["key"]
    assert api.get("/api/auth/keys", key).status_code == 403
    assert api.post("/api/auth/keys", key, json={"name": "x"}).status_code == 403
    assert api.post("/api/auth/password", key, json={"current_password": alice.password,
                                                     "new_password": "another-pass-1"}).status_code == 403


def test_users_see_and_revoke_only_their_own_keys(api, alice, bob):
    created = make_key(api, alice)
    assert api.get("/api/auth/keys", bob).json() == []
    assert api.delete(f"/api/auth/keys/{created['id']}", bob).status_code == 404
    assert api.get("/api/auth/keys").status_code == 401


def test_it_records_when_a_key_was_last_used(api, alice):
    created = make_key(api, alice)
    assert created["last_used_at"] is None
    api.get("/api/monitors", created["key"])
    assert api.get("/api/auth/keys", alice).json()[0]["last_used_at"] is not None


def test_it_validates_the_request(api, alice):
    assert api.post("/api/auth/keys", alice, json={"name": ""}).status_code == 400
    assert api.post("/api/auth/keys", alice, json={"name": "x", "scope": "admin"}).status_code == 400
    assert api.post("/api/auth/keys", alice, json={"name": "x", "extra": 1}).status_code == 400


def test_a_key_shares_its_users_rate_limit(tmp_path):
    server = InProcessAppliance(tmp_path / "data", rate_limit="6/minute").start(engine=False)
    try:
        api = server.api
        admin = server.admin()
        key = make_key(api, admin)["key"]  # the user's 1st request this minute
        codes = [api.get("/api/monitors", key).status_code for _ in range(3)]
        codes += [api.get("/api/monitors", admin).status_code for _ in range(2)]
        limited = api.get("/api/monitors", key)  # the 7th
        assert codes == [200] * 5
        assert limited.status_code == 429 and limited.json() == {"error": "rate limit exceeded"}
    finally:
        server.stop()
