"""The domain checker against a real DNS responder and real WHOIS servers, all on 127.0.0.1."""

from __future__ import annotations

import socket
import time
from datetime import datetime, timedelta, timezone

import pytest

from appliance.checkers.base import CheckerContext
from appliance.checkers.domain import DomainChecker
from appliance.spec import MonitorSpec
from appliance.tools.whois import WhoisClient
from tests.support.dns_server import DnsServer
from tests.support.whois_server import (
    WhoisServer, iana_referral, not_found, registrar_record, registry_record,
)

DOMAIN = "example.com"
RECORDS = {
    DOMAIN: {"A": ["127.0.2.10"], "AAAA": ["2001:db8::10"]},
    "v6only.example.com": {"AAAA": ["2001:db8::6"]},
    "empty.example.com": {"TXT": ['"nothing to see"']},
    "many.example.com": {"A": [f"127.0.2.{i}" for i in range(1, 61)]},
}


def spec(target: str = DOMAIN, timeout: int = 5) -> MonitorSpec:
    return MonitorSpec(id=1, user_id=1, name="domain", type="domain", target=target, timeout=timeout)


def in_days(days: float) -> datetime:
    # Half a day of margin, so days_left is exact however long the test takes.
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=days, hours=12)


def registry(expires: datetime, domain: str = DOMAIN, **kwargs) -> WhoisServer:
    return WhoisServer({domain: registry_record(domain, expires, registrar_whois=None, **kwargs)})


def checker(dns: DnsServer, whois: WhoisServer | str | None = None, **kwargs) -> DomainChecker:
    server = whois.address if isinstance(whois, WhoisServer) else whois
    return DomainChecker(CheckerContext(dns_servers=(dns.address,), whois_server=server), **kwargs)


def closed_port() -> int:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        return placeholder.getsockname()[1]


def test_it_is_up_when_the_name_resolves_and_the_registration_runs_for_200_days():
    expires = in_days(200)
    with DnsServer(RECORDS) as dns, registry(expires, registrar="Example Registrar LLC") as whois:
        result = checker(dns, whois).check(spec())
    assert result.up, result.error
    assert result.error is None
    assert result.response_time_ms is not None and result.response_time_ms >= 0
    assert result.details["domain"] == {"expires_at": expires, "days_left": 200,
                                        "registrar": "Example Registrar LLC"}
    assert result.details["domain"]["expires_at"].tzinfo is not None
    assert result.details["addresses"] == ["127.0.2.10", "2001:db8::10"]
    assert "whois_error" not in result.details
    assert {(name, kind) for name, kind, _ in dns.queries} == {(DOMAIN, "A"), (DOMAIN, "AAAA")}


def test_it_stays_up_and_reports_10_days_left_for_a_registration_about_to_expire():
    with DnsServer(RECORDS) as dns, registry(in_days(10)) as whois:
        result = checker(dns, whois).check(spec())
    assert result.up, result.error
    assert result.details["domain"]["days_left"] == 10  # the alert under 30 days is the engine's


def test_it_is_down_when_the_registration_has_expired():
    expired = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=3)
    with DnsServer(RECORDS) as dns, registry(expired) as whois:
        result = checker(dns, whois).check(spec())
    assert not result.up
    assert "expired" in result.error and f"{expired:%Y-%m-%d}" in result.error
    assert result.details["domain"]["expires_at"] == expired
    assert result.details["domain"]["days_left"] < 0


def test_it_is_down_when_the_name_does_not_exist():
    with DnsServer(RECORDS) as dns, registry(in_days(200), domain="missing.test") as whois:
        result = checker(dns, whois).check(spec("missing.test"))
    assert not result.up
    assert result.error == "the domain does not resolve (NXDOMAIN)"
    assert whois.connections == 0
    assert result.details["domain"] == {"expires_at": None, "days_left": None, "registrar": None}


def test_it_is_up_with_the_whois_error_in_the_details_when_whois_is_unreachable():
    with DnsServer(RECORDS) as dns:
        result = checker(dns, f"127.0.0.1:{closed_port()}").check(spec())
    assert result.up, result.error
    assert "refused" in result.details["whois_error"]
    assert result.details["domain"] == {"expires_at": None, "days_left": None, "registrar": None}


def test_it_stays_within_the_timeout_when_whois_hangs():
    with DnsServer(RECORDS) as dns, WhoisServer(mode="hang") as whois:
        started = time.monotonic()
        result = checker(dns, whois).check(spec(timeout=1))
        elapsed = time.monotonic() - started
    assert result.up, result.error
    assert "did not answer" in result.details["whois_error"]
    assert elapsed < 30  # loose: bounded, not a tight timing assertion


def test_it_is_up_when_whois_knows_no_registration_but_the_name_resolves():
    with DnsServer(RECORDS) as dns, WhoisServer({DOMAIN: not_found(DOMAIN)}) as whois:
        result = checker(dns, whois).check(spec())
    assert result.up, result.error
    assert "no registration" in result.details["whois_error"]


