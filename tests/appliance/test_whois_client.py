"""The WHOIS client against real WHOIS servers on 127.0.0.1: an IANA-style first server, a
registry and a registrar (and ARIN/RIPE-style servers for addresses), wired through the client's
`resolve` table so no referral ever leaves the machine."""

from __future__ import annotations

import socket
import threading
import time
from contextlib import ExitStack
from datetime import datetime, timedelta, timezone

import pytest

import appliance.tools.whois as whois_module
from appliance.tools.whois import WhoisClient, WhoisError, WhoisNotFound, normalize_target
from tests.support.whois_server import (
    WhoisServer, arin_record, iana_referral, not_found, registrar_record, registry_record, ripe_record,
)

DOMAIN = "example.com"
NOW = datetime.now(timezone.utc).replace(microsecond=0)


class Chain:
    """IANA -> registry -> registrar for DOMAIN, and IANA -> ARIN (-> RIPE) for addresses."""

    def __init__(self, registrar_answers=None, registry_answers=None, registrar_mode="answer", **client):
        self.expires = NOW + timedelta(days=200)
        self.iana = WhoisServer({
            DOMAIN: iana_referral(DOMAIN, "whois.registry.test"),
            "127.8.8.8": iana_referral("127.8.8.8", "whois.arin.test"),
            "127.193.6.139": iana_referral("127.193.6.139", "whois.arin.test"),
        })
        self.registry = WhoisServer(registry_answers if registry_answers is not None else {
            DOMAIN: registry_record(DOMAIN, self.expires + timedelta(days=30), "whois.registrar.test"),
        })
        self.registrar = WhoisServer(registrar_answers if registrar_answers is not None else {
            DOMAIN: registrar_record(DOMAIN, self.expires),
        }, mode=registrar_mode)
        self.arin = WhoisServer({"127.8.8.8": arin_record(), "127.193.6.139": arin_record("whois.ripe.test")})
        self.ripe = WhoisServer({"127.193.6.139": ripe_record()})
        self.servers = [self.iana, self.registry, self.registrar, self.arin, self.ripe]
        self.client_options = client
        self._stack = ExitStack()

    def client(self, **options) -> WhoisClient:
        routes = {"whois.registry.test": self.registry.route, "whois.registrar.test": self.registrar.route,
                  "whois.arin.test": self.arin.route, "whois.ripe.test": self.ripe.route}
        return WhoisClient(self.iana.address, resolve=routes, **{"timeout": 5, **self.client_options, **options})

    def connections(self) -> int:
        return sum(server.connections for server in self.servers)

    def __enter__(self) -> "Chain":
        for server in self.servers:
            self._stack.enter_context(server)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


def test_it_follows_the_referrals_from_iana_to_the_registry_to_the_registrar():
    with Chain() as chain:
        result = chain.client().lookup(DOMAIN)
    assert chain.iana.queries == [DOMAIN]
    assert chain.registry.queries == [DOMAIN]
    assert chain.registrar.queries == [DOMAIN]
    assert result.servers == ("127.0.0.1", "whois.registry.test", "whois.registrar.test")
    assert result.kind == "domain" and result.target == DOMAIN
    # The registrar's (most specific) answer wins over the registry's later date.
    assert result.expiration_date == chain.expires
    assert result.registrar == "Test Registrar, Inc."
    assert result.creation_date == datetime(1995, 8, 14, 4, 0, tzinfo=timezone.utc)
    assert result.name_servers == ("ns1.example.test", "ns2.example.test")
    assert result.incomplete is None and not result.truncated
    assert "% whois.registrar.test" in result.raw and "Registrar IANA ID" in result.raw
    shaped = result.to_dict()
    assert set(shaped) == {"target", "kind", "registrar", "creation_date", "expiration_date", "name_servers", "raw"}
    assert shaped["name_servers"] == ["ns1.example.test", "ns2.example.test"]


