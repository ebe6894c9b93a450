"""Snapshot tests of the main screens (pytest-textual-snapshot). They test rendering only, so the
app gets the in-memory FakeClient with fixed data and a fixed clock: the pictures never change
unless the screens do. Update them with `pytest tests/console/test_snapshots.py --snapshot-update`
after looking at the new SVGs (tests/console/__snapshots__/)."""

from __future__ import annotations

from console.app import make_console
from tests.console.fake_client import NOW, FakeClient
from tests.console.helpers import on_screen, static_text, wait_until

SIZE = (130, 38)


def console(token: str | None = "fake-token"):
    return make_console(client=FakeClient(token=token), clock=lambda: NOW, refresh_interval=3600,
                        token_file="/nonexistent/statuscore-token")


async def dashboard(pilot):
    screen = await on_screen(pilot, "DashboardScreen")
    await wait_until(pilot, lambda: screen.query_one("StatusTable").row_count == 6)
    await pilot.pause()


def test_it_renders_the_login_screen(snap_compare):
    async def ready(pilot):
        await on_screen(pilot, "LoginScreen")
        pilot.app.screen.query_one("#email").value = "admin@example.com"
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(console(token=None), terminal_size=SIZE, run_before=ready)


def test_it_renders_the_dashboard(snap_compare):
    assert snap_compare(console(), terminal_size=SIZE, run_before=dashboard)


def test_it_renders_the_dashboard_filtered(snap_compare):
    async def filtered(pilot):
        await dashboard(pilot)
        await pilot.press("slash", *"https")
        await wait_until(pilot, lambda: pilot.app.screen.query_one("StatusTable").row_count == 2)
        await pilot.press("enter")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=filtered)


async def website_detail(pilot):
    await dashboard(pilot)
    table = pilot.app.screen.query_one("StatusTable")
    table.select_id(1)
    await pilot.press("enter")
    screen = await on_screen(pilot, "MonitorDetailScreen")
    await wait_until(pilot, lambda: screen.query_one("ResponseChart").points)
    await wait_until(pilot, lambda: screen.query_one("#incidents").row_count == 1)
    await wait_until(pilot, lambda: "p50" in static_text(pilot.app, "#figures"))
    await pilot.pause()


def test_it_renders_the_monitor_detail_of_a_website(snap_compare):
    assert snap_compare(console(), terminal_size=(130, 44), run_before=website_detail)


def test_it_renders_the_monitor_detail_at_80_columns(snap_compare):
    # Long values wrap under their value, not under the label.
    assert snap_compare(console(), terminal_size=(80, 24), run_before=website_detail)


def test_it_renders_validation_errors_next_to_the_fields(snap_compare):
    async def form(pilot):
        await dashboard(pilot)
        await pilot.press("n")
        screen = await on_screen(pilot, "MonitorFormScreen")
        screen.query_one("#name").value = "Shop"
        screen.query_one("#target").value = "shop.example.com"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: str(screen.query_one("#target-error").render()))
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=(130, 50), run_before=form)


def test_it_renders_the_anomalies(snap_compare):
    async def anomalies(pilot):
        await dashboard(pilot)
        await pilot.press("f3")
        screen = await on_screen(pilot, "AnomaliesScreen")
        await wait_until(pilot, lambda: screen.query_one("DataTable").row_count == 2)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=anomalies)


def test_it_renders_the_webhook_settings(snap_compare):
    async def settings(pilot):
        await dashboard(pilot)
        await pilot.press("f5")
        screen = await on_screen(pilot, "SettingsScreen")
        await wait_until(pilot, lambda: screen.query_one("#webhooks").row_count == 2)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=settings)


def test_it_renders_the_admin_users(snap_compare):
    async def admin(pilot):
        await dashboard(pilot)
        await pilot.press("f6")
        screen = await on_screen(pilot, "AdminScreen")
        await wait_until(pilot, lambda: screen.query_one("#users").row_count == 3)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=admin)


