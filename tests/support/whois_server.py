"""A tiny threaded WHOIS (RFC 3912) server on 127.0.0.1 with canned answers, and the canned texts:
an IANA-style referral, a Verisign-style registry record, a registrar record and ARIN/RIPE-style
IP records. Every test stops the servers it starts (use them as context managers)."""

from __future__ import annotations

import socket
import threading
from datetime import datetime, timezone


class WhoisServer:
    """Answers each query (one line, CRLF-terminated) with `answers[query.lower()]`, else `default`.

    mode "answer" (default); "hang": read the query, then say nothing until stopped;
    "huge": send the answer followed by `huge_bytes` of filler; "close": close without answering.
    host/port: where to listen (a loopback address; port 0: any free one).
    """

    def __init__(self, answers: dict[str, str] | None = None, default: str = "No match for the query.\r\n",
                 mode: str = "answer", huge_bytes: int = 2 * 1024 * 1024, delay: float = 0.0,
                 host: str = "127.0.0.1", port: int = 0):
        self.answers = {k.lower(): v for k, v in (answers or {}).items()}
        self.default = default
        self.mode = mode
        self.huge_bytes = huge_bytes
        self.delay = delay
        self.queries: list[str] = []
        self.connections = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.listen(64)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.route = (host, self.port)
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> "WhoisServer":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self.connections += 1
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            conn.settimeout(2.0)
            data = b""
            try:
                while b"\n" not in data and len(data) < 1024:
                    chunk = conn.recv(1024)
                    if not chunk:
                        break
                    data += chunk
            except OSError:
                return
            query = data.split(b"\n", 1)[0].rstrip(b"\r").decode("utf-8", "replace")
            with self._lock:
                self.queries.append(query)
            if self.delay:
                self._stop.wait(self.delay)
            if self.mode == "hang":
                self._stop.wait(30)
                return
            if self.mode == "close":
                return
            answer = self.answers.get(query.lower(), self.default).encode("utf-8")
            try:
                conn.sendall(answer)
                if self.mode == "huge":
                    filler = b"% filler line to make the answer large\r\n" * 1024
                    sent = 0
                    while sent < self.huge_bytes and not self._stop.is_set():
                        conn.sendall(filler)
                        sent += len(filler)
            except OSError:
                pass


def _stamp(when: datetime) -> str:
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def iana_referral(query: str, refer: str) -> str:
    """What whois.iana.org says about a domain (its TLD record) or an address block."""
    tld = query.rsplit(".", 1)[-1].upper()
    return (
        "% IANA WHOIS server\r\n"
        "% for more information on IANA, visit http://www.iana.org\r\n"
        "% This query returned 1 object\r\n\r\n"
        f"refer:        {refer}\r\n\r\n"
        f"domain:       {tld}\r\n\r\n"
        "organisation: Test Registry Services\r\n"
        "address:      12061 Bluemont Way\r\n\r\n"
        f"whois:        {refer}\r\n\r\n"
        "status:       ACTIVE\r\n"
        "remarks:      Registration information: http://www.example.test\r\n\r\n"
        "created:      1985-01-01\r\n"
        "changed:      2023-12-07\r\n"
        "source:       IANA\r\n"
    )


def registry_record(domain: str, expires: datetime, registrar_whois: str | None = None,
                    registrar: str = "Test Registrar, Inc.",
                    created: datetime = datetime(1995, 8, 14, 4, 0, tzinfo=timezone.utc),
                    name_servers: tuple[str, ...] = ("NS2.EXAMPLE.TEST", "NS1.EXAMPLE.TEST")) -> str:
    """A Verisign-style (thin .com) registry answer."""
    lines = [
        f"   Domain Name: {domain.upper()}",
        "   Registry Domain ID: 2336799_DOMAIN_COM-VRSN",
        f"   Registrar WHOIS Server: {registrar_whois or ''}",
        "   Registrar URL: http://www.registrar.example.test",
        "   Updated Date: 2024-08-14T07:01:34Z",
        f"   Creation Date: {_stamp(created)}",
        f"   Registry Expiry Date: {_stamp(expires)}",
        f"   Registrar: {registrar}",
        "   Registrar IANA ID: 376",
        "   Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited",
        *[f"   Name Server: {ns}" for ns in name_servers],
        "   DNSSEC: signedDelegation",
        ">>> Last update of whois database: 2025-01-01T00:00:00Z <<<",
        "",
        "NOTICE: The expiration date displayed in this record is the date the",
        "registrar's sponsorship of the domain name registration in the registry is",
        "currently set to expire.",
    ]
    return "\r\n".join(lines) + "\r\n"


