"""Tools: an MTR report to a monitor's target (with a progress indicator while it runs) and WHOIS
for any domain or IP."""

from __future__ import annotations

from rich.markup import escape
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import (Button, DataTable, Input, ProgressBar, Select, Static,
                             TabbedContent, TabPane)

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ConsoleScreen, app_must_act, not_available
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar
from console.widgets.status import short_time


def _ms(value) -> str:
    return "—" if value is None else f"{value:.1f}" if isinstance(value, float) else str(value)


class ToolsScreen(ConsoleScreen):
    PALETTE_GROUP = "Tools"
    NAV_ACTION = "tools"  # its key in the app's bindings: not in the footer while this screen is open
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("ctrl+r", "run", "Run", priority=True, tooltip="Run the tool of the open tab"),
        Binding("alt+m", "mtr", "Run MTR", show=False, tooltip="MTR report to the selected monitor's target"),
        Binding("alt+w", "whois", "Run WHOIS", show=False, tooltip="WHOIS for the target typed in"),
    ]

    def __init__(self, monitor_id: int | None = None, run_mtr: bool = False, whois_target: str = ""):
        super().__init__()
        self.monitor_id = monitor_id
        self.run_mtr_at_start = run_mtr
        self.whois_target = whois_target
        self._elapsed = 0
        self._timer = None

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        with TabbedContent(initial="mtr-tab" if self.monitor_id or not self.whois_target else "whois-tab"):
            with TabPane("MTR", id="mtr-tab"):
                with Vertical(classes="tab-body"):
                    yield Static("Traceroute rounds from the appliance to a monitor's target "
                                 "(a premium feature).", classes="hint")
                    with Horizontal(classes="tool-row"):
                        yield Select([], prompt="Choose a monitor…", id="mtr-monitor")
                        yield Button("Run MTR", id="mtr-run", variant="primary")
                    yield ProgressBar(total=None, show_eta=False, id="mtr-progress")
                    yield Static("", markup=False, id="mtr-status")
                    yield DataTable(id="mtr-hops", zebra_stripes=True)
            with TabPane("WHOIS", id="whois-tab"):
                with Vertical(classes="tab-body"):
                    yield Static("Registration data of a domain or an IP address.", classes="hint")
                    with Horizontal(classes="tool-row"):
                        yield Input(self.whois_target, placeholder="example.com or 192.0.2.1", id="whois-target")
                        yield Button("Run WHOIS", id="whois-run", variant="primary")
                    yield Static("", markup=False, id="whois-result")
                    with VerticalScroll(id="whois-scroll"):
                        yield Static("", markup=False, id="whois-raw")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#mtr-hops", DataTable).add_columns(
            "Hop", "Host", "Loss %", "Sent", "Last", "Avg", "Best", "Worst", "StDev")
        self.call_api("monitors", self.client.list_monitors, on_done=self.offer_monitors)

    def offer_monitors(self, monitors: list[dict]) -> None:
        select = self.query_one("#mtr-monitor", Select)
        options = [(f"{m['name']} — {m.get('target') or m.get('type')}", m["id"])
                   for m in monitors if m.get("target")]
        select.set_options(options)
        if self.monitor_id is not None and any(value == self.monitor_id for _, value in options):
            select.value = self.monitor_id
            if self.run_mtr_at_start:
                self.run_mtr_at_start = False
                self.action_mtr()

    # ---- running ------------------------------------------------------------------------------
    def action_run(self) -> None:
        active = self.query_one(TabbedContent).active
        if active == "whois-tab":
            self.action_whois()
        else:
            self.action_mtr()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "mtr-run":
            self.action_mtr()
        elif event.button.id == "whois-run":
            self.action_whois()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "whois-target":
            self.action_whois()

    def action_mtr(self) -> None:
        self.query_one(TabbedContent).active = "mtr-tab"
        value = self.query_one("#mtr-monitor", Select).value
        if not isinstance(value, int):
            self.notify("Choose a monitor first.", severity="warning")
            return
        if self.busy("mtr"):
            self.notify("An MTR report is already running.", severity="warning")
            return
        self.query_one("#mtr-progress").add_class("-running")
        self.query_one("#mtr-run", Button).disabled = True
        self._elapsed = 0
        self._show_elapsed()
        self._timer = self.set_interval(1.0, self._tick)
        self.call_api("mtr", self.client.mtr, value, on_done=self.show_mtr, on_error=self._mtr_failed)

    def _tick(self) -> None:
        self._elapsed += 1
        self._show_elapsed()

    def _show_elapsed(self) -> None:
        self.query_one("#mtr-status", Static).update(
            f"Running MTR… {self._elapsed} s (several traceroute rounds; this takes a while)")

    def _mtr_finished(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.query_one("#mtr-progress").remove_class("-running")
        self.query_one("#mtr-run", Button).disabled = False

    def show_mtr(self, report: dict) -> None:
        self._mtr_finished()
        hops = report.get("hops") or []
        reached = {True: ", destination reached", False: ", destination not reached"}.get(report.get("reached"), "")
        self.query_one("#mtr-status", Static).update(
            f"MTR to {report.get('target')}: {report.get('rounds')} rounds, {len(hops)} hops{reached}")
        table = self.query_one("#mtr-hops", DataTable)
        table.clear()
        for hop in hops:
            loss = hop.get("loss_pct")
            host = hop.get("host") or "???"
            if hop.get("address") and hop.get("address") != host:
                host = f"{host} ({hop['address']})"
            table.add_row(str(hop.get("hop", "")), host,
                          Text(_ms(loss), style="red" if loss else "green"), str(hop.get("sent", "")),
                          _ms(hop.get("last")), _ms(hop.get("avg")), _ms(hop.get("best")),
                          _ms(hop.get("worst")), _ms(hop.get("stdev")))

    def _mtr_failed(self, error: ApiError) -> bool:
        self._mtr_finished()
        if not_available(error):
            text = f"MTR is {NOT_AVAILABLE}."
        else:
            text = f"MTR failed: {error.message}"
        self.query_one("#mtr-status", Static).update(Text(text, style="bold red"))
        if error.status == 403:
            self.notify(error.message, title="Not allowed", severity="warning")
        return not app_must_act(error)

    def action_whois(self) -> None:
        self.query_one(TabbedContent).active = "whois-tab"
        target = self.query_one("#whois-target", Input).value.strip()
        if not target:
            self.notify("Type a domain or an IP address.", severity="warning")
            self.query_one("#whois-target", Input).focus()
            return
        self.query_one("#whois-result", Static).update(f"Asking WHOIS about {escape(target)}…")
        self.query_one("#whois-raw", Static).update("")
        self.query_one("#whois-run", Button).disabled = True
        self.call_api("whois", self.client.whois, target, on_done=self.show_whois, on_error=self._whois_failed)

    def show_whois(self, answer: dict) -> None:
        self.query_one("#whois-run", Button).disabled = False
        text = Text()

        def line(label: str, value) -> None:
            text.append(f"{label:<14}", style="dim")
            text.append(f"{value if value not in (None, '', []) else '—'}\n")

        line("Target", f"{answer.get('target')} ({answer.get('kind')})")
        line("Registrar", answer.get("registrar"))
        line("Created", short_time(answer.get("creation_date")) if answer.get("creation_date") else None)
        line("Expires", short_time(answer.get("expiration_date")) if answer.get("expiration_date") else None)
        line("Name servers", ", ".join(answer.get("name_servers") or []))
        self.query_one("#whois-result", Static).update(text)
        self.query_one("#whois-raw", Static).update(Text(answer.get("raw") or "", style="dim"))

    def _whois_failed(self, error: ApiError) -> bool:
        self.query_one("#whois-run", Button).disabled = False
        if not_available(error):
            text = f"WHOIS is {NOT_AVAILABLE}."
        else:
            detail = "; ".join(error.details.values())
            text = f"WHOIS failed: {error.message}" + (f" ({detail})" if detail and detail not in error.message else "")
        self.query_one("#whois-result", Static).update(Text(text, style="bold red"))
        return not app_must_act(error)
