"""The running API, fuzzed from its own OpenAPI document (schemathesis): no request, however
odd, gets a 5xx, and every answer has a documented status code, content type, headers and body.

The appliance runs in this process on 127.0.0.1 with its check engine off, so no monitor the
fuzzer creates is ever contacted, and no webhook is sent to by the dispatcher. The one endpoint
that sends by itself, POST /api/settings/webhooks/{id}/test, is always aimed at a fresh webhook
of a receiver on 127.0.0.1; and the appliance's sender is wrapped so that it refuses (and the
test reports) anything else: the fuzzer never causes traffic beyond loopback. It is seeded with monitors of every type in every state
(up, down, pending, paused, with certificate details, history and incidents), and part of the
generated ids are aimed at them, so the answers checked are not only 404s and empty ones.
"""

from __future__ import annotations

import ipaddress
import os
import uuid
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
import requests
import schemathesis
from pydantic import ValidationError
from schemathesis import checks

from appliance.engine.live import LiveState
from appliance.models import Delivery
from appliance.notifiers.transport import Outcome
from appliance.state import LocationState
from appliance.storage.entities import Transition
from appliance.storage.history import ResultRow
from appliance.tools.mtr import Mtr
from server.openapi import MAX_ID
from server.schemas import ProbeResultsBody
from tests.support.api import Api, User
from tests.support.appliance import ADMIN_EMAIL, ADMIN_PASSWORD, InProcessAppliance
from tests.support.receiver import Receiver
from tests.support.whois_server import WhoisServer

# Bounded and repeatable: hypothesis derandomized, a few examples per operation and phase
# (STATUSCORE_FUZZ_EXAMPLES=200 for a longer run by hand).
MAX_EXAMPLES = int(os.environ.get("STATUSCORE_FUZZ_EXAMPLES") or 20)
CONFIG = {
    "generation": {"max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"},
    "phases": {"stateful": {"enabled": False}},
    "request-timeout": 30,
}
CHECKS = [
    checks.not_a_server_error,  # never a 5xx
    checks.status_code_conformance,  # a documented status code,
    checks.content_type_conformance,  # content type,
    checks.response_headers_conformance,  # headers (Retry-After on 429)
    checks.response_schema_conformance,  # and body
    checks.negative_data_rejection,  # input outside the document is refused with a 4xx
    checks.ignored_auth,  # what needs a token refuses a request without one
    checks.unsupported_method,  # an undocumented method is 405 with Allow
]
MONITOR_PATH = "/api/monitors/{monitor_id}"
USER_PATH = "/api/admin/users/{user_id}"
WEBHOOKS = "/api/settings/webhooks"
WEBHOOK_PATH = WEBHOOKS + "/{webhook_id}"
PROBES = "/api/admin/probes"
PROBE_PATH = PROBES + "/{probe_id}"


