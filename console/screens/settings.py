"""Settings: a tab each for webhooks (screens/webhooks.py), the public status page
(screens/status_page.py), API keys (screens/api_keys.py) and export/import of the configuration
(screens/transfer.py). The panels do the work; this screen holds the tabs and the keys, and each
key works on its own tab only."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import TabbedContent, TabPane

from console.screens.api_keys import ApiKeysPanel
from console.screens.base import ConsoleScreen
from console.screens.status_page import StatusPagePanel
from console.screens.transfer import TransferPanel
from console.screens.webhooks import WebhooksPanel
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar

# The tab each action works on (n and d mean one thing on the Webhooks tab, another on API keys).
ACTIONS_OF_TAB = {
    "webhooks-tab": {"new_webhook", "edit_webhook", "delete_webhook", "test_webhook", "deliveries", "toggle_webhook"},
    "status-page-tab": {"save_status_page"},
    "keys-tab": {"new_key", "revoke_key"},
    "transfer-tab": {"export", "dry_run", "apply_import"},
}
TAB_OF_ACTION = {action: tab for tab, actions in ACTIONS_OF_TAB.items() for action in actions}


class SettingsScreen(ConsoleScreen):
    PALETTE_GROUP = "Settings"
    NAV_ACTION = "settings"  # its key in the app's bindings: not in the footer while this screen is open
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

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        with TabbedContent(initial=self.tab):
            with TabPane("Webhooks", id="webhooks-tab"):
                yield WebhooksPanel(id="webhooks-panel")
            with TabPane("Status page", id="status-page-tab"):
                yield StatusPagePanel(id="status-page-form")
            with TabPane("API keys", id="keys-tab"):
                yield ApiKeysPanel(id="keys-panel")
            with TabPane("Export / import", id="transfer-tab"):
                yield TransferPanel(id="transfer-panel")
        yield ConsoleFooter()

    def refresh_data(self) -> None:
        """Each panel loads itself when mounted; this reloads them (r, or the connection is back)."""
        for panel_type in (WebhooksPanel, StatusPagePanel, ApiKeysPanel):
            for panel in self.query(panel_type):  # none until the tabs are composed
                panel.refresh_data()

    @property
    def webhooks_panel(self) -> WebhooksPanel:
        return self.query_one(WebhooksPanel)

    @property
    def keys_panel(self) -> ApiKeysPanel:
        return self.query_one(ApiKeysPanel)

    @property
    def transfer_panel(self) -> TransferPanel:
        return self.query_one(TransferPanel)

    # ---- which keys work now --------------------------------------------------------------------
    def on_tabbed_content_tab_activated(self, _event) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        tab = TAB_OF_ACTION.get(action)
        if tab is None:
            return True
        try:
            active = self.query_one(TabbedContent).active
        except Exception:  # noqa: BLE001 - not composed yet
            return True
        if active != tab:
            return False
        if action == "apply_import" and self.transfer_panel.plan is None:
            return None  # shown, greyed out, until a dry run has found something to apply
        return True

    # ---- the keys: each tab's panel does the work ---------------------------------------------------
    def action_new_webhook(self) -> None:
        self.webhooks_panel.new_webhook()

    def action_edit_webhook(self) -> None:
        self.webhooks_panel.edit_webhook()

    def action_delete_webhook(self) -> None:
        self.webhooks_panel.delete_webhook()

    def action_test_webhook(self) -> None:
        self.webhooks_panel.test_webhook()

    def action_toggle_webhook(self) -> None:
        self.webhooks_panel.toggle_webhook()

    def action_deliveries(self) -> None:
        self.webhooks_panel.list_deliveries()

    def action_save_status_page(self) -> None:
        self.query_one(StatusPagePanel).save()

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
