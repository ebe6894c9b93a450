"""What every screen shares: API calls in thread workers that only post messages.

    self.call_api("stats", self.client.stats, self.monitor_id, 30, on_done=self.show_stats,
                  on_error=self._gone)

runs `self.client.stats(self.monitor_id, 30)` on a worker thread. The worker posts the answer (ApiDone) or the
error (ApiFailed) to the node that made the call, and that node runs the handlers named at the
call site, on the UI thread. `on_error` returns True when it has dealt with the error; an error
it leaves (or a call without one) goes to the app's `report_error`, the one place that decides
how failures look: a notification, the "connection lost" state, or back to the login screen when
the token expired. The name labels the call: `busy(name)` asks whether one is still running, and
a log line or an error message says which call it was. Common error handlers:
`show_if_unavailable(selector, text)` for a server that lacks the endpoint, and `app_must_act`
for a handler that shows an error in place but leaves a lost connection or login to the app.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Awaitable, Callable, TypeVar

from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.widgets import Static
from textual.worker import get_current_worker

from console.client import ApiClient, ApiError

if TYPE_CHECKING:
    from console.app import StatusCoreConsole

T = TypeVar("T")
# An answer's handler may be a coroutine function; an error's handler says whether it dealt with it.
ErrorHandler = Callable[[ApiError], bool | Awaitable[bool]]


@dataclass(frozen=True)
class ApiCall:
    """One call's label and the handlers its answer goes to."""

    name: str
    on_done: Callable[[Any], Any] | None = None
    on_error: ErrorHandler | None = None


class ApiDone(Message, bubble=False):
    def __init__(self, call: ApiCall, result: Any) -> None:
        super().__init__()
        self.call = call
        self.result = result


class ApiFailed(Message, bubble=False):
    def __init__(self, call: ApiCall, error: ApiError) -> None:
        super().__init__()
        self.call = call
        self.error = error


NOT_AVAILABLE = "not available on this server"


# What the server says when no route matches (server/errors.py): the feature is not there,
# as opposed to a 404 about an object ("monitor not found", "no WHOIS data for ...").
_NO_ROUTE = {"Not found.", "This method is not allowed on this path."}


def not_available(error: ApiError) -> bool:
    """This server has no such endpoint (an older or newer appliance)."""
    return error.status == 501 or (error.status in (404, 405) and error.message in _NO_ROUTE)


def app_must_act(error: ApiError) -> bool:
    """A lost connection or an expired login: the app acts on these (the banner, the login
    screen) even when an error handler has already shown the error where it happened."""
    return error.unreachable or error.status == 401


class ApiCalls:
    """Mix into a Screen, a panel of one (a Widget) or the App: `call_api(name, fn, *args,
    on_done=..., on_error=...)`, `busy(name)` and the two message handlers that run the handlers."""

    @property
    def console_app(self) -> "StatusCoreConsole":
        return self.app  # type: ignore[attr-defined,return-value]

    @property
    def client(self) -> ApiClient:
        return self.console_app.client

    def notify(self, message: str, *, title: str = "", severity="information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Notifications carry server and user text: plain by default, never parsed as markup."""
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)  # type: ignore[misc]

    def call_api(self, name: str, fn: Callable[..., T], *args: Any,
                 on_done: Callable[[T], Any] | None = None, on_error: ErrorHandler | None = None,
                 **kwargs: Any) -> None:
        """Run `fn(*args, **kwargs)` on a worker thread; `on_done(answer)` or `on_error(error)` then
        runs on the UI thread."""
        call = ApiCall(name, on_done, on_error)
        self.run_worker(  # type: ignore[attr-defined]
            partial(self._api_worker, call, fn, args, kwargs), thread=True, group=f"api-{name}",
            name=f"api {name}", exit_on_error=False)

    def _api_worker(self, call: ApiCall, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        worker = get_current_worker()
        try:
            message: Message = ApiDone(call, fn(*args, **kwargs))
        except ApiError as error:
            message = ApiFailed(call, error)
        except Exception as error:  # noqa: BLE001 - a bug must not end the console with a traceback
            message = ApiFailed(call, ApiError(-1, f"{type(error).__name__}: {error}"))
        if not worker.is_cancelled:
            self.post_message(message)  # type: ignore[attr-defined]

    def show_if_unavailable(self, selector: str, text: str) -> ErrorHandler:
        """An error handler: when this server lacks the endpoint, `text` in the Static at
        `selector`; any other error goes to the app."""

        def handle(error: ApiError) -> bool:
            if not_available(error):
                self.query_one(selector, Static).update(text)  # type: ignore[attr-defined]
                return True
            return False

        return handle

    def busy(self, name: str) -> bool:
        """A call with this name is still running."""
        return any(w.node is self and w.group == f"api-{name}" and not w.is_finished
                   for w in self.app.workers)  # type: ignore[attr-defined]

    async def on_api_done(self, message: ApiDone) -> None:
        self.console_app.connection_ok()
        call = message.call
        if call.on_done is None:
            return
        try:
            outcome = call.on_done(message.result)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as error:  # noqa: BLE001 - an answer of an unexpected shape: say so, carry on
            self.console_app.log.error(f"handling the answer to {call.name} failed: {error!r}")
            self.console_app.report_error(
                ApiError(-1, f"The server's answer to {call.name} was not understood ({type(error).__name__}: "
                             f"{error}); is the console older than the server?"), call.name)

    async def on_api_failed(self, message: ApiFailed) -> None:
        error, call = message.error, message.call
        if not error.unreachable:
            self.console_app.connection_ok()
        handled = call.on_error(error) if call.on_error is not None else False
        if inspect.isawaitable(handled):
            handled = await handled
        if not handled:
            self.console_app.report_error(error, call.name)


# Tab moves the focus in the app's own key loop (a priority binding), before the next key is
# handed on. Textual's own tab runs in the focused field's queue, and keys typed in one burst
# (a password manager's "email, tab, password") were already on their way to the old field: the
# password landed in the email field, in clear.
FOCUS_KEYS = [
    Binding("tab", "next_field", "Next field", show=False, priority=True),
    Binding("shift+tab", "previous_field", "Previous field", show=False, priority=True),
]


class FocusKeys:
    """Mixed into the console's screens and dialogs: tab / shift+tab as above."""

    def action_next_field(self) -> None:
        self.focus_next()  # type: ignore[attr-defined]  # Screen.focus_next: at once, not call_later

    def action_previous_field(self) -> None:
        self.focus_previous()  # type: ignore[attr-defined]


class ConsoleScreen(FocusKeys, ApiCalls, Screen):
    """A full screen of the console."""

    BINDINGS = FOCUS_KEYS
    NAV_ACTION: str | None = None  # the app's action that opens this screen (the footer leaves it out here)

    def refresh_data(self) -> None:
        """Load (again) what the screen shows; screens override it."""

    def refresh_every(self, seconds: float) -> None:
        """Reload every `seconds` while this screen is on top and the server answers."""
        self.set_interval(seconds, self._refresh_if_shown)

    def _refresh_if_shown(self) -> None:
        if self.app.screen is self and not self.console_app.offline:
            self.refresh_data()

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.dismiss()


class ConsoleModal(FocusKeys, ApiCalls, ModalScreen):
    """A dialog over the current screen."""

    BINDINGS = FOCUS_KEYS
