"""GET / says what this address is (it used to answer {"error": "Not found."}): a small page for
browsers under the status page's security headers, JSON for Accept: application/json; and
GET /api/health, which says which data dir's appliance answers."""

from __future__ import annotations

import pytest

from tests.support.appliance import InProcessAppliance

BROWSER = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.fixture(scope="module")
def published(server, api, admin):
    """A user with a status page, so the landing page has one to link."""
    user = api.create_user(admin, "landing-owner@example.test")
    response = api.put("/api/settings/status-page", user, json={"company_name": "Acme <Ops>", "slug": "acme-ops"})
    assert response.status_code == 200, response.text
    return user


def test_a_browser_gets_a_page_with_the_links_a_newcomer_needs(server, api, published):
    response = api.get("/", headers=BROWSER)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    page = response.text
    assert '<a href="/status/acme-ops">Acme &lt;Ops&gt;</a>' in page  # escaped, linked
    assert '<a href="/api/openapi.json">' in page and '<a href="/api/health">' in page
    assert f"statuscore console --server {server.url}" in page
    # The status page's headers: own assets only, no framing, no referrer.
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Vary"] == "Accept"
    assert "<script" not in page and "style=" not in page  # nothing inline for the CSP to refuse
    stylesheet = page.split('rel="stylesheet" href="', 1)[1].split('"', 1)[0]
    assert api.get(stylesheet).status_code == 200


def test_a_script_asking_for_json_gets_json(server, api, published):
    response = api.get("/", headers={"Accept": "application/json"})
    assert response.status_code == 200 and response.headers["Content-Type"] == "application/json"
    assert response.headers["Vary"] == "Accept"
    body = response.json()
    assert body["name"] == "StatusCore" and body["version"]
    assert {"company_name": "Acme <Ops>", "url": "/status/acme-ops",
            "json_url": "/api/public/status/acme-ops"} in body["status_pages"]
    assert body["openapi_url"] == "/api/openapi.json" and body["health_url"] == "/api/health"
    assert body["console"] == f"statuscore console --server {server.url}"
    for link in (body["openapi_url"], body["health_url"], body["status_pages"][0]["url"]):
        assert api.get(link).status_code == 200, link


def test_the_console_line_uses_the_public_url_when_set(tmp_path):
    served = InProcessAppliance(tmp_path / "data", public_url="https://status.example.test/").start(engine=False)
    try:
        body = served.api.get("/", headers={"Accept": "application/json"}).json()
        assert body["console"] == "statuscore console --server https://status.example.test"
        assert body["status_pages"] == []
        page = served.api.get("/", headers=BROWSER).text
        assert "No status page is set up yet" in page
    finally:
        served.stop()


def test_health_names_the_data_dirs_appliance(server, api):
    response = api.get("/api/health")
    assert response.status_code == 200
    body = response.json()
    instance = (server.settings.data_dir / "instance").read_text().strip()
    assert body == {"status": "ok", "version": body["version"], "instance_id": instance}
    assert len(instance) == 16
