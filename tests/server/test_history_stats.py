"""History and stats over HTTP: from real checks against a local peer, and from results put
straight into the history store so every figure can be worked out by hand."""

from __future__ import annotations

import re
from collections import defaultdict
from datetime import datetime, timedelta, timezone

import pytest

from appliance.storage.entities import Transition
from appliance.storage.history import ResultRow
from tests.support.net import wait_for
from tests.support.peers import HttpPeer

ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
STATS_KEYS = {"monitor_id", "days", "uptime", "avg", "min", "max", "p50", "p95", "p99", "checks", "failures",
              "incidents", "mttr_seconds", "daily"}


def _now() -> datetime:
    return datetime.now(timezone.utc).replace(microsecond=0)


def _iso(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def paused(api, alice) -> dict:
    """A monitor the engine leaves alone, so only the rows a test writes are in its history."""
    return api.create_monitor(alice, name="Hand-fed", type="http", target="http://127.0.0.1:9/", is_active=False)


def _feed(server, rows: list[ResultRow]) -> None:
    server.appliance.history.append_many(rows)
    server.appliance.history.flush()


# ---- real checks -------------------------------------------------------------------------------

def test_it_records_real_checks_and_reports_them(api, alice):
    with HttpPeer() as peer:
        up = api.create_monitor(alice, name="Up", type="http", target=peer.url + "/", interval=10)
        down = api.create_monitor(alice, name="Down", type="http", target=peer.url + "/status/503",
                                  interval=10, retries=0)

        def history_of(monitor):
            body = api.get(f"/api/monitors/{monitor['id']}/history", alice).json()
            return body if body["history"] else None

        up_body = wait_for(lambda: history_of(up), timeout=20, message="a stored result of the up monitor")
        down_body = wait_for(lambda: history_of(down), timeout=20, message="a stored result of the down monitor")

    assert set(up_body) == {"monitor", "history", "stats"}
    assert up_body["monitor"]["id"] == up["id"] and up_body["monitor"]["name"] == "Up"
    entry = up_body["history"][0]
    assert set(entry) == {"checked_at", "status", "response_time", "location", "anomaly_score"}
    assert ISO_Z.match(entry["checked_at"])
    checked = datetime.strptime(entry["checked_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert abs((_now() - checked).total_seconds()) < 120
    assert entry["status"] == "up" and entry["location"] == "local"
    assert isinstance(entry["response_time"], int) and entry["response_time"] >= 0
    assert entry["anomaly_score"] == 0.0  # the detector's score: nothing unusual on a first check
    stats = up_body["stats"]
    assert set(stats) == {"avg", "min", "max", "uptime"}
    assert stats["uptime"] == "100"
    assert all(isinstance(stats[k], int) for k in ("avg", "min", "max"))
    assert stats["min"] <= stats["avg"] <= stats["max"]

    assert {e["status"] for e in down_body["history"]} == {"down"}
    assert down_body["stats"]["uptime"] == "0"
    assert down_body["stats"]["avg"] is None  # no successful check to time

    up_now = api.get(f"/api/monitors/{up['id']}", alice).json()
    assert (up_now["status"], up_now["uptime_percentage"]) == ("up", "100.00")
    assert up_now["location_status"] == {"local": "up"}
    assert ISO_Z.match(up_now["last_check"]) and isinstance(up_now["response_time"], int)
    down_now = api.get(f"/api/monitors/{down['id']}", alice).json()
    assert (down_now["status"], down_now["uptime_percentage"]) == ("down", "0.00")
    assert down_now["location_status"] == {"local": "down"}

    up_stats = api.get(f"/api/monitors/{up['id']}/stats", alice).json()
    assert set(up_stats) == STATS_KEYS
    assert up_stats["checks"] >= 1 and up_stats["failures"] == 0 and up_stats["uptime"] == "100"
    down_stats = api.get(f"/api/monitors/{down['id']}/stats", alice).json()
    assert down_stats["checks"] >= 1 and down_stats["failures"] == down_stats["checks"]
    assert down_stats["uptime"] == "0"


# ---- hand-computable figures -------------------------------------------------------------------

def test_it_reports_nothing_yet_for_a_monitor_without_results(api, alice, paused):
    body = api.get(f"/api/monitors/{paused['id']}/history", alice).json()
    assert body["history"] == []
    assert body["stats"] == {"avg": None, "min": None, "max": None, "uptime": None}
    assert body["monitor"]["id"] == paused["id"]
    stats = api.get(f"/api/monitors/{paused['id']}/stats", alice).json()
    assert set(stats) == STATS_KEYS
    assert stats["monitor_id"] == paused["id"] and stats["days"] == 30
    assert (stats["checks"], stats["failures"], stats["incidents"]) == (0, 0, 0)
    assert stats["uptime"] is None and stats["avg"] is None and stats["p95"] is None
    assert stats["mttr_seconds"] is None and stats["daily"] == []


def test_it_lists_each_result_in_time_order_with_exact_stats(api, server, alice, paused):
    now = _now()
    rows = [
        ResultRow(paused["id"], now - timedelta(minutes=4), "local", True, 100.4),
        ResultRow(paused["id"], now - timedelta(minutes=3), "local", False, None, "connection refused"),
        ResultRow(paused["id"], now - timedelta(minutes=2), "local", True, 199.6),
        ResultRow(paused["id"], now - timedelta(minutes=1), "local", True, 300.0, None, 0.98765),
    ]
    _feed(server, list(reversed(rows)))  # stored out of order, listed in order

    body = api.get(f"/api/monitors/{paused['id']}/history", alice).json()
    assert body["history"] == [
        {"checked_at": _iso(now - timedelta(minutes=4)), "status": "up", "response_time": 100, "location": "local",
         "anomaly_score": None},
        {"checked_at": _iso(now - timedelta(minutes=3)), "status": "down", "response_time": None,
         "location": "local", "anomaly_score": None},
        {"checked_at": _iso(now - timedelta(minutes=2)), "status": "up", "response_time": 200, "location": "local",
         "anomaly_score": None},
        {"checked_at": _iso(now - timedelta(minutes=1)), "status": "up", "response_time": 300, "location": "local",
         "anomaly_score": 0.988},  # stored to 4 places, shown to 3
    ]
    # One failed check is not downtime: uptime counts the time the monitor was confirmed down.
    assert body["stats"] == {"avg": 200, "min": 100, "max": 300, "uptime": "100"}


def test_it_keeps_results_outside_the_window_out(api, server, alice, paused):
    now = _now()
    _feed(server, [
        ResultRow(paused["id"], now - timedelta(hours=30), "local", False, None),
        ResultRow(paused["id"], now - timedelta(hours=2), "local", True, 50.0),
        ResultRow(paused["id"], now - timedelta(minutes=30), "local", True, 70.0),
    ])
    day = api.get(f"/api/monitors/{paused['id']}/history?hours=24", alice).json()
    assert [e["response_time"] for e in day["history"]] == [50, 70]
    assert day["stats"] == {"avg": 60, "min": 50, "max": 70, "uptime": "100"}
    hour = api.get(f"/api/monitors/{paused['id']}/history?hours=1", alice).json()
    assert [e["response_time"] for e in hour["history"]] == [70]
    two_days = api.get(f"/api/monitors/{paused['id']}/history?hours=48", alice).json()
    assert len(two_days["history"]) == 3
    assert two_days["stats"]["uptime"] == "100"  # a failed check without a confirmed down

    assert api.get(f"/api/monitors/{paused['id']}/stats?days=1", alice).json()["checks"] == 2
    assert api.get(f"/api/monitors/{paused['id']}/stats?days=2", alice).json()["checks"] == 3


def _incident(server, monitor_id: int, start: datetime, seconds: float | None) -> None:
    """A confirmed outage of `seconds` (None: still ongoing), through the real transition path."""
    entities = server.appliance.entities
    status = entities.get_monitor(monitor_id).status
    if status != "up":
        entities.record_transition(Transition(monitor_id=monitor_id, old_status=status, new_status="up",
                                              at=start - timedelta(seconds=1), cause="test"))
    entities.record_transition(Transition(monitor_id=monitor_id, old_status="up", new_status="down",
                                          at=start, cause="test"))
    if seconds is not None:
        entities.record_transition(Transition(monitor_id=monitor_id, old_status="down", new_status="up",
                                              at=start + timedelta(seconds=seconds), cause="test"))


# Watched for 1,000,000 s (first result then); down for `down` seconds of it. A few seconds of
# test latency move these figures by less than the last digit shown.
WATCHED = 1_000_000


@pytest.mark.parametrize("down, expected", [
    (0, "100"), (500_000, "50"), (125_000, "87.5"), (1_000, "99.9"), (666_667, "33.333"), (50, "99.995"),
])
def test_it_writes_uptime_by_time_with_up_to_three_decimals(api, server, alice, paused, down, expected):
    start = _now() - timedelta(seconds=WATCHED)
    _feed(server, [ResultRow(paused["id"], start, "local", True, 10.0)])
    if down:
        _incident(server, paused["id"], start + timedelta(seconds=1_000), down)
    assert api.get(f"/api/monitors/{paused['id']}/stats", alice).json()["uptime"] == expected


def test_it_counts_an_ongoing_outage_up_to_now(api, server, alice, paused):
    start = _now() - timedelta(seconds=100_000)
    _feed(server, [ResultRow(paused["id"], start, "local", False, None)])
    _incident(server, paused["id"], start, None)
    assert api.get(f"/api/monitors/{paused['id']}/stats", alice).json()["uptime"] == "0"


def test_it_never_shows_100_with_a_downtime(api, server, alice, paused):
    start = _now() - timedelta(seconds=WATCHED)
    _feed(server, [ResultRow(paused["id"], start, "local", True, 10.0)])
    _incident(server, paused["id"], start + timedelta(seconds=10), 5)  # 99.9995 % would round to 100
    assert api.get(f"/api/monitors/{paused['id']}/stats", alice).json()["uptime"] == "99.999"


def test_it_shows_15_minutes_down_in_a_day_as_98_96_percent_whatever_the_interval(api, server, alice):
    """Two monitors with very different intervals, both down 15 minutes of yesterday."""
    today = _now().replace(hour=0, minute=0, second=0)
    day = today - timedelta(days=1)
    for interval in (10, 300):
        monitor = api.create_monitor(alice, name=f"every {interval} s", type="http",
                                     target="http://127.0.0.1:9/", is_active=False)
        outage = (day + timedelta(hours=9), day + timedelta(hours=9, minutes=15))
        rows = [ResultRow(monitor["id"], day + timedelta(seconds=t), "local",
                          not (outage[0] <= day + timedelta(seconds=t) < outage[1]), 20.0)
                for t in range(0, 86_400, interval)]
        _feed(server, rows)
        _incident(server, monitor["id"], outage[0], 15 * 60)
        stats = api.get(f"/api/monitors/{monitor['id']}/stats?days=3", alice).json()
        yesterday = next(d for d in stats["daily"] if d["date"] == day.date().isoformat())
        assert yesterday["uptime"] == "98.96"
        assert yesterday["checks"] == 86_400 // interval


def test_it_computes_the_30_day_stats_by_hand(api, server, alice, paused):
    now = _now()
    monitor_id = paused["id"]
    rows = [
        ResultRow(monitor_id, now - timedelta(days=3, minutes=1), "local", True, 100.0),
        ResultRow(monitor_id, now - timedelta(days=3), "local", False, None, "timeout"),
        ResultRow(monitor_id, now - timedelta(hours=5), "local", True, 200.0),
        ResultRow(monitor_id, now - timedelta(minutes=10), "local", True, 300.0),
        ResultRow(monitor_id, now - timedelta(days=40), "local", False, None),  # outside 30 days
    ]
    _feed(server, rows)
    entities = server.appliance.entities
    record = lambda old, new, at: entities.record_transition(  # noqa: E731
        Transition(monitor_id=monitor_id, old_status=old, new_status=new, at=at, cause="test"))
    assert entities.get_monitor(monitor_id).status == "pending"
    record("pending", "up", now - timedelta(days=3, minutes=30))
    record("up", "down", now - timedelta(days=3, minutes=20))  # resolved after 300 s
    record("down", "up", now - timedelta(days=3, minutes=15))
    record("up", "down", now - timedelta(hours=2))  # resolved after 100 s
    record("down", "up", now - timedelta(hours=2) + timedelta(seconds=100))
    record("up", "down", now - timedelta(minutes=1))  # still ongoing

    stats = api.get(f"/api/monitors/{monitor_id}/stats", alice).json()
    in_window = rows[:4]
    by_day: dict[str, list[ResultRow]] = defaultdict(list)
    for row in in_window:
        by_day[row.checked_at.date().isoformat()].append(row)

    def day_avg(day_rows):
        times = [r.response_time for r in day_rows if r.up]
        return round(sum(times) / len(times)) if times else None

    # Watched from the first result (3 days + 1 minute ago), so the 300 s outage before it does
    # not count; down 100 s and the last minute.
    watched = (now - in_window[0].checked_at).total_seconds()
    expected_uptime = 100.0 * (1 - (100 + 60) / watched)
    uptime = float(stats.pop("uptime"))
    assert abs(uptime - expected_uptime) < 0.002
    daily = stats.pop("daily")
    assert stats == {
        "monitor_id": monitor_id, "days": 30,
        "avg": 200, "min": 100, "max": 300,
        "p50": 200, "p95": 290, "p99": 298,
        "checks": 4, "failures": 1,
        "incidents": 3, "mttr_seconds": 200,
    }
    assert [(d["date"], d["avg"], d["checks"]) for d in daily] == [
        (day, day_avg(day_rows), len(day_rows)) for day, day_rows in sorted(by_day.items())]
    assert all(0 <= float(d["uptime"]) <= 100 for d in daily)

    today = api.get(f"/api/monitors/{monitor_id}/stats?days=1", alice).json()
    assert (today["days"], today["checks"], today["failures"]) == (1, 2, 0)
    assert (today["incidents"], today["mttr_seconds"]) == (2, 100)
    # Watched from its first result of that day (5 h ago); down 100 s and the last minute.
    assert abs(float(today["uptime"]) - 100.0 * (1 - 160 / (5 * 3600))) < 0.02


def test_it_keeps_other_monitors_results_apart(api, server, alice, bob, paused):
    other = api.create_monitor(bob, name="Bob's", type="http", target="http://127.0.0.1:9/", is_active=False)
    now = _now()
    _feed(server, [ResultRow(other["id"], now - timedelta(minutes=1), "local", False, None),
                   ResultRow(paused["id"], now - timedelta(minutes=1), "local", True, 10.0)])
    _incident(server, other["id"], now - timedelta(minutes=1), None)
    assert api.get(f"/api/monitors/{paused['id']}/history", alice).json()["stats"]["uptime"] == "100"
    assert api.get(f"/api/monitors/{other['id']}/history", bob).json()["stats"]["uptime"] == "0"
