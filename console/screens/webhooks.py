"""Webhooks (a tab of Settings): the list, with create, edit, delete, enable/disable and a test
send, and the recent deliveries of the selected webhook. The form is screens/webhook_form.py.
Its own API calls, like a screen's (ApiCalls); the Settings screen's keys drive it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ApiCalls, not_available
from console.screens.confirm import ask_first
from console.screens.lists import refilling, selected_item
from console.screens.shown_once import ShownOnceDialog
from console.screens.webhook_form import WebhookForm
from console.widgets import DeliveriesTable
from console.widgets.deliveries import as_deliveries


def summarize_test_send(answer: dict) -> tuple[str, bool]:
    """What a test send's answer says ("Delivered: HTTP 200 in 12 ms"), and whether it arrived."""
    delivered = answer.get("delivered", answer.get("ok", True))
    parts = []
    if answer.get("status_code") is not None:
        parts.append(f"HTTP {answer['status_code']}")
    if answer.get("duration_ms") is not None:
        parts.append(f"in {answer['duration_ms']} ms")
    if answer.get("error"):
        parts.append(str(answer["error"]))
    return ("Delivered" if delivered else "Not delivered") + (": " + " ".join(parts) if parts else "."), delivered


class WebhooksPanel(ApiCalls, Vertical):
    """Your webhooks, and one webhook's recent deliveries (l, or after a test send)."""

    DEFAULT_CSS = """
    WebhooksPanel {
        height: 1fr;
        padding: 0 1;
    }
    WebhooksPanel #webhooks {
        height: auto;
        max-height: 60%;
    }
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.webhooks: list[dict] = []
        self.deliveries_of: dict | None = None  # the webhook whose deliveries are shown (or on their way)
        self.last_test: dict | None = None  # the answer to the last test send

    def compose(self) -> ComposeResult:
        yield Static("", markup=False, id="webhooks-notice", classes="notice")
        yield DataTable(id="webhooks", cursor_type="row", zebra_stripes=True)
        yield Static("Deliveries (select a webhook and press l)", id="deliveries-title", classes="panel-title")
        yield DeliveriesTable(id="deliveries", zebra_stripes=True)

    def on_mount(self) -> None:
        self.query_one("#webhooks", DataTable).add_columns("ID", "URL", "Format", "Events", "Enabled", "Health")
        self.refresh_data()

    def refresh_data(self) -> None:
        self.call_api("webhooks", self.client.list_webhooks, on_done=self.show_webhooks,
                      on_error=self.show_if_unavailable("#webhooks-notice", f"Webhooks are {NOT_AVAILABLE}."))

    def show_webhooks(self, webhooks: list[dict]) -> None:
        self.webhooks = list(webhooks)
        with refilling(self.query_one("#webhooks", DataTable)) as table:
            for hook in self.webhooks:
                enabled = hook.get("enabled", True)
                table.add_row(str(hook.get("id")), hook.get("url") or "", hook.get("format") or "",
                              ", ".join(hook.get("events") or []),
                              Text("✔ yes" if enabled else "✖ no", style="green" if enabled else "dim"),
                              Text("✖ failing", style="red") if hook.get("failing") else Text("ok", style="green"),
                              key=str(hook.get("id")))
        self.query_one("#webhooks-notice", Static).update(
            "" if self.webhooks else "No webhooks yet — press n to add one.")

    def selected(self) -> dict | None:
        return selected_item(self, "webhooks", self.webhooks, "Select a webhook first.")

    # ---- create, edit, delete, enable/disable ----------------------------------------------------
    def new_webhook(self) -> None:
        self.app.push_screen(WebhookForm(), self._saved)

    def edit_webhook(self) -> None:
        hook = self.selected()
        if hook:
            self.app.push_screen(WebhookForm(hook), self._saved)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "webhooks":
            event.stop()
            self.edit_webhook()

    def _saved(self, webhook: dict | None) -> None:
        if webhook:
            self.notify(f"Saved the webhook to {webhook.get('url')}.")
            self.refresh_data()
            secret = webhook.get("secret") or ""
            if secret and "*" not in secret:  # new or rotated: the only answer that carries it in full
                self.app.push_screen(ShownOnceDialog(
                    f"Signing secret of the webhook to {webhook.get('url')}", secret,
                    "Copy it now: this is the only time the secret is shown. Your receiver checks "
                    "X-StatusCore-Signature with it; if it is lost, edit the webhook and rotate it.",
                    "X-StatusCore-Signature: sha256=<hex HMAC-SHA256 of the body with this secret>"))

    def delete_webhook(self) -> None:
        hook = self.selected()
        if hook:
            ask_first(self.app, f"Delete the webhook to {hook.get('url')}?", "Delete",
                      lambda: self.call_api("deleted", self.client.delete_webhook, hook["id"],
                                            on_done=self._deleted))

    def _deleted(self, _none) -> None:
        self.notify("Webhook deleted.")
        self.refresh_data()

    def toggle_webhook(self) -> None:
        hook = self.selected()
        if hook:
            self.call_api("toggled", self.client.update_webhook, hook["id"], enabled=not hook.get("enabled", True),
                          on_done=self._toggled)

    def _toggled(self, hook: dict) -> None:
        self.notify(f"Webhook {'enabled' if hook.get('enabled') else 'disabled'}.")
        self.refresh_data()

    # ---- test send and deliveries ---------------------------------------------------------------
    def test_webhook(self) -> None:
        hook = self.selected()
        if hook:
            self.notify(f"Sending a test to {hook.get('url')}…")
            self.deliveries_of = hook
            self.call_api("tested", self.client.test_webhook, hook["id"], on_done=self._tested,
                          on_error=self._test_failed)

    def _tested(self, answer) -> None:
        answer = answer if isinstance(answer, dict) else {}
        summary, delivered = summarize_test_send(answer)
        self.notify(summary, title="Webhook test", severity="information" if delivered else "warning")
        self.last_test = answer
        if self.deliveries_of:
            self._load_deliveries(self.deliveries_of)  # the test's own delivery is among them

    def _test_failed(self, error: ApiError) -> bool:
        if not_available(error):
            self.notify(f"Webhook tests are {NOT_AVAILABLE}.", severity="warning")
            return True
        return False

    def list_deliveries(self) -> None:
        hook = self.selected()
        if hook:
            self.deliveries_of = hook
            self._load_deliveries(hook)

    def _load_deliveries(self, hook: dict) -> None:
        self.call_api("deliveries", self.client.webhook_deliveries, hook["id"], on_done=self.show_deliveries,
                      on_error=self.show_if_unavailable("#deliveries-title", f"Deliveries are {NOT_AVAILABLE}."))

    def show_deliveries(self, answer) -> None:
        deliveries = as_deliveries(answer)
        self.query_one(DeliveriesTable).show(deliveries)
        hook = self.deliveries_of or {}
        self.query_one("#deliveries-title", Static).update(
            f"Deliveries to {hook.get('url', '?')}: {len(deliveries)}")
