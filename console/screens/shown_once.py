"""A secret the server shows this once (a new API key, a webhook's signing secret): the dialog
says to copy it now, and can put it on the clipboard."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Static

from console.screens.base import ConsoleModal


class ShownOnceDialog(ConsoleModal):
    BINDINGS = [Binding("c", "copy", "Copy"), Binding("escape,enter", "close", "Close")]
    DEFAULT_CSS = """
    ShownOnceDialog #copy-now {
        padding: 0;
    }
    ShownOnceDialog #secret-value {
        height: auto;
        border: round $success;
        padding: 0 1;
        margin-top: 1;
    }
    """

    def __init__(self, title: str, value: str, explanation: str, usage: str):
        super().__init__()
        self.title_text, self.value, self.explanation, self.usage = title, value, explanation, usage

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, markup=False, classes="panel-title")
            yield Static(self.explanation, markup=False, id="copy-now", classes="notice")
            yield Static(Text(self.value, style="bold"), id="secret-value")
            yield Static(Text(self.usage, style="dim"))
            with Horizontal(classes="buttons"):
                yield Button("Copy to clipboard (c)", id="copy")
                yield Button("I have copied it (enter)", id="close", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#close", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "copy":
            self.action_copy()
        else:
            self.action_close()

    def action_copy(self) -> None:
        self.app.copy_to_clipboard(self.value)
        self.notify("Copied to the clipboard (where the terminal allows it).")

    def action_close(self) -> None:
        self.dismiss(None)
