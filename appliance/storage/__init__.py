"""Storage: entities in SQLite (entities.py), check results in DuckDB (history.py)."""


class HistoryUnavailable(RuntimeError):
    """The history file cannot be opened; the message says why and what to do. (Here, not in
    history.py, so the CLI can catch it without importing DuckDB for every command.)"""


def storage_error(exc: BaseException) -> str:
    """What a store refused, on one line (for a log line or an API error): the driver's own
    message (e.g. "database or disk is full") without SQLAlchemy's statement and help link."""
    orig = getattr(exc, "orig", None)  # SQLAlchemy wraps the driver's exception
    text = str(orig if orig is not None else exc) or type(exc).__name__
    return " ".join(text.split())[:500]
