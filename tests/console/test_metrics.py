"""The metrics peek (F8) against a real appliance: the /metrics text for an administrator, with a
filter; users who are not administrators are not offered it."""

from __future__ import annotations

import pytest
from textual.widgets import Log

from tests.console.helpers import idle_appliance, on_screen, run, screen_name, static_text, type_into, wait_until

SIZE = (130, 40)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_shows_the_metrics_text_to_an_administrator(console, api, admin):
    api.create_monitor(admin, name="Metered", type="http", target="http://127.0.0.1:9/")

    async def scenario():
        app = console(admin)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f8")
            screen = await on_screen(pilot, "MetricsScreen")
            log = screen.query_one(Log)
            await wait_until(pilot, lambda: "samples in" in static_text(app, "#metrics-summary"), message="metrics")
            text = "\n".join(log.lines)
            assert "# TYPE statuscore_monitor_up gauge" in text and 'name="Metered"' in text
            await pilot.press("slash")
            await type_into(pilot, "#metrics-filter", "checks_total")
            await wait_until(pilot, lambda: "filter" in static_text(app, "#metrics-summary"))
            assert log.lines and all("checks_total" in line for line in log.lines)

    run(scenario())


def test_it_offers_metrics_to_administrators_only(console, alice):
    from console.commands import ConsoleCommands

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            screen = await on_screen(pilot, "DashboardScreen")
            titles = [title for title, _, _ in ConsoleCommands(screen)._commands()]
            assert "Maintenance" in titles and "Metrics" not in titles
            await pilot.press("f8")
            await pilot.pause()
            assert screen_name(app) == "DashboardScreen"

    run(scenario())
