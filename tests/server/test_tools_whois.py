"""GET /api/monitors/tools/whois/:target over real HTTP, against WHOIS servers this module starts
on loopback addresses:

    127.0.0.1:<any>  IANA-like first server (the appliance's whois_server)
    127.0.0.2:P      registry (.com)        127.0.0.3:P  registrar
    127.0.0.4:P      ARIN-like              127.0.0.5:P  RIPE-like

P is one port, free on all four, given as the appliance's whois_referral_port; the canned
records refer to the servers by address, so no name is ever looked up and nothing leaves
127.0.0.0/8. Hostile targets are refused with 400 before any server is contacted.
"""

from __future__ import annotations

from contextlib import ExitStack
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
import schemathesis

from appliance.timeutil import iso
from appliance.tools.whois import WhoisClient
from server.openapi import build_document
from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.whois_server import (WhoisServer, arin_record, iana_referral, not_found, registrar_record,
                                        registry_record, ripe_record, servers_on_one_port)

DOMAIN = "example.com"
EXPIRES = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(days=200)
WHOIS = "/api/monitors/tools/whois/"
IPV6 = "2001:db8::1"
RIPE_V6 = (
    "% This is the RIPE Database query service.\r\n\r\n"
    "inet6num:       2001:db8::/32\r\n"
    "netname:        DOC-EXAMPLE-V6\r\n"
    "descr:          Documentation prefix\r\n"
    "created:        2010-01-01T00:00:00Z\r\n"
    "source:         RIPE\r\n\r\n"
    "org-name:       Example Documentation Org\r\n"
)


class Registries:
    """The five servers, started and stopped together."""

    def __init__(self):
        referred = servers_on_one_port({
            "127.0.0.2": {DOMAIN: registry_record(DOMAIN, EXPIRES + timedelta(days=30), "127.0.0.3"),
                          "unregistered.com": not_found("unregistered.com")},
            "127.0.0.3": {DOMAIN: registrar_record(DOMAIN, EXPIRES, registrar_whois="127.0.0.3")},
            "127.0.0.4": {"127.8.8.8": arin_record(), "127.193.6.139": arin_record(referral="127.0.0.5")},
            "127.0.0.5": {"127.193.6.139": ripe_record(), IPV6: RIPE_V6},
        })
        self.registry, self.registrar, self.arin, self.ripe = referred.values()
        self.port = self.registry.port
        self.iana = WhoisServer({
            "127.8.8.8": iana_referral("127.8.8.8", "127.0.0.4"),
            "127.193.6.139": iana_referral("127.193.6.139", "127.0.0.4"),
            IPV6: iana_referral(IPV6, "127.0.0.5"),
        }, default=iana_referral(DOMAIN, "127.0.0.2"))  # every .com name: the .com registry
        self.all = [self.iana, self.registry, self.registrar, self.arin, self.ripe]
        self._stack = ExitStack()

    def connections(self) -> int:
        return sum(server.connections for server in self.all)

    def __enter__(self) -> "Registries":
        for server in self.all:
            self._stack.enter_context(server)
        return self

    def __exit__(self, *exc) -> None:
        self._stack.close()


@pytest.fixture(scope="module")
def registries():
    with Registries() as started:
        yield started


@pytest.fixture(scope="module")
def server(tmp_path_factory, registries):
    instance = InProcessAppliance(tmp_path_factory.mktemp("whois") / "data", whois_server=registries.iana.address,
                                  whois_referral_port=registries.port)
    instance.start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture(autouse=True)
def fresh_cache(server):
    server.appliance.whois.cache.clear()


@pytest.fixture(scope="module")
def documented():
    return schemathesis.openapi.from_dict(build_document())["/api/monitors/tools/whois/{target}"]["GET"]


def whois(api, user, target: str):
    return api.get(WHOIS + quote(target, safe=""), user)


def test_it_follows_iana_to_the_registry_to_the_registrar(api, bob, registries, documented):
    before = {name: getattr(registries, name).connections for name in ("iana", "registry", "registrar")}
    response = whois(api, bob, DOMAIN)  # a free user: WHOIS is for everyone
    assert response.status_code == 200, response.text
    documented.validate_response(response)
    record = response.json()
    assert set(record) == {"target", "kind", "registrar", "creation_date", "expiration_date", "name_servers", "raw"}
    assert record["target"] == DOMAIN and record["kind"] == "domain"
    assert record["registrar"] == "Test Registrar, Inc."
    assert record["creation_date"] == "1995-08-14T04:00:00Z"
    assert record["expiration_date"] == iso(EXPIRES)  # the registrar's, not the registry's later one
    assert record["expiration_date"].endswith("Z")
    assert record["name_servers"] == ["ns1.example.test", "ns2.example.test"]
    assert "% 127.0.0.2" in record["raw"] and "% 127.0.0.3" in record["raw"]
    assert {name: getattr(registries, name).connections - before[name] for name in before} == {
        "iana": 1, "registry": 1, "registrar": 1}
    assert registries.registrar.queries[-1] == DOMAIN


def test_it_answers_the_second_time_from_the_cache(api, alice, bob, registries, server):
    first = whois(api, alice, DOMAIN)
    assert first.status_code == 200
    asked = registries.connections()
    for target in (DOMAIN, "EXAMPLE.com.", "Example.Com"):
        again = whois(api, bob, target)
        assert again.status_code == 200 and again.json() == first.json()
    assert registries.connections() == asked
    # the domain checker uses the same client, so it finds the answer cached too
    assert server.appliance.checkers["domain"].whois is server.appliance.whois
    assert server.appliance.whois.cached(DOMAIN).registrar == "Test Registrar, Inc."


