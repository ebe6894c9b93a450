"""Slots: at most `total` holders at once, and at most `per_key` of them with one key (a user).

Nobody waits for a slot: a caller beyond either limit gets SlotsBusy at once, so a request thread
is never parked behind someone else's work (it answers "try again shortly" instead).
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Hashable


class SlotsBusy(Exception):
    def __init__(self, per_key: bool, limit: int):
        super().__init__(f"at most {limit} at a time{' per user' if per_key else ''}")
        self.per_key = per_key  # True: the caller's own slots are taken; False: all of them
        self.limit = limit


class Slots:
    def __init__(self, total: int, per_key: int):
        if not 1 <= per_key <= total:
            raise ValueError("need 1 <= per_key <= total")
        self.total, self.per_key = total, per_key
        self._lock = threading.Lock()
        self._held: Counter = Counter()

    def hold(self, key: Hashable) -> "_Held":
        """A slot for `key`, released when the `with` block on the result ends; SlotsBusy at once
        when `key` has per_key slots or all are taken."""
        with self._lock:
            if self._held[key] >= self.per_key:
                raise SlotsBusy(True, self.per_key)
            if sum(self._held.values()) >= self.total:
                raise SlotsBusy(False, self.total)
            self._held[key] += 1
        return _Held(self, key)

    def in_use(self) -> int:
        with self._lock:
            return sum(self._held.values())

    def _release(self, key: Hashable) -> None:
        with self._lock:
            self._held[key] -= 1
            if not self._held[key]:
                del self._held[key]


class _Held:
    def __init__(self, slots: Slots, key: Hashable):
        self._slots, self._key = slots, key

    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc) -> None:
        self._slots._release(self._key)
