"""appliance.targets: the one parser of hosts, IP addresses, host:port, URLs, domains and SIP
targets. The monitor types' targets are tested through the API (tests/server/
test_monitor_validation.py); here are the building blocks and the host:port settings, whose
messages end up in configuration errors word for word."""

from __future__ import annotations

import pytest

from appliance import targets


@pytest.mark.parametrize("text, address", [
    ("127.0.0.1", "127.0.0.1"), ("2001:DB8::0001", "2001:db8::1"), ("::1", "::1"),
    ("example.com", None), ("1.2.3", None), ("256.1.1.1", None), ("[::1]", None), ("", None),
    ("fe80::1%eth0", None),
])
def test_it_reads_an_ip_address_without_a_scope_id(text, address):
    assert targets.ip(text) == address


def test_it_reads_a_scope_id_only_when_asked_to():
    assert targets.ip("fe80::1%eth0", scoped=True) == "fe80::1%eth0"


@pytest.mark.parametrize("name, ok", [
    ("example.com", True), ("a", True), ("xn--bcher-kva.de", True), ("a-b.c", True),
    ("Example.com", False), ("-a.com", False), ("a-.com", False), ("a..b", False), ("a.", False),
    ("", False), ("a_b.com", False), ("bücher.de", False), ("a" * 64 + ".com", False),
    ("ns1\n.example.com", False),
])
def test_it_knows_a_host_name(name, ok):
    assert targets.is_host_name(name) is ok


@pytest.mark.parametrize("name, ok", [
    ("example.com", True), ("example.co.uk", True), ("x.xn--p1ai", True),
    ("com", False), ("x.123", False), ("x.c", False), ("example.com.", False),
])
def test_it_knows_a_domain_name(name, ok):
    assert targets.is_domain_name(name) is ok


@pytest.mark.parametrize("text, port", [
    ("1", 1), ("5060", 5060), ("65535", 65535), ("0005060", 5060),
    ("0", None), ("65536", None), ("", None), ("-1", None), ("+5", None), ("5060 ", None),
    ("\u00b2", None), ("\u0665\u0660\u0666\u0660", None), ("9" * 5000, None),
])
def test_it_reads_a_port_in_ascii_digits(text, port):
    assert targets.port_number(text) == port


@pytest.mark.parametrize("text, parts", [
    ("example.com", ("example.com", None)), ("example.com:53", ("example.com", "53")),
    ("example.com:", ("example.com", "")), ("::1", ("::1", None)), ("[::1]", ("::1", None)),
    ("[::1]:53", ("::1", "53")), ("[::1]:", ("::1", "")),
])
def test_it_splits_host_and_port(text, parts):
    assert targets.split_port(text) == parts


@pytest.mark.parametrize("text", ["[::1", "[::1]x", "[::1]53"])
def test_it_refuses_a_bracket_that_is_not_closed_or_not_followed_by_a_port(text):
    with pytest.raises(ValueError):
        targets.split_port(text)



@pytest.mark.parametrize("host, port, text", [
    ("example.com", None, "example.com"), ("127.0.2.1", 5060, "127.0.2.1:5060"), ("::1", None, "[::1]"),
    ("2001:db8::1", 5062, "[2001:db8::1]:5062"),
])
def test_it_joins_host_and_port_as_split_port_splits_them(host, port, text):
    assert targets.join_host_port(host, port) == text
    assert targets.split_port(text) == (host, None if port is None else str(port))


@pytest.mark.parametrize("target, stored", [
    (targets.SipTarget("pbx.example.com", 5080, "udp"), "pbx.example.com"),
    (targets.SipTarget("::1", None, "udp"), "::1"),
    (targets.SipTarget("::1", 5061, "tcp"), "sip:[::1];transport=tcp"),
])
def test_it_stores_a_sip_target_without_its_port(target, stored):
    assert target.stored() == stored
    assert targets.read_sip(stored) == targets.SipTarget(target.host, None, target.transport)


@pytest.mark.parametrize("text, host", [
    ("NS1.Example.com.", "ns1.example.com"), ("127.0.2.1", "127.0.2.1"), ("2001:DB8::1", "2001:db8::1"),
])
def test_it_takes_an_ascii_host(text, host):
    assert targets.ascii_host(text) == host


@pytest.mark.parametrize("text", ["bücher.de", "fe80::1%eth0", "a..", ".", "", "who is", "[::1]"])
def test_it_refuses_anything_else_as_an_ascii_host(text):
    with pytest.raises(ValueError) as caught:
        targets.ascii_host(text)
    assert str(caught.value) == f"{text!r} is not a valid host name or IP address"


@pytest.mark.parametrize("text, parsed", [
    ("ns1.example.com", ("ns1.example.com", 53)), ("ns1.example.com:5353", ("ns1.example.com", 5353)),
    (" 127.0.2.1:5353 ", ("127.0.2.1", 5353)), ("::1", ("::1", 53)), ("[::1]", ("::1", 53)),
    ("[2001:DB8::1]:5353", ("2001:db8::1", 5353)), ("h:000053", ("h", 53)),
])
def test_it_reads_a_host_port_setting(text, parsed):
    assert targets.host_port(text, 53) == parsed


@pytest.mark.parametrize("text, message", [
    ("", "is empty; write host or host:port"),
    ("x" * 301, "is too long to be host or host:port"),
    ("[::1", "'[::1' is not host or host:port (write IPv6 addresses as [::1]:53)"),
    ("[::1]x", "'[::1]x' is not host or host:port (write IPv6 addresses as [::1]:53)"),
    ("[127.0.2.1]:53", "'[127.0.2.1]:53': '127.0.2.1' is not an IPv6 address"),
    ("fe80::1%eth0", "'fe80::1%eth0' is not an IPv6 address (write [address]:port to give a port)"),
    ("bücher.de", "'bücher.de' is not a valid host name or IP address"),
    ("ns1\n.example.com", "'ns1\\n.example.com' is not a valid host name or IP address"),
    ("host:0", "'host:0' has a port that is not a number between 1 and 65535"),
    ("[::1]:", "'[::1]:' has a port that is not a number between 1 and 65535"),
])
def test_it_says_what_is_wrong_with_a_host_port_setting(text, message):
    with pytest.raises(ValueError) as caught:
        targets.host_port(text, 53)
    assert str(caught.value) == message


@pytest.mark.parametrize("url, parts", [
    ("http://example.com", ("example.com", 80, False, "/")),
    ("https://Example.COM:8443/health?full=1#top", ("example.com", 8443, True, "/health?full=1")),
    ("https://[2001:db8::1]/", ("2001:db8::1", 443, True, "/")),
])
def test_it_reads_where_a_url_connects_and_what_it_asks(url, parts):
    assert tuple(targets.url_parts(url)) == parts


@pytest.mark.parametrize("url, message", [
    ("http:///nohost", "no host in http:///nohost"), ("http://example.com:99999/", "bad port in http://example.com:99999/"),
])
def test_it_says_why_a_url_cannot_be_checked(url, message):
    with pytest.raises(ValueError) as caught:
        targets.url_parts(url)
    assert str(caught.value) == message
