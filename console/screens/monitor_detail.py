"""One monitor: its configuration, a response-time chart of the last hours (history), uptime
figures (stats), incidents and anomalies (insights)."""

from __future__ import annotations

from datetime import timedelta

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Static

from console.client import ApiError
from console.screens.base import ConsoleScreen
from console.screens.confirm import ask_first
from console.widgets import (ConnectionBanner, ConsoleFooter, FillTable, ResponseChart, TitleBar,
                             clipped_cell)
from console.widgets.status import (ago, duration, locations_text, maintenance_text, millis, percent,
                                    short_time, status_text, uptime_style)

RANGES = (1, 6, 24, 72, 168)
CERT_ERROR = "TLS certificate is not valid: "  # how the https check words a failed verification


def expiry_text(days_left: int | None) -> str:
    """'expires in 45 days', 'expires today', 'expired 3 days ago'; 'expiry unknown' without a date."""
    if days_left is None:
        return "expiry unknown"
    if days_left < 0:
        return f"expired {-days_left} day{'s' if days_left != -1 else ''} ago"
    if days_left == 0:
        return "expires today"
    return f"expires in {days_left} day{'s' if days_left != 1 else ''}"


def label_grid(rows: list[tuple[str, Text]]) -> Table:
    """Label/value rows whose long values wrap under the value, not under the label, so a narrow
    terminal (80 columns: two panels of ~38) still reads as two columns."""
    grid = Table.grid(padding=(0, 2, 0, 0))
    grid.add_column(no_wrap=True, style="dim")
    grid.add_column(ratio=1, overflow="fold")
    for label, value in rows:
        grid.add_row(label, value)
    return grid


def millis_three(*values: int | float | None) -> str:
    """'152/120/359 ms': the unit once, so the three fit a narrow panel."""
    if any(value is None for value in values):
        return "/".join(millis(value) for value in values)
    return "/".join(str(round(value)) for value in values) + " ms"


def certificate_text(ssl: dict, last_error: str | None) -> str:
    """'valid — expires in 45 days (Example CA)' or 'invalid (self-signed certificate)'. The reason
    comes from the object when the server gives one, else from the check's error."""
    if ssl.get("valid"):
        words = "valid"
    else:
        reason = ssl.get("error")
        if not reason and last_error and last_error.startswith(CERT_ERROR):
            reason = last_error[len(CERT_ERROR):]
        words = f"invalid ({reason})" if reason else "invalid"
    if ssl.get("days_left") is not None:
        words += f" — {expiry_text(ssl['days_left'])}"
    if ssl.get("issuer"):
        words += f" ({ssl['issuer']})"
    return words


