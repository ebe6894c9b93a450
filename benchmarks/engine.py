"""Check-engine benchmark (issue 3): N http monitors against a local HTTP target.

Runs `statuscore serve` as a subprocess on a fresh data dir holding N http monitors (created
through the entity store before start, as after a restart), with a minimal asyncio HTTP target
in another process that logs every hit. Prints, for the measured window:
  checks/s, CPU of the appliance (% of one core and ms per check, and that as a multiple of a
  bare http.client GET measured in this process: the machine's speed drifts), RSS (now and peak),
  schedule lag p50/p99 (the engine's own measure, actual - planned start),
  interval jitter p50/p99 (seen by the target: |time between two checks of a monitor - interval|),
  restart -> every monitor checked (seconds from process start until all N were hit once),
  stored bytes per check (DuckDB file after a checkpoint / rows),
and the anchor figures from DESIGN.md (Uptime Kuma 2.5.3 on this kind of machine) beside them.

Usage: .venv/bin/python benchmarks/engine.py --monitors 1000 --interval 20 --seconds 120
Traffic goes to 127.0.0.1 only. Bounded: the run stops after --seconds (plus start-up).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import requests

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ANCHOR = {  # DESIGN.md, Uptime Kuma 2.5.3, 2 cores, http monitors at 20 s, retries 0
    500: {"cpu_pct": 9.4, "rss_mb": 228, "jitter_p99_ms": 2.9, "restart_s": 325},
    1000: {"cpu_pct": 18.0, "rss_mb": 254, "jitter_p99_ms": 4.1, "restart_s": 653},
}


BENCH_EMAIL, BENCH_PASSWORD = "bench@example.test", "bench-password-1"


# ---- the target: a tiny HTTP server in its own process, logging (monitor id, arrival time) ------
def run_target(port_queue, hits_path: str, stop_after: float) -> None:
    hits = open(hits_path, "w", buffering=1)

    async def handle(reader, writer):
        try:
            line = await reader.readline()
            while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                pass
            path = line.split(b" ")[1] if b" " in line else b"/"
            hits.write(f"{path.decode(errors='replace')} {time.time():.6f}\n")
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            await writer.drain()
        except (ConnectionError, IndexError):
            pass
        finally:
            writer.close()

    async def main():
        server = await asyncio.start_server(handle, "127.0.0.1", 0, backlog=4096)
        port_queue.put(server.sockets[0].getsockname()[1])
        await asyncio.sleep(stop_after)
        server.close()

    asyncio.run(main())
    hits.close()


def start_target(hits_path: Path, stop_after: float) -> tuple[multiprocessing.Process, str]:
    """The target process (it stops by itself after `stop_after` seconds) and its base URL."""
    port_queue: multiprocessing.Queue = multiprocessing.Queue()
    target = multiprocessing.Process(target=run_target, args=(port_queue, str(hits_path), stop_after))
    target.start()
    return target, f"http://127.0.0.1:{port_queue.get(timeout=10)}"


def bare_get_cpu_ms(target: str, requests_count: int = 1000) -> float:
    """CPU ms of one plain http.client GET (connect, request, read, close) in this process: the
    floor a check costs in this interpreter on this machine right now. Shared 2-core VMs drift
    by 2x over hours, so the engine's figure is also printed as a multiple of this one."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(target)
    started = time.process_time()
    for i in range(requests_count):
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("GET", f"/calibrate/{i}")
        conn.getresponse().read()
        conn.close()
    return 1000 * (time.process_time() - started) / requests_count


# ---- the appliance ----------------------------------------------------------------------------------
def prepare_data_dir(data_dir: Path, monitors: int, interval: int, target: str) -> None:
    from appliance.storage.entities import EntityStore

    store = EntityStore(data_dir / "statuscore.sqlite")
    user = store.create_user(BENCH_EMAIL, BENCH_PASSWORD, tier="pro", is_admin=True)
    from appliance.models import Monitor

    with store.session() as s:
        for i in range(monitors):
            s.add(Monitor(user_id=user.id, name=f"m{i}", type="http", target=f"{target}/m/{i + 1}",
                          interval=interval, timeout=10, retries=0, check_locations=["all"]))
        s.commit()
    store.close()


@contextmanager
def serving(data_dir: Path, log_path: Path, **settings: object) -> Iterator[tuple[subprocess.Popen, str, dict]]:
    """`statuscore serve` on `data_dir` and a free loopback port, with STATUSCORE_<NAME> = value for
    each of `settings`, logged in as the bench user: (process, base URL, auth headers). The
    process is stopped on leaving."""
    port = _free_port()
    env = {**os.environ, "STATUSCORE_DATA_DIR": str(data_dir), "STATUSCORE_PORT": str(port),
           "STATUSCORE_LOG_LEVEL": "WARNING", **{f"STATUSCORE_{k.upper()}": str(v) for k, v in settings.items()}}
    base = f"http://127.0.0.1:{port}"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "statuscore", "serve"], env=env, cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=log)
        try:
            yield proc, base, {"Authorization": f"Bearer {_login(base)}"}
        finally:
            proc.terminate()
            proc.wait(30)


def _login(base: str) -> str:
    """The bench user's token, once the appliance answers (within about 30 s)."""
    for _ in range(300):
        try:
            r = requests.post(f"{base}/api/auth/login", json={"email": BENCH_EMAIL, "password": BENCH_PASSWORD},
                              timeout=2)
            if r.status_code == 200:
                return r.json()["token"]
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError("the appliance did not start")


