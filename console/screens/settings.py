"""Settings: webhooks (create, edit, delete, enable/disable, send a test, recent deliveries), the
public status page (company name and slug), API keys (screens/api_keys.py) and export/import of
the configuration (screens/transfer.py). Each tab's keys work on that tab only."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, DataTable, Footer, Input, Label, Static, TabbedContent, TabPane

from console.client import ApiError
from console.screens.api_keys import ApiKeysPanel
from console.screens.base import NOT_AVAILABLE, ConsoleScreen, not_available
from console.screens.confirm import ask_first
from console.screens.form import clear_field_errors, field_error, show_field_errors
from console.screens.lists import refilling, selected_item
from console.screens.transfer import TransferPanel
from console.screens.webhook_form import WebhookForm
from console.widgets import ConnectionBanner, TitleBar
from console.widgets.status import short_time

DELIVERY_COLUMNS = ("id", "event", "state", "status", "attempt_count", "last_status_code", "status_code",
                    "created_at", "finished_at", "next_attempt_at", "last_error", "error")
WEBHOOK_ACTIONS = {"new_webhook", "edit_webhook", "delete_webhook", "test_webhook", "deliveries",
                   "toggle_webhook"}
KEY_ACTIONS = {"new_key", "revoke_key"}
TRANSFER_ACTIONS = {"export", "dry_run", "apply_import"}


class SettingsScreen(ConsoleScreen):
    PALETTE_GROUP = "Settings"
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("n", "new_webhook", "New webhook", tooltip="Add a webhook"),
        Binding("e", "edit_webhook", "Edit", tooltip="Edit the selected webhook"),
        Binding("d", "delete_webhook", "Delete", tooltip="Delete the selected webhook (asks first)"),
        Binding("t", "test_webhook", "Send test", tooltip="Send a test delivery to the selected webhook"),
        Binding("x", "toggle_webhook", "Enable/Disable", tooltip="Enable or disable the selected webhook"),
        Binding("l", "deliveries", "Deliveries", tooltip="Recent deliveries of the selected webhook"),
        Binding("ctrl+s", "save_status_page", "Save status page", priority=True,
                tooltip="Save the status page's company name and slug"),
        Binding("n", "new_key", "New API key", tooltip="Create an API key (shown once)"),
        Binding("d", "revoke_key", "Revoke key", tooltip="Revoke the selected API key (asks first)"),
        Binding("ctrl+o", "export", "Export", priority=True,
                tooltip="Write your configuration to the file named (YAML or JSON)"),
        Binding("ctrl+t", "dry_run", "Dry-run import", priority=True,
                tooltip="Show what importing the file named would change (changes nothing)"),
        Binding("ctrl+y", "apply_import", "Apply import", priority=True,
                tooltip="Apply the import the dry run showed (asks first)"),
        Binding("r", "refresh", "Refresh", tooltip="Reload"),
    ]

    def __init__(self, tab: str = "webhooks-tab") -> None:
        super().__init__()
        self.tab = tab
        self.webhooks: list[dict] = []

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        with TabbedContent(initial=self.tab):
            with TabPane("Webhooks", id="webhooks-tab"):
                with Vertical(classes="tab-body"):
                    yield Static("", markup=False, id="webhooks-notice", classes="notice")
                    yield DataTable(id="webhooks", cursor_type="row", zebra_stripes=True)
                    yield Static("Deliveries (select a webhook and press l)", id="deliveries-title",
                                 classes="panel-title")
                    yield DataTable(id="deliveries", zebra_stripes=True)
            with TabPane("Status page", id="status-page-tab"):
                with Vertical(id="status-page-form", classes="tab-body"):
                    yield Static("Your public status page shows the monitors you mark public (p on the "
                                 "dashboard).", classes="hint")
                    yield Static("", markup=False, id="status-page-error", classes="form-error")
                    yield Label("Company name")
                    yield Input(id="company_name", placeholder="Example Ltd")
                    yield field_error("company_name")
                    yield Label("Slug (the page's address: /status/<slug>)")
                    yield Input(id="slug", placeholder="example")
                    yield field_error("slug")
                    yield Static("", markup=False, id="status-page-url")
                    with Horizontal(classes="buttons"):
                        yield Button("Save (ctrl+s)", id="save-status-page", variant="primary")
            with TabPane("API keys", id="keys-tab"):
                yield ApiKeysPanel(id="keys-panel")
            with TabPane("Export / import", id="transfer-tab"):
                yield TransferPanel(id="transfer-panel")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#webhooks", DataTable).add_columns("ID", "URL", "Format", "Events", "Enabled", "Health")
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load_webhooks()
        self.call_api("status_page", self.client.get_status_page, on_done=self.show_status_page,
                      on_error=self._status_page_failed)
        for panel in self.query(ApiKeysPanel):
            panel.refresh_data()

    @property
    def keys_panel(self) -> ApiKeysPanel:
        return self.query_one(ApiKeysPanel)

    @property
    def transfer_panel(self) -> TransferPanel:
        return self.query_one(TransferPanel)

    def on_tabbed_content_tab_activated(self, _event) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        try:
            active = self.query_one(TabbedContent).active
        except Exception:  # noqa: BLE001 - not composed yet
            return True
        if action in WEBHOOK_ACTIONS:
            return active == "webhooks-tab"
        if action == "save_status_page":
            return active == "status-page-tab"
        if action in KEY_ACTIONS:
            return active == "keys-tab"
        if action in TRANSFER_ACTIONS:
            if active != "transfer-tab":
                return False
            return None if action == "apply_import" and self.transfer_panel.plan is None else True
        return True

    # ---- webhooks ---------------------------------------------------------------------------
    def _load_webhooks(self) -> None:
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

    def _selected(self) -> dict | None:
        return selected_item(self, "webhooks", self.webhooks, "Select a webhook first.")

    def action_new_webhook(self) -> None:
        self.app.push_screen(WebhookForm(), self._saved)

    def action_edit_webhook(self) -> None:
        hook = self._selected()
        if hook:
            self.app.push_screen(WebhookForm(hook), self._saved)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "webhooks":
            event.stop()
            self.action_edit_webhook()

    def _saved(self, webhook: dict | None) -> None:
        if webhook:
            self.notify(f"Saved the webhook to {webhook.get('url')}.")
            self._load_webhooks()

    def action_delete_webhook(self) -> None:
        hook = self._selected()
        if hook:
            ask_first(self.app, f"Delete the webhook to {hook.get('url')}?", "Delete",
                      lambda: self.call_api("deleted", self.client.delete_webhook, hook["id"],
                                            on_done=self._deleted))

    def _deleted(self, _none) -> None:
        self.notify("Webhook deleted.")
        self._load_webhooks()

    def action_toggle_webhook(self) -> None:
        hook = self._selected()
        if hook:
            self.call_api("toggled", self.client.update_webhook, hook["id"], enabled=not hook.get("enabled", True),
                          on_done=self._toggled)

    def _toggled(self, hook: dict) -> None:
        self.notify(f"Webhook {'enabled' if hook.get('enabled') else 'disabled'}.")
        self._load_webhooks()

    def action_test_webhook(self) -> None:
        hook = self._selected()
        if hook:
            self.notify(f"Sending a test to {hook.get('url')}…")
            self.call_api("tested", self.client.test_webhook, hook["id"], on_done=self._tested,
                          on_error=self._test_failed)
            self._test_hook = hook

    def _tested(self, answer) -> None:
        answer = answer if isinstance(answer, dict) else {}
        delivered = answer.get("delivered", answer.get("ok", True))
        parts = []
        if answer.get("status_code") is not None:
            parts.append(f"HTTP {answer['status_code']}")
        if answer.get("duration_ms") is not None:
            parts.append(f"in {answer['duration_ms']} ms")
        if answer.get("error"):
            parts.append(str(answer["error"]))
        self.notify(("Delivered" if delivered else "Not delivered") + (": " + " ".join(parts) if parts else "."),
                    title="Webhook test", severity="information" if delivered else "warning")
        self.last_test = answer
        hook = getattr(self, "_test_hook", None)
        if hook:
            self._load_deliveries(hook)

    def _test_failed(self, error: ApiError) -> bool:
        if not_available(error):
            self.notify(f"Webhook tests are {NOT_AVAILABLE}.", severity="warning")
            return True
        return False

    def action_deliveries(self) -> None:
        hook = self._selected()
        if hook:
            self._test_hook = hook
            self._load_deliveries(hook)

    def _load_deliveries(self, hook: dict) -> None:
        self.call_api("deliveries", self.client.webhook_deliveries, hook["id"], on_done=self.show_deliveries,
                      on_error=self.show_if_unavailable("#deliveries-title", f"Deliveries are {NOT_AVAILABLE}."))

    def show_deliveries(self, deliveries) -> None:
        if isinstance(deliveries, dict):  # tolerate {"deliveries": [...]}
            deliveries = deliveries.get("deliveries") or deliveries.get("items") or []
        deliveries = list(deliveries or [])
        table = self.query_one("#deliveries", DataTable)
        table.clear(columns=True)
        present = [c for c in DELIVERY_COLUMNS if any(c in d for d in deliveries)]
        if not present and deliveries:
            present = [k for k in deliveries[0] if not isinstance(deliveries[0][k], (dict, list))][:7]
        for column in present:
            table.add_column(column.replace("_", " ").capitalize(), key=column)
        for delivery in deliveries:
            row = []
            for column in present:
                value = delivery.get(column)
                row.append(short_time(value) if column.endswith("_at") and value else
                           "—" if value is None else str(value))
            table.add_row(*row)
        hook = getattr(self, "_test_hook", None) or {}
        self.query_one("#deliveries-title", Static).update(
            f"Deliveries to {hook.get('url', '?')}: {len(deliveries)}")

    # ---- API keys and export/import (their panels do the work) ----------------------------------
    def action_new_key(self) -> None:
        self.keys_panel.new_key()

    def action_revoke_key(self) -> None:
        self.keys_panel.revoke_key()

    def action_export(self) -> None:
        self.transfer_panel.export()

    def action_dry_run(self) -> None:
        self.transfer_panel.dry_run()

    def action_apply_import(self) -> None:
        self.transfer_panel.apply()

    # ---- status page --------------------------------------------------------------------------
    def show_status_page(self, page: dict) -> None:
        page = page or {}
        self.query_one("#company_name", Input).value = page.get("company_name") or ""
        self.query_one("#slug", Input).value = page.get("slug") or ""
        self._show_url(page.get("slug"), page.get("url"))

    def _status_page_failed(self, error: ApiError) -> bool:
        if error.status == 404:  # no such endpoint on this server: fall back to /me
            slug = (self.console_app.user or {}).get("statusPageSlug")
            if slug:
                self.query_one("#slug", Input).value = slug
                self._show_url(slug)
            else:
                self.query_one("#status-page-url", Static).update(
                    Text(f"Status page settings are {NOT_AVAILABLE}.", style="dim"))
            return True
        return False

    def _show_url(self, slug: str | None, path: str | None = None) -> None:
        text = Text()
        if slug:
            text.append("Public page: ", style="dim")
            text.append(f"{self.client.server_url}{path or '/status/' + slug}", style="bold")
        else:
            text.append("No status page set up yet (choose a slug).", style="dim")
        self.query_one("#status-page-url", Static).update(text)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save-status-page":
            self.action_save_status_page()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in ("company_name", "slug"):
            self.action_save_status_page()

    def action_save_status_page(self) -> None:
        clear_field_errors(self.query_one("#status-page-form"))
        self.query_one("#status-page-error", Static).update("")
        self.call_api("status_page_saved", self.client.update_status_page,
                      self.query_one("#company_name", Input).value.strip(),
                      self.query_one("#slug", Input).value.strip() or None,
                      on_done=self._status_page_saved, on_error=self._status_page_save_failed)

    def _status_page_saved(self, page: dict) -> None:
        self.notify("Status page saved.")
        self.show_status_page(page or {})
        if self.console_app.user is not None and page:
            self.console_app.user["statusPageSlug"] = page.get("slug")

    def _status_page_save_failed(self, error: ApiError) -> bool:
        if error.status in (400, 409) or error.details:
            show_field_errors(self, error.message, error.details, "status-page-error")
            return True
        if not_available(error):
            self.query_one("#status-page-error", Static).update(f"✖ The status page is {NOT_AVAILABLE}.")
            return True
        return False
