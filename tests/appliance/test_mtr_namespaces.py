"""MTR over a real routed path: src -> router1 -> router2 -> dst, each a network namespace of
its own (tests/support/netns.py), with the MTR code running inside `src`. Needs root and
iproute2; skipped with the reason where that is not possible. The namespaces are deleted
afterwards, whatever happens."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.netns import DST, R1_IN, R2_IN, NamespaceChain, unavailable

ROOT = Path(__file__).resolve().parents[2]
WHY_NOT = unavailable()

pytestmark = pytest.mark.skipif(WHY_NOT is not None, reason=f"no network namespaces: {WHY_NOT}")

# Runs inside the source namespace; names come from a table (never a DNS server).
RUN = """
import json, sys
from appliance.tools.mtr import Mtr
names = json.loads(sys.argv[2])
tool = Mtr(interval=0.05, reverse=names.get)
report = tool.run(sys.argv[1], rounds=int(sys.argv[3]), max_hops=int(sys.argv[4]), timeout=float(sys.argv[5]))
print(json.dumps(report.to_dict()))
"""
NAMES = {R1_IN: "router1.test", R2_IN: "router2.test", DST: "dst.test"}


def mtr_in(chain: NamespaceChain, target: str, rounds: int = 3, max_hops: int = 30, timeout: float = 2) -> dict:
    """Run MTR inside the source namespace (a subprocess: the namespace is per process)."""
    argv = [sys.executable, "-c", RUN, target, json.dumps(NAMES), str(rounds), str(max_hops), str(timeout)]
    done = chain.run(chain.src, argv, cwd=ROOT, timeout=120)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def chain():
    with NamespaceChain() as built:
        yield built


def test_it_reports_every_router_on_the_path_and_the_destination_last(chain):
    report = mtr_in(chain, DST, rounds=3)
    assert report["target"] == DST and report["address"] == DST
    assert report["rounds"] == 3 and report["reached"] is True
    assert [(h["hop"], h["address"], h["host"]) for h in report["hops"]] == [
        (1, R1_IN, "router1.test"), (2, R2_IN, "router2.test"), (3, DST, "dst.test")]
    for hop in report["hops"]:
        assert hop["sent"] == 3 and hop["loss_pct"] == 0.0, hop
        assert 0 <= hop["best"] <= hop["avg"] <= hop["worst"], hop
        assert hop["stdev"] >= 0 and hop["last"] is not None, hop


def test_it_stops_at_max_hops_before_the_destination(chain):
    report = mtr_in(chain, DST, rounds=2, max_hops=2)
    assert report["reached"] is False
    assert [(h["hop"], h["address"], h["sent"], h["loss_pct"]) for h in report["hops"]] == [
        (1, R1_IN, 2, 0.0), (2, R2_IN, 2, 0.0)]


def test_it_counts_a_silent_router_as_lost(chain):
    # router2 still forwards but sends no ICMP errors at all (its global ICMP budget is zero)
    try:
        chain.run(chain.r2, ["sysctl", "-q", "-w", "net.ipv4.icmp_msgs_per_sec=0", "net.ipv4.icmp_msgs_burst=0"])
    except subprocess.CalledProcessError as exc:
        pytest.skip(f"this kernel has no per-namespace ICMP budget: {exc.stderr.strip()}")
    report = mtr_in(chain, DST, rounds=2, timeout=0.5)  # each round waits this long for hop 2
    assert report["reached"] is True
    assert [(h["hop"], h["address"], h["host"], h["loss_pct"], h["sent"]) for h in report["hops"]] == [
        (1, R1_IN, "router1.test", 0.0, 2), (2, None, "???", 100.0, 2), (3, DST, "dst.test", 0.0, 2)]
    silent = report["hops"][1]
    assert silent["last"] is silent["avg"] is silent["best"] is silent["worst"] is silent["stdev"] is None
