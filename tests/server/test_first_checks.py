"""What a monitor shows after its first checks, over HTTP with the engine on and real local peers:
a failed check that is not confirmed yet is `pending` with no uptime (not "100.00"), and a check
that got no response has no response time (null, not 0)."""

from __future__ import annotations

import socket

from tests.support.net import free_port, wait_for


def checked(api, user, monitor_id: int) -> dict:
    return wait_for(lambda: (m := api.get(f"/api/monitors/{monitor_id}", user).json())["last_check"] and m,
                    timeout=20, message="the monitor's first check")


def test_an_unconfirmed_failure_is_pending_with_no_uptime_and_no_response_time(api, alice):
    port = free_port()  # bound and released: connections are refused
    monitor = api.create_monitor(alice, name="db", type="tcp", target="127.0.0.1", port=port, retries=1,
                                 interval=3600)
    shown = checked(api, alice, monitor["id"])
    assert shown["status"] == "pending"  # one failure of the retries + 1 that confirm a down
    assert "refused" in shown["last_error"]
    assert shown["uptime_percentage"] is None  # nothing known yet, so no claim of 100.00
    assert shown["response_time"] is None  # refused: nothing answered, nothing to time
    history = wait_for(lambda: (h := api.get(f"/api/monitors/{monitor['id']}/history", alice).json())["history"] and h,
                       timeout=10, message="the stored result")
    assert history["history"][0]["status"] == "down" and history["history"][0]["response_time"] is None
    assert history["stats"]["uptime"] is None
    assert api.get(f"/api/monitors/{monitor['id']}/stats", alice).json()["uptime"] is None


def test_a_confirmed_down_has_zero_uptime(api, alice):
    monitor = api.create_monitor(alice, name="db", type="tcp", target="127.0.0.1", port=free_port(), retries=0,
                                 interval=3600)
    shown = checked(api, alice, monitor["id"])
    assert shown["status"] == "down" and shown["uptime_percentage"] == "0.00" and shown["response_time"] is None


def test_an_answered_check_has_its_response_time_and_full_uptime(api, alice):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monitor = api.create_monitor(alice, name="db", type="tcp", target="127.0.0.1",
                                     port=listener.getsockname()[1], interval=3600)
        shown = checked(api, alice, monitor["id"])
    assert shown["status"] == "up" and shown["uptime_percentage"] == "100.00"
    assert isinstance(shown["response_time"], int) and shown["response_time"] >= 0
