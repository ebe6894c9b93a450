"""Issue 21: a write that changes what a public status page shows shows on the very next request —
on the JSON, the web page and the badge — although pages are cached for load (here for 300 s, so
only the invalidation can make a test pass, never the cache expiring)."""

from __future__ import annotations

import itertools

import pytest

from tests.support.appliance import InProcessAppliance

_n = itertools.count(1)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("fresh") / "data",
                                  status_page_cache_seconds=300).start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture
def owner(server):
    n = next(_n)
    user = server.api.create_user(server.admin(), f"owner{n}@example.test")
    slug = f"fresh-{n}"
    assert server.api.put("/api/settings/status-page", user,
                          json={"company_name": "Acme", "slug": slug}).status_code == 200
    user.slug = slug
    return user


def publish(server, user, name="Website") -> dict:
    monitor = server.api.create_monitor(user, name=name, type="http", target="http://127.0.0.1:9/")
    assert server.api.patch(f"/api/monitors/{monitor['id']}/public", user,
                            json={"public_status": True}).status_code == 200
    return monitor


def page(server, slug) -> dict:
    """JSON, web page and badge as a visitor fetches them now (each also fills the cache)."""
    json_response = server.api.get(f"/api/public/status/{slug}")
    html = server.api.get(f"/status/{slug}")
    return {"json": json_response.json() if json_response.status_code == 200 else None,
            "json_status": json_response.status_code, "html": html.text, "html_status": html.status_code}


def names(view) -> list[str]:
    return [m["name"] for m in view["json"]["monitors"]]


def badge(server, slug, monitor_id):
    return server.api.get(f"/status/{slug}/badge/{monitor_id}.svg")


def test_it_takes_an_unpublished_monitor_off_at_once(server, owner):
    monitor = publish(server, owner, "Secret admin panel")
    before = page(server, owner.slug)
    assert names(before) == ["Secret admin panel"] and "Secret admin panel" in before["html"]
    assert badge(server, owner.slug, monitor["id"]).status_code == 200
    assert server.api.patch(f"/api/monitors/{monitor['id']}/public", owner,
                            json={"public_status": False}).status_code == 200
    after = page(server, owner.slug)
    assert names(after) == [] and "Secret admin panel" not in after["html"]
    assert badge(server, owner.slug, monitor["id"]).status_code == 404


def test_it_shows_a_newly_published_monitor_at_once(server, owner):
    assert names(page(server, owner.slug)) == []
    publish(server, owner, "API")
    assert names(page(server, owner.slug)) == ["API"]


def test_it_takes_a_deleted_monitor_off_at_once(server, owner):
    monitor = publish(server, owner, "Old site")
    assert names(page(server, owner.slug)) == ["Old site"]
    assert server.api.delete(f"/api/monitors/{monitor['id']}", owner).status_code == 204
    assert names(page(server, owner.slug)) == []
    assert badge(server, owner.slug, monitor["id"]).status_code == 404


def test_it_shows_a_rename_at_once(server, owner):
    monitor = publish(server, owner, "Webshop")
    assert names(page(server, owner.slug)) == ["Webshop"]
    assert server.api.put(f"/api/monitors/{monitor['id']}", owner, json={"name": "Shop"}).status_code == 200
    view = page(server, owner.slug)
    assert names(view) == ["Shop"] and "Webshop" not in view["html"]
    assert "Shop" in badge(server, owner.slug, monitor["id"]).text


def test_it_shows_a_paused_monitor_at_once(server, owner):
    monitor = publish(server, owner, "Mail")
    page(server, owner.slug)
    assert server.api.patch(f"/api/monitors/{monitor['id']}/toggle", owner,
                            json={"is_active": False}).status_code == 200
    assert page(server, owner.slug)["json"]["monitors"][0]["status"] == "paused"


def test_it_shows_a_new_title_at_once(server, owner):
    assert page(server, owner.slug)["json"]["company_name"] == "Acme"
    assert server.api.put("/api/settings/status-page", owner,
                          json={"company_name": "Acme Ltd", "slug": owner.slug}).status_code == 200
    view = page(server, owner.slug)
    assert view["json"]["company_name"] == "Acme Ltd" and "Acme Ltd" in view["html"]


def test_it_moves_the_page_to_a_new_slug_at_once(server, owner):
    publish(server, owner, "DNS")
    page(server, owner.slug)
    new_slug = owner.slug + "-moved"
    assert server.api.put("/api/settings/status-page", owner,
                          json={"company_name": "Acme", "slug": new_slug}).status_code == 200
    old = page(server, owner.slug)
    assert old["json_status"] == 404 and old["html_status"] == 404
    assert names(page(server, new_slug)) == ["DNS"]


def test_it_takes_a_deleted_users_page_down_at_once(server, owner):
    monitor = publish(server, owner, "VPN")
    page(server, owner.slug)
    assert server.api.delete(f"/api/admin/users/{owner.id}", server.admin()).status_code == 204
    view = page(server, owner.slug)
    assert view["json_status"] == 404 and view["html_status"] == 404
    assert badge(server, owner.slug, monitor["id"]).status_code == 404


def test_it_shows_a_maintenance_window_at_once(server, owner):
    monitor = publish(server, owner, "Database")
    assert page(server, owner.slug)["json"]["monitors"][0]["in_maintenance"] is False
    window = server.api.post("/api/maintenance", owner, json={
        "name": "upgrade", "monitor_ids": [monitor["id"]],
        "starts_at": "2020-01-01T00:00:00Z", "ends_at": "2099-01-01T00:00:00Z"})
    assert window.status_code == 201, window.text
    assert page(server, owner.slug)["json"]["monitors"][0]["in_maintenance"] is True
    assert server.api.delete(f"/api/maintenance/{window.json()['id']}", owner).status_code == 204
    assert page(server, owner.slug)["json"]["monitors"][0]["in_maintenance"] is False


def test_it_keeps_serving_from_the_cache_while_nothing_changes(server, owner):
    publish(server, owner, "Static")
    first = server.api.get(f"/api/public/status/{owner.slug}").json()
    second = server.api.get(f"/api/public/status/{owner.slug}").json()
    assert first["updated_at"] == second["updated_at"]  # the same assembled page
