"""The checker interface: one module per monitor type, each a Checker with check(spec) -> CheckResult.

A checker never raises for a failing target: every failure is a CheckResult with up=False and
an error a person can read. It must finish within spec.timeout (plus a little), whatever the
peer does, and read a bounded amount.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class CheckResult:
    up: bool
    response_time_ms: float | None = None
    error: str | None = None
    details: dict = field(default_factory=dict)

    @classmethod
    def failure(cls, error: str, response_time_ms: float | None = None, **details) -> "CheckResult":
        return cls(up=False, response_time_ms=response_time_ms, error=error, details=details)


@dataclass(frozen=True)
class CheckerContext:
    """What checkers may need from the settings; the probe builds one too."""

    source_address: str | None = None  # bind outgoing checks to this local address (probes)
    ca_file: str | None = None  # extra CA certificates to trust (private CAs, tests)
    dns_servers: tuple[str, ...] = ()
    whois_server: str | None = None


class Checker(Protocol):
    def check(self, spec) -> CheckResult: ...
