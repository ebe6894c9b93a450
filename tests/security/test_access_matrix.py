"""Who may call what: EVERY operation of the OpenAPI document (the one /api/openapi.json serves,
so a new endpoint joins the matrix by being documented) times every kind of caller, each cell
with the status it must get:

    owner          alice's login (the objects in the path are hers)
    other          bob's login (another user; a pro, so no tier gate hides the ownership check)
    admin          an administrator's login
    anonymous      no Authorization header
    expired        alice's claims, signed with the right secret, expired
    tampered       alice's token with the subject changed to the admin (signature kept)
    alg_none       alice's claims, unsigned (`alg: none`)
    revoked_key    an API key alice has revoked
    read_key       a read-only API key (alice's; the admin's on admin endpoints)
    write_key      a write API key (alice's; the admin's on admin endpoints)
    probe          a registered probe's token
    revoked_probe  a revoked probe's token

The rules:
- public operations (no security in the document: login, heartbeats, the public status page,
  the document itself) answer alike whatever credential comes along;
- the probe API takes only a valid probe token (everything else: 401), and a probe token
  opens nothing else (401);
- every bad credential is 401, whatever the object;
- another user's object (monitor, webhook, maintenance window, anomaly, API key, incident and
  its updates) is 404 for
  anyone but its owner, admins included, exactly like an id that does not exist: never 403 or 200;
- admin operations are 403 for a non-admin login;
- a read-only key gets 403 on every write, and no backup (it holds every secret); API keys cannot
  manage users, passwords, keys or probes (403), an administrator's keys included;
- a refused call changes nothing (the object is read back through its owner).
Besides the document: /metrics and the status page's HTML and badge (their own tests below).
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

import jwt
import pytest

from appliance.insights import Anomaly
from appliance.storage.entities import Transition
from appliance.timeutil import iso
from appliance.tools.mtr import Mtr
from server.openapi import build_document
from tests.support.api import Api, User
from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.whois_server import WhoisServer, registrar_record

DOCUMENT = build_document()
METHODS = ("get", "post", "put", "patch", "delete")
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
              if method in METHODS]
CREDENTIALS = ("owner", "other", "admin", "anonymous", "expired", "tampered", "alg_none", "revoked_key",
               "read_key", "write_key", "probe", "revoked_probe")
BAD = {"anonymous", "expired", "tampered", "alg_none", "revoked_key", "probe", "revoked_probe"}
OWNED = ("monitor_id", "webhook_id", "window_id", "anomaly_id", "key_id", "incident_id", "update_id")  # path parameters naming a user's object
# API keys never manage users, passwords, keys or probes (test_session_only.py has the details).
SESSION_ONLY = {(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method, op in item.items()
                if method in METHODS and op.get("x-session-only")}
MISSING_ID = "999999999"
_serial = itertools.count()


def operation(method: str, path: str) -> dict:
    return DOCUMENT["paths"][path][method.lower()]


def access(method: str, path: str) -> str:
    security = operation(method, path).get("security")
    if security == []:
        return "public"
    if security == [{"probeToken": []}]:
        return "probe"
    return "admin" if path.startswith("/api/admin/") else "user"


def success(method: str, path: str) -> int:
    codes = [int(c) for c in operation(method, path)["responses"] if c.isdigit() and 200 <= int(c) < 300]
    assert len(codes) == 1, (method, path, codes)
    return codes[0]


def owned(path: str) -> bool:
    return any(f"{{{name}}}" in path for name in OWNED)


def expected(method: str, path: str, credential: str) -> int:
    """The status a credential must get on an operation (applied to the owner's objects)."""
    ok, kind = success(method, path), access(method, path)
    if kind == "public":
        return ok
    if kind == "probe":
        return ok if credential == "probe" else 401
    if credential in BAD:
        return 401
    if credential == "read_key" and method != "GET":
        return 403
    if credential in ("read_key", "write_key") and (method, path) in SESSION_ONLY:
        return 403
    if credential == "read_key" and path == "/api/admin/backup":
        return 403
    if kind == "admin":
        return ok if credential in ("admin", "read_key", "write_key") else 403
    if owned(path) and credential in ("other", "admin"):
        return 404
    return ok


# ---- the world: users, their objects, every kind of credential ----------------------------------

def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).rstrip(b"=").decode()


