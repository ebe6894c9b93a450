"""Slow clients, as an attacker runs them (slowloris): many connections that each send a request
line and then one header every few seconds, never finishing. Reconnects whatever the server
closes. One thread drives every socket; it stops by itself after `seconds`. Loopback only."""

from __future__ import annotations

import socket
import threading
import time


class SlowClients:
    def __init__(self, port: int, count: int, every: float = 5.0, seconds: float = 60.0,
                 source: str = "127.0.0.2", host: str = "127.0.0.1"):
        assert host.startswith("127.") and source.startswith("127."), "loopback only"
        self.port, self.count, self.every, self.seconds = port, count, every, seconds
        self.source, self.host = source, host
        self.connections_made = 0
        self.closed_by_server = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slow-clients", daemon=True)

    def __enter__(self) -> "SlowClients":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(10)

    def _open(self) -> socket.socket | None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((self.source, 0))
        sock.settimeout(0.5)
        try:
            sock.connect((self.host, self.port))
            sock.sendall(b"GET /api/auth/me HTTP/1.1\r\nHost: statuscore\r\n")
        except OSError:
            sock.close()
            return None
        sock.setblocking(False)
        self.connections_made += 1
        return sock

    def _alive(self, sock: socket.socket, n: int) -> bool:
        try:
            if sock.recv(1024) == b"":  # the server closed it (or answered and closed)
                return False
        except BlockingIOError:
            pass
        except OSError:
            return False
        try:
            sock.send(b"X-Slow-%d: %d\r\n" % (n, n))
            return True
        except OSError:
            return False

    def _run(self) -> None:
        sockets: list[socket.socket | None] = []
        deadline = time.monotonic() + self.seconds
        n = 0
        try:
            while not self._stop.is_set() and time.monotonic() < deadline:
                while len(sockets) < self.count and time.monotonic() < deadline:
                    sockets.append(self._open())
                n += 1
                for i, sock in enumerate(sockets):
                    if sock is None or not self._alive(sock, n):
                        if sock is not None:
                            sock.close()
                            self.closed_by_server += 1
                        sockets[i] = self._open()
                self._stop.wait(self.every)
        finally:
            for sock in sockets:
                if sock is not None:
                    sock.close()
