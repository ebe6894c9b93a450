"""API keys (a tab of Settings): named, revocable keys for scripts and Prometheus, read-only or
read-write. A new key is shown once, in a dialog that says to copy it now; the server keeps only
a hash of it. Its own API calls, like a screen's (ApiCalls); the Settings screen's keys drive it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Input, Label, Select, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ApiCalls, not_available
from console.screens.confirm import ask_first
from console.screens.form import FormModal, field_error, form_buttons, modal_bindings
from console.screens.lists import refilling, selected_item
from console.screens.shown_once import ShownOnceDialog
from console.widgets.status import short_time

SCOPES = [("read — can only read (GET)", "read"), ("write — can also change things", "write")]
SCOPE_LOOK = {"read": ("◇ read", "green"), "write": ("◆ write", "bold yellow")}


class ApiKeyForm(FormModal):
    """Name and scope of a new key; dismisses with the server's answer (carrying the key) or None."""

    BINDINGS = modal_bindings("Create")
    ERROR_ID = "key-error"
    UNAVAILABLE = f"API keys are {NOT_AVAILABLE}."
    SAVE_ON_ENTER = True

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("New API key", classes="panel-title")
            yield self.form_error()
            yield Label("Name (what uses it, e.g. prometheus or deploy-script)")
            yield Input(id="name")
            yield field_error("name")
            yield Label("Scope")
            yield Select(SCOPES, value="read", allow_blank=False, id="scope")
            yield field_error("scope")
            yield form_buttons("Create (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def action_save(self) -> None:
        if self.busy("save"):
            return
        self.submit(self.client.create_api_key, self.query_one("#name", Input).value.strip(),
                    self.query_one("#scope", Select).value)


class ApiKeyShownDialog(ShownOnceDialog):
    """The new key, this once: copy it now."""

    def __init__(self, answer: dict):
        super().__init__(
            f"API key “{answer.get('name')}” created ({answer.get('scope')})", answer.get("key") or "?",
            "Copy it now: this is the only time the key is shown. StatusCore keeps only a hash "
            "of it; if it is lost, revoke it and create another.",
            "Use it as the header  Authorization: Bearer <key>")
        self.answer = answer


class ApiKeysPanel(ApiCalls, Vertical):
    """The user's keys: name, scope, prefix, created, last used."""

    DEFAULT_CSS = """
    ApiKeysPanel {
        height: 1fr;
        padding: 0 1;
    }
    ApiKeysPanel > DataTable {
        height: 1fr;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keys: list[dict] = []

    def compose(self) -> ComposeResult:
        yield Static("Keys let scripts and Prometheus use the API without your password "
                     "(Authorization: Bearer sc_…). A read key cannot change anything.", classes="hint")
        yield Static("", markup=False, id="keys-notice", classes="notice")
        yield DataTable(id="keys", cursor_type="row", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#keys", DataTable).add_columns("Name", "Scope", "Prefix", "Created", "Last used")
        self.refresh_data()

    def refresh_data(self) -> None:
        if not self.busy("keys"):
            self.call_api("keys", self.client.list_api_keys, on_done=self.show_keys,
                          on_error=self.show_if_unavailable("#keys-notice", f"API keys are {NOT_AVAILABLE}."))

    def show_keys(self, keys: list[dict]) -> None:
        self.keys = list(keys)
        with refilling(self.query_one("#keys", DataTable)) as table:
            for key in self.keys:
                label, style = SCOPE_LOOK.get(key.get("scope"), (str(key.get("scope")), "magenta"))
                used = key.get("last_used_at")
                table.add_row(Text(key.get("name") or ""), Text(label, style=style),
                              Text(f"{key.get('prefix') or ''}…"), short_time(key.get("created_at")),
                              short_time(used) if used else Text("never", style="dim"), key=str(key.get("id")))
        self.query_one("#keys-notice", Static).update("" if self.keys else "No API keys yet — press n to create one.")

    def selected(self) -> dict | None:
        return selected_item(self, "keys", self.keys, "Select an API key first.")

    # ---- create and revoke --------------------------------------------------------------------
    def new_key(self) -> None:
        self.app.push_screen(ApiKeyForm(), self._created)

    def _created(self, answer: dict | None) -> None:
        if answer:
            self.refresh_data()
            self.app.push_screen(ApiKeyShownDialog(answer))

    def revoke_key(self) -> None:
        key = self.selected()
        if key:
            ask_first(self.app, f"Revoke the API key “{key.get('name')}” ({key.get('prefix')}…)? "
                                "Whatever uses it stops working at once.", "Revoke",
                      lambda: self.call_api("revoked", _revoke, self.client, key, on_done=self._revoked,
                                            on_error=self._revoke_failed))

    def _revoked(self, key: dict) -> None:
        self.notify(f"Revoked the API key “{key.get('name')}”.")
        self.refresh_data()

    def _revoke_failed(self, error: ApiError) -> bool:
        if error.status == 404 and not not_available(error):
            self.notify("That API key no longer exists.", severity="warning")
            self.refresh_data()
            return True
        return False


def _revoke(client, key: dict) -> dict:
    client.delete_api_key(key["id"])
    return key
