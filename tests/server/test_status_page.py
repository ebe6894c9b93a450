"""The public status page (API.md "Public status page"): its settings, the public JSON and what
it must never show, the web page's headers, the badge, and the short cache in front of it all.

Over real HTTP to an in-process appliance whose check engine is off: monitor states, results and
incidents are put into the stores directly, as the engine would have (no target is contacted).
"""

from __future__ import annotations

import json
import threading
import xml.etree.ElementTree as ET
from datetime import date, datetime, time, timedelta, timezone

import pytest
import schemathesis

from appliance.engine.live import LiveState
from appliance.state import LocationState
from appliance.storage.entities import Transition
from appliance.storage.history import ResultRow
from server.openapi import build_document
from appliance.cache import TTLCache
from appliance.services.status_pages import overall_status
from server.public import day_class, format_duration
from tests.support.appliance import InProcessAppliance
from tests.support.asserts import assert_error
from tests.support.net import wait_for

CACHE_SECONDS = 1.0
PRIVATE_TARGET = "http://127.0.0.1:9/private-target-7f3a"
PUBLIC_TARGET = "http://127.0.0.1:9/public-target-91cd"
KEYWORD = "keyword-e5b2"
CAUSE = "connection refused by http://127.0.0.1:9/public-target-91cd (cause-text-04aa)"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """Overrides conftest's: engine off, and a short status page cache."""
    instance = InProcessAppliance(tmp_path_factory.mktemp("status") / "data",
                                  status_page_cache_seconds=CACHE_SECONDS).start(engine=False)
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def openapi_schema():
    return schemathesis.openapi.from_dict(build_document())


_slugs = iter(range(1, 10_000))


def new_slug(prefix: str = "page") -> str:
    return f"{prefix}-{next(_slugs)}"


def set_page(api, user, company: str, slug: str | None):
    response = api.put("/api/settings/status-page", user, json={"company_name": company, "slug": slug})
    assert response.status_code == 200, response.text
    return response.json()


def set_live(server, monitor_id: int, status: str) -> None:
    server.appliance.live.set(monitor_id, LiveState(status=status, locations={"local": LocationState(status)},
                                                    last_check=datetime.now(timezone.utc)))


def publish(api, user, monitor_id: int, public: bool = True) -> None:
    response = api.patch(f"/api/monitors/{monitor_id}/public", user, json={"public_status": public})
    assert response.status_code == 200, response.text


def public_status(api, slug: str, expect: int = 200) -> dict:
    response = api.get(f"/api/public/status/{slug}")
    assert response.status_code == expect, response.text
    return response.json()


def fresh_status(api, slug: str, predicate, message: str) -> dict:
    """The public JSON once the cache has caught up (bounded by a few cache lifetimes)."""
    return wait_for(lambda: (lambda body: body if predicate(body) else None)(public_status(api, slug)),
                    timeout=CACHE_SECONDS * 10, interval=0.1, message=message)


# ---- settings ----------------------------------------------------------------------------------

def test_it_sets_up_the_page_and_reports_it(api, alice):
    assert api.get("/api/settings/status-page", alice).json() == {
        "company_name": None, "slug": None, "url": None, "json_url": None}
    slug = new_slug("acme")
    body = set_page(api, alice, "Acme Inc.", slug)
    assert body == {"company_name": "Acme Inc.", "slug": slug, "url": f"/status/{slug}",
                    "json_url": f"/api/public/status/{slug}"}
    assert api.get("/api/settings/status-page", alice).json() == body
    assert api.get("/api/auth/me", alice).json()["statusPageSlug"] == slug
    assert public_status(api, slug)["company_name"] == "Acme Inc."


def test_it_moves_and_turns_off_the_page_at_once(api, alice):
    first, second = new_slug(), new_slug()
    set_page(api, alice, "Acme", first)
    public_status(api, first)  # cached now
    set_page(api, alice, "Acme Renamed", second)
    assert public_status(api, second)["company_name"] == "Acme Renamed"
    assert_error(api.get(f"/api/public/status/{first}"), 404)
    assert api.get("/api/auth/me", alice).json()["statusPageSlug"] == second

    off = set_page(api, alice, "Acme Renamed", None)
    assert off["slug"] is None and off["url"] is None
    assert_error(api.get(f"/api/public/status/{second}"), 404)
    assert api.get(f"/status/{second}").status_code == 404
    assert api.get("/api/auth/me", alice).json()["statusPageSlug"] is None