def test_it_uses_the_registry_answer_when_there_is_no_registrar_referral():
    registry = {DOMAIN: registry_record(DOMAIN, NOW + timedelta(days=77), registrar_whois=None,
                                        name_servers=("NS2.EXAMPLE.TEST.", "ns1.Example.Test"))}
    with Chain(registry_answers=registry) as chain:
        result = chain.client().lookup(DOMAIN)
    assert chain.registrar.connections == 0
    assert result.servers == ("127.0.0.1", "whois.registry.test")
    assert result.expiration_date == NOW + timedelta(days=77)
    assert result.name_servers == ("ns1.example.test", "ns2.example.test")


def test_it_keeps_the_registry_data_when_the_registrar_does_not_answer():
    with Chain(registrar_mode="hang") as chain:
        started = time.monotonic()
        result = chain.client(timeout=1.5).lookup(DOMAIN)
        elapsed = time.monotonic() - started
    assert result.expiration_date == chain.expires + timedelta(days=30)  # the registry's date
    assert result.incomplete and "whois.registrar.test" in result.incomplete
    assert elapsed < 30  # bounded (loose: never a tight wall-clock assertion)


def test_it_asks_a_configured_registry_directly_as_the_first_server():
    with Chain() as chain:
        client = WhoisClient(chain.registry.address, resolve={"whois.registrar.test": chain.registrar.route})
        result = client.lookup(DOMAIN)
    assert chain.iana.connections == 0
    assert result.servers == (("127.0.0.1", "whois.registrar.test"))
    assert result.expiration_date == chain.expires


def test_it_normalises_dates_to_utc_and_takes_the_earliest_of_a_list():
    registrar = {DOMAIN: registrar_record(DOMAIN, ["2031-05-01T10:00:00+0200", "2030-02-03T04:05:06Z"])}
    with Chain(registrar_answers=registrar) as chain:
        result = chain.client().lookup(DOMAIN)
    assert result.expiration_date == datetime(2030, 2, 3, 4, 5, 6, tzinfo=timezone.utc)
    assert result.expiration_date.utcoffset() == timedelta(0)

    registrar = {DOMAIN: registrar_record(DOMAIN, ["2030-02-03T04:05:06+0200"])}
    with Chain(registrar_answers=registrar) as chain:
        result = chain.client().lookup(DOMAIN)
    assert result.expiration_date == datetime(2030, 2, 3, 2, 5, 6, tzinfo=timezone.utc)
    assert result.expiration_date.tzinfo == timezone.utc


def test_it_reports_an_unregistered_domain_as_not_found():
    registry = {DOMAIN: not_found(DOMAIN)}
    with Chain(registry_answers=registry) as chain:
        with pytest.raises(WhoisNotFound, match="no registration"):
            chain.client().lookup(DOMAIN)
    assert chain.registrar.connections == 0


def test_it_looks_up_an_ip_address_at_the_regional_registry():
    with Chain() as chain:
        result = chain.client().lookup("127.8.8.8")
    assert chain.arin.queries == ["127.8.8.8"]
    assert result.kind == "ip" and result.servers == ("127.0.0.1", "whois.arin.test")
    # The most specific network of the answer, not the covering /9.
    assert result.network_name == "GOGL"
    assert result.network_range == "127.8.8.0 - 127.8.8.255"
    assert result.organisation == "Google LLC"
    assert result.to_dict()["range"] == "127.8.8.0 - 127.8.8.255"


def test_it_follows_an_arin_referral_to_ripe():
    with Chain() as chain:
        result = chain.client().lookup("127.193.6.139")
    assert result.servers == ("127.0.0.1", "whois.arin.test", "whois.ripe.test")
    assert result.network_name == "RIPE-NCC"
    assert result.network_range == "127.193.0.0 - 127.193.7.255"
    assert result.organisation == "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"


def test_it_answers_from_the_cache_without_contacting_any_server():
    with Chain() as chain:
        client = chain.client()
        first = client.lookup(DOMAIN)
        asked = chain.connections()
        assert asked == 3
        again = client.lookup("EXAMPLE.com.")
        assert again is first
        assert chain.connections() == asked
        assert client.cached(DOMAIN) is first


