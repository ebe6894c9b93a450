"""Real local peers the checkers talk to: HTTP(S) servers with scripted behaviour and TCP
listeners, all on loopback, all stopped by the test that started them."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator
from urllib.parse import parse_qs, urlsplit


class ScriptedHandler(BaseHTTPRequestHandler):
    """Behaviour chosen per request by the path and query:

    /status/<code>          answer with that status
    /body?text=...          200 with that body
    /redirect/<n>           redirect n more times, then 200
    /loop                   redirect to itself forever
    /slow?seconds=s         sleep before answering
    /drip?seconds=s         send the headers one byte at a time, s seconds apart
    /big?mb=n               200 with an n MiB body
    anything else           200 "ok"

    A client whose address is in the server's `fail_from` gets 503 whatever it asks (remote
    probes bind their checks to their own loopback addresses, 127.0.0.2, 127.0.0.3, ...), and
    so does a path that starts with one of `fail_paths` (some monitors down, the others up).
    """

    protocol_version = "HTTP/1.1"
    server_version = "TestPeer/1"

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):  # noqa: N802 (http.server naming)
        self.server.hits += 1
        self.server.clients.append(self.client_address[0])
        if self.client_address[0] in self.server.fail_from:
            return self._reply(503, b"failing for this client")
        if self.path.startswith(self.server.fail_paths):
            return self._reply(503, b"failing on this path")
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        segments = [s for s in parts.path.split("/") if s]
        head = segments[0] if segments else ""
        forced = self.server.forced_status
        if forced is not None:
            return self._reply(forced, b"forced")
        if self.server.delay:
            time.sleep(self.server.delay)
        if head == "status":
            return self._reply(int(segments[1]), b"status")
        if head == "body":
            return self._reply(200, query.get("text", "").encode())
        if head == "redirect":
            left = int(segments[1])
            if left <= 0:
                return self._reply(200, b"arrived")
            return self._reply(302, b"", {"Location": f"/redirect/{left - 1}"})
        if head == "loop":
            return self._reply(302, b"", {"Location": "/loop"})
        if head == "slow":
            time.sleep(float(query.get("seconds", "5")))
            return self._reply(200, b"slow")
        if head == "drip":
            pause = float(query.get("seconds", "1"))
            for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:
                    return
                time.sleep(pause)
            return
        if head == "big":
            size = int(float(query.get("mb", "1")) * 1024 * 1024)
            self.send_response(200)
            self.send_header("Content-Length", str(size))
            self.end_headers()
            chunk = b"x" * 65536
            sent = 0
            try:
                while sent < size:
                    self.wfile.write(chunk[: size - sent])
                    sent += len(chunk)
            except OSError:
                pass
            return
        return self._reply(200, self.server.body)

    def _reply(self, status: int, body: bytes, headers: dict | None = None):
        self.send_response(status)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


class HttpPeer:
    """A threaded HTTP (or, with an SSL context, HTTPS) server on 127.0.0.1."""

    def __init__(self, ssl_context: ssl.SSLContext | None = None, host: str = "127.0.0.1"):
        self.httpd = ThreadingHTTPServer((host, 0), ScriptedHandler)
        self.httpd.daemon_threads = True
        self.httpd.hits = 0
        self.httpd.delay = 0.0
        self.httpd.forced_status = None
        self.httpd.body = b"ok"
        self.httpd.fail_from = frozenset()
        self.httpd.fail_paths = ()
        self.httpd.clients = []  # the client address of every request, in order
        if ssl_context is not None:
            self.httpd.socket = ssl_context.wrap_socket(self.httpd.socket, server_side=True)
        self.scheme = "https" if ssl_context else "http"
        self.host = host
        self.port = self.httpd.server_address[1]
        self._thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1},
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}"

    def set_status(self, status: int | None) -> None:
        """Force every answer to this status (None: back to the scripted paths)."""
        self.httpd.forced_status = status

    def fail_from(self, *addresses: str) -> None:
        """Answer 503 to requests from these client addresses (none: back to normal)."""
        self.httpd.fail_from = frozenset(addresses)

    def fail_paths(self, *prefixes: str) -> None:
        """Answer 503 to paths starting with one of these (none: back to normal)."""
        self.httpd.fail_paths = tuple(prefixes)

    @property
    def clients(self) -> list[str]:
        """The client address of every request so far, in order."""
        return list(self.httpd.clients)

    @property
    def hits(self) -> int:
        return self.httpd.hits

    def __enter__(self) -> "HttpPeer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class TcpListener:
    """Accepts TCP connections on 127.0.0.1 and closes them; `close()` makes the port refuse."""

    def __init__(self, host: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self.accepted += 1
            conn.close()

    def __enter__(self) -> "TcpListener":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self.sock.close()


@contextmanager
def full_accept_queue() -> Iterator[int | None]:
    """A 127.0.0.1 port that never accepts, its (tiny) accept queue filled: Linux drops further
    SYNs, so a connection to it neither completes nor is refused. Yields None when the kernel
    kept accepting into the backlog (the caller skips)."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers: list[socket.socket] = []
    try:
        for _ in range(8):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            fillers.append(filler)
            filler.settimeout(0.2)
            try:
                filler.connect(("127.0.0.1", port))
            except OSError:
                break  # the queue is full: this SYN was dropped
        else:
            port = None
        yield port
    finally:
        for filler in fillers:
            filler.close()
        listener.close()


def https_peer(cert) -> HttpPeer:
    """An HttpPeer serving TLS with a trustme LeafCert (made by the test's own CA)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    cert.configure_cert(context)
    return HttpPeer(ssl_context=context)
