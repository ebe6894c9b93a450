"""GET /metrics in Prometheus text format, parsed by prometheus_client's own parser."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import HttpPeer


def families(text: str) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text)}


def samples(family, **match):
    return [s for s in family.samples if all(s.labels.get(k) == str(v) for k, v in match.items())]


@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    server = InProcessAppliance(tmp_path_factory.mktemp("metrics") / "data").start()
    with HttpPeer() as peer:
        api, admin = server.api, server.admin()
        up = api.create_monitor(admin, name='Web "site"', type="http", target=peer.url + "/", interval=60)
        down = api.create_monitor(admin, name="Broken", type="http", target=peer.url + "/status/500",
                                  interval=60, retries=0)
        for monitor, status in ((up, "up"), (down, "down")):
            wait_for(lambda: api.get(f"/api/monitors/{monitor['id']}", admin).json()["status"] == status,
                     timeout=15, message=f"{monitor['name']} {status}")
            wait_for(lambda: api.get(f"/api/monitors/{monitor['id']}/history", admin).json()["history"],
                     timeout=15, message="a stored result")
        yield server, api, admin, up, down
    server.stop()


def test_it_exposes_status_response_time_uptime_and_counts(checked):
    server, api, admin, up, down = checked
    response = api.get("/metrics", admin)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    found = families(response.text)
    assert samples(found["statuscore_monitor_up"], monitor_id=up["id"], location="all")[0].value == 1
    assert samples(found["statuscore_monitor_up"], monitor_id=up["id"], location="local")[0].value == 1
    assert samples(found["statuscore_monitor_up"], monitor_id=down["id"], location="all")[0].value == 0
    assert samples(found["statuscore_monitor_up"], monitor_id=up["id"])[0].labels["name"] == 'Web "site"'
    assert samples(found["statuscore_monitor_response_time_ms"], monitor_id=up["id"])[0].value >= 0
    ratios = {s.labels["window"]: s.value for s in samples(found["statuscore_monitor_uptime_ratio"], monitor_id=down["id"])}
    assert ratios == {"24h": 0.0, "30d": 0.0}
    assert samples(found["statuscore_checks"], monitor_id=up["id"])[0].value >= 1  # the parser drops _total
    assert found["statuscore_checks"].type == "counter"
    lag = {s.labels["quantile"]: s.value for s in found["statuscore_engine_lag_seconds"].samples}
    assert set(lag) == {"0.5", "0.99"} and all(v >= 0 for v in lag.values())


def test_it_answers_to_api_keys_with_their_users_monitors_only(checked):
    server, api, admin, up, down = checked
    other = api.create_user(admin, "metrics-user@example.test")
    mine = api.create_monitor(other, name="mine", type="tcp", target="127.0.0.1", port=9, is_active=False)
    key = api.post("/api/auth/keys", other, json={"name": "prometheus"}).json()["key"]
    text = api.get("/metrics", key).text
    assert f'monitor_id="{mine["id"]}"' not in text  # paused: not checked, no samples
    assert f'monitor_id="{up["id"]}"' not in text  # the admin's monitors are not this user's
    assert "statuscore_engine_lag_seconds" not in text
    admin_key = api.post("/api/auth/keys", admin, json={"name": "prometheus"}).json()["key"]
    assert f'monitor_id="{up["id"]}"' in api.get("/metrics", admin_key).text


def test_it_refuses_anonymous_and_non_admin_logins(checked):
    server, api, admin, up, down = checked
    assert api.get("/metrics").status_code == 401
    user = api.create_user(admin, "not-admin@example.test")
    refused = api.get("/metrics", user)
    assert refused.status_code == 403 and "API key" in refused.json()["error"]
