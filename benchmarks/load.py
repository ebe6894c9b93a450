"""API load benchmark (issue 11): concurrent clients on loopback against an appliance that is
checking 1,000 monitors, for the monitor list, one monitor's 24 h history and the public status
JSON. Prints requests/s and p50/p99 per endpoint, and the engine's lag while under load.

The appliance runs as `statuscore serve` (its own process); the target of the monitors is a tiny
asyncio HTTP server in another process; the clients run in a third process group. Traffic goes to
127.0.0.1 only; the run is bounded by --seconds per endpoint.

Usage: .venv/bin/python benchmarks/load.py --monitors 1000 --interval 20 --clients 8 --seconds 20
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.engine import pct, prepare_data_dir, proc_stats, serving, start_target  # noqa: E402


def client_worker(url: str, headers: dict, stop_at: float, out) -> None:
    session = requests.Session()
    latencies, errors = [], 0
    while time.time() < stop_at:
        started = time.perf_counter()
        try:
            response = session.get(url, headers=headers, timeout=30)
            if response.status_code != 200:
                errors += 1
        except requests.RequestException:
            errors += 1
        latencies.append((time.perf_counter() - started) * 1000)
    out.put((latencies, errors))


def hammer(url: str, headers: dict, clients: int, seconds: float) -> dict:
    out: multiprocessing.Queue = multiprocessing.Queue()
    stop_at = time.time() + seconds
    procs = [multiprocessing.Process(target=client_worker, args=(url, headers, stop_at, out)) for _ in range(clients)]
    for p in procs:
        p.start()
    latencies, errors = [], 0
    for _ in procs:
        got, bad = out.get(timeout=seconds + 120)
        latencies += got
        errors += bad
    for p in procs:
        p.join(10)
    return {"requests_per_s": round(len(latencies) / seconds, 1), "p50_ms": round(pct(latencies, 50), 2),
            "p99_ms": round(pct(latencies, 99), 2), "errors": errors, "requests": len(latencies)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, default=1000)
    parser.add_argument("--interval", type=int, default=20)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--http-threads", type=int, default=8)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="sc-load-bench-"))
    target, target_url = start_target(work / "hits.log", args.seconds * 4 + 300)
    data_dir = work / "data"
    data_dir.mkdir()
    prepare_data_dir(data_dir, args.monitors, args.interval, target_url)
    # Half of the monitors on the public status page (the page shows them all).
    import sqlite3

    with sqlite3.connect(data_dir / "statuscore.sqlite") as db:
        db.execute("UPDATE user SET status_page_slug = 'bench', company_name = 'Bench'")
        db.execute("UPDATE monitor SET public_status = 1 WHERE id % 2 = 0")
    try:
        with serving(data_dir, work / "serve.log", rate_limit="1000000/minute",
                     http_threads=args.http_threads) as (proc, base, headers):
            time.sleep(args.interval + 2)  # every monitor checked at least once
            print(f"machine: {os.cpu_count()} cores; {args.monitors} monitors at {args.interval} s; "
                  f"{args.clients} client processes; {args.http_threads} API threads")
            cpu0, _, _ = proc_stats(proc.pid)
            results = {}
            for name, url in (("monitor list", f"{base}/api/monitors"),
                              ("history 24h (one monitor)", f"{base}/api/monitors/1/history?hours=24"),
                              ("public status JSON", f"{base}/api/public/status/bench")):
                results[name] = hammer(url, headers if "public" not in url else {}, args.clients, args.seconds)
                print(f"{name:28s} {json.dumps(results[name])}")
            cpu1, rss, hwm = proc_stats(proc.pid)
            engine = requests.get(f"{base}/api/admin/engine", headers=headers, timeout=30).json()
            print(f"appliance during the run: CPU {100 * (cpu1 - cpu0) / (3 * args.seconds):.0f} % of one core, "
                  f"RSS {rss:.0f} MB (peak {hwm:.0f} MB); engine lag p50 {engine['lag_p50_ms']} ms, "
                  f"p99 {engine['lag_p99_ms']} ms, slots skipped {engine['slots_skipped']}")
    finally:
        target.terminate()


if __name__ == "__main__":
    main()