def test_it_refuses_a_slug_another_user_has(api, alice, bob):
    slug = new_slug("taken")
    set_page(api, alice, "Alice's", slug)
    body = assert_error(api.put("/api/settings/status-page", bob, json={"company_name": "Bob's", "slug": slug}),
                        409, "slug")
    assert slug in body["error"]
    assert api.get("/api/settings/status-page", bob).json()["slug"] is None
    assert public_status(api, slug)["company_name"] == "Alice's"
    set_page(api, alice, "Alice again", slug)  # your own slug again is no conflict


@pytest.mark.parametrize("body, field", [
    ({"company_name": "Acme", "slug": "Acme"}, "slug"),  # uppercase
    ({"company_name": "Acme", "slug": "ab"}, "slug"),  # too short
    ({"company_name": "Acme", "slug": "a" * 51}, "slug"),  # too long
    ({"company_name": "Acme", "slug": "my page"}, "slug"),
    ({"company_name": "Acme", "slug": "my_page"}, "slug"),
    ({"company_name": "Acme", "slug": "-acme"}, "slug"),
    ({"company_name": "Acme", "slug": "acme-"}, "slug"),
    ({"company_name": "Acme", "slug": "acmé"}, "slug"),
    ({"company_name": "Acme", "slug": "../admin"}, "slug"),
    ({"company_name": "Acme", "slug": 12345}, "slug"),  # wrong type, not coerced
    ({"company_name": "Acme"}, "slug"),  # PUT sets both
    ({"slug": "acme-co"}, "company_name"),
    ({"company_name": "   ", "slug": "acme-co"}, "company_name"),
    ({"company_name": "x" * 201, "slug": "acme-co"}, "company_name"),
    ({"company_name": None, "slug": "acme-co"}, "company_name"),
    ({"company_name": "Acme", "slug": "acme-co", "theme": "dark"}, "theme"),  # unknown field
])
def test_it_refuses_invalid_settings_with_400(api, alice, body, field):
    assert_error(api.put("/api/settings/status-page", alice, json=body), 400, field)
    assert api.get("/api/settings/status-page", alice).json()["slug"] is None


def test_it_refuses_a_body_that_is_not_a_json_object(api, alice):
    for data in ("", "not json", "[]", '"acme"'):
        assert_error(api.put("/api/settings/status-page", alice, data=data,
                             headers={"Content-Type": "application/json"}), 400)


def test_it_needs_a_login_for_the_settings(api, anonymous):
    assert_error(api.get("/api/settings/status-page", anonymous), 401)
    assert_error(api.put("/api/settings/status-page", anonymous,
                         json={"company_name": "Acme", "slug": new_slug()}), 401)
    assert_error(api.put("/api/settings/status-page", "not-a-token",
                         json={"company_name": "Acme", "slug": new_slug()}), 401)


# ---- the public JSON ------------------------------------------------------------------------

def test_it_shows_only_public_monitors_in_the_documented_shape(server, api, alice, bob, openapi_schema):
    slug = new_slug("shape")
    set_page(api, alice, "Shape Co", slug)
    website = api.create_monitor(alice, name="Website", type="http", target=PUBLIC_TARGET)
    internal = api.create_monitor(alice, name="Internal admin", type="http", target=PRIVATE_TARGET)
    cron = api.create_monitor(alice, name="Nightly job", type="heartbeat", interval=3600)
    bobs = api.create_monitor(bob, name="Bob's site", type="http", target=PUBLIC_TARGET)
    for m in (website, cron):
        publish(api, alice, m["id"])
    publish(api, bob, bobs["id"])  # public, but on bob's page, not alice's
    set_live(server, website["id"], "up")

    response = api.get(f"/api/public/status/{slug}")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    openapi_schema["/api/public/status/{slug}"]["GET"].validate_response(response)
    body = response.json()
    assert set(body) == {"company_name", "overall", "updated_at", "monitors", "incidents",
                         "groups", "notices", "feed_url"}  # the contract's keys, and ours after them
    assert [m["id"] for m in body["monitors"]] == [website["id"], cron["id"]]
    assert internal["id"] not in [m["id"] for m in body["monitors"]]
    first = body["monitors"][0]
    assert set(first) == {"id", "name", "type", "status", "in_maintenance", "uptime_percentage", "uptime_90d",
                          "history", "group", "monitoring_since"}
    assert (first["name"], first["type"], first["status"]) == ("Website", "http", "up")
    assert body["monitors"][1]["status"] == "pending"
    assert "Internal admin" not in response.text and "Bob's site" not in response.text


