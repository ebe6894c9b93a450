"""The monitor detail screen: the chart's range key, a new monitor's short history, per-column
maxima, the certificate line and uptime figures (issue #18)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import trustme
from textual.app import App

from console.screens.monitor_detail import certificate_text
from console.widgets import ResponseChart, StatusTable
from console.widgets.status import percent
from tests.console.helpers import on_screen, run, screen_text, static_text, table_text, wait_until
from tests.console.test_monitors import row_of
from tests.support.peers import HttpPeer

SIZE = (140, 44)


@pytest.fixture(scope="module")
def tls_peer(tmp_path_factory):
    """An https peer whose certificate is self-signed (a CA's own certificate, alone)."""
    import ssl

    ca = trustme.CA()
    folder = tmp_path_factory.mktemp("self-signed")
    ca.cert_pem.write_to_path(str(folder / "cert.pem"))
    ca.private_key_pem.write_to_path(str(folder / "key.pem"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(folder / "cert.pem"), str(folder / "key.pem"))
    with HttpPeer(ssl_context=context) as peer:
        yield peer


async def open_detail(pilot, app, name: str):
    await on_screen(pilot, "DashboardScreen")
    await wait_until(pilot, lambda: row_of(app, name), message=f"{name} on the dashboard")
    table = app.screen.query_one(StatusTable)
    table.select_id(next(m["id"] for m in table.shown if m["name"] == name))
    await pilot.press("enter")
    return await on_screen(pilot, "MonitorDetailScreen")


def chart_title(app) -> str:
    """The chart's first line as the terminal shows it."""
    return next((line for line in screen_text(app).splitlines() if "Response time" in line and "last" in line), "")


def test_the_range_key_redraws_the_chart_at_once(console, api, alice, peer):
    # A paused monitor with a few checks: no new check will come to repaint the chart by chance.
    monitor = api.create_monitor(alice, name="Ranged", type="http", target=peer.url + "/", interval=10)

    def checks() -> int:
        return len(api.get(f"/api/monitors/{monitor['id']}/history?hours=1", alice).json()["history"])

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: checks() >= 1, message="a first check")
            assert api.patch(f"/api/monitors/{monitor['id']}/toggle", alice, json={"is_active": False}).ok
            screen = await open_detail(pilot, app, "Ranged")
            await wait_until(pilot, lambda: "last 24 h" in chart_title(app), message="the 24 h chart")
            for hours in (72, 168, 1):
                await pilot.press("h")
                await wait_until(pilot, lambda: f"last {hours} h" in chart_title(app), timeout=5,
                                 message=f"the chart redrawn for {hours} h")
                assert screen.query_one(ResponseChart).hours == hours

    run(scenario())


def test_a_new_monitors_chart_spans_the_time_its_data_covers(console, api, alice, peer):
    monitor = api.create_monitor(alice, name="Newborn", type="http", target=peer.url + "/", interval=10)

    def checks() -> int:
        return len(api.get(f"/api/monitors/{monitor['id']}/history?hours=1", alice).json()["history"])

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await wait_until(pilot, lambda: checks() >= 2, timeout=30, message="two checks")
            screen = await open_detail(pilot, app, "Newborn")
            chart = screen.query_one(ResponseChart)
            await wait_until(pilot, lambda: len(chart.points) >= 2, message="the checks in the chart")
            assert chart.hours == 24 and chart.shortened
            first = chart.points[0][0]
            assert chart.axis_since == min(first, chart.until - timedelta(seconds=10))
            assert "drawn over the" in chart_title(app)
            # The checks are spread over the width, not squeezed into a column or two.
            columns = [i for i, (value, down, seen) in enumerate(chart.buckets(chart.bucket_count)) if seen]
            assert columns[-1] - columns[0] > chart.bucket_count // 3, columns

    run(scenario())


class ChartApp(App):
    """One ResponseChart, given made-up history: how bars are computed does not need a server."""

    def compose(self):
        yield ResponseChart()


def test_the_charts_bars_and_max_are_per_column_maxima():
    until = datetime(2024, 1, 15, 12, 0, tzinfo=timezone.utc)
    since = until - timedelta(hours=24)
    history = []
    for i in range(240):  # every 6 minutes, 2–5 ms, one 82 ms spike: several checks per column
        at = since + timedelta(minutes=6 * i + 3)
        history.append({"checked_at": at.strftime("%Y-%m-%dT%H:%M:%SZ"), "status": "up",
                        "response_time": 82 if i == 100 else 2 + i % 4, "location": "local"})

    async def scenario():
        app = ChartApp()
        async with app.run_test(size=(70, 12)) as pilot:
            chart = app.query_one(ResponseChart)
            chart.set_data(history, since, until)
            await pilot.pause()
            buckets = chart.buckets(chart.bucket_count)
            assert chart.bucket_count < 240 / 3  # columns hold several checks each
            assert max(value for value, _, _ in buckets if value is not None) == 82
            assert not chart.shortened
            title = screen_text(app).splitlines()[0]
            assert "max 82 ms" in title and "avg 4 ms" in title, title
            assert "100 ms ┤" in screen_text(app)  # the axis is scaled to the spike

    run(scenario())


def test_the_certificate_line_says_why_and_never_none():
    self_signed = {"valid": False, "expires_at": None, "days_left": None, "issuer": None}
    error = "TLS certificate is not valid: self-signed certificate"
    assert certificate_text(self_signed, error) == "invalid (self-signed certificate)"
    assert certificate_text(self_signed, "connection refused") == "invalid"
    assert certificate_text({**self_signed, "error": "certificate has expired", "days_left": -3}, None) == \
        "invalid (certificate has expired) — expired 3 days ago"
    assert certificate_text({"valid": True, "days_left": 45, "issuer": "Example CA"}, None) == \
        "valid — expires in 45 days (Example CA)"
    assert certificate_text({"valid": True, "days_left": 1, "issuer": None}, None) == "valid — expires in 1 day"


def test_uptime_has_two_decimals_everywhere():
    assert [percent(v) for v in ("99.9", "99.95", "100", 97.2, "99.996", None)] == \
        ["99.90 %", "99.95 %", "100.00 %", "97.20 %", "99.99 %", "—"]


def test_the_detail_shows_a_self_signed_certificate_and_same_format_uptimes(console, api, alice, tls_peer):
    api.create_monitor(alice, name="Self-signed", type="https", target=tls_peer.url + "/", ssl_check=True,
                       retries=0, interval=10)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: "▼ down" in row_of(app, "Self-signed"), timeout=30, message="down")
            await open_detail(pilot, app, "Self-signed")
            facts = await wait_until(pilot, lambda: "Certificate" in static_text(app, "#facts")
                                     and static_text(app, "#facts"), message="the certificate line")
            line = next(line for line in facts.splitlines() if line.startswith("Certificate"))
            assert "None" not in line and "invalid (" in line and "self-signed" in line, line
            # The stats count from the first stored result: until the history writer's flush (under a
            # second) the 30-day figure is "—", then a number.
            def uptimes_shown():
                figures = static_text(app, "#figures")
                uptimes = [line.split()[-2] for line in figures.splitlines() if line.startswith("Uptime")]
                return "Uptime 30 d" in figures and all(u[:1].isdigit() for u in uptimes) and (figures, uptimes)

            figures, uptimes = await wait_until(pilot, uptimes_shown, message="the figures")
            assert len(uptimes) == 2 and all(len(u.split(".")[-1]) == 2 for u in uptimes), figures

    run(scenario())


def test_a_long_cause_ends_with_an_ellipsis(console, api, alice, peer):
    keyword = "a-phrase-that-is-not-on-the-page-" * 3  # the cause quotes it: longer than the column
    api.create_monitor(alice, name="Long cause", type="http", target=peer.url + "/", keyword=keyword, retries=0,
                       interval=10)

    async def scenario():
        app = console(alice)
        async with app.run_test(size=SIZE) as pilot:
            await on_screen(pilot, "DashboardScreen")
            await wait_until(pilot, lambda: "▼ down" in row_of(app, "Long cause"), timeout=30, message="down")
            screen = await open_detail(pilot, app, "Long cause")
            incidents = screen.query_one("#incidents")
            await wait_until(pilot, lambda: incidents.row_count == 1, message="the incident")
            await pilot.pause()
            shown = [line for line in screen_text(app).splitlines() if "ongoing" in line]
            assert shown and "…" in shown[0], shown
            assert keyword in table_text(incidents)  # the cell keeps it all

    run(scenario())
