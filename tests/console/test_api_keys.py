"""API keys from the console (Settings → API keys) against a real appliance: a new key is shown
once, works as a read-only key, and stops working when revoked."""

from __future__ import annotations

import pytest

from tests.console.helpers import idle_appliance, on_screen, run, static_text, table_text, type_into, wait_until

SIZE = (130, 40)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


def test_it_creates_a_read_key_shows_it_once_and_revokes_it(console, api, alice):
    shown = {}

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await pilot.press("f5")
            screen = await on_screen(pilot, "SettingsScreen")
            screen.query_one("TabbedContent").active = "keys-tab"
            table = screen.query_one("#keys")
            await wait_until(pilot, lambda: "No API keys yet" in static_text(app, "#keys-notice"))
            await pilot.press("n")
            await on_screen(pilot, "ApiKeyForm")
            await pilot.press("ctrl+s")  # no name: the server's message under the field
            await wait_until(pilot, lambda: static_text(app, "#name-error"), message="the name's error")
            await type_into(pilot, "#name", "ci-reader")
            assert app.screen.query_one("#scope").value == "read"  # read-only unless chosen
            await pilot.press("ctrl+s")
            await on_screen(pilot, "ApiKeyShownDialog")
            assert "Copy it now" in static_text(app, "#copy-now") and "only time" in static_text(app, "#copy-now")
            shown["key"] = static_text(app, "#secret-value").strip()
            assert shown["key"].startswith("sc_")
            await pilot.press("enter")
            await on_screen(pilot, "SettingsScreen")
            row = await wait_until(pilot, lambda: "ci-reader" in table_text(table) and table_text(table),
                                   message="the key listed")
            assert "read" in row and "never" in row
            assert shown["key"] not in row and shown["key"][:10] in row  # only its prefix, from now on

            # The key works for reading, not for writing; and the list shows when it was used.
            assert api.get("/api/monitors", shown["key"]).status_code == 200
            assert api.post("/api/monitors", shown["key"], json={"name": "x", "type": "heartbeat"}).status_code == 403
            await pilot.press("r")
            await wait_until(pilot, lambda: "never" not in table_text(table), message="the last use shown")

            # Revoke, only after the confirmation.
            await pilot.press("d")
            await on_screen(pilot, "ConfirmDialog")
            assert "ci-reader" in static_text(app, "#question")
            await pilot.press("y")
            await on_screen(pilot, "SettingsScreen")
            await wait_until(pilot, lambda: table.row_count == 0, message="the key revoked")

    run(scenario())
    assert api.get("/api/auth/keys", alice).json() == []
    assert api.get("/api/monitors", shown["key"]).status_code == 401
