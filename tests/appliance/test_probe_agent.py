"""The probe agent against a real appliance API on 127.0.0.1 (in this process, check engine
off), one step at a time: refresh, one check, one push. The end-to-end runs with probe
processes are in tests/e2e/test_probes.py."""

from __future__ import annotations

import pytest
import requests

from appliance.probe import ProbeAgent
from tests.support.appliance import InProcessAppliance
from tests.support.net import free_port
from tests.support.peers import HttpPeer


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("agent") / "data", probe_offline_after=6.0)
    instance.start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def registered(server):
    """A probe registered on the server: (admin, name, token)."""
    admin = server.admin()
    name = f"agent-{free_port()}"
    response = server.api.post("/api/admin/probes", admin, json={"name": name, "display_name": "Agent"})
    assert response.status_code == 201, response.text
    return admin, name, response.json()["token"]


def agent_for(url: str, token: str, name: str, tmp_path) -> ProbeAgent:
    return ProbeAgent(url, token, name, tmp_path / "probe", source_address="127.0.0.2", workers=1)


def test_it_learns_how_often_to_call_in_and_what_to_check(server, registered, tmp_path):
    admin, name, token = registered
    with HttpPeer() as peer:
        monitor = server.api.create_monitor(admin, name="Site", type="http", target=peer.url, check_locations=[name])
        agent = agent_for(server.url, token, name, tmp_path)
        try:
            assert agent.refresh() is True
            assert agent.refresh_seconds == 2.0  # a third of the 6 s of silence the server allows
            assert set(agent._specs) == {monitor["id"]}
            agent._check(agent._specs[monitor["id"]])
            assert peer.clients == ["127.0.0.2"]  # bound to its source address
            assert agent.push_once() == 1 and len(agent.spool) == 0
        finally:
            agent.spool.close()


def test_it_delivers_a_failure_whatever_the_length_of_its_error(server, registered, tmp_path):
    """A keyword of tabs makes a long error text (its repr doubles it); the server takes at
    most 2000 characters, and a refused batch would stay in the spool for ever, blocking the rest."""
    admin, name, token = registered
    with HttpPeer() as peer:
        monitor = server.api.create_monitor(admin, name="Keyword", type="http", target=peer.url,
                                            keyword="\t" * 1000, retries=0, check_locations=[name])
        agent = agent_for(server.url, token, name, tmp_path)
        try:
            assert agent.refresh() is True
            agent._check(agent._specs[monitor["id"]])
            assert agent.push_once() == 1 and len(agent.spool) == 0
            shown = server.api.get(f"/api/monitors/{monitor['id']}", admin).json()
            assert shown["location_status"] == {name: "down"}
            assert shown["last_error"].startswith("keyword") and len(shown["last_error"]) == 2000
        finally:
            agent.spool.close()


def test_it_keeps_its_results_while_the_server_is_unreachable(server, registered, tmp_path):
    admin, name, token = registered
    with HttpPeer() as peer:
        monitor = server.api.create_monitor(admin, name="Site", type="http", target=peer.url, check_locations=[name])
        agent = agent_for(server.url, token, name, tmp_path)
        assert agent.refresh() is True
        spec = agent._specs[monitor["id"]]
        agent.spool.close()
        away = agent_for(f"http://127.0.0.1:{free_port()}", token, name, tmp_path)  # nothing listens there
        try:
            away._apply([spec])
            away._check(spec)
            with pytest.raises(requests.ConnectionError):
                away.push_once()
            assert away.refresh() is False
            assert len(away.spool) == 1
            away.server = server.url  # it is back
            assert away.push_once() == 1 and len(away.spool) == 0
        finally:
            away.scheduler.stop()
            away.spool.close()