class Fuzzer:
    """Who the fuzzer is and where it aims.

    - It is the admin, except for POST /api/auth/password, which runs as a throwaway user (a
      lucky guess would change the admin's password and revoke the token every later request
      carries). PATCH of the admin's own account is aimed at another user for the same reason
      (a new email or password would lock the fuzzer out); DELETE of yourself stays: it is 400.
    - Two in three generated (valid) monitor ids and heartbeat tokens are swapped for seeded
      ones, so the fuzzed queries and bodies reach real monitors; the rest mostly find nothing.
      DELETE takes a monitor made for it instead of a seeded one.
    - /api/probe/* runs as a registered probe (its own token, as the document says). Valid result
      batches are aimed at seeded monitors with current check times, so some are stored. Revoking
      takes a probe made for it, never the fuzzer's own.
    """

    def __init__(self, api: Api, admin: User, password_user: User, victim: User, seeded: dict[str, int],
                 hooks: list[int], receiver_url: str):
        self.api, self.admin, self.password_user, self.victim = api, admin, password_user, victim
        self.seeded = sorted(seeded.values())
        self.hooks, self.receiver_url = hooks, receiver_url
        probe = api.post(PROBES, admin, json={"name": "fuzz-probe", "display_name": "Fuzz probe"}).json()
        self.probe_id, self.probe_token = probe["id"], probe["token"]
        monitors = {m["id"]: m for m in api.get("/api/monitors", admin).json()}
        self.heartbeat_token = monitors[seeded["heartbeat"]]["heartbeat_url"].rsplit("/", 1)[1]
        self.monitor_names = [monitors[mid]["name"] for mid in self.seeded]

    def token_for(self, case) -> str:
        if case.operation.method.upper() == "POST" and case.operation.path == "/api/auth/password":
            return self.password_user.token
        if case.operation.path.startswith("/api/probe/"):
            return self.probe_token
        return self.admin.token

    def aim(self, case) -> None:
        params, method, path = case.path_parameters or {}, case.method.upper(), case.operation.path
        monitor_id = _valid_id(params.get("monitor_id"))
        if method == "DELETE" and path == MONITOR_PATH:
            if monitor_id is not None and (monitor_id % 3 or monitor_id in self.seeded):
                params["monitor_id"] = self.api.create_monitor(
                    self.admin, name="to delete", type="tcp", target="127.0.0.1", port=9)["id"]
        elif path.startswith(MONITOR_PATH) and monitor_id is not None and monitor_id % 3:
            params["monitor_id"] = self.seeded[monitor_id % len(self.seeded)]
        elif path.startswith("/api/heartbeat/") and isinstance(params.get("token"), str):
            if len(params["token"]) % 3:
                params["token"] = self.heartbeat_token
        elif path == USER_PATH and method == "PATCH" and _valid_id(params.get("user_id")) == self.admin.id:
            params["user_id"] = self.victim.id
        elif path.startswith(WEBHOOK_PATH) and (hook_id := _valid_id(params.get("webhook_id"))) is not None:
            if method == "POST" and path.endswith("/test"):
                # The endpoint that sends: always to the loopback receiver, whatever the fuzzer
                # did to other webhooks' URLs.
                params["webhook_id"] = self.fresh_webhook()
            elif method == "DELETE":
                if hook_id % 3 or hook_id in self.hooks:
                    params["webhook_id"] = self.fresh_webhook()
            elif hook_id % 3:
                params["webhook_id"] = self.hooks[hook_id % len(self.hooks)]
        elif path == PROBE_PATH and (probe_id := _valid_id(params.get("probe_id"))) is not None:
            if method == "DELETE":
                if probe_id % 3 or probe_id == self.probe_id:
                    params["probe_id"] = self.fresh_probe()
            elif probe_id % 3:
                params["probe_id"] = self.probe_id
        elif path == "/api/probe/results" and method == "POST":
            self._aim_results(case)
        elif path == "/api/import" and method == "POST":
            self._aim_import(case)

    def _aim_results(self, case) -> None:
        """A valid batch (only: refusing invalid ones is the point of those) made to count."""
        try:
            ProbeResultsBody.model_validate(case.body)
        except ValidationError:
            return
        now = datetime.now(timezone.utc)
        for n, item in enumerate(case.body["results"]):
            if n % 3 != 2:
                item["monitor_id"] = self.seeded[item["monitor_id"] % len(self.seeded)]
                item["checked_at"] = (now - timedelta(seconds=n)).isoformat()

    def _aim_import(self, case) -> None:
        """Two in three maintenance windows of a generated document name seeded monitors, so an
        import plans windows on real monitors (not only "no monitor is named ..."). Only a valid
        list of names is swapped for another valid one: an invalid one is the point of its case."""
        windows = case.body.get("maintenance") if isinstance(case.body, dict) else None
        for n, window in enumerate(windows if isinstance(windows, list) else []):
            names = window.get("monitors") if isinstance(window, dict) else None
            if (n % 3 != 2 and isinstance(names, list) and len(set(map(repr, names))) == len(names)
                    and all(isinstance(name, str) and name for name in names)):
                window["monitors"] = self.monitor_names[:1 + n % len(self.monitor_names)]

    def fresh_probe(self) -> int:
        name = f"fuzz-revoked-{uuid.uuid4().hex[:12]}"
        response = self.api.post(PROBES, self.admin, json={"name": name, "display_name": "To revoke"})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def fresh_webhook(self) -> int:
        response = self.api.post(WEBHOOKS, self.admin, json={"url": self.receiver_url})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def observe(self, case, response) -> None:
        if (case.method.upper() == "POST" and case.operation.path == "/api/auth/password"
                and response.status_code == 200):
            self.password_user.token = response.json()["token"]


