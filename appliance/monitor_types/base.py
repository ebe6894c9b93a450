"""What a monitor type is: everything the rest of the appliance needs to know about one kind of
monitor, declared in that type's own module (appliance/monitor_types/<name>.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping

from appliance.checkers.base import Checker, CheckerContext


@dataclass(frozen=True)
class MonitorType:
    name: str
    summary: str  # what "up" means, in one sentence (docs)
    # Checks and normalises a target: (target as stored, port it names or None); raises ValueError
    # with the problem in words. None: the type has no target (the monitored job calls us).
    parse_target: Callable[[str], tuple[str, int | None]] | None
    target_hint: str | None = None  # what a target looks like, for forms ("http://example.com/health")
    options: tuple[str, ...] = ()  # the per-type fields (fields.py) it takes
    required: tuple[str, ...] = ()  # ... and of those, the ones it cannot do without
    defaults: Mapping[str, object] = field(default_factory=dict)  # per-type fields' values when not given
    shown: tuple[str, ...] = ()  # keys only its monitor objects carry (options, and heartbeat_url)
    # Live details its checks report and its objects show: key -> the bool field that must be on
    # for it (None: always), e.g. {"ssl": "ssl_check"}.
    details: Mapping[str, str | None] = field(default_factory=dict)
    pushed: bool = False  # the monitored job calls us: checked at a deadline, never polled nor by probes
    # Builds its checker: (context, shared) -> Checker; shared holds the appliance's shared clients
    # (e.g. "whois"). None for pushed types, whose "checker" the appliance feeds itself.
    make_checker: Callable[[CheckerContext, Mapping[str, object]], Checker] | None = None

    @property
    def polled(self) -> bool:
        return not self.pushed
