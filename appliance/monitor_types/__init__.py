"""The monitor types: one module each, declaring what the type takes, checks and shows
(base.MonitorType). Validation, the monitor object, the API's schemas, export/import, probes and
the checkers are all derived from this registry.

Adding a type: a module here with its TYPE (and a checker in appliance/checkers/), one line below,
and its tests. Imports are explicit (no loading by name) so PyInstaller sees every module.
"""

from __future__ import annotations

from appliance.checkers.base import Checker, CheckerContext
from appliance.monitor_types import domain, heartbeat, http, https, ping, sip, tcp
from appliance.monitor_types.base import MonitorType
from appliance.monitor_types.fields import BY_NAME as FIELDS_BY_NAME

TYPES: dict[str, MonitorType] = {t.name: t for t in (
    http.TYPE, https.TYPE, ping.TYPE, tcp.TYPE, sip.TYPE, domain.TYPE, heartbeat.TYPE)}
MONITOR_TYPES: tuple[str, ...] = tuple(TYPES)
POLLED_TYPES: tuple[str, ...] = tuple(name for name, t in TYPES.items() if t.polled)


def types_taking(option: str) -> tuple[str, ...]:
    """The types that take a per-type field, e.g. ("tcp", "sip") for port."""
    return tuple(name for name, t in TYPES.items() if option in t.options)


def build_checkers(context: CheckerContext, **shared) -> dict[str, Checker]:
    """type -> its checker, for every polled type. `shared`: the appliance's shared clients, e.g.
    whois= (one WHOIS cache for domain checks and the WHOIS tool)."""
    return {name: t.make_checker(context, shared) for name, t in TYPES.items() if t.make_checker is not None}


def _check_registry() -> None:
    for t in TYPES.values():
        for option in (*t.options, *t.required, *t.defaults):
            field = FIELDS_BY_NAME.get(option)
            if field is None or not field.per_type:
                raise ValueError(f"monitor type {t.name}: {option} is not a per-type field in fields.py")


_check_registry()
