"""Persistence of projects, turns, extracted objects and draft versions through SQLAlchemy.

SQLite (one file in the data dir) is the default; any PostgreSQL URL works through the same code. Turns,
object versions and section versions are append-only: nothing a stakeholder said or a reviewer wrote is ever
updated in place, so every state of the specification can be shown again.
"""

from __future__ import annotations

import re
import secrets
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from assistant.errors import InputError, NotFoundError, StaleWriteError, StoreError
from assistant.schemas import (
    MAX_TURN_CHARS,
    OBJECT_TYPES,
    DraftSection,
    Language,
    ObjectVersion,
    Project,
    Requirement,
    SectionId,
    Speaker,
    Stakeholder,
    Tracked,
    Turn,
    type_name,
)

SCHEMA_VERSION = 3
"""Bump with a new entry in `_MIGRATIONS` whenever a table changes."""

_TURN_COUNTER = "TURN"
"""Turns are numbered 1, 2, 3… within each project, so an exported project imports anywhere unchanged."""

T = TypeVar("T", bound=Tracked)

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
    Column("created_at", DateTime(timezone=True), nullable=False),
)

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


_MIGRATIONS: dict[int, Callable[[Connection], None]] = {
    1: _create_v1,
    2: _add_turn_meta_and_extractions,
    3: _add_access_tables,
}
"""Version reached → step that reaches it from the previous version."""


def _now() -> datetime:
    return datetime.now(UTC)