def test_it_never_shows_a_target_token_email_or_private_field(server, api, alice, openapi_schema):
    slug = new_slug("leak")
    set_page(api, alice, "Leak Test", slug)
    web = api.create_monitor(alice, name="Web", type="http", target=PUBLIC_TARGET, keyword=KEYWORD,
                             expected_status=200)
    tcp = api.create_monitor(alice, name="Database", type="tcp", target="127.0.0.1", port=5433)
    beat = api.create_monitor(alice, name="Backup", type="heartbeat", interval=3600, grace=77)
    secret = api.create_monitor(alice, name="Secret thing", type="http", target=PRIVATE_TARGET)
    for m in (web, tcp, beat):
        publish(api, alice, m["id"])
    set_live(server, web["id"], "down")
    server.appliance.live.set(web["id"], LiveState(status="down", locations={"local": LocationState("down")},
                                                   last_error=CAUSE))
    now = datetime.now(timezone.utc)
    entities = server.appliance.entities
    entities.record_transition(Transition(web["id"], "pending", "down", now - timedelta(hours=2), CAUSE, ("local",)))
    entities.record_transition(Transition(web["id"], "down", "up", now - timedelta(hours=1), "", ()))
    entities.record_transition(Transition(secret["id"], "pending", "down", now - timedelta(hours=1), "secret down"))

    token = beat["heartbeat_url"].rsplit("/", 1)[1]
    forbidden = [PUBLIC_TARGET, PRIVATE_TARGET, "public-target-91cd", KEYWORD, "cause-text-04aa", "5433",
                 token, alice.email, "Secret thing", "heartbeat_url", "target", "keyword", "cause",
                 "locations", "last_error", "public_status", "is_active", "user_id", "email", "grace",
                 "expected_status", "check_locations"]
    body = fresh_status(api, slug, lambda b: b["incidents"], "the incident on the page")
    texts = {
        "json": json.dumps(body),
        "page": api.get(f"/status/{slug}").text,
        "badge": api.get(f"/status/{slug}/badge/{web['id']}.svg").text,
    }
    for where, text in texts.items():
        for value in forbidden:
            if where == "page" and value in ("target",):
                continue  # an HTML word, checked in the JSON
            assert value not in text, f"{value!r} leaks in the {where}"
    incident = body["incidents"][0]
    assert set(incident) == {"id", "monitor_id", "monitor_name", "started_at", "resolved_at", "status",
                             "duration_seconds", "updates"}
    assert incident["monitor_name"] == "Web" and incident["status"] == "resolved"
    assert incident["duration_seconds"] == 3600
    assert [i["monitor_id"] for i in body["incidents"]] == [web["id"]]  # not the private monitor's


def test_it_answers_404_for_unknown_and_impossible_slugs(api):
    for slug in ("no-such-page", "NOPE", "a", "x" * 300, "%00", "..", "acme%2F..%2Fadmin"):
        response = api.get(f"/api/public/status/{slug}")
        assert response.status_code == 404, (slug, response.text)
        assert response.json()["error"]
    page = api.get("/status/no-such-page")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "not found" in page.text
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_it_needs_no_login_and_ignores_one(api, alice):
    slug = new_slug()
    set_page(api, alice, "Anyone", slug)
    assert public_status(api, slug)["company_name"] == "Anyone"
    assert api.get(f"/api/public/status/{slug}", "garbage-token").status_code == 200


