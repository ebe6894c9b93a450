"""Log in (server URL, email, password; optionally remember the token in a 0600 file), and the
change-password dialog."""

from __future__ import annotations

from textual.actions import SkipAction
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Horizontal, Vertical
from textual.widgets import Button, Checkbox, Input, Label, Static

from console.client import ApiClient, ApiError, normalize_url
from console.screens.base import ConsoleScreen
from console.screens.form import FormModal, field_error, form_buttons, modal_bindings, show_field_errors
from console.widgets import ConsoleFooter, TitleBar


def _login(client: ApiClient, email: str, password: str) -> dict:
    client.login(email, password)
    return client.me()  # the full user (isAdmin, statusPageSlug)


# The appliance's first administrator (appliance/service.py DEFAULT_ADMIN_EMAIL; the console
# does not import the appliance).
DEFAULT_ADMIN_EMAIL = "admin@statuscore.local"
FIELDS = ("server", "email", "password")


class LoginScreen(ConsoleScreen):
    PALETTE_GROUP = "Login"
    BINDINGS = [
        Binding("ctrl+s", "submit", "Log in", priority=True, tooltip="Log in with what is typed"),
        # A priority binding, like tab (screens/base.py): enter in the server or email field moves
        # on at once, so the keys typed after it in one burst land in the next field.
        Binding("enter", "next_field_or_submit", "Next field / log in", show=False, priority=True),
    ]

    def __init__(self, email: str | None = None, password: str | None = None, auto: str | None = None,
                 message: str | None = None):
        super().__init__()
        self.initial_email = email or ""
        self.initial_password = password or ""
        self.auto = auto
        self.message = message
        # Focus the field to type in as the screen appears (Textual's auto focus runs before the
        # first key is handled; a focus() in on_mount would run later, after keys typed at once).
        self.AUTO_FOCUS = "#password" if self.initial_email else "#email"

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Center():
            with Vertical(id="login-box", classes="panel"):
                yield Static("StatusCore console", classes="panel-title")
                yield Label("Server URL")
                yield Input(self.client.server_url, id="server", placeholder="http://127.0.0.1:8080")
                yield Label("Email")
                yield Input(self.initial_email, id="email", placeholder=DEFAULT_ADMIN_EMAIL)
                yield Label("Password")
                yield Input(self.initial_password, id="password", password=True)
                yield Checkbox("Remember me on this computer (token file, mode 0600)", id="remember")
                yield Static(self.message or "", markup=False, id="login-status", classes="form-error" if self.message else "")
                with Horizontal(classes="buttons"):
                    yield Button("Log in", id="login", variant="primary")
        yield ConsoleFooter()

    def on_mount(self) -> None:
        if self.auto == "password":
            self.action_submit()
        elif self.auto == "token":
            self._status("Checking the saved session…")
            self.call_api("resume", self.client.me, on_done=self._resumed, on_error=self._resume_failed)

    def _status(self, text: str, error: bool = False) -> None:
        status = self.query_one("#login-status", Static)
        status.update(text)
        status.set_class(error, "form-error")

    def action_next_field_or_submit(self) -> None:
        """enter in the server or email field while the password is empty: the next field, now.
        Anything else goes on to the focused widget (a field submits after its own pending keys,
        so a password typed in a burst is complete; a button presses, a checkbox toggles)."""
        focused = self.focused
        if isinstance(focused, Input) and focused.id in FIELDS[:-1] \
                and not self.query_one("#password", Input).value:
            self.set_focus(self.query_one(f"#{FIELDS[FIELDS.index(focused.id) + 1]}", Input))
            return
        raise SkipAction()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id in FIELDS:
            self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "login":
            self.action_submit()

    def action_submit(self) -> None:
        if self.busy("login"):
            return
        server = normalize_url(self.query_one("#server", Input).value)
        email = self.query_one("#email", Input).value.strip()
        password = self.query_one("#password", Input).value
        if not server or not email or not password:
            self._status("Enter the server URL, your email and your password.", error=True)
            return
        if server != self.client.server_url:
            self.client.server_url = server
        self._status(f"Logging in to {server}…")
        self.query_one("#login", Button).disabled = True
        self.call_api("login", _login, self.client, email, password, on_done=self._logged_in,
                      on_error=self._login_failed)

    def _logged_in(self, user: dict) -> None:
        remember = self.query_one("#remember", Checkbox).value
        self.app.call_later(self.console_app.start_session, user, remember)

    def _login_failed(self, error: ApiError) -> bool:
        self.query_one("#login", Button).disabled = False
        self._status(error.message, error=True)
        self.query_one("#password", Input).focus()
        return True

    def _resumed(self, user: dict) -> None:
        self.app.call_later(self.console_app.start_session, user)

    def _resume_failed(self, error: ApiError) -> bool:
        self.client.logout()
        self._status("The saved session has ended; log in again." if error.status == 401 else error.message,
                     error=True)
        return True


class ChangePasswordScreen(FormModal):
    BINDINGS = modal_bindings("Change")
    CANCELLED = False
    SAVE_ON_ENTER = True

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Change your password", classes="panel-title")
            yield Label("Current password")
            yield Input(id="current_password", password=True)
            yield field_error("current_password")
            yield Label("New password (at least 8 characters)")
            yield Input(id="new_password", password=True)
            yield field_error("new_password")
            yield form_buttons("Change", "Cancel")
        yield ConsoleFooter()

    def action_save(self) -> None:
        self.clear_errors()
        self.submit(self.client.change_password,
                    self.query_one("#current_password", Input).value,
                    self.query_one("#new_password", Input).value)

    def saved(self, _answer: dict) -> None:
        self.notify("Password changed; other sessions must log in again.")
        if self.console_app.token_file.exists():
            try:
                self.client.save_token(self.console_app.token_file)
            except OSError:
                pass
        self.dismiss(True)

    def save_failed(self, error: ApiError) -> bool:
        if error.status != 400:
            return False
        if show_field_errors(self, error.message, error.details, None) is None:  # no field took a problem
            self.notify(error.message, severity="error")
        return True
