"""What a URL may be, for a webhook receiver and for an http(s) monitor's target (the rule is in
appliance/validation.py and the same for both, through every door: create, update, import):

allowed: the scheme of the type (webhooks: http or https), a host name (IDN too) or an IP address
  (private and loopback ones included: an appliance watches and notifies internal systems),
  a port 1-65535, any path, query and fragment (percent-encoding included);
refused: another scheme, no host, a bad port, any space or control character (CR/LF, NUL, TAB,
  DEL: they could split a request line or a header), and credentials (`user:password@`: they
  would not be sent, and a URL is shown in alerts and exports) - up to 2048 characters.
"""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error

ALLOWED = [
    "https://hooks.example.com/services/T000/B000/XXXX",
    "http://127.0.0.1:8080/health?full=1#top",
    "http://127.10.0.5/",
    "https://[::1]:8443/x",
    "https://xn--bcher-kva.example/",
    "https://bücher.example/",
    "https://example.com/a%20b?q=%0d%0a",  # encoded: harmless bytes in the path and query
]
REFUSED = [
    "ftp://example.com/hook",
    "file:///etc/passwd",
    "javascript:alert(1)",
    "gopher://127.0.0.1:25/",
    "example.com/hook",
    "http://",
    "http://example.com:0/",
    "http://example.com:65536/",
    "http://exa mple.com/",
    "http://example.com/a b",
    "http://example.com/\r\nX-Injected: 1",
    "http://example.com/\nhook",
    "http://example.com/\x00",
    "http://example.com/\thook",
    "http://example.com/\x7f",
    "http://example.com/\u00a0hook",  # a no-break space
    "http://user:secret@example.com/",
    "http://user@example.com/",
    "http://example.com@evil.example/",
    "http://example.com\\@evil.example/",
    "http://" + "a" * 2050 + ".com/",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = InProcessAppliance(tmp_path_factory.mktemp("urls") / "data").start(engine=False)
    try:
        yield server, server.admin()
    finally:
        server.stop()


def _monitor_kind(url: str) -> str:
    return "https" if url.startswith("https") else "http"


@pytest.mark.parametrize("url", ALLOWED)
def test_it_accepts_a_usable_url_for_a_webhook_and_a_monitor(site, url):
    server, admin = site
    api = server.api
    hook = api.post("/api/settings/webhooks", admin, json={"url": url})
    assert hook.status_code == 201, hook.text
    assert api.put(f"/api/settings/webhooks/{hook.json()['id']}", admin, json={"url": url}).status_code == 200
    monitor = api.post("/api/monitors", admin, json={"name": f"ok {url[:40]}", "type": _monitor_kind(url), "target": url})
    assert monitor.status_code == 201, monitor.text


@pytest.mark.parametrize("url", REFUSED, ids=[repr(u)[:60] for u in REFUSED])
def test_it_refuses_an_unusable_or_unsafe_url_through_every_door(site, url):
    server, admin = site
    api = server.api
    kind = "https" if url.startswith("https") else "http"
    before = (api.get("/api/settings/webhooks", admin).json(), api.get("/api/monitors", admin).json())
    assert_error(api.post("/api/settings/webhooks", admin, json={"url": url}), 400, "url")
    assert_error(api.post("/api/monitors", admin, json={"name": "x", "type": kind, "target": url}), 400, "target")
    hook = api.post("/api/settings/webhooks", admin, json={"url": "http://127.0.0.1:9/hook"}).json()
    monitor = api.create_monitor(admin, name=f"m {len(before[1])}", type="http", target="http://127.0.0.1:9/")
    assert_error(api.put(f"/api/settings/webhooks/{hook['id']}", admin, json={"url": url}), 400, "url")
    assert_error(api.put(f"/api/monitors/{monitor['id']}", admin, json={"target": url}), 400, "target")
    for document in ({"webhooks": [{"url": url}]}, {"monitors": [{"name": "imported", "type": kind, "target": url}]}):
        assert api.post("/api/import", admin, json=document).status_code == 400
    assert api.delete(f"/api/settings/webhooks/{hook['id']}", admin).status_code == 204
    assert api.delete(f"/api/monitors/{monitor['id']}", admin).status_code == 204
    assert (api.get("/api/settings/webhooks", admin).json(), api.get("/api/monitors", admin).json()) == before
