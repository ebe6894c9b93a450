"""Entity tables (SQLModel on SQLite). Check results live in DuckDB (storage/history.py), not here.

Ids use AUTOINCREMENT so a deleted monitor's id is never handed to a new one: history rows
and webhook deliveries refer to monitors by id.
"""

from __future__ import annotations

from datetime import datetime
from typing import Optional

from sqlalchemy import JSON, Column, ForeignKey, Integer
from sqlmodel import Field, SQLModel

from appliance.timeutil import utcnow

TIERS = ("free", "pro")

_AUTOINC = {"sqlite_autoincrement": True}


def _owner_fk(table: str) -> Column:
    return Column(Integer, ForeignKey(f"{table}.id", ondelete="CASCADE"), index=True, nullable=False)


class User(SQLModel, table=True):
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    email: str = Field(index=True, unique=True)
    full_name: str = ""
    password_hash: str
    subscription_tier: str = "free"
    is_admin: bool = False
    # Bumped on password change: tokens carry it, so older tokens stop working at once.
    token_version: int = 1
    status_page_slug: Optional[str] = Field(default=None, unique=True, index=True)
    company_name: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)


class Monitor(SQLModel, table=True):
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_fk("user"))
    name: str
    type: str
    target: Optional[str] = None
    port: Optional[int] = None
    ssl_check: bool = False
    check_locations: list = Field(default_factory=lambda: ["all"], sa_column=Column(JSON, nullable=False))
    interval: int = 60
    timeout: int = 10
    retries: int = 1
    recovery_checks: int = 1  # successes in a row before a down monitor is up again
    reminder_minutes: Optional[int] = None  # while down, send the down alert again this often
    grace: Optional[int] = None
    keyword: Optional[str] = None
    expected_status: Optional[int] = None
    is_active: bool = True
    public_status: bool = False
    group: Optional[str] = None  # the status page section it is listed under ("Website", "API")
    heartbeat_token: Optional[str] = Field(default=None, unique=True, index=True)
    # The confirmed verdict, written only when it changes (with a StateChange row in the same
    # transaction), so a restart neither forgets a down nor announces it again.
    status: str = "pending"
    status_since: Optional[datetime] = None
    # Heartbeat: the job's last call, or when the wait for it began (created, resumed); the
    # deadline is this + interval + grace, and survives restarts.
    heartbeat_since: Optional[datetime] = None
    last_alert_at: Optional[datetime] = None  # the last down alert (or reminder) sent
    # The certificate / registration expiry we already sent an "expiring" event for: one event
    # per expiry date, also across restarts; a renewal (new date) arms it again.
    ssl_expiry_notified: Optional[datetime] = None
    domain_expiry_notified: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


# Monitor columns the check engine writes (never a user's edit): a write of only these changes no
# monitor's configuration, so it neither drops the monitor snapshot (EntityStore) nor moves the
# cluster's change counter (storage/cluster.py).
ENGINE_COLUMNS = ("status", "status_since", "last_alert_at", "heartbeat_since", "ssl_expiry_notified",
                  "domain_expiry_notified")


class StateChange(SQLModel, table=True):
    """One confirmed up/down transition: the outbox the webhook dispatcher drains."""

    __tablename__ = "state_change"
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    monitor_id: int = Field(sa_column=_owner_fk("monitor"))
    created_at: datetime = Field(default_factory=utcnow, index=True)
    old_status: str
    new_status: str
    event: str  # monitor.down, monitor.up, ssl.expiring, domain.expiring, ...
    details: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    processed_at: Optional[datetime] = Field(default=None, index=True)


class Incident(SQLModel, table=True):
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    monitor_id: int = Field(sa_column=_owner_fk("monitor"))
    started_at: datetime
    resolved_at: Optional[datetime] = None
    cause: str = ""
    locations: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


# The kinds of notification channel ("format"): the first three POST JSON to `url`; email sends
# through an SMTP server (`settings`), apprise reaches any service Apprise knows (`url`).
WEBHOOK_FORMATS = ("generic", "slack", "discord", "email", "apprise")
HTTP_FORMATS = ("generic", "slack", "discord")
WEBHOOK_EVENTS = ("monitor.down", "monitor.up", "ssl.expiring", "domain.expiring", "anomaly.detected")


class Webhook(SQLModel, table=True):
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_fk("user"))
    url: str
    format: str = "generic"
    events: list = Field(default_factory=lambda: list(WEBHOOK_EVENTS), sa_column=Column(JSON, nullable=False))
    secret: str
    # The channel's own settings beyond `url` (email: the SMTP server and addresses).
    settings: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    enabled: bool = True
    # Set after repeated permanent errors (4xx answers); cleared by the next successful delivery.
    failing: bool = False
    permanent_failures: int = 0
    created_at: datetime = Field(default_factory=utcnow)


