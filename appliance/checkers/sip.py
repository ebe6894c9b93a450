"""sip monitors: a SIP OPTIONS request (RFC 3261 §11) gets any SIP final response.

Any final response (2xx-6xx) counts as up: a 404 or 405 still proves a SIP stack answered.
Only a response to *our* request counts: its top Via branch, Call-ID and CSeq must match.
Provisional (1xx) responses, unrelated datagrams and requests from the peer are skipped while
waiting for the final response, all within spec.timeout.

Transport: UDP by default, TCP with a `;transport=tcp` parameter on a sip: target
(`sip:pbx.example.com:5060;transport=tcp`). Port: spec.port, else the target's, else 5060.
UDP retransmits on RFC 3261 timer E (500 ms, doubling up to T2 = 4 s; T2 once a provisional
response arrived). TCP frames messages by Content-Length and reads a bounded amount.
"""

from __future__ import annotations

import ipaddress
import re
import secrets
import socket
import time
from dataclasses import dataclass, field

from appliance import __version__
from appliance.checkers.base import CheckerContext, CheckResult
from appliance.checkers.netio import DeadlineExceeded, connect, remaining
from appliance.targets import SipTarget, join_host_port, read_sip

DEFAULT_PORT = 5060
T1 = 0.5  # RFC 3261 timer T1: first retransmission interval (UDP)
T2 = 4.0  # RFC 3261 timer T2: longest retransmission interval for non-INVITE requests
MAX_DATAGRAM = 65535
MAX_UDP_DATAGRAMS = 256  # unrelated datagrams read before giving up (a flood cannot spin us)
MAX_HEADER_BYTES = 16 * 1024  # one message's start line and headers (TCP)
MAX_BODY_BYTES = 64 * 1024  # one message's body, skipped (TCP)
MAX_STREAM_BYTES = 256 * 1024  # everything read on one TCP connection
USER_AGENT = f"StatusCore/{__version__}"

# RFC 3261 §7.3.3 compact header names (and RFC 3265/3515/4028/4474 ones seen in the wild)
_COMPACT = {
    "v": "via", "i": "call-id", "f": "from", "t": "to", "l": "content-length", "m": "contact",
    "c": "content-type", "e": "content-encoding", "k": "supported", "s": "subject",
    "o": "event", "u": "allow-events", "r": "refer-to", "b": "referred-by", "x": "session-expires",
}
_STATUS_LINE = re.compile(r"^SIP/2\.0 +([1-9]\d\d)(?: +(.*))?$", re.IGNORECASE)
_REQUEST_LINE = re.compile(r"^[A-Za-z]+ +\S+ +SIP/2\.0$", re.IGNORECASE)
_METHOD_START = re.compile(rb"^[A-Za-z]+(?: |$)")


class NotSip(ValueError):
    """The peer sent something that is not a SIP message."""


@dataclass
class SipResponse:
    status: int
    reason: str
    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case full names

    def first(self, name: str) -> str | None:
        values = self.headers.get(name)
        return values[0] if values else None


def parse_head(head: bytes) -> tuple[SipResponse | None, int]:
    """Parse a message's start line and headers (without the blank line).

    Returns (response, content_length); response is None for a SIP *request*.
    Raises NotSip when the start line is neither."""
    text = head.decode("utf-8", errors="replace")
    lines = text.replace("\r\n", "\n").split("\n")
    start = lines[0].strip()
    match = _STATUS_LINE.match(start)
    if match is None and not _REQUEST_LINE.match(start):
        raise NotSip(start)
    headers: dict[str, list[str]] = {}
    last: str | None = None
    for line in lines[1:]:
        if line[:1] in (" ", "\t") and last is not None:  # folded continuation (RFC 3261 §7.3.1)
            headers[last][-1] += " " + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon:
            continue
        name = name.strip().lower()
        name = _COMPACT.get(name, name)
        headers.setdefault(name, []).append(value.strip())
        last = name
    length_text = (headers.get("content-length") or ["0"])[0]
    length = int(length_text) if length_text.isdigit() else 0
    if match is None:
        return None, length
    return SipResponse(int(match.group(1)), (match.group(2) or "").strip(), headers), length


def _split_commas(value: str) -> list[str]:
    """Split a header value on commas outside quotes and <...> (several Via values on one line)."""
    parts, current, quoted, angle = [], [], False, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            angle = True
        elif ch == ">" and not quoted:
            angle = False
        if ch == "," and not quoted and not angle:
            parts.append("".join(current).strip())
            current = []
        else:
            current.append(ch)
    parts.append("".join(current).strip())
    return [part for part in parts if part]


def _via_branch(via: str) -> str | None:
    for param in via.split(";")[1:]:
        name, _, value = param.partition("=")
        if name.strip().lower() == "branch":
            return value.strip()
    return None


@dataclass(frozen=True)
class _Request:
    data: bytes
    branch: str
    call_id: str
    cseq: int = 1
    method: str = "OPTIONS"

    def matches(self, response: SipResponse) -> bool:
        vias = response.headers.get("via") or []
        top = _split_commas(vias[0]) if vias else []
        if not top or _via_branch(top[0]) != self.branch:
            return False
        if response.first("call-id") != self.call_id:
            return False
        number, _, method = (response.first("cseq") or "").strip().partition(" ")
        return number.isdigit() and int(number) == self.cseq and method.strip() == self.method


