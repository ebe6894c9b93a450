"""Print the single binary's figures: size, what it must not contain, and start-up times.

    .venv/bin/python packaging/measure_binary.py [dist/statuscore] [--runs 10]

Start-up is measured two ways, each as the median and range (min–max) of --runs runs:
- `statuscore --version` (the one-file launcher unpacks the program into a temp dir every start);
- `statuscore serve` on an empty data dir until GET /api/openapi.json first answers 200.
The same is measured for the virtualenv's `statuscore` for comparison. A figure, not a test.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNWANTED = ("numpy", "pandas", "pyarrow", "cryptography")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def time_version(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([*command, "--version"], check=True, capture_output=True)
    return time.perf_counter() - started


def time_serve(command: list[str]) -> float:
    port = free_port()
    with tempfile.TemporaryDirectory() as data:
        env = {**os.environ, "STATUSCORE_DATA_DIR": data, "STATUSCORE_PORT": str(port),
               "STATUSCORE_HOST": "127.0.0.1", "STATUSCORE_ADMIN_PASSWORD": "measure-password-1",
               "STATUSCORE_LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        proc = subprocess.Popen([*command, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/openapi.json", timeout=1) as answer:
                        if answer.status == 200:
                            return time.perf_counter() - started
                except OSError:
                    pass
                if proc.poll() is not None:
                    raise SystemExit(f"{command[0]} serve exited with {proc.returncode}")
                if time.perf_counter() - started > 60:
                    raise SystemExit(f"{command[0]} serve did not answer within 60 s")
                time.sleep(0.01)
        finally:
            proc.terminate()
            proc.wait(30)


def summary(values: list[float]) -> str:
    return (f"median {statistics.median(values):.2f} s, range {min(values):.2f}–{max(values):.2f} s "
            f"({len(values)} runs)")


def contents(binary: Path) -> str:
    viewer = Path(sys.executable).with_name("pyi-archive_viewer")
    if not viewer.exists():
        return ""
    return subprocess.run([str(viewer), "-r", "-b", str(binary)], capture_output=True, text=True).stdout


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("binary", nargs="?", default=str(ROOT / "dist" / "statuscore"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    binary = Path(args.binary).resolve()
    if not binary.exists():
        raise SystemExit(f"no binary at {binary}; build it first (see packaging/statuscore.spec)")

    print(f"binary: {binary}")
    print(f"size: {binary.stat().st_size / 2**20:.1f} MiB")
    listing = contents(binary)
    if listing:
        found = sorted({name.strip().split(".")[0] for name in listing.splitlines()
                        if name.strip().split(".")[0].split("/")[0] in UNWANTED})
        print(f"unwanted packages inside: {', '.join(found) or 'none'} (looked for {', '.join(UNWANTED)})")
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    venv = shutil.which("statuscore", path=str(Path(sys.executable).parent))
    for label, command in (("binary", [str(binary)]), ("venv", [venv] if venv else None)):
        if command is None:
            continue
        time_version(command)  # warm the page cache
        versions = [time_version(command) for _ in range(args.runs)]
        serves = [time_serve(command) for _ in range(max(3, args.runs // 2))]
        print(f"{label}: --version {summary(versions)}")
        print(f"{label}: serve to first HTTP answer {summary(serves)}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