def _valid_id(value) -> int | None:
    """The id a generated path parameter names, if it is a valid one (an invalid one is the
    point of a negative test: it is left alone). Some phases send them as strings."""
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    return value if type(value) is int and 1 <= value <= MAX_ID else None


@pytest.fixture(scope="module")
def fuzz_target(tmp_path_factory):
    with WhoisServer() as whois:  # every WHOIS lookup ends here, on 127.0.0.1 ("no match": 404)
        instance = InProcessAppliance(tmp_path_factory.mktemp("fuzz") / "data", webhook_timeout=5.0,
                                      whois_server=whois.address)
        instance.refused = loopback_only(instance)
        # MTR traces 127.0.0.1 whatever host a fuzzed monitor names: no DNS, no probe beyond loopback
        instance.appliance.mtr = Mtr(interval=0.01, resolve=lambda host: "127.0.0.1")
        instance.start(engine=False)
        yield instance
        instance.stop()


@pytest.fixture(scope="module")
def fuzz_receiver():
    with Receiver() as receiver:
        yield receiver


@pytest.fixture(scope="module")
def fuzzer(fuzz_target, fuzz_receiver) -> Fuzzer:
    api = fuzz_target.api
    admin = fuzz_target.admin()
    seeded = seed_monitors(fuzz_target)
    hooks = seed_webhooks(fuzz_target, fuzz_receiver)
    password_user = api.create_user(admin, "password-changer@example.test")
    victim = api.create_user(admin, "victim@example.test")
    return Fuzzer(api, admin, password_user, victim, seeded, hooks, fuzz_receiver.url)


def loopback_only(instance: InProcessAppliance) -> list[str]:
    """Wrap the appliance's webhook sender: a URL whose host is not a loopback address is not
    sent to but recorded in the list returned (the tests assert it stays empty)."""
    dispatcher = instance.appliance.dispatcher
    deliver, refused = dispatcher.deliver, []

    def guarded(webhook, delivery_uuid, event_name, body):
        try:
            loopback = ipaddress.ip_address(urlsplit(webhook.url).hostname or "").is_loopback
        except ValueError:
            loopback = False
        if not loopback:
            refused.append(webhook.url)
            return Outcome(None, "not sent: the fuzz test sends only to loopback", 0)
        return deliver(webhook, delivery_uuid, event_name, body)

    dispatcher.deliver = guarded
    return refused


@pytest.fixture(scope="module")
def api_schema(fuzz_target, fuzzer):
    schema = schemathesis.openapi.from_url(fuzz_target.url + "/api/openapi.json",
                                           config=schemathesis.Config.from_dict(CONFIG), timeout=30)

    @schema.auth(refresh_interval=None)
    class Bearer:
        def get(self, case, context):
            return fuzzer.token_for(case)

        def set(self, case, token, context):
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    return schema


schema = schemathesis.pytest.from_fixture("api_schema")


@pytest.fixture(autouse=True)
def _node_id_for_schemathesis(request):
    """schemathesis 4.32's from_fixture reads and renames `item._nodeid`, which pytest 9.2 no
    longer has (it keeps `_id`): give the item one, so the lazy schema can run at all."""
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid


# The operations in three parts, so that xdist can run them side by side: one test item runs
# every example of its part's operations (all of them together took ~75-110 s on a loaded
# 2-core box, the last thing running at the end of the suite).
MONITORS = r"^/api/monitors"
SETTINGS = r"^/api/(import|export|settings)"


def answers_as_documented(case, fuzzer, fuzz_target) -> None:
    fuzzer.aim(case)
    response = case.call_and_validate(checks=CHECKS)
    fuzzer.observe(case, response)
    assert fuzz_target.refused == [], "the fuzzer asked the appliance to send beyond loopback"


