"""Schema creation and upgrades: one step per schema version, run in order over a `Connection`."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, insert, inspect, select, text
from sqlalchemy.engine import Connection

from assistant.errors import StoreError
from assistant.store.tables import (
    SCHEMA_VERSION,
    access_failures,
    access_links,
    extractions,
    metadata,
    project_access,
    schema_version,
)

_V1_TABLES = (
    "projects",
    "stakeholders",
    "turns",
    "id_counters",
    "objects",
    "object_versions",
    "section_versions",
    "model_usage",
)


def _create_v1(conn: Connection) -> None:
    # Tables are created in their current shape; later steps therefore check before they alter.
    metadata.create_all(conn, tables=[metadata.tables[name] for name in _V1_TABLES])


def _add_turn_meta_and_extractions(conn: Connection) -> None:
    """v2: what each turn was about (the slot asked or answered) and the log of extraction attempts."""
    if "meta" not in {column["name"] for column in inspect(conn).get_columns("turns")}:
        conn.execute(text("ALTER TABLE turns ADD COLUMN meta JSON"))
    extractions.create(conn, checkfirst=True)


def _add_access_tables(conn: Connection) -> None:
    """v3: access codes, stakeholder links and the log of wrong codes."""
    for table in (project_access, access_links, access_failures):
        table.create(conn, checkfirst=True)


def _add_extraction_error_kind(conn: Connection) -> None:
    """v4: the type of error a failed extraction raised, in its own column (it was the start of `error`)."""
    if "error_kind" in {column["name"] for column in inspect(conn).get_columns("extractions")}:
        return
    conn.execute(text("ALTER TABLE extractions ADD COLUMN error_kind VARCHAR(80) NOT NULL DEFAULT ''"))
    # Older rows wrote `ErrorType: message`; split them so that every reader sees the same record.
    rows = conn.execute(select(extractions.c.seq, extractions.c.error).where(extractions.c.error != "")).all()
    for row in rows:
        kind, colon, message = row.error.partition(":")
        if colon and kind.strip().isidentifier():
            conn.execute(
                extractions.update()
                .where(extractions.c.seq == row.seq)
                .values(error_kind=kind.strip(), error=message.strip())
            )


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _create_v1,
    2: _add_turn_meta_and_extractions,
    3: _add_access_tables,
    4: _add_extraction_error_kind,
}
"""Version reached → step that reaches it from the previous version."""


def migrate(conn: Connection) -> None:
    """Bring the database from the schema version it records up to `SCHEMA_VERSION`, one step per version."""
    schema_version.create(conn, checkfirst=True)
    current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
    if current > SCHEMA_VERSION:
        raise StoreError(
            f"the database is at schema version {current}, newer than this Cahier ({SCHEMA_VERSION}); upgrade Cahier"
        )
    for version in range(current + 1, SCHEMA_VERSION + 1):
        _MIGRATIONS[version](conn)
        conn.execute(insert(schema_version).values(version=version))
