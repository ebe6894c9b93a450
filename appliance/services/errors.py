"""What a use case refuses, in words a person can act on. The HTTP skin maps each to a status
(server/errors.py); the services never know about HTTP."""

from __future__ import annotations

import duckdb
import psycopg
from sqlalchemy.exc import OperationalError

from appliance.storage import storage_error
from appliance.storage.history import HistoryWriteError

# The stores refusing a write (a full disk, a failing device, a busy database, a PostgreSQL server
# restarting): what happened is not the caller's fault and may pass; `describe_store_error` says it
# in one line.
STORE_REFUSALS = (OperationalError, HistoryWriteError, duckdb.IOException, psycopg.OperationalError)
describe_store_error = storage_error


class ServiceError(Exception):
    def __init__(self, message: str, details: dict | None = None):
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(ServiceError):
    """Not there, or not the caller's (never said which)."""

    def __init__(self, what: str = "monitor"):
        super().__init__(f"{what} not found")

    @classmethod
    def said(cls, message: str) -> "NotFound":
        """Not found, in a sentence of the caller's."""
        found = cls()
        found.message = message
        return found


class Invalid(ServiceError):
    """The input breaks a rule; details name the fields."""


class Conflict(ServiceError):
    """It clashes with what exists (a taken name, slug or email)."""


class Forbidden(ServiceError):
    """The caller may not do this (plan, role, key scope)."""


class Unavailable(ServiceError):
    """The appliance cannot do it now (busy, or missing a permission); trying later may work."""


class UpstreamFailed(ServiceError):
    """Another system this needed (a WHOIS server, a traced host) failed."""


class UpstreamTimeout(ServiceError):
    """Another system this needed did not answer in time."""