class MonitorDetailScreen(ConsoleScreen):
    PALETTE_GROUP = "Monitor"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("e", "edit", "Edit", tooltip="Edit this monitor"),
        Binding("d", "delete", "Delete", show=False, tooltip="Delete this monitor (asks first)"),
        Binding("a", "toggle_active", "Pause/Resume", tooltip="Pause or resume checking"),
        Binding("p", "toggle_public", "Public", tooltip="Show or hide on the status page"),
        Binding("h", "range", "Hours", tooltip="Chart range: 1, 6, 24, 72 or 168 hours"),
        Binding("m", "mtr", "MTR", tooltip="Run an MTR report to the target"),
        Binding("u", "incident_update", "Post update",
                tooltip="Tell status page visitors where the highlighted incident stands"),
        Binding("r", "refresh", "Refresh", show=False, tooltip="Reload now (it reloads by itself)"),
    ]

    def __init__(self, monitor: dict, hours: int = 24):
        super().__init__()
        self.monitor = monitor
        self.monitor_id = monitor["id"]
        self.hours = hours

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        yield Static(id="headline")
        with Horizontal(id="detail-top"):
            yield Static(id="facts", classes="panel")
            yield Static(id="figures", classes="panel")
        yield ResponseChart(id="chart", classes="panel")
        with Horizontal(id="detail-lists"):
            with Vertical(classes="panel"):
                yield Static("Incidents", classes="panel-title")
                yield FillTable(id="incidents", fill="cause", cursor_type="row", zebra_stripes=True)
            with Vertical(classes="panel"):
                yield Static("Anomalies", classes="panel-title")
                yield FillTable(id="anomalies", fill="message", cursor_type="row", zebra_stripes=True)
        yield ConsoleFooter()

    def on_mount(self) -> None:
        incidents = self.query_one("#incidents", FillTable)
        for label in ("Status", "Started", "Duration", "Cause"):
            incidents.add_column(label, key=label.lower())
        anomalies = self.query_one("#anomalies", FillTable)
        for label in ("Detected", "Kind", "Severity", "Message"):
            anomalies.add_column(label, key=label.lower())
        self.show_monitor(self.monitor)
        self.refresh_data()
        self.refresh_every(self.console_app.refresh_interval * 2)

    def refresh_data(self) -> None:
        if not self.busy("history"):
            self._load_history()
        if not self.busy("stats"):
            self.call_api("stats", self.client.stats, self.monitor_id, 30, on_done=self.show_stats,
                          on_error=self._gone)
        if not self.busy("insights"):
            self.call_api("insights", self.client.insights, self.monitor_id, on_done=self.show_insights,
                          on_error=self._gone)

    def _load_history(self) -> None:
        hours = self.hours  # the answer is drawn only if this is still the chosen range
        self.call_api("history", self.client.history, self.monitor_id, hours,
                      on_done=lambda answer: self.show_history(answer, hours), on_error=self._gone)

    # ---- showing ------------------------------------------------------------------------------
    def show_monitor(self, monitor: dict) -> None:
        self.monitor = monitor
        headline = Text()
        headline.append_text(status_text(monitor.get("status")))
        headline.append(f"  {monitor.get('name')}", style="bold")
        headline.append(f"  {monitor.get('type')}  {monitor.get('target') or ''}", style="dim")
        if monitor.get("public_status"):
            headline.append("  ◉ public", style="cyan")
        if monitor.get("in_maintenance"):
            headline.append("  ")
            headline.append_text(maintenance_text(long=True))
        self.query_one("#headline", Static).update(headline)

        facts: list[tuple[str, Text]] = []
        now = self.console_app.clock()

        def line(label: str, value, style: str = "") -> None:
            facts.append((label, value if isinstance(value, Text) else Text(str(value), style=style)))

        line("Response time", millis(monitor.get("response_time")))
        line("Last check", f"{ago(monitor.get('last_check'), now)}  ({short_time(monitor.get('last_check'))})")
        line("Locations", locations_text(monitor.get("location_status")))
        line("Every", f"{monitor.get('interval')} s, timeout {monitor.get('timeout')} s, "
                      f"retries {monitor.get('retries')}")
        if "recovery_checks" in monitor:
            checks = monitor.get("recovery_checks") or 1
            line("Recovery", f"up after {checks} success{'es' if checks != 1 else ''} in a row")
        if "reminder_minutes" in monitor:
            minutes = monitor.get("reminder_minutes")
            line("Reminders", f"every {minutes} min while down" if minutes else "off")
        if monitor.get("port"):
            line("Port", monitor["port"])
        if monitor.get("keyword"):
            line("Keyword", monitor["keyword"])
        if monitor.get("expected_status"):
            line("Expects status", monitor["expected_status"])
        ssl = monitor.get("ssl")
        if ssl:
            line("Certificate", certificate_text(ssl, monitor.get("last_error")),
                 "green" if ssl.get("valid") else "red")
        domain = monitor.get("domain")
        if domain:
            registrar = f" ({domain['registrar']})" if domain.get("registrar") else ""
            line("Domain", f"registration {expiry_text(domain.get('days_left'))}{registrar}")
        if monitor.get("heartbeat_url"):
            line("Heartbeat URL", self.client.server_url + monitor["heartbeat_url"])
            line("Grace", f"{monitor.get('grace')} s")
        if monitor.get("last_error"):
            line("Last error", monitor["last_error"], "red")
        self.query_one("#facts", Static).update(label_grid(facts))

    def show_history(self, answer: dict, hours: int | None = None) -> None:
        if hours is not None and hours != self.hours:
            return  # an answer for the range shown before `h` was pressed
        if answer.get("monitor"):
            self.show_monitor(answer["monitor"])
        until = self.console_app.clock()
        chart = self.query_one(ResponseChart)
        chart.set_data(answer.get("history") or [], until - timedelta(hours=self.hours), until)
        self._history_stats = answer.get("stats") or {}
        self._show_figures()

    def show_stats(self, stats: dict) -> None:
        self._stats = stats
        self._show_figures()

    def _show_figures(self) -> None:
        figures: list[tuple[str, Text]] = []
        history = getattr(self, "_history_stats", {}) or {}
        stats = getattr(self, "_stats", {}) or {}

        def line(label: str, value: str, style: str = "") -> None:
            figures.append((label, Text(value, style=style)))

        uptime24 = self.monitor.get("uptime_percentage")
        line("Uptime 24 h", percent(uptime24), uptime_style(uptime24))
        if history and self.hours != 24:
            line(f"Uptime {self.hours} h", percent(history.get("uptime")), uptime_style(history.get("uptime")))
        if history:
            line(f"Avg/min/max {self.hours} h", millis_three(history.get("avg"), history.get("min"), history.get("max")))
        if stats:
            line(f"Uptime {stats.get('days', 30)} d", percent(stats.get("uptime")), uptime_style(stats.get("uptime")))
            line("p50/p95/p99", millis_three(stats.get("p50"), stats.get("p95"), stats.get("p99")))
            line("Checks/failed", f"{stats.get('checks', 0)} / {stats.get('failures', 0)}")
            line("Incidents/MTTR", f"{stats.get('incidents', 0)} / {duration(stats.get('mttr_seconds'))}")
        self.query_one("#figures", Static).update(label_grid(figures))

    def show_insights(self, insights: dict) -> None:
        incidents = self.query_one("#incidents", FillTable)
        incidents.clear()
        for incident in insights.get("incidents") or []:
            ongoing = incident.get("status") == "ongoing"
            incidents.add_row(
                Text("▼ ongoing" if ongoing else "▲ resolved", style="bold red" if ongoing else "green"),
                short_time(incident.get("started_at")),
                duration(incident.get("duration_seconds")),
                clipped_cell(incident.get("cause")),
                key=str(incident.get("id")))
        incidents.refit()
        anomalies = self.query_one("#anomalies", FillTable)
        anomalies.clear()
        for anomaly in insights.get("anomalies") or []:
            anomalies.add_row(short_time(anomaly.get("detected_at")), anomaly.get("kind") or "",
                              str(anomaly.get("severity") or ""), clipped_cell(anomaly.get("message")),
                              key=str(anomaly.get("id")))
        anomalies.refit()

    def _gone(self, error: ApiError) -> bool:
        if error.status == 404 and self.app.screen is self:
            self.notify("This monitor no longer exists.", severity="warning")
            self.dismiss(None)
            return True
        return error.status == 404

    # ---- actions ------------------------------------------------------------------------------
    def action_range(self) -> None:
        index = RANGES.index(self.hours) if self.hours in RANGES else 0
        self.hours = RANGES[(index + 1) % len(RANGES)]
        self.notify(f"Chart: the last {self.hours} hours.")
        self._load_history()  # at once, even while a refresh's call for the old range is under way

    def action_edit(self) -> None:
        from console.screens.monitor_form import MonitorFormScreen

        def saved(monitor: dict | None) -> None:
            if monitor:
                self.show_monitor(monitor)
                self.refresh_data()

        self.call_api("monitor types", self.client.monitor_types,
                      on_done=lambda types: self.app.push_screen(MonitorFormScreen(types, self.monitor), saved))

    def action_delete(self) -> None:
        ask_first(self.app, f"Delete monitor “{self.monitor['name']}” and all its history?", "Delete",
                  lambda: self.call_api("delete", self.client.delete_monitor, self.monitor_id,
                                        on_done=self._deleted))

    def _deleted(self, _none) -> None:
        self.notify(f"Deleted “{self.monitor['name']}”.")
        self.dismiss("deleted")

    def action_toggle_active(self) -> None:
        self.call_api("changed", self.client.toggle_monitor, self.monitor_id, not self.monitor.get("is_active", True),
                      on_done=self._changed)

    def action_toggle_public(self) -> None:
        self.call_api("changed", self.client.set_public, self.monitor_id, not self.monitor.get("public_status"),
                      on_done=self._changed)

    def _changed(self, monitor: dict) -> None:
        self.show_monitor(monitor)
        self._show_figures()
        self.notify(f"“{monitor['name']}” is now {'checked' if monitor.get('is_active') else 'paused'} and "
                    f"{'shown on' if monitor.get('public_status') else 'hidden from'} the status page.")

    def action_incident_update(self) -> None:
        from console.screens.incident_update import IncidentUpdateForm

        table = self.query_one("#incidents", FillTable)
        if not table.row_count:
            self.notify("This monitor has no incidents to post an update on.", severity="warning")
            return
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        started = table.get_row(key)[1]

        def posted(update: dict | None) -> None:
            if update:
                self.notify(f"Posted “{update.get('status')}” on the incident of {started}: it is on the status page "
                            f"{'now' if self.monitor.get('public_status') else 'once the monitor is public'}.")

        self.app.push_screen(IncidentUpdateForm(int(key), f"the incident of {started}"), posted)

    def action_mtr(self) -> None:
        from console.screens.tools import ToolsScreen

        self.app.push_screen(ToolsScreen(monitor_id=self.monitor_id, run_mtr=True))
