"""The public status page in a real browser: Debian's headless Chromium driven by Playwright.

A user sets a slug and marks two of three monitors public; the page shows the company, those two
(never the third), their 90-day bars and incidents; when one monitor's target starts failing the
page's own refresh turns the banner into "Partial outage". Everything the browser fetches is on
127.0.0.1, and no script or style is refused by the page's Content-Security-Policy.
A second page (issue #18) has grouped components with their roll-up, a response-time graph, an
ongoing incident with the owner's update, a maintenance notice, a brand-new monitor's bar, times
in the visitor's own (named) zone, and the Atom feed its <link rel="alternate"> points to.
Screenshots go to test-artifacts/ (desktop, phone in dark mode, the follow-up page).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from appliance.models import Incident
from appliance.storage.history import ResultRow
from appliance.timeutil import iso
from tests.support.appliance import InProcessAppliance
from tests.support.net import wait_for
from tests.support.peers import HttpPeer

pytestmark = pytest.mark.slow

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
REFRESH = 5  # seconds between the page's own refreshes (?refresh=5)
OUTAGE_WAIT = 60  # a check every 10 s, retries 0, a refresh every 5 s: well within this

if not Path(CHROMIUM).exists():
    pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (./install.sh test does)",
                allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def peers():
    with HttpPeer() as website, HttpPeer() as api_peer, HttpPeer() as internal:
        yield {"website": website, "api": api_peer, "internal": internal}


@pytest.fixture(scope="module")
def appliance(tmp_path_factory):
    instance = InProcessAppliance(tmp_path_factory.mktemp("statuspage") / "data",
                                  status_page_cache_seconds=0.5).start()
    yield instance
    instance.stop()


@pytest.fixture(scope="module")
def page_setup(appliance, peers):
    """Acme's page with Website and API public, Internal admin private, and 90 days of past results."""
    api, admin = appliance.api, appliance.admin()
    response = api.put("/api/settings/status-page", admin, json={"company_name": "Acme Cloud", "slug": "acme-cloud"})
    assert response.status_code == 200, response.text
    monitors = {}
    for key, name in (("website", "Website"), ("api", "Public API"), ("internal", "Internal admin panel")):
        monitors[key] = api.create_monitor(admin, name=name, type="http", target=peers[key].url + "/",
                                           interval=10, timeout=3, retries=0)
    for key in ("website", "api"):
        assert api.patch(f"/api/monitors/{monitors[key]['id']}/public", admin,
                         json={"public_status": True}).status_code == 200
    seed_past(appliance, monitors["website"]["id"], monitors["api"]["id"])
    return {"slug": "acme-cloud", "monitors": monitors, "url": f"{appliance.url}/status/acme-cloud"}


def seed_past(appliance: InProcessAppliance, website_id: int, api_id: int) -> None:
    """Results every 6 hours for 89 days and a few past incidents, so the bars have a history."""
    today = datetime.now(timezone.utc).date()
    start = datetime.combine(today - timedelta(days=89), time(0), tzinfo=timezone.utc)
    rows = [ResultRow(mid, start + timedelta(hours=6 * i), "local", True, 40.0 + i % 9)
            for mid in (website_id, api_id) for i in range(89 * 4)]
    appliance.appliance.history.append_many(rows)
    appliance.appliance.history.flush()
    outages = [(api_id, 70, 3 * 60), (api_id, 41, 20), (api_id, 12, 2), (website_id, 55, 45), (api_id, 4, 25)]
    with appliance.appliance.entities.session() as session:
        for mid, days_ago, minutes in outages:
            began = datetime.combine(today - timedelta(days=days_ago), time(9, 30), tzinfo=timezone.utc)
            session.add(Incident(monitor_id=mid, started_at=began, resolved_at=began + timedelta(minutes=minutes),
                                 cause="seeded outage"))
        session.commit()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1100, "height": 1000}, color_scheme="light")
        yield context
        context.close()


class Recorder:
    """Every URL the page asks for and every console error (a CSP refusal is one)."""

    def __init__(self, page):
        self.urls: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.urls.append(request.url))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def assert_local_only(self):
        assert self.urls, "the page made no requests at all?"
        for url in self.urls:
            parts = urlsplit(url)
            assert parts.scheme == "data" or parts.hostname == "127.0.0.1", f"request left 127.0.0.1: {url}"
        assert not self.errors, self.errors


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    page.screenshot(path=str(path), full_page=True)
    return path


