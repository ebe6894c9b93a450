"""StatusCoreConsole: the Textual admin console, and make_console(), the one factory the
`statuscore console` command and the tests both use.

The app owns the session (client, user), the connection state and navigation; screens own
what they show. Every API call runs in a thread worker (screens/base.py)."""

from __future__ import annotations

import io
import os
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from platformdirs import user_downloads_path
from textual import events
from textual.app import App
from textual.binding import Binding
from textual.reactive import reactive

from console.client import ApiClient, ApiError, forget_token
from console.commands import ConsoleCommands
from console.screens.base import ApiCalls, ConsoleScreen

Clock = Callable[[], datetime]


def default_token_file() -> Path:
    """Where "remember me" keeps the token: $XDG_CONFIG_HOME/statuscore/console-token."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "statuscore" / "console-token"


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def screenshot_folder() -> Path:
    """Where the palette's Screenshot goes: the Downloads folder when there is one (a server's
    account often has none), else the current folder, else the temporary one: always a folder
    that exists and can be written."""
    for folder in (user_downloads_path(), Path.cwd(), Path(tempfile.gettempdir())):
        if folder.is_dir() and os.access(folder, os.W_OK):
            return folder
    return Path(tempfile.gettempdir())


SCREENSHOT = "console screenshot"  # the delivery's name: our notifications, not Textual's


class StatusCoreConsole(ApiCalls, App):
    """Log in, then the dashboard; other screens are pushed over it."""

    TITLE = "StatusCore"
    CSS_PATH = "console.tcss"
    COMMANDS = App.COMMANDS | {ConsoleCommands}
    BINDINGS = [
        Binding("f2", "dashboard", "Dashboard", tooltip="Go to the monitors dashboard"),
        Binding("f3", "anomalies", "Anomalies", tooltip="Unacknowledged anomalies"),
        Binding("f4", "tools", "Tools", tooltip="MTR and WHOIS"),
        Binding("f5", "settings", "Settings", tooltip="Webhooks and the status page"),
        Binding("f6", "admin", "Admin", tooltip="Users, probes and the check engine"),
        Binding("f7", "maintenance", "Maintenance", tooltip="Maintenance windows: no alerts while they are on"),
        Binding("f8", "metrics", "Metrics", tooltip="The Prometheus /metrics text (administrators)"),
        Binding("f9", "change_password", "Change password", tooltip="Change your password"),
        Binding("ctrl+l", "logout", "Log out", show=False, tooltip="Log out and forget a remembered token"),
        # The footer keeps "? Help" on its right; f1 works while typing in a field too.
        Binding("question_mark,f1", "help", "Help", tooltip="Every key of this screen, and what the symbols mean"),
        Binding("ctrl+p", "command_palette", "Commands", show=False, priority=True,
                tooltip="Search every action of this screen and the app by name"),
    ]

    client: ApiClient = None  # type: ignore[assignment]  # a plain attribute here (ApiCalls' property reads it from the app)
    offline: reactive[str] = reactive("")  # why the server is unreachable; "" when connected

    def __init__(self, client: ApiClient, *, email: str | None = None, password: str | None = None,
                 token_file: str | os.PathLike | None = None, refresh_interval: float = 5.0,
                 clock: Clock | None = None):
        super().__init__()
        self.client = client
        self.initial_email = email
        self.initial_password = password
        self.token_file = Path(token_file) if token_file else default_token_file()
        self.refresh_interval = refresh_interval
        self.clock: Clock = clock or utc_now
        self.user: dict | None = None
        self._retry_timer = None

    # ---- start-up and session ---------------------------------------------------------------
    def on_mount(self) -> None:
        from console.screens.login import LoginScreen

        auto = None
        if self.initial_email and self.initial_password:
            auto = "password"
        elif self.client.token or self.client.load_token(self.token_file):
            auto = "token"
        self.push_screen(LoginScreen(email=self.initial_email, password=self.initial_password, auto=auto))

    @property
    def logged_in(self) -> bool:
        return self.user is not None

    async def start_session(self, user: dict, remember: bool = False) -> None:
        """After a successful login: keep the user, maybe save the token, open the dashboard."""
        from console.screens.dashboard import DashboardScreen

        self.user = user
        if remember and self.client.token:
            try:
                self.client.save_token(self.token_file)
            except OSError as exc:
                self.notify(f"Could not save the token to {self.token_file}: {exc.strerror}",
                            severity="warning")
        self.sub_title = self._session_title()
        await self.switch_screen(DashboardScreen())

    def _session_title(self) -> str:
        if not self.user:
            return ""
        return f"{self.user.get('email', '')} @ {self.client.server_url}"

    async def end_session(self, message: str | None = None, forget: bool = False) -> None:
        """Back to the login screen (log out, or the token expired)."""
        from console.screens.login import LoginScreen

        email = (self.user or {}).get("email") or self.initial_email
        self.user = None
        self.client.logout()
        if forget:
            forget_token(self.token_file)
        self._stop_retrying()
        self.offline = ""
        self.sub_title = ""
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        await self.switch_screen(LoginScreen(email=email, message=message))

    # ---- connection state --------------------------------------------------------------------
    def connection_ok(self) -> None:
        if not self.offline:
            return
        self.offline = ""
        self._stop_retrying()
        self.sub_title = self._session_title()
        self.notify("Connection restored.", title="StatusCore")
        screen = self.screen
        if isinstance(screen, ConsoleScreen):
            screen.refresh_data()

    def connection_lost(self, error: ApiError) -> None:
        if self.offline:
            return
        self.offline = error.message
        self.sub_title = "connection lost — retrying"
        self.notify(f"{error.message}; retrying every {self.refresh_interval:g} s.",
                    title="Connection lost", severity="error")
        if self._retry_timer is None:
            self._retry_timer = self.set_interval(self.refresh_interval, self._retry)

    def _stop_retrying(self) -> None:
        if self._retry_timer is not None:
            self._retry_timer.stop()
            self._retry_timer = None

    def _retry(self) -> None:
        if self.logged_in and not self.busy("ping"):
            self.call_api("ping", self.client.me, on_error=self._still_offline)

    def _still_offline(self, error: ApiError) -> bool:
        return error.unreachable  # the banner says so already

    def report_error(self, error: ApiError, what: str = "") -> None:
        """A failed call nobody handled: one clear notification, never a traceback."""
        if error.unreachable:
            if self.logged_in:
                self.connection_lost(error)
            else:
                self.notify(error.message, title="Cannot connect", severity="error")
            return
        if error.status == 401 and self.logged_in:
            self.call_later(self.end_session, f"{error.message}")
            return
        if error.status == 429:
            wait = f" Try again in {error.retry_after:g} s." if error.retry_after else ""
            self.notify(f"The server is rate limiting us.{wait}", title="Slow down", severity="warning")
            return
        if error.status == 403:
            self.notify(error.message, title="Not allowed", severity="warning")
            return
        detail = "; ".join(f"{k}: {v}" for k, v in error.details.items())
        self.notify(error.message + (f"\n{detail}" if detail and detail not in error.message else ""),
                    title="Error" if error.status in (None, -1) else f"Error {error.status}",
                    severity="error")

    # ---- screenshots (the command palette's "Screenshot") ------------------------------------
    def deliver_screenshot(self, filename: str | None = None, path: str | None = None,
                           time_format: str | None = None) -> str | None:
        """Textual saves to ~/Downloads and fails when it does not exist; this picks a folder
        that does (screenshot_folder) and says where the file went."""
        folder = Path(path) if path else screenshot_folder()
        name = filename or f"statuscore_{datetime.now():{time_format or '%Y-%m-%dT%H_%M_%S'}}.svg"
        return self.deliver_text(io.StringIO(self.export_screenshot()), save_directory=folder, save_filename=name,
                                 open_method="browser", mime_type="image/svg+xml", name=SCREENSHOT)

    def on_delivery_complete(self, event: events.DeliveryComplete) -> None:
        if event.name == SCREENSHOT:
            self.notify(f"Screenshot saved to {event.path}", title="Screenshot")

    def on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        if event.name == SCREENSHOT:
            self.notify(f"Could not save the screenshot: {event.exception}; "
                        "start the console from a folder you can write to.", title="Screenshot", severity="error")

    # ---- navigation (also in the command palette) -------------------------------------------
    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in {"dashboard", "anomalies", "tools", "settings", "admin", "maintenance", "change_password",
                      "logout"}:
            return self.logged_in
        if action == "metrics":  # /metrics answers an admin login (or an API key, not used here)
            return self.logged_in and bool((self.user or {}).get("isAdmin"))
        return True

    async def _open(self, screen_type: type, *args) -> None:
        """Show a top-level screen over the dashboard (replacing any other one)."""
        while len(self.screen_stack) > 2:
            await self.pop_screen()
        if screen_type is not None:
            await self.push_screen(screen_type(*args))

    async def action_dashboard(self) -> None:
        await self._open(None)

    async def action_anomalies(self) -> None:
        from console.screens.anomalies import AnomaliesScreen
        await self._open(AnomaliesScreen)

    async def action_tools(self) -> None:
        from console.screens.tools import ToolsScreen
        await self._open(ToolsScreen)

    async def action_settings(self) -> None:
        from console.screens.settings import SettingsScreen
        await self._open(SettingsScreen)

    async def action_admin(self) -> None:
        from console.screens.admin import AdminScreen
        await self._open(AdminScreen)

    async def action_maintenance(self) -> None:
        from console.screens.maintenance import MaintenanceScreen
        await self._open(MaintenanceScreen)

    async def action_metrics(self) -> None:
        from console.screens.metrics import MetricsScreen
        await self._open(MetricsScreen)

    def action_help(self) -> None:
        from console.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    def action_change_password(self) -> None:
        from console.screens.login import ChangePasswordScreen
        self.push_screen(ChangePasswordScreen())

    async def action_logout(self) -> None:
        await self.end_session("Logged out.", forget=True)


def make_console(server_url: str | None = None, email: str | None = None, password: str | None = None,
                 token_file: str | os.PathLike | None = None, *, refresh_interval: float = 5.0,
                 client: ApiClient | None = None, clock: Clock | None = None,
                 timeout: float = 10.0) -> StatusCoreConsole:
    """The console for `server_url` (default $STATUSCORE_SERVER, else http://127.0.0.1:8080).

    With `email` and `password` it logs in at start; otherwise it shows the login screen (or
    reuses a token saved in `token_file` for this server). Tests pass `refresh_interval`, a fixed
    `clock`, or their own `client` object with ApiClient's methods."""
    if client is None:
        url = server_url or os.environ.get("STATUSCORE_SERVER") or "http://127.0.0.1:8080"
        client = ApiClient(url, timeout=timeout)
    return StatusCoreConsole(client, email=email, password=password, token_file=token_file,
                             refresh_interval=refresh_interval, clock=clock)
