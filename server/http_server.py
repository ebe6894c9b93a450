"""The waitress server the appliance is served by, hardened so that no client can take it away
from the others, and so that the appliance knows when it could not take heartbeat calls.

- Slow clients: a request must arrive whole within a deadline (headers within
  `header_timeout`, the body within `request_timeout`); idle keep-alive connections are closed
  after `idle_timeout`. Waitress's own inactivity timeout never fires on a client that sends a
  byte every few seconds, and waitress keeps reading a request on its event loop (no thread is
  held), so what slow clients take is connection slots.
- Full house: at `max_connections` the connection idle or slow the longest is closed to make
  room for a new one, rather than leaving new clients (a job's heartbeat call among them) waiting
  in the kernel's accept queue. Connections whose request is being answered are never closed.
- A lane of its own for heartbeat calls: they are answered by their own threads, so a flood of
  slow API requests (a big import, say) does not hold up a job's call.
- Blind time: when the server could not accept or answer heartbeat calls promptly (no room even
  after evicting, the lane's queue waiting, the event loop stalled), it reports the span to the
  appliance, which moves heartbeat deadlines back by it (appliance.blind).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from waitress.adjustments import Adjustments
from waitress.server import TcpWSGIServer
from waitress.task import ThreadedTaskDispatcher

from server.waitress_errors import JsonErrorChannel

log = logging.getLogger("statuscore.http")

PRIORITY_PATHS = ("/api/heartbeat/",)
LANE_WAIT_BLIND = 0.5  # seconds a heartbeat call may wait for a thread before it counts as blind time
LOOP_STALL_BLIND = 2.0  # seconds without an event-loop turn that count as blind time
WATCH_EVERY = 0.25


@dataclass(frozen=True)
class Limits:
    max_connections: int = 1000
    header_timeout: float = 10.0  # request line and headers, from the request's first byte
    request_timeout: float = 30.0  # the whole request, body included (bodies are at most 1 MiB)
    idle_timeout: float = 60.0  # a keep-alive connection with no request in progress
    priority_threads: int = 2

    @classmethod
    def from_settings(cls, settings) -> "Limits":
        return cls(max_connections=settings.max_connections, header_timeout=settings.header_timeout,
                   request_timeout=settings.request_timeout, idle_timeout=settings.idle_timeout)


def _wall(monotonic_at: float) -> datetime:
    return datetime.now(timezone.utc) - timedelta(seconds=time.monotonic() - monotonic_at)


class GuardedChannel(JsonErrorChannel):
    """An HTTP connection that remembers when its request began and when it was queued (and
    whose own error answers are JSON, server/waitress_errors.py)."""

    request_began: float | None = None  # monotonic time of the in-progress request's first byte
    queued_at: float | None = None

    def received(self, data):
        began = self.request is None
        result = super().received(data)
        if self.request is None:  # nothing partly read: complete (queued) or empty
            self.request_began = None
        elif began or self.request_began is None:
            self.request_began = time.monotonic()
        return result

    def service(self):
        queued, self.queued_at = self.queued_at, None
        if queued is not None and self.server.is_priority(self):
            waited = time.monotonic() - queued
            if waited > LANE_WAIT_BLIND:
                self.server.report_blind(queued, time.monotonic(), "heartbeat calls waited for a thread")
        return super().service()

    def reading_for(self, now: float) -> float:
        return 0.0 if self.request_began is None else now - self.request_began

    def busy(self) -> bool:
        """A request of this connection is queued or being answered."""
        return bool(self.requests)


class GuardedServer(TcpWSGIServer):
    channel_class = GuardedChannel

    def __init__(self, app, map, adj, sockinfo, dispatcher, limits: Limits,
                 on_blind: Callable[[datetime, datetime], None]):
        self.limits = limits
        self.on_blind = on_blind
        self.priority = ThreadedTaskDispatcher()
        self.loop_turn = time.monotonic()
        self.overflow_since: float | None = None
        self.closed = threading.Event()
        self._blind_logged = 0.0
        super().__init__(app, map=map, dispatcher=dispatcher, adj=adj, sockinfo=sockinfo)
        self.priority.set_thread_count(limits.priority_threads)

    # ---- lanes -------------------------------------------------------------------------------
    def is_priority(self, channel) -> bool:
        request = channel.requests[0] if channel.requests else None
        path = getattr(request, "path", None) or ""
        return path.startswith(PRIORITY_PATHS)

    def add_task(self, channel):
        channel.queued_at = time.monotonic()
        if self.is_priority(channel):
            self.priority.add_task(channel)
        else:
            self.task_dispatcher.add_task(channel)

    # ---- connections -------------------------------------------------------------------------
    def readable(self):
        self.loop_turn = time.monotonic()
        return super().readable()

    def handle_accept(self):
        if len(self.active_channels) >= self.limits.max_connections:
            self._evict_one()
        super().handle_accept()

    def _evict_one(self) -> None:
        """Close the connection idle or slow the longest (never one whose request is being answered)."""
        now, wall_now = time.monotonic(), time.time()
        victim, longest = None, -1.0
        for channel in self.active_channels.values():
            if channel.busy() or channel.will_close:
                continue
            waited = channel.reading_for(now) or (wall_now - channel.last_activity)
            if waited > longest:
                victim, longest = channel, waited
        if victim is not None:
            victim.handle_close()

    def maintenance(self, now):
        mono, limits = time.monotonic(), self.limits
        for channel in list(self.active_channels.values()):
            if channel.busy() or channel.will_close:
                continue
            request, reading = channel.request, channel.reading_for(mono)
            if request is not None:
                if reading > limits.request_timeout or (reading > limits.header_timeout
                                                         and not request.headers_finished):
                    channel.will_close = True  # too slow: its room goes to someone else
            elif now - channel.last_activity > limits.idle_timeout:
                channel.will_close = True
        # With eviction, waitress stops accepting only when every connection is being answered:
        # blind time for heartbeat calls while it lasts.
        if self.in_connection_overflow:
            self.overflow_since = self.overflow_since or mono
            self.report_blind(self.overflow_since, mono, "every connection was busy")
        elif self.overflow_since is not None:
            self.report_blind(self.overflow_since, mono, "every connection was busy")
            self.overflow_since = None

    def report_blind(self, start: float, end: float, why: str) -> None:
        self.on_blind(_wall(start), _wall(end))
        if end - self._blind_logged > 60:  # one line a minute at most, however long it lasts
            self._blind_logged = end
            log.warning("the API could not take heartbeat calls promptly (%s, %.1f s); heartbeat deadlines "
                        "move back by that time. If it repeats, raise --http-threads or --max-connections, "
                        "or look for a client flooding the API", why, end - start)

    def close(self):
        self.closed.set()
        self.priority.shutdown()
        return super().close()


def make_server(app, host: str, port: int, threads: int, limits: Limits,
                on_blind: Callable[[datetime, datetime], None], proxy_headers: bool = False,
                ident: str = "StatusCore") -> GuardedServer:
    """A server listening on host:port; .run() serves until .close() or a signal.
    `proxy_headers`: leave X-Forwarded-* to the app (server/proxies.py judges them; waitress
    would otherwise drop them)."""
    adj = Adjustments(host=host, port=port, threads=threads, ident=ident,
                      **({"clear_untrusted_proxy_headers": False} if proxy_headers else {}),
                      # waitress's own ceiling, above ours: reached only when eviction found no room
                      connection_limit=limits.max_connections + 8,
                      cleanup_interval=1,  # deadlines are enforced within a second
                      channel_timeout=int(limits.idle_timeout) + 1,
                      asyncore_use_poll=True)  # poll(): no ceiling at file descriptor 1024
    if len(adj.listen) != 1:
        raise ValueError(f"{host} names {len(adj.listen)} addresses; give one address to listen on")
    dispatcher = ThreadedTaskDispatcher()
    dispatcher.set_thread_count(adj.threads)
    server = GuardedServer(app, {}, adj, adj.listen[0], dispatcher, limits, on_blind)
    _watch_loop(server)
    return server


def _watch_loop(server: GuardedServer) -> None:
    """The event loop turns at least once a second (its poll timeout). A longer gap means the
    process could not take connections: report it as blind time."""

    def watch():
        stalled_since = None
        while not server.closed.wait(WATCH_EVERY):
            now = time.monotonic()
            if now - server.loop_turn > 1.0 + LOOP_STALL_BLIND:
                stalled_since = stalled_since or server.loop_turn
            elif stalled_since is not None:
                server.report_blind(stalled_since, now, "the server's event loop stalled")
                stalled_since = None

    threading.Thread(target=watch, name="http-watch", daemon=True).start()
