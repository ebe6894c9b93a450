"""GET /api/monitors/types: the monitor-type registry as forms need it (the console builds its
monitor form from this answer and knows no type by itself)."""

from __future__ import annotations

import pytest

from appliance.monitor_types import TYPES
from console.client import ApiClient


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


def test_it_lists_every_type_of_the_registry_with_what_it_takes(api, alice):
    response = api.get("/api/monitors/types", alice)
    assert response.status_code == 200, response.text
    types = {t["name"]: t for t in response.json()}
    assert list(types) == list(TYPES)
    assert types["tcp"]["options"] == ["port"] and types["tcp"]["required"] == ["port"]
    assert types["https"]["defaults"] == {"ssl_check": True}
    assert types["heartbeat"]["has_target"] is False and types["heartbeat"]["pushed"] is True
    assert types["http"]["target_hint"] == "http://example.com/health"


def test_it_needs_a_login(api):
    assert api.get("/api/monitors/types").status_code == 401


def test_the_console_client_asks_once_a_session(server, alice):
    client = ApiClient(server.url, token=alice.token)
    first = client.monitor_types()
    client.session.close()  # a second request would fail now: the answer must come from memory
    client.session = None
    assert client.monitor_types() is first


def test_each_types_extra_keys_come_in_the_declared_order_of_the_answer():
    """monitor_json appends a type's shown keys, then its details: _ORDER must agree for every type."""
    from server.serialize import _ORDER
    for kind in TYPES.values():
        declared = [*kind.shown, *kind.details]
        assert [key for key in _ORDER if key in declared] == declared, kind.name
