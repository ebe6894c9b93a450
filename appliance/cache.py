"""A small TTL cache with single-flight computing, for what is read far more often than it changes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable


class TTLCache:
    """key -> value for `ttl` seconds. One caller computes a missing or expired value while
    others asking for the same key wait for it (no stampede on the stores). Bounded: the
    oldest entries go first."""

    def __init__(self, ttl: float, max_entries: int = 1024, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._lock = threading.Lock()
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self._computing: dict[Hashable, threading.Lock] = {}

    def get_or_compute(self, key: Hashable, compute: Callable[[], object],
                       fresh: Callable[[object], bool] = lambda value: True):
        """The cached value while it is younger than the TTL and `fresh(value)` holds."""
        hit, value = self._lookup(key, fresh)
        if hit:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        with key_lock:
            hit, value = self._lookup(key, fresh)  # computed by another thread while we waited
            if hit:
                return value
            value = compute()
            with self._lock:
                if self.ttl > 0:
                    self._entries[key] = (self.clock() + self.ttl, value)
                    self._entries.move_to_end(key)
                    while len(self._entries) > self.max_entries:
                        self._entries.popitem(last=False)
                self._computing.pop(key, None)
            return value

    def _lookup(self, key: Hashable, fresh: Callable[[object], bool]) -> tuple[bool, object]:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None
            if entry[0] <= self.clock() or not fresh(entry[1]):
                del self._entries[key]
                return False, None
            return True, entry[1]

    def invalidate(self, match: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._entries if match(k)]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
