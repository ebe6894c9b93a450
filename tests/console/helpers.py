"""Driving the console in tests: run a coroutine from a sync test, wait (bounded) for a state."""

from __future__ import annotations

import asyncio
import io
import time
from typing import Any, Callable

from rich.console import Console
from rich.text import Text
from textual.css.query import NoMatches

from tests.support.appliance import InProcessAppliance


def run(coroutine) -> Any:
    """pytest-asyncio is not needed: each test runs its pilot session in its own event loop."""
    return asyncio.run(coroutine)


async def wait_until(pilot, predicate: Callable[[], Any], timeout: float = 15.0, message: str = "condition"):
    """Let the app run until predicate() is truthy; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = predicate()
        except (NoMatches, LookupError, AttributeError):
            value = None
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        await pilot.pause(0.05)


def screen_name(app) -> str:
    return type(app.screen).__name__


async def on_screen(pilot, name: str, timeout: float = 15.0):
    """Wait until the screen is on top and mounted (its on_mount ran: keys reach it)."""
    await wait_until(pilot, lambda: screen_name(pilot.app) == name and pilot.app.screen.is_mounted,
                     timeout, f"the {name}")
    await pilot.pause()
    return pilot.app.screen


async def type_into(pilot, selector: str, text: str, clear: bool = True) -> None:
    """Focus an Input and type, key by key, as a person would."""
    widget = pilot.app.screen.query_one(selector)
    widget.focus()
    await pilot.pause()
    if clear:
        widget.value = ""
    await pilot.press(*text)


def static_text(app, selector: str) -> str:
    """What a Static shows, as plain text: a Text as is, another renderable (a label/value grid)
    laid out at the widget's width, trailing blanks dropped."""
    widget = app.screen.query_one(selector)
    shown = getattr(widget, "content", None)  # what update() was given (render() wraps it)
    if not hasattr(shown, "__rich_console__") or isinstance(shown, Text):
        return str(widget.render())
    console = Console(width=max(widget.content_size.width, 20), color_system=None, file=io.StringIO())
    console.print(shown)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())


def table_text(table) -> str:
    """Every cell of a DataTable as plain text, one row a line."""
    lines = []
    for row_key in table.rows:
        lines.append(" | ".join(str(getattr(cell, "plain", cell)) for cell in table.get_row(row_key)))
    return "\n".join(lines)


def idle_appliance(tmp_path_factory):
    """A module's appliance with the check engine off, for screens that need no check results.
    A module uses it as its `server` fixture (alice, bob and admin then log in to it):
    `server = pytest.fixture(scope="module")(idle_appliance)`."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("idle") / "data").start(engine=False)
    yield instance
    instance.stop()


def screen_text(app) -> str:
    """What the terminal shows now, as plain text: the compositor's last picture, so a widget
    that changed its data but did not ask to be repainted still shows the old one here."""
    import io

    from rich.console import Console

    width, height = app.size
    console = Console(width=width, height=height, file=io.StringIO(), record=True, legacy_windows=False,
                      safe_box=False, color_system=None)
    console.print(app.screen._compositor.render_update(full=True, screen_stack=app._background_screens))
    return console.export_text()


def burst(pilot, *keys: str) -> None:
    """Keys arriving all at once, as from a password manager or a paste: every key is queued
    before the first is handled (pilot.press waits for each key; a busy machine may not)."""
    from textual import events
    from textual.keys import _character_to_key

    app = pilot.app
    for key in keys:
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        char = {"tab": "\t", "enter": "\r"}.get(key, key if len(key) == 1 else None)
        event = events.Key(name, char)
        event.set_sender(app)
        app._driver.send_message(event)