def registrar_record(domain: str, expires, registrar: str = "Test Registrar, Inc.",
                     registrar_whois: str = "whois.registrar.test",
                     created: datetime = datetime(1995, 8, 14, 4, 0, tzinfo=timezone.utc),
                     name_servers: tuple[str, ...] = ("ns1.example.test", "ns2.example.test")) -> str:
    """A registrar's answer; `expires` may be a list (several expiry lines) or a preformatted string."""
    dates = expires if isinstance(expires, (list, tuple)) else [expires]
    expiry_lines = []
    for index, when in enumerate(dates):
        label = "Registrar Registration Expiration Date" if index == 0 else "Registry Expiry Date"
        expiry_lines.append(f"{label}: {when if isinstance(when, str) else _stamp(when)}")
    lines = [
        f"Domain Name: {domain}",
        "Registry Domain ID: 2336799_DOMAIN_COM-VRSN",
        f"Registrar WHOIS Server: {registrar_whois}",
        "Registrar URL: http://www.registrar.example.test",
        "Updated Date: 2024-08-14T07:01:34+0000",
        f"Creation Date: {_stamp(created)}",
        *expiry_lines,
        f"Registrar: {registrar}",
        "Registrar IANA ID: 376",
        "Registrar Abuse Contact Email: abuse@registrar.example.test",
        "Domain Status: clientTransferProhibited",
        "Registrant Organization: Example Holdings",
        "Registrant Country: US",
        *[f"Name Server: {ns}" for ns in name_servers],
        "DNSSEC: unsigned",
        "URL of the ICANN WHOIS Data Problem Reporting System: http://wdprs.internic.net/",
    ]
    return "\r\n".join(lines) + "\r\n"


def not_found(domain: str) -> str:
    return f'No match for "{domain.upper()}".\r\n>>> Last update of whois database: 2025-01-01T00:00:00Z <<<\r\n'


def arin_record(referral: str | None = None) -> str:
    """ARIN-style answer for 127.8.8.8: a covering /9 and the more specific /24 (and maybe a referral)."""
    text = (
        "#\r\n# ARIN WHOIS data and services are subject to the Terms of Use\r\n#\r\n\r\n"
        "NetRange:       127.8.0.0 - 127.8.255.255\r\n"
        "CIDR:           127.8.0.0/16\r\n"
        "NetName:        LVLT-ORG-8-8\r\n"
        "NetHandle:      NET-8-0-0-0-1\r\n"
        "Organization:   Level 3 Parent, LLC (LPL-141)\r\n"
        "RegDate:        1992-12-01\r\n\r\n"
        "NetRange:       127.8.8.0 - 127.8.8.255\r\n"
        "CIDR:           127.8.8.0/24\r\n"
        "NetName:        GOGL\r\n"
        "NetHandle:      NET-8-8-8-0-2\r\n"
        "Parent:         NET8 (NET-8-0-0-0-1)\r\n"
        "Organization:   Google LLC (GOGL)\r\n"
        "RegDate:        2023-12-28\r\n"
        "Updated:        2023-12-28\r\n\r\n"
        "OrgName:        Google LLC\r\n"
        "OrgId:          GOGL\r\n"
        "Country:        US\r\n"
    )
    if referral:
        text += f"\r\nReferralServer:  whois://{referral}\r\n"
    return text


def ripe_record() -> str:
    """RIPE-style answer for 127.193.6.139."""
    return (
        "% This is the RIPE Database query service.\r\n"
        "% Information related to '127.193.0.0 - 127.193.7.255'\r\n\r\n"
        "inetnum:        127.193.0.0 - 127.193.7.255\r\n"
        "netname:        RIPE-NCC\r\n"
        "descr:          RIPE Network Coordination Centre\r\n"
        "org:            ORG-RIEN1-RIPE\r\n"
        "country:        NL\r\n"
        "created:        2003-03-17T12:15:57Z\r\n"
        "source:         RIPE\r\n\r\n"
        "organisation:   ORG-RIEN1-RIPE\r\n"
        "org-name:       Reseaux IP Europeens Network Coordination Centre (RIPE NCC)\r\n"
        "org-type:       RIR\r\n"
        "source:         RIPE\r\n"
    )


def servers_on_one_port(answers: dict[str, dict[str, str]], attempts: int = 20) -> dict[str, WhoisServer]:
    """One WhoisServer per loopback address (`{"127.0.0.2": {query: answer}, ...}`), all on the same
    port, as referred WHOIS servers share port 43: a port free on every one of the addresses.
    The servers are not started yet (enter each, e.g. with an ExitStack)."""
    hosts = list(answers)
    for _ in range(attempts):
        first = WhoisServer(answers[hosts[0]], host=hosts[0])
        made = {hosts[0]: first}
        try:
            for host in hosts[1:]:
                made[host] = WhoisServer(answers[host], host=host, port=first.port)
        except OSError:  # taken on one of the other addresses: try another port
            for server in made.values():
                server.sock.close()
            continue
        return made
    raise RuntimeError(f"no port free on all of {', '.join(hosts)} after {attempts} attempts")
