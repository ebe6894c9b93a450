"""LiveState: each monitor's current state, kept in memory so checks never touch SQLite.

Only confirmed transitions reach the entity store (runner.py); the rest is rebuilt after a
restart from the stored status and the newest stored results.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime

from appliance.state import LocationState


@dataclass(frozen=True)
class LiveState:
    status: str = "pending"
    locations: dict[str, LocationState] = field(default_factory=dict)
    last_check: datetime | None = None
    response_time: float | None = None
    last_error: str | None = None
    details: dict = field(default_factory=dict)

    @property
    def location_status(self) -> dict[str, str]:
        return {name: state.status for name, state in sorted(self.locations.items())}


class LiveStates:
    """Thread-safe map monitor_id -> LiveState; states are immutable and replaced whole."""

    def __init__(self):
        self._lock = threading.Lock()
        self._states: dict[int, LiveState] = {}

    def get(self, monitor_id: int) -> LiveState:
        return self._states.get(monitor_id) or LiveState()

    def set(self, monitor_id: int, state: LiveState) -> None:
        with self._lock:
            self._states[monitor_id] = state

    def update(self, monitor_id: int, fn) -> tuple[LiveState, LiveState]:
        """Atomically replace a state with fn(old); returns (old, new)."""
        with self._lock:
            old = self._states.get(monitor_id) or LiveState()
            new = fn(old)
            self._states[monitor_id] = new
            return old, new

    def reset(self, monitor_id: int, status: str = "pending") -> None:
        with self._lock:
            self._states[monitor_id] = LiveState(status=status)

    def discard(self, monitor_id: int) -> None:
        with self._lock:
            self._states.pop(monitor_id, None)


__all__ = ["LiveState", "LiveStates", "replace"]
