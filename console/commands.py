"""The command palette (ctrl+p): every key binding of the current screen, plus the app's
navigation, as searchable commands. Nothing is listed twice: the palette is built from the
bindings themselves, so a new binding is a new command."""

from __future__ import annotations

from functools import partial
from typing import Iterator

from textual.binding import Binding
from textual.command import DiscoveryHit, Hit, Hits, Provider


# Keys every screen has that make no sense as a command to search for.
NOT_COMMANDS = {"next_field", "previous_field", "app.focus_next", "app.focus_previous", "screen.copy_text"}


def bindings_of(node) -> Iterator[Binding]:
    """A screen's or the app's own bindings (its classes' too), one per action, with a description;
    a key a subclass took over is listed with the subclass's meaning only."""
    seen: set[str] = set()
    seen_keys: set[str] = set()
    for cls in type(node).__mro__:
        for binding in cls.__dict__.get("BINDINGS", ()):
            if isinstance(binding, tuple):
                binding = Binding(*binding)
            keys = {key.strip() for key in binding.key.split(",")}
            if binding.action in seen or not binding.description or keys <= seen_keys:
                continue
            seen.add(binding.action)
            seen_keys |= keys
            yield binding


class ConsoleCommands(Provider):
    """Commands of the screen the palette was opened from, then the app-wide ones."""

    def _commands(self) -> list[tuple[str, str, object]]:
        screen = self.screen
        app = self.app
        found: list[tuple[str, str, object]] = []
        area = getattr(screen, "PALETTE_GROUP", "")
        for binding in bindings_of(screen):
            if binding.action in NOT_COMMANDS or screen.check_action(binding.action, ()) is False:
                continue
            title = f"{area}: {binding.description}" if area else binding.description
            key = app.get_key_display(binding)
            found.append((title, f"{binding.tooltip or binding.description} (key: {key})",
                          partial(screen.run_action, binding.action)))
        for binding in bindings_of(app):
            if binding.action in {"command_palette", "quit"}:
                continue
            if app.check_action(binding.action, ()) is False:
                continue
            key = app.get_key_display(binding)
            found.append((binding.description, f"{binding.tooltip or binding.description} (key: {key})",
                          partial(app.run_action, binding.action)))
        return found

    async def discover(self) -> Hits:
        for title, help_text, callback in self._commands():
            yield DiscoveryHit(title, callback, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, help_text, callback in self._commands():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), callback, help=help_text)  # type: ignore[arg-type]
