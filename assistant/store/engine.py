"""What depends on the database engine: SQLite connection settings, lock errors, dialect inserts, URL redaction."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Table
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError


def is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text or "deadlock detected" in text


def insert_if_absent(conn: Connection, table: Table, **values: Any) -> Any:
    """An insert that does nothing when the row's key already exists (SQLite and PostgreSQL, the two engines)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert(table).values(**values).on_conflict_do_nothing()
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table).values(**values).on_conflict_do_nothing()


def sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers work while one writer commits; busy_timeout makes a second writer wait, not fail.
    dbapi_connection.isolation_level = None  # let SQLAlchemy's explicit BEGIN IMMEDIATE control transactions
    cursor = dbapi_connection.cursor()
    # busy_timeout first: switching a new file to WAL takes a lock too, and a second process opening the file at
    # that moment should wait for it like any writer rather than fail with `database is locked`.
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"
