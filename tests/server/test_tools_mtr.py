"""GET /api/monitors/:id/mtr over real HTTP: a pro user's report for monitors aimed at 127.0.0.1
(URL, host:port and sip forms), the premium rule, ownership, query checks, the per-user rate
limit and the 503s (runs at once, no raw ICMP). The check engine is off: the only traffic is
the MTR probes to 127.0.0.1."""

from __future__ import annotations

import threading

import pytest
import schemathesis
from icmplib.exceptions import SocketPermissionError

import appliance.tools.mtr as mtr_module
from appliance.tools.mtr import Mtr, MtrResolveError
from server.openapi import build_document
from tests.support.asserts import assert_error
from tests.support.icmp import needs_raw_icmp
from tests.support.net import free_port

MTR = "/api/monitors/{id}/mtr"


@pytest.fixture(scope="module")
def server(idle_server):
    return idle_server


@pytest.fixture(scope="module")
def documented():
    return schemathesis.openapi.from_dict(build_document())["/api/monitors/{monitor_id}/mtr"]["GET"]


def mtr(api, user, monitor: dict, query: str = ""):
    return api.get(MTR.format(id=monitor["id"]) + query, user)


@needs_raw_icmp
@pytest.mark.parametrize("fields", [
    {"type": "http", "target": f"http://127.0.0.1:{free_port()}/"},
    {"type": "tcp", "target": "127.0.0.1", "port": 5432},
    {"type": "sip", "target": "127.0.0.1:5070"},
    {"type": "ping", "target": "127.0.0.1"},
], ids=["url", "tcp host+port", "sip host:port", "ping"])
def test_it_gives_a_pro_user_a_report_for_their_monitor(api, alice, documented, fields):
    monitor = api.create_monitor(alice, name="Local", **fields)
    response = mtr(api, alice, monitor, "?rounds=2&timeout=2")
    assert response.status_code == 200, response.text
    documented.validate_response(response)
    report = response.json()
    assert report["target"] == "127.0.0.1" and report["address"] == "127.0.0.1"
    assert report["rounds"] == 2 and report["reached"] is True
    (hop,) = report["hops"]
    assert hop["hop"] == 1 and hop["address"] == "127.0.0.1" and hop["host"]
    assert hop["sent"] == 2 and hop["loss_pct"] == 0.0
    assert 0 <= hop["best"] <= hop["avg"] <= hop["worst"] and hop["stdev"] >= 0


@needs_raw_icmp
def test_it_runs_three_rounds_by_default(api, alice):
    monitor = api.create_monitor(alice, name="Local", type="https", target="https://127.0.0.1:9/health")
    response = mtr(api, alice, monitor)
    assert response.status_code == 200, response.text
    assert response.json()["rounds"] == 3 and response.json()["hops"][0]["sent"] == 3


def test_it_tells_a_free_user_that_mtr_is_premium(api, bob):
    monitor = api.create_monitor(bob, name="Local", type="ping", target="127.0.0.1")
    response = mtr(api, bob, monitor)
    assert response.status_code == 403
    assert response.json() == {"error": "MTR is a premium feature"}


def test_it_answers_404_for_another_users_monitor_as_for_a_missing_one(api, alice, admin):
    theirs = api.create_monitor(admin, name="Admin's", type="ping", target="127.0.0.1")
    other = assert_error(mtr(api, alice, theirs), 404)
    missing = assert_error(mtr(api, alice, {"id": 999999}), 404)
    assert other == missing


def test_it_needs_a_login(api, alice):
    monitor = api.create_monitor(alice, name="Local", type="ping", target="127.0.0.1")
    assert api.get(MTR.format(id=monitor["id"])).status_code == 401


def test_it_has_no_target_to_trace_for_a_heartbeat_monitor(api, alice):
    monitor = api.create_monitor(alice, name="Job", type="heartbeat", interval=3600)
    body = assert_error(mtr(api, alice, monitor), 400, "target")
    assert "no target" in body["error"]


@pytest.mark.parametrize("query, name", [
    ("?rounds=0", "rounds"), ("?rounds=11", "rounds"), ("?rounds=abc", "rounds"), ("?rounds=-1", "rounds"),
    ("?rounds=2.5", "rounds"), ("?rounds=%C2%B2", "rounds"), ("?rounds=" + "9" * 500, "rounds"),
    ("?max_hops=0", "max_hops"), ("?max_hops=31", "max_hops"), ("?max_hops=", "max_hops"),
    ("?timeout=0", "timeout"), ("?timeout=0.05", "timeout"), ("?timeout=5.5", "timeout"),
    ("?timeout=nan", "timeout"), ("?timeout=inf", "timeout"), ("?timeout=1e1", "timeout"),
    ("?timeout=-1", "timeout"),
])
def test_it_refuses_bad_query_parameters(api, alice, query, name):
    monitor = api.create_monitor(alice, name="Local", type="ping", target="127.0.0.1")
    assert_error(mtr(api, alice, monitor, query), 400, name)


def test_it_limits_each_user_more_tightly_than_the_api(api, alice, server):
    assert server.settings.mtr_rate_limit == "10/minute"
    monitor = api.create_monitor(alice, name="Local", type="ping", target="127.0.0.1")
    for _ in range(10):  # refused ones count too; they cost no probes
        assert mtr(api, alice, monitor, "?rounds=0").status_code == 400
    limited = mtr(api, alice, monitor)
    assert limited.status_code == 429
    assert limited.json() == {"error": "rate limit exceeded"}
    assert int(limited.headers["Retry-After"]) >= 0
    assert api.get(f"/api/monitors/{monitor['id']}", alice).status_code == 200  # the rest of the API is not


def test_it_answers_503_while_too_many_runs_are_in_progress(api, alice, server, monkeypatch):
    entered, release = threading.Event(), threading.Event()

    def held(host):
        entered.set()
        release.wait(30)
        raise MtrResolveError(f"cannot resolve {host}: released by the test")

    monkeypatch.setattr(server.appliance, "mtr", Mtr(max_concurrent=1, resolve=held))
    monitor = api.create_monitor(alice, name="Local", type="ping", target="127.0.0.1")
    first: list = []
    runner = threading.Thread(target=lambda: first.append(mtr(api.__class__(api.base_url), alice, monitor)))
    runner.start()
    try:
        assert entered.wait(10)
        body = assert_error(mtr(api, alice, monitor), 503)
        assert body["error"].startswith("Too many MTR runs are in progress")
    finally:
        release.set()
        runner.join(30)
    assert first[0].status_code == 502
    assert "cannot resolve 127.0.0.1" in first[0].json()["error"]


def test_it_answers_503_with_what_to_do_without_raw_icmp(api, alice, monkeypatch):
    class Refused:
        def __init__(self, *args, **kwargs):
            raise SocketPermissionError(True)

    monkeypatch.setattr(mtr_module, "ICMPv4Socket", Refused)
    monitor = api.create_monitor(alice, name="Local", type="ping", target="127.0.0.1")
    body = assert_error(mtr(api, alice, monitor), 503)
    assert body["error"] == "MTR needs raw ICMP sockets: run as root or grant CAP_NET_RAW."
