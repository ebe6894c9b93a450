"""Slow-client attack benchmark (issue 16): N connections that send a header every 5 s and never
finish (slowloris, from 127.0.0.2) for --seconds, while one client times GET /api/auth/me and a
heartbeat job calls every 2 s. Prints the latency figures, how many slow connections the server
let go, and whether the heartbeat monitor stayed up.

The appliance runs as `statuscore serve` (its own process, 20 http monitors checking a local
target so the engine is busy too). Traffic goes to 127.0.0.0/8 only; the run stops by itself.

Usage: .venv/bin/python benchmarks/slow_clients.py --sockets 300 --seconds 60
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine import pct, prepare_data_dir, serving, start_target  # noqa: E402
from tests.support.slow_clients import SlowClients  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sockets", type=int, default=300)
    parser.add_argument("--seconds", type=float, default=60.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        target_proc, target = start_target(Path(tmp) / "hits", stop_after=args.seconds + 120)
        prepare_data_dir(data_dir, 20, 10, target)
        with serving(data_dir, Path(tmp) / "serve.log", rate_limit="100000/minute") as (_proc, base, headers):
            monitor = requests.post(f"{base}/api/monitors", headers=headers, timeout=10, json={
                "name": "job", "type": "heartbeat", "interval": 10, "grace": 5}).json()
            stop, failed_calls = threading.Event(), []

            def job():
                while not stop.wait(2.0):
                    try:
                        requests.get(base + monitor["heartbeat_url"], timeout=4).raise_for_status()
                    except requests.RequestException as exc:
                        failed_calls.append(type(exc).__name__)

            caller = threading.Thread(target=job, daemon=True)
            caller.start()
            port = urlparse(base).port
            latencies, statuses = [], set()
            with SlowClients(port, count=args.sockets, seconds=args.seconds + 5) as attackers:
                end = time.monotonic() + args.seconds
                while time.monotonic() < end:
                    started = time.monotonic()
                    try:
                        requests.get(f"{base}/api/auth/me", headers=headers, timeout=30).raise_for_status()
                        latencies.append(time.monotonic() - started)
                    except requests.RequestException:
                        latencies.append(float("inf"))
                    statuses.add(requests.get(f"{base}/api/monitors/{monitor['id']}", headers=headers,
                                              timeout=30).json()["status"])
                    time.sleep(0.1)
            stop.set()
            caller.join(10)
            incidents = requests.get(f"{base}/api/monitors/{monitor['id']}/insights", headers=headers,
                                     timeout=30).json()["incidents"]
        target_proc.terminate()
    ms = sorted(x * 1000 for x in latencies)
    print(f"{args.sockets} slow connections for {args.seconds:.0f} s: {attackers.connections_made} made, "
          f"{attackers.closed_by_server} closed by the server")
    print(f"/api/auth/me: {len(ms)} requests, p50 {statistics.median(ms):.1f} ms, p99 {pct(ms, 99):.1f} ms, "
          f"max {ms[-1]:.1f} ms")
    print(f"heartbeat job: {len(failed_calls)} failed calls; monitor statuses seen {sorted(statuses)}; "
          f"incidents {len(incidents)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
