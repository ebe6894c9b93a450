"""Where the entity store lives: a SQLite file (the default) or a PostgreSQL database
(STATUSCORE_DATABASE_URL), and the SQLAlchemy engine for either.

The URL is the one libpq takes (postgresql://user:password@host:port/dbname?sslmode=...;
postgresql+psycopg:// is accepted too). SQLAlchemy gets it with the psycopg 3 driver named;
the PostgreSQL history store hands it to psycopg as is.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

SCHEMES = ("postgresql", "postgres", "postgresql+psycopg")


def is_postgres(target: Path | str) -> bool:
    return isinstance(target, str) and target.split("://", 1)[0] in SCHEMES and "://" in target


def libpq_url(url: str) -> str:
    """postgresql://... as psycopg.connect takes it."""
    return "postgresql://" + url.split("://", 1)[1]


def sqlalchemy_url(url: str) -> str:
    return "postgresql+psycopg://" + url.split("://", 1)[1]


def redacted(url: str) -> str:
    """The URL without its password, for logs and doctor."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(":" + parts.password + "@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def check_url(url: str) -> str | None:
    """Why a STATUSCORE_DATABASE_URL cannot be used, or None."""
    if not is_postgres(url):
        return "it must start with postgresql:// (e.g. postgresql://statuscore:PASSWORD@db.example:5432/statuscore)"
    parts = urlsplit(url)
    if not parts.path.strip("/"):
        return "it names no database; end it with /DBNAME"
    try:
        parts.port  # noqa: B018 - raises on a bad port
    except ValueError:
        return "its port is not a number from 1 to 65535"
    return None


def make_engine(target: Path | str) -> Engine:
    """The engine for a SQLite file path or a PostgreSQL URL, set up for that dialect."""
    if is_postgres(target):
        # Times are stored as naive UTC (as on SQLite): a session in UTC makes PostgreSQL read the
        # aware datetimes we bind as that, whatever the server's own time zone is.
        return create_engine(sqlalchemy_url(str(target)), pool_size=10, max_overflow=30, pool_pre_ping=True,
                             connect_args={"options": "-c timezone=UTC", "connect_timeout": 10})
    engine = create_engine(f"sqlite:///{Path(target)}", connect_args={"check_same_thread": False, "timeout": 15})
    event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: sqlite3.Connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()
