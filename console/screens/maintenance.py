"""Maintenance windows: one-off or weekly, for a set of your monitors. During a window checks go
on, but no incident opens and no down alert is sent; the dashboard marks those monitors ⚒ maint.
The list shows which windows are on now (●); n, e and d create, edit and delete them."""

from __future__ import annotations

from datetime import datetime

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ConsoleScreen, not_available
from console.screens.confirm import ask_first
from console.screens.lists import refilling, selected_item
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar
from console.widgets.status import parse_time, short_time

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
SHOWN_NAMES = 3  # monitors named in a row; the rest are counted


def minutes_text(minutes: int | None) -> str:
    """90 -> '1 h 30 min', 60 -> '1 h', 45 -> '45 min'."""
    if not isinstance(minutes, int):
        return "?"
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")


def schedule_text(window: dict) -> str:
    """'once 2024-01-15 22:00 → 23:30 UTC' or 'weekly Mon, Sun 02:00 for 1 h (Europe/Berlin)'."""
    recurring = window.get("recurring")
    if recurring:
        days = [d for d in WEEKDAYS if d in (recurring.get("weekdays") or [])]
        when = "every day" if len(days) == 7 else ", ".join(d.capitalize() for d in days)
        return (f"weekly {when} {recurring.get('start', '?')} for {minutes_text(recurring.get('duration_minutes'))}"
                f" ({recurring.get('timezone') or 'UTC'})")
    starts, ends = short_time(window.get("starts_at")), short_time(window.get("ends_at"))
    if starts[:10] == ends[:10]:
        ends = ends[11:]
    return f"once {starts} → {ends} UTC"


def state_text(window: dict, now: datetime) -> Text:
    """● active now, ✓ ended (a one-off in the past), or ○ scheduled."""
    if window.get("active"):
        return Text("● active", style="bold green")
    ends = parse_time(window.get("ends_at"))
    if not window.get("recurring") and ends is not None and ends <= now:
        return Text("✓ ended", style="dim")
    return Text("○ scheduled", style="cyan")


def monitors_text(window: dict, names: dict[int, str]) -> str:
    shown = [names.get(i, f"#{i}") for i in window.get("monitor_ids") or []]
    if len(shown) > SHOWN_NAMES:
        return ", ".join(shown[:SHOWN_NAMES]) + f" +{len(shown) - SHOWN_NAMES} more"
    return ", ".join(shown) or "—"


class MaintenanceScreen(ConsoleScreen):
    PALETTE_GROUP = "Maintenance"
    NAV_ACTION = "maintenance"  # its key in the app's bindings: not in the footer while this screen is open
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("n", "new", "New window", tooltip="Plan a maintenance window"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected maintenance window"),
        Binding("d", "delete", "Delete", tooltip="Delete the selected maintenance window (asks first)"),
        Binding("r", "refresh", "Refresh", show=False, tooltip="Reload (it reloads by itself)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.windows: list[dict] = []
        self.loaded = False  # the windows have come (the monitors only name them)
        self.monitors: list[dict] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        with Vertical(classes="tab-body"):
            yield Static("During a window checks go on and are stored, but no incident opens and no down "
                         "alert is sent; the dashboard marks its monitors ⚒ maint.", classes="hint")
            yield Static("", markup=False, id="maintenance-notice", classes="notice")
            yield DataTable(id="windows", cursor_type="row", zebra_stripes=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#windows", DataTable).add_columns("Now", "Name", "Monitors", "Schedule")
        self.refresh_data()
        # "active" changes with time: look again now and then while this screen is on top.
        self.refresh_every(self.console_app.refresh_interval * 6)

    def refresh_data(self) -> None:
        if not self.busy("windows"):
            self.call_api("windows", self.client.list_maintenance, on_done=self.show_windows,
                          on_error=self.show_if_unavailable("#maintenance-notice",
                                                            f"Maintenance windows are {NOT_AVAILABLE}."))
        if not self.busy("monitors"):
            self.call_api("monitors", self.client.list_monitors, on_done=self.show_monitor_names)

    # ---- showing ------------------------------------------------------------------------------
    def show_windows(self, windows: list[dict]) -> None:
        self.windows = list(windows)
        self.loaded = True
        self._show()

    def show_monitor_names(self, monitors: list[dict]) -> None:
        self.monitors = list(monitors)
        self._show()

    def _show(self) -> None:
        if not self.loaded:
            return
        names = {m["id"]: m.get("name") or f"#{m['id']}" for m in self.monitors}
        now = self.console_app.clock()
        with refilling(self.query_one("#windows", DataTable)) as table:
            for window in self.windows:
                table.add_row(state_text(window, now), Text(window.get("name") or ""),
                              Text(monitors_text(window, names)), Text(schedule_text(window)),
                              key=str(window.get("id")))
        self.query_one("#maintenance-notice", Static).update(
            "" if self.windows else "No maintenance windows yet — press n to plan one.")

    # ---- actions ------------------------------------------------------------------------------
    def _selected(self) -> dict | None:
        return selected_item(self, "windows", self.windows, "Select a maintenance window first.")

    def action_new(self) -> None:
        from console.screens.maintenance_form import MaintenanceFormScreen

        self.app.push_screen(MaintenanceFormScreen(monitors=self.monitors or None), self._saved)

    def action_edit(self) -> None:
        from console.screens.maintenance_form import MaintenanceFormScreen

        window = self._selected()
        if window:
            self.app.push_screen(MaintenanceFormScreen(window, monitors=self.monitors or None), self._saved)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_edit()

    def _saved(self, window: dict | None) -> None:
        if window:
            self.refresh_data()

    def action_delete(self) -> None:
        window = self._selected()
        if window:
            ask_first(self.app, f"Delete the maintenance window “{window.get('name')}”? Its monitors alert "
                                "normally again at once.", "Delete",
                      lambda: self.call_api("deleted", _delete, self.client, window, on_done=self._deleted,
                                            on_error=self._delete_failed))

    def _deleted(self, window: dict) -> None:
        self.notify(f"Deleted the maintenance window “{window.get('name')}”.")
        self.refresh_data()

    def _delete_failed(self, error: ApiError) -> bool:
        if error.status == 404 and not not_available(error):
            self.notify("That maintenance window no longer exists.", severity="warning")
            self.refresh_data()
            return True
        return False


def _delete(client, window: dict) -> dict:
    client.delete_maintenance(window["id"])
    return window