class Delivery(SQLModel, table=True):
    """One event for one webhook: the exact body is fixed when the event is fanned out, so every
    retry sends (and signs) the same bytes."""

    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    webhook_id: int = Field(sa_column=_owner_fk("webhook"))
    # The outbox row (StateChange) it announces: an incident's timeline lists its notifications.
    # None for test messages and deliveries made before this column existed.
    state_change_id: Optional[int] = Field(default=None, index=True)
    uuid: str = Field(index=True, unique=True)  # X-StatusCore-Delivery: receivers may deduplicate on it
    event: str
    # Which monitor the event is about, as named then (the monitor may be renamed or deleted
    # later); none for a test message.
    monitor_id: Optional[int] = None
    monitor_name: Optional[str] = None
    body: str
    state: str = Field(default="pending", index=True)  # pending, delivered, failed
    attempts: int = 0
    next_attempt_at: datetime = Field(default_factory=utcnow)
    # A claim (compare-and-set) by the dispatcher while it sends; released at start-up.
    claimed_until: Optional[datetime] = None
    last_status_code: Optional[int] = None
    last_error: Optional[str] = None
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: Optional[datetime] = None


class DeliveryAttempt(SQLModel, table=True):
    __tablename__ = "delivery_attempt"
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    delivery_id: int = Field(sa_column=_owner_fk("delivery"))
    at: datetime = Field(default_factory=utcnow)
    status_code: Optional[int] = None
    error: Optional[str] = None
    duration_ms: int = 0


class Probe(SQLModel, table=True):
    """A remote location: the same program in probe mode, authenticated by a token (hashed here)."""

    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(index=True, unique=True)  # the location name used in check_locations
    display_name: str
    token_hash: str = Field(index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_seen_at: Optional[datetime] = None


class AnomalyRecord(SQLModel, table=True):
    """An anomaly the detector reported (insights/detector.py), one per episode."""

    __tablename__ = "anomaly"
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    monitor_id: int = Field(sa_column=_owner_fk("monitor"))
    location: str
    detected_at: datetime = Field(index=True)
    kind: str
    value: float
    baseline: float
    severity: str
    message: str
    acknowledged: bool = Field(default=False, index=True)
    acknowledged_at: Optional[datetime] = None


class DetectorState(SQLModel, table=True):
    """The anomaly detector's learned baseline per (monitor, location), saved periodically so a
    restart does not start the learning over."""

    __tablename__ = "detector_state"
    monitor_id: int = Field(sa_column=Column(Integer, ForeignKey("monitor.id", ondelete="CASCADE"),
                                             primary_key=True))
    location: str = Field(primary_key=True)
    data: dict = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class ApiKey(SQLModel, table=True):
    """A named, revocable key for scripts (`Authorization: Bearer sc_...`), stored hashed."""

    __tablename__ = "api_key"
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_fk("user"))
    name: str
    scope: str = "read"  # read | write
    prefix: str  # the first characters, to tell keys apart in a list
    key_hash: str = Field(index=True, unique=True)
    created_at: datetime = Field(default_factory=utcnow)
    last_used_at: Optional[datetime] = None


class Maintenance(SQLModel, table=True):
    """A maintenance window for some of a user's monitors: one-off (starts_at..ends_at) or
    weekly (`recurring`: weekdays, start "HH:MM", duration_minutes, timezone)."""

    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    user_id: int = Field(sa_column=_owner_fk("user"))
    name: str
    monitor_ids: list = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    starts_at: Optional[datetime] = None
    ends_at: Optional[datetime] = None
    recurring: Optional[dict] = Field(default=None, sa_column=Column(JSON, nullable=True))
    notice: Optional[str] = None  # set: the window is announced on the public status page with this text
    created_at: datetime = Field(default_factory=utcnow)


INCIDENT_UPDATE_STATUSES = ("investigating", "identified", "monitoring", "resolved")


class IncidentUpdate(SQLModel, table=True):
    """A note the owner posts on an incident for visitors of the status page (Statuspage's
    incident updates): where the work stands, in words. The incident itself still opens and
    resolves by the checks."""

    __tablename__ = "incident_update"
    __table_args__ = _AUTOINC
    id: Optional[int] = Field(default=None, primary_key=True)
    incident_id: int = Field(sa_column=_owner_fk("incident"))
    status: str  # INCIDENT_UPDATE_STATUSES
    message: str
    created_at: datetime = Field(default_factory=utcnow, index=True)
