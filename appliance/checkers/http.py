"""http and https monitors: a GET answered with 2xx/3xx (or expected_status), within the timeout,
containing the keyword if one is set. https with ssl_check also verifies the certificate (chain,
host name, expiry) and reports its expiry.

Built on http.client rather than requests: a check costs ~5x less CPU that way, and we need our
own control of the overall deadline, redirects and how much is read anyway.
"""

from __future__ import annotations

import http.client
import socket
import ssl
import time
from datetime import datetime, timezone
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

from appliance import __version__, targets
from appliance.checkers.base import CheckerContext, CheckResult
from appliance.checkers.netio import DeadlineExceeded, DeadlineSocket, connect, remaining, tls_handshake

MAX_REDIRECTS = 10
MAX_BODY_BYTES = 4 * 1024 * 1024  # read at most this much looking for a keyword
USER_AGENT = f"StatusCore/{__version__} (uptime check)"


@lru_cache(maxsize=16384)
def _parse_target(url: str) -> targets.UrlParts:
    """A URL's parts, parsed once per URL rather than once per check (a monitor checks the
    same URL all day; parsing was ~8 % of a check's Python time). Raises http.client.InvalidURL
    (a check failure, not a crash) for a URL without a host or with a bad port, e.g. in a
    redirect."""
    try:
        return targets.url_parts(url)
    except ValueError as exc:
        raise http.client.InvalidURL(str(exc)) from None


class HttpChecker:
    def __init__(self, context: CheckerContext | None = None):
        self.context = context or CheckerContext()
        self._verify = ssl.create_default_context()
        if self.context.ca_file:
            self._verify.load_verify_locations(cafile=self.context.ca_file)
        self._no_verify = ssl.create_default_context()
        self._no_verify.check_hostname = False
        self._no_verify.verify_mode = ssl.CERT_NONE

    def check(self, spec) -> CheckResult:
        started = time.monotonic()
        deadline = started + spec.timeout
        url = spec.target
        cert: dict | None = None
        try:
            for _ in range(MAX_REDIRECTS + 1):
                status, location, body_has_keyword, peer_cert = self._request(url, spec, deadline)
                if peer_cert is not None and cert is None:
                    cert = peer_cert
                if location and 300 <= status < 400 and status != 304 and spec.expected_status != status:
                    try:
                        url = urljoin(url, location)
                        scheme = urlsplit(url).scheme
                    except ValueError:  # urllib refuses it, e.g. an unclosed [ in the host
                        return self._fail(started, f"redirected to an invalid URL {location[:200]}", cert, answered=True)
                    if scheme not in ("http", "https"):
                        return self._fail(started, f"redirected to an unsupported URL {url[:200]}", cert, answered=True)
                    continue
                break
            else:
                return self._fail(started, f"more than {MAX_REDIRECTS} redirects (last to {url[:200]})", cert, answered=True)
        except DeadlineExceeded:
            return self._fail(started, f"no complete answer within {spec.timeout} s", cert)
        except ssl.SSLCertVerificationError as exc:
            return self._fail(started, f"TLS certificate is not valid: {exc.verify_message or exc.reason}",
                              {"valid": False, "error": exc.verify_message or str(exc.reason)})
        except ssl.SSLError as exc:
            return self._fail(started, f"TLS handshake failed: {exc.reason or exc}", cert)
        except socket.timeout:
            return self._fail(started, f"no answer within {spec.timeout} s", cert)
        except ConnectionRefusedError:
            return self._fail(started, "connection refused", cert)
        except socket.gaierror as exc:
            return self._fail(started, f"cannot resolve the host name ({exc.strerror})", cert)
        except http.client.InvalidURL as exc:  # e.g. a redirect to a URL with a bad port
            return self._fail(started, str(exc), cert)
        except (OSError, http.client.HTTPException) as exc:
            return self._fail(started, _describe(exc), cert)

        elapsed = (time.monotonic() - started) * 1000
        details = {"status_code": status}
        if cert is not None:
            details["ssl"] = cert
        if spec.expected_status is not None:
            if status != spec.expected_status:
                return CheckResult(False, elapsed, f"HTTP {status}, expected {spec.expected_status}", details)
        elif not 200 <= status < 400:
            return CheckResult(False, elapsed, f"HTTP {status}", details)
        if spec.keyword and not body_has_keyword:
            return CheckResult(False, elapsed, f"keyword {spec.keyword!r} not found in the response", details)
        return CheckResult(True, elapsed, None, details)

    def _request(self, url: str, spec, deadline: float):
        host, port, tls, path = _parse_target(url)
        raw = connect(host, port, deadline, self.context.source_address)
        cert = None
        sock = raw
        try:
            if tls:
                verify = spec.ssl_check
                sock = tls_handshake(raw, self._verify if verify else self._no_verify, host, deadline)
                if verify:
                    cert = _cert_info(sock.getpeercert())
            conn = http.client.HTTPConnection(host, port)
            conn.default_port = 443 if tls else 80  # so the Host header omits a default port
            conn.sock = DeadlineSocket(sock, deadline)
            conn.putrequest("GET", path, skip_accept_encoding=True)
            conn.putheader("User-Agent", USER_AGENT)
            conn.putheader("Accept", "*/*")
            conn.putheader("Connection", "close")
            conn.endheaders()
            response = conn.getresponse()
            found = False
            if spec.keyword and not (300 <= response.status < 400 and response.getheader("Location")):
                found = _body_contains(response, spec.keyword.encode("utf-8"), deadline)
            return response.status, response.getheader("Location"), found, cert
        finally:
            if sock is not raw:  # wrap_socket took over the descriptor: close the TLS socket
                sock.close()
            raw.close()

    @staticmethod
    def _fail(started: float, error: str, cert: dict | None, answered: bool = False) -> CheckResult:
        """A failed check; its response_time only when an HTTP answer came (a redirect that
        leads nowhere), none for a connection or TLS failure or a timeout: nothing answered."""
        details = {"ssl": cert} if cert is not None else {}
        elapsed = (time.monotonic() - started) * 1000 if answered else None
        return CheckResult(False, elapsed, error, details)


def _body_contains(response: http.client.HTTPResponse, needle: bytes, deadline: float) -> bool:
    seen = 0
    tail = b""
    while seen < MAX_BODY_BYTES:
        chunk = response.read1(65536) if hasattr(response, "read1") else response.read(65536)
        if not chunk:
            return False
        seen += len(chunk)
        window = tail + chunk
        if needle in window:
            return True
        tail = window[-(len(needle) - 1):] if len(needle) > 1 else b""
        remaining(deadline)
    return False


def _cert_info(peer: dict) -> dict:
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(peer["notAfter"]), tz=timezone.utc)
    issuer = dict(pair[0] for pair in peer.get("issuer", ()) if pair)
    name = issuer.get("organizationName") or issuer.get("commonName") or ""
    days_left = int((expires - datetime.now(timezone.utc)).total_seconds() // 86400)
    return {"valid": True, "expires_at": expires, "days_left": days_left, "issuer": name}


def _describe(exc: BaseException) -> str:
    if isinstance(exc, http.client.RemoteDisconnected):
        return "the server closed the connection without answering"
    if isinstance(exc, http.client.HTTPException):
        return f"invalid HTTP answer ({type(exc).__name__})"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return f"connection failed: {text}"
