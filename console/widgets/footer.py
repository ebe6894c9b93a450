"""ConsoleFooter: Textual's Footer, fitted to the terminal's width.

Textual's Footer lays out every shown binding in one row and cuts whatever does not fit, so
on a busy screen the app-wide keys (F8, F9, …) were never visible. This one shows the current
screen's keys first, then the app's, each whole or not at all, stopping at the first that does
not fit; "? Help" is always there on the right, and the help screen lists every key."""

from __future__ import annotations

from rich.text import Text
from textual import events
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

HELP_ACTION = "help"
GAP = 1  # a compact key's right margin


def key_width(key_display: str, description: str) -> int:
    """Cells a compact FooterKey takes: "key description" and its margin."""
    return Text(f"{key_display} {description}").cell_len + GAP


class ConsoleFooter(Footer):
    DEFAULT_CSS = """
    ConsoleFooter FooterKey.-help {
        dock: right;
        padding-right: 1;
        border-left: vkey $foreground 20%;
    }
    """

    def __init__(self, **kwargs):
        super().__init__(compact=True, show_command_palette=False, **kwargs)
        self._laid_out_for = 0  # the width the keys were chosen for

    def fitted(self, width: int) -> tuple[list[tuple], tuple | None]:
        """(the keys that fit in `width`, in order; the help key) as (binding, enabled, tooltip)."""
        help_key = None
        shown: list[tuple] = []
        seen: set[str] = {getattr(self.screen, "NAV_ACTION", None) or ""}  # no key for where you are
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if binding.action in seen:
                continue  # one action with several keys: its first key only
            if binding.action in (HELP_ACTION, f"app.{HELP_ACTION}"):
                help_key = (binding, enabled, tooltip)
            elif binding.show:
                shown.append((binding, enabled, tooltip))
            else:
                continue
            seen.add(binding.action)
        room = width - 1  # the left edge
        if help_key is not None:
            room -= key_width(self.app.get_key_display(help_key[0]), help_key[0].description) + 2
        fits = []
        for binding, enabled, tooltip in shown:
            need = key_width(self.app.get_key_display(binding), binding.description)
            if need > room:
                break
            room -= need
            fits.append((binding, enabled, tooltip))
        return fits, help_key

    def compose(self):
        if not self._bindings_ready:
            return
        width = self.app.size.width
        self._laid_out_for = width
        fits, help_key = self.fitted(width)
        for binding, enabled, tooltip in fits:
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.tooltip).data_bind(compact=Footer.compact)
        if help_key is not None:
            binding, enabled, tooltip = help_key
            yield FooterKey(binding.key, self.app.get_key_display(binding), binding.description, binding.action,
                            disabled=not enabled, tooltip=tooltip or binding.tooltip,
                            classes="-help").data_bind(compact=Footer.compact)

    def on_resize(self, _event: events.Resize) -> None:
        if self._bindings_ready and self.app.size.width != self._laid_out_for:
            self.call_after_refresh(self.recompose)
