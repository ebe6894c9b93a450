"""Export and import from the console (Settings → Export / import) against a real appliance: the
configuration goes to a file, and comes back from it with a dry run first, then a confirmed apply."""

from __future__ import annotations

import pytest
import yaml

from tests.console.helpers import idle_appliance, on_screen, run, static_text, table_text, type_into, wait_until

SIZE = (130, 40)

server = pytest.fixture(scope="module")(idle_appliance)  # no check engine needed here


async def open_transfer_tab(pilot):
    await on_screen(pilot, "DashboardScreen")
    await pilot.press("f5")
    screen = await on_screen(pilot, "SettingsScreen")
    screen.query_one("TabbedContent").active = "transfer-tab"
    await pilot.pause()
    return screen


def test_it_exports_to_a_file_and_imports_it_back_with_a_dry_run_first(console, api, alice, tmp_path, monkeypatch):
    web = api.create_monitor(alice, name="Website", type="http", target="http://127.0.0.1:9/", recovery_checks=2)
    db = api.create_monitor(alice, name="Database", type="tcp", target="127.0.0.1", port=9)
    api.post("/api/maintenance", alice, json={"name": "Patching", "monitor_ids": [db["id"]], "recurring": {
        "weekdays": ["sun"], "start": "22:30", "duration_minutes": 60, "timezone": "Europe/Berlin"}})
    path = tmp_path / "alice.yaml"
    monkeypatch.chdir(tmp_path)  # the paths typed are relative to the console's working directory

    async def export():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_transfer_tab(pilot)
            await type_into(pilot, "#export-path", "alice.yaml")
            assert screen.query_one("#export-format").value == "yaml"
            await pilot.press("ctrl+o")
            await wait_until(pilot, lambda: "Wrote" in static_text(app, "#export-status"), message="the export")
            assert str(path) in static_text(app, "#export-status")
            assert "2 monitors" in static_text(app, "#export-status")
            assert "1 maintenance window" in static_text(app, "#export-status")
            # Again to the same file: asks before overwriting; "no" leaves it alone.
            path.write_text("# mine\n")
            await pilot.press("ctrl+o")
            await on_screen(pilot, "ConfirmDialog")
            assert "Overwrite" in static_text(app, "#question")
            await pilot.press("n")
            await on_screen(pilot, "SettingsScreen")
            assert path.read_text() == "# mine\n"
            await pilot.press("ctrl+o")
            await on_screen(pilot, "ConfirmDialog")
            await pilot.press("y")
            await wait_until(pilot, lambda: path.read_text() != "# mine\n", message="the file overwritten")

    run(export())
    document = yaml.safe_load(path.read_text())
    assert [m["name"] for m in document["monitors"]] == ["Website", "Database"]
    assert document["maintenance"][0]["monitors"] == ["Database"]

    # Changes since the export: the import should bring the database back and undo the edit.
    api.delete(f"/api/monitors/{db['id']}", alice)
    api.put(f"/api/monitors/{web['id']}", alice, json={"interval": 300})

    async def import_back():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_transfer_tab(pilot)
            changes = screen.query_one("#import-changes")
            assert screen.query_one("#import-apply").disabled
            await type_into(pilot, "#import-path", "alice.yaml")
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: "Dry run of" in static_text(app, "#import-status"), message="dry run")
            report = table_text(changes)
            assert "+ create | monitor | Database" in report
            assert "~ update | monitor | Website" in report
            assert "~ update | maintenance | Patching" in report  # its monitor was deleted: back in the window
            assert "Nothing has changed yet" in static_text(app, "#import-status")
            assert [m["name"] for m in api.get("/api/monitors", alice).json()] == ["Website"]  # a dry run
            assert not screen.query_one("#import-apply").disabled
            await pilot.press("ctrl+y")
            await on_screen(pilot, "ConfirmDialog")
            assert "create 1 and update 2" in static_text(app, "#question")
            await pilot.press("y")
            await on_screen(pilot, "SettingsScreen")
            await wait_until(pilot, lambda: "Imported" in static_text(app, "#import-status"), message="the import")
            assert "+ created | monitor | Database" in table_text(changes)
            assert screen.query_one("#import-apply").disabled
            # Once more: now nothing changes.
            await pilot.press("ctrl+t")
            await wait_until(pilot, lambda: "nothing to change" in static_text(app, "#import-status"))

    run(import_back())
    monitors = {m["name"]: m for m in api.get("/api/monitors", alice).json()}
    assert set(monitors) == {"Website", "Database"}
    assert monitors["Website"]["interval"] == 60 and monitors["Website"]["recovery_checks"] == 2
    [window] = api.get("/api/maintenance", alice).json()
    assert window["monitor_ids"] == [monitors["Database"]["id"]]
    assert window["recurring"]["start"] == "22:30"


def test_it_shows_why_an_import_is_refused(console, api, alice, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "broken.yaml"
    path.write_text("monitors:\n  - name: Broken\n    type: http\n    target: ftp://example.com\n")

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            screen = await open_transfer_tab(pilot)
            await type_into(pilot, "#import-path", "missing.yaml")
            await pilot.press("enter")
            await wait_until(pilot, lambda: "Cannot read" in static_text(app, "#import-status"))
            await type_into(pilot, "#import-path", "broken.yaml")
            await pilot.press("enter")
            status = await wait_until(pilot, lambda: "refused" in static_text(app, "#import-status")
                                      and static_text(app, "#import-status"), message="the refusal")
            assert "monitors[0].target" in status and "http://" in status
            assert screen.query_one("#import-apply").disabled

    run(scenario())
    assert api.get("/api/monitors", alice).json() == []