def test_it_asks_whois_once_and_dns_on_every_check():
    with DnsServer(RECORDS) as dns, registry(in_days(90)) as whois:
        domain_checker = checker(dns, whois)
        results = [domain_checker.check(spec()) for _ in range(3)]
    assert all(result.up for result in results)
    assert all(result.details["domain"]["days_left"] == 90 for result in results)
    assert whois.connections == 1
    assert sum(1 for _, kind, _ in dns.queries if kind == "A") == 3


def test_it_keeps_reporting_the_last_known_expiry_while_whois_fails():
    clock = [1000.0]
    with DnsServer(RECORDS) as dns, registry(in_days(45)) as whois:
        client = WhoisClient(whois.address, clock=lambda: clock[0], timeout=5)
        domain_checker = DomainChecker(CheckerContext(dns_servers=(dns.address,)), whois=client)
        assert domain_checker.check(spec()).details["domain"]["days_left"] == 45
        whois.mode = "close"
        clock[0] += 7 * 3600  # the cached answer is no longer fresh
        result = domain_checker.check(spec())
    assert result.up, result.error
    assert "without answering" in result.details["whois_error"]
    assert result.details["domain"]["days_left"] == 45


def test_it_follows_the_whois_referral_chain_of_a_shared_client():
    expires = in_days(150)
    with DnsServer(RECORDS) as dns, \
            WhoisServer({DOMAIN: registrar_record(DOMAIN, expires, registrar="Chain Registrar")}) as registrar, \
            WhoisServer({DOMAIN: registry_record(DOMAIN, expires + timedelta(days=1), "whois.registrar.test")}) as reg, \
            WhoisServer({DOMAIN: iana_referral(DOMAIN, "whois.registry.test")}) as iana:
        client = WhoisClient(iana.address, resolve={"whois.registry.test": reg.route,
                                                    "whois.registrar.test": registrar.route})
        result = DomainChecker(CheckerContext(dns_servers=(dns.address,)), whois=client).check(spec())
    assert result.up, result.error
    assert result.details["domain"] == {"expires_at": expires, "days_left": 150, "registrar": "Chain Registrar"}


def test_it_is_down_with_a_readable_error_when_dns_does_not_answer():
    with DnsServer(RECORDS, mode="drop") as dns, registry(in_days(200)) as whois:
        started = time.monotonic()
        result = checker(dns, whois).check(spec(timeout=1))
        elapsed = time.monotonic() - started
    assert not result.up
    assert result.error == "no DNS answer within 1 s"
    assert whois.connections == 0
    assert elapsed < 30


def test_it_is_down_when_the_dns_server_fails():
    with DnsServer(RECORDS, mode="servfail") as dns, registry(in_days(200)) as whois:
        result = checker(dns, whois).check(spec())
    assert not result.up
    assert "SERVFAIL" in result.error


def test_it_is_up_with_only_an_aaaa_record():
    with DnsServer(RECORDS) as dns, registry(in_days(200), domain="v6only.example.com") as whois:
        result = checker(dns, whois).check(spec("v6only.example.com"))
    assert result.up, result.error
    assert result.details["addresses"] == ["2001:db8::6"]


def test_it_is_down_when_the_name_has_no_addresses():
    with DnsServer(RECORDS) as dns, registry(in_days(200), domain="empty.example.com") as whois:
        result = checker(dns, whois).check(spec("empty.example.com"))
    assert not result.up
    assert result.error == "the domain has no A or AAAA records"


def test_it_retries_over_tcp_when_the_udp_answer_is_truncated():
    with DnsServer(RECORDS) as dns, registry(in_days(200), domain="many.example.com") as whois:
        result = checker(dns, whois).check(spec("many.example.com"))
    assert result.up, result.error
    assert ("many.example.com", "A", "tcp") in dns.queries
    assert len(result.details["addresses"]) == 16  # bounded


@pytest.mark.parametrize("target", ["example.com; rm -rf /", "../../etc/passwd", "127.0.2.1", "exämple.com",
                                    "a" * 300 + ".com"])
def test_it_rejects_an_invalid_target_without_any_traffic(target):
    with DnsServer(RECORDS) as dns, registry(in_days(200)) as whois:
        result = checker(dns, whois).check(spec(target))
    assert not result.up
    assert result.error.startswith("not a valid domain name")
    assert dns.queries == [] and whois.connections == 0


def test_it_reports_a_bad_dns_server_setting_on_each_check():
    result = DomainChecker(CheckerContext(dns_servers=("127.0.0.1:99999",))).check(spec())
    assert not result.up
    assert "DNS server setting" in result.error and "99999" in result.error


def test_it_reports_a_dns_server_setting_with_a_line_break_in_a_label():
    # The label pattern ended in $, which also matches before a final newline: the setting passed
    # and went to the resolver as it was.
    result = DomainChecker(CheckerContext(dns_servers=("ns1\n.example.com",))).check(spec())
    assert not result.up
    assert "DNS server setting" in result.error and "not a valid host name" in result.error


def test_it_reports_a_bad_whois_server_setting_without_failing_the_check():
    with DnsServer(RECORDS) as dns:
        result = checker(dns, "whois server with spaces").check(spec())
    assert result.up, result.error
    assert "WHOIS" in result.details["whois_error"]
