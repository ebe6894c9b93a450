"""The one HTTP helper notifiers send through: POST a body under one overall deadline.

http.client with the checkers' deadline sockets rather than requests: a receiver that trickles
its answer cannot hold a dispatcher thread past the timeout, and only a bounded answer is read.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from dataclasses import dataclass

from appliance import __version__, targets
from appliance.checkers.netio import DeadlineExceeded, DeadlineSocket, connect, tls_handshake

USER_AGENT = f"StatusCore-Webhook/{__version__}"
MAX_ANSWER = 64 * 1024


@dataclass(frozen=True)
class Outcome:
    """What one attempt of any kind came to. status_code is HTTP's; the kinds without one (email,
    Apprise) say `delivered` themselves, and `final` when retrying cannot help."""

    status_code: int | None
    error: str | None
    duration_ms: int
    delivered: bool | None = None
    final: bool = False

    @property
    def ok(self) -> bool:
        if self.delivered is not None:
            return self.delivered
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def permanent(self) -> bool:
        """A 4xx answer (other than timeout/limit) will not get better by retrying the same body."""
        code = self.status_code
        return self.final or (code is not None and 400 <= code < 500 and code not in (408, 425, 429))


def post(url: str, body: bytes, headers: dict[str, str], timeout: float,
         tls_context: ssl.SSLContext | None = None, source_address: str | None = None) -> Outcome:
    started = time.monotonic()
    deadline = started + timeout

    def done(status: int | None, error: str | None) -> Outcome:
        return Outcome(status, error, int((time.monotonic() - started) * 1000))

    try:
        host, port, tls, path = targets.url_parts(url)
    except ValueError as exc:  # only a URL that skipped validation: a failed delivery, not a crash
        return done(None, str(exc))
    try:
        raw = connect(host, port, deadline, source_address)
    except DeadlineExceeded:
        return done(None, f"no connection within {timeout:g} s")
    except socket.gaierror:
        return done(None, f"cannot resolve {host}")
    except OSError as exc:
        return done(None, f"connection failed: {exc.strerror or exc}")
    sock = raw
    try:
        if tls:
            sock = tls_handshake(raw, tls_context or ssl.create_default_context(), host, deadline)
        conn = http.client.HTTPConnection(host, port)
        conn.default_port = 443 if tls else 80
        conn.sock = DeadlineSocket(sock, deadline)
        conn.putrequest("POST", path, skip_accept_encoding=True)
        for name, value in {"User-Agent": USER_AGENT, "Content-Type": "application/json",
                            "Content-Length": str(len(body)), "Connection": "close", **headers}.items():
            conn.putheader(name, value)
        conn.endheaders(body)
        response = conn.getresponse()
        response.read(MAX_ANSWER)  # drain a little; the status is what counts
        return done(response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}")
    except (DeadlineExceeded, socket.timeout):
        return done(None, f"no answer within {timeout:g} s")
    except ssl.SSLCertVerificationError as exc:
        return done(None, f"TLS certificate is not valid: {exc.verify_message or exc.reason}")
    except ssl.SSLError as exc:
        return done(None, f"TLS failed: {exc.reason or exc}")
    except (OSError, http.client.HTTPException) as exc:
        return done(None, f"sending failed: {getattr(exc, 'strerror', None) or exc or type(exc).__name__}")
    finally:
        if sock is not raw:
            sock.close()
        raw.close()