def build_options(target: SipTarget, port: int, local: tuple) -> _Request:
    """A well-formed OPTIONS (RFC 3261 §8.1.1, §11) from the socket's local address."""
    local_host, local_port = local[0], local[1]
    transport_param = ";transport=tcp" if target.transport == "tcp" else ""
    uri = "sip:" + join_host_port(target.host, port if port != DEFAULT_PORT else None) + transport_param
    me = join_host_port(local_host)
    branch = "z9hG4bK" + secrets.token_hex(12)
    call_id = f"{secrets.token_hex(16)}@{me}"
    lines = [
        f"OPTIONS {uri} SIP/2.0",
        f"Via: SIP/2.0/{target.transport.upper()} {join_host_port(local_host, local_port)};rport;branch={branch}",
        "Max-Forwards: 70",
        f"From: <sip:statuscore@{me}>;tag={secrets.token_hex(6)}",
        f"To: <{uri}>",
        f"Call-ID: {call_id}",
        "CSeq: 1 OPTIONS",
        f"Contact: <sip:statuscore@{join_host_port(local_host, local_port)}{transport_param}>",
        "Accept: application/sdp",
        f"User-Agent: {USER_AGENT}",
        "Content-Length: 0",
        "",
        "",
    ]
    return _Request("\r\n".join(lines).encode("ascii", errors="strict"), branch, call_id)


class _Failure(Exception):
    def __init__(self, error: str):
        super().__init__(error)
        self.error = error


class SipChecker:
    def __init__(self, context: CheckerContext | None = None):
        self.context = context or CheckerContext()

    def check(self, spec) -> CheckResult:
        started = time.monotonic()
        deadline = started + spec.timeout
        try:
            target = read_sip(spec.target)
        except ValueError as exc:
            return CheckResult.failure(f"invalid sip target: {exc}")
        port = spec.port or target.port or DEFAULT_PORT
        details = {"transport": target.transport}
        try:
            if target.transport == "tcp":
                response = self._over_tcp(target, port, spec.timeout, deadline)
            else:
                response = self._over_udp(target, port, spec.timeout, deadline, details)
        # No SIP final response came (that would have been up): no response time to report.
        except _Failure as failure:
            return CheckResult(False, None, failure.error, details)
        except socket.gaierror as exc:
            return CheckResult(False, None, f"cannot resolve the host name ({exc.strerror})", details)
        except OSError as exc:
            return CheckResult(False, None, f"network error: {exc.strerror or exc}", details)
        elapsed = _ms(started)
        details.update(sip_status=response.status, sip_reason=response.reason)
        server = response.first("server") or response.first("user-agent")
        if server:
            details["sip_server"] = server[:200]
        return CheckResult(True, elapsed, None, details)

    # -- UDP -----------------------------------------------------------------------------------

    def _over_udp(self, target: SipTarget, port: int, timeout, deadline: float, details: dict) -> SipResponse:
        family, address = self._resolve_udp(target.host, port)
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            if self.context.source_address:
                sock.bind((self.context.source_address, 0))
            sock.connect(address)
            request = build_options(target, port, sock.getsockname())
            interval = T1
            sent = 0
            next_send = time.monotonic()
            junk = unrelated = datagrams = 0
            first_junk = ""
            proceeding = False
            while True:
                now = time.monotonic()
                if now >= deadline:
                    break
                if now >= next_send:
                    try:
                        sock.send(request.data)
                    except ConnectionRefusedError:
                        raise _Failure(_unreachable(port)) from None
                    sent += 1
                    next_send = now + (T2 if proceeding else interval)
                    interval = min(interval * 2, T2)
                sock.settimeout(max(0.001, min(next_send, deadline) - time.monotonic()))
                try:
                    data = sock.recv(MAX_DATAGRAM)
                except socket.timeout:
                    continue
                except ConnectionRefusedError:
                    raise _Failure(_unreachable(port)) from None
                datagrams += 1
                try:
                    response, _ = parse_head(data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0])
                except NotSip as exc:
                    junk += 1
                    first_junk = first_junk or str(exc)
                    response = None
                if response is not None:
                    if not request.matches(response):
                        unrelated += 1
                    elif response.status >= 200:
                        details["retransmissions"] = sent - 1
                        return response
                    else:
                        proceeding = True
                if datagrams >= MAX_UDP_DATAGRAMS:
                    raise _Failure(f"{datagrams} datagrams without a matching SIP answer")
            details["retransmissions"] = max(sent - 1, 0)
            raise _Failure(_silence(timeout, junk, unrelated, proceeding, first_junk))
        finally:
            sock.close()

    def _resolve_udp(self, host: str, port: int):
        family = 0
        if self.context.source_address:
            try:
                family = socket.AF_INET6 if ipaddress.ip_address(self.context.source_address).version == 6 \
                    else socket.AF_INET
            except ValueError:
                family = 0
        infos = socket.getaddrinfo(host, port, family, socket.SOCK_DGRAM)
        return infos[0][0], infos[0][4]

    # -- TCP -----------------------------------------------------------------------------------

    def _over_tcp(self, target: SipTarget, port: int, timeout, deadline: float) -> SipResponse:
        try:
            sock = connect(target.host, port, deadline, self.context.source_address)
        except socket.timeout:
            raise _Failure(f"no TCP connection to port {port} within {timeout} s") from None
        except ConnectionRefusedError:
            raise _Failure(f"connection refused (nothing listening on TCP port {port})") from None
        proceeding = False
        unrelated = 0
        try:
            request = build_options(target, port, sock.getsockname())
            sock.settimeout(remaining(deadline))
            sock.sendall(request.data)
            reader = _StreamReader(sock, deadline)
            while True:
                response = reader.next_message()
                if response is None:  # a request from the peer, skipped
                    continue
                if not request.matches(response):
                    unrelated += 1
                elif response.status >= 200:
                    return response
                else:
                    proceeding = True
        except (DeadlineExceeded, socket.timeout):
            raise _Failure(_silence(timeout, 0, unrelated, proceeding, "")) from None
        except NotSip as exc:
            raise _Failure(f"not a SIP response: {_excerpt(str(exc))}") from None
        except ConnectionResetError:
            raise _Failure("the peer reset the connection without a SIP answer") from None
        finally:
            try:
                sock.close()
            except OSError:
                pass