@pytest.mark.slow
@pytest.mark.timeout(360)
@schema.include(path_regex=MONITORS).parametrize()
def test_it_answers_every_generated_monitor_request_as_documented(case, fuzzer, fuzz_target):
    answers_as_documented(case, fuzzer, fuzz_target)


@pytest.mark.slow
@pytest.mark.timeout(360)
@schema.include(path_regex=SETTINGS).parametrize()
def test_it_answers_every_generated_settings_and_import_request_as_documented(case, fuzzer, fuzz_target):
    answers_as_documented(case, fuzzer, fuzz_target)


@pytest.mark.slow
@pytest.mark.timeout(360)
@schema.exclude(path_regex=MONITORS).exclude(path_regex=SETTINGS).parametrize()
def test_it_answers_every_other_generated_request_as_documented(case, fuzzer, fuzz_target):
    answers_as_documented(case, fuzzer, fuzz_target)


def test_it_answers_the_seeded_monitors_as_documented(fuzz_target, fuzzer, api_schema):
    """Success answers, checked against the document whatever the fuzzer happened to reach."""
    api, admin = fuzz_target.api, fuzzer.admin
    seeded = seed_monitors(fuzz_target)  # afresh: the fuzzer may have changed the first ones
    listed = api.get("/api/monitors", admin)
    _conforms(api_schema, "GET", "/api/monitors", listed)
    monitors = [m for m in listed.json() if m["id"] in seeded.values()]
    assert {m["status"] for m in monitors} == {"pending", "up", "down", "paused"}
    assert {m["type"] for m in monitors} == {"http", "https", "tcp", "ping", "sip", "domain", "heartbeat"}
    for mid in seeded.values():
        _conforms(api_schema, "GET", MONITOR_PATH, api.get(f"/api/monitors/{mid}", admin))
        for query in ("", "?hours=1", "?hours=2160"):
            _conforms(api_schema, "GET", MONITOR_PATH + "/history",
                      api.get(f"/api/monitors/{mid}/history{query}", admin))
        for query in ("", "?days=1", "?days=365"):
            _conforms(api_schema, "GET", MONITOR_PATH + "/stats",
                      api.get(f"/api/monitors/{mid}/stats{query}", admin))
        _conforms(api_schema, "GET", MONITOR_PATH + "/insights", api.get(f"/api/monitors/{mid}/insights", admin))
    _conforms(api_schema, "PATCH", MONITOR_PATH + "/public",
              api.patch(f"/api/monitors/{seeded['up']}/public", admin, json={"public_status": True}))
    _conforms(api_schema, "PATCH", MONITOR_PATH + "/toggle",
              api.patch(f"/api/monitors/{seeded['down']}/toggle", admin, json={"is_active": False}))
    _conforms(api_schema, "PUT", MONITOR_PATH,
              api.put(f"/api/monitors/{seeded['heartbeat']}", admin, json={"grace": 30}))
    _conforms(api_schema, "POST", "/api/auth/login",
              api.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}))
    _conforms(api_schema, "GET", "/api/auth/me", api.get("/api/auth/me", admin))
    _conforms(api_schema, "GET", "/api/admin/users", api.get("/api/admin/users", admin))
    _conforms(api_schema, "GET", "/api/admin/engine", api.get("/api/admin/engine", admin))
    throwaway = api.create_user(admin, "throwaway@example.test")
    _conforms(api_schema, "POST", "/api/auth/password",
              api.post("/api/auth/password", throwaway,
                       json={"current_password": throwaway.password, "new_password": "another-password-2"}))
    heartbeat = next(m for m in monitors if m["type"] == "heartbeat")
    _conforms(api_schema, "POST", "/api/heartbeat/{token}", api.post(heartbeat["heartbeat_url"]))
    _conforms(api_schema, "GET", "/api/heartbeat/{token}/fail", api.get(heartbeat["heartbeat_url"] + "/fail"))