@pytest.mark.timeout(300)  # the waits below are bounded by OUTAGE_WAIT each; let them report a failure
def test_it_shows_the_public_monitors_and_follows_an_outage(browser, page_setup, peers):
    expect = sync_api.expect
    page = browser.new_page()
    recorder = Recorder(page)
    page.goto(page_setup["url"] + f"?refresh={REFRESH}")

    expect(page).to_have_title("Acme Cloud status")
    expect(page.locator("h1")).to_have_text("Acme Cloud")
    names = page.locator(".monitor-name")
    expect(names).to_have_text(["Website", "Public API"])
    assert "Internal admin panel" not in page.content()
    assert peers["internal"].url not in page.content() and peers["website"].url not in page.content()

    banner = page.locator("#banner")
    expect(banner).to_contain_text("All systems operational", timeout=OUTAGE_WAIT * 1000)
    expect(page.locator(".monitor .state")).to_have_text(["✓ Operational"] * 2, timeout=OUTAGE_WAIT * 1000)

    bar = page.locator(".monitor").nth(1).locator(".bar .day")
    expect(bar).to_have_count(90)
    assert "% uptime" in bar.nth(89).get_attribute("title")
    assert page.locator(".monitor").nth(1).locator(".day-major").count() >= 1  # the 3-hour outage
    expect(page.locator(".incident")).to_have_count(2)  # only those of the last 30 days
    expect(page.locator(".incident").first).to_contain_text("Public API was down")
    expect(page.locator(".incident").first).to_contain_text("lasted 25 min")
    expect(page.locator("#updated time")).not_to_be_empty()
    screenshot(page, "status-page-operational.png")

    peers["api"].set_status(500)
    try:
        expect(banner).to_contain_text("Partial outage", timeout=OUTAGE_WAIT * 1000)  # no reload: its own refresh
        expect(page.locator(".monitor").nth(1).locator(".state")).to_have_text("✕ Down")
        expect(page.locator(".monitor").nth(0).locator(".state")).to_have_text("✓ Operational")
        expect(page.locator(".incident").first).to_contain_text("Ongoing")
        assert banner.get_attribute("role") == "status"  # the same live region, updated in place
        screenshot(page, "status-page-partial-outage.png")
    finally:
        peers["api"].set_status(None)
    expect(banner).to_contain_text("All systems operational", timeout=OUTAGE_WAIT * 1000)
    recorder.assert_local_only()
    page.close()


def test_it_reads_on_a_phone_in_dark_mode(browser, page_setup):
    page = browser.new_page()
    page.set_viewport_size({"width": 375, "height": 800})
    page.emulate_media(color_scheme="dark")
    recorder = Recorder(page)
    page.goto(page_setup["url"])
    sync_api.expect(page.locator(".monitor-name")).to_have_count(2)
    first_bar = page.locator(".monitor").first.locator(".bar .day")
    visible = first_bar.evaluate_all("cells => cells.filter(c => c.offsetWidth > 0).length")
    assert visible == 30  # the last 30 days on a narrow screen
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")  # no sideways scrolling
    background = page.evaluate("getComputedStyle(document.body).backgroundColor")
    assert background == "rgb(13, 17, 23)", background  # the dark palette
    screenshot(page, "status-page-phone-dark.png")
    recorder.assert_local_only()
    page.close()


def test_it_shows_a_plain_not_found_page_for_an_unknown_slug(browser, appliance):
    page = browser.new_page()
    recorder = Recorder(page)
    response = page.goto(f"{appliance.url}/status/no-such-company")
    assert response.status == 404
    sync_api.expect(page.locator("h1")).to_have_text("Status page not found")
    recorder.errors = [e for e in recorder.errors if "404" not in e]  # the page's own status
    recorder.assert_local_only()
    page.close()



