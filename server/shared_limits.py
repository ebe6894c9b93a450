"""flask-limiter's storage in cluster mode: the fixed-window counters of every node in PostgreSQL
(appliance/storage/shared_limits.py), so behind a load balancer the budget is the cluster's.

One round trip per limit and request: flask-limiter's fixed window counts with incr() and then
reads the same window back for the X-RateLimit headers (get, get_expiry); the count and end that
incr() returned answer those reads, on the same thread within a second, instead of two more
queries. Registered by its scheme (limits' storage registry) when this module is imported.
"""

from __future__ import annotations

import logging
import threading
import time

from limits.storage import Storage

log = logging.getLogger("statuscore.api")

SCHEME = "statuscore-shared"
FRESH_SECONDS = 1.0  # how long a count this thread just made answers the header reads


class SharedStorage(Storage):
    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, counters=None, **options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)
        if counters is None:
            raise ValueError(f"{SCHEME}:// needs the cluster's counters (storage_options={{'counters': ...}})")
        self.counters = counters
        self._just = threading.local()  # key -> (count, ends, monotonic time) of this thread's last hits

    @property
    def base_exceptions(self) -> type[Exception]:
        return Exception

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        count, ends = self.counters.hit(key, expiry, amount)
        recent = getattr(self._just, "hits", None)
        if recent is None or len(recent) > 8:
            recent = self._just.hits = {}
        recent[key] = (count, ends, time.monotonic())
        return count

    def _window(self, key: str) -> tuple[int, float]:
        just = getattr(self._just, "hits", {}).get(key)
        if just is not None and time.monotonic() - just[2] < FRESH_SECONDS:
            return just[0], just[1]
        return self.counters.window(key)

    def get(self, key: str) -> int:
        return self._window(key)[0]

    def get_expiry(self, key: str) -> float:
        return self._window(key)[1]

    def check(self) -> bool:
        try:
            return self.counters.ping()
        except Exception as exc:  # flask-limiter asks while it counts in memory: not yet
            log.debug("rate-limit counters still unreachable (%s)", exc)
            return False

    def reset(self) -> int | None:
        return self.counters.reset()

    def clear(self, key: str) -> None:
        self.counters.clear(key)
        getattr(self._just, "hits", {}).pop(key, None)