@dataclass
class World:
    server: InProcessAppliance
    api: Api
    admin: User
    alice: User
    bob: User
    monitors: dict = field(default_factory=dict)  # user name -> a monitor id of theirs
    heartbeat_token: str = ""
    webhook_id: int = 0
    window_id: int = 0
    anomaly_id: int = 0
    key_id: int = 0
    incident_id: int = 0  # alice's, with one update of hers (update_id)
    update_id: int = 0
    keys: dict = field(default_factory=dict)  # "read"/"write" + "alice"/"admin" -> key; "revoked"
    probe_id: int = 0
    probe_token: str = ""
    revoked_probe_token: str = ""
    victim_id: int = 0
    slugs: dict = field(default_factory=dict)

    def user(self, name: str) -> User:
        return {"alice": self.alice, "bob": self.bob, "admin": self.admin}[name]

    # -- fresh objects, for calls that use an object up (delete, acknowledge) --
    def fresh_monitor(self, owner: str = "alice") -> int:
        return self.api.create_monitor(self.user(owner), name=f"fresh-{next(_serial)}", type="http",
                                       target="http://127.0.0.1:9/")["id"]

    def fresh_webhook(self) -> int:
        return self._created(self.api.post("/api/settings/webhooks", self.alice,
                                           json={"url": "http://127.0.0.1:9/hook"}))["id"]

    def fresh_window(self) -> int:
        return self._created(self.api.post("/api/maintenance", self.alice, json=maintenance_body(self, "alice")))["id"]

    def fresh_anomaly(self) -> int:
        app = self.server.appliance
        row = app.anomalies.record(self.monitors["alice"], "local", Anomaly(
            kind="response_time_spike", at=datetime.now(timezone.utc), value=900.0, baseline=100.0,
            severity="high", message="response time 900 ms, usually 100 ms"))
        return row.id

    def fresh_incident(self) -> int:
        """An incident of alice's monitor, recorded as the engine would (its check engine is off)."""
        entities = self.server.appliance.entities
        monitor_id = self.fresh_monitor()
        assert entities.record_transition(Transition(monitor_id, "pending", "down", datetime.now(timezone.utc), "x"))
        return entities.incidents([monitor_id], limit=1)[0].id

    def fresh_update(self) -> int:
        return self._created(self.api.post(f"/api/incidents/{self.incident_id}/updates", self.alice,
                                           json={"status": "investigating", "message": "Looking."}))["id"]

    def fresh_key(self) -> int:
        return self._created(self.api.post("/api/auth/keys", self.alice, json={"name": "spare"}))["id"]

    def fresh_user(self, is_admin: bool = False) -> User:
        return self.api.create_user(self.admin, f"fresh-{next(_serial)}@example.test", is_admin=is_admin)

    def fresh_probe(self) -> int:
        return self._created(self.api.post("/api/admin/probes", self.admin,
                                           json={"name": f"spare-{next(_serial)}", "display_name": "Spare"}))["id"]

    @staticmethod
    def _created(response) -> dict:
        assert response.status_code == 201, response.text
        return response.json()

    # -- credentials --
    def token_claims(self, user: User) -> dict:
        return jwt.decode(user.token, options={"verify_signature": False})

    def credential(self, name: str, kind: str) -> str | None:
        """The bearer value for a column (None: no header)."""
        key_owner = "admin" if kind == "admin" else "alice"
        if name == "owner":
            return self.alice.token
        if name == "other":
            return self.bob.token
        if name == "admin":
            return self.admin.token
        if name == "anonymous":
            return None
        if name == "expired":
            past = int(time.time()) - 3600
            claims = {**self.token_claims(self.alice), "iat": past - 60, "nbf": past - 60, "exp": past}
            return jwt.encode(claims, self.server.appliance.secret, algorithm="HS256")
        if name == "tampered":
            header, _payload, signature = self.alice.token.split(".")
            return ".".join([header, _b64({**self.token_claims(self.alice), "sub": str(self.admin.id)}), signature])
        if name == "alg_none":
            return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(self.token_claims(self.alice))}."
        if name == "revoked_key":
            return self.keys["revoked"]
        if name in ("read_key", "write_key"):
            return self.keys[f"{name[:-4]}-{key_owner}"]
        if name == "probe":
            return self.probe_token
        if name == "revoked_probe":
            return self.revoked_probe_token
        raise AssertionError(name)

    @staticmethod
    def acting(name: str, kind: str) -> str:
        """Whose data a call with this credential acts on (for bodies that name the caller's things)."""
        if name in ("other",):
            return "bob"
        if name == "admin" or (name in ("read_key", "write_key") and kind == "admin"):
            return "admin"
        return "alice"


