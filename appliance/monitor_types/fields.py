"""Every field a monitor is configured with, written down once: its kind, range, default and
whether null may be sent. The API's request schemas, its validation, the monitor object, export
and import are all derived from this list (and from the types, which say which of the
type-specific fields each takes). Its order is the order of the fields on the wire.

A field also needs a column on models.Monitor, where it is stored.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MonitorField:
    name: str
    kind: str  # "int", "bool", "name" (a short text), "text", "target", "locations", "type"
    default: object = None  # filled in on create when the field is not given (None: none)
    nullable: bool = True  # whether null may be sent (on create and update)
    minimum: int | None = None
    maximum: int | None = None
    max_length: int | None = None
    per_type: bool = False  # taken only by the types that list it (MonitorType.options)
    checked: bool = False  # a checker reads it: probes are sent it with their assignments
    description: str = ""


FIELDS: tuple[MonitorField, ...] = (
    MonitorField("name", "name", nullable=False, max_length=200),
    MonitorField("type", "type", nullable=False),
    MonitorField("target", "target", max_length=2048, checked=True),
    MonitorField("port", "int", minimum=1, maximum=65535, per_type=True, checked=True),
    MonitorField("ssl_check", "bool", per_type=True, checked=True),
    MonitorField("check_locations", "locations", nullable=False),
    MonitorField("interval", "int", default=60, nullable=False, minimum=10, maximum=86400, checked=True),
    MonitorField("timeout", "int", default=10, nullable=False, minimum=1, maximum=120, checked=True),
    MonitorField("retries", "int", default=1, nullable=False, minimum=0, maximum=10, checked=True),
    MonitorField("recovery_checks", "int", nullable=False, minimum=1, maximum=10),
    MonitorField("reminder_minutes", "int", minimum=5, maximum=7 * 24 * 60),
    MonitorField("grace", "int", minimum=0, maximum=86400, per_type=True),
    MonitorField("keyword", "text", max_length=1000, per_type=True, checked=True),  # text: may span lines
    MonitorField("expected_status", "int", minimum=100, maximum=599, per_type=True, checked=True),
    MonitorField("is_active", "bool", default=True, nullable=False),
    MonitorField("public_status", "bool", default=False, nullable=False),
    MonitorField("group", "name", max_length=200,
                 description="The section of the public status page it is listed under, e.g. Website or API "
                             "(null: listed on its own)."),
)

BY_NAME = {f.name: f for f in FIELDS}
CONFIG_FIELDS = tuple(f.name for f in FIELDS)  # what a monitor is created, updated and exported with
NOT_NULL = tuple(f.name for f in FIELDS if not f.nullable)
CREATE_DEFAULTS = {f.name: f.default for f in FIELDS if f.default is not None}
PROBE_FIELDS = tuple(f.name for f in FIELDS if f.checked)  # what a probe is sent of each monitor
