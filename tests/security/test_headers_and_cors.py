"""Secure headers and CORS.

- The status page (found or not) and its badges: a strict Content-Security-Policy (nothing but
  its own assets, never framed: frame-ancestors 'none' and X-Frame-Options DENY) and nosniff.
- Every API answer, success or error, whatever the caller: X-Content-Type-Options: nosniff and
  Cache-Control: no-store (the public status JSON alone may be cached briefly).
- CORS is off on the private API: no Access-Control-Allow-* header for another origin, and a
  preflight is not granted; the public status JSON alone is readable cross-origin (public data,
  never with credentials).
Every operation of the OpenAPI document is called, so a new endpoint is covered by being documented.
"""

from __future__ import annotations

import pytest

from server.openapi import build_document
from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error

DOCUMENT = build_document()
OPERATIONS = [(method.upper(), path) for path, item in DOCUMENT["paths"].items() for method in item
              if method in ("get", "post", "put", "patch", "delete")]
EVIL = "https://evil.example"
CORS_HEADERS = ("Access-Control-Allow-Origin", "Access-Control-Allow-Credentials", "Access-Control-Allow-Methods",
                "Access-Control-Allow-Headers", "Access-Control-Expose-Headers")
PUBLIC_JSON = "/api/public/status/{slug}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    server = InProcessAppliance(tmp_path_factory.mktemp("headers") / "data").start(engine=False)
    try:
        api, admin = server.api, server.admin()
        monitor = api.create_monitor(admin, name="Website", type="http", target="http://127.0.0.1:9/")
        assert api.patch(f"/api/monitors/{monitor['id']}/public", admin, json={"public_status": True}).status_code == 200
        assert api.put("/api/settings/status-page", admin,
                       json={"company_name": "Acme", "slug": "acme"}).status_code == 200
        yield server, admin, monitor
    finally:
        server.stop()


def concrete(path: str, monitor_id: int) -> str:
    return (path.replace("{slug}", "acme").replace("{token}", "not-a-real-token").replace("{target}", "example.com")
            .replace("{monitor_id}", str(monitor_id)).replace("{webhook_id}", "1").replace("{window_id}", "1")
            .replace("{anomaly_id}", "1").replace("{key_id}", "1").replace("{user_id}", "999")
            .replace("{probe_id}", "999"))


def assert_api_headers(response, path: str) -> None:
    assert response.headers.get("X-Content-Type-Options") == "nosniff", (path, dict(response.headers))
    if path == PUBLIC_JSON and response.status_code == 200:
        assert response.headers["Cache-Control"].startswith("public, max-age=")
    else:
        assert response.headers.get("Cache-Control") == "no-store", (path, dict(response.headers))


# ---- the status page -----------------------------------------------------------------------------

@pytest.mark.parametrize("slug, status", [("acme", 200), ("no-such-page", 404)])
def test_it_serves_the_status_page_with_strict_headers(site, slug, status):
    server, _admin, _monitor = site
    response = server.api.get(f"/status/{slug}", headers={"Origin": EVIL})
    assert response.status_code == status
    csp = {d.strip().split(" ", 1)[0]: d.strip() for d in response.headers["Content-Security-Policy"].split(";")}
    assert csp["default-src"] == "default-src 'none'"
    assert csp["frame-ancestors"] == "frame-ancestors 'none'"
    assert csp["script-src"] == "script-src 'self'" and csp["style-src"] == "style-src 'self'"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert not any(h in response.headers for h in CORS_HEADERS)


def test_it_serves_badges_and_assets_without_sniffing(site):
    server, _admin, monitor = site
    badge = server.api.get(f"/status/acme/badge/{monitor['id']}.svg")
    assert badge.status_code == 200
    assert badge.headers["X-Content-Type-Options"] == "nosniff"
    assert badge.headers["Content-Security-Policy"].startswith("default-src 'none'")
    for asset in ("/static/status.css", "/static/status.js"):
        served = server.api.get(asset)
        assert served.status_code == 200 and served.headers["X-Content-Type-Options"] == "nosniff"


# ---- every API operation -------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["admin", "anonymous"])
@pytest.mark.parametrize("method, path", OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_it_sends_nosniff_no_store_and_no_cors_on_every_operation(site, method, path, who):
    server, admin, monitor = site
    token = admin.token if who == "admin" and not path.startswith("/api/probe/") else None
    # No body: a 400 (or 401) is as good as a success here; what matters is the headers.
    response = server.api.request(method, concrete(path, monitor["id"]), token, headers={"Origin": EVIL})
    assert response.status_code != 500, response.text[:300]
    assert_api_headers(response, path)
    present = [h for h in CORS_HEADERS if h in response.headers]
    if path == PUBLIC_JSON and response.status_code == 200:
        assert response.headers["Access-Control-Allow-Origin"] == "*"  # public data, readable anywhere...
        assert "Access-Control-Allow-Credentials" not in response.headers  # ...never with credentials
    else:
        assert present == [], f"{method} {path}: CORS headers {present}"


@pytest.mark.parametrize("path, method", [("/api/monitors", "GET"), ("/api/monitors", "POST"),
                                          ("/api/monitors/1", "DELETE"), ("/api/auth/me", "GET"),
                                          ("/api/auth/login", "POST"), ("/api/admin/users", "GET"),
                                          ("/api/settings/webhooks", "POST"), ("/api/export", "GET"),
                                          ("/metrics", "GET")])
def test_it_does_not_grant_a_cross_origin_preflight(site, path, method):
    server, _admin, _monitor = site
    response = server.api.request("OPTIONS", path, headers={
        "Origin": EVIL, "Access-Control-Request-Method": method,
        "Access-Control-Request-Headers": "authorization, content-type"})
    assert response.status_code < 500
    assert not any(h in response.headers for h in CORS_HEADERS), dict(response.headers)
    assert response.headers.get("X-Content-Type-Options") == "nosniff"


def test_it_sends_the_headers_on_errors_the_framework_raises(site):
    server, admin, _monitor = site
    api = server.api
    too_big = api.post("/api/monitors", admin, data=b"{" + b" " * (1024 * 1024 + 10) + b"}",
                       headers={"Content-Type": "application/json", "Origin": EVIL})
    not_allowed = api.request("PATCH", "/api/auth/me", admin, headers={"Origin": EVIL})
    nowhere = api.get("/api/no-such-endpoint", admin, headers={"Origin": EVIL})
    for response, status in ((too_big, 413), (not_allowed, 405), (nowhere, 404)):
        assert_error(response, status)
        assert_api_headers(response, "")
        assert not any(h in response.headers for h in CORS_HEADERS)
