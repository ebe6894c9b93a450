"""ping monitors against ICMP on loopback, and a down case inside a network namespace of our own
(a fresh one from `unshare -n` has only a loopback that is down: nothing can answer)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

from appliance.checkers.ping import PingChecker, icmp_mode
from appliance.spec import MonitorSpec

needs_icmp = pytest.mark.skipif(icmp_mode() is None, reason="this process may not send ICMP "
                                "(needs net.ipv4.ping_group_range or CAP_NET_RAW)")


def spec(target: str, timeout: int = 2) -> MonitorSpec:
    return MonitorSpec(id=1, user_id=1, name="ping", type="ping", target=target, timeout=timeout)


@needs_icmp
def test_it_is_up_when_loopback_answers():
    result = PingChecker().check(spec("127.0.0.1"))
    assert result.up, result.error
    assert result.response_time_ms is not None and result.response_time_ms >= 0
    assert result.details["packet_loss"] == 0.0
    assert result.details["packets_received"] == result.details["packets_sent"] == 3


@needs_icmp
def test_it_pings_ipv6_loopback_too():
    if not os.path.exists("/proc/net/if_inet6"):
        pytest.skip("no IPv6 on this machine")
    assert PingChecker().check(spec("::1")).up


def test_it_explains_how_to_allow_icmp_when_it_is_not_permitted():
    result = PingChecker(mode=None).check(spec("127.0.0.1"))
    assert not result.up
    assert "ping_group_range" in result.error and "CAP_NET_RAW" in result.error


@needs_icmp
def test_it_is_down_when_nothing_can_answer():
    unshare = shutil.which("unshare")
    if unshare is None or os.geteuid() != 0:
        pytest.skip("needs root and unshare(1) to make a network namespace")
    probe = subprocess.run([unshare, "-n", "true"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip(f"cannot create a network namespace here: {probe.stderr.decode().strip()}")
    script = textwrap.dedent("""
        import json
        from appliance.checkers.ping import PingChecker
        from appliance.spec import MonitorSpec
        r = PingChecker().check(MonitorSpec(id=1, user_id=1, name="p", type="ping", target="127.0.0.1", timeout=1))
        print(json.dumps({"up": r.up, "error": r.error, "loss": r.details.get("packet_loss")}))
    """)
    out = subprocess.run([unshare, "-n", sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=30, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["up"] is False
    assert result["loss"] == 1.0
    assert result["error"]
