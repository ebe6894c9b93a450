"""A real webhook receiver on 127.0.0.1: records every POST and answers as scripted.

    with Receiver() as hook:                      # answers 200
        hook.fail(times=2, status=500)            # the next two POSTs get 500, then 200 again
        hook.answer(410)                          # every POST from now on gets 410
        hook.hang()                               # hold every POST until release() (bounded)
        hook.slow(0.5)                            # answer 200 after half a second
        messages = hook.wait_for_count(2)         # bounded wait; returns a snapshot

A request is recorded when its body has been read, before it is answered, so a hanging
request is visible to the test while the sender still waits. `Receiver(port=...)` binds a
given port: a webhook can point at a receiver that is not running yet (connections refused)
and the receiver started later on the same address.
"""

from __future__ import annotations

import json
import select
import socket
import ssl
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.net import wait_for

HANG_LIMIT = 60.0  # a hanging request is answered after this long at the latest (tests stay bounded)


@dataclass(frozen=True)
class Plan:
    """How to answer one request."""

    status: int = 200
    delay: float = 0.0  # seconds before answering
    hang: bool = False  # hold the request until release() (or HANG_LIMIT)


@dataclass(eq=False)
class Received:
    path: str
    headers: dict[str, str]  # names lower-cased
    body: bytes
    at: float  # time.monotonic() when the request was read
    seq: int  # arrival order across the receiver's life
    # Set when the request is over: answered, or (while hanging) the sender hung up first.
    answered: threading.Event = field(default_factory=threading.Event, repr=False)
    ended_at: float | None = None  # time.monotonic() then
    sender_gave_up: bool = False

    def json(self):
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    @property
    def event(self) -> str | None:
        return self.header("X-StatusCore-Event")

    @property
    def delivery(self) -> str | None:
        return self.header("X-StatusCore-Delivery")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "TestReceiver/1"

    def log_message(self, *args):
        pass

    def do_POST(self):  # noqa: N802 (http.server naming)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        receiver: Receiver = self.server.receiver
        message, plan = receiver._arrived(self.path, self.headers, body)
        try:
            if plan.hang:
                self._hold(receiver._released, message)
            elif plan.delay:
                time.sleep(plan.delay)
            if not message.sender_gave_up:
                self._reply(plan.status)
        finally:
            message.ended_at = time.monotonic()
            message.answered.set()

    def _hold(self, released: threading.Event, message: Received) -> None:
        """Hang until released, watching for the sender to give up (its end of the connection
        closes: readable with nothing to read)."""
        deadline = time.monotonic() + HANG_LIMIT
        while not released.wait(0.02) and time.monotonic() < deadline:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if readable:
                try:
                    closed = self.connection.recv(1, socket.MSG_PEEK) == b""
                except OSError:
                    closed = True
                if closed:
                    message.sender_gave_up = True
                    return

    def do_GET(self):  # noqa: N802
        self._reply(405)

    def _reply(self, status: int) -> None:
        payload = b'{"ok": true}' if status < 400 else b'{"error": "scripted"}'
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the sender gave up (timeout) and closed the connection
            pass
        self.close_connection = True


class Receiver:
    """A threaded HTTP server on 127.0.0.1 that records POSTs; use it as a context manager."""

    def __init__(self, port: int = 0, path: str = "/hook", ssl_context: ssl.SSLContext | None = None):
        self._requested_port = port
        self._ssl_context = ssl_context  # serve HTTPS with it
        self.path = path
        self._lock = threading.Lock()
        self._messages: list[Received] = []
        self._plans: deque[Plan] = deque()
        self._default = Plan()
        self._released = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.port = port

    # ---- lifecycle ---------------------------------------------------------------------------
    def start(self) -> "Receiver":
        self._httpd = ThreadingHTTPServer(("127.0.0.1", self._requested_port), _Handler)
        self._httpd.daemon_threads = True
        self._httpd.receiver = self
        if self._ssl_context is not None:
            self._httpd.socket = self._ssl_context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.release()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "Receiver":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def url(self) -> str:
        scheme = "https" if self._ssl_context is not None else "http"
        return f"{scheme}://127.0.0.1:{self.port}{self.path}"

    # ---- scripting ---------------------------------------------------------------------------
    def answer(self, status: int) -> None:
        """Answer every request from now on with `status` (after any queued plans)."""
        with self._lock:
            self._default = Plan(status=status)

    def fail(self, times: int, status: int = 500) -> None:
        """The next `times` requests get `status`; then the default answer again."""
        with self._lock:
            self._plans.extend(Plan(status=status) for _ in range(times))

    def hang(self) -> None:
        """Hold every request from now on until release() (at most HANG_LIMIT), then 200."""
        with self._lock:
            self._released.clear()
            self._default = Plan(hang=True)

    def slow(self, seconds: float, status: int = 200) -> None:
        with self._lock:
            self._default = Plan(status=status, delay=seconds)

    def release(self) -> None:
        """Let hanging requests finish (answered 200)."""
        self._released.set()

    def _arrived(self, path: str, headers, body: bytes) -> tuple[Received, Plan]:
        with self._lock:
            message = Received(path=path, headers={k.lower(): v for k, v in headers.items()}, body=body,
                               at=time.monotonic(), seq=len(self._messages))
            self._messages.append(message)
            plan = self._plans.popleft() if self._plans else self._default
            return message, plan

    # ---- what arrived ------------------------------------------------------------------------
    @property
    def messages(self) -> list[Received]:
        """A snapshot, in arrival order."""
        with self._lock:
            return list(self._messages)

    def events(self) -> list[str]:
        return [m.event for m in self.messages]

    def wait_for_count(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Wait (bounded) until at least `count` requests arrived; returns the snapshot."""
        return self.wait_until(lambda got: len(got) >= count, timeout,
                               message=f"{count} request(s) at {self.url}")

    def wait_until(self, predicate, timeout: float = 20.0, message: str = "the receiver's condition"):
        """Wait (bounded) until predicate(messages) is truthy; returns that snapshot."""
        seen: list[list[Received]] = []

        def check() -> bool:
            got = self.messages
            if predicate(got):
                seen.append(got)
                return True
            return False

        wait_for(check, timeout=timeout, message=message)
        return seen[-1]
