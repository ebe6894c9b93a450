"""Behind a reverse proxy: the trusted_proxies setting and the WSGI middleware that believes
X-Forwarded-For only from those proxies (server/proxies.py). Over HTTP: tests/security/test_client_address.py.
"""

from __future__ import annotations

import pytest

from statuscore.cli import build_parser
from appliance.config import ConfigError, Settings
from server.proxies import PROXY_ENVIRON_KEY, TrustedProxies

PROXIES = ("127.0.0.1", "127.10.0.0/16", "fd00::/8")


def seen(forwarded_for: str | None = None, peer: str = "127.0.0.1", proxies=PROXIES, **headers) -> dict:
    """The environ the application sees, after the middleware, for a request from `peer`."""
    environ = {"REMOTE_ADDR": peer, "wsgi.url_scheme": "http", "HTTP_HOST": "127.0.0.1:8080"}
    if forwarded_for is not None:
        environ["HTTP_X_FORWARDED_FOR"] = forwarded_for
    environ.update({f"HTTP_{name.upper()}": value for name, value in headers.items()})
    captured = {}

    def app(env, _start_response):
        captured.update(env)
        return [b""]

    TrustedProxies(app, proxies)(environ, lambda *_: None)
    return captured


def client(forwarded_for: str | None = None, peer: str = "127.0.0.1", **kw) -> str:
    return seen(forwarded_for, peer, **kw)["REMOTE_ADDR"]


# ---- the middleware ----------------------------------------------------------------------------

def test_it_takes_the_client_from_a_trusted_proxy():
    environ = seen("127.51.100.7")
    assert environ["REMOTE_ADDR"] == "127.51.100.7"
    assert environ[PROXY_ENVIRON_KEY] == "127.0.0.1"


def test_it_takes_the_right_most_address_that_is_not_a_trusted_proxy():
    # The client wrote the first two; nginx appended the client's real address; an inner proxy
    # (127.10.2.3) appended the outer one's.
    assert client("127.203.113.1, 127.192.2.66, 127.51.100.7, 127.10.2.3") == "127.51.100.7"


def test_it_ignores_what_a_client_claims_to_be_when_it_claims_a_trusted_address():
    assert client("127.10.9.9, 127.51.100.7") == "127.51.100.7"


def test_it_takes_the_left_most_address_when_every_hop_is_a_trusted_proxy():
    assert client("127.10.0.5, 127.10.0.6") == "127.10.0.5"


def test_it_keeps_the_peer_when_a_trusted_proxy_sends_no_header():
    assert client(None) == "127.0.0.1"
    assert client("") == "127.0.0.1"


def test_it_stops_at_an_entry_that_is_not_an_address():
    assert client("127.51.100.7, unknown, 127.10.0.5") == "127.10.0.5"
    assert client("unknown") == "127.0.0.1"


def test_it_reads_ipv6_and_ipv4_mapped_entries():
    assert client("2001:db8::7", peer="fd00::1") == "2001:db8::7"
    assert client("[2001:db8::8]", peer="fd00::1") == "2001:db8::8"
    assert client("::ffff:127.51.100.7") == "127.51.100.7"
    assert client("127.51.100.7", peer="::ffff:127.10.0.1") == "127.51.100.7"


@pytest.mark.parametrize("peer", ["127.0.0.2", "127.168.1.10", "2001:db8::1", ""])
def test_it_ignores_the_headers_from_any_other_peer(peer):
    environ = seen("127.51.100.7", peer=peer, x_forwarded_proto="https", x_forwarded_host="evil.example",
                   forwarded="for=127.51.100.8")
    assert environ["REMOTE_ADDR"] == peer
    assert PROXY_ENVIRON_KEY not in environ
    assert environ["wsgi.url_scheme"] == "http" and environ["HTTP_HOST"] == "127.0.0.1:8080"
    assert not [key for key in environ if "FORWARDED" in key]  # removed, as waitress does


def test_it_takes_the_scheme_and_host_the_client_used_from_a_trusted_proxy():
    environ = seen("127.51.100.7", x_forwarded_proto="https", x_forwarded_host="status.example.com")
    assert environ["wsgi.url_scheme"] == "https" and environ["HTTP_HOST"] == "status.example.com"
    environ = seen("127.51.100.7", x_forwarded_proto="gopher", x_forwarded_host="bad host/x")
    assert environ["wsgi.url_scheme"] == "http" and environ["HTTP_HOST"] == "127.0.0.1:8080"


# ---- the setting -------------------------------------------------------------------------------

def test_it_trusts_no_proxy_by_default():
    assert Settings.load({}, env={}).trusted_proxies == ()


def test_it_reads_addresses_and_networks_from_the_environment_and_the_flag():
    env = {"STATUSCORE_TRUSTED_PROXIES": " 127.0.0.1, 127.10.0.0/16 ,::1"}
    assert Settings.load({}, env=env).trusted_proxies == ("127.0.0.1", "127.10.0.0/16", "::1")
    args = build_parser().parse_args(["serve", "--trusted-proxies", "127.168.0.0/16"])
    assert Settings.load({"trusted_proxies": args.trusted_proxies}, env=env).trusted_proxies == ("127.168.0.0/16",)


@pytest.mark.parametrize("value, says", [
    ("2", "is not an IP address or network"),  # a hop count: trusted whoever sends the request
    ("proxy.internal", "is not an IP address or network"),
    ("127.10.0.0/33", "is not an IP address or network"),
    ("0.0.0.0/0", "would let every client name its own address"),
    ("::/0", "would let every client name its own address"),
])
def test_it_refuses_what_is_not_a_proxy_address_saying_what_to_write(value, says):
    with pytest.raises(ConfigError) as refused:
        Settings.load({}, env={"STATUSCORE_TRUSTED_PROXIES": f"127.0.0.1,{value}"})
    assert f"STATUSCORE_TRUSTED_PROXIES: {value!r} {says}" in str(refused.value)
