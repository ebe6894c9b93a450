"""YAML storm benchmark (issue 16): one user sends --parallel dry-run imports of a --size byte YAML
document at once, --rounds times, while another user calls GET /api/auth/me in a loop. Prints the
other user's latency (p50, p99, slowest) and what the imports were answered.

The appliance runs as `statuscore serve` (its own process) on 127.0.0.1; nothing leaves loopback.

Usage: .venv/bin/python benchmarks/yaml_storm.py --parallel 8 --size 600000 --rounds 1
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.reliability.test_yaml_storm import large_document  # noqa: E402
from tests.support.appliance import ApplianceProcess  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--size", type=int, default=600_000)
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc = ApplianceProcess(Path(tmp) / "data", env={"STATUSCORE_FREE_MAX_MONITORS": "0"}).start()
        try:
            api, admin = proc.api, proc.admin()
            storm = api.create_user(admin, "storm@example.test")
            other = api.create_user(admin, "other@example.test")
            body = large_document(args.size)
            headers = {**storm.headers, "Content-Type": "application/yaml"}
            statuses, waits, stop = Counter(), [], threading.Event()

            def import_once(barrier):
                session = proc.api
                barrier.wait()
                statuses[session.post("/api/import?dry_run=true", data=body, headers=headers, timeout=600).status_code] += 1

            def keep_asking():
                session = proc.api
                while not stop.is_set():
                    started = time.monotonic()
                    assert session.get("/api/auth/me", other, timeout=600).status_code == 200
                    waits.append(time.monotonic() - started)
                    time.sleep(0.05)

            asker = threading.Thread(target=keep_asking, daemon=True)
            asker.start()
            started = time.monotonic()
            for _ in range(args.rounds):
                barrier = threading.Barrier(args.parallel)
                threads = [threading.Thread(target=import_once, args=(barrier,)) for _ in range(args.parallel)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
            elapsed = time.monotonic() - started
            stop.set()
            asker.join()
        finally:
            proc.stop()
    waits.sort()
    print(f"{args.rounds} x {args.parallel} dry-run imports of {len(body) / 1000:.0f} kB YAML in {elapsed:.1f} s: "
          f"{dict(sorted(statuses.items()))}")
    print(f"/api/auth/me of another user: {len(waits)} calls, p50 {statistics.median(waits) * 1000:.0f} ms, "
          f"p99 {waits[int(len(waits) * 0.99) - 1] * 1000:.0f} ms, slowest {waits[-1] * 1000:.0f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
