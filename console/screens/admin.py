"""Admin (administrators only): user accounts, locations and probes, the check engine's health."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import (Button, Checkbox, DataTable, Input, Label, Select, Static,
                             TabbedContent, TabPane)

from console.client import ApiError
from console.screens.base import NOT_AVAILABLE, ConsoleModal, ConsoleScreen, not_available
from console.screens.confirm import ask_first
from console.screens.form import FormModal, field_error, form_buttons, modal_bindings
from console.screens.lists import refilling, selected_item
from console.widgets import ConsoleFooter, ConnectionBanner, TitleBar
from console.widgets.status import ago, short_time


class UserForm(FormModal):
    """Create or edit a user account; dismisses with the saved user, or None."""

    ERROR_ID = "user-error"

    def __init__(self, user: dict | None = None):
        super().__init__()
        self.user = user

    def compose(self) -> ComposeResult:
        user = self.user or {}
        with Vertical(classes="dialog"):
            yield Static(f"Edit {user['email']}" if self.user else "New user", classes="panel-title")
            yield self.form_error()
            yield Label("Email")
            yield Input(user.get("email", ""), id="email")
            yield field_error("email")
            yield Label("Password" + (" (blank: unchanged)" if self.user else " (at least 8 characters)"))
            yield Input("", id="password", password=True)
            yield field_error("password")
            yield Label("Full name")
            yield Input(user.get("fullName", ""), id="full_name")
            yield field_error("full_name")
            yield Label("Subscription tier")
            yield Select([("free", "free"), ("pro", "pro")], value=user.get("subscriptionTier", "free"),
                         allow_blank=False, id="subscription_tier")
            yield field_error("subscription_tier")
            yield Checkbox("Administrator", bool(user.get("isAdmin")), id="is_admin")
            yield field_error("is_admin")
            yield form_buttons()

    def action_save(self) -> None:
        fields = {
            "email": self.query_one("#email", Input).value.strip(),
            "password": self.query_one("#password", Input).value,
            "full_name": self.query_one("#full_name", Input).value.strip(),
            "subscription_tier": self.query_one("#subscription_tier", Select).value,
            "is_admin": self.query_one("#is_admin", Checkbox).value,
        }
        if self.user:
            before = {"email": self.user.get("email"), "full_name": self.user.get("fullName"),
                      "subscription_tier": self.user.get("subscriptionTier"), "is_admin": self.user.get("isAdmin")}
            changes = {k: v for k, v in fields.items() if k != "password" and v != before.get(k)}
            if fields["password"]:
                changes["password"] = fields["password"]
            if not changes:
                self.dismiss(None)
                return
            self.submit(self.client.update_user, self.user["id"], changes)
        else:
            self.submit(self.client.create_user, **fields)


class ProbeForm(FormModal):
    """Register a remote probe; dismisses with {name, display_name, token} or None."""

    BINDINGS = modal_bindings("Register")
    ERROR_ID = "probe-error"
    UNAVAILABLE = f"Probes are {NOT_AVAILABLE}."

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Register a probe", classes="panel-title")
            yield self.form_error()
            yield Label("Location name (e.g. eu-frankfurt)")
            yield Input(id="name")
            yield field_error("name")
            yield Label("Display name (e.g. EU (Frankfurt))")
            yield Input(id="display_name")
            yield field_error("display_name")
            yield form_buttons("Register (ctrl+s)")

    def action_save(self) -> None:
        self._name = self.query_one("#name", Input).value.strip()
        self.submit(self.client.register_probe, self._name,
                    self.query_one("#display_name", Input).value.strip() or None)

    def saved(self, answer: dict) -> None:
        self.dismiss({"name": self._name, **(answer or {})})


class ProbeRenameForm(FormModal):
    """Change a probe's display name; dismisses with the probe, or None."""

    ERROR_ID = "probe-error"
    SAVE_ON_ENTER = True

    def __init__(self, probe: dict):
        super().__init__()
        self.probe = probe

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(f"Rename the probe “{self.probe.get('name')}”", markup=False, classes="panel-title")
            yield self.form_error()
            yield Label("Display name")
            yield Input(self.probe.get("display_name") or "", id="display_name")
            yield field_error("display_name")
            yield form_buttons()

    def action_save(self) -> None:
        self.submit(self.client.rename_probe, self.probe["id"], self.query_one("#display_name", Input).value.strip())