def test_it_reports_the_overall_state_over_the_monitors_not_paused(server, api, alice):
    slug = new_slug("overall")
    set_page(api, alice, "Overall", slug)
    assert public_status(api, slug)["overall"] == "no_monitors"
    a = api.create_monitor(alice, name="A", type="http", target=PUBLIC_TARGET)
    b = api.create_monitor(alice, name="B", type="http", target=PUBLIC_TARGET)
    paused = api.create_monitor(alice, name="Paused one", type="http", target=PUBLIC_TARGET)
    for m in (a, b, paused):
        publish(api, alice, m["id"])
    assert api.patch(f"/api/monitors/{paused['id']}/toggle", alice, json={"is_active": False}).status_code == 200

    def state(expected):
        return fresh_status(api, slug, lambda body: body["overall"] == expected, f"overall {expected}")

    set_live(server, a["id"], "up")
    set_live(server, b["id"], "up")
    body = state("operational")
    assert {m["name"]: m["status"] for m in body["monitors"]} == {"A": "up", "B": "up", "Paused one": "paused"}
    set_live(server, b["id"], "down")
    state("partial_outage")
    set_live(server, a["id"], "down")
    state("major_outage")


def test_it_gives_one_uptime_figure_per_day_for_90_days(server, api, alice):
    """Availability by time, as the stats API: the share of each day not spent in an incident,
    from the monitor's first result on; null on days without results."""
    slug = new_slug("history")
    set_page(api, alice, "History", slug)
    m = api.create_monitor(alice, name="Site", type="http", target=PUBLIC_TARGET)
    publish(api, alice, m["id"])
    today = datetime.now(timezone.utc).date()
    two_days_ago, ten_days_ago = today - timedelta(days=2), today - timedelta(days=10)

    def at(day: date, hour: int, minute: int = 0) -> datetime:
        return datetime.combine(day, time(hour, minute), tzinfo=timezone.utc)

    rows = [ResultRow(m["id"], at(ten_days_ago, 12) + timedelta(minutes=i), "local", True, 10.0) for i in range(4)]
    rows += [ResultRow(m["id"], at(two_days_ago, hour), "local", hour != 12, 10.0) for hour in range(0, 24, 2)]
    rows += [ResultRow(m["id"], at(today - timedelta(days=120), 12), "local", False, None)]  # outside the 90 days
    server.appliance.history.append_many(rows)
    server.appliance.history.flush()
    entities = server.appliance.entities
    entities.record_transition(Transition(m["id"], "pending", "down", at(two_days_ago, 12), "x"))
    entities.record_transition(Transition(m["id"], "down", "up", at(two_days_ago, 13, 12), ""))  # 72 min: 5 %

    body = fresh_status(api, slug, lambda b: b["monitors"], "the monitor on the page")
    history = body["monitors"][0]["history"]
    assert len(history) == 90
    dates = [date.fromisoformat(h["date"]) for h in history]
    assert all(later - earlier == timedelta(days=1) for earlier, later in zip(dates, dates[1:]))
    assert dates[-1] in (today, today + timedelta(days=1))  # today (UTC), whatever midnight did meanwhile
    by_date = {d: h["uptime"] for d, h in zip(dates, history)}
    assert by_date[two_days_ago] == "95.00"
    assert by_date[ten_days_ago] == "100.00"
    assert sum(1 for value in by_date.values() if value is not None) == 2
    assert 99.0 < float(body["monitors"][0]["uptime_90d"]) < 100.0
    page = api.get(f"/status/{slug}").text
    assert f'title="{two_days_ago.isoformat()}: 95.00 % uptime"' in page
    assert f'class="day day-partial" title="{two_days_ago.isoformat()}' in page


def test_it_lists_the_last_30_days_of_incidents_newest_first(server, api, alice):
    slug = new_slug("incidents")
    set_page(api, alice, "Incidents", slug)
    m = api.create_monitor(alice, name="API", type="http", target=PUBLIC_TARGET)
    publish(api, alice, m["id"])
    now = datetime.now(timezone.utc).replace(microsecond=0)
    entities = server.appliance.entities
    for old, new, ago in (("pending", "down", timedelta(days=41)), ("down", "up", timedelta(days=40)),
                          ("up", "down", timedelta(days=3)), ("down", "up", timedelta(days=3) - timedelta(minutes=15)),
                          ("up", "down", timedelta(minutes=5))):
        entities.record_transition(Transition(m["id"], old, new, now - ago, "x"))

    body = fresh_status(api, slug, lambda b: len(b["incidents"]) == 2, "two recent incidents")
    ongoing, resolved = body["incidents"]
    assert ongoing["status"] == "ongoing" and ongoing["resolved_at"] is None
    assert ongoing["duration_seconds"] >= 300
    assert resolved["status"] == "resolved" and resolved["duration_seconds"] == 15 * 60
    page = api.get(f"/status/{slug}").text
    assert "lasted 15 min" in page and "Ongoing" in page


