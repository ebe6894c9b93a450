"""Create or edit a webhook: the URL it posts to, the payload's format, the events it is sent
for, and whether it is on; when editing, optionally a new signing secret. The server validates;
its `details` appear under each field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widgets import Checkbox, Input, Label, Select, Static

from console.screens.base import NOT_AVAILABLE
from console.screens.form import FormModal, field_error, form_buttons

FORMATS = ("generic", "slack", "discord")
EVENTS = ("monitor.down", "monitor.up", "ssl.expiring", "domain.expiring", "anomaly.detected")


class WebhookForm(FormModal):
    """Dismisses with the saved webhook, or None."""

    ERROR_ID = "webhook-error"
    UNAVAILABLE = f"Webhooks are {NOT_AVAILABLE}."

    def __init__(self, webhook: dict | None = None):
        super().__init__()
        self.webhook = webhook

    def compose(self) -> ComposeResult:
        hook = self.webhook or {}
        with Vertical(classes="dialog"):
            yield Static("Edit webhook" if self.webhook else "New webhook", classes="panel-title")
            yield self.form_error()
            yield Label("URL (receives a POST on each status change)")
            yield Input(hook.get("url", ""), id="url", placeholder="https://hooks.example.com/statuscore")
            yield field_error("url")
            yield Label("Format")
            yield Select([(f, f) for f in FORMATS], value=hook.get("format", "generic"), allow_blank=False,
                         id="format")
            yield field_error("format")
            yield Label("Events")
            chosen = set(hook.get("events") or ("monitor.down", "monitor.up"))
            with Horizontal(id="events", classes="checkbox-row"):
                for event in dict.fromkeys((*EVENTS, *chosen)):
                    yield Checkbox(event, event in chosen, name=event, classes="event")
            yield field_error("events")
            if self.webhook:
                yield Checkbox("Rotate the signing secret", False, id="rotate_secret")
            yield Checkbox("Enabled", hook.get("enabled", True), id="enabled")
            yield field_error("enabled")
            yield form_buttons()

    def action_save(self) -> None:
        body = {
            "url": self.query_one("#url", Input).value.strip(),
            "format": self.query_one("#format", Select).value,
            "events": [box.name for box in self.query("Checkbox.event") if box.value],
            "enabled": self.query_one("#enabled", Checkbox).value,
        }
        if self.webhook and self.query_one("#rotate_secret", Checkbox).value:
            body["rotate_secret"] = True
        if self.webhook:
            self.submit(self.client.update_webhook, self.webhook["id"], body)
        else:
            self.submit(self.client.create_webhook, **body)
