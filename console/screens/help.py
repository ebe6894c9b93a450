"""HelpScreen (? or f1): every key of the screen it was opened over, then the app-wide ones,
then what the status symbols mean. Built from the bindings themselves (as the command palette
is), so a new binding shows up here without anyone writing it down twice."""

from __future__ import annotations

from dataclasses import replace

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Static

from console.commands import bindings_of
from console.screens.base import ConsoleModal
from console.widgets.chart import BLOCKS
from console.widgets.status import LOCATION_LOOK, MAINTENANCE_LOOK, STATUS_LOOK

KEY_COLUMN = 14
STATUS_MEANING = {
    "up": "the last checks succeeded",
    "down": "confirmed down (after its retries); an incident is open",
    "pending": "no result yet (new, or just edited)",
    "paused": "not checked (paused with a)",
}


def key_names(app, binding: Binding) -> str:
    """'? / f1' for a binding with several keys, as the footer shows each."""
    keys = [key.strip() for key in binding.key.split(",") if key.strip()]
    return " / ".join(app.get_key_display(replace(binding, key=key)) for key in keys)


def keys_table(app, node, bindings: list[Binding]) -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(style="bold", no_wrap=True, min_width=KEY_COLUMN)
    table.add_column()
    for binding in bindings:
        enabled = node.check_action(binding.action, ()) is not False
        words = Text(binding.description, style="" if enabled else "dim")
        if binding.tooltip and binding.tooltip != binding.description:
            words.append(f" — {binding.tooltip}", style="dim")
        if not enabled:
            words.append(" (not here, or not for this login)", style="dim italic")
        table.add_row(Text(key_names(app, binding)), words)
    return table


def legend() -> Table:
    table = Table.grid(padding=(0, 2))
    table.add_column(no_wrap=True, min_width=KEY_COLUMN)
    table.add_column()
    for status, (symbol, label, style) in STATUS_LOOK.items():
        table.add_row(Text(f"{symbol} {label}", style=style), STATUS_MEANING.get(status, ""))
    symbol, label, style = MAINTENANCE_LOOK
    table.add_row(Text(f"{symbol} {label}", style=style),
                  "inside a maintenance window: checked, but no incidents or down alerts")
    table.add_row(Text("◉", style="cyan"), "shown on the public status page (p)")
    places = Text("local")
    for symbol, style in LOCATION_LOOK.values():
        places.append(f" {symbol}", style=style)
    table.add_row(places, "each check location's own verdict (same symbols)")
    table.add_row(Text(BLOCKS[3:], style="green"), "chart: the slowest successful check in that column")
    table.add_row(Text("░", style="red"), "chart: a failed check in that column")
    table.add_row(Text("·", style="dim"), "chart: no check in that column")
    return table


class HelpScreen(ConsoleModal):
    BINDINGS = [Binding("escape,question_mark,q,f1", "close", "Close")]
    DEFAULT_CSS = """
    HelpScreen {
        align: center middle;
    }
    HelpScreen > Vertical {
        width: 100;
        max-width: 100%;
        height: 90%;
        border: thick $primary;
        background: $surface;
        padding: 0 1;
    }
    HelpScreen .help-heading {
        text-style: bold;
        color: $accent;
        margin-top: 1;
    }
    HelpScreen .help-heading.-first {
        margin-top: 0;
    }
    """

    def __init__(self, over: Screen):
        super().__init__()
        self.over = over  # the screen whose keys are listed

    def compose(self) -> ComposeResult:
        app = self.app
        name = getattr(self.over, "PALETTE_GROUP", "") or type(self.over).__name__.removesuffix("Screen")
        with Vertical():
            yield Static(f"Keys — {name}  (esc closes; ctrl+p searches every action by name)",
                         classes="panel-title")
            with VerticalScroll():
                yield Static("This screen", classes="help-heading -first")
                yield Static(keys_table(app, self.over, list(bindings_of(self.over))), id="help-screen-keys")
                yield Static("Everywhere", classes="help-heading")
                yield Static(keys_table(app, app, list(bindings_of(app))), id="help-app-keys")
                yield Static("Symbols", classes="help-heading")
                yield Static(legend(), id="help-legend")

    def action_close(self) -> None:
        self.dismiss(None)
