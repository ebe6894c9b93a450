"""What every screen shares: API calls in thread workers that only post messages.

`self.call_api("monitors", client.list_monitors)` runs the call on a worker thread; the answer
comes back to the screen's own message queue as ApiDone/ApiFailed, and the screen's
`done_monitors(result)` / `failed_monitors(error)` handle it on the UI thread. A failure that
the screen does not handle itself goes to the app (`report_error`): a notification, the
"connection lost" state, or back to the login screen when the token expired.
"""

from __future__ import annotations

import inspect
from functools import partial
from typing import TYPE_CHECKING, Any, Callable

from textual.message import Message
from textual.screen import ModalScreen, Screen
from textual.worker import get_current_worker

from console.client import ApiClient, ApiError

if TYPE_CHECKING:
    from console.app import StatusCoreConsole


class ApiDone(Message, bubble=False):
    def __init__(self, tag: str, result: Any) -> None:
        super().__init__()
        self.tag = tag
        self.result = result


class ApiFailed(Message, bubble=False):
    def __init__(self, tag: str, error: ApiError) -> None:
        super().__init__()
        self.tag = tag
        self.error = error


NOT_AVAILABLE = "not available on this server"


# What the server says when no route matches (server/errors.py): the feature is not there,
# as opposed to a 404 about an object ("monitor not found", "no WHOIS data for ...").
_NO_ROUTE = {"Not found.", "This method is not allowed on this path."}


def not_available(error: ApiError) -> bool:
    """This server has no such endpoint (an older or newer appliance)."""
    return error.status == 501 or (error.status in (404, 405) and error.message in _NO_ROUTE)


class ApiCalls:
    """Mix into a Screen, a panel of one (a Widget) or the App: `call_api(tag, fn, *args)` and the
    message handlers."""

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

    def call_api(self, tag: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        self.run_worker(  # type: ignore[attr-defined]
            partial(self._api_worker, tag, fn, args, kwargs), thread=True, group=f"api-{tag}",
            name=f"api {tag}", exit_on_error=False)

    def _api_worker(self, tag: str, fn: Callable[..., Any], args: tuple, kwargs: dict) -> None:
        worker = get_current_worker()
        try:
            message: Message = ApiDone(tag, fn(*args, **kwargs))
        except ApiError as error:
            message = ApiFailed(tag, error)
        except Exception as error:  # noqa: BLE001 - a bug must not end the console with a traceback
            message = ApiFailed(tag, ApiError(-1, f"{type(error).__name__}: {error}"))
        if not worker.is_cancelled:
            self.post_message(message)  # type: ignore[attr-defined]

    def busy(self, tag: str) -> bool:
        """A call with this tag is still running."""
        return any(w.node is self and w.group == f"api-{tag}" and not w.is_finished
                   for w in self.app.workers)  # type: ignore[attr-defined]

    async def on_api_done(self, message: ApiDone) -> None:
        self.console_app.connection_ok()
        handler = getattr(self, f"done_{message.tag}", None)
        if handler is None:
            return
        try:
            outcome = handler(message.result)
            if inspect.isawaitable(outcome):
                await outcome
        except Exception as error:  # noqa: BLE001 - an answer of an unexpected shape: say so, carry on
            self.console_app.log.error(f"handling the answer to {message.tag} failed: {error!r}")
            self.console_app.report_error(
                ApiError(-1, f"The server's answer to {message.tag} was not understood ({type(error).__name__}: "
                             f"{error}); is the console older than the server?"), message.tag)

    async def on_api_failed(self, message: ApiFailed) -> None:
        error = message.error
        if not error.unreachable:
            self.console_app.connection_ok()
        handler = getattr(self, f"failed_{message.tag}", None)
        handled = handler(error) if handler is not None else False
        if inspect.isawaitable(handled):
            handled = await handled
        if not handled:
            self.console_app.report_error(error, message.tag)


class ConsoleScreen(ApiCalls, Screen):
    """A full screen of the console."""

    def refresh_data(self) -> None:
        """Load (again) what the screen shows; screens override it."""

    def action_refresh(self) -> None:
        self.refresh_data()

    def action_back(self) -> None:
        if len(self.app.screen_stack) > 2:
            self.dismiss()


class ConsoleModal(ApiCalls, ModalScreen):
    """A dialog over the current screen."""