YAML = {"Content-Type": "application/yaml"}
ONE_OFF = {"name": "w", "monitor_ids": ["MID"], "starts_at": "2030-01-01T00:00:00Z", "ends_at": "2030-01-01T01:00:00Z"}
WEEKLY = {"name": "w", "monitor_ids": ["MID"], "recurring": {"weekdays": ["sun"], "start": "02:00",
                                                              "duration_minutes": 60, "timezone": "UTC"}}


def _document(**window) -> dict:
    """An import of one monitor and a window for it (`window` overrides the one-off window)."""
    fields = {k: v for k, v in {**ONE_OFF, **window}.items() if k != "monitor_ids"}
    return {"monitors": [{"name": "corpus", "type": "tcp", "target": "127.0.0.1", "port": 9, "is_active": False}],
            "maintenance": [{**fields, "monitors": ["corpus"]}]}


@pytest.mark.parametrize("method, path, kwargs, status", [
    ("OPTIONS", "/api/monitors", {}, 200),  # was 500: no current_user when the JWT check skips OPTIONS
    ("OPTIONS", "/api/admin/users/1", {}, 200),
    ("GET", "/api/monitors/9223372036854775808", {}, 404),  # was 500: overflowed SQLite's INTEGER
    ("DELETE", "/api/admin/users/99999999999999999999", {}, 404),
    ("GET", "/api/monitors/{id}/history?hours=%C2%B2", {}, 400),  # was 500: "²".isdigit() is True
    ("GET", "/api/monitors/{id}/history?hours=--5", {}, 400),
    ("GET", "/api/monitors/{id}/stats?days=" + "9" * 5000, {}, 400),  # was 500: too long for int()
    ("POST", "/api/monitors", {"data": "[" * 100_000 + "]" * 100_000}, 400),  # was 500: RecursionError
    ("POST", "/api/auth/login", {"data": "[" * 100_000 + "]" * 100_000}, 400),
    # Times whose UTC form is off the calendar: OverflowError (500), on create and on change.
    ("POST", "/api/maintenance", {"json": {**ONE_OFF, "starts_at": "0001-01-01T00:00:00+14:00"}}, 400),
    ("POST", "/api/maintenance", {"json": {**ONE_OFF, "ends_at": "9999-12-31T23:00:00-01:00"}}, 400),
    ("PUT", "/api/maintenance/{window}", {"json": {"starts_at": "0001-01-01T00:00:00+14:00"}}, 400),
    ("PUT", "/api/maintenance/{window}", {"json": {"ends_at": "9999-12-31T23:00:00-01:00"}}, 400),
    ("POST", "/api/maintenance", {"json": {**ONE_OFF, "starts_at": 1700000000}}, 400),  # was read as a Unix time
    ("PUT", "/api/maintenance/{window}", {"json": {"starts_at": "1700000000"}}, 400),
    # A time zone that is a folder of the zone database: IsADirectoryError (500).
    ("POST", "/api/maintenance", {"json": {**WEEKLY, "recurring": {**WEEKLY["recurring"], "timezone": "Europe"}}},
     400),
    ("PUT", "/api/maintenance/{window}", {"json": {"recurring": {**WEEKLY["recurring"], "timezone": "America"}}},
     400),
    # Imports: nesting (RecursionError), keys of mixed types and a list where names belong
    # (TypeError), and the same bad times and zones as above inside a document.
    ("POST", "/api/import?dry_run=true", {"data": "[" * 100_000 + "]" * 100_000}, 400),
    ("POST", "/api/import?dry_run=true", {"data": "- " * 3000 + "x", "headers": YAML}, 400),
    ("POST", "/api/import?dry_run=true", {"data": "[" * 100_000, "headers": YAML}, 400),
    ("POST", "/api/import?dry_run=true", {"data": "{1: a, b: c}", "headers": YAML}, 400),
    ("POST", "/api/import?dry_run=true", {"json": {"maintenance": [{"name": "m", "monitors": [{}]}]}}, 400),
    ("POST", "/api/import", {"json": _document(starts_at="0001-01-01T00:00:00+14:00")}, 400),
    ("POST", "/api/import", {"json": _document(ends_at="9999-12-31T23:00:00-01:00")}, 400),
    ("POST", "/api/import", {"data": "maintenance: [{name: m, monitors: [corpus], starts_at: 0001-01-01T00:00:00+14:00,"
                                     " ends_at: 2030-01-01T00:00:00Z}]", "headers": YAML}, 400),
    ("POST", "/api/import", {"json": _document(starts_at=None, ends_at=None, recurring={
        **WEEKLY["recurring"], "timezone": "Europe"})}, 400),
    ("POST", "/api/import", {"data": '{"version": 1' + "0" * 4000 + "}"}, 400),  # a huge number
    ("POST", "/api/import", {"data": "monitors: [{name: n, type: tcp, target: h, port: " + "9" * 5000 + "}]",
                             "headers": YAML}, 400),
])
def test_it_answers_what_once_crashed_it_within_the_contract(fuzz_target, fuzzer, method, path, kwargs, status):
    """Found while fuzzing (or probing next to it), each once a 500."""
    monitor_id = min(fuzzer.seeded)
    path = path.replace("{id}", str(monitor_id))
    if "{window}" in path:
        window = fuzz_target.api.post("/api/maintenance", fuzzer.admin, json=_placed(ONE_OFF, monitor_id))
        path = path.replace("{window}", str(window.json()["id"]))
    kwargs = _placed(kwargs, monitor_id)
    response = fuzz_target.api.request(method, path, fuzzer.admin, **kwargs)
    assert response.status_code == status, response.text
    if status != 200:
        assert response.json()["error"]