class ProbeTokenDialog(ConsoleModal):
    """The new probe's token, shown once, with the command that starts the probe."""

    BINDINGS = [Binding("escape,enter", "close", "Close")]

    def __init__(self, server_url: str, probe: dict):
        super().__init__()
        self.server_url = server_url
        self.probe = probe

    def compose(self) -> ComposeResult:
        token = self.probe.get("token", "?")
        with Vertical(classes="dialog"):
            yield Static(f"Probe “{self.probe.get('name')}” registered", classes="panel-title")
            yield Static("Its token is shown only now. Start the probe on the remote machine with:")
            yield Static(Text(f"statuscore probe --server {self.server_url} --token {token} "
                              f"--location {self.probe.get('name')}", style="bold"), id="probe-command")
            with Horizontal(classes="buttons"):
                yield Button("Close", id="close", variant="primary")

    def on_button_pressed(self, _event: Button.Pressed) -> None:
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


class AdminScreen(ConsoleScreen):
    PALETTE_GROUP = "Admin"
    NAV_ACTION = "admin"  # its key in the app's bindings: not in the footer while this screen is open
    BINDINGS = [
        Binding("escape", "back", "Back", tooltip="Back to the dashboard"),
        Binding("n", "new", "New", tooltip="New user (Users tab) or register a probe (Probes tab)"),
        Binding("e", "edit", "Edit", tooltip="Edit the selected user, or rename the selected probe"),
        Binding("d", "delete", "Delete", tooltip="Delete the selected user (and their data), or revoke the probe"),
        Binding("r", "refresh", "Refresh", tooltip="Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.users: list[dict] = []
        self.locations: list[dict] = []
        self.probes: dict[str, dict] = {}  # by location name

    def compose(self) -> ComposeResult:
        yield TitleBar()
        yield ConnectionBanner()
        yield Static("", markup=False, id="admin-notice", classes="notice")
        with TabbedContent(initial="users-tab"):
            with TabPane("Users", id="users-tab"):
                yield DataTable(id="users", cursor_type="row", zebra_stripes=True)
            with TabPane("Probes", id="probes-tab"):
                with Vertical(classes="tab-body"):
                    yield Static("", markup=False, id="probes-notice", classes="notice")
                    yield DataTable(id="locations", cursor_type="row", zebra_stripes=True)
            with TabPane("Engine", id="engine-tab"):
                yield Static("", markup=False, id="engine", classes="tab-body")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        self.query_one("#users", DataTable).add_columns("ID", "Email", "Name", "Tier", "Admin", "Created")
        self.query_one("#locations", DataTable).add_columns("Name", "Display name", "Kind", "Online", "Last seen")
        self.refresh_data()

    def refresh_data(self) -> None:
        self._load_users()
        self._load_locations()
        self.call_api("engine", self.client.engine_status, on_done=self.show_engine, on_error=self._engine_failed)

    def _load_users(self) -> None:
        self.call_api("users", self.client.list_users, on_done=self.show_users, on_error=self._users_failed)

    def _load_locations(self) -> None:
        """The locations, and the probes among them (which the table marks as such)."""
        self.call_api("locations", self.client.list_locations, on_done=self._locations_loaded,
                      on_error=self.show_if_unavailable("#probes-notice",
                                                        f"Locations and probes are {NOT_AVAILABLE}."))
        self.call_api("probes", self.client.list_probes, on_done=self._probes_loaded, on_error=self._probes_failed)

    @property
    def active_tab(self) -> str:
        return self.query_one(TabbedContent).active

    def on_tabbed_content_tab_activated(self, _event) -> None:
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        try:
            active = self.query_one(TabbedContent).active
        except Exception:  # noqa: BLE001 - not composed yet
            return True
        if action in ("edit", "delete", "new"):
            return active in ("users-tab", "probes-tab")
        return True

    # ---- users ----------------------------------------------------------------------------------
    def show_users(self, users: list[dict]) -> None:
        self.users = list(users)
        with refilling(self.query_one("#users", DataTable)) as table:
            for user in self.users:
                table.add_row(str(user.get("id")), user.get("email") or "", user.get("fullName") or "",
                              user.get("subscriptionTier") or "",
                              Text("✔ admin", style="bold") if user.get("isAdmin") else "",
                              short_time(user.get("createdAt")), key=str(user.get("id")))

    def _users_failed(self, error: ApiError) -> bool:
        if error.status == 403:
            self.query_one("#admin-notice", Static).update("This needs an administrator account.")
            return True
        return False

    def _selected_user(self) -> dict | None:
        return selected_item(self, "users", self.users, "Select a user first.")

    def action_new(self) -> None:
        if self.query_one(TabbedContent).active == "probes-tab":
            self.app.push_screen(ProbeForm(), self._probe_registered)
        else:
            self.app.push_screen(UserForm(), self._user_saved)

    def action_edit(self) -> None:
        if self.active_tab == "probes-tab":
            probe = self._selected_probe()
            if probe:
                self.app.push_screen(ProbeRenameForm(probe), self._probe_renamed)
            return
        user = self._selected_user()
        if user:
            self.app.push_screen(UserForm(user), self._user_saved)

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.data_table.id == "users":
            event.stop()
            self.action_edit()

    def _user_saved(self, user: dict | None) -> None:
        if user:
            self.notify(f"Saved {user.get('email')}.")
            self._load_users()

    def action_delete(self) -> None:
        if self.active_tab == "probes-tab":
            probe = self._selected_probe()
            if probe:
                ask_first(self.app, f"Revoke the probe “{probe.get('name')}”? Its token stops working at once; "
                                    "its results stay.", "Revoke",
                          lambda: self.call_api("probe_revoked", self.client.revoke_probe, probe["id"],
                                                on_done=self._probe_revoked))
            return
        user = self._selected_user()
        if user:
            ask_first(self.app, f"Delete {user.get('email')} with all their monitors and history?", "Delete",
                      lambda: self.call_api("user_deleted", self.client.delete_user, user["id"],
                                            on_done=self._user_deleted))

    def _user_deleted(self, _none) -> None:
        self.notify("User deleted.")
        self._load_users()

    # ---- probes -----------------------------------------------------------------------------
    def _locations_loaded(self, locations: list[dict]) -> None:
        self.locations = list(locations)
        self._show_locations()

    def _probes_loaded(self, probes: list[dict]) -> None:
        self.probes = {probe.get("name"): probe for probe in probes}
        self._show_locations()

    def _probes_failed(self, error: ApiError) -> bool:
        return not_available(error) or error.status == 403  # the locations list says enough

    def _show_locations(self) -> None:
        now = self.console_app.clock()
        with refilling(self.query_one("#locations", DataTable)) as table:
            for location in self.locations:
                online = location.get("online")
                kind = "probe" if location.get("name") in self.probes else "this appliance"
                table.add_row(location.get("name") or "", location.get("display_name") or "", kind,
                              Text("▲ online" if online else "▼ offline", style="green" if online else "red"),
                              ago(location.get("last_seen"), now), key=location.get("name"))
        self.query_one("#probes-notice", Static).update("" if self.locations else "No locations reported.")

    def _selected_probe(self) -> dict | None:
        location = selected_item(self, "locations", self.locations)
        probe = self.probes.get(location.get("name")) if location else None
        if probe:
            return probe
        self.notify("Select a probe (this appliance's own location cannot be changed here).", severity="warning")
        return None

    def _probe_renamed(self, probe: dict | None) -> None:
        if probe:
            self.notify(f"Renamed the probe to “{probe.get('display_name')}”.")
            self._load_locations()

    def _probe_revoked(self, _none) -> None:
        self.notify("Probe revoked.")
        self._load_locations()

    def _probe_registered(self, probe: dict | None) -> None:
        if probe:
            self.app.push_screen(ProbeTokenDialog(self.client.server_url, probe))
            self._load_locations()

    # ---- engine -------------------------------------------------------------------------------
    def show_engine(self, status: dict) -> None:
        text = Text()
        for key, value in status.items():
            text.append(f"{key.replace('_', ' '):<24}", style="dim")
            text.append(f"{value if value is not None else '—'}\n")
        self.query_one("#engine", Static).update(text)

    def _engine_failed(self, error: ApiError) -> bool:
        if error.status in (403, 404):
            self.query_one("#engine", Static).update(
                "Engine status needs an administrator account." if error.status == 403
                else f"Engine status is {NOT_AVAILABLE}.")
            return True
        return False