@pytest.mark.timeout(300)
def test_it_shows_groups_graphs_updates_notices_and_local_times(browser, appliance, peers):
    """Globex's page: Shop (group Website, with a week of response times), Checkout API (group API,
    failing: an ongoing incident the owner posted an update on), a monitor created just now, and a
    maintenance notice. The visitor is in Tokyo (an emulated time zone)."""
    expect = sync_api.expect
    api = appliance.api
    owner = api.create_user(appliance.admin(), "globex@example.test")
    assert api.put("/api/settings/status-page", owner, json={"company_name": "Globex", "slug": "globex"}).ok
    with HttpPeer() as failing:
        failing.set_status(500)
        made = {}
        for name, group, url in (("Shop", "Website", peers["website"].url), ("Checkout API", "API", failing.url),
                                 ("Brand new", None, peers["website"].url)):
            made[name] = api.create_monitor(owner, name=name, type="http", target=url + "/", interval=10, timeout=3,
                                            retries=0, group=group)
            assert api.patch(f"/api/monitors/{made[name]['id']}/public", owner, json={"public_status": True}).ok
        today = datetime.now(timezone.utc).date()
        rows = [ResultRow(made["Shop"]["id"], datetime.combine(today - timedelta(days=d), time(h), tzinfo=timezone.utc),
                          "local", True, 60.0 + 10 * d + h) for d in range(1, 8) for h in (3, 15)]
        appliance.appliance.history.append_many(rows)
        appliance.appliance.history.flush()
        incident = wait_for(lambda: (api.get(f"/api/monitors/{made['Checkout API']['id']}/insights", owner)
                                     .json()["incidents"] or [None])[0],
                            timeout=OUTAGE_WAIT, interval=0.5, message="the failing monitor's incident")
        # The Website group's roll-up needs Shop's first verdict (slow to come on a loaded box).
        wait_for(lambda: api.get(f"/api/monitors/{made['Shop']['id']}", owner).json()["status"] == "up",
                 timeout=OUTAGE_WAIT, interval=0.5, message="Shop's first check")
        posted = api.post(f"/api/incidents/{incident['id']}/updates", owner,
                          json={"status": "identified", "message": "The payment gateway rejects our certificate."})
        assert posted.status_code == 201, posted.text
        start = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(hours=3)
        assert api.post("/api/maintenance", owner, json={
            "name": "Database upgrade", "monitor_ids": [made["Shop"]["id"]], "starts_at": iso(start),
            "ends_at": iso(start + timedelta(hours=1)), "notice": "The shop is read-only for up to an hour."}).ok

        page = browser.new_page()
        page.context.new_cdp_session(page).send("Emulation.setTimezoneOverride", {"timezoneId": "Asia/Tokyo"})
        recorder = Recorder(page)
        page.goto(f"{appliance.url}/status/globex")

        # Groups: ungrouped first, then each section with its roll-up.
        expect(page.locator(".monitor-name")).to_have_text(["Brand new", "Shop", "Checkout API"])
        expect(page.locator('.group[aria-label="Website"] .group-state')).to_have_text("Operational")
        expect(page.locator('.group[aria-label="API"] .group-state')).to_have_text("Major outage")

        # The graph: drawn by the server as inline SVG, shown under the CSP (no console error).
        shop = page.locator(".monitor", has_text="Shop")
        expect(shop.locator("svg.rt polyline")).to_have_count(1)
        assert shop.locator("svg.rt").bounding_box()["height"] > 20
        expect(shop.locator(".graph-foot")).to_contain_text("ms on average")
        since = (today - timedelta(days=7)).isoformat()  # its first results, older than the monitor (seeded)
        expect(shop.locator(".bar-foot")).to_contain_text(f"Monitored since {since}")
        lone = page.locator(".monitor", has_text="Brand new").locator("svg.rt polyline")
        expect(lone).to_have_count(1)  # one day of results: a short dash, not an invisible point
        assert lone.bounding_box()["width"] > 2

        # A brand-new monitor: no wall of empty boxes, and it says since when.
        fresh_bar = page.locator(".monitor", has_text="Brand new")
        expect(fresh_bar.locator(".day-before")).to_have_count(89)
        assert fresh_bar.locator(".day-before").first.bounding_box()["height"] <= 3
        expect(fresh_bar.locator(".bar-foot")).to_contain_text(f"Monitored since {today.isoformat()}")
        expect(page.locator(".legend")).to_contain_text("not monitored yet")

        # The ongoing incident, the owner's update, in the visitor's zone (named).
        first = page.locator(".incident").first
        expect(first).to_contain_text("Checkout API is down")
        expect(first).to_contain_text("Down since")
        expect(first).not_to_contain_text("was down")
        expect(first.locator(".update")).to_contain_text("Identified The payment gateway rejects our certificate.")
        started = first.locator("time").first
        expect(started).to_have_text(re.compile(r"(GMT\+9|JST)"))
        assert started.get_attribute("title").endswith("Z")  # the exact UTC time on hover

        # The maintenance notice.
        notice = page.locator(".notice")
        expect(notice).to_contain_text("Scheduled maintenance Database upgrade")
        expect(notice).to_contain_text("Affects: Shop")
        expect(notice).to_contain_text("read-only for up to an hour")
        expect(notice.locator("time").first).to_have_text(re.compile(r"(GMT\+9|JST)"))
        screenshot(page, "status-page-groups-updates.png")

        # Follow it: the feed the page links to is Atom, with the incident and the notice.
        href = page.locator('link[rel="alternate"][type="application/atom+xml"]').get_attribute("href")
        assert href == "/status/globex/feed.atom"
        feed = page.request.get(f"{appliance.url}{href}")
        assert feed.ok and feed.headers["content-type"].startswith("application/atom+xml")
        root = ET.fromstring(feed.body())
        atom = "{http://www.w3.org/2005/Atom}"
        titles = [e.findtext(f"{atom}title") for e in root.findall(f"{atom}entry")]
        assert "Checkout API is down" in titles and "Scheduled maintenance: Database upgrade" in titles
        recorder.assert_local_only()
        page.close()
