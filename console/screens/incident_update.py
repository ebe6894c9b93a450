"""Post an update on an incident for status page visitors (Statuspage-style): where the work
stands (investigating, identified, monitoring, resolved) and a message. Opened with `u` on a
monitor's incident; the server validates and shows it on the public page and in its feed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from console.screens.base import NOT_AVAILABLE
from console.screens.form import FormModal, field_error, form_buttons, modal_bindings

STATUSES = [("Investigating — looking into it", "investigating"), ("Identified — the cause is known", "identified"),
            ("Monitoring — a fix is out, watching", "monitoring"), ("Resolved — it is over", "resolved")]


class IncidentUpdateForm(FormModal):
    """Dismisses with the posted update, or None."""

    BINDINGS = modal_bindings("Post")
    ERROR_ID = "update-error"
    UNAVAILABLE = f"Incident updates are {NOT_AVAILABLE}."
    SAVE_ON_ENTER = True

    def __init__(self, incident_id: int, title: str):
        super().__init__()
        self.incident_id = incident_id
        self.title = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Update on {self.title}", classes="panel-title", markup=False)
            yield self.form_error()
            yield Label("Status")
            yield Select(STATUSES, value="investigating", allow_blank=False, id="status")
            yield field_error("status")
            yield Label("Message (shown on the public status page and in its feed)")
            yield Input(id="message", placeholder="We are looking into failed payments.")
            yield field_error("message")
            yield form_buttons("Post (ctrl+s)")

    def on_mount(self) -> None:
        self.query_one("#message", Input).focus()

    def action_save(self) -> None:
        if self.busy("save"):
            return
        self.submit(self.client.post_incident_update, self.incident_id, self.query_one("#status", Select).value,
                    self.query_one("#message", Input).value.strip())
