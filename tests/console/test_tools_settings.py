"""Tools (WHOIS, MTR) and settings (webhooks with a test send, status page) against a real
appliance: its own WHOIS server on loopback and a local webhook receiver."""

from __future__ import annotations

import json
import re
import threading
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from console.app import make_console
from tests.console.helpers import on_screen, run, static_text, table_text, type_into, wait_until
from tests.support.appliance import InProcessAppliance
from tests.support.icmp import needs_raw_icmp
from tests.support.whois_server import WhoisServer, registry_record

SIZE = (130, 44)
EXPIRES = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=200)


class Receiver:
    """A webhook receiver on 127.0.0.1 that answers 200 and keeps every POST body."""

    def __init__(self):
        received = self.received = []

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                received.append((self.path, json.loads(self.rfile.read(length) or b"null")))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def whois_server():
    with WhoisServer(default=registry_record("example.com", EXPIRES)) as instance:
        yield instance


@pytest.fixture(scope="module")
def server(tmp_path_factory, whois_server):
    """This module's appliance: engine off, WHOIS asked at the local server."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("tools") / "data",
                                  whois_server=whois_server.address).start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def receiver():
    with Receiver() as instance:
        yield instance


def console_for(server, user, tmp_path):
    return make_console(server.url, email=user.email, password=user.password, token_file=tmp_path / "token",
                        refresh_interval=0.3)


def test_it_runs_whois_for_any_target(server, alice, tmp_path):
    async def scenario():
        app = console_for(server, alice, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f4")
            await on_screen(pilot, "ToolsScreen")
            await type_into(pilot, "#whois-target", "example.com")
            await pilot.press("enter")
            result = await wait_until(pilot, lambda: "Registrar" in static_text(app, "#whois-result")
                                      and static_text(app, "#whois-result"), message="the WHOIS answer")
            assert "Test Registrar, Inc." in result
            assert EXPIRES.strftime("%Y-%m-%d") in result
            assert "ns1.example.test" in result.lower()
            assert "EXAMPLE.COM" in static_text(app, "#whois-raw")
            # A bad target: the server's 400, shown where the answer goes.
            await type_into(pilot, "#whois-target", "not a domain")
            await pilot.press("ctrl+r")
            await wait_until(pilot, lambda: "WHOIS failed" in static_text(app, "#whois-result"))
            assert "Invalid WHOIS target" in static_text(app, "#whois-result")

    run(scenario())


def test_it_says_mtr_is_premium_for_a_free_account(server, api, bob, tmp_path):
    api.create_monitor(bob, name="Loopback", type="http", target="http://127.0.0.1:9/")

    async def scenario():
        app = console_for(server, bob, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f4")
            screen = await on_screen(pilot, "ToolsScreen")
            select = screen.query_one("#mtr-monitor")
            await wait_until(pilot, lambda: len(select._options) > 1, message="the monitors to choose from")
            select.value = select._options[1][1]
            await pilot.press("alt+m")
            await wait_until(pilot, lambda: "premium" in static_text(app, "#mtr-status"))
            assert not screen.query_one("#mtr-progress").has_class("-running")

    run(scenario())


@needs_raw_icmp
def test_it_runs_mtr_with_a_progress_indicator(server, api, alice, tmp_path):
    monitor = api.create_monitor(alice, name="Loopback", type="tcp", target="127.0.0.1", port=9)

    async def scenario():
        app = console_for(server, alice, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("enter")  # the detail screen, then m: MTR to its target
            await on_screen(pilot, "MonitorDetailScreen")
            await pilot.press("m")
            screen = await on_screen(pilot, "ToolsScreen")
            assert screen.query_one("#mtr-monitor").value == monitor["id"]
            await wait_until(pilot, lambda: screen.query_one("#mtr-progress").has_class("-running")
                             or "MTR to" in static_text(app, "#mtr-status"), message="MTR started")
            await wait_until(pilot, lambda: "MTR to" in static_text(app, "#mtr-status")
                             or "failed" in static_text(app, "#mtr-status"), timeout=60, message="MTR done")
            assert "MTR to 127.0.0.1" in static_text(app, "#mtr-status"), static_text(app, "#mtr-status")
            assert "127.0.0.1" in table_text(screen.query_one("#mtr-hops"))
            assert not screen.query_one("#mtr-progress").has_class("-running")

    run(scenario())


def test_it_manages_webhooks_and_sends_a_test(server, api, alice, receiver, tmp_path):
    shown = {}

    async def scenario():
        app = console_for(server, alice, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f5")
            screen = await on_screen(pilot, "SettingsScreen")
            await wait_until(pilot, lambda: "No webhooks yet" in static_text(app, "#webhooks-notice"))
            await pilot.press("n")
            await on_screen(pilot, "WebhookForm")
            await type_into(pilot, "#url", "ftp://nowhere")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "http" in static_text(app, "#url-error"), message="the url's error")
            await type_into(pilot, "#url", receiver.url)
            await pilot.press("ctrl+s")
            await on_screen(pilot, "ShownOnceDialog")  # the signing secret, this once
            shown["secret"] = static_text(app, "#secret-value").strip()
            await pilot.press("enter")
            await on_screen(pilot, "SettingsScreen")
            table = screen.query_one("#webhooks")
            await wait_until(pilot, lambda: receiver.url in table_text(table), message="the new webhook")
            assert "monitor.down, monitor.up" in table_text(table)
            await pilot.press("t")
            await wait_until(pilot, lambda: receiver.received, message="the test delivery")
            webhooks = screen.query_one("WebhooksPanel")  # the Webhooks tab's panel keeps the last test's answer
            await wait_until(pilot, lambda: getattr(webhooks, "last_test", None))
            assert webhooks.last_test["delivered"] is True and webhooks.last_test["status_code"] == 200
            deliveries = screen.query_one("#deliveries")
            await wait_until(pilot, lambda: deliveries.row_count == 1, message="the delivery log")
            assert "webhook.test" in table_text(deliveries)
            await pilot.press("x")  # disable
            await wait_until(pilot, lambda: "✖ no" in table_text(table), message="disabled")
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await on_screen(pilot, "SettingsScreen")
            await wait_until(pilot, lambda: table.row_count == 0, message="deleted")

    run(scenario())
    assert re.fullmatch(r"whsec_[0-9a-f]{48}", shown["secret"])
    assert api.get("/api/settings/webhooks", alice).json() == []
    path, body = receiver.received[0]
    assert path == "/hook" and body["event"] == "webhook.test"


def test_it_sets_up_the_status_page(server, api, alice, tmp_path):
    slug = f"acme-{alice.id}"

    async def scenario():
        app = console_for(server, alice, tmp_path)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f5")
            screen = await on_screen(pilot, "SettingsScreen")
            screen.query_one("TabbedContent").active = "status-page-tab"
            await pilot.pause()
            await type_into(pilot, "#company_name", "Acme")
            await type_into(pilot, "#slug", "Not A Slug!")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: static_text(app, "#slug-error"), message="the slug's error")
            assert "lowercase" in static_text(app, "#slug-error")
            await type_into(pilot, "#slug", slug)
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: f"/status/{slug}" in static_text(app, "#status-page-url"))
            assert static_text(app, "#slug-error") == ""

    run(scenario())
    page = api.get("/api/settings/status-page", alice).json()
    assert (page["company_name"], page["slug"]) == ("Acme", slug)
