"""A domain monitor end to end: the appliance resolves through a local DNS server and reads the
registration from a local WHOIS server (both set through the settings, as a private setup would)."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta, timezone

from tests.support.appliance import InProcessAppliance
from tests.support.dns_server import DnsServer
from tests.support.net import wait_for
from tests.support.whois_server import WhoisServer, registry_record

NOW = datetime.now(timezone.utc)


def test_it_reports_expiry_and_sends_one_expiring_event(tmp_path):
    records = {"healthy.test": {"A": ["127.0.0.1"]}, "expiring.test": {"A": ["127.0.0.1"]},
               "expired.test": {"A": ["127.0.0.1"]}}
    answers = {
        "healthy.test": registry_record("healthy.test", NOW + timedelta(days=200, hours=1)),
        "expiring.test": registry_record("expiring.test", NOW + timedelta(days=10, hours=1)),
        "expired.test": registry_record("expired.test", NOW - timedelta(days=3)),
    }
    with DnsServer(records) as dns, WhoisServer(answers) as whois:
        server = InProcessAppliance(tmp_path / "data", dns_servers=(dns.address,),
                                    whois_server=whois.address).start()
        try:
            admin = server.admin()
            api = server.api
            ids = {name: api.create_monitor(admin, name=name, type="domain", target=name, interval=60)["id"]
                   for name in ("healthy.test", "expiring.test", "expired.test", "missing.test")}

            def monitor(name):
                return api.get(f"/api/monitors/{ids[name]}", admin).json()

            wait_for(lambda: monitor("healthy.test")["status"] == "up", timeout=20, message="healthy up")
            healthy = monitor("healthy.test")
            assert healthy["domain"]["days_left"] == 200
            assert healthy["domain"]["registrar"] == "Test Registrar, Inc."
            assert healthy["domain"]["expires_at"].endswith("Z")

            wait_for(lambda: monitor("expiring.test")["status"] == "up", timeout=20, message="expiring up")
            assert monitor("expiring.test")["domain"]["days_left"] == 10

            # retries=1: a second failed check confirms the down; trigger it with an edit (checks at once)
            for name in ("expired.test", "missing.test"):
                wait_for(lambda: monitor(name)["last_check"] is not None, timeout=20, message=f"{name} checked")
                api.put(f"/api/monitors/{ids[name]}", admin, json={"retries": 0})
                wait_for(lambda: monitor(name)["status"] == "down", timeout=20, message=f"{name} down")
            assert "expired" in monitor("expired.test")["last_error"]
            assert "NXDOMAIN" in monitor("missing.test")["last_error"]

            # Another check of the expiring domain must not send the event again.
            api.put(f"/api/monitors/{ids['expiring.test']}", admin, json={"name": "expiring.test (renamed)"})
            wait_for(lambda: whois.connections >= 1, timeout=5, message="whois asked")
        finally:
            server.stop()
        with sqlite3.connect(tmp_path / "data" / "statuscore.sqlite") as db:
            events = db.execute("SELECT monitor_id, event FROM state_change WHERE event LIKE '%expiring'").fetchall()
        assert events == [(ids["expiring.test"], "domain.expiring")]
        assert whois.queries.count("expiring.test") == 1, "WHOIS is cached, not asked on every check"
