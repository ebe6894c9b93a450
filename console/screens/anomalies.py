"""Unacknowledged anomalies across your monitors; acknowledge them one by one."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ConsoleScreen
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar
from console.widgets.status import short_time

SEVERITY_STYLE = {"critical": "bold red", "high": "red", "warning": "yellow", "medium": "yellow", "low": "dim"}


def _number(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


class AnomaliesScreen(ConsoleScreen):
    PALETTE_GROUP = "Anomalies"
    NAV_ACTION = "anomalies"  # its key in the app's bindings: not in the footer while this screen is open
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("k", "acknowledge", "Acknowledge", tooltip="Acknowledge the selected anomaly"),
        Binding("o", "open_monitor", "Open monitor", tooltip="Open the anomaly's monitor"),
        Binding("r", "refresh", "Refresh", tooltip="Reload the anomalies"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.anomalies: list[dict] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        yield Static("Unacknowledged anomalies", classes="panel-title", id="anomalies-title")
        yield Static("", markup=False, id="anomalies-notice", classes="notice")
        yield DataTable(id="anomalies", cursor_type="row", zebra_stripes=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.add_class("list-screen")
        self.query_one(DataTable).add_columns("Monitor", "Location", "Detected", "Kind", "Value", "Baseline",
                                              "Severity", "Message")
        self.query_one(DataTable).focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        if not self.busy("anomalies"):
            self.call_api("anomalies", self.client.anomalies, on_done=self.show_anomalies,
                          on_error=self.show_if_unavailable("#anomalies-notice", f"Anomalies are {NOT_AVAILABLE}."))

    def show_anomalies(self, anomalies: list[dict]) -> None:
        self.anomalies = list(anomalies)
        self._show()

    def _show(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for anomaly in self.anomalies:
            severity = str(anomaly.get("severity") if anomaly.get("severity") is not None else "")
            table.add_row(
                anomaly.get("monitor_name") or f"#{anomaly.get('monitor_id')}",
                anomaly.get("location") or "",
                short_time(anomaly.get("detected_at")),
                anomaly.get("kind") or "",
                _number(anomaly.get("value")),
                _number(anomaly.get("baseline")),
                Text(severity, style=SEVERITY_STYLE.get(severity.lower(), "")),
                anomaly.get("message") or "",
                key=str(anomaly.get("id")),
            )
        notice = self.query_one("#anomalies-notice", Static)
        notice.update("" if self.anomalies else "Nothing to look at: no unacknowledged anomalies.")

    def _selected(self) -> dict | None:
        table = self.query_one(DataTable)
        if not self.anomalies or table.row_count == 0:
            self.notify("No anomaly selected.", severity="warning")
            return None
        return self.anomalies[table.cursor_row] if table.cursor_row < len(self.anomalies) else None

    def action_acknowledge(self) -> None:
        anomaly = self._selected()
        if anomaly:
            self.call_api("acknowledge", self.client.acknowledge_anomaly, anomaly["id"], on_done=self._acknowledged,
                          on_error=self._acknowledge_failed)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_acknowledge()

    def _acknowledged(self, anomaly: dict) -> None:
        self.anomalies = [a for a in self.anomalies if a.get("id") != anomaly.get("id")]
        self._show()
        self.notify(f"Acknowledged: {anomaly.get('message') or anomaly.get('kind')}")

    def _acknowledge_failed(self, error: ApiError) -> bool:
        if error.status == 404:
            self.notify("That anomaly is gone (or acknowledging is not available on this server).",
                        severity="warning")
            self.refresh_data()
            return True
        return False

    def action_open_monitor(self) -> None:
        anomaly = self._selected()
        if anomaly:
            self.call_api("monitor", self.client.get_monitor, anomaly["monitor_id"], on_done=self._open_monitor)

    def _open_monitor(self, monitor: dict) -> None:
        from console.screens.monitor_detail import MonitorDetailScreen

        self.app.push_screen(MonitorDetailScreen(monitor))