def test_it_asks_again_once_the_cache_entry_is_old():
    clock = [1000.0]
    with Chain() as chain:
        client = chain.client(clock=lambda: clock[0], cache_ttl=3600)
        client.lookup(DOMAIN)
        clock[0] += 3599
        client.lookup(DOMAIN)
        assert chain.registrar.connections == 1
        clock[0] += 2
        client.lookup(DOMAIN)
        assert chain.registrar.connections == 2


def test_it_does_not_retry_a_failed_lookup_at_once_but_keeps_the_old_answer_readable():
    clock = [1000.0]
    with Chain() as chain:
        client = chain.client(clock=lambda: clock[0], cache_ttl=3600, error_ttl=600)
        good = client.lookup(DOMAIN)
        chain.iana.mode = "close"  # from now on the first server hangs up without a word
        clock[0] += 3601
        with pytest.raises(WhoisError):
            client.lookup(DOMAIN)
        asked = chain.iana.connections
        with pytest.raises(WhoisError):
            client.lookup(DOMAIN)
        assert chain.iana.connections == asked  # the failure is cached for error_ttl
        assert client.cached(DOMAIN) is None
        assert client.cached(DOMAIN, stale_ok=True) == good


def test_it_shares_one_conversation_between_concurrent_lookups():
    with Chain() as chain:
        chain.registry.delay = 0.3
        client = chain.client()
        results, errors = [], []

        def look():
            try:
                results.append(client.lookup(DOMAIN))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=look) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert not errors and len(results) == 8
    assert chain.registry.connections == 1


def test_it_bounds_the_wait_for_a_server_that_never_answers():
    with WhoisServer(mode="hang") as server:
        client = WhoisClient(server.address, timeout=1)
        started = time.monotonic()
        with pytest.raises(WhoisError, match="did not answer within 1 s"):
            client.lookup(DOMAIN)
        assert time.monotonic() - started < 30


def test_it_reports_a_refused_connection_readably():
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    client = WhoisClient(f"127.0.0.1:{port}", timeout=2)
    with pytest.raises(WhoisError, match="refused"):
        client.lookup(DOMAIN)


def test_it_cuts_a_huge_answer():
    answer = registry_record(DOMAIN, NOW + timedelta(days=50))
    with WhoisServer({DOMAIN: answer}, mode="huge", huge_bytes=4 * 1024 * 1024) as server:
        client = WhoisClient(server.address, timeout=10, max_bytes=64 * 1024)
        result = client.lookup(DOMAIN)
    assert result.truncated
    assert len(result.raw) <= 64 * 1024
    assert result.expiration_date == NOW + timedelta(days=50)


def test_it_does_not_follow_referral_loops_and_stops_after_max_hops():
    with WhoisServer() as a, WhoisServer() as b:
        a.answers[DOMAIN] = "refer: whois.b.test\n"
        b.answers[DOMAIN] = "refer: whois.a.test\n"
        routes = {"whois.a.test": a.route, "whois.b.test": b.route}
        with pytest.raises(WhoisError, match="loop"):
            WhoisClient(a.address, resolve=routes, timeout=5).lookup(DOMAIN)
        assert a.connections + b.connections <= 3

    servers = [WhoisServer() for _ in range(6)]
    with ExitStack() as stack:
        for server in servers:
            stack.enter_context(server)
        routes = {f"whois.s{i}.test": server.route for i, server in enumerate(servers)}
        for i, server in enumerate(servers):
            server.answers[DOMAIN] = f"refer: whois.s{i + 1}.test\n"
        with pytest.raises(WhoisError, match="stopped after 4"):
            WhoisClient(servers[0].address, resolve=routes, timeout=5, max_hops=4).lookup(DOMAIN)
        assert sum(server.connections for server in servers) == 4


