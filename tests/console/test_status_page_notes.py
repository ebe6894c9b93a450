"""What the owner tells status page visitors, written from the console against a real appliance
(check engine off; the incident is recorded in the store as the engine would): an update on a
monitor's incident (`u` on its detail screen) and a maintenance window's notice (its form)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from appliance.storage.entities import Transition
from console.app import make_console
from console.screens.incident_update import IncidentUpdateForm
from tests.console.fake_client import NOW, FakeClient
from tests.console.helpers import idle_appliance, on_screen, run, static_text, type_into, wait_until

SIZE = (130, 44)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_posts_an_update_on_the_highlighted_incident(console, server, api, alice, bob):
    monitor = api.create_monitor(alice, name="Payments", type="http", target="http://127.0.0.1:9/")
    api.patch(f"/api/monitors/{monitor['id']}/public", alice, json={"public_status": True})
    entities = server.appliance.entities
    entities.record_transition(Transition(monitor["id"], "pending", "down",
                                          datetime.now(timezone.utc) - timedelta(minutes=20), "refused"))
    incident_id = entities.incidents([monitor["id"]], limit=1)[0].id

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: app.screen.query_one("StatusTable").row_count == 1)
            await pilot.press("enter")
            detail = await on_screen(pilot, "MonitorDetailScreen")
            await wait_until(pilot, lambda: detail.query_one("#incidents").row_count == 1, message="the incident")

            await pilot.press("u")
            form = await on_screen(pilot, "IncidentUpdateForm")
            await pilot.press("ctrl+s")  # an empty message: the server's words under the field
            error = await wait_until(pilot, lambda: static_text(app, "#message-error"), message="the message's error")
            assert error.startswith("✖") and "message" in static_text(app, "#update-error")
            form.query_one("#status").value = "identified"
            await type_into(pilot, "#message", "The card processor is down; we switched to the backup.")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MonitorDetailScreen")

    run(scenario())
    updates = api.get(f"/api/incidents/{incident_id}/updates", alice).json()
    assert [(u["status"], u["message"]) for u in updates] == [
        ("identified", "The card processor is down; we switched to the backup.")]
    assert api.get(f"/api/incidents/{incident_id}/updates", bob).status_code == 404


def test_it_says_so_when_there_is_no_incident(console, api, alice):
    api.create_monitor(alice, name="Quiet", type="http", target="http://127.0.0.1:9/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: app.screen.query_one("StatusTable").row_count == 1)
            await pilot.press("enter")
            await on_screen(pilot, "MonitorDetailScreen")
            await pilot.press("u")
            await pilot.pause()
            assert app.screen.__class__.__name__ == "MonitorDetailScreen"  # no form without an incident

    run(scenario())


def test_it_announces_a_maintenance_window_with_a_notice(console, api, alice):
    db = api.create_monitor(alice, name="Database", type="tcp", target="127.0.0.1", port=9)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f7")
            await on_screen(pilot, "MaintenanceScreen")
            await pilot.press("n")
            form = await on_screen(pilot, "MaintenanceFormScreen")
            listing = form.query_one("#monitor_ids")
            await wait_until(pilot, lambda: listing.option_count == 1, message="the monitors to choose from")
            await type_into(pilot, "#name", "Disk swap")
            listing.focus()
            listing.highlighted = 0
            await pilot.press("space")
            assert listing.selected == [db["id"]]
            await type_into(pilot, "#notice", "Writes pause for up to 10 minutes.")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "MaintenanceScreen")  # saved

            # Editing shows it, and blanking it withdraws the announcement.
            await wait_until(pilot, lambda: app.screen.query_one("#windows").row_count == 1)
            await pilot.press("e")
            form = await on_screen(pilot, "MaintenanceFormScreen")
            assert form.query_one("#notice").value == "Writes pause for up to 10 minutes."
            await pilot.press("escape")
            await on_screen(pilot, "MaintenanceScreen")

    run(scenario())
    [window] = api.get("/api/maintenance", alice).json()
    assert (window["name"], window["monitor_ids"], window["notice"]) == (
        "Disk swap", [db["id"]], "Writes pause for up to 10 minutes.")


def test_the_update_form_shows_the_servers_problem_and_posts_the_chosen_status():
    """The form alone, over the fake client (no server): the status select and message reach the call."""
    client = FakeClient()
    app = make_console(client=client, clock=lambda: NOW, refresh_interval=3600)

    async def scenario():
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            answers = []
            app.push_screen(IncidentUpdateForm(7, "the incident of 10:30"), answers.append)
            form = await on_screen(pilot, "IncidentUpdateForm")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "must not be empty" in static_text(app, "#message-error"))
            form.query_one("#status").value = "monitoring"
            await type_into(pilot, "#message", "Watching the fix.")
            await pilot.press("enter")
            await wait_until(pilot, lambda: answers, message="the form closed")
            assert answers[0]["status"] == "monitoring"

    run(scenario())
    assert [(u["incident_id"], u["status"], u["message"]) for u in client.updates] == [(7, "monitoring", "Watching the fix.")]
