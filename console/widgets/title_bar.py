"""TitleBar: one line at the top with the app's title and sub-title (who is logged in where, or
"connection lost — retrying"). Textual's Header would do, but its title update can run after
a quickly replaced screen has lost its children; this one has no children to lose."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 1fr;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
    }
    TitleBar.-offline {
        background: $error;
        color: $text;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "sub_title", self._changed, init=False)
        self.watch(self.app, "offline", self._changed, init=False)
        self._changed()

    def _changed(self, *_args) -> None:
        app = self.app
        text = Text(app.title, style="bold")
        if app.sub_title:
            text.append(f" — {app.sub_title}")
        self.set_class(bool(getattr(app, "offline", "")), "-offline")
        self.update(text)
