"""Pure verdict logic: from one check result to a location's state, and from the locations'
states to the monitor's status. No I/O, no clock reads: the engine passes everything in.

Thresholds as data (as Gatus does): `retries` failures in a row are tolerated before a location
sees the monitor down; one success brings it back up unless `recovery_checks` asks for more.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

PENDING, UP, DOWN = "pending", "up", "down"


@dataclass(frozen=True)
class LocationState:
    status: str = PENDING
    failures: int = 0  # consecutive failed checks
    successes: int = 0  # consecutive successful checks


def step(state: LocationState, up: bool, retries: int, recovery_checks: int = 1) -> LocationState:
    """The location's state after one more check result."""
    if up:
        successes = state.successes + 1
        status = DOWN if state.status == DOWN and successes < recovery_checks else UP
        return LocationState(status, 0, successes)
    failures = state.failures + 1
    status = DOWN if failures > retries else state.status
    return LocationState(status, failures, 0)


def verdict(locations: Mapping[str, LocationState], quorum: float = 0.5) -> str:
    """The monitor's status: down when more than `quorum` of the locations that have a
    verdict see it down (or all of them do); otherwise up; pending before any verdict."""
    decided = [s.status for s in locations.values() if s.status != PENDING]
    if not decided:
        return PENDING
    down = sum(1 for s in decided if s == DOWN)
    return DOWN if down > quorum * len(decided) or down == len(decided) else UP


def is_alert(old: str, new: str) -> bool:
    """Transitions worth an incident and a notification: into down, and down back to up."""
    return new == DOWN or (old == DOWN and new == UP)
