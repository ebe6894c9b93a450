"""ConnectionBanner: a red line across the screen while the server cannot be reached."""

from __future__ import annotations

from textual.widgets import Static


class ConnectionBanner(Static):
    """Shown while the app's `offline` is set; hidden again when the server answers."""

    DEFAULT_CSS = """
    ConnectionBanner {
        display: none;
        height: 1;
        width: 1fr;
        background: $error;
        color: $text;
        text-style: bold;
        padding: 0 1;
    }
    ConnectionBanner.-offline {
        display: block;
    }
    """

    def on_mount(self) -> None:
        self.watch(self.app, "offline", self._changed, init=True)

    def _changed(self, offline: str) -> None:
        self.set_class(bool(offline), "-offline")
        if offline:
            self.update(f"⚠ connection lost — retrying ({offline})")
