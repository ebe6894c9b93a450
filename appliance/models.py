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

MONITOR_TYPES = ("http", "https", "ping", "tcp", "sip", "domain", "heartbeat")
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
    grace: Optional[int] = None
    keyword: Optional[str] = None
    expected_status: Optional[int] = None
    is_active: bool = True
    public_status: bool = False
    heartbeat_token: Optional[str] = Field(default=None, unique=True, index=True)
    # The confirmed verdict, written only when it changes (with a StateChange row in the same
    # transaction), so a restart neither forgets a down nor announces it again.
    status: str = "pending"
    status_since: Optional[datetime] = None
    # Heartbeat: the job's last call, or when the wait for it began (created, resumed); the
    # deadline is this + interval + grace, and survives restarts.
    heartbeat_since: Optional[datetime] = None
    # The certificate / registration expiry we already sent an "expiring" event for: one event
    # per expiry date, also across restarts; a renewal (new date) arms it again.
    ssl_expiry_notified: Optional[datetime] = None
    domain_expiry_notified: Optional[datetime] = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


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
