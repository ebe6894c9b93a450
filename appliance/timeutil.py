"""UTC time helpers: one format on the wire (ISO 8601 with Z), aware datetimes inside."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite and DuckDB hand back naive datetimes; they are always stored as UTC."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def naive_utc(value: datetime) -> datetime:
    """The form stored in DuckDB TIMESTAMP columns."""
    return as_utc(value).replace(tzinfo=None)


def iso(value: datetime | None, millis: bool = False) -> str | None:
    """`2024-01-15T10:30:00Z` (or with `.000` milliseconds, as the webhook payload has)."""
    if value is None:
        return None
    value = as_utc(value)
    if millis:
        return value.replace(tzinfo=None).isoformat(timespec="milliseconds") + "Z"
    return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"  # isoformat: C, fast


def parse_iso(text: str) -> datetime:
    """Parse an ISO 8601 timestamp; a missing offset means UTC."""
    return as_utc(datetime.fromisoformat(text.replace("Z", "+00:00")))
