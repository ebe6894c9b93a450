"""Storage: entities in SQLite (entities.py), check results in DuckDB (history.py)."""
