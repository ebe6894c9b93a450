"""Query parameters, checked: a bad one is a 400 naming it, never a 500."""

from __future__ import annotations

from datetime import datetime

from flask import request
from pydantic import TypeAdapter, ValidationError

from server.errors import ApiError
from server.schemas import UtcTime

_TIME = TypeAdapter(UtcTime)


def int_arg(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name)
    if raw is None:
        return default
    text = raw.strip()
    digits = text.removeprefix("-")
    if not (digits.isascii() and digits.isdigit()):  # isdigit() alone takes "²", which int() refuses
        raise ApiError(400, f"Query parameter {name} must be a whole number.", {name: "not a number"})
    value = int(text) if len(digits) <= 18 else None  # longer: out of range (and int() caps digits)
    if value is None or not low <= value <= high:
        raise ApiError(400, f"Query parameter {name} must be between {low} and {high}.",
                       {name: f"must be {low}-{high}"})
    return value


def bool_arg(name: str) -> bool | None:
    """`true` or `false`; None when not given."""
    raw = request.args.get(name)
    if raw is None:
        return None
    value = {"true": True, "false": False}.get(raw.strip().lower())
    if value is None:
        raise ApiError(400, f"Query parameter {name} must be true or false.", {name: "not true or false"})
    return value


def time_arg(name: str) -> datetime | None:
    """An ISO 8601 time with an offset (e.g. 2024-01-15T10:30:00Z), in UTC; None when not given."""
    raw = request.args.get(name)
    if raw is None:
        return None
    try:
        return _TIME.validate_python(raw.strip())
    except ValidationError:
        raise ApiError(400, f"Query parameter {name} must be an ISO 8601 time with an offset, "
                            "e.g. 2024-01-15T10:30:00Z.", {name: "not an ISO 8601 time with an offset"}) from None
