"""The dashboard and the monitor screens against a real appliance checking a local HTTP peer."""

from __future__ import annotations

from console.widgets import ResponseChart, StatusTable
from tests.console.helpers import on_screen, run, screen_name, static_text, table_text, type_into, wait_until

SIZE = (140, 44)


def row_of(app, name: str) -> str:
    table = app.screen.query_one(StatusTable)
    for line in table_text(table).splitlines():
        if f"| {name} " in line or f"| {name} |" in line or line.split(" | ")[1].startswith(name):
            return line
    return ""


def monitors_of(api, user) -> list[dict]:
    return api.get("/api/monitors", user).json()


async def new_monitor_form(pilot, app, name: str, kind: str, target: str) -> None:
    """From the dashboard: the new-monitor form, with a name, type and target typed in."""
    await on_screen(pilot, "DashboardScreen")
    await pilot.press("n")
    await on_screen(pilot, "MonitorFormScreen")
    await type_into(pilot, "#name", name)
    app.screen.query_one("#type").value = kind
    await type_into(pilot, "#target", target)


def test_it_creates_a_monitor_through_the_form_and_shows_its_status(console, api, alice, peer):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await new_monitor_form(pilot, app, "Peer site", "http", peer.url + "/")
            await type_into(pilot, "#interval", "30")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "DashboardScreen")
            row = await wait_until(pilot, lambda: "▲ up" in row_of(app, "Peer site") and row_of(app, "Peer site"),
                                   message="the new monitor shown up")
            assert "http" in row and peer.url in row and "100.00 %" in row and "local ▲" in row

    run(scenario())
    [monitor] = monitors_of(api, alice)
    assert (monitor["name"], monitor["type"], monitor["interval"]) == ("Peer site", "http", 30)


def test_it_shows_a_validation_error_next_to_the_field(console, api, alice):
    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await new_monitor_form(pilot, app, "Broken", "http", "ftp://example.com")
            await pilot.press("ctrl+s")
            error = await wait_until(pilot, lambda: static_text(app, "#target-error"),
                                     message="the target's error")
            assert "http://" in error
            assert app.screen.query_one("#target-error").has_class("-shown")
            assert static_text(app, "#name-error") == ""
            assert "Invalid" in static_text(app, "#form-error")
            assert app.focused is app.screen.query_one("#target")
            # A local check first: not a number never reaches the server.
            await type_into(pilot, "#interval", "soon")
            await pilot.press("ctrl+s")
            await wait_until(pilot, lambda: "whole number" in static_text(app, "#interval-error"))
            assert screen_name(app) == "MonitorFormScreen"
            await pilot.press("escape")
            await on_screen(pilot, "DashboardScreen")

    run(scenario())
    assert monitors_of(api, alice) == []


def test_it_edits_a_monitor(console, api, alice, peer):
    monitor = api.create_monitor(alice, name="Old name", type="http", target=peer.url + "/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: row_of(app, "Old name"))
            await pilot.press("e")
            await on_screen(pilot, "MonitorFormScreen")
            assert app.screen.query_one("#type").disabled  # the type cannot change
            await type_into(pilot, "#name", "New name")
            await type_into(pilot, "#keyword", "ok")
            await type_into(pilot, "#group", "Website")
            await pilot.press("ctrl+s")
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: row_of(app, "New name"), message="the new name")
            assert not row_of(app, "Old name")

    run(scenario())
    changed = api.get(f"/api/monitors/{monitor['id']}", alice).json()
    assert (changed["name"], changed["keyword"], changed["target"]) == ("New name", "ok", peer.url + "/")
    assert changed["group"] == "Website"  # the status page's section for it


def test_it_pauses_resumes_and_publishes_with_one_key_each(console, api, alice, peer):
    monitor = api.create_monitor(alice, name="Toggled", type="http", target=peer.url + "/")

    def server_side():
        return api.get(f"/api/monitors/{monitor['id']}", alice).json()

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: row_of(app, "Toggled"))
            await pilot.press("a")
            await wait_until(pilot, lambda: "❚❚ paused" in row_of(app, "Toggled"), message="paused")
            assert server_side()["is_active"] is False
            await pilot.press("a")
            await wait_until(pilot, lambda: "❚❚ paused" not in row_of(app, "Toggled"), message="resumed")
            assert server_side()["is_active"] is True
            await pilot.press("p")
            await wait_until(pilot, lambda: "◉" in row_of(app, "Toggled"), message="the public mark")
            assert server_side()["public_status"] is True
            await pilot.press("p")
            await wait_until(pilot, lambda: "◉" not in row_of(app, "Toggled"), message="no public mark")
            assert server_side()["public_status"] is False

    run(scenario())


def test_it_deletes_a_monitor_only_after_confirmation(console, api, alice, peer):
    api.create_monitor(alice, name="Doomed", type="http", target=peer.url + "/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: row_of(app, "Doomed"))
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            assert "Doomed" in static_text(app, "#question")
            await pilot.press("n")
            await on_screen(pilot, "DashboardScreen")
            assert len(monitors_of(api, alice)) == 1
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: not row_of(app, "Doomed"), message="the row gone")

    run(scenario())
    assert monitors_of(api, alice) == []


