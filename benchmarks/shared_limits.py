"""What cluster mode's shared rate limits cost per request: one UPSERT per limit and request
(appliance/storage/shared_limits.py) against a throwaway local PostgreSQL, next to flask-limiter's
in-memory counter. Run: PYTHONPATH=. python benchmarks/shared_limits.py"""

from __future__ import annotations

import time

from limits.storage import MemoryStorage

from appliance.storage.database import make_engine
from appliance.storage.shared_limits import SharedLimits
from tests.support.postgres import PostgresServer

ROUNDS = 3000


def timed(fn) -> tuple[float, float]:
    times = []
    for i in range(ROUNDS):
        start = time.perf_counter()
        fn(i)
        times.append(time.perf_counter() - start)
    times.sort()
    return times[len(times) // 2] * 1000, times[int(len(times) * 0.99)] * 1000


def main() -> None:
    server = PostgresServer().start()
    try:
        shared = SharedLimits(make_engine(server.create_database()))
        for _ in range(200):
            shared.hit("warm-up", 60)
        for label, fn in (("one user", lambda i: shared.hit("user:1", 60)),
                          ("1,000 users", lambda i: shared.hit(f"user:{i % 1000}", 60))):
            median, p99 = timed(fn)
            print(f"PostgreSQL, {label}: median {median:.3f} ms, p99 {p99:.3f} ms per hit")
        memory = MemoryStorage()
        median, p99 = timed(lambda i: memory.incr("user:1", 60))
        print(f"memory: median {median:.4f} ms, p99 {p99:.4f} ms per hit")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
