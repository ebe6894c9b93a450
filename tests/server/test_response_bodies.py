"""Every endpoint's answer, byte for byte, for the same data: a fixed scenario (users, monitors of
every type, webhooks, maintenance, status page, keys, probes, export/import and a set of bad
requests) is played against a fresh served appliance and each answer compared with the one
recorded in golden/responses.json. Refactoring the layers under the API must not change a byte.

Only what differs run to run is masked: timestamps and dates, tokens, keys and secrets, timings.
After an intended change of an answer, record again with
`STATUSCORE_RECORD_GOLDEN=1 .venv/bin/python -m pytest tests/server/test_response_bodies.py` and
review the diff of the golden file.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.receiver import Receiver

GOLDEN = Path(__file__).parent / "golden" / "responses.json"
MASKS = [
    (re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), "<jwt>"),
    (re.compile(r"\b(sc|scp)_[A-Za-z0-9_-]{8,}"), "<key>"),
    (re.compile(r"/api/heartbeat/[A-Za-z0-9_-]{8,64}"), "/api/heartbeat/<token>"),
    (re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"), "<uuid>"),
    (re.compile(r"127\.0\.0\.1:\d{4,5}"), "127.0.0.1:<port>"),  # the test's receiver
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\d( \d\d:\d\d(:\d\d)?( UTC)?)?"), "<date>"),
    (re.compile(r'"(secret|token|key)": ?"[^"]+"'), r'"\1": "<secret>"'),
    (re.compile(r'"(duration_ms|elapsed_ms|response_ms|took_ms)": ?\d+(\.\d+)?'), r'"\1": <ms>'),
    (re.compile(r'"(prefix)": ?"[^"]+"'), r'"\1": "<prefix>"'),
    (re.compile(r'"instance_id": ?"[0-9a-f]+"'), '"instance_id": "<instance>"'),
]
VOLATILE_PATHS = ("/api/admin/engine", "/metrics", "/api/admin/backup")


def mask(text: str) -> str:
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text


class Recorder:
    def __init__(self, server):
        self.server = server
        self.answers: list[dict] = []

    def __call__(self, label: str, method: str, path: str, user=None, **kwargs):
        response = self.server.api.request(method, path, user, **kwargs)
        body = response.text
        if path.split("?")[0] in VOLATILE_PATHS:  # live figures: the shape is what must hold
            body = re.sub(r"\d+(\.\d+)?", "<n>", body) if response.status_code == 200 else body
        if path.startswith("/api/admin/backup") and response.status_code == 200:
            body = "<archive>"
        self.answers.append({"step": label, "request": mask(f"{method} {path}"), "status": response.status_code,
                             "content_type": response.headers.get("Content-Type"), "body": mask(body)})
        return response


def play(server, hook_url: str) -> list[dict]:
    r = Recorder(server)
    api = server.api
    admin = server.admin()
    alice = api.create_user(admin, "alice@example.test", full_name="Alice", subscription_tier="pro")
    bob = api.create_user(admin, "bob@example.test", full_name="Bob")

    r("me", "GET", "/api/auth/me", alice)
    r("login bad", "POST", "/api/auth/login", json={"email": "alice@example.test", "password": "wrong-password"})
    r("no token", "GET", "/api/monitors")
    r("bad token", "GET", "/api/monitors", "not-a-token")
    r("openapi", "GET", "/api/openapi.json")

    # monitors of every type, and what the API says about bad ones
    monitors = {}
    for kind, fields in [
        ("http", {"target": "http://127.0.0.1:9/health", "keyword": "ok", "expected_status": 204}),
        ("https", {"target": "https://127.0.0.1:9/", "interval": 120, "timeout": 20}),
        ("ping", {"target": "127.0.0.1", "retries": 3}),
        ("tcp", {"target": "127.0.0.1", "port": 5432, "recovery_checks": 2}),
        ("sip", {"target": "sip:127.0.0.1:5070;transport=tcp"}),
        ("domain", {"target": "example.com", "interval": 3600, "reminder_minutes": 60}),
        ("heartbeat", {"grace": 30, "interval": 300}),
    ]:
        response = r(f"create {kind}", "POST", "/api/monitors", alice,
                     json={"name": f"{kind} monitor", "type": kind, **fields})
        monitors[kind] = response.json()
    for label, body in [
        ("no type", {"name": "x"}),
        ("bad type", {"name": "x", "type": "smtp", "target": "127.0.0.1"}),
        ("unknown field", {"name": "x", "type": "http", "target": "http://127.0.0.1/", "colour": "red"}),
        ("wrong type", {"name": "x", "type": "http", "target": "http://127.0.0.1/", "interval": "60"}),
        ("null", {"name": "x", "type": "http", "target": "http://127.0.0.1/", "interval": None}),
        ("scheme", {"name": "x", "type": "https", "target": "http://127.0.0.1/"}),
        ("tcp no port", {"name": "x", "type": "tcp", "target": "127.0.0.1"}),
        ("port on http", {"name": "x", "type": "http", "target": "http://127.0.0.1/", "port": 80}),
        ("ssl on http", {"name": "x", "type": "http", "target": "http://127.0.0.1/", "ssl_check": True}),
        ("grace on ping", {"name": "x", "type": "ping", "target": "127.0.0.1", "grace": 5}),
        ("keyword on tcp", {"name": "x", "type": "tcp", "target": "127.0.0.1", "port": 1, "keyword": "a"}),
        ("target on heartbeat", {"name": "x", "type": "heartbeat", "target": "127.0.0.1"}),
        ("timeout > interval", {"name": "x", "type": "ping", "target": "127.0.0.1", "interval": 10,
                                "timeout": 30}),
        ("bad domain", {"name": "x", "type": "domain", "target": "localhost"}),
        ("bad sip", {"name": "x", "type": "sip", "target": "sip:127.0.0.1;transport=sctp"}),
        ("bad location", {"name": "x", "type": "ping", "target": "127.0.0.1", "check_locations": ["mars"]}),
        ("credentials", {"name": "x", "type": "http", "target": "http://u:p@127.0.0.1/"}),
        ("interval low", {"name": "x", "type": "ping", "target": "127.0.0.1", "interval": 5}),
    ]:
        r(f"create invalid: {label}", "POST", "/api/monitors", alice, json=body)
    r("create not json", "POST", "/api/monitors", alice, data="name=x",
      headers={"Content-Type": "application/x-www-form-urlencoded"})
    r("create broken json", "POST", "/api/monitors", alice, data="{", headers={"Content-Type": "application/json"})

    http_id, ping_id = monitors["http"]["id"], monitors["ping"]["id"]
    r("list", "GET", "/api/monitors", alice)
    r("list bob", "GET", "/api/monitors", bob)
    r("get", "GET", f"/api/monitors/{http_id}", alice)
    r("get not yours", "GET", f"/api/monitors/{http_id}", bob)
    r("get missing", "GET", "/api/monitors/999999", alice)
    r("update", "PUT", f"/api/monitors/{http_id}", alice, json={"name": "Website", "interval": 30})
    r("update type", "PUT", f"/api/monitors/{http_id}", alice, json={"type": "tcp"})
    r("update same type", "PUT", f"/api/monitors/{http_id}", alice, json={"type": "http", "retries": 2})
    r("update invalid", "PUT", f"/api/monitors/{ping_id}", alice, json={"timeout": 200})
    r("toggle off", "PATCH", f"/api/monitors/{ping_id}/toggle", alice, json={"is_active": False})
    r("toggle no body", "PATCH", f"/api/monitors/{ping_id}/toggle", alice, json={})
    r("toggle on", "PATCH", f"/api/monitors/{ping_id}/toggle", alice, json={"is_active": True})
    r("public", "PATCH", f"/api/monitors/{http_id}/public", alice, json={"public_status": True})
    r("public bad", "PATCH", f"/api/monitors/{http_id}/public", alice, json={"public_status": "yes"})
    r("history", "GET", f"/api/monitors/{http_id}/history?hours=24", alice)
    r("history bad hours", "GET", f"/api/monitors/{http_id}/history?hours=0", alice)
    r("stats", "GET", f"/api/monitors/{http_id}/stats?days=7", alice)
    r("stats bad days", "GET", f"/api/monitors/{http_id}/stats?days=400", alice)
    r("insights", "GET", f"/api/monitors/{http_id}/insights", alice)
    r("incidents", "GET", "/api/incidents", alice)
    r("incidents bad filter", "GET", "/api/incidents?open=maybe", alice)
    r("incident missing", "GET", "/api/incidents/999", alice)
    r("anomalies", "GET", "/api/monitors/anomalies", alice)
    r("acknowledge missing", "POST", "/api/monitors/anomalies/999/acknowledge", alice)
    r("mtr free", "GET", f"/api/monitors/{monitors['http']['id']}/mtr", bob)
    r("whois bad", "GET", "/api/monitors/tools/whois/not a domain", alice)
    r("whois unreachable", "GET", "/api/monitors/tools/whois/example.com", alice)

    # heartbeats
    beat = monitors["heartbeat"]["heartbeat_url"]
    r("heartbeat", "GET", beat)
    r("heartbeat post", "POST", beat)
    r("heartbeat fail", "GET", beat + "/fail")
    r("heartbeat unknown", "GET", "/api/heartbeat/unknowntoken123")
    r("heartbeat monitor", "GET", f"/api/monitors/{monitors['heartbeat']['id']}", alice)
    r("heartbeat history", "GET", f"/api/monitors/{monitors['heartbeat']['id']}/history", alice)

    # status page
    r("status page unset", "GET", "/api/settings/status-page", alice)
    r("status page set", "PUT", "/api/settings/status-page", alice, json={"company_name": "Acme", "slug": "acme"})
    r("landing json", "GET", "/", headers={"Accept": "application/json"})
    r("landing page", "GET", "/", headers={"Accept": "text/html"})
    r("health", "GET", "/api/health")
    r("status page taken", "PUT", "/api/settings/status-page", bob, json={"company_name": "B", "slug": "acme"})
    r("status page bad slug", "PUT", "/api/settings/status-page", bob, json={"company_name": "B", "slug": "A!"})
    r("public json", "GET", "/api/public/status/acme")
    r("public page", "GET", "/status/acme")
    r("public missing", "GET", "/api/public/status/nobody-here")
    r("public page missing", "GET", "/status/nobody-here")
    r("badge", "GET", f"/status/acme/badge/{http_id}.svg")
    r("badge private", "GET", f"/status/acme/badge/{ping_id}.svg")

    # webhooks
    for fmt in ("generic", "slack", "discord"):
        r(f"webhook {fmt}", "POST", "/api/settings/webhooks", alice,
          json={"url": f"{hook_url}?{fmt}", "format": fmt, "events": ["monitor.down", "monitor.up"]})
    r("webhook bad url", "POST", "/api/settings/webhooks", alice, json={"url": "ftp://127.0.0.1/"})
    r("webhook bad event", "POST", "/api/settings/webhooks", alice,
      json={"url": hook_url, "events": ["monitor.exploded"]})
    hooks = r("webhooks", "GET", "/api/settings/webhooks", alice).json()
    r("webhook update", "PUT", f"/api/settings/webhooks/{hooks[0]['id']}", alice, json={"enabled": False})
    r("webhook test", "POST", f"/api/settings/webhooks/{hooks[1]['id']}/test", alice)
    r("webhook deliveries", "GET", f"/api/settings/webhooks/{hooks[1]['id']}/deliveries", alice)
    r("webhook not yours", "GET", f"/api/settings/webhooks/{hooks[1]['id']}/deliveries", bob)
    r("webhook delete", "DELETE", f"/api/settings/webhooks/{hooks[2]['id']}", alice)

    # maintenance
    once = r("maintenance once", "POST", "/api/maintenance", alice, json={
        "name": "upgrade", "monitor_ids": [http_id], "starts_at": "2030-01-01T02:00:00Z",
        "ends_at": "2030-01-01T03:00:00Z"}).json()
    r("maintenance weekly", "POST", "/api/maintenance", alice, json={
        "name": "backups", "monitor_ids": [ping_id], "recurring": {
            "weekdays": ["sun"], "start": "02:00", "duration_minutes": 60, "timezone": "Europe/Berlin"}})
    r("maintenance bad", "POST", "/api/maintenance", alice, json={
        "name": "x", "monitor_ids": [http_id], "starts_at": "2030-01-01T03:00:00Z",
        "ends_at": "2030-01-01T02:00:00Z"})
    r("maintenance not yours", "POST", "/api/maintenance", bob, json={
        "name": "x", "monitor_ids": [http_id], "starts_at": "2030-01-01T02:00:00Z",
        "ends_at": "2030-01-01T03:00:00Z"})
    r("maintenance list", "GET", "/api/maintenance", alice)
    r("maintenance update", "PUT", f"/api/maintenance/{once['id']}", alice, json={"name": "big upgrade"})
    r("maintenance get", "GET", f"/api/maintenance/{once['id']}", alice)

    # keys
    key = r("key create", "POST", "/api/auth/keys", alice, json={"name": "ci", "scope": "read"}).json()
    r("keys", "GET", "/api/auth/keys", alice)
    r("key reads", "GET", "/api/monitors", key["key"])
    r("key cannot write", "POST", "/api/monitors", key["key"], json={"name": "x", "type": "ping",
                                                                     "target": "127.0.0.1"})
    r("key bad scope", "POST", "/api/auth/keys", alice, json={"name": "x", "scope": "admin"})

    # export / import
    r("export json", "GET", "/api/export?format=json", alice)
    r("export yaml", "GET", "/api/export?format=yaml", alice)
    r("export bad format", "GET", "/api/export?format=xml", alice)
    document = {"version": 1, "monitors": [
        {"name": "Imported", "type": "tcp", "target": "127.0.0.1", "port": 22},
        {"name": "Website", "type": "http", "target": "http://127.0.0.1:9/health", "interval": 45}]}
    r("import dry run", "POST", "/api/import?dry_run=true", alice, json=document)
    r("import", "POST", "/api/import?dry_run=false", alice, json=document)
    r("import again", "POST", "/api/import?dry_run=false", alice, json=document)
    r("import invalid", "POST", "/api/import", alice, json={"version": 1, "monitors": [{"name": "x"}]})

    # probes and locations
    r("locations", "GET", "/api/locations", alice)
    probe = r("probe register", "POST", "/api/admin/probes", admin,
              json={"name": "eu-west", "display_name": "EU West"}).json()
    r("probe register again", "POST", "/api/admin/probes", admin, json={"name": "eu-west", "display_name": "x"})
    r("probes", "GET", "/api/admin/probes", admin)
    r("probe assignments", "GET", "/api/probe/assignments", probe.get("token"))
    r("probe rename", "PATCH", f"/api/admin/probes/{probe.get('id', 1)}", admin, json={"display_name": "EU"})
    r("locations after", "GET", "/api/locations", alice)

    # admin
    r("users", "GET", "/api/admin/users", admin)
    r("users not admin", "GET", "/api/admin/users", alice)
    r("user update", "PATCH", f"/api/admin/users/{bob.id}", admin, json={"full_name": "Robert"})
    r("user duplicate", "POST", "/api/admin/users", admin, json={"email": "bob@example.test",
                                                                  "password": "long-enough-1"})
    r("engine", "GET", "/api/admin/engine", admin)
    r("metrics", "GET", "/metrics", admin)
    r("password change bad", "POST", "/api/auth/password", alice,
      json={"current_password": "nope-nope", "new_password": "another-password-1"})

    # cleanup paths
    r("maintenance delete", "DELETE", f"/api/maintenance/{once['id']}", alice)
    r("key delete", "DELETE", f"/api/auth/keys/{key['id']}", alice)
    r("monitor delete", "DELETE", f"/api/monitors/{ping_id}", alice)
    r("monitor delete again", "DELETE", f"/api/monitors/{ping_id}", alice)
    r("list at the end", "GET", "/api/monitors", alice)
    r("user delete", "DELETE", f"/api/admin/users/{bob.id}", admin)
    r("method not allowed", "PATCH", "/api/monitors", alice)
    r("no such path", "GET", "/api/nothing", alice)
    r("too large", "POST", "/api/monitors", alice, data="x" * (1024 * 1024 + 10),
      headers={"Content-Type": "application/json"})
    return r.answers


def test_it_answers_every_endpoint_byte_for_byte_as_recorded(tmp_path):
    with Receiver() as receiver:
        server = InProcessAppliance(tmp_path / "data").start(engine=False)
        try:
            answers = play(server, receiver.url)
        finally:
            server.stop()
    if os.environ.get("STATUSCORE_RECORD_GOLDEN") == "1":
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(json.dumps(answers, indent=1, ensure_ascii=False) + "\n")
        pytest.skip(f"recorded {len(answers)} answers in {GOLDEN}")
    recorded = json.loads(GOLDEN.read_text())
    assert [a["step"] for a in answers] == [a["step"] for a in recorded]
    for now, then in zip(answers, recorded):
        assert now == then, f"the answer to {now['step']!r} ({now['request']}) changed"
