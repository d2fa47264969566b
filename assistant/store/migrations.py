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


_QUEUE_COLUMNS = ("attempts", "lease_token", "lease_expires_at", "available_at", "started_at", "finished_at")


def _make_extractions_a_queue(conn: Connection) -> None:
    """v5: the extraction log becomes the queue: one row per answer (the newest state of each is kept), with
    its attempts, lease and timing, and a unique key on the answer."""
    present = {column["name"] for column in inspect(conn).get_columns("extractions")}
    for name in _QUEUE_COLUMNS:
        if name in present:
            continue
        column = extractions.c[name]
        kind = column.type.compile(dialect=conn.dialect)
        default = {"attempts": " NOT NULL DEFAULT 0", "lease_token": " NOT NULL DEFAULT ''"}.get(name, "")
        conn.execute(text(f"ALTER TABLE extractions ADD COLUMN {name} {kind}{default}"))
    newest = select(func.max(extractions.c.seq)).group_by(extractions.c.project_id, extractions.c.turn_id)
    conn.execute(extractions.delete().where(extractions.c.seq.not_in(newest)))
    if "uq_extractions_turn" not in {index["name"] for index in inspect(conn).get_indexes("extractions")}:
        next(index for index in extractions.indexes if index.name == "uq_extractions_turn").create(conn)


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _create_v1,
    2: _add_turn_meta_and_extractions,
    3: _add_access_tables,
    4: _add_extraction_error_kind,
    5: _make_extractions_a_queue,
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
