"""MonitorSpec: the immutable view of a monitor's configuration that the engine and checkers use.

The engine keeps these in memory; a change through the API replaces the spec (never mutates it),
so a check already running keeps a consistent view.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MonitorSpec:
    id: int
    user_id: int
    name: str
    type: str
    target: str | None
    port: int | None = None
    ssl_check: bool = False
    check_locations: tuple[str, ...] = ("all",)
    interval: int = 60
    timeout: int = 10
    retries: int = 1
    recovery_checks: int = 1
    grace: int | None = None
    keyword: str | None = None
    expected_status: int | None = None
    is_active: bool = True

    @classmethod
    def from_model(cls, monitor) -> "MonitorSpec":
        return cls(
            id=monitor.id, user_id=monitor.user_id, name=monitor.name, type=monitor.type,
            target=monitor.target, port=monitor.port, ssl_check=monitor.ssl_check,
            check_locations=tuple(monitor.check_locations or ("all",)), interval=monitor.interval,
            timeout=monitor.timeout, retries=monitor.retries, recovery_checks=monitor.recovery_checks or 1,
            grace=monitor.grace,
            keyword=monitor.keyword, expected_status=monitor.expected_status,
            is_active=monitor.is_active,
        )

    def runs_at(self, location: str) -> bool:
        return "all" in self.check_locations or location in self.check_locations
