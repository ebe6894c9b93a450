"""Per-user limits by plan: no user can fill the appliance (2,000 monitors in 25 s was possible).

Monitors, webhooks, API keys and maintenance windows each have a limit per plan (settings, small
here); the next create is a 403 naming the limit and how to raise it, whichever path it comes
by (the API, an import), and parallel creates at the limit cannot both pass."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from appliance.config import ConfigError, Settings
from appliance.timeutil import iso
from tests.support.appliance import ApplianceProcess, InProcessAppliance
from tests.support.asserts import assert_error

LIMITS = {"free_max_monitors": 3, "free_max_webhooks": 2, "free_max_api_keys": 2, "free_max_maintenance_windows": 2,
          "pro_max_monitors": 5, "pro_max_webhooks": 3, "pro_max_api_keys": 3, "pro_max_maintenance_windows": 3}
_serial = itertools.count()


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("limits") / "data", http_threads=8,
                                  **LIMITS).start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def api(limited):
    return limited.api


@pytest.fixture
def admin(limited):
    return limited.admin()


def new_user(api, admin, **fields):
    return api.create_user(admin, f"user-{next(_serial)}@example.test", **fields)


def monitor_body() -> dict:
    return {"name": f"m-{next(_serial)}", "type": "tcp", "target": "127.0.0.1", "port": 9, "is_active": False}


_monitor_of: dict[int, int] = {}  # user id -> a monitor of theirs, for maintenance windows


def window_body(api, user) -> dict:
    if user.id not in _monitor_of:
        _monitor_of[user.id] = api.create_monitor(user, **monitor_body())["id"]
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    return {"name": f"w-{next(_serial)}", "monitor_ids": [_monitor_of[user.id]], "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1))}


# kind -> (collection URL, a valid body for `user`)
KINDS = {
    "monitors": ("/api/monitors", lambda api, user: monitor_body()),
    "webhooks": ("/api/settings/webhooks", lambda api, user: {"url": f"http://127.0.0.1:9/{next(_serial)}"}),
    "api_keys": ("/api/auth/keys", lambda api, user: {"name": f"k-{next(_serial)}"}),
    "maintenance_windows": ("/api/maintenance", window_body),
}
TITLES = {"monitors": "monitors", "webhooks": "webhooks", "api_keys": "API keys",
          "maintenance_windows": "maintenance windows"}


def fill(api, user, kind: str, count: int) -> list[dict]:
    url, body = KINDS[kind]
    have = len(api.get(url, user).json())
    made = []
    for _ in range(count - have):
        response = api.post(url, user, json=body(api, user))
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made


@pytest.mark.parametrize("kind", KINDS)
def test_a_free_user_gets_403_naming_the_limit_past_it(api, admin, kind):
    user = new_user(api, admin)
    made = fill(api, user, kind, LIMITS[f"free_max_{kind}"])
    url, body = KINDS[kind]
    refused = assert_error(api.post(url, user, json=body(api, user)), 403, kind)
    limit = LIMITS[f"free_max_{kind}"]
    assert refused["error"] == (f"You have reached the free plan's limit of {limit} {TITLES[kind]}; delete one "
                                f"first, or ask an administrator to move you to the pro plan or to raise "
                                f"STATUSCORE_FREE_MAX_{kind.upper()}.")
    assert refused["details"] == {kind: f"at most {limit} on the free plan"}
    assert len(api.get(url, user).json()) == limit
    # Deleting one makes room again.
    assert api.delete(f"{url}/{made[-1]['id']}", user).status_code == 204
    assert api.post(url, user, json=body(api, user)).status_code == 201


@pytest.mark.parametrize("kind", KINDS)
def test_pro_users_and_admins_get_the_pro_limits(api, admin, kind):
    url, body = KINDS[kind]
    pro = new_user(api, admin, subscription_tier="pro")
    boss = new_user(api, admin, is_admin=True)  # a free tier: admins get pro limits all the same
    for user in (pro, boss):
        fill(api, user, kind, LIMITS[f"pro_max_{kind}"])
        refused = assert_error(api.post(url, user, json=body(api, user)), 403, kind)
        assert f"pro plan's limit of {LIMITS[f'pro_max_{kind}']}" in refused["error"]
        assert f"STATUSCORE_PRO_MAX_{kind.upper()}" in refused["error"]


def test_moving_a_user_to_pro_raises_the_limit_at_once(api, admin):
    user = new_user(api, admin)
    fill(api, user, "monitors", LIMITS["free_max_monitors"])
    assert_error(api.post("/api/monitors", user, json=monitor_body()), 403, "monitors")
    assert api.patch(f"/api/admin/users/{user.id}", admin, json={"subscription_tier": "pro"}).status_code == 200
    assert api.post("/api/monitors", user, json=monitor_body()).status_code == 201


def test_parallel_creates_at_the_limit_cannot_both_pass(api, admin):
    user = new_user(api, admin, subscription_tier="pro")
    fill(api, user, "monitors", LIMITS["pro_max_monitors"] - 2)
    with ThreadPoolExecutor(12) as pool:
        codes = list(pool.map(lambda _: api.post("/api/monitors", user, json=monitor_body()).status_code, range(12)))
    assert sorted(codes) == [201] * 2 + [403] * 10
    assert len(api.get("/api/monitors", user).json()) == LIMITS["pro_max_monitors"]


@pytest.mark.parametrize("dry_run", ("true", "false"))
def test_an_import_past_a_limit_is_refused_before_it_writes_anything(api, admin, dry_run):
    user = new_user(api, admin)
    fill(api, user, "monitors", LIMITS["free_max_monitors"] - 1)
    before = api.get("/api/monitors", user).json()
    document = {"monitors": [monitor_body(), monitor_body()],  # one too many
                "webhooks": [{"url": "http://127.0.0.1:9/imported"}]}
    refused = assert_error(api.post(f"/api/import?dry_run={dry_run}", user, json=document), 403, "monitors")
    assert refused["error"].startswith("This would take you past the free plan's limit of 3 monitors "
                                       "(you have 2, this adds 2)")
    assert api.get("/api/monitors", user).json() == before
    assert api.get("/api/settings/webhooks", user).json() == []


def test_an_import_counts_only_what_it_creates(api, admin):
    user = new_user(api, admin)
    mine = fill(api, user, "monitors", LIMITS["free_max_monitors"])
    same = [{k: m[k] for k in ("name", "type", "target", "port", "is_active")} for m in mine]
    webhooks = [{"url": f"http://127.0.0.1:9/{n}"} for n in range(LIMITS["free_max_webhooks"] + 1)]
    response = api.post("/api/import", user, json={"monitors": same})
    assert response.status_code == 200, response.text
    assert_error(api.post("/api/import", user, json={"webhooks": webhooks}), 403, "webhooks")
    assert api.get("/api/settings/webhooks", user).json() == []


def test_a_limit_of_zero_means_none():
    settings = Settings.load({"data_dir": "/nonexistent", "free_max_monitors": "0"}, env={})
    assert settings.free_max_monitors == 0
    with pytest.raises(ConfigError, match="free_max_monitors must be between 0"):
        Settings.load({"data_dir": "/nonexistent", "free_max_monitors": -1}, env={})
    env = Settings.load({"data_dir": "/nonexistent"}, env={"STATUSCORE_PRO_MAX_WEBHOOKS": "7"})
    assert env.pro_max_webhooks == 7 and env.free_max_monitors == 50 and env.pro_max_monitors == 1000


def test_statuscore_serve_takes_the_limits_as_flags(tmp_path):
    served = ApplianceProcess(tmp_path / "data", args=["--free-max-monitors", "1", "--free-max-webhooks", "0"]).start()
    try:
        api = served.api
        user = new_user(api, served.admin())
        assert api.post("/api/monitors", user, json=monitor_body()).status_code == 201
        assert_error(api.post("/api/monitors", user, json=monitor_body()), 403, "monitors")
        for n in range(12):  # 0: no limit (the default would stop at 10)
            assert api.post("/api/settings/webhooks", user, json={"url": f"http://127.0.0.1:9/{n}"}).status_code == 201
    finally:
        served.stop()