def test_it_shows_a_newly_public_monitor_once_the_cache_expires(server, api, alice):
    slug = new_slug("cache")
    set_page(api, alice, "Cache", slug)
    assert public_status(api, slug)["monitors"] == []
    m = api.create_monitor(alice, name="Late", type="http", target=PUBLIC_TARGET)
    publish(api, alice, m["id"])
    body = fresh_status(api, slug, lambda b: b["monitors"], "the newly public monitor")
    assert [x["name"] for x in body["monitors"]] == ["Late"]
    publish(api, alice, m["id"], public=False)
    fresh_status(api, slug, lambda b: not b["monitors"], "the monitor to leave the page")
    cache_control = api.get(f"/api/public/status/{slug}").headers["Cache-Control"]
    assert cache_control == f"public, max-age={int(CACHE_SECONDS)}"


# ---- the web page and the badge --------------------------------------------------------------

def test_it_serves_the_page_with_strict_security_headers_and_no_external_assets(server, api, alice):
    slug = new_slug("page")
    set_page(api, alice, 'Acme <script>alert("x")</script> & Co', slug)
    m = api.create_monitor(alice, name="Web <b>site</b>", type="http", target=PUBLIC_TARGET)
    publish(api, alice, m["id"])
    response = wait_for(lambda: (lambda r: r if "Web &lt;b&gt;site" in r.text else None)(api.get(f"/status/{slug}")),
                        timeout=CACHE_SECONDS * 10, message="the monitor on the page")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    csp = response.headers["Content-Security-Policy"]
    for directive in ("default-src 'none'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'",
                      "connect-src 'self'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "http" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    html = response.text
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "http://" not in html and "https://" not in html and "//" not in html.replace("<!--", "")
    assert "<style" not in html and " style=" not in html and "<script>" not in html  # nothing inline
    assert html.count('class="day ') == 90
    for asset in ("/static/status.css", "/static/status.js"):
        served = api.get(asset)
        assert served.status_code == 200, asset
        assert "http://" not in served.text and "https://" not in served.text and "@import" not in served.text


def test_it_serves_an_svg_badge_for_public_monitors_only(server, api, alice, bob):
    slug = new_slug("badge")
    set_page(api, alice, "Badges", slug)
    shown = api.create_monitor(alice, name='API & "Web" <1>', type="http", target=PUBLIC_TARGET)
    hidden = api.create_monitor(alice, name="Hidden", type="http", target=PRIVATE_TARGET)
    others = api.create_monitor(bob, name="Bob's", type="http", target=PUBLIC_TARGET)
    publish(api, alice, shown["id"])
    publish(api, bob, others["id"])
    set_live(server, shown["id"], "up")

    url = f"/status/{slug}/badge/{shown['id']}.svg"
    response = wait_for(lambda: (lambda r: r if r.status_code == 200 else None)(api.get(url)),
                        timeout=CACHE_SECONDS * 10, message="the badge")
    assert response.headers["Content-Type"].startswith("image/svg+xml")
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    svg = ET.fromstring(response.content)  # well-formed XML, the name escaped
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"
    assert svg.attrib["aria-label"] == 'API & "Web" <1>: up'
    assert "up" in [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "<script" not in response.text

    for missing in (hidden["id"], others["id"], 999_999):
        assert_error(api.get(f"/status/{slug}/badge/{missing}.svg"), 404)
    assert_error(api.get(f"/status/no-such-page/badge/{shown['id']}.svg"), 404)


def test_it_limits_anonymous_visitors_per_ip(tmp_path):
    instance = InProcessAppliance(tmp_path / "data", rate_limit="3/minute").start(engine=False)
    try:
        api = instance.api  # its readiness probe was the first request from this address
        assert api.get("/api/public/status/some-page").status_code == 404
        assert api.get("/status/some-page").status_code == 404
        response = api.get("/api/public/status/some-page")
        assert_error(response, 429)
        assert response.headers["Retry-After"]
        assert api.get("/status/some-page").status_code == 429
    finally:
        instance.stop()


# ---- the parts ---------------------------------------------------------------------------------

def test_the_cache_keeps_a_value_for_its_ttl_and_then_computes_again():
    now = [100.0]
    cache = TTLCache(ttl=5, clock=lambda: now[0])
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert cache.get_or_compute("a", compute) == 1
    now[0] += 4.9
    assert cache.get_or_compute("a", compute) == 1
    now[0] += 0.2
    assert cache.get_or_compute("a", compute) == 2
    cache.invalidate(lambda key: key == "a")
    assert cache.get_or_compute("a", compute) == 3


def test_the_cache_is_bounded_and_computes_a_key_once_for_concurrent_callers():
    cache = TTLCache(ttl=60, max_entries=3)
    for key in range(10):
        cache.get_or_compute(key, lambda: key)
    assert len(cache) == 3

    started, release, calls = threading.Event(), threading.Event(), []

    def slow():
        calls.append(1)
        started.set()
        release.wait(5)
        return "value"

    results = []
    threads = [threading.Thread(target=lambda: results.append(cache.get_or_compute("slow", slow)))
               for _ in range(5)]
    for thread in threads:
        thread.start()
    assert started.wait(5)
    release.set()
    for thread in threads:
        thread.join(5)
    assert results == ["value"] * 5 and len(calls) == 1


def test_the_cache_answers_the_last_value_while_another_caller_computes_the_next():
    now = [100.0]
    cache = TTLCache(ttl=5, clock=lambda: now[0])
    assert cache.get_or_compute("page", lambda: "first", stale_ok=True) == "first"
    now[0] += 6  # past its TTL, still fresh
    started, release, answers = threading.Event(), threading.Event(), []

    def slow():
        started.set()
        release.wait(5)
        return "second"

    rebuilding = threading.Thread(target=lambda: answers.append(cache.get_or_compute("page", slow, stale_ok=True)))
    rebuilding.start()
    assert started.wait(5)
    # Meanwhile, nobody waits: the last value answers.
    assert cache.get_or_compute("page", lambda: "never", stale_ok=True) == "first"
    release.set()
    rebuilding.join(5)
    assert answers == ["second"] and cache.get_or_compute("page", lambda: "never", stale_ok=True) == "second"


def test_the_cache_never_answers_a_value_that_is_no_longer_fresh():
    cache = TTLCache(ttl=60)
    version = [1]
    fresh = lambda value: value[1] == version[0]  # noqa: E731
    assert cache.get_or_compute("page", lambda: ("a", version[0]), fresh, stale_ok=True) == ("a", 1)
    version[0] = 2  # the owner changed something
    assert cache.get_or_compute("page", lambda: ("b", version[0]), fresh, stale_ok=True) == ("b", 2)


def test_a_zero_ttl_cache_always_computes():
    cache = TTLCache(ttl=0)
    values = iter(range(3))
    assert [cache.get_or_compute("k", lambda: next(values)) for _ in range(3)] == [0, 1, 2]


@pytest.mark.parametrize("statuses, overall", [
    ([], "no_monitors"),
    (["paused"], "no_monitors"),
    (["up", "pending", "paused"], "operational"),
    (["up", "down"], "partial_outage"),
    (["down", "paused"], "major_outage"),
    (["down", "down"], "major_outage"),
])
def test_the_overall_state(statuses, overall):
    assert overall_status(statuses) == overall


@pytest.mark.parametrize("seconds, text", [
    (0, "0 s"), (59, "59 s"), (60, "1 min"), (900, "15 min"), (3600, "1 h"), (3660 + 240, "1 h 5 min"),
    (86400, "1 d"), (3 * 86400 + 4 * 3600 + 59, "3 d 4 h"),
])
def test_durations_read_like_a_person_writes_them(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize("uptime, band", [
    (None, "none"), ("100.00", "ok"), ("99.90", "ok"), ("99.89", "minor"), ("99.00", "minor"),
    ("98.99", "partial"), ("95.00", "partial"), ("94.99", "major"), ("0.00", "major"),
])
def test_the_colour_band_of_a_day(uptime, band):
    assert day_class(uptime) == band
