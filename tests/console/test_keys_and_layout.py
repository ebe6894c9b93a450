"""What fits on the screen (issue #18): the monitor list at 80 columns, a footer that is never
cut and always offers ? Help, the help screen built from the bindings, and the palette's
Screenshot when there is no ~/Downloads."""

from __future__ import annotations

from pathlib import Path

from console.app import StatusCoreConsole
from console.commands import bindings_of
from console.screens.dashboard import DashboardScreen
from console.widgets import ConsoleFooter, StatusTable
from console.widgets.status import MAINTENANCE_LOOK, STATUS_LOOK
from tests.console.helpers import on_screen, run, screen_name, screen_text, wait_until
from tests.console.test_monitor_detail import open_detail
from tests.console.test_monitors import row_of


def lines_with(app, *words: str) -> list[str]:
    return [line for line in screen_text(app).splitlines() if all(word in line for word in words)]


def test_the_monitor_list_fits_80_columns_without_losing_the_status(console, api, alice, peer):
    api.create_monitor(alice, name="Storefront with a long name", type="http",
                       target=peer.url + "/a/rather/long/path/to/the/health/check", interval=10)
    api.create_monitor(alice, name="Paused one", type="tcp", target="127.0.0.1", port=peer.port, is_active=False)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=(80, 24)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: "▲ up" in row_of(app, "Storefront"), timeout=30, message="up")
            await wait_until(pilot, lambda: lines_with(app, "▲ up", "ms", "%", "ago"), message="the row drawn")
            [header] = lines_with(app, "Status", "Name")
            for label in ("Resp.", "Up 24h", "Checked"):
                assert label in header, header
            [row] = lines_with(app, "▲ up", "Storefront")
            assert "ms" in row and "100.00 %" in row and "ago" in row, row
            assert "…" in row  # the long name or target is cut with an ellipsis, not off the edge
            assert lines_with(app, "❚❚ paused", "Paused one")
            assert all(len(line.rstrip()) <= 80 for line in screen_text(app).splitlines())

            await pilot.resize_terminal(150, 40)  # wide: every column, full headers
            await wait_until(pilot, lambda: "locations" in app.screen.query_one(StatusTable).widths,
                             message="every column")
            await pilot.pause()
            [header] = lines_with(app, "Status", "Name")
            for label in ("Type", "Target", "Response", "Uptime 24h", "Locations", "Last check"):
                assert label in header, header

    run(scenario())


def footer_keys(app) -> list[str]:
    footer = app.screen.query_one(ConsoleFooter)
    return [f"{key.key_display} {key.description}" for key in footer.query("FooterKey")]


def test_the_footer_is_never_cut_and_always_offers_help(console, admin):
    async def scenario():
        app = console(admin)
        async with app.run_test(size=(80, 24)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: footer_keys(app), message="the footer")
            footer_line = screen_text(app).splitlines()[-1]
            assert footer_line.rstrip().endswith("? Help"), footer_line
            for shown in footer_keys(app):  # whole, each of them
                assert shown in footer_line, (shown, footer_line)
            assert "n New" in footer_line and "/ Filter" in footer_line

            await pilot.resize_terminal(160, 40)
            await wait_until(pilot, lambda: "f9 Change password" in footer_keys(app), message="a wider footer")
            await pilot.pause()
            footer_line = screen_text(app).splitlines()[-1]
            for shown in ("f8 Metrics", "f9 Change password", "f3 Anomalies", "? Help"):
                assert shown in footer_line, footer_line
            assert "f2 Dashboard" not in footer_line  # no key for the screen you are on

    run(scenario())


def help_text(app) -> str:
    """The help as the terminal shows it (the tests' terminal is tall enough for all of it)."""
    return screen_text(app)


def test_the_help_screen_lists_every_key_of_the_screen_and_the_symbols(console, api, alice, peer):
    api.create_monitor(alice, name="Helped", type="http", target=peer.url + "/")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=(120, 70)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("question_mark")
            await on_screen(pilot, "HelpScreen")
            text = help_text(app)
            for binding in list(bindings_of(DashboardScreen())) + list(bindings_of(app)):
                assert binding.description in text, binding
            for key in ("n ", "/ ", "f9", "^p", "? / f1", "tab"):
                assert key in text, key
            for symbol, label, _style in [*STATUS_LOOK.values(), MAINTENANCE_LOOK]:
                assert f"{symbol} {label}" in text
            assert "◉" in text and "░" in text
            await pilot.press("escape")
            await on_screen(pilot, "DashboardScreen")

            # On the detail screen: its own keys, the hidden ones too (d, r).
            await open_detail(pilot, app, "Helped")
            await pilot.press("f1")
            await on_screen(pilot, "HelpScreen")
            text = help_text(app).split("Everywhere")[0]
            for description in ("Back", "Edit", "Delete", "Pause/Resume", "Public", "Hours", "MTR", "Refresh"):
                assert description in text, description
            await pilot.press("question_mark")
            await on_screen(pilot, "MonitorDetailScreen")

            # ? typed in a field is a question mark, not the help.
            await pilot.press("escape")
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("slash", *"why?")
            assert screen_name(app) == "DashboardScreen"
            assert app.screen.query_one("#filter").value == "why?"

    run(scenario())


def test_the_palettes_screenshot_goes_to_a_folder_that_exists(console, alice, tmp_path, monkeypatch):
    home = tmp_path / "home"  # a server account: no Downloads folder
    home.mkdir()
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("XDG_DOWNLOAD_DIR", raising=False)
    monkeypatch.chdir(here)

    def notes(app) -> list[str]:
        return [note.message for note in app._notifications]

    async def scenario():
        app = console(alice)
        async with app.run_test(size=(120, 40)) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("ctrl+p")
            await wait_until(pilot, lambda: screen_name(app) == "CommandPalette")
            await pilot.press(*"screenshot")
            await pilot.pause(0.3)
            await pilot.press("enter")
            saved = await wait_until(pilot, lambda: [n for n in notes(app) if "Screenshot saved to" in n],
                                     message="the screenshot's notice")
            assert not [n for n in notes(app) if "Could not" in n or "Failed" in n]
            return saved[0]

    notice = run(scenario())
    [svg] = list(here.glob("*.svg"))
    assert str(svg) in notice
    assert "<svg" in svg.read_text()[:500]
    assert not (home / "Downloads").exists()
    assert issubclass(StatusCoreConsole, object) and Path.cwd() == here