def proc_stats(pid: int) -> tuple[float, float, float]:
    """(cpu seconds, rss MB, peak rss MB) of a process."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    cpu = (int(fields[11]) + int(fields[12])) / ticks
    rss = hwm = 0.0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                rss = int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                hwm = int(line.split()[1]) / 1024
    return cpu, rss, hwm


def pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(p / 100 * len(values)))]


def run(monitors: int, interval: int, seconds: float, workers: int) -> dict:
    work = Path(tempfile.mkdtemp(prefix="sc-engine-bench-"))
    hits_path = work / "hits.log"
    target, target_url = start_target(hits_path, seconds + interval * 3 + 120)
    data_dir = work / "data"
    data_dir.mkdir()
    prepare_data_dir(data_dir, monitors, interval, target_url)
    floor_before = bare_get_cpu_ms(target_url)
    started = time.time()
    with serving(data_dir, work / "serve.log", admin_email="x@example.test", rate_limit="100000/minute",
                 check_workers=workers) as (proc, base, headers):
        # Warm up for one interval (every monitor checked once), then measure.
        all_checked_at = None
        deadline = time.time() + interval * 3 + 60
        while time.time() < deadline:
            seen = _distinct_hits(hits_path)
            if seen >= monitors:
                all_checked_at = time.time() - started
                break
            time.sleep(0.5)
        window_start = time.time()
        cpu0, _, _ = proc_stats(proc.pid)
        engine0 = requests.get(f"{base}/api/admin/engine", headers=headers, timeout=30).json()
        time.sleep(seconds)
        cpu1, rss, hwm = proc_stats(proc.pid)
        engine1 = requests.get(f"{base}/api/admin/engine", headers=headers, timeout=30).json()
        window = time.time() - window_start
    floor = (floor_before + bare_get_cpu_ms(target_url)) / 2
    checks = engine1["checks_completed"] - engine0["checks_completed"]
    jitter = _jitter(hits_path, interval, window_start, window_start + window)
    stored = _bytes_per_check(data_dir / "history.duckdb")
    target.terminate()
    return {
        "monitors": monitors, "interval_s": interval, "window_s": round(window, 1), "workers": workers,
        "checks_per_s": round(checks / window, 1),
        "cpu_pct_of_one_core": round(100 * (cpu1 - cpu0) / window, 1),
        "cpu_ms_per_check": round(1000 * (cpu1 - cpu0) / checks, 3) if checks else None,
        "bare_get_cpu_ms": round(floor, 3),
        "cpu_per_check_x_bare_get": round(1000 * (cpu1 - cpu0) / checks / floor, 2) if checks else None,
        "rss_mb": round(rss, 1), "rss_peak_mb": round(hwm, 1),
        "lag_p50_ms": engine1["lag_p50_ms"], "lag_p99_ms": engine1["lag_p99_ms"],
        "jitter_p50_ms": jitter[0], "jitter_p99_ms": jitter[1],
        "restart_all_checked_s": round(all_checked_at, 1) if all_checked_at else None,
        "stored_bytes_per_check": stored,
        "slots_skipped": engine1["slots_skipped"],
    }


def _distinct_hits(path: Path) -> int:
    seen = set()
    with open(path) as f:
        for line in f:
            if line.startswith("/m/"):  # monitors only, not the calibration requests
                seen.add(line.split(" ", 1)[0])
    return len(seen)


def _jitter(path: Path, interval: float, start: float, end: float) -> tuple[float | None, float | None]:
    last: dict[str, float] = {}
    deviations: list[float] = []
    with open(path) as f:
        for line in f:
            try:
                where, when = line.split()
                at = float(when)
            except ValueError:
                continue
            if not where.startswith("/m/"):
                continue
            if where in last and start <= at <= end:
                deviations.append(abs(at - last[where] - interval) * 1000)
            last[where] = at
    return (round(pct(deviations, 50), 2) if deviations else None,
            round(pct(deviations, 99), 2) if deviations else None)


def _bytes_per_check(path: Path) -> float | None:
    import duckdb

    con = duckdb.connect(str(path))
    rows = con.execute("SELECT count(*) FROM results").fetchone()[0]
    con.execute("CHECKPOINT")
    con.close()
    return round(path.stat().st_size / rows, 1) if rows else None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--monitors", type=int, nargs="+", default=[1000])
    parser.add_argument("--interval", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--workers", type=int, default=64)
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    for n in args.monitors:
        figures = run(n, args.interval, args.seconds, args.workers)
        print(json.dumps(figures))
        anchor = ANCHOR.get(n) if args.interval == 20 else None
        if anchor:
            print(f"  vs Uptime Kuma ({n} @ 20 s): CPU {figures['cpu_pct_of_one_core']} % vs {anchor['cpu_pct']} % "
                  f"(x{figures['cpu_pct_of_one_core'] / anchor['cpu_pct']:.2f}), "
                  f"RSS {figures['rss_mb']} MB (peak {figures['rss_peak_mb']}, a login's scrypt) vs "
                  f"{anchor['rss_mb']} MB (x{figures['rss_mb'] / anchor['rss_mb']:.2f}), "
                  f"jitter p99 {figures['jitter_p99_ms']} ms vs {anchor['jitter_p99_ms']} ms, "
                  f"restart->all checked {figures['restart_all_checked_s']} s vs {anchor['restart_s']} s")


if __name__ == "__main__":
    main()
