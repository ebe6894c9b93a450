"""A small TTL cache with single-flight computing, for what is read far more often than it changes."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Callable, Hashable


_MISSING = object()


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
                       fresh: Callable[[object], bool] = lambda value: True, stale_ok: bool = False):
        """The cached value while it is younger than the TTL and `fresh(value)` holds.

        stale_ok: a value past its TTL, but still fresh, is answered to everyone while one caller
        computes the next, so nobody queues behind a slow rebuild. (A value that is no longer
        fresh is never answered.)"""
        hit, value, stale = self._lookup(key, fresh)
        if hit:
            return value
        with self._lock:
            key_lock = self._computing.setdefault(key, threading.Lock())
        if stale_ok and stale is not _MISSING:
            if not key_lock.acquire(blocking=False):
                return stale  # another caller is computing the next one
        else:
            key_lock.acquire()
        try:
            hit, value, _ = self._lookup(key, fresh)  # computed by another thread while we waited
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
        finally:
            key_lock.release()

    def _lookup(self, key: Hashable, fresh: Callable[[object], bool]) -> tuple[bool, object, object]:
        """(hit, value, stale): stale is a value past its TTL but still fresh, else _MISSING."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return False, None, _MISSING
            if not fresh(entry[1]):
                del self._entries[key]
                return False, None, _MISSING
            if entry[0] <= self.clock():
                return False, None, entry[1]
            return True, entry[1], _MISSING

    def invalidate(self, match: Callable[[Hashable], bool]) -> None:
        with self._lock:
            for key in [k for k in self._entries if match(k)]:
                del self._entries[key]

    def __len__(self) -> int:
        return len(self._entries)
