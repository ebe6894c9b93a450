"""The dashboard: every monitor with its live status, refreshed every few seconds, sortable
(s, or click a header) and filtered as you type (/)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Input, Static

from console.client import ApiError
from console.screens.base import ConsoleScreen
from console.screens.confirm import ask_first
from console.widgets import ConsoleFooter, ConnectionBanner, StatusTable, TitleBar
from console.widgets.status import COLUMNS, MAINTENANCE_LOOK, STATUS_LOOK


class DashboardScreen(ConsoleScreen):
    PALETTE_GROUP = "Monitors"
    NAV_ACTION = "dashboard"  # its key in the app's bindings: not in the footer while this screen is open
    # the table, not the first focusable widget (the filter): else the footer is first laid out
    # for typing in the filter ("f1 Help", as "?" would type) and shows that for a frame or two
    AUTO_FOCUS = "StatusTable"
    BINDINGS = [
        Binding("enter", "open", "Open", tooltip="Open the selected monitor's details"),
        Binding("n", "new", "New", tooltip="Create a monitor"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected monitor"),
        Binding("d", "delete", "Delete", tooltip="Delete the selected monitor (asks first)"),
        Binding("a", "toggle_active", "Pause/Resume", tooltip="Pause or resume checking the selected monitor"),
        Binding("p", "toggle_public", "Public", tooltip="Show or hide the selected monitor on the status page"),
        Binding("s", "sort", "Sort", show=False, tooltip="Sort by the next column (or click a header)"),
        Binding("slash", "filter", "Filter", tooltip="Filter the monitors by typing"),
        Binding("r", "refresh", "Refresh", show=False, tooltip="Reload the monitors now (they reload by themselves)"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self._select_after_load: int | None = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        yield Input(placeholder="Filter: type part of a name, type, target or status…", id="filter")
        yield Static("Loading monitors…", id="summary")
        yield Static("No monitors yet — press n to create one.", id="empty")
        yield StatusTable(id="monitors")
        yield ConsoleFooter()

    @property
    def table(self) -> StatusTable:
        return self.query_one(StatusTable)

    def on_mount(self) -> None:
        self.table.focus()
        self.refresh_data()
        self.refresh_every(self.console_app.refresh_interval)

    def refresh_data(self) -> None:
        if not self.busy("monitors"):
            self.call_api("monitors", self.client.list_monitors, on_done=self.show_monitors)

    def show_monitors(self, monitors: list[dict]) -> None:
        table = self.table
        table.show(monitors, now=self.console_app.clock())
        if self._select_after_load is not None:
            table.select_id(self._select_after_load)
            self._select_after_load = None
        self._summarize()

    def _summarize(self) -> None:
        table = self.table
        monitors = table.monitors
        counts = {status: 0 for status in STATUS_LOOK}
        for monitor in monitors:
            counts[monitor.get("status")] = counts.get(monitor.get("status"), 0) + 1
        summary = Text(f"{len(monitors)} monitor{'s' if len(monitors) != 1 else ''}")
        for status, (symbol, _label, style) in STATUS_LOOK.items():
            summary.append("  ")
            summary.append(f"{symbol} {counts[status]} {status}", style=style)
        in_maintenance = sum(1 for monitor in monitors if monitor.get("in_maintenance"))
        if in_maintenance:
            symbol, _label, style = MAINTENANCE_LOOK
            summary.append(f"  {symbol} {in_maintenance} in maintenance", style=style)
        if table.filter_text:
            summary.append(f"  filter “{table.filter_text}”: {len(table.shown)} shown", style="bold")
        label = dict(COLUMNS).get(table.sort_key, table.sort_key)
        summary.append(f"  sorted by {label.lower()}{' (reversed)' if table.sort_reverse else ''}")
        self.query_one("#summary", Static).update(summary)
        self.query_one("#empty", Static).display = not monitors

    # ---- filter and sort -------------------------------------------------------------------
    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.set_filter(event.value)
            self._summarize()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            self.table.focus()

    def on_key(self, event) -> None:
        if event.key == "escape" and self.focused is self.query_one("#filter", Input):
            self.query_one("#filter", Input).value = ""
            self.table.focus()
            event.stop()

    def action_filter(self) -> None:
        self.query_one("#filter", Input).focus()

    def action_sort(self) -> None:
        self.table.cycle_sort()
        self._summarize()

    def on_data_table_header_selected(self, _event: DataTable.HeaderSelected) -> None:
        self._summarize()

    # ---- actions on the selected monitor ----------------------------------------------------
    def _selected(self) -> dict | None:
        monitor = self.table.current()
        if monitor is None:
            self.notify("Select a monitor first.", severity="warning")
        return monitor

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_open()

    def action_open(self) -> None:
        from console.screens.monitor_detail import MonitorDetailScreen

        monitor = self._selected()
        if monitor:
            self.app.push_screen(MonitorDetailScreen(monitor), self._after_detail)

    def _after_detail(self, _result=None) -> None:
        self.refresh_data()

    def action_new(self) -> None:
        self._open_form(None)

    def action_edit(self) -> None:
        monitor = self._selected()
        if monitor:
            self._open_form(monitor)

    def _open_form(self, monitor: dict | None) -> None:
        """The form is built from the server's monitor types (fetched once a session)."""
        from console.screens.monitor_form import MonitorFormScreen

        self.call_api("monitor types", self.client.monitor_types,
                      on_done=lambda types: self.app.push_screen(MonitorFormScreen(types, monitor), self._after_form))

    def _after_form(self, monitor: dict | None) -> None:
        if monitor:
            self._select_after_load = monitor["id"]
            self.refresh_data()

    def action_delete(self) -> None:
        monitor = self._selected()
        if monitor:
            ask_first(self.app, f"Delete monitor “{monitor['name']}” and all its history?", "Delete",
                      lambda: self.call_api("delete", _delete, self.client, monitor, on_done=self._deleted))

    def _deleted(self, monitor: dict) -> None:
        self.notify(f"Deleted “{monitor['name']}”.")
        self.refresh_data()

    def action_toggle_active(self) -> None:
        monitor = self._selected()
        if monitor:
            self.call_api("changed", self.client.toggle_monitor, monitor["id"], not monitor.get("is_active", True),
                          on_done=self._changed, on_error=self._change_failed)

    def action_toggle_public(self) -> None:
        monitor = self._selected()
        if monitor:
            self.call_api("changed", self.client.set_public, monitor["id"], not monitor.get("public_status", False),
                          on_done=self._changed, on_error=self._change_failed)

    def _changed(self, monitor: dict) -> None:
        table = self.table
        table.show([monitor if m["id"] == monitor["id"] else m for m in table.monitors])
        self._summarize()
        self.notify(f"“{monitor['name']}” is now {'checked' if monitor.get('is_active') else 'paused'} and "
                    f"{'shown on' if monitor.get('public_status') else 'hidden from'} the status page.")

    def _change_failed(self, error: ApiError) -> bool:
        if error.status == 404:
            self.notify("That monitor no longer exists.", severity="warning")
            self.refresh_data()
            return True
        return False


def _delete(client, monitor: dict) -> dict:
    client.delete_monitor(monitor["id"])
    return monitor
