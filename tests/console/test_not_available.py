"""Screens for features a server lacks (an older appliance answers the generic 404 "Not found."):
they say "not available on this server" instead of failing. Rendering only, so a fake client."""

from __future__ import annotations

from console.app import make_console
from console.client import ApiError
from console.screens.base import not_available
from tests.console.fake_client import NOW, FakeClient
from tests.console.helpers import on_screen, run, static_text, wait_until

NO_ROUTE = ApiError(404, "Not found.")


class OlderServer(FakeClient):
    def _missing(self, *args, **kwargs):
        raise NO_ROUTE

    anomalies = list_webhooks = list_locations = list_probes = whois = get_status_page = _missing
    list_maintenance = list_api_keys = import_text = metrics = _missing


def test_it_tells_a_missing_route_from_a_missing_object():
    assert not_available(NO_ROUTE)
    assert not not_available(ApiError(404, "monitor not found"))
    assert not not_available(ApiError(404, "No WHOIS data for example.invalid."))


def test_it_says_which_features_this_server_lacks():
    async def scenario():
        app = make_console(client=OlderServer(), clock=lambda: NOW, refresh_interval=3600,
                           token_file="/nonexistent/token")
        async with app.run_test(size=(120, 36)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f3")
            await on_screen(pilot, "AnomaliesScreen")
            await wait_until(pilot, lambda: "Anomalies are not available on this server"
                             in static_text(app, "#anomalies-notice"))
            await pilot.press("f5")
            await on_screen(pilot, "SettingsScreen")
            await wait_until(pilot, lambda: "Webhooks are not available on this server"
                             in static_text(app, "#webhooks-notice"))
            await wait_until(pilot, lambda: "API keys are not available on this server"
                             in static_text(app, "#keys-notice"))
            screen = app.screen
            screen.query_one("TabbedContent").active = "transfer-tab"
            screen.query_one("#import-path").value = __file__
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: "Import is not available on this server"
                             in static_text(app, "#import-status"))
            await pilot.press("f7")
            await on_screen(pilot, "MaintenanceScreen")
            await wait_until(pilot, lambda: "Maintenance windows are not available on this server"
                             in static_text(app, "#maintenance-notice"))
            await pilot.press("f8")
            await on_screen(pilot, "MetricsScreen")
            await wait_until(pilot, lambda: "Metrics are not available on this server"
                             in static_text(app, "#metrics-summary"))
            await pilot.press("f6")
            await on_screen(pilot, "AdminScreen")
            await wait_until(pilot, lambda: "not available on this server" in static_text(app, "#probes-notice"))
            await pilot.press("f4")
            screen = await on_screen(pilot, "ToolsScreen")
            screen.query_one("#whois-target").value = "example.com"
            await pilot.press("alt+w")
            await wait_until(pilot, lambda: "WHOIS is not available on this server"
                             in static_text(app, "#whois-result"))

    run(scenario())


class OddServer(FakeClient):
    def list_monitors(self):
        return [{"unexpected": "shape"}]


def test_it_reports_an_answer_it_does_not_understand_without_crashing():
    async def scenario():
        app = make_console(client=OddServer(), clock=lambda: NOW, refresh_interval=3600,
                           token_file="/nonexistent/token")
        async with app.run_test(size=(120, 36)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: any("not understood" in str(n.message) for n in app._notifications))
            await pilot.press("f6")  # still working
            await on_screen(pilot, "AdminScreen")

    run(scenario())
