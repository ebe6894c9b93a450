"""A scripted SIP responder on 127.0.0.1 (UDP or TCP) for the sip checker's tests.

Modes (what the peer does with each OPTIONS it receives):
    ok              answer `status` (200 OK by default) echoing Via, From, To (+tag), Call-ID, CSeq
    trying          answer 100 Trying at once, then the final answer after `delay` seconds
    framed          (TCP) one write: CRLF keep-alive, a 100 with a body, then the final answer with
                    a body, so the reader must frame messages by Content-Length
    wrong_branch    the final answer, but with another Via branch (not a match)
    wrong_call_id   the final answer, but with another Call-ID (not a match)
    wrong_cseq      the final answer, but with another CSeq number (not a match)
    unrelated_first a wrong-branch answer, then the real one
    silent          never answer
    garbage         answer with `garbage` bytes (not SIP)
    flood           (TCP) after the request, endless matching 100 Trying responses, each complete
                    (bounded here too: `flood_limit` bytes)
    flood_header    (TCP) after the request, one header that never ends
    close           (TCP) close the connection without answering
`ignore_first=n` drops the first n requests without a word (to see UDP retransmissions);
`compact=True` answers with compact header names (v, f, t, i, l).
Every request received is kept in `requests` (raw bytes) with its source in `sources`.
"""

from __future__ import annotations

import re
import socket
import threading
import time

from tests.support.net import ThreadedPeer

REASONS = {100: "Trying", 180: "Ringing", 200: "OK", 404: "Not Found", 405: "Method Not Allowed",
           486: "Busy Here", 503: "Service Unavailable"}
_FULL = {"v": "via", "f": "from", "t": "to", "i": "call-id", "l": "content-length", "m": "contact"}
_COMPACT = {"via": "v", "from": "f", "to": "t", "call-id": "i", "content-length": "l"}


def parse_request(data: bytes) -> tuple[str, list[tuple[str, str]]]:
    """The request line and (lower-case full name, value) header pairs of a SIP request."""
    head = data.split(b"\r\n\r\n", 1)[0].decode("utf-8", errors="replace")
    lines = head.split("\r\n")
    headers = []
    for line in lines[1:]:
        name, _, value = line.partition(":")
        name = name.strip().lower()
        headers.append((_FULL.get(name, name), value.strip()))
    return lines[0], headers


def header(headers: list[tuple[str, str]], name: str) -> str | None:
    return next((value for key, value in headers if key == name), None)


