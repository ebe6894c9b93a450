"""Recovery confirmation and down reminders in the monitor form and detail, against a real
appliance (check engine off: only the configuration is tested here)."""

from __future__ import annotations

import re

import pytest

from tests.console.helpers import idle_appliance, on_screen, run, static_text, type_into, wait_until

SIZE = (130, 50)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_sets_recovery_checks_and_reminders_in_the_form_and_shows_them(console, api, alice):
    def saved() -> dict:
        [monitor] = api.get("/api/monitors", alice).json()
        return monitor

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("n")
            form = await on_screen(pilot, "MonitorFormScreen")
            assert form.query_one("#recovery_checks").value == "1"
            assert form.query_one("#reminder_minutes").value == ""
            await type_into(pilot, "#name", "Shop")
            form.query_one("#type").value = "http"
            form.query_one("#target").value = "http://127.0.0.1:9/"
            await type_into(pilot, "#recovery_checks", "3")
            await type_into(pilot, "#reminder_minutes", "2")
            await pilot.press("ctrl+s")
            error = await wait_until(pilot, lambda: static_text(app, "#reminder_minutes-error"),
                                     message="the reminder's error")
            assert "5" in error
            assert app.focused is form.query_one("#reminder_minutes")
            await type_into(pilot, "#reminder_minutes", "15")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: app.screen.query_one("StatusTable").row_count == 1)
            assert (saved()["recovery_checks"], saved()["reminder_minutes"]) == (3, 15)

            await pilot.press("enter")
            await on_screen(pilot, "MonitorDetailScreen")
            facts = await wait_until(pilot, lambda: "Recovery" in static_text(app, "#facts")
                                     and static_text(app, "#facts"), message="the facts")
            assert "up after 3 successes in a row" in facts
            assert "every 15 min while down" in facts

            # Edit: reminders off (blank), recovery after one success again.
            await pilot.press("e")
            form = await on_screen(pilot, "MonitorFormScreen")
            assert (form.query_one("#recovery_checks").value, form.query_one("#reminder_minutes").value) == ("3", "15")
            await type_into(pilot, "#reminder_minutes", "")
            await type_into(pilot, "#recovery_checks", "1")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MonitorDetailScreen")
            facts = await wait_until(pilot, lambda: re.search(r"Reminders +off", static_text(app, "#facts"))
                                     and static_text(app, "#facts"), message="reminders off")
            assert "up after 1 success in a row" in facts

    run(scenario())
    assert (saved()["recovery_checks"], saved()["reminder_minutes"]) == (1, None)