class _StreamReader:
    """Reads SIP messages off a TCP stream (Content-Length framing), bounded in bytes and time."""

    def __init__(self, sock: socket.socket, deadline: float):
        self.sock = sock
        self.deadline = deadline
        self.buffer = b""
        self.total = 0

    def _fill(self) -> None:
        if self.total >= MAX_STREAM_BYTES:
            raise _Failure(f"the peer sent more than {MAX_STREAM_BYTES // 1024} KiB without a final SIP answer")
        self.sock.settimeout(remaining(self.deadline))
        chunk = self.sock.recv(min(65536, MAX_STREAM_BYTES - self.total))
        if not chunk:
            raise _Failure("the peer closed the connection without a SIP answer")
        self.total += len(chunk)
        self.buffer += chunk

    def next_message(self) -> SipResponse | None:
        while True:
            self.buffer = self.buffer.lstrip(b"\r\n")  # RFC 5626 CRLF keep-alives
            end, sep = self._header_end()
            if end >= 0:
                break
            if len(self.buffer) > MAX_HEADER_BYTES:
                self._reject_if_not_sip()
                raise _Failure(f"a SIP message header longer than {MAX_HEADER_BYTES // 1024} KiB")
            if self.buffer:
                self._reject_if_not_sip()
            self._fill()
        head, self.buffer = self.buffer[:end], self.buffer[end + sep:]
        response, length = parse_head(head)
        if length > MAX_BODY_BYTES:
            raise _Failure(f"a SIP message body of {length} bytes (more than {MAX_BODY_BYTES // 1024} KiB)")
        while len(self.buffer) < length:
            self._fill()
        self.buffer = self.buffer[length:]
        return response

    def _header_end(self) -> tuple[int, int]:
        crlf = self.buffer.find(b"\r\n\r\n")
        lf = self.buffer.find(b"\n\n")
        if crlf >= 0 and (lf < 0 or crlf <= lf):
            return crlf, 4
        return lf, 2

    def _reject_if_not_sip(self) -> None:
        """Fail early on a stream that is clearly not SIP (once its first line is complete, or
        once enough bytes arrived that a SIP start line would have ended)."""
        newline = self.buffer.find(b"\n")
        if newline >= 0:
            first = self.buffer[:newline].decode("utf-8", errors="replace").strip()
            if not (_STATUS_LINE.match(first) or _REQUEST_LINE.match(first)):
                raise NotSip(first)
        elif len(self.buffer) > 1024 or not _could_start_sip(self.buffer):
            raise NotSip(self.buffer[:80].decode("utf-8", errors="replace"))


def _could_start_sip(data: bytes) -> bool:
    """Whether data may still become a SIP start line ("SIP/2.0 ..." or "METHOD uri SIP/2.0")."""
    prefix = data[:8].upper()
    return b"SIP/2.0 ".startswith(prefix) or prefix == b"SIP/2.0 " or bool(_METHOD_START.match(data[:32]))


def _unreachable(port: int) -> str:
    return f"nothing listening on UDP port {port} (ICMP port unreachable)"


def _silence(timeout, junk: int, unrelated: int, proceeding: bool, first_junk: str) -> str:
    if proceeding:
        return f"a provisional SIP response but no final answer within {timeout} s"
    if unrelated:
        return (f"no matching SIP answer within {timeout} s "
                f"({unrelated} response(s) for another request ignored)")
    if junk:
        return f"not a SIP response: {_excerpt(first_junk)} (no SIP answer within {timeout} s)"
    return f"no SIP answer within {timeout} s"


def _excerpt(text: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in text.strip())
    return repr(text[:60] + ("..." if len(text) > 60 else ""))


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
