"""What every form shares: the Save and Cancel buttons (and ctrl+s / esc), and the server's
validation `details` shown under each field.

A form yields `self.form_error()` (the Static for the server's message, #<ERROR_ID>),
`field_error(name)` under each field (hidden until it has a problem) and `form_buttons()`, and
implements `action_save`, which sends the form with `submit(client_method, *args)`: `saved`
dismisses with the answer, `save_failed` puts a 400/409's details under their fields (a form
overrides either). FormModal is a dialog over the current screen; FormPage a screen of its own,
which checks `collect()`'s problems before it sends.
"""

from __future__ import annotations

from typing import Any, Callable

from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.dom import DOMNode
from textual.widget import Widget
from textual.widgets import Button, Label, Static

from console.client import ApiError
from console.screens.base import ConsoleModal, ConsoleScreen, not_available


def field_error(name: str) -> Static:
    """Where the server's problem with field `name` appears (hidden until there is one)."""
    return Static("", markup=False, id=f"{name}-error", classes="field-error")


def form_field(name: str, label: str | None, widget: Widget) -> Vertical:
    """A field of a FormPage (#field-<name>): its label, its widget and its error line."""
    label_line = [Label(label, classes="field-label")] if label else []
    return Vertical(*label_line, widget, field_error(name), id=f"field-{name}", classes="field")


def form_buttons(save: str = "Save (ctrl+s)", cancel: str = "Cancel (esc)") -> Horizontal:
    return Horizontal(Button(save, id="save", variant="primary"), Button(cancel, id="cancel"), classes="buttons")


def modal_bindings(save: str = "Save") -> list[Binding]:
    """esc cancels, ctrl+s saves (its label is the Save button's word)."""
    return [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "save", save, priority=True)]


def page_bindings(what: str) -> list[Binding]:
    """ctrl+s saves `what`, esc closes without saving."""
    return [Binding("ctrl+s", "save", "Save", priority=True, tooltip=f"Save {what}"),
            Binding("escape", "cancel", "Cancel", tooltip="Close without saving")]


def clear_field_errors(node: DOMNode) -> None:
    for widget in node.query(".field-error"):
        widget.update("")  # type: ignore[attr-defined]
        widget.remove_class("-shown")


def _first_part(key: str) -> str | None:
    return key.split(".")[0]


def show_field_errors(node: DOMNode, message: str, details: dict[str, str], general_id: str | None,
                      field_of: Callable[[str], str | None] = _first_part) -> str | None:
    """Each of `details` under its field (#<field_of(key)>-error; field_of says None where the field
    cannot take it); `message` and the problems no field took in #<general_id>, if given. Returns
    the first field that shows a problem."""
    clear_field_errors(node)
    first = None
    unplaced = []
    for key, problem in details.items():
        name = field_of(key)
        targets = list(node.query(f"#{name}-error")) if name else []
        if targets:
            targets[0].update(f"✖ {problem}")  # type: ignore[attr-defined]
            targets[0].add_class("-shown")
            first = first or name
        else:
            unplaced.append(f"{key}: {problem}")
    if general_id:
        node.query_one(f"#{general_id}", Static).update(
            "✖ " + message + ("\n" + "\n".join(unplaced) if unplaced else ""))
    return first


class FormActions:
    """Mixed into FormModal and FormPage (which carry the key bindings: a mixin's are not read)."""

    ERROR_ID = "form-error"  # the Static for the server's message and the problems no field takes
    UNAVAILABLE = ""  # shown there when this server has no such endpoint, e.g. "Probes are not available ..."
    CANCELLED: Any = None  # what the form dismisses with on Cancel
    SAVE_ON_ENTER = False  # enter in an Input saves

    def form_error(self) -> Static:
        """The Static for the server's message (#<ERROR_ID>)."""
        return Static("", markup=False, id=self.ERROR_ID, classes="form-error")

    def action_save(self) -> None:
        raise NotImplementedError

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """Send the form: the answer goes to `saved`, an error to `save_failed`."""
        self.call_api("save", fn, *args, on_done=self.saved, on_error=self.save_failed,  # type: ignore[attr-defined]
                      **kwargs)

    def action_cancel(self) -> None:
        self.dismiss(self.CANCELLED)  # type: ignore[attr-defined]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        elif event.button.id == "cancel":
            self.action_cancel()

    def on_input_submitted(self, _event) -> None:
        if self.SAVE_ON_ENTER:
            self.action_save()

    def error_field(self, key: str) -> str | None:
        """The field a `details` key belongs under, or None to list it with the message."""
        return _first_part(key)

    def clear_errors(self) -> None:
        clear_field_errors(self)  # type: ignore[arg-type]
        for widget in self.query(f"#{self.ERROR_ID}"):  # type: ignore[attr-defined]
            widget.update("")

    def show_errors(self, message: str, details: dict[str, str]) -> str | None:
        return show_field_errors(self, message, details, self.ERROR_ID, self.error_field)  # type: ignore[arg-type]

    def saved(self, answer: Any) -> None:
        self.dismiss(answer)  # type: ignore[attr-defined]

    def save_failed(self, error: ApiError) -> bool:
        if error.status in (400, 409) or error.details:
            self.show_errors(error.message, error.details)
            return True
        if self.UNAVAILABLE and not_available(error):
            self.query_one(f"#{self.ERROR_ID}", Static).update(f"✖ {self.UNAVAILABLE}")  # type: ignore[attr-defined]
            return True
        return False


class FormModal(FormActions, ConsoleModal):
    """A form in a dialog: dismisses with the server's answer, or None."""

    BINDINGS = modal_bindings()


class FormPage(FormActions, ConsoleScreen):
    """A form on a screen of its own: problems found before sending are marked like the server's;
    Save is disabled while the request runs. Subclasses set BINDINGS = page_bindings("the ...")."""

    SAVE_ON_ENTER = True
    GONE = ""  # the notification when the object edited no longer exists (a 404)
    FOCUS_OF: dict[str, str] = {}  # the widget to focus for a field's problem, where not #<field>

    def collect(self) -> tuple[dict, dict[str, str]]:
        """The request body, and problems found before asking the server."""
        raise NotImplementedError

    def send(self, body: dict) -> None:
        """Ask the server (`submit`), or dismiss if there is nothing to send."""
        raise NotImplementedError

    def submit(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        super().submit(fn, *args, **kwargs)
        self.query_one("#save", Button).disabled = True

    def action_save(self) -> None:
        if self.busy("save"):
            return
        body, problems = self.collect()
        if problems:
            self.show_errors("Please correct the marked fields.", problems)
            return
        self.clear_errors()
        self.send(body)

    def show_errors(self, message: str, details: dict[str, str]) -> str | None:
        first = super().show_errors(message, details)
        if first:
            widget = self.query_one("#" + self.FOCUS_OF.get(first, first))
            widget.focus()
            widget.scroll_visible()
        return first

    def save_failed(self, error: ApiError) -> bool:
        self.query_one("#save", Button).disabled = False
        if super().save_failed(error):
            return True
        if error.status == 404:
            self.notify(self.GONE, severity="warning")
            self.dismiss(None)
            return True
        return False
