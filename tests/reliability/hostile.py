"""Hostile targets on 127.0.0.1 that keep their own books: how many bytes they managed to send
and how long each connection stayed open (until the checker hung up).

    hang        read the request, never answer
    drip        answer an HTTP response one byte a second
    huge        answer 200 with a 100 MiB body, as fast as the client takes it
    redirect    answer every request with a redirect to another path, forever
    tls_stall   (for https://) take the ClientHello, never answer it
    tls_drip    (for https://) answer the ClientHello one byte a second
"""

from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass

from tests.support.net import ThreadedPeer

HUGE_BYTES = 100 * 1024 * 1024
_DRIP = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
# The start of a TLS ServerHello record (handshake, TLS 1.2, a long length): never completed.
_TLS_DRIP = b"\x16\x03\x03\x40\x00\x02\x00\x3f\xfc\x03\x03" + b"\x00" * 64


@dataclass
class Connection:
    opened_at: float
    closed_at: float | None = None
    sent: int = 0  # bytes the kernel took from us
    requests: int = 0

    @property
    def duration(self) -> float:
        return (self.closed_at or time.monotonic()) - self.opened_at


class HostileServer(ThreadedPeer):
    def __init__(self, behaviour: str):
        super().__init__()
        assert behaviour in ("hang", "drip", "huge", "redirect", "tls_stall", "tls_drip"), behaviour
        self.behaviour = behaviour
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 64 * 1024)  # inherited by connections
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.connections: list[Connection] = []
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        scheme = "https" if self.behaviour.startswith("tls") else "http"
        return f"{scheme}://127.0.0.1:{self.port}/"

    def closed(self) -> list[Connection]:
        """The connections the client has hung up."""
        with self._lock:
            return [c for c in self.connections if c.closed_at is not None]

    def _start(self) -> None:
        self._spawn(self._accept)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            record = Connection(time.monotonic())
            with self._lock:
                self.connections.append(record)
            self._spawn(self._serve, conn, record)

    # ---- one connection ------------------------------------------------------------------------
    def _serve(self, conn: socket.socket, record: Connection) -> None:
        try:
            with conn:
                if not self._read_request(conn, record):
                    return
                behaviour = self.behaviour
                if behaviour in ("hang", "tls_stall"):
                    self._wait_for_hang_up(conn, until=None)
                elif behaviour in ("drip", "tls_drip"):
                    for byte in _DRIP if behaviour == "drip" else _TLS_DRIP:
                        if not self._send(conn, record, bytes([byte])) or self._wait_for_hang_up(conn, 1.0):
                            return
                    self._wait_for_hang_up(conn, until=None)
                elif behaviour == "huge":
                    head = f"HTTP/1.1 200 OK\r\nContent-Length: {HUGE_BYTES}\r\n\r\n".encode()
                    if self._send(conn, record, head):
                        chunk = b"x" * 65536
                        while record.sent < HUGE_BYTES and self._send(conn, record, chunk):
                            pass
                    self._wait_for_hang_up(conn, until=None)
                elif behaviour == "redirect":
                    self._send(conn, record, f"HTTP/1.1 302 Found\r\nLocation: /again-{record.requests}"
                                             f"-{len(self.connections)}\r\nContent-Length: 0\r\n"
                                             "Connection: close\r\n\r\n".encode())
        finally:
            record.closed_at = record.closed_at or time.monotonic()

    def _read_request(self, conn: socket.socket, record: Connection) -> bool:
        """Read until the end of an HTTP request head (or, for TLS, the first bytes of the hello)."""
        conn.settimeout(0.1)
        data = b""
        while not self._stop.is_set():
            try:
                chunk = conn.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return False
            if not chunk:
                return False
            data += chunk
            if self.behaviour.startswith("tls") or b"\r\n\r\n" in data:
                record.requests += 1
                return True
        return False

    def _send(self, conn: socket.socket, record: Connection, data: bytes) -> bool:
        conn.settimeout(0.5)
        view = memoryview(data)
        while view and not self._stop.is_set():
            try:
                n = conn.send(view)
            except socket.timeout:
                if self._hung_up(conn):
                    return False
                continue
            except OSError:
                return False
            record.sent += n
            view = view[n:]
        return not view

    def _hung_up(self, conn: socket.socket) -> bool:
        try:
            readable, _, _ = select.select([conn], [], [], 0)
            if not readable:
                return False
            return conn.recv(65536, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _wait_for_hang_up(self, conn: socket.socket, until: float | None) -> bool:
        """Wait (at most `until` seconds, or until stopped) for the client to hang up."""
        deadline = None if until is None else time.monotonic() + until
        while not self._stop.is_set() and (deadline is None or time.monotonic() < deadline):
            try:
                readable, _, _ = select.select([conn], [], [], 0.05)
                if readable and conn.recv(65536) == b"":
                    return True
            except OSError:
                return True
        return False
