"""Passwords and secrets never reach the logs, even at DEBUG.

A real `statuscore serve` and a real `statuscore probe`, both with STATUSCORE_LOG_LEVEL=DEBUG,
go through everything that handles a secret: logins (right and wrong passwords), a password
change (and the old password tried again), a user created by the admin, API keys (made, used,
revoked, used after revocation), webhooks (secrets made and rotated, a test message and a real
alert signed with them), an e-mail channel's SMTP password (a test mail and an alert through a
local SMTP server that checks it) and an Apprise URL's token (an alert that fails until it is
given up), a probe (its token used by the probe process and by hand; a wrong
one), heartbeat URLs (GET, POST, /fail) and the JWT secret that signs every token. Then the two
captured logs are searched for every one of those values (and for the secret part of each on
its own): none may appear.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from tests.support.appliance import ADMIN_PASSWORD, ROOT, ApplianceProcess
from tests.support.net import wait_for
from tests.support.peers import HttpPeer
from tests.support.receiver import Receiver
from tests.support.smtp_server import SmtpServer

pytestmark = pytest.mark.slow

DEBUG = {"STATUSCORE_LOG_LEVEL": "DEBUG", "STATUSCORE_WEBHOOK_BACKOFF": "1,1,1,1"}
SMTP_PASSWORD = "Smtp-Secret-Pass-6620"


def fragments(secret: str, start: int = 0) -> list[str]:
    """The secret and its secret part (from `start`: what the API shows of it on purpose is
    before that), in 16-character pieces too, so a log that cut it up is still caught."""
    part = secret[start:]
    return [secret, part] + [part[i:i + 16] for i in range(0, max(1, len(part) - 15), 8)]


def test_it_writes_no_password_token_key_or_secret_to_its_logs(tmp_path):
    secrets: dict[str, list[str]] = {"admin password": fragments(ADMIN_PASSWORD)}
    proc = ApplianceProcess(tmp_path / "data", env=DEBUG).start()
    probe_log = tmp_path / "probe.log"
    probe = None
    try:
        api = proc.api
        with Receiver() as receiver, HttpPeer() as peer, SmtpServer(login=("alerts", SMTP_PASSWORD)) as smtp:
            # Logins, right and wrong.
            admin = proc.admin()
            secrets["admin token"] = fragments(admin.token, admin.token.index(".") + 1)
            wrong = api.post("/api/auth/login", json={"email": admin.email, "password": "Wrong-Guess-7731"})
            assert wrong.status_code == 401
            secrets["wrong password"] = fragments("Wrong-Guess-7731")
            alice = api.create_user(admin, "alice@example.test", password="Alice-First-Pass-0425")
            secrets["alice's first password"] = fragments(alice.password)
            changed = api.post("/api/auth/password", alice, json={"current_password": alice.password,
                                                                  "new_password": "Alice-Second-Pass-9184"})
            assert changed.status_code == 200, changed.text
            secrets["alice's new password"] = fragments("Alice-Second-Pass-9184")
            assert api.post("/api/auth/login", json={"email": alice.email, "password": alice.password}).status_code == 401
            alice = api.login(alice.email, "Alice-Second-Pass-9184")
            for token in (alice.token, changed.json()["token"]):
                secrets.setdefault("alice's tokens", []).extend(fragments(token, token.index(".") + 1))

            # API keys: made, used, revoked, used again.
            keys = [api.post("/api/auth/keys", alice, json={"name": n, "scope": s}).json()
                    for n, s in (("ci", "read"), ("deploy", "write"))]
            for key in keys:
                secrets[f"API key {key['name']}"] = fragments(key["key"], len(key["prefix"]))
            assert api.get("/api/monitors", keys[0]["key"]).status_code == 200
            assert api.delete(f"/api/auth/keys/{keys[1]['id']}", alice).status_code == 204
            assert api.get("/api/monitors", keys[1]["key"]).status_code == 401

            # Webhooks: a secret made, rotated, used for a test message and a real alert.
            hook = api.post("/api/settings/webhooks", alice, json={"url": receiver.url}).json()
            secrets["first webhook secret"] = fragments(hook["secret"], len("whsec_"))
            hook = api.put(f"/api/settings/webhooks/{hook['id']}", alice, json={"rotate_secret": True}).json()
            secrets["webhook secret"] = fragments(hook["secret"], len("whsec_"))
            assert api.post(f"/api/settings/webhooks/{hook['id']}/test", alice).json()["delivered"] is True
            # A receiver URL that is itself a secret (as chat webhooks are), failing until it is given up.
            dead_url = "http://127.0.0.1:9/services/T0/B0/Dead-Receiver-Path-Token-5521"
            secrets["webhook URL token"] = fragments(dead_url, dead_url.index("Dead"))
            dead = api.post("/api/settings/webhooks", alice, json={"url": dead_url, "events": ["monitor.down"]}).json()
            # Notification channels: an SMTP password (a test mail, then the alert) and an Apprise
            # URL whose token is its path, failing until it is given up (logged).
            secrets["SMTP password"] = fragments(SMTP_PASSWORD)
            mail = api.post("/api/settings/webhooks", alice, json={"format": "email", "events": ["monitor.down"], "email": {
                "host": "127.0.0.1", "port": smtp.port, "security": "none", "username": "alerts",
                "password": SMTP_PASSWORD, "from": "statuscore@example.test", "to": ["ops@example.test"]}}).json()
            assert api.post(f"/api/settings/webhooks/{mail['id']}/test", alice).json()["delivered"] is True
            apprise_url = "json://127.0.0.1:9/Apprise-Token-Path-3390"
            secrets["Apprise URL token"] = fragments(apprise_url, apprise_url.index("Apprise"))
            dead_apprise = api.post("/api/settings/webhooks", alice, json={
                "format": "apprise", "url": apprise_url, "events": ["monitor.down"]}).json()
            peer.set_status(503)
            api.create_monitor(alice, name="API", type="http", target=peer.url + "/health", interval=10, retries=0)
            receiver.wait_until(lambda got: any(m.event == "monitor.down" for m in got), timeout=20,
                                message="a real, signed alert")
            wait_for(lambda: [d["state"] for d in api.get(f"/api/settings/webhooks/{dead['id']}/deliveries",
                                                          alice).json()] == ["failed"],
                     timeout=30, message="the dead receiver given up on (logged)")
            wait_for(lambda: [d["state"] for d in api.get(f"/api/settings/webhooks/{dead_apprise['id']}/deliveries",
                                                          alice).json()] == ["failed"],
                     timeout=30, message="the dead Apprise URL given up on (logged)")
            assert len(smtp.wait_for_count(2)) == 2 and smtp.mails[-1].login == "alerts"

            # Heartbeats.
            beat = api.create_monitor(alice, name="backup job", type="heartbeat", interval=3600)
            token = beat["heartbeat_url"].rsplit("/", 1)[1]
            secrets["heartbeat token"] = fragments(token)
            for method, suffix in (("GET", ""), ("POST", ""), ("GET", "/fail"), ("POST", "/fail")):
                assert api.request(method, beat["heartbeat_url"] + suffix).status_code == 200

            # A probe: its token used by the probe program and by hand; a wrong token.
            registered = api.post("/api/admin/probes", admin, json={"name": "eu-west", "display_name": "EU"}).json()
            secrets["probe token"] = fragments(registered["token"], len("scp_"))
            api.create_monitor(alice, name="From the probe", type="http", target=peer.url + "/probe",
                               interval=10, check_locations=["eu-west"])
            env = {**{k: v for k, v in os.environ.items() if not k.startswith("STATUSCORE_")},
                   "STATUSCORE_LOG_LEVEL": "DEBUG"}
            with open(probe_log, "ab") as log:
                probe = subprocess.Popen(
                    [sys.executable, "-m", "statuscore", "probe", "--server", proc.url, "--token",
                     registered["token"], "--location", "eu-west", "--data-dir", str(tmp_path / "probe")],
                    env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
            wait_for(lambda: api.get("/api/locations", admin).json()[-1]["online"] and any(
                h["location"] == "eu-west" for m in api.get("/api/monitors", alice).json()
                if m["name"] == "From the probe"
                for h in api.get(f"/api/monitors/{m['id']}/history", alice).json()["history"]),
                timeout=30, message="a result from the probe")
            by_hand = {"Authorization": f"Bearer {registered['token']}"}
            assert api.get("/api/probe/assignments", headers=by_hand).status_code == 200
            assert api.get("/api/probe/assignments", headers={"Authorization": "Bearer scp_not-a-real-token"}
                           ).status_code == 401
    finally:
        if probe is not None:
            probe.send_signal(signal.SIGTERM)
            try:
                probe.wait(10)
            except subprocess.TimeoutExpired:
                probe.kill()
                probe.wait(5)
        proc.stop()

    secrets["JWT secret"] = fragments((proc.data_dir / "secret").read_text().strip())
    logs = {"serve": proc.log(), "probe": probe_log.read_text(errors="replace")}
    assert " DEBUG " in logs["probe"], "the probe should log at DEBUG (its HTTP client's requests)"
    assert "monitor.down" in logs["serve"] or "is down" in logs["serve"], logs["serve"][-2000:]
    leaks = [(what, name) for name, text in logs.items() for what, values in secrets.items()
             if any(value in text for value in values)]
    assert leaks == [], f"secrets in the logs: {leaks}"
