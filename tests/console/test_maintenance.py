"""Maintenance windows from the console against a real appliance (check engine off: a window's
effect on a monitor, in_maintenance, does not need check results)."""

from __future__ import annotations

import pytest

from console.commands import ConsoleCommands
from console.widgets import StatusTable
from tests.console.helpers import (idle_appliance, on_screen, run, screen_name, static_text, table_text, type_into,
                                   wait_until)

SIZE = (130, 44)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def windows_of(api, user) -> list[dict]:
    return api.get("/api/maintenance", user).json()


def dashboard_row(app, name: str) -> str:
    table = app.screen.query_one(StatusTable)
    return next((line for line in table_text(table).splitlines() if f" | {name}" in line), "")


def test_it_creates_edits_and_deletes_a_window_and_the_dashboard_marks_its_monitor(console, api, alice):
    db = api.create_monitor(alice, name="Database", type="tcp", target="127.0.0.1", port=9)
    api.create_monitor(alice, name="Website", type="http", target="http://127.0.0.1:9/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f7")
            screen = await on_screen(pilot, "MaintenanceScreen")
            table = screen.query_one("#windows")
            await wait_until(pilot, lambda: "No maintenance windows yet" in static_text(app, "#maintenance-notice"))

            # New: one-off from now for an hour (the form's default range), for the database only.
            await pilot.press("n")
            form = await on_screen(pilot, "MaintenanceFormScreen")
            listing = form.query_one("#monitor_ids")
            await wait_until(pilot, lambda: listing.option_count == 2, message="the monitors to choose from")
            await type_into(pilot, "#name", "DB upgrade")
            listing.focus()
            listing.highlighted = [m["id"] for m in form.monitors].index(db["id"])
            await pilot.press("space")
            assert listing.selected == [db["id"]]
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MaintenanceScreen")
            row = await wait_until(pilot, lambda: "DB upgrade" in table_text(table) and table_text(table),
                                   message="the new window listed")
            assert "● active" in row and "Database" in row and "Website" not in row and "once" in row

            # The dashboard marks the database (and only it) as in maintenance.
            await pilot.press("f2")
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: "⚒ maint" in dashboard_row(app, "Database"), message="the marker")
            assert "⚒" not in dashboard_row(app, "Website")
            assert "1 in maintenance" in static_text(app, "#summary")

            # Edit: weekly; a time zone the server does not know is explained under its field.
            await pilot.press("f7")
            screen = await on_screen(pilot, "MaintenanceScreen")
            table = screen.query_one("#windows")
            await wait_until(pilot, lambda: table.row_count == 1)
            await pilot.press("e")
            form = await on_screen(pilot, "MaintenanceFormScreen")
            assert form.query_one("#name").value == "DB upgrade"
            form.query_one("#kind-weekly").value = True
            await wait_until(pilot, lambda: form.query_one("#group-kind-weekly").display)
            assert not form.query_one("#group-kind-once").display
            form.query_one("#day-sat").focus()
            await pilot.press("space")
            form.query_one("#day-sun").value = True
            await type_into(pilot, "#start", "03:30")
            await type_into(pilot, "#duration_minutes", "90")
            await type_into(pilot, "#timezone", "Mars/Base")
            await pilot.press("ctrl+s")
            error = await wait_until(pilot, lambda: static_text(app, "#timezone-error"), message="the zone's error")
            assert "time zone" in error
            assert screen_name(app) == "MaintenanceFormScreen"
            await type_into(pilot, "#timezone", "Europe/Berlin")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MaintenanceScreen")
            await wait_until(pilot, lambda: "weekly" in table_text(table), message="the edited window")
            assert "weekly Sat, Sun 03:30 for 1 h 30 min (Europe/Berlin)" in table_text(table)

            # Delete: nothing without the confirmation.
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            assert "DB upgrade" in static_text(app, "#question")
            await pilot.press("n")
            await on_screen(pilot, "MaintenanceScreen")
            assert len(windows_of(api, alice)) == 1
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await on_screen(pilot, "MaintenanceScreen")
            await wait_until(pilot, lambda: table.row_count == 0, message="the window deleted")

    run(scenario())
    assert windows_of(api, alice) == []
    assert api.get(f"/api/monitors/{db['id']}", alice).json()["in_maintenance"] is False


def test_it_shows_the_servers_validation_next_to_the_fields(console, api, alice):
    api.create_monitor(alice, name="Website", type="http", target="http://127.0.0.1:9/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f7")
            await on_screen(pilot, "MaintenanceScreen")
            await pilot.press("n")
            form = await on_screen(pilot, "MaintenanceFormScreen")
            await wait_until(pilot, lambda: form.query_one("#monitor_ids").option_count == 1)
            await type_into(pilot, "#name", "Backwards")
            form.query_one("#starts_at").value = "2030-01-02T10:00:00Z"
            await type_into(pilot, "#ends_at", "2030-01-01 10:00")  # no offset: taken as UTC
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: static_text(app, "#monitor_ids-error"), message="the monitors' error")
            assert "at least 1" in static_text(app, "#monitor_ids-error")
            form.query_one("#monitor_ids").select_all()
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "after" in static_text(app, "#ends_at-error"), message="the end's error")
            assert static_text(app, "#monitor_ids-error") == ""
            assert "Invalid maintenance window" in static_text(app, "#form-error")
            await type_into(pilot, "#ends_at", "2030-01-02 12:00")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MaintenanceScreen")
            await wait_until(pilot, lambda: "Backwards" in table_text(app.screen.query_one("#windows")))
            assert "○ scheduled" in table_text(app.screen.query_one("#windows"))

    run(scenario())
    [window] = windows_of(api, alice)
    assert (window["starts_at"], window["ends_at"]) == ("2030-01-02T10:00:00Z", "2030-01-02T12:00:00Z")


def test_it_opens_maintenance_from_the_command_palette(console, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: screen_name(app) == "CommandPalette")
            await pilot.press(*"maintenance")
            await pilot.pause(0.3)
            await pilot.press("enter")
            screen = await on_screen(pilot, "MaintenanceScreen")
            titles = [title for title, _, _ in ConsoleCommands(screen)._commands()]
            for action in ("New window", "Edit", "Delete", "Refresh"):
                assert f"Maintenance: {action}" in titles

    run(scenario())
