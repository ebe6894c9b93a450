"""Create or edit a notification channel: its kind (generic, Slack, Discord webhooks; e-mail through
an SMTP server; an Apprise URL), where it goes (the URL, or the SMTP server and addresses), the
events it is sent for, and whether it is on; when editing, optionally a new signing secret. Only
the kind's own fields are shown. Secrets are never shown back: an SMTP password or an Apprise
URL left empty when editing stays as it is. The server validates; its `details` appear under
each field."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.widgets import Checkbox, Input, Label, Select, Static

from console.screens.base import NOT_AVAILABLE
from console.screens.form import FormModal, field_error, form_buttons

FORMATS = ("generic", "slack", "discord", "email", "apprise")
EVENTS = ("monitor.down", "monitor.up", "ssl.expiring", "domain.expiring", "anomaly.detected")
SECURITY = ("starttls", "tls", "none")
URL_LABELS = {"apprise": "Apprise URL (e.g. tgram://bottoken/chatid, ntfy://host/topic, msteams://…)"}
URL_LABEL = "URL (receives a POST on each status change)"


class WebhookForm(FormModal):
    """Dismisses with the saved webhook, or None."""

    ERROR_ID = "webhook-error"
    UNAVAILABLE = f"Webhooks are {NOT_AVAILABLE}."
    # An e-mail channel has more fields than a short terminal shows: the dialog scrolls.
    DEFAULT_CSS = """
    WebhookForm .dialog { max-height: 95%; }
    WebhookForm #channel-fields, WebhookForm #url-fields, WebhookForm #email-fields { height: auto; }
    WebhookForm .pair { height: auto; }
    WebhookForm .pair > Vertical { width: 1fr; height: auto; }
    """

    def __init__(self, webhook: dict | None = None):
        super().__init__()
        self.webhook = webhook

    def compose(self) -> ComposeResult:
        hook = self.webhook or {}
        email = hook.get("email") or {}
        kind = hook.get("format", "generic")
        # An Apprise URL comes back masked (scheme://…): never put it in the field to be sent again.
        url = "" if kind == "apprise" else hook.get("url", "")
        with VerticalScroll(classes="dialog"):
            yield Static("Edit notification channel" if self.webhook else "New notification channel",
                         classes="panel-title")
            yield self.form_error()
            yield Label("Kind")
            yield Select([(f, f) for f in FORMATS], value=kind, allow_blank=False, id="format")
            yield field_error("format")
            with Vertical(id="channel-fields"):
                with Vertical(id="url-fields"):
                    yield Label(URL_LABELS.get(kind, URL_LABEL), id="url-label")
                    yield Input(url, id="url", placeholder=self._url_placeholder(kind))
                    yield field_error("url")
                with Vertical(id="email-fields"):
                    with Horizontal(classes="pair"):
                        with Vertical():
                            yield Label("SMTP server")
                            yield Input(email.get("host") or "", id="email-host", placeholder="smtp.example.com")
                        with Vertical():
                            yield Label("Port (empty: the usual one)")
                            yield Input(str(email.get("port") or ""), id="email-port", type="integer",
                                        placeholder="587")
                    yield Label("Security")
                    yield Select([(s, s) for s in SECURITY], value=email.get("security") or "starttls",
                                 allow_blank=False, id="email-security")
                    with Horizontal(classes="pair"):
                        with Vertical():
                            yield Label("Username (empty: no login)")
                            yield Input(email.get("username") or "", id="email-username")
                        with Vertical():
                            yield Label("Password")
                            yield Input("", id="email-password", password=True,
                                        placeholder="(set: empty keeps it)" if email.get("password_set") else "")
                    yield Label("From")
                    yield Input(email.get("from") or "", id="email-from", placeholder="statuscore@example.com")
                    yield Label("To (comma-separated)")
                    yield Input(", ".join(email.get("to") or []), id="email-to", placeholder="ops@example.com")
                    yield field_error("email")
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

    def on_mount(self) -> None:
        self._show_kind(self.webhook.get("format", "generic") if self.webhook else "generic")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "format":
            self._show_kind(str(event.value))

    def _show_kind(self, kind: str) -> None:
        """Only the chosen kind's fields: a URL, or the SMTP server and addresses."""
        self.query_one("#url-fields").display = kind != "email"
        self.query_one("#email-fields").display = kind == "email"
        self.query_one("#url-label", Label).update(URL_LABELS.get(kind, URL_LABEL))
        self.query_one("#url", Input).placeholder = self._url_placeholder(kind)

    def _url_placeholder(self, kind: str) -> str:
        if kind == "apprise":
            editing = self.webhook and self.webhook.get("format") == "apprise"
            return f"{self.webhook.get('url')} (empty keeps it)" if editing else "ntfy://ntfy.example.com/alerts"
        return "https://hooks.example.com/statuscore"

    def action_save(self) -> None:
        kind = str(self.query_one("#format", Select).value)
        body: dict = {
            "format": kind,
            "events": [box.name for box in self.query("Checkbox.event") if box.value],
            "enabled": self.query_one("#enabled", Checkbox).value,
        }
        url = self.query_one("#url", Input).value.strip()
        if kind == "email":
            body["email"] = self._email_settings()
        elif url or not (self.webhook and kind == "apprise" == self.webhook.get("format")):
            body["url"] = url  # an empty Apprise URL when editing one keeps it
        if self.webhook and self.query_one("#rotate_secret", Checkbox).value:
            body["rotate_secret"] = True
        if self.webhook:
            self.submit(self.client.update_webhook, self.webhook["id"], body)
        else:
            self.submit(self.client.create_webhook, **body)

    def _email_settings(self) -> dict:
        def value(name: str) -> str:
            return self.query_one(f"#email-{name}", Input).value.strip()

        settings: dict = {"host": value("host"), "security": str(self.query_one("#email-security", Select).value),
                          "from": value("from"), "to": [a.strip() for a in value("to").split(",") if a.strip()]}
        if value("port").isdigit():
            settings["port"] = int(value("port"))
        settings["username"] = value("username")  # empty: no login
        if self.query_one("#email-password", Input).value:  # empty: the password set before stays
            settings["password"] = self.query_one("#email-password", Input).value
        return settings