def _aware(value: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _is_lock_error(exc: OperationalError) -> bool:
    text = str(exc.orig).lower()
    return "database is locked" in text or "database is busy" in text or "deadlock detected" in text


class Store:
    """The project database. Thread-safe: each call runs in its own short transaction.

    Args:
        url: a SQLAlchemy URL (``sqlite:///path`` or ``postgresql+psycopg://…``).
    """

    LOCK_RETRIES = 8

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(url, pool_pre_ping=True)
        except (SQLAlchemyError, ImportError, ValueError) as exc:
            raise StoreError(f"cannot open database {_redact(url)!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._migrate()

    @classmethod
    def from_settings(cls, settings: Any) -> Store:
        return cls(settings.resolved_database_url)

    def close(self) -> None:
        self.engine.dispose()

    # -- plumbing -------------------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[Connection]:
        """A write transaction; SQLite takes its write lock at the start so that writers queue up."""
        with self.engine.connect() as conn:
            if self.engine.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                conn.begin()
            try:
                yield conn
                conn.commit()
            except BaseException:
                conn.rollback()
                raise

    def _write(self, work: Callable[[Connection], Any]) -> Any:
        """Run `work` in a transaction, retrying while another writer holds the lock."""
        for attempt in range(self.LOCK_RETRIES):
            try:
                with self._tx() as conn:
                    return work(conn)
            except OperationalError as exc:
                if not _is_lock_error(exc) or attempt == self.LOCK_RETRIES - 1:
                    raise StoreError(f"database write failed: {exc.orig}") from exc
                time.sleep(0.05 * 2**attempt)
        raise AssertionError("unreachable")

    def _read(self, work: Callable[[Connection], Any]) -> Any:
        try:
            with self.engine.connect() as conn:
                return work(conn)
        except OperationalError as exc:
            raise StoreError(f"database read failed: {exc.orig}") from exc

    def _migrate(self) -> None:
        def work(conn: Connection) -> None:
            schema_version.create(conn, checkfirst=True)
            current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
            if current > SCHEMA_VERSION:
                raise StoreError(
                    f"the database is at schema version {current}, newer than this Cahier ({SCHEMA_VERSION}); "
                    "upgrade Cahier"
                )
            for version in range(current + 1, SCHEMA_VERSION + 1):
                _MIGRATIONS[version](conn)
                conn.execute(insert(schema_version).values(version=version))

        try:
            self._write(work)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare database {_redact(self.url)!r}: {exc}") from exc

    def schema_version(self) -> int:
        return self._read(lambda conn: conn.execute(select(func.max(schema_version.c.version))).scalar() or 0)

    @staticmethod
    def _next_number(conn: Connection, project_id: str, prefix: str) -> int:
        increment = (
            update(id_counters)
            .where(id_counters.c.project_id == project_id, id_counters.c.prefix == prefix)
            .values(value=id_counters.c.value + 1)
            .returning(id_counters.c.value)
        )
        row = conn.execute(increment).first()
        if row is None:
            # Two first writers can both find no counter. On PostgreSQL a plain insert made the second one fail
            # with a unique-key violation; "insert if absent" makes it wait for the first to commit, do nothing,
            # and count on from the first one's number.
            conn.execute(_insert_if_absent(conn, id_counters, project_id=project_id, prefix=prefix, value=0))
            row = conn.execute(increment).one()
        return row[0]

    @classmethod
    def _next_id(cls, conn: Connection, project_id: str, prefix: str) -> str:
        return f"{prefix}-{cls._next_number(conn, project_id, prefix):03d}"

    def _require_project(self, conn: Connection, project_id: str) -> Any:
        row = conn.execute(select(projects).where(projects.c.id == project_id)).first()
        if row is None:
            raise NotFoundError("project", project_id)
        return row

    # -- projects -------------------------------------------------------------------------------------

    def create_project(self, name: str, language: Language | str = Language.FR, company: str = "") -> Project:
        _check_text("name", name)
        _check_text("company", company)
        project = _validated(
            Project, "project", id=f"p{secrets.token_hex(6)}", name=name, language=language, company=company
        )
        self._write(lambda conn: conn.execute(insert(projects).values(**project.model_dump())))
        return project

    def get_project(self, project_id: str) -> Project:
        row = self._read(lambda conn: self._require_project(conn, project_id))
        return _project_from_row(row)

    def list_projects(self) -> list[Project]:
        rows = self._read(lambda conn: conn.execute(select(projects).order_by(projects.c.created_at)).all())
        return [_project_from_row(row) for row in rows]

    def update_project(self, project_id: str, **changes: Any) -> Project:
        """Change a project's name, language or company."""
        for name in ("name", "company"):
            _check_text(name, changes.get(name))
        current = self.get_project(project_id)
        project = _validated(Project, "project", **{**current.model_dump(), **changes})
        values = project.model_dump(include={"name", "language", "company"})
        self._write(lambda conn: conn.execute(update(projects).where(projects.c.id == project_id).values(**values)))
        return project

    def delete_project(self, project_id: str) -> None:
        """Remove a project and every row of every table that belongs to it (access code and links included)."""

        def work(conn: Connection) -> None:
            self._require_project(conn, project_id)
            # Explicit deletes, child tables first: PostgreSQL cascades, but SQLite only does with its pragma on.
            # Every table with a `project_id` is covered, so a table added later cannot be forgotten here.
            for table in reversed(metadata.sorted_tables):
                if "project_id" in table.c:
                    conn.execute(table.delete().where(table.c.project_id == project_id))
            conn.execute(projects.delete().where(projects.c.id == project_id))

        self._write(work)

    # -- access control (the policy lives in `assistant.access`; this only stores) ---------------------

    def get_access_hash(self, project_id: str) -> str | None:
        """The stored hash of the project's access code, or None when the project is not protected."""

        def work(conn: Connection) -> str | None:
            self._require_project(conn, project_id)
            return conn.execute(
                select(project_access.c.code_hash).where(project_access.c.project_id == project_id)
            ).scalar()

        return self._read(work)

    def set_access_hash(self, project_id: str, code_hash: str | None) -> None:
        """Store a new code hash (None removes the protection, its links and its failure log)."""

        def work(conn: Connection) -> None:
            self._require_project(conn, project_id)
            conn.execute(project_access.delete().where(project_access.c.project_id == project_id))
            if code_hash is None:
                conn.execute(access_links.delete().where(access_links.c.project_id == project_id))
            else:
                conn.execute(
                    insert(project_access).values(project_id=project_id, code_hash=code_hash, updated_at=_now())
                )
            conn.execute(access_failures.delete().where(access_failures.c.project_id == project_id))

        self._write(work)

    def protected_project_ids(self) -> set[str]:
        return set(self._read(lambda conn: conn.execute(select(project_access.c.project_id)).scalars().all()))

    def record_access_attempt(
        self, project_id: str, *, at: datetime, since: datetime, limit: int
    ) -> list[datetime] | None:
        """Log an attempt made `at` as a failure unless `limit` failures happened after `since`, in one transaction.

        Recording before the code is checked (and clearing on success) keeps concurrent guesses from several
        processes inside the limit.

        Returns:
            None when the attempt was logged and may go on; else the failures after `since` that block it, oldest
            first.
        """

        def work(conn: Connection) -> datetime | None:
            self._require_project(conn, project_id)
            query = select(access_failures.c.failed_at).where(
                access_failures.c.project_id == project_id, access_failures.c.failed_at > since
            )
            recent = [_aware(value) for value in conn.execute(query).scalars()]
            if len(recent) >= limit:
                return sorted(recent)
            conn.execute(insert(access_failures).values(project_id=project_id, failed_at=at))
            return None

        return self._write(work)

    def clear_access_failures(self, project_id: str) -> None:
        self._write(
            lambda conn: conn.execute(access_failures.delete().where(access_failures.c.project_id == project_id))
        )

    def add_access_link(self, project_id: str, token_hash: str) -> None:
        def work(conn: Connection) -> None:
            self._require_project(conn, project_id)
            conn.execute(insert(access_links).values(project_id=project_id, token_hash=token_hash, created_at=_now()))

        self._write(work)

    def has_access_link(self, project_id: str, token_hash: str) -> bool:
        row = self._read(
            lambda conn: conn.execute(
                select(access_links.c.seq).where(
                    access_links.c.project_id == project_id, access_links.c.token_hash == token_hash
                )
            ).first()
        )
        return row is not None

    def count_access_links(self, project_id: str) -> int:
        query = select(func.count()).select_from(access_links).where(access_links.c.project_id == project_id)
        return self._read(lambda conn: conn.execute(query).scalar()) or 0

    def delete_access_links(self, project_id: str) -> None:
        self._write(lambda conn: conn.execute(access_links.delete().where(access_links.c.project_id == project_id)))

    # -- stakeholders ---------------------------------------------------------------------------------

    def add_stakeholder(self, project_id: str, name: str, role: str = "") -> Stakeholder:
        _check_text("name", name)
        _check_text("role", role)

        def work(conn: Connection) -> Stakeholder:
            self._require_project(conn, project_id)
            person = _validated(
                Stakeholder, "stakeholder", id=self._next_id(conn, project_id, "STK"), name=name, role=role
            )
            conn.execute(insert(stakeholders).values(project_id=project_id, **person.model_dump()))
            return person

        return self._write(work)

    def list_stakeholders(self, project_id: str) -> list[Stakeholder]:
        rows = self._read(
            lambda conn: conn.execute(
                select(stakeholders.c.id, stakeholders.c.name, stakeholders.c.role)
                .where(stakeholders.c.project_id == project_id)
                .order_by(stakeholders.c.id)
            ).all()
        )
        return [Stakeholder(id=r.id, name=r.name, role=r.role) for r in rows]

    # -- turns ----------------------------------------------------------------------------------------

    def append_turn(
        self,
        project_id: str,
        speaker: Speaker | str,
        text: str,
        language: Language | str,
        stakeholder_id: str | None = None,
        meta: dict[str, Any] | None = None,
        created_at: datetime | None = None,
    ) -> Turn:
        """Store one message of the interview and return it with its id.

        Args:
            meta: what the turn is about (the slot a question asks, the action of an answer), kept with it.
            created_at: when it was said (default: now); a replayed interview keeps its own date.

        Raises:
            InputError: the text is empty (or only invisible characters), longer than `MAX_TURN_CHARS`, or holds
                characters no database stores (control characters, lone surrogates); nothing is stored.
        """
        if not text or not "".join(c for c in text if unicodedata.category(c) != "Cf").strip():
            raise InputError("message", "the message is empty; type an answer, or use skip / I don't know")
        _check_text("message", text)
        if len(text) > MAX_TURN_CHARS:
            raise InputError(
                "message",
                f"the message is {len(text):,} characters long; the limit is {MAX_TURN_CHARS:,}. "
                "Split it into several answers.",
            )
        draft = _validated(
            Turn,
            "turn",
            id=0,
            project_id=project_id,
            speaker=speaker,
            stakeholder_id=stakeholder_id,
            text=text,
            language=language,
            meta=meta or {},
            created_at=_aware(created_at) if created_at else _now(),
        )

        def work(conn: Connection) -> Turn:
            self._require_project(conn, project_id)
            turn = draft.model_copy(update={"id": self._next_number(conn, project_id, _TURN_COUNTER)})
            conn.execute(insert(turns).values(**turn.model_dump()))
            return turn

        return self._write(work)

    def list_turns(self, project_id: str, *, since_id: int = 0) -> list[Turn]:
        rows = self._read(
            lambda conn: conn.execute(
                select(turns).where(turns.c.project_id == project_id, turns.c.id > since_id).order_by(turns.c.id)
            ).all()
        )
        return [_turn_from_row(row) for row in rows]

    def get_turn(self, project_id: str, turn_id: int) -> Turn:
        row = self._read(
            lambda conn: conn.execute(
                select(turns).where(turns.c.project_id == project_id, turns.c.id == turn_id)
            ).first()
        )
        if row is None:
            raise NotFoundError("turn", str(turn_id))
        return _turn_from_row(row)

    # -- tracked objects ------------------------------------------------------------------------------

    def new_id(self, project_id: str, cls: type[Tracked]) -> str:
        """Reserve the next stable id for a new object of `cls` (``REQ-004`` …); ids are never reused."""

        def work(conn: Connection) -> str:
            self._require_project(conn, project_id)
            return self._next_id(conn, project_id, cls.id_prefix)

        return self._write(work)

    def save_object(
        self,
        project_id: str,
        obj: Tracked,
        *,
        changed_by: str,
        turn_id: int | None = None,
        expected_version: int | None = None,
    ) -> int:
        """Insert or update an object, recording the change in its history.

        Args:
            changed_by: who made the change (a stakeholder id, a reviewer's name, ``cahier``).
            turn_id: the interview turn the change came from, if any.
            expected_version: the version the caller read; when given and no longer current, the save is
                refused with `StaleWriteError` instead of silently overwriting someone else's change.

        Returns:
            The object's new version number.
        """
        kind = type_name(obj)
        # Re-validate: `model_copy(update=...)` skips validation, and nothing invalid may reach the database.
        checked = _validated(type(obj), kind, **dict(obj))

        def work(conn: Connection) -> int:
            project = self._require_project(conn, project_id)
            data = _with_quality(conn, project_id, project.language, checked).model_dump(mode="json")
            row = conn.execute(
                select(objects.c.version, objects.c.type, objects.c.data, objects.c.deleted).where(
                    objects.c.project_id == project_id, objects.c.id == obj.id
                )
            ).first()
            now = _now()
            if row is None:
                if expected_version not in (None, 0):
                    raise StaleWriteError(obj.id, expected_version, 0)
                version, change = 1, "created"
                conn.execute(
                    insert(objects).values(
                        project_id=project_id, id=obj.id, type=kind, data=data, version=1, deleted=False, updated_at=now
                    )
                )
            else:
                if row.type != kind:
                    raise InputError("id", f"`{obj.id}` is a {row.type}, not a {kind}")
                if expected_version is not None and expected_version != row.version:
                    raise StaleWriteError(obj.id, expected_version, row.version)
                if row.data == data and not row.deleted:
                    return row.version
                version, change = row.version + 1, "updated"
                conn.execute(
                    update(objects)
                    .where(objects.c.project_id == project_id, objects.c.id == obj.id)
                    .values(data=data, version=version, deleted=False, updated_at=now)
                )
            conn.execute(
                insert(object_versions).values(
                    project_id=project_id,
                    object_id=obj.id,
                    version=version,
                    data=data,
                    change=change,
                    changed_by=changed_by,
                    turn_id=turn_id,
                    changed_at=now,
                )
            )
            return version

        try:
            return self._write(work)
        except IntegrityError as exc:  # two writers created the same id at once
            raise StaleWriteError(obj.id, expected_version or 0, -1) from exc

    def delete_object(
        self, project_id: str, object_id: str, *, changed_by: str, expected_version: int | None = None
    ) -> None:
        """Hide an object from the specification; its history stays."""

        def work(conn: Connection) -> None:
            row = conn.execute(
                select(objects).where(objects.c.project_id == project_id, objects.c.id == object_id)
            ).first()
            if row is None or row.deleted:
                raise NotFoundError("object", object_id)
            if expected_version is not None and expected_version != row.version:
                raise StaleWriteError(object_id, expected_version, row.version)
            now = _now()
            conn.execute(
                update(objects)
                .where(objects.c.project_id == project_id, objects.c.id == object_id)
                .values(deleted=True, version=row.version + 1, updated_at=now)
            )
            conn.execute(
                insert(object_versions).values(
                    project_id=project_id,
                    object_id=object_id,
                    version=row.version + 1,
                    data=row.data,
                    change="deleted",
                    changed_by=changed_by,
                    changed_at=now,
                )
            )

        self._write(work)

    def get_object(self, project_id: str, object_id: str, cls: type[T]) -> tuple[T, int]:
        """The current state of one object and its version (to pass back as `expected_version`)."""
        row = self._read(
            lambda conn: conn.execute(
                select(objects).where(
                    objects.c.project_id == project_id,
                    objects.c.id == object_id,
                    objects.c.type == type_name(cls),
                    objects.c.deleted.is_(False),
                )
            ).first()
        )
        if row is None:
            raise NotFoundError(cls.kind_name, object_id)
        return cls.model_validate(row.data), row.version

    def list_objects(self, project_id: str, cls: type[T]) -> list[T]:
        """The current objects of one type, in id order."""
        return [obj for obj, _ in self.list_versioned(project_id, cls)]

    def list_versioned(self, project_id: str, cls: type[T]) -> list[tuple[T, int]]:
        rows = self._read(
            lambda conn: conn.execute(
                select(objects.c.data, objects.c.version).where(
                    objects.c.project_id == project_id,
                    objects.c.type == type_name(cls),
                    objects.c.deleted.is_(False),
                )
            ).all()
        )
        pairs = [(cls.model_validate(row.data), row.version) for row in rows]
        return sorted(pairs, key=lambda pair: _id_sort_key(pair[0].id))

    def list_all_objects(self, project_id: str) -> dict[str, list[Tracked]]:
        """Every current object of a project in one query, by type name (`requirement`, `constraint`…)."""
        rows = self._read(
            lambda conn: conn.execute(
                select(objects.c.type, objects.c.data).where(
                    objects.c.project_id == project_id, objects.c.deleted.is_(False)
                )
            ).all()
        )
        result: dict[str, list[Tracked]] = {name: [] for name in OBJECT_TYPES}
        for row in rows:
            result[row.type].append(OBJECT_TYPES[row.type].model_validate(row.data))
        for items in result.values():
            items.sort(key=lambda obj: _id_sort_key(obj.id))
        return result

    def object_history(self, project_id: str, object_id: str) -> list[ObjectVersion]:
        rows = self._read(
            lambda conn: conn.execute(
                select(object_versions)
                .where(object_versions.c.project_id == project_id, object_versions.c.object_id == object_id)
                .order_by(object_versions.c.version)
            ).all()
        )
        return [
            ObjectVersion(
                object_id=r.object_id,
                version=r.version,
                data=r.data,
                changed_by=r.changed_by,
                turn_id=r.turn_id,
                change=r.change,
                changed_at=_aware(r.changed_at),
            )
            for r in rows
        ]

    # -- draft sections -------------------------------------------------------------------------------

    def append_section_version(
        self,
        project_id: str,
        section: SectionId | str,
        text: str,
        *,
        state: str,
        author: str,
        expected_version: int | None = None,
    ) -> DraftSection:
        """Store a new version of a section; refuses with `StaleWriteError` when `expected_version` is stale."""

        def work(conn: Connection) -> DraftSection:
            self._require_project(conn, project_id)
            current = (
                conn.execute(
                    select(func.max(section_versions.c.version)).where(
                        section_versions.c.project_id == project_id, section_versions.c.section == str(section)
                    )
                ).scalar()
                or 0
            )
            if expected_version is not None and expected_version != current:
                raise StaleWriteError(f"{section}", expected_version, current)
            draft = _validated(
                DraftSection,
                "section",
                project_id=project_id,
                section=section,
                version=current + 1,
                text=text,
                state=state,
                author=author,
            )
            conn.execute(insert(section_versions).values(**draft.model_dump()))
            return draft

        try:
            return self._write(work)
        except IntegrityError as exc:
            raise StaleWriteError(str(section), expected_version or 0, -1) from exc

    def section_history(self, project_id: str, section: SectionId | str) -> list[DraftSection]:
        rows = self._read(
            lambda conn: conn.execute(
                select(section_versions)
                .where(section_versions.c.project_id == project_id, section_versions.c.section == str(section))
                .order_by(section_versions.c.version)
            ).all()
        )
        return [_section_from_row(r) for r in rows]

    def latest_sections(self, project_id: str) -> dict[SectionId, DraftSection]:
        """The newest version of every section that has one."""
        rows = self._read(
            lambda conn: conn.execute(
                select(section_versions)
                .where(section_versions.c.project_id == project_id)
                .order_by(section_versions.c.version)
            ).all()
        )
        latest: dict[SectionId, DraftSection] = {}
        for row in rows:
            draft = _section_from_row(row)
            latest[draft.section] = draft
        return latest

    # -- whole projects -------------------------------------------------------------------------------

    def export_rows(self, project_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row of a project, table by table: the exact content a JSON export carries."""

        def work(conn: Connection) -> dict[str, list[dict[str, Any]]]:
            self._require_project(conn, project_id)
            bundle: dict[str, list[dict[str, Any]]] = {}
            for table in _BUNDLE_TABLES:
                key = table.c.id if table is projects else table.c.project_id
                columns = _bundle_columns(table)
                order = [table.c.seq] if "seq" in table.c else [c for c in table.primary_key.columns]
                rows = conn.execute(select(*columns).where(key == project_id).order_by(*order)).all()
                bundle[table.name] = [
                    {name: _aware(v) if isinstance(v, datetime) else v for name, v in row._mapping.items()}
                    for row in rows
                ]
            return bundle

        return self._read(work)

    def import_rows(self, bundle: dict[str, list[dict[str, Any]]]) -> str:
        """Restore a project exported by `export_rows`, all or nothing.

        Raises:
            InputError: the bundle does not describe exactly one project, or that project already exists.
        """
        if len(bundle.get("projects", [])) != 1:
            raise InputError("import file", "the file must hold exactly one project")
        project_id = bundle["projects"][0].get("id")

        def work(conn: Connection) -> str:
            if conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is not None:
                raise InputError(
                    "import file", f"project `{project_id}` already exists; delete it first or keep the current one"
                )
            for table in _BUNDLE_TABLES:
                columns = {c.name: c for c in _bundle_columns(table)}
                for row in bundle.get(table.name, []):
                    unknown = set(row) - set(columns)
                    if unknown:
                        raise InputError("import file", f"table `{table.name}` has unknown column(s) {sorted(unknown)}")
                    owner = row.get("id") if table is projects else row.get("project_id")
                    if owner != project_id:
                        raise InputError(
                            "import file", f"a row of `{table.name}` belongs to another project ({owner!r})"
                        )
                    if table is objects and row.get("type") == type_name(Requirement) and not row.get("deleted"):
                        # rows exported before quality was stored, or by older rules, get today's result
                        row = {**row, "data": _imported_quality(conn, bundle["projects"][0], row["data"])}
                    conn.execute(insert(table).values({k: _from_json_value(columns[k], v) for k, v in row.items()}))
            return project_id

        try:
            return self._write(work)
        except (SQLAlchemyError, StoreError) as exc:
            raise InputError("import file", f"the file's rows are inconsistent: {exc}") from exc

    # -- extraction log -------------------------------------------------------------------------------

    def log_extraction(
        self, project_id: str, turn_id: int, status: str, *, data: dict[str, Any] | None = None, error: str = ""
    ) -> None:
        """Append one state of a turn's extraction (queued, done, failed); the newest row is the current state."""
        self._write(
            lambda conn: conn.execute(
                insert(extractions).values(
                    project_id=project_id,
                    turn_id=turn_id,
                    status=status,
                    data=data,
                    error=error[:2000],
                    created_at=_now(),
                )
            )
        )

    def extraction_states(self, project_id: str) -> dict[int, dict[str, Any]]:
        """The newest extraction row of every turn that has one: {turn_id: {status, data, error}}."""
        rows = self._read(
            lambda conn: conn.execute(
                select(extractions).where(extractions.c.project_id == project_id).order_by(extractions.c.seq)
            ).all()
        )
        return {row.turn_id: {"status": row.status, "data": row.data, "error": row.error} for row in rows}

    # -- model usage ----------------------------------------------------------------------------------

    def record_usage(
        self,
        project_id: str,
        *,
        purpose: str,
        model: str,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        latency_ms: int = 0,
        ok: bool = True,
        error: str = "",
        turn_id: int | None = None,
    ) -> None:
        self._write(
            lambda conn: conn.execute(
                insert(model_usage).values(
                    project_id=project_id,
                    turn_id=turn_id,
                    purpose=purpose,
                    model=model,
                    prompt_tokens=prompt_tokens,
                    completion_tokens=completion_tokens,
                    latency_ms=latency_ms,
                    ok=ok,
                    error=error[:2000],
                    created_at=_now(),
                )
            )
        )

    def list_usage(self, project_id: str) -> list[dict[str, Any]]:
        rows = self._read(
            lambda conn: conn.execute(
                select(model_usage).where(model_usage.c.project_id == project_id).order_by(model_usage.c.seq)
            ).all()
        )
        return [dict(row._mapping) for row in rows]


_BUNDLE_TABLES = (
    projects,
    stakeholders,
    id_counters,
    turns,
    objects,
    object_versions,
    section_versions,
    extractions,
    model_usage,
)
"""Every table that holds a project's data, parents first (the order rows are restored in).

The access tables are left out on purpose: an export never carries the code's hash or the links, and an imported
project is unprotected until someone sets a code again.
"""


def _bundle_columns(table: Table) -> list[Column]:
    return [column for column in table.columns if column.name != "seq"]


def _from_json_value(column: Column, value: Any) -> Any:
    if isinstance(column.type, DateTime) and isinstance(value, str):
        return _aware(datetime.fromisoformat(value))
    return value


def _insert_if_absent(conn: Connection, table: Table, **values: Any) -> Any:
    """An insert that does nothing when the row's key already exists (SQLite and PostgreSQL, the two engines)."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as dialect_insert
    else:
        from sqlalchemy.dialects.sqlite import insert as dialect_insert
    return dialect_insert(table).values(**values).on_conflict_do_nothing()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
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


def _redact(url: str) -> str:
    """The URL without its password, for messages."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}"


_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls and DEL, except tab and line breaks: PostgreSQL refuses NUL, XML exports cannot hold the others."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""What bytes that were not UTF-8 become once decoded with `surrogateescape`; no encoding can store them."""


def _check_text(field: str, value: Any) -> None:
    """Refuse, naming the field and the character, text that cannot be stored and shown as it was typed."""
    if not isinstance(value, str):
        return
    bad = _LONE_SURROGATE.search(value)
    if bad is not None:
        raise InputError(
            field,
            f"the {field} is not valid Unicode text (U+{ord(bad.group()):04X} at character {bad.start() + 1}, "
            "usually bytes that were not UTF-8); paste it again from its source",
        )
    bad = _CONTROL_CHARACTER.search(value)
    if bad is not None:
        raise InputError(
            field,
            f"the {field} holds a control character (U+{ord(bad.group()):04X}) at character {bad.start() + 1}; "
            "remove it and send it again",
        )


def _validated(cls: type, what: str, **values: Any) -> Any:
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or what
        raise InputError(field, f"invalid {what} `{field}`: {first['msg']}") from exc


def _id_sort_key(object_id: str) -> tuple[str, int]:
    prefix, _, number = object_id.rpartition("-")
    return prefix, int(number) if number.isdigit() else 0


def _turn_from_row(row: Any) -> Turn:
    return Turn(**{**row._mapping, "created_at": _aware(row.created_at), "meta": row.meta or {}})


def _with_quality(conn: Connection, project_id: str, project_language: str, obj: Tracked) -> Tracked:
    """`obj` with its stored quality recomputed when it is a requirement: every save of one passes here.

    The check runs in the language the requirement was said in (its first source turn), else the project's,
    as the requirements page reads it.
    """
    if not isinstance(obj, Requirement):
        return obj
    from assistant.quality import assess  # the checker loads its lexicons; only requirement saves need it

    language = project_language
    if obj.source_turn_ids:
        said_in = conn.execute(
            select(turns.c.language).where(turns.c.project_id == project_id, turns.c.id == obj.source_turn_ids[0])
        ).scalar()
        language = said_in or language
    return obj.model_copy(update={"quality": assess(obj, language)})


def _imported_quality(conn: Connection, project: dict[str, Any], data: Any) -> Any:
    """The data of an imported requirement row with its quality recomputed; left alone when it does not validate,
    so that the import reports the bad row as it would have without this step."""
    try:
        requirement = Requirement.model_validate(data)
    except ValidationError:
        return data
    language = project.get("language") or Language.FR.value
    return _with_quality(conn, str(project.get("id")), language, requirement).model_dump(mode="json")


def _project_from_row(row: Any) -> Project:
    return Project(**{**row._mapping, "created_at": _aware(row.created_at)})


def _section_from_row(row: Any) -> DraftSection:
    values = {key: row._mapping[key] for key in DraftSection.model_fields if key in row._mapping}
    values["created_at"] = _aware(row.created_at)
    return DraftSection(**values)


__all__ = ["Store", "OBJECT_TYPES", "SCHEMA_VERSION"]