def test_it_looks_up_an_ip_address_at_its_regional_registry(api, alice, registries, documented):
    response = whois(api, alice, "127.8.8.8")
    assert response.status_code == 200, response.text
    documented.validate_response(response)
    record = response.json()
    assert record["kind"] == "ip" and record["target"] == "127.8.8.8"
    assert record["network_name"] == "GOGL"
    assert record["range"] == "127.8.8.0 - 127.8.8.255"
    assert record["organisation"] == "Google LLC"
    assert record["creation_date"] == "2023-12-28T00:00:00Z"
    assert registries.arin.queries[-1] == "127.8.8.8"


def test_it_follows_a_regional_registry_referral(api, alice):
    record = whois(api, alice, "127.193.6.139").json()
    assert record["network_name"] == "RIPE-NCC"
    assert record["range"] == "127.193.0.0 - 127.193.7.255"
    assert record["organisation"] == "Reseaux IP Europeens Network Coordination Centre (RIPE NCC)"
    assert "% 127.0.0.4" in record["raw"] and "% 127.0.0.5" in record["raw"]


@pytest.mark.parametrize("target", [IPV6, "2001:DB8:0:0::1", "2001:0db8::0001"])
def test_it_accepts_ipv6_addresses_in_any_valid_spelling(api, alice, target):
    response = whois(api, alice, target)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["target"] == IPV6 and record["kind"] == "ip"
    assert record["network_name"] == "DOC-EXAMPLE-V6" and record["range"] == "2001:db8::/32"


def test_it_answers_404_when_the_registry_has_no_record(api, alice):
    body = assert_error(whois(api, alice, "unregistered.com"), 404)
    assert "no registration for unregistered.com" in body["error"]


def test_it_needs_a_login(api):
    assert api.get(WHOIS + DOMAIN).status_code == 401


HOSTILE = [
    "example.com; rm -rf /", "example.com && id", "example.com|cat /etc/passwd", "$(reboot).com", "`id`.com",
    "example.com'\"", "a>b.com", "../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "/etc/passwd", "a/b.com",
    "example.com/", "....//....//etc", "C:\\Windows\\win.ini", "a" * 300 + ".com", ("a" * 60 + ".") * 5 + "com",
    "x" * 5000, "exämple.com", "bücher.de", "example\u202e.com", "ex\u200bample.com", "example\u3002com",
    "пример.рф", "😀.com", "example.com\r\nexample.org", "example.com\n", "example.com\x00", " example.com",
    "-i example.com", "example..com", "-example.com", "example", "localhost", "fe80::1%eth0", "::1::1",
    "2001:db8::g", "[2001:db8::1]", "2001:db8::1/64", "127.8.8.8/24", "127.8.8", "127.0.0.256", "127.0.0.1.5",
    "127.8.8.8:43", "http://example.com", "whois://example.com", "%", "%00", "*", "?", "#",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_it_refuses_hostile_targets_without_contacting_any_server(api, alice, registries, target):
    asked = registries.connections()
    body = assert_error(whois(api, alice, target), 400, "target")
    assert body["error"].startswith("Invalid WHOIS target")
    assert registries.connections() == asked


def test_it_refuses_a_traversal_sent_as_is(api, alice, registries):
    """A client that does not normalise the path (curl --path-as-is) still gets a 400."""
    import http.client

    asked = registries.connections()
    host, port = api.base_url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.request("GET", WHOIS + "../../../etc/passwd", headers={"Authorization": f"Bearer {alice.token}"})
        response = conn.getresponse()
        assert response.status == 400, response.read()
    finally:
        conn.close()
    assert registries.connections() == asked


# ---- failing servers: 502 and 504 -------------------------------------------------------------

def test_it_answers_502_when_the_whois_server_fails(api, alice, server, monkeypatch):
    with WhoisServer(mode="close") as broken:
        monkeypatch.setattr(server.appliance, "whois", WhoisClient(broken.address, timeout=5))
        body = assert_error(whois(api, alice, DOMAIN), 502)
    assert body["error"].startswith("WHOIS lookup failed:") and "closed the connection" in body["error"]


def test_it_answers_504_when_the_whois_server_does_not_answer_in_time(api, alice, server, monkeypatch):
    with WhoisServer(mode="hang") as silent:
        monkeypatch.setattr(server.appliance, "whois", WhoisClient(silent.address, timeout=1))
        body = assert_error(whois(api, alice, DOMAIN), 504)
        assert "did not answer within 1 s" in body["error"]
        again = assert_error(whois(api, alice, DOMAIN), 504)  # the failure is cached for minutes
        assert silent.connections == 1 and again == body


def test_it_answers_504_when_a_referred_server_does_not_answer_in_time(api, alice, server, monkeypatch):
    with WhoisServer(mode="hang") as silent, WhoisServer(default=iana_referral(DOMAIN, "whois.slow.test")) as iana:
        client = WhoisClient(iana.address, timeout=1, resolve={"whois.slow.test": silent.route})
        monkeypatch.setattr(server.appliance, "whois", client)
        body = assert_error(whois(api, alice, DOMAIN), 504)
    assert "whois.slow.test did not answer" in body["error"]
