"""Metrics (administrators): the appliance's Prometheus /metrics text in a scrollable log, with a
filter, to check what a Prometheus server would scrape."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Input, Log, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ConsoleScreen, not_available
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar


def summarize(text: str) -> tuple[int, int]:
    """(samples, metric families) in a Prometheus text exposition."""
    lines = text.splitlines()
    families = sum(1 for line in lines if line.startswith("# TYPE "))
    samples = sum(1 for line in lines if line.strip() and not line.startswith("#"))
    return samples, families


class MetricsScreen(ConsoleScreen):
    PALETTE_GROUP = "Metrics"
    NAV_ACTION = "metrics"  # its key in the app's bindings: not in the footer while this screen is open
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("slash", "filter", "Filter", tooltip="Show only the lines containing some text"),
        Binding("r", "refresh", "Refresh", tooltip="Fetch /metrics again"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.text = ""

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        yield Input(placeholder="Filter: part of a metric name or label, e.g. uptime_ratio or name=\"Website\"",
                    id="metrics-filter")
        yield Static("Loading /metrics…", markup=False, id="metrics-summary")
        yield Log(id="metrics-log", highlight=False)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one(Log).focus()
        self.refresh_data()

    def refresh_data(self) -> None:
        if not self.busy("metrics"):
            self.call_api("metrics", self.client.metrics, on_done=self.show_metrics, on_error=self._metrics_failed)

    def show_metrics(self, text: str) -> None:
        self.text = text or ""
        self._show()

    def _metrics_failed(self, error: ApiError) -> bool:
        if error.status == 403:
            self.query_one("#metrics-summary", Static).update(f"✖ {error.message}")
            return True
        if not_available(error):
            self.query_one("#metrics-summary", Static).update(f"Metrics are {NOT_AVAILABLE}.")
            return True
        return False

    def _show(self) -> None:
        needle = self.query_one("#metrics-filter", Input).value.strip().casefold()
        lines = [line for line in self.text.splitlines() if needle in line.casefold()]
        log = self.query_one(Log)
        log.clear()
        log.write_lines(lines)
        log.scroll_home(animate=False)
        samples, families = summarize(self.text)
        shown = f" — filter “{needle}”: {len(lines)} lines" if needle else ""
        self.query_one("#metrics-summary", Static).update(
            f"{samples} samples in {families} metric families from {self.client.server_url}/metrics{shown}")

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "metrics-filter" and self.text:
            self._show()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "metrics-filter":
            self.query_one(Log).focus()

    def on_key(self, event) -> None:
        search = self.query_one("#metrics-filter", Input)
        if event.key == "escape" and self.focused is search:
            search.value = ""
            self.query_one(Log).focus()
            event.stop()

    def action_filter(self) -> None:
        self.query_one("#metrics-filter", Input).focus()