def test_it_renders_a_whois_answer(snap_compare):
    async def tools(pilot):
        await dashboard(pilot)
        await pilot.press("f4")
        screen = await on_screen(pilot, "ToolsScreen")
        screen.query_one("#whois-target").value = "example.com"
        await pilot.press("alt+w")
        await wait_until(pilot, lambda: "Registrar" in str(screen.query_one("#whois-result").render()))
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=tools)


def test_it_renders_the_maintenance_windows(snap_compare):
    async def maintenance(pilot):
        await dashboard(pilot)
        await pilot.press("f7")
        screen = await on_screen(pilot, "MaintenanceScreen")
        await wait_until(pilot, lambda: screen.query_one("#windows").row_count == 3)
        await wait_until(pilot, lambda: "Production API" in str(screen.query_one("#windows").get_row_at(1)[2]))
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=maintenance)


def test_it_renders_a_weekly_maintenance_window_with_the_servers_error(snap_compare):
    async def form(pilot):
        await dashboard(pilot)
        await pilot.press("f7")
        screen = await on_screen(pilot, "MaintenanceScreen")
        await wait_until(pilot, lambda: screen.query_one("#windows").row_count == 3)
        screen.query_one("#windows").move_cursor(row=1)
        await pilot.press("e")
        form = await on_screen(pilot, "MaintenanceFormScreen")
        await wait_until(pilot, lambda: form.query_one("#monitor_ids").option_count == 6)
        form.query_one("#timezone").value = "Mars/Base"
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: str(form.query_one("#timezone-error").render()))
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=(130, 50), run_before=form)


async def settings_tab(pilot, tab: str):
    await dashboard(pilot)
    await pilot.press("f5")
    screen = await on_screen(pilot, "SettingsScreen")
    screen.query_one("TabbedContent").active = tab
    await pilot.pause()
    return screen


def test_it_renders_the_api_keys(snap_compare):
    async def keys(pilot):
        screen = await settings_tab(pilot, "keys-tab")
        await wait_until(pilot, lambda: screen.query_one("#keys").row_count == 2)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=keys)


def test_it_renders_a_new_api_key_shown_once(snap_compare):
    async def shown(pilot):
        await settings_tab(pilot, "keys-tab")
        await pilot.press("n")
        form = await on_screen(pilot, "ApiKeyForm")
        form.query_one("#name").value = "ci"
        await pilot.press("ctrl+s")
        await on_screen(pilot, "ApiKeyShownDialog")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=shown)


# A fixed path: the dry run names its file, and the picture must not change from run to run.
IMPORT_FILE = "/tmp/statuscore-console-snapshot/import.yaml"


def test_it_renders_an_import_dry_run(snap_compare):
    from pathlib import Path

    Path(IMPORT_FILE).parent.mkdir(parents=True, exist_ok=True)
    Path(IMPORT_FILE).write_text("monitors: []\n")

    async def dry_run(pilot):
        screen = await settings_tab(pilot, "transfer-tab")
        screen.query_one("#import-path").value = IMPORT_FILE
        await pilot.press("ctrl+t")
        await wait_until(pilot, lambda: screen.query_one("#import-changes").row_count == 6)
        pilot.app.set_focus(None)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=dry_run)


def test_it_renders_the_metrics(snap_compare):
    async def metrics(pilot):
        await dashboard(pilot)
        await pilot.press("f8")
        screen = await on_screen(pilot, "MetricsScreen")
        await wait_until(pilot, lambda: "samples" in str(screen.query_one("#metrics-summary").render()))
        await wait_until(pilot, lambda: len(screen.query_one("Log").lines) > 10)
        await pilot.pause()

    assert snap_compare(console(), terminal_size=SIZE, run_before=metrics)


def test_it_renders_the_dashboard_at_80_columns(snap_compare):
    assert snap_compare(console(), terminal_size=(80, 24), run_before=dashboard)


def test_it_renders_the_help_screen(snap_compare):
    async def help_screen(pilot):
        await dashboard(pilot)
        await pilot.press("question_mark")
        await on_screen(pilot, "HelpScreen")
        await pilot.pause()

    assert snap_compare(console(), terminal_size=(110, 50), run_before=help_screen)
