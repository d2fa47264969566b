"""The schema: the SQLAlchemy `MetaData` and every table of the project database, with its version."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

SCHEMA_VERSION = 5
"""Bump with a new entry in `migrations._MIGRATIONS` whenever a table changes."""

metadata = MetaData()

schema_version = Table("schema_version", metadata, Column("version", Integer, nullable=False))

projects = Table(
    "projects",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("language", String(2), nullable=False),
    Column("company", String(500), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

stakeholders = Table(
    "stakeholders",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("name", String(120), nullable=False),
    Column("role", String(500), nullable=False, default=""),
)

turns = Table(
    "turns",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("speaker", String(20), nullable=False),
    Column("stakeholder_id", String(40)),
    Column("text", Text, nullable=False),
    Column("language", String(2), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("meta", JSON),
)

id_counters = Table(
    "id_counters",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("prefix", String(10), primary_key=True),
    Column("value", Integer, nullable=False),
)

objects = Table(
    "objects",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("id", String(40), primary_key=True),
    Column("type", String(30), nullable=False, index=True),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False),
    Column("deleted", Boolean, nullable=False, default=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

object_versions = Table(
    "object_versions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("object_id", String(40), nullable=False),
    Column("version", Integer, nullable=False),
    Column("data", JSON, nullable=False),
    Column("change", String(10), nullable=False),
    Column("changed_by", String(120), nullable=False),
    Column("turn_id", Integer),
    Column("changed_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "object_id", "version"),
)

section_versions = Table(
    "section_versions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False),
    Column("section", String(30), nullable=False),
    Column("version", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("state", String(20), nullable=False),
    Column("author", String(500), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("project_id", "section", "version"),
)

extractions = Table(
    "extractions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("turn_id", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("data", JSON),
    Column("error", Text, nullable=False, default=""),
    Column("error_kind", String(80), nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # v5: the table is the extraction queue, one row per answer (see `assistant.store.queue`).
    Column("attempts", Integer, nullable=False, default=0),
    Column("lease_token", String(64), nullable=False, default=""),
    Column("lease_expires_at", DateTime(timezone=True)),
    Column("available_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Index("uq_extractions_turn", "project_id", "turn_id", unique=True),
)
"""One row per stakeholder answer: its place in the extraction queue, its lease while a worker holds it, and its
outcome. `created_at` is when it was (last) queued; `started_at`/`finished_at` time the last attempt."""

model_usage = Table(
    "model_usage",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("turn_id", Integer),
    Column("purpose", String(40), nullable=False),
    Column("model", String(200), nullable=False),
    Column("prompt_tokens", Integer, nullable=False, default=0),
    Column("completion_tokens", Integer, nullable=False, default=0),
    Column("latency_ms", Integer, nullable=False, default=0),
    Column("ok", Boolean, nullable=False),
    Column("error", Text, nullable=False, default=""),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

# -- access control (v3): never exported, always deleted with the project ---------------------------------

project_access = Table(
    "project_access",
    metadata,
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), primary_key=True),
    Column("code_hash", String(255), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
"""One row per protected project: the argon2 hash of its access code (see `assistant.access`)."""

access_links = Table(
    "access_links",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
)
"""Stakeholder links: the SHA-256 of each random token, never the token itself."""

access_failures = Table(
    "access_failures",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("project_id", String(40), ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("failed_at", DateTime(timezone=True), nullable=False),
)
"""Wrong access codes, kept in the database so that the rate limit holds across processes and sessions."""
