"""Imports and exports are bounded, so one user cannot stall everyone: one in progress per user
(429 beyond), two on the appliance (503 beyond), both at once with Retry-After and the contract's
error body; documents past the size, value or nesting limits are a 400 that names the limit."""

from __future__ import annotations

import pytest

from appliance.document import MAX_DEPTH, MAX_NODES
from tests.support.appliance import InProcessAppliance

YAML = {"Content-Type": "application/yaml"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("limits") / "data").start(engine=False)
    yield instance
    instance.stop()


def busy(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["Retry-After"] == "2"
    error = response.json()
    assert error["error"].endswith(".") and "try again" in error["error"] and error["details"]["in_progress"]
    return error


def test_one_user_gets_one_transfer_at_a_time_and_the_appliance_two(server):
    api, admin = server.api, server.admin()
    alice, bob, carol = (api.create_user(admin, f"{name}-slots@example.test") for name in ("alice", "bob", "carol"))
    slots = server.appliance.transfers  # as if an import of alice's, then one of bob's, were running
    with slots.hold(alice.id):
        busy(api.post("/api/import?dry_run=true", alice, json={}), 429)
        busy(api.get("/api/export?format=yaml", alice), 429)
        assert api.post("/api/import?dry_run=true", carol, json={}).status_code == 200  # others go on
        with slots.hold(bob.id):
            error = busy(api.post("/api/import", carol, data="monitors: []", headers=YAML), 503)
            assert "at most 2" in error["error"]
            busy(api.get("/api/export", carol), 503)
            assert api.get("/api/auth/me", carol).status_code == 200  # the rest of the API is not affected
    done = api.post("/api/import?dry_run=true", alice, json={})
    assert done.status_code == 200 and "Retry-After" not in done.headers
    assert api.get("/api/export", alice).status_code == 200 and slots.in_use() == 0


def test_a_refused_document_gives_its_slot_back(server):
    api, admin = server.api, server.admin()
    alice = api.create_user(admin, "alice-refused@example.test")
    for _ in range(3):
        assert api.post("/api/import", alice, data="a: [", headers=YAML).status_code == 400
        assert api.post("/api/import", alice, json={"monitors": [{"name": "x"}]}).status_code == 400
    assert server.appliance.transfers.in_use() == 0


@pytest.mark.parametrize("body, headers, limit", [
    ("[" * 100_000 + "]" * 100_000, {}, f"more than {MAX_DEPTH} levels"),
    ('{"monitors": ' + "[" * 40 + "]" * 40 + "}", {}, f"more than {MAX_DEPTH} levels"),
    ("- " * 3000 + "x", YAML, f"more than {MAX_DEPTH} levels"),
    ("[" * 100_000, YAML, f"more than {MAX_DEPTH} levels"),
    ('{"monitors": [' + "0," * MAX_NODES + "0]}", {}, f"more than {MAX_NODES:,} values"),
    ("monitors: [" + "0," * MAX_NODES + "0]", YAML, f"more than {MAX_NODES:,} values"),
])
def test_it_refuses_a_document_past_a_limit_naming_it(server, body, headers, limit):
    api = server.api
    response = api.post("/api/import?dry_run=true", server.admin(), data=body, headers=headers)
    assert response.status_code == 400, response.text
    assert limit in response.json()["error"] and response.json()["details"]["body"]


def test_a_body_over_one_mebibyte_is_413(server):
    response = server.api.post("/api/import", server.admin(), data="#" * (1024 * 1024 + 1), headers=YAML)
    assert response.status_code == 413 and response.json()["error"]