def test_it_follows_no_referral_to_a_host_missing_from_the_routes_table():
    with Chain() as chain:
        client = WhoisClient(chain.iana.address, resolve={"whois.registry.test": chain.registry.route})
        result = client.lookup(DOMAIN)
    assert chain.registrar.connections == 0
    assert "whois.registrar.test" in result.incomplete
    assert result.expiration_date == chain.expires + timedelta(days=30)


def test_it_ignores_referrals_that_are_not_plain_host_names():
    with WhoisServer() as server:
        server.answers[DOMAIN] = ("refer: whois.evil.test;rm -rf /\nRegistrar WHOIS Server: http://x.test/\n"
                                  "Domain Name: EXAMPLE.COM\nRegistry Expiry Date: 2030-01-01T00:00:00Z\n")
        calls = []
        client = WhoisClient(server.address, resolve=lambda host: calls.append(host))
        result = client.lookup(DOMAIN)
    assert calls == []
    assert result.expiration_date == datetime(2030, 1, 1, tzinfo=timezone.utc)


HOSTILE = [
    "example.com; rm -rf /",
    "../../etc/passwd",
    "/etc/passwd",
    "a" * 300 + ".com",
    ("a" * 60 + ".") * 5 + "com",
    "exämple.com",
    "example\u202e.com",
    "ex\u200bample.com",
    "example\u3002com",
    "example.com\r\nexample.org",
    "example.com\n",
    " example.com",
    "-i example.com",
    "$(reboot).com",
    "`id`.com",
    "example..com",
    "-example.com",
    "example",
    "",
    "fe80::1%eth0",
    "127.8.8.8/24",
    "http://example.com",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_it_rejects_hostile_targets_before_opening_any_socket(target, monkeypatch):
    def no_sockets(*args, **kwargs):
        raise AssertionError(f"a socket was opened for {target!r}")

    monkeypatch.setattr(whois_module.socket, "create_connection", no_sockets)
    with WhoisServer() as server:
        client = WhoisClient(server.address, timeout=2)
        with pytest.raises(ValueError):
            client.lookup(target)
    assert server.connections == 0


def test_it_rejects_non_text_targets_and_explains_why():
    with pytest.raises(ValueError, match="empty"):
        normalize_target(None)
    with pytest.raises(ValueError, match="longer than 253"):
        normalize_target("a" * 400)
    with pytest.raises(ValueError, match="xn--"):
        normalize_target("bücher.de")


def test_it_accepts_ordinary_names_and_addresses():
    assert normalize_target("Example.COM.") == ("domain", "example.com")
    assert normalize_target("xn--bcher-kva.de") == ("domain", "xn--bcher-kva.de")
    assert normalize_target("sub.example.co.uk") == ("domain", "sub.example.co.uk")
    assert normalize_target("127.8.8.8") == ("ip", "127.8.8.8")
    assert normalize_target("2001:DB8::0001") == ("ip", "2001:db8::1")


def test_it_rejects_a_bad_first_server_setting():
    for bad in ("whois.example.test:0", "whois.example.test:99999", "who is", "host:port", "[::1"):
        with pytest.raises(ValueError):
            WhoisClient(bad)


def test_it_rejects_a_first_server_with_a_line_break_in_a_label():
    with pytest.raises(ValueError, match="not a valid host name"):
        WhoisClient("whois\n.example.test")


@pytest.mark.parametrize("filler", ["a" * 250_000, "a." * 125_000, " " * 250_000, "\n" * 250_000,
                                    ("x" * 199 + "\n") * 1200])
def test_it_parses_pathological_answers_in_reasonable_time(filler):
    # python-whois' patterns backtrack badly on long lines; a hostile server must not stall a worker.
    answer = registry_record(DOMAIN, NOW + timedelta(days=9)) + filler
    for target, text in ((DOMAIN, answer), ("127.8.8.8", arin_record() + filler)):
        with WhoisServer({target: text}) as server:
            started = time.monotonic()
            result = WhoisClient(server.address, timeout=10).lookup(target)
            assert time.monotonic() - started < 30  # loose bound; quadratic parsing took minutes
        assert result.expiration_date == NOW + timedelta(days=9) or result.network_name == "GOGL"