def maintenance_body(world: World, who: str) -> dict:
    start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=1)
    return {"name": "Upgrade", "monitor_ids": [world.monitors[who]], "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1))}


# A valid body for every operation that takes one, for the caller who acts (alice, bob, admin).
BODIES = {
    ("POST", "/api/auth/login"): lambda w, who: {"email": w.alice.email, "password": w.alice.password},
    ("POST", "/api/auth/keys"): lambda w, who: {"name": "matrix", "scope": "read"},
    ("POST", "/api/auth/password"): lambda w, who: {"current_password": "set per call", "new_password": "new-password-42"},
    ("POST", "/api/monitors"): lambda w, who: {"name": f"created-{next(_serial)}", "type": "http",
                                               "target": "http://127.0.0.1:9/"},
    ("PUT", "/api/monitors/{monitor_id}"): lambda w, who: {"name": "Renamed", "interval": 300},
    ("PATCH", "/api/monitors/{monitor_id}/toggle"): lambda w, who: {"is_active": True},
    ("PATCH", "/api/monitors/{monitor_id}/public"): lambda w, who: {"public_status": True},
    ("POST", "/api/admin/users"): lambda w, who: {"email": f"made-{next(_serial)}@example.test",
                                                  "password": "long-enough-1"},
    ("PATCH", "/api/admin/users/{user_id}"): lambda w, who: {"full_name": "Renamed Victim"},
    ("PUT", "/api/settings/status-page"): lambda w, who: {"company_name": f"{who} Inc.", "slug": w.slugs[who]},
    ("POST", "/api/settings/webhooks"): lambda w, who: {"url": "http://127.0.0.1:9/hook"},
    ("PUT", "/api/settings/webhooks/{webhook_id}"): lambda w, who: {"enabled": True},
    ("POST", "/api/admin/probes"): lambda w, who: {"name": f"made-{next(_serial)}", "display_name": "Made"},
    ("PATCH", "/api/admin/probes/{probe_id}"): lambda w, who: {"display_name": "Renamed probe"},
    ("POST", "/api/probe/results"): lambda w, who: {"results": [
        {"id": uuid.uuid4().hex, "monitor_id": 999999, "checked_at": iso(datetime.now(timezone.utc)), "up": True}]},
    ("POST", "/api/maintenance"): lambda w, who: maintenance_body(w, who),
    ("POST", "/api/incidents/{incident_id}/updates"): lambda w, who: {"status": "identified", "message": "Found it."},
    ("PUT", "/api/maintenance/{window_id}"): lambda w, who: {"name": "Renamed window"},
    ("POST", "/api/import"): lambda w, who: {"monitors": [{"name": "imported", "type": "http",
                                                          "target": "http://127.0.0.1:9/"}]},
}
# Calls that use their object up when they succeed: they get a fresh one.
CONSUMING = {("POST", "/api/monitors/anomalies/{anomaly_id}/acknowledge"), ("POST", "/api/auth/password")}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    expires = datetime.now(timezone.utc) + timedelta(days=200)
    with WhoisServer({"example.com": registrar_record("example.com", expires)}) as whois:
        server = InProcessAppliance(tmp_path_factory.mktemp("matrix") / "data", whois_server=whois.address)
        server.appliance.mtr = Mtr(interval=0.01, resolve=lambda host: "127.0.0.1")  # never beyond loopback
        server.start(engine=False)
        try:
            api = server.api
            admin = server.admin()
            w = World(server, api, admin,
                      alice=api.create_user(admin, "matrix-alice@example.test", subscription_tier="pro"),
                      bob=api.create_user(admin, "matrix-bob@example.test", subscription_tier="pro"))
            for who in ("alice", "bob", "admin"):
                w.monitors[who] = w.fresh_monitor(who)
                w.slugs[who] = f"{who}-matrix-page"
                page = api.put("/api/settings/status-page", w.user(who),
                               json={"company_name": f"{who} Inc.", "slug": w.slugs[who]})
                assert page.status_code == 200, page.text
            assert api.patch(f"/api/monitors/{w.monitors['alice']}/public", w.alice,
                             json={"public_status": True}).status_code == 200
            heartbeat = api.create_monitor(w.alice, name="nightly job", type="heartbeat", interval=3600)
            w.heartbeat_token = heartbeat["heartbeat_url"].rsplit("/", 1)[1]
            w.webhook_id, w.window_id, w.anomaly_id, w.key_id = (w.fresh_webhook(), w.fresh_window(),
                                                                 w.fresh_anomaly(), w.fresh_key())
            w.incident_id = w.fresh_incident()
            w.update_id = w.fresh_update()
            for scope in ("read", "write"):
                for who in ("alice", "admin"):
                    w.keys[f"{scope}-{who}"] = w._created(api.post("/api/auth/keys", w.user(who),
                                                                   json={"name": scope, "scope": scope}))["key"]
            revoked = w._created(api.post("/api/auth/keys", w.alice, json={"name": "old", "scope": "write"}))
            assert api.delete(f"/api/auth/keys/{revoked['id']}", w.alice).status_code == 204
            w.keys["revoked"] = revoked["key"]
            probe = w._created(api.post("/api/admin/probes", admin, json={"name": "matrix", "display_name": "M"}))
            w.probe_id, w.probe_token = probe["id"], probe["token"]
            gone = w._created(api.post("/api/admin/probes", admin, json={"name": "gone", "display_name": "G"}))
            assert api.delete(f"/api/admin/probes/{gone['id']}", admin).status_code == 204
            w.revoked_probe_token = gone["token"]
            w.victim_id = w.fresh_user().id
            yield w
        finally:
            server.stop()


def path_values(world: World, method: str, path: str, fresh: bool, who: str) -> dict[str, str]:
    values = {
        "monitor_id": world.fresh_monitor() if fresh and method == "DELETE" else world.monitors["alice"],
        "webhook_id": world.fresh_webhook() if fresh and method == "DELETE" else world.webhook_id,
        "window_id": world.fresh_window() if fresh and method == "DELETE" else world.window_id,
        "anomaly_id": world.fresh_anomaly() if fresh else world.anomaly_id,
        "key_id": world.fresh_key() if fresh and method == "DELETE" else world.key_id,
        "incident_id": world.incident_id,
        "update_id": world.fresh_update() if fresh and method == "DELETE" else world.update_id,
        "user_id": world.fresh_user().id if fresh and method == "DELETE" else world.victim_id,
        "probe_id": world.fresh_probe() if fresh and method == "DELETE" else world.probe_id,
        "token": world.heartbeat_token,
        "slug": world.slugs["alice"],
        "target": "example.com",
    }
    return {name: str(value) for name, value in values.items() if f"{{{name}}}" in path}


def snapshot(world: World, path: str) -> object:
    """What a refused call on `path` must leave unchanged, read through the owner (or an admin)."""
    api, alice, admin = world.api, world.alice, world.admin

    def listed(url: str, user: User, drop: tuple[str, ...] = ()) -> list:
        response = api.get(url, user)
        assert response.status_code == 200, response.text
        return [{k: v for k, v in item.items() if k not in drop} for item in response.json()]

    if path.startswith("/api/monitors"):
        return listed("/api/monitors", alice), listed("/api/monitors/anomalies", alice)
    if path.startswith("/api/settings/webhooks"):
        return listed("/api/settings/webhooks", alice)
    if path.startswith("/api/maintenance"):
        return listed("/api/maintenance", alice, ("active",))
    if path.startswith("/api/auth/keys"):
        return listed("/api/auth/keys", alice, ("last_used_at",))
    if path.startswith("/api/admin/users"):
        return listed("/api/admin/users", admin)
    if path.startswith("/api/admin/probes"):
        return listed("/api/admin/probes", admin, ("online", "last_seen"))
    if path.startswith("/api/settings/status-page"):
        return api.get("/api/settings/status-page", alice).json()
    if path == "/api/auth/password":
        return api.post("/api/auth/login", json={"email": alice.email, "password": alice.password}).status_code
    if path == "/api/import":
        return listed("/api/monitors", alice)
    if path.startswith("/api/incidents/"):
        return listed(f"/api/incidents/{world.incident_id}/updates", alice)
    return None


def call(world: World, method: str, path: str, credential: str):
    kind = access(method, path)
    status = expected(method, path, credential)
    who = world.acting(credential, kind)
    fresh = 200 <= status < 300 and (method == "DELETE" or (method, path) in CONSUMING)
    url = path
    for name, value in path_values(world, method, path, fresh, who).items():
        url = url.replace(f"{{{name}}}", value)
    token = world.credential(credential, kind)
    body = BODIES[(method, path)](world, who) if (method, path) in BODIES else None
    if path == "/api/auth/password" and credential in ("owner", "other", "admin"):
        # Changing a password retires the caller's tokens: a throwaway user of the same kind.
        user = world.fresh_user(is_admin=credential == "admin")
        token, body = user.token, {"current_password": user.password, "new_password": "new-password-42"}
    elif path == "/api/auth/password":
        body = {"current_password": world.alice.password, "new_password": "new-password-42"}
    before = snapshot(world, path) if status >= 400 and method != "GET" else None
    response = world.api.request(method, url, token, json=body)
    return response, status, before, url, body


def test_it_enumerates_the_document_the_appliance_serves(world):
    assert world.api.get("/api/openapi.json").json() == DOCUMENT
    assert len(OPERATIONS) >= 50
    missing = [(m, p) for m, p in OPERATIONS
               if operation(m, p).get("requestBody", {}).get("required") and (m, p) not in BODIES]
    assert missing == [], f"add a valid body for these operations to BODIES: {missing}"


@pytest.mark.parametrize("credential", CREDENTIALS)
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_it_answers_each_caller_as_the_matrix_says(world, method, path, credential):
    response, status, before, url, body = call(world, method, path, credential)
    if status >= 400:
        assert_error(response, status)
    else:
        assert response.status_code == status, f"{method} {url} as {credential}: {response.text[:300]}"
    if before is not None:
        assert snapshot(world, path) == before, f"{method} {url} as {credential} changed something"
    if status == 404 and credential in ("other", "admin"):
        # Exactly like an object that does not exist.
        missing_url = path
        for name, value in path_values(world, method, path, False, "alice").items():
            missing_url = missing_url.replace(f"{{{name}}}", MISSING_ID if name in OWNED else value)
        missing = world.api.request(method, missing_url, world.credential(credential, "user"), json=body)
        assert (missing.status_code, missing.json()) == (404, response.json())


# ---- outside the document ------------------------------------------------------------------------

@pytest.mark.parametrize("credential, status", [
    ("owner", 403), ("other", 403), ("admin", 200), ("read_key", 200), ("write_key", 200), ("anonymous", 401),
    ("expired", 401), ("tampered", 401), ("alg_none", 401), ("revoked_key", 401), ("probe", 401),
    ("revoked_probe", 401)])
def test_it_serves_metrics_to_admins_and_api_keys_only(world, credential, status):
    response = world.api.get("/metrics", world.credential(credential, "user"))
    assert response.status_code == status, response.text[:300]
    if status == 200:
        text = response.text
        assert f'monitor_id="{world.monitors["alice"]}"' in text
        if credential != "admin":  # a key sees its own user's monitors only
            assert f'monitor_id="{world.monitors["bob"]}"' not in text


@pytest.mark.parametrize("credential", CREDENTIALS)
def test_it_serves_the_status_page_and_badges_to_anyone(world, credential):
    token = world.credential(credential, "user")
    page = world.api.get(f"/status/{world.slugs['alice']}", token)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    badge = world.api.get(f"/status/{world.slugs['alice']}/badge/{world.monitors['alice']}.svg", token)
    assert badge.status_code == 200 and "svg" in badge.headers["Content-Type"]
    # A monitor that is not public (or not on this page) has no badge, whoever asks.
    hidden = world.api.get(f"/status/{world.slugs['alice']}/badge/{world.monitors['bob']}.svg", token)
    assert hidden.status_code == 404


def test_it_takes_admin_rights_from_a_demoted_users_api_key_at_once(world):
    api, admin = world.api, world.admin
    boss = world.fresh_user(is_admin=True)
    key = world._created(api.post("/api/auth/keys", boss, json={"name": "ops", "scope": "write"}))["key"]
    assert api.get("/api/admin/engine", key).status_code == 200
    assert api.patch(f"/api/admin/users/{boss.id}", admin, json={"is_admin": False}).status_code == 200
    assert_error(api.get("/api/admin/engine", key), 403)
    assert api.get("/api/monitors", key).status_code == 200
    assert api.delete(f"/api/admin/users/{boss.id}", admin).status_code == 204
    assert_error(api.get("/api/monitors", key), 401)


def test_it_treats_another_users_ids_inside_a_body_like_unknown_ones(world):
    """Not only in the path: a maintenance window naming alice's monitor, made or changed by bob,
    is refused exactly as one naming a monitor that does not exist."""
    api, bob = world.api, world.bob
    theirs = {**maintenance_body(world, "bob"), "monitor_ids": [world.monitors["alice"]]}
    missing = {**theirs, "monitor_ids": [int(MISSING_ID)]}

    def refusal(response) -> dict:
        body = assert_error(response, 400, "monitor_ids")
        return {"error": body["error"].replace(str(world.monitors["alice"]), "N").replace(MISSING_ID, "N")}

    assert refusal(api.post("/api/maintenance", bob, json=theirs)) == refusal(api.post("/api/maintenance", bob,
                                                                                    json=missing))
    window = world._created(api.post("/api/maintenance", bob, json=maintenance_body(world, "bob")))
    assert refusal(api.put(f"/api/maintenance/{window['id']}", bob, json={"monitor_ids": theirs["monitor_ids"]})) \
        == refusal(api.put(f"/api/maintenance/{window['id']}", bob, json={"monitor_ids": missing["monitor_ids"]}))
    assert world.server.appliance.in_maintenance(world.monitors["alice"]) is False
    assert [m["id"] for m in api.get("/api/monitors", world.alice).json() if m.get("in_maintenance")] == []