def test_it_opens_the_detail_with_a_chart_uptime_and_incidents(console, api, alice, peer):
    monitor = api.create_monitor(alice, name="Detailed", type="http", target=peer.url + "/status/500",
                                 retries=0)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: "▼ down" in row_of(app, "Detailed"), message="down")
            await pilot.press("enter")
            screen = await on_screen(pilot, "MonitorDetailScreen")
            chart = screen.query_one(ResponseChart)
            await wait_until(pilot, lambda: chart.points, message="history in the chart")
            assert chart.points[0][1] == "down"
            assert "░" in chart.render().plain  # a failed check is drawn as a red bar
            await wait_until(pilot, lambda: "Uptime 30 d" in static_text(app, "#figures"))
            assert "0 %" in static_text(app, "#figures") or "0.00 %" in static_text(app, "#figures")
            incidents = screen.query_one("#incidents")
            await wait_until(pilot, lambda: incidents.row_count == 1, message="the incident")
            assert "ongoing" in table_text(incidents) and "500" in table_text(incidents)
            assert "▼ down" in static_text(app, "#headline")
            assert "HTTP 500" in static_text(app, "#facts") or "500" in static_text(app, "#facts")
            await pilot.press("h")  # next chart range
            await wait_until(pilot, lambda: screen.hours == 72)
            await pilot.press("escape")
            await on_screen(pilot, "DashboardScreen")

    run(scenario())
    assert monitor["id"]


def test_it_filters_the_dashboard_by_typing_and_sorts(console, api, alice, peer):
    api.create_monitor(alice, name="Alpha web", type="http", target=peer.url + "/")
    api.create_monitor(alice, name="Beta db", type="tcp", target="127.0.0.1", port=peer.port)
    api.create_monitor(alice, name="Gamma web", type="http", target=peer.url + "/status/503", retries=0)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            table = app.screen.query_one(StatusTable)
            await wait_until(pilot, lambda: table.row_count == 3)
            await pilot.press("slash")
            assert app.focused is app.screen.query_one("#filter")
            await pilot.press(*"web")
            await wait_until(pilot, lambda: table.row_count == 2)
            assert "Beta db" not in table_text(table)
            assert "filter “web”: 2 shown" in static_text(app, "#summary")
            await pilot.press(*" gam")
            await wait_until(pilot, lambda: table.row_count == 1)
            await pilot.press("escape")  # clears the filter, back to the table
            await wait_until(pilot, lambda: table.row_count == 3)
            assert app.focused is table
            # Sort by name with a click on its header, then reversed with a second click.
            await wait_until(pilot, lambda: "▼ down" in row_of(app, "Gamma web"))
            assert [m["name"] for m in table.shown][0] == "Gamma web"  # by status: down first
            await pilot.click(StatusTable, offset=(15, 0))
            await wait_until(pilot, lambda: table.sort_key == "name")
            assert [m["name"] for m in table.shown] == ["Alpha web", "Beta db", "Gamma web"]
            assert "sorted by name" in static_text(app, "#summary")
            await pilot.click(StatusTable, offset=(15, 0))
            await wait_until(pilot, lambda: table.sort_reverse)
            assert [m["name"] for m in table.shown] == ["Gamma web", "Beta db", "Alpha web"]
            await pilot.press("s")  # s: the next column
            assert table.sort_key == "type"
            assert "sorted by type" in static_text(app, "#summary")

    run(scenario())


def test_it_offers_every_action_in_the_command_palette(console, alice):
    from console.commands import ConsoleCommands

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            screen = await on_screen(pilot, "DashboardScreen")
            provider = ConsoleCommands(screen)
            titles = [title for title, _, _ in provider._commands()]
            for action in ("New", "Edit", "Delete", "Pause/Resume", "Public", "Sort", "Filter", "Refresh", "Open"):
                assert f"Monitors: {action}" in titles
            for action in ("Dashboard", "Anomalies", "Tools", "Settings", "Admin", "Change password", "Log out"):
                assert action in titles
            # And through the palette itself: ctrl+p, type, enter.
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: screen_name(app) == "CommandPalette")
            await pilot.press(*"monitors new")
            await pilot.pause(0.3)
            await pilot.press("enter")
            await on_screen(pilot, "MonitorFormScreen")

    run(scenario())


def test_it_shows_the_plan_limit_when_the_server_refuses_one_more(console, api, bob):
    for n in range(50):  # a free user's limit (STATUSCORE_FREE_MAX_MONITORS)
        api.create_monitor(bob, name=f"m{n}", type="tcp", target="127.0.0.1", port=9, is_active=False)

    async def scenario():
        app = console(bob)
        async with app.run_test(size=SIZE) as pilot:
            await new_monitor_form(pilot, app, "One too many", "http", "http://127.0.0.1:9/")
            await pilot.press("ctrl+s")
            error = await wait_until(pilot, lambda: static_text(app, "#form-error"), message="the server's refusal")
            assert "free plan's limit of 50 monitors" in error and "STATUSCORE_FREE_MAX_MONITORS" in error
            assert screen_name(app) == "MonitorFormScreen"

    run(scenario())
    assert len(monitors_of(api, bob)) == 50
