"""An https monitor end to end: certificate facts in the monitor JSON, an invalid certificate
is down, and a certificate close to expiry sends one ssl.expiring event."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

import trustme

from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import https_peer


def test_it_reports_the_certificate_and_warns_once_before_expiry(tmp_path):
    ca = trustme.CA()
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    now = datetime.now(timezone.utc)
    soon = ca.issue_cert("127.0.0.1", not_before=now - timedelta(days=80), not_after=now + timedelta(days=10, hours=1))
    with https_peer(ca.issue_cert("127.0.0.1")) as good, https_peer(soon) as expiring, \
            https_peer(ca.issue_cert("wrong.example")) as wrong_host:
        server = InProcessAppliance(tmp_path / "data", ca_file=str(ca_file)).start()
        try:
            admin, api = server.admin(), server.api
            ids = {}
            for name, peer in (("good", good), ("expiring", expiring), ("wrong", wrong_host)):
                ids[name] = api.create_monitor(admin, name=name, type="https", target=peer.url + "/",
                                               interval=30, retries=0)["id"]

            def monitor(name):
                return api.get(f"/api/monitors/{ids[name]}", admin).json()

            for name in ids:
                wait_for(lambda: monitor(name)["status"] != "pending", timeout=20, message=f"{name} checked")
            good_json = monitor("good")
            assert good_json["status"] == "up"
            assert good_json["ssl"]["valid"] is True and good_json["ssl"]["days_left"] > 300
            assert good_json["ssl"]["expires_at"].endswith("Z")
            assert monitor("expiring")["ssl"]["days_left"] == 10
            wrong = monitor("wrong")
            assert wrong["status"] == "down"
            assert wrong["ssl"]["valid"] is False
            assert "hostname" in wrong["ssl"]["error"] or "match" in wrong["ssl"]["error"]  # the reason, for people
            assert "error" not in good_json["ssl"]  # only an invalid certificate has one
            assert "certificate" in wrong["last_error"]

            # A second check of the expiring certificate (an edit checks at once) sends nothing new.
            api.put(f"/api/monitors/{ids['expiring']}", admin, json={"name": "expiring (again)"})
            wait_for(lambda: expiring.hits >= 2, timeout=10, message="a second check")
        finally:
            server.stop()
    with sqlite3.connect(tmp_path / "data" / "statuscore.sqlite") as db:
        events = db.execute("SELECT monitor_id, event, details FROM state_change WHERE event LIKE 'ssl.%'").fetchall()
    assert [(m, e) for m, e, _ in events] == [(ids["expiring"], "ssl.expiring")]
    assert '"days_left": 10' in events[0][2]