def _placed(value, monitor_id: int):
    """`value` with every "MID" replaced by a monitor's id."""
    if value == "MID":
        return monitor_id
    if isinstance(value, dict):
        return {k: _placed(v, monitor_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_placed(v, monitor_id) for v in value]
    return value


def test_it_answers_the_webhook_endpoints_as_documented(fuzz_target, fuzzer, fuzz_receiver, api_schema):
    api, admin = fuzz_target.api, fuzzer.admin
    created = api.post(WEBHOOKS, admin, json={"url": fuzz_receiver.url, "format": "slack",
                                              "events": ["monitor.down"], "enabled": False})
    _conforms(api_schema, "POST", WEBHOOKS, created)
    hook_id = created.json()["id"]
    _conforms(api_schema, "GET", WEBHOOKS, api.get(WEBHOOKS, admin))
    _conforms(api_schema, "PUT", WEBHOOK_PATH,
              api.put(f"{WEBHOOKS}/{hook_id}", admin, json={"rotate_secret": True, "format": "discord"}))
    _conforms(api_schema, "POST", WEBHOOK_PATH + "/test", api.post(f"{WEBHOOKS}/{hook_id}/test", admin))
    fuzz_receiver.fail(1, status=502)
    failed = api.post(f"{WEBHOOKS}/{hook_id}/test", admin)
    _conforms(api_schema, "POST", WEBHOOK_PATH + "/test", failed)
    assert failed.json()["delivered"] is False
    for seeded in fuzzer.hooks + [hook_id]:
        listed = api.get(f"{WEBHOOKS}/{seeded}/deliveries", admin)
        _conforms(api_schema, "GET", WEBHOOK_PATH + "/deliveries", listed)
    states = {d["state"] for hook in fuzzer.hooks for d in api.get(f"{WEBHOOKS}/{hook}/deliveries", admin).json()}
    assert states == {"pending", "delivered", "failed"}
    # The other kinds: an e-mail channel (its settings, no password) and an Apprise one (masked URL).
    email = api.post(WEBHOOKS, admin, json={"format": "email", "enabled": False, "email": {
        "host": "127.0.0.1", "port": 9, "security": "none", "username": "u", "password": "p",
        "from": "a@example.test", "to": ["b@example.test"]}})
    _conforms(api_schema, "POST", WEBHOOKS, email)
    assert "password" not in email.json()["email"]
    apprise = api.post(WEBHOOKS, admin, json={"format": "apprise", "url": "json://127.0.0.1:9/x", "enabled": False})
    _conforms(api_schema, "POST", WEBHOOKS, apprise)
    _conforms(api_schema, "PUT", WEBHOOK_PATH,
              api.put(f"{WEBHOOKS}/{email.json()['id']}", admin, json={"email": {"port": 2525}}))
    _conforms(api_schema, "GET", WEBHOOKS, api.get(WEBHOOKS, admin))
    for extra in (email, apprise):
        assert api.delete(f"{WEBHOOKS}/{extra.json()['id']}", admin).status_code == 204
    deleted = api.delete(f"{WEBHOOKS}/{hook_id}", admin)
    assert deleted.status_code == 204
    schema_ok = api_schema[WEBHOOK_PATH]["DELETE"]
    schema_ok.validate_response(deleted)
    assert fuzz_target.refused == []


def test_it_answers_the_probe_and_location_endpoints_as_documented(fuzz_target, fuzzer, api_schema):
    api, admin = fuzz_target.api, fuzzer.admin
    created = api.post(PROBES, admin, json={"name": "documented", "display_name": "EU (Frankfurt)"})
    _conforms(api_schema, "POST", PROBES, created)
    probe = created.json()
    as_probe = {"Authorization": f"Bearer {probe['token']}"}
    _conforms(api_schema, "GET", "/api/probe/assignments", api.get("/api/probe/assignments", headers=as_probe))
    _conforms(api_schema, "GET", PROBES, api.get(PROBES, admin))
    _conforms(api_schema, "PATCH", PROBE_PATH,
              api.patch(f"{PROBES}/{probe['id']}", admin, json={"display_name": "EU-Central (Frankfurt)"}))
    _conforms(api_schema, "GET", "/api/locations", api.get("/api/locations", admin))
    now = datetime.now(timezone.utc)
    batch = {"results": [
        {"id": "a1", "monitor_id": min(fuzzer.seeded), "checked_at": now.isoformat(), "up": True,
         "response_time": 12.5, "error": None, "details": {"ssl": {"valid": True, "days_left": 40}}},
        {"id": "a2", "monitor_id": MAX_ID, "checked_at": now.isoformat(), "up": False, "error": "refused"},
        {"id": "a3", "monitor_id": min(fuzzer.seeded), "checked_at": (now + timedelta(hours=1)).isoformat(),
         "up": True}]}
    sent = api.post("/api/probe/results", headers=as_probe, json=batch)
    _conforms(api_schema, "POST", "/api/probe/results", sent)
    assert (sent.json()["accepted"], len(sent.json()["rejected"])) == (1, 2)
    again = api.post("/api/probe/results", headers=as_probe, json=batch)
    _conforms(api_schema, "POST", "/api/probe/results", again)
    assert again.json()["duplicates"] == 1
    revoked = api.delete(f"{PROBES}/{probe['id']}", admin)
    assert revoked.status_code == 204
    api_schema[PROBE_PATH]["DELETE"].validate_response(revoked)
    assert api.get("/api/probe/assignments", headers=as_probe).status_code == 401


def test_it_refuses_to_send_beyond_loopback_even_when_asked(fuzz_target, fuzzer):
    """The guard itself: a webhook test to a public address is never sent from here."""
    api, admin = fuzz_target.api, fuzzer.admin
    created = api.post(WEBHOOKS, admin, json={"url": "https://hooks.example.com/x"}).json()
    try:
        result = api.post(f"{WEBHOOKS}/{created['id']}/test", admin).json()
        assert result["delivered"] is False and "loopback" in result["error"]
        assert fuzz_target.refused == ["https://hooks.example.com/x"]
    finally:
        fuzz_target.refused.clear()
        api.delete(f"{WEBHOOKS}/{created['id']}", admin)


def _conforms(schema, method: str, path: str, response: requests.Response) -> None:
    assert response.status_code < 300, response.text
    schema[path][method].validate_response(response)


# ---- seeding ------------------------------------------------------------------------------------

def seed_webhooks(instance: InProcessAppliance, receiver: Receiver) -> list[int]:
    """The admin's webhooks, one per format, all at the loopback receiver, with a delivered,
    a failed and a pending delivery in their logs."""
    api, admin = instance.api, instance.admin()
    ids = []
    for fmt in ("generic", "slack", "discord"):
        response = api.post(WEBHOOKS, admin, json={"url": receiver.url, "format": fmt})
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    assert api.post(f"{WEBHOOKS}/{ids[0]}/test", admin).json()["delivered"] is True
    receiver.fail(1, status=500)
    assert api.post(f"{WEBHOOKS}/{ids[1]}/test", admin).json()["delivered"] is False
    with instance.appliance.outbox.session() as s:  # as the (stopped) dispatcher would leave it
        s.add(Delivery(webhook_id=ids[2], uuid="seeded-pending", event="monitor.down", body="{}", attempts=1,
                       last_status_code=503, last_error="HTTP 503",
                       next_attempt_at=datetime.now(timezone.utc) + timedelta(minutes=5)))
        s.commit()
    return ids


def seed_monitors(instance: InProcessAppliance) -> dict[str, int]:
    """Monitors of every type and state, owned by the admin, with history and incidents; the
    live states are set directly, as the (stopped) engine would have."""
    api, admin = instance.api, instance.admin()
    app = instance.appliance
    now = datetime.now(timezone.utc).replace(microsecond=0)

    def create(**fields) -> int:
        return api.create_monitor(admin, **fields)["id"]

    def live(mid: int, status: str, response_time: float | None, error: str | None = None, **details):
        app.live.set(mid, LiveState(status=status, locations={"local": LocationState(status)}, last_check=now,
                                    response_time=response_time, last_error=error, details=details))

    ids = {
        "up": create(name="up-https", type="https", target="https://127.0.0.1:9/health", keyword="ok"),
        "down": create(name="down-https", type="https", target="https://127.0.0.1:9/", expected_status=204),
        "http": create(name="http-failing", type="http", target="http://127.0.0.1:9/"),
        "tcp": create(name="tcp", type="tcp", target="127.0.0.1", port=9, interval=30, timeout=5),
        "ping": create(name="ping", type="ping", target="127.0.0.1"),
        "sip": create(name="sip", type="sip", target="sip:127.0.0.1:5060"),
        "domain": create(name="domain", type="domain", target="example.test"),
        "heartbeat": create(name="heartbeat", type="heartbeat", interval=3600, grace=120),
        "paused": create(name="paused", type="http", target="http://127.0.0.1:9/"),
    }
    live(ids["up"], "up", 145.4, status_code=200,
         ssl={"valid": True, "expires_at": now + timedelta(days=45), "days_left": 45, "issuer": "Test CA"})
    live(ids["down"], "down", 3.2, "TLS certificate is not valid: self-signed certificate",
         ssl={"valid": False, "error": "self-signed certificate"})
    live(ids["http"], "pending", 12.0, "connection refused")  # one failure, not confirmed yet
    live(ids["tcp"], "down", None, "connection refused")
    live(ids["heartbeat"], "up", None)
    live(ids["domain"], "up", 21.0, addresses=["127.0.0.1"],  # as appliance/checkers/domain.py reports
         domain={"expires_at": now + timedelta(days=200), "days_left": 200, "registrar": "Test Registrar"})
    assert api.patch(f"/api/monitors/{ids['paused']}/toggle", admin, json={"is_active": False}).status_code == 200

    rows = []
    for minutes in range(0, 36 * 60, 20):
        at = now - timedelta(minutes=minutes)
        rows.append(ResultRow(ids["up"], at, "local", True, 100.0 + minutes % 7))
        failed = minutes % 3 == 0
        rows.append(ResultRow(ids["down"], at, "local", not failed, None if failed else 50.0,
                              "timeout" if failed else None))
    app.history.append_many(rows)
    app.history.flush()
    for old, new, hours in (("pending", "up", 30), ("up", "down", 20), ("down", "up", 19), ("up", "down", 1)):
        app.entities.record_transition(Transition(ids["down"], old, new, now - timedelta(hours=hours), "seeded"))
    return ids