class SipPeer(ThreadedPeer):
    def __init__(self, transport: str = "udp", mode: str = "ok", *, status: int = 200,
                 reason: str | None = None, delay: float = 0.0, ignore_first: int = 0,
                 compact: bool = False, garbage: bytes = b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
                 flood_limit: int = 64 * 1024 * 1024):
        assert transport in ("udp", "tcp")
        self.transport = transport
        self.mode = mode
        self.status = status
        self.reason = reason or REASONS.get(status, "Whatever")
        self.delay = delay
        self.ignore_first = ignore_first
        self.compact = compact
        self.garbage = garbage
        self.flood_limit = flood_limit
        self.requests: list[bytes] = []
        self.sources: list[tuple] = []
        self.flooded = 0
        super().__init__()
        self._lock = threading.Lock()
        kind = socket.SOCK_DGRAM if transport == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, kind)
        if transport == "tcp":
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        if transport == "tcp":
            self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]

    def target(self) -> str:
        """The monitor target for this peer (a sip: URI with the port, and transport=tcp if TCP)."""
        suffix = ";transport=tcp" if self.transport == "tcp" else ""
        return f"sip:127.0.0.1:{self.port}{suffix}"

    # -- lifecycle -------------------------------------------------------------------------------

    def _start(self) -> None:
        self._spawn(self._serve_udp if self.transport == "udp" else self._serve_tcp)

    def _record(self, data: bytes, source) -> bool:
        """Keep the request; False when it is one of the first `ignore_first` (to be dropped)."""
        with self._lock:
            self.requests.append(data)
            self.sources.append(source)
            return len(self.requests) > self.ignore_first

    # -- UDP -------------------------------------------------------------------------------------

    def _serve_udp(self) -> None:
        while not self._stop.is_set():
            try:
                data, source = self.sock.recvfrom(65535)
            except (socket.timeout, OSError):
                continue
            if not self._record(data, source):
                continue
            self._answer(data, lambda payload, to=source: self._send_udp(payload, to))

    def _send_udp(self, payload: bytes, to) -> None:
        try:
            self.sock.sendto(payload, to)
        except OSError:
            pass

    # -- TCP -------------------------------------------------------------------------------------

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            try:
                conn, source = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            self._spawn(self._serve_connection, conn, source)

    def _serve_connection(self, conn: socket.socket, source) -> None:
        conn.settimeout(0.1)
        buffer = b""
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except socket.timeout:
                    continue
                except OSError:
                    return
                if not chunk:
                    return
                buffer += chunk
                while b"\r\n\r\n" in buffer:
                    head, rest = buffer.split(b"\r\n\r\n", 1)
                    length = int(header(parse_request(head + b"\r\n\r\n")[1], "content-length") or 0)
                    if len(rest) < length:
                        break
                    request, buffer = head + b"\r\n\r\n" + rest[:length], rest[length:]
                    if not self._record(request, source):
                        continue
                    if self.mode == "close":
                        return
                    if self.mode in ("flood", "flood_header"):
                        self._flood(conn, request)
                        return
                    self._answer(request, lambda payload: self._send_tcp(conn, payload))

    def _send_tcp(self, conn: socket.socket, payload: bytes) -> None:
        try:
            conn.sendall(payload)
        except OSError:
            pass

    def _flood(self, conn: socket.socket, request: bytes) -> None:
        if self.mode == "flood":
            chunk = self.response(request, 100) * 16
        else:
            chunk = b"SIP/2.0 100 Trying\r\n" + b"X-Filler: " + b"x" * 4000  # never a line end
            conn.sendall(chunk)
            chunk = b"x" * 4096
        conn.settimeout(1.0)
        while not self._stop.is_set() and self.flooded < self.flood_limit:
            try:
                conn.sendall(chunk)
            except OSError:
                return
            self.flooded += len(chunk)

    # -- answers ---------------------------------------------------------------------------------

    def _answer(self, request: bytes, send) -> None:
        mode = self.mode
        if mode == "silent":
            return
        if mode == "garbage":
            send(self.garbage)
            return
        if mode == "trying":
            send(self.response(request, 100))
            if self.delay:
                self._spawn(self._later, self.delay, send, self.response(request, self.status, self.reason))
            else:
                send(self.response(request, self.status, self.reason))
            return
        if mode == "framed":
            send(b"\r\n\r\n" + self.response(request, 100, body=b"a provisional body, to be skipped")
                 + self.response(request, self.status, self.reason, body=b"v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\n"))
            return
        if mode == "unrelated_first":
            send(self.response(request, self.status, self.reason, wrong="branch"))
            time.sleep(0.05)
            send(self.response(request, self.status, self.reason))
            return
        wrong = {"wrong_branch": "branch", "wrong_call_id": "call-id", "wrong_cseq": "cseq"}.get(mode)
        send(self.response(request, self.status, self.reason, wrong=wrong))

    def _later(self, delay: float, send, payload: bytes) -> None:
        if not self._stop.wait(delay):
            send(payload)

    def response(self, request: bytes, status: int, reason: str | None = None, *, wrong: str | None = None,
                 body: bytes = b"") -> bytes:
        _, headers = parse_request(request)
        lines = [f"SIP/2.0 {status} {reason or REASONS.get(status, 'Whatever')}"]
        for name in ("via", "from", "to", "call-id", "cseq"):
            for key, value in headers:
                if key != name:
                    continue
                if name == "via" and wrong == "branch":
                    value = re.sub(r"branch=[^;,\s]+", "branch=z9hG4bKsomeone-else", value)
                if name == "call-id" and wrong == "call-id":
                    value = "another-" + value
                if name == "cseq" and wrong == "cseq":
                    value = "2 OPTIONS"
                if name == "to" and status > 100 and ";tag=" not in value:
                    value += ";tag=peer1"
                lines.append(f"{self._name(name)}: {value}")
        lines.append("Server: statuscore-test-peer")
        lines.append(f"{self._name('content-length')}: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + body

    def _name(self, name: str) -> str:
        if self.compact and name in _COMPACT:
            return _COMPACT[name]
        return {"call-id": "Call-ID", "cseq": "CSeq"}.get(name, name.title())
