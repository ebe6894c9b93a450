"""Admin (users, probes, engine) and anomalies against a real appliance. (What these screens
show when a server lacks an endpoint is in test_not_available.py.)"""

from __future__ import annotations

import pytest

from tests.console.helpers import idle_appliance, on_screen, run, static_text, table_text, type_into, wait_until

SIZE = (130, 40)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_manages_users_from_the_admin_screen(console, api, admin):
    email = "carol-console@example.test"

    async def scenario():
        app = console(admin)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f6")
            screen = await on_screen(pilot, "AdminScreen")
            table = screen.query_one("#users")
            await wait_until(pilot, lambda: admin.email in table_text(table), message="the users")
            await pilot.press("n")
            await on_screen(pilot, "UserForm")
            await type_into(pilot, "#email", email)
            await type_into(pilot, "#password", "short")
            await type_into(pilot, "#full_name", "Carol")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: static_text(app, "#password-error"), message="the password's error")
            assert "8" in static_text(app, "#password-error")
            await type_into(pilot, "#password", "long-enough-1")
            app.screen.query_one("#subscription_tier").value = "pro"
            await pilot.press("ctrl+s")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: email in table_text(table), message="the new user")
            row = [line for line in table_text(table).splitlines() if email in line][0]
            assert "Carol" in row and "pro" in row
            table.move_cursor(row=[u["email"] for u in screen.users].index(email))
            await pilot.press("e")
            await on_screen(pilot, "UserForm")
            await type_into(pilot, "#full_name", "Carol C.")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "Carol C." in table_text(table), message="the edit")
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: email not in table_text(table), message="the deletion")
            # The engine tab shows the engine's figures.
            screen.query_one("TabbedContent").active = "engine-tab"
            await wait_until(pilot, lambda: "monitors scheduled" in static_text(app, "#engine"))

    run(scenario())
    assert email not in [u["email"] for u in api.get("/api/admin/users", admin).json()]


def test_it_tells_a_user_that_admin_needs_an_administrator(console, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f6")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "administrator" in static_text(app, "#admin-notice"))

    run(scenario())


def test_it_registers_a_probe_and_shows_its_token_once(console, api, admin):

    async def scenario():
        app = console(admin)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f6")
            screen = await on_screen(pilot, "AdminScreen")
            screen.query_one("TabbedContent").active = "probes-tab"
            locations = screen.query_one("#locations")
            await wait_until(pilot, lambda: "local" in table_text(locations), message="the locations")
            await pilot.press("n")
            await on_screen(pilot, "ProbeForm")
            await type_into(pilot, "#name", "eu-test")
            await type_into(pilot, "#display_name", "EU (Test)")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "ProbeTokenDialog")
            command = static_text(app, "#probe-command")
            assert "statuscore probe --server" in command and "--location eu-test" in command
            await pilot.press("escape")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "eu-test" in table_text(locations) and "eu-test" in screen.probes,
                             message="the new probe listed")
            assert "probe" in [line for line in table_text(locations).splitlines() if "eu-test" in line][0]
            locations.move_cursor(row=[loc["name"] for loc in screen.locations].index("eu-test"))
            await pilot.press("e")
            await on_screen(pilot, "ProbeRenameForm")
            await type_into(pilot, "#display_name", "EU (Renamed)")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "EU (Renamed)" in table_text(locations), message="the new name")
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "eu-test" not in screen.probes, message="the probe revoked")

    run(scenario())


def make_anomaly(server, monitor: dict) -> None:
    """Store an unacknowledged anomaly for `monitor` the way the appliance does when its detector
    finds one (driving the detector to a real spike would take minutes of checks)."""
    from appliance.insights.detector import Anomaly
    from appliance.timeutil import utcnow

    server.appliance.anomalies.record(monitor["id"], "local", Anomaly(
        kind="response_time_spike", at=utcnow(), value=850.0, baseline=120.0, severity="high",
        message="Response time 850 ms, 7.1x the usual 120 ms"))


def test_it_lists_and_acknowledges_anomalies(console, server, api, alice, peer):
    monitor = api.create_monitor(alice, name="Spiky", type="http", target=peer.url + "/")
    make_anomaly(server, monitor)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f3")
            screen = await on_screen(pilot, "AnomaliesScreen")
            table = screen.query_one("DataTable")
            await wait_until(pilot, lambda: "Spiky" in table_text(table), message="the anomaly listed")
            row = table_text(table)
            assert "response_time_spike" in row and "850.0" in row and "high" in row
            await pilot.press("k")
            await wait_until(pilot, lambda: "Spiky" not in table_text(table), message="the anomaly acknowledged")

    run(scenario())
    assert [a for a in api.get("/api/monitors/anomalies", alice).json() if a["monitor_id"] == monitor["id"]] == []
    [shown] = api.get(f"/api/monitors/{monitor['id']}/insights", alice).json()["anomalies"]
    assert shown["acknowledged"] is True
