"""Schema upgrades of the entity store, one place for SQLite and PostgreSQL.

Tables missing are created from the models; columns added to a model since the database was
created are added to its table (new columns are always nullable or have a default). The DDL is
compiled for the engine's dialect, so the same models give the same schema on both.
"""

from __future__ import annotations

from sqlalchemy import inspect
from sqlalchemy.engine import Connection, Engine
from sqlmodel import SQLModel


def upgrade(engine: Engine) -> None:
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # appliances starting together: one upgrades, the others wait
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('statuscore.entities.schema'))")
        SQLModel.metadata.create_all(conn)
        add_missing_columns(conn)


def add_missing_columns(conn: Connection) -> None:
    inspector = inspect(conn)
    dialect = conn.dialect
    preparer = dialect.identifier_preparer
    for table in SQLModel.metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            ddl = column.type.compile(dialect=dialect)
            default = column.default.arg if column.default is not None and column.default.is_scalar else None
            clause = f" DEFAULT {_sql_literal(default, dialect.name)}" if default is not None else ""
            conn.exec_driver_sql(f"ALTER TABLE {preparer.quote(table.name)} "
                                 f"ADD COLUMN {preparer.quote(column.name)} {ddl}{clause}")


def _sql_literal(value, dialect: str) -> str:
    if isinstance(value, bool):  # SQLite keeps booleans as 0/1; PostgreSQL has a boolean type
        if dialect == "postgresql":
            return "TRUE" if value else "FALSE"
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"
