"""domain monitors: the name resolves (A or AAAA, with dnspython) and its registration (WHOIS)
has not expired. Reports details["domain"] = {expires_at, days_left, registrar}; the alert under
30 days is the engine's business, this only reports.

DNS is asked on every check (through STATUSCORE_DNS_SERVERS, else the system's resolvers); WHOIS
goes through the shared client's cache, so a domain's registry is asked a few times a day at most.
A WHOIS failure does not make a resolving domain down (the error goes into details["whois_error"],
with the last known expiry if there is one); an expired registration does.
response_time is the DNS resolution time only, so cache misses do not look like latency spikes.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Callable

from appliance.checkers.base import CheckerContext, CheckResult
from appliance.targets import host_port
from appliance.tools.whois import WhoisClient, WhoisError, WhoisNotFound, WhoisResult, normalize_target

if TYPE_CHECKING:
    import dns.resolver

DNS_PORT = 53
SYSTEM_RESOLVER_REFRESH = 300.0  # re-read /etc/resolv.conf this often (DHCP may change it)
MAX_ADDRESSES = 16
MIN_WHOIS_TIME = 0.5  # seconds WHOIS gets even when DNS used up the timeout


class _Fail(Exception):
    pass


class DomainChecker:
    def __init__(self, context: CheckerContext | None = None, whois: WhoisClient | None = None,
                 now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)):
        """`whois`: the shared WHOIS client (with its cache); by default one for context.whois_server."""
        self.context = context or CheckerContext()
        self._now = now
        self._lock = threading.Lock()
        self._system: tuple[float, dns.resolver.Resolver] | None = None
        self._custom: dns.resolver.Resolver | None = None
        self._config_error: str | None = None
        self._servers: list[tuple[str, int]] = []
        for text in self.context.dns_servers:
            try:
                self._servers.append(host_port(text, DNS_PORT))
            except ValueError as exc:
                self._config_error = f"DNS server setting {text!r} is invalid: {exc}"
        self._whois_error: str | None = None
        self.whois = whois
        if whois is None:
            try:
                self.whois = WhoisClient(self.context.whois_server, source_address=self.context.source_address)
            except ValueError as exc:
                self._whois_error = str(exc)

    def check(self, spec) -> CheckResult:
        started = time.monotonic()
        deadline = started + spec.timeout
        try:
            kind, name = normalize_target(spec.target)
        except ValueError as exc:
            return CheckResult.failure(f"not a valid domain name: {exc}")
        if kind != "domain":
            return CheckResult.failure("not a valid domain name: domain monitors need a name, not an IP address")
        try:
            resolver = self._resolver()
            addresses = self._addresses(resolver, name, deadline, spec.timeout)
        except _Fail as exc:  # no answer to time (an expired registration below keeps its time)
            last = self.whois.cached(name, stale_ok=True) if self.whois else None
            return CheckResult(False, None, str(exc), {"domain": self._domain(last)})
        elapsed = _ms(started)

        details: dict = {"addresses": addresses}
        record, problem = self._registration(name, deadline)
        details["domain"] = self._domain(record)
        if problem:
            details["whois_error"] = problem
        expires = details["domain"]["expires_at"]
        # Only a fresh answer says "expired": a stale one (WHOIS failing now) may predate a renewal.
        if problem is None and expires is not None and expires <= self._now():
            return CheckResult(False, elapsed, f"the domain registration expired on {expires:%Y-%m-%d}", details)
        return CheckResult(True, elapsed, None, details)

    # -- WHOIS ----------------------------------------------------------------------------------

    def _registration(self, name: str, deadline: float) -> tuple[WhoisResult | None, str | None]:
        if self.whois is None:
            return None, f"WHOIS is not configured correctly: {self._whois_error}"
        try:
            return self.whois.lookup(name, timeout=max(deadline - time.monotonic(), MIN_WHOIS_TIME)), None
        except WhoisNotFound as exc:
            return None, str(exc)
        except WhoisError as exc:
            return self.whois.cached(name, stale_ok=True), str(exc)
        except Exception as exc:  # noqa: BLE001 - WHOIS trouble never fails a resolving domain
            return self.whois.cached(name, stale_ok=True), f"WHOIS lookup failed: {type(exc).__name__}: {exc}"

    def _domain(self, record: WhoisResult | None) -> dict:
        if record is None:
            return {"expires_at": None, "days_left": None, "registrar": None}
        expires = record.expiration_date
        days_left = None
        if expires is not None:
            days_left = int((expires - self._now()).total_seconds() // 86400)
        return {"expires_at": expires, "days_left": days_left, "registrar": record.registrar}

    # -- DNS ------------------------------------------------------------------------------------

    def _addresses(self, resolver: dns.resolver.Resolver, name: str, deadline: float, timeout) -> list[str]:
        # dnspython is imported on the first domain check, not at start: ~2.6 MB of RSS that an
        # appliance without domain monitors need not carry.
        import dns.exception
        import dns.name
        import dns.resolver

        qname = dns.name.from_text(name)
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            left = deadline - time.monotonic()
            if found:  # A answered: AAAA only adds detail, so it may not eat the WHOIS time
                left = min(left, max(1.0, timeout / 4))
            if left <= 0:
                if found:
                    break
                raise _Fail(f"no DNS answer within {timeout} s")
            try:
                answer = resolver.resolve(qname, rdtype, lifetime=left, search=False, raise_on_no_answer=False)
            except dns.resolver.NXDOMAIN:
                if found:
                    break
                raise _Fail("the domain does not resolve (NXDOMAIN)") from None
            except dns.exception.Timeout:
                if found:
                    break
                raise _Fail(f"no DNS answer within {timeout} s") from None
            except dns.resolver.NoNameservers:
                if found:
                    break
                raise _Fail("no DNS server could answer for the domain (SERVFAIL or refused)") from None
            except (dns.exception.DNSException, OSError) as exc:
                if found:
                    break
                raise _Fail(f"DNS lookup failed: {exc}") from None
            if answer.rrset is not None:
                found.extend(rdata.address for rdata in answer.rrset)
        if not found:
            raise _Fail("the domain has no A or AAAA records")
        return sorted(set(found))[:MAX_ADDRESSES]

    def _resolver(self) -> dns.resolver.Resolver:
        import dns.nameserver
        import dns.resolver

        if self._config_error:
            raise _Fail(self._config_error)
        with self._lock:
            if self._servers:
                if self._custom is None:
                    resolver = dns.resolver.Resolver(configure=False)
                    resolver.nameservers = [dns.nameserver.Do53Nameserver(_address(host, port), port)
                                            for host, port in self._servers]
                    resolver.retry_servfail = False
                    self._custom = resolver
                return self._custom
            now = time.monotonic()
            if self._system is None or now - self._system[0] > SYSTEM_RESOLVER_REFRESH:
                try:
                    self._system = (now, dns.resolver.Resolver())
                except dns.resolver.NoResolverConfiguration:
                    raise _Fail("this machine has no DNS resolver configured "
                                "(set STATUSCORE_DNS_SERVERS)") from None
            return self._system[1]


def _address(host: str, port: int) -> str:
    """The IP address of a DNS server given by name (dnspython wants addresses)."""
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)[0][4][0]
    except (socket.gaierror, IndexError):
        raise _Fail(f"cannot resolve the DNS server {host}") from None


def _ms(started: float) -> float:
    return (time.monotonic() - started) * 1000
