"""The `Store` class: every read and write of the project database, each in its own short transaction."""

from __future__ import annotations

import secrets
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

import assistant.store.queue as queue
from assistant.errors import InputError, NotFoundError, StaleWriteError, StoreError
from assistant.schemas import (
    MAX_TURN_CHARS,
    OBJECT_TYPES,
    ChangeSet,
    DraftSection,
    ExtractionClaim,
    ExtractionResult,
    ExtractionState,
    ExtractionStatus,
    Language,
    MergeSnapshot,
    ObjectVersion,
    Project,
    ProjectObjects,
    QueuePosition,
    Requirement,
    SectionId,
    Speaker,
    Stakeholder,
    Tracked,
    Turn,
    TurnMeta,
    type_name,
)
from assistant.store.bundle import BUNDLE_TABLES, bundle_columns, from_json_value
from assistant.store.engine import insert_if_absent, is_lock_error, redact, sqlite_pragmas
from assistant.store.migrations import migrate
from assistant.store.rows import (
    aware,
    check_text,
    id_sort_key,
    imported_quality,
    project_from_row,
    section_from_row,
    turn_from_row,
    validated,
    with_quality,
)
from assistant.store.tables import (
    access_failures,
    access_links,
    extractions,
    id_counters,
    metadata,
    model_usage,
    object_versions,
    objects,
    project_access,
    projects,
    schema_version,
    section_versions,
    stakeholders,
    turns,
)

_TURN_COUNTER = "TURN"
"""Turns are numbered 1, 2, 3… within each project, so an exported project imports anywhere unchanged."""

T = TypeVar("T", bound=Tracked)


def _now() -> datetime:
    return datetime.now(UTC)


def _record_version(
    conn: Connection,
    project_id: str,
    object_id: str,
    version: int,
    data: Any,
    change: str,
    changed_by: str,
    turn_id: int | None,
    at: datetime,
) -> None:
    """One entry of an object's history, for every save and every delete."""
    conn.execute(
        insert(object_versions).values(
            project_id=project_id,
            object_id=object_id,
            version=version,
            data=data,
            change=change,
            changed_by=changed_by,
            turn_id=turn_id,
            changed_at=at,
        )
    )


def _one_state_per_answer(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An export written before v5 logged every state of an extraction; the queue keeps the newest per answer."""
    newest: dict[Any, dict[str, Any]] = {}
    for row in rows:
        newest[row.get("turn_id")] = row
    return list(newest.values())


def _extraction_state(row: Any) -> ExtractionState:
    return ExtractionState(
        turn_id=row.turn_id,
        status=ExtractionStatus(row.status),
        result=ExtractionResult.model_validate(row.data) if row.data else None,
        error=row.error,
        error_kind=row.error_kind,
        attempts=row.attempts,
    )


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
            raise StoreError(f"cannot open database {redact(url)!r}: {exc}") from exc
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", sqlite_pragmas)
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
                if not is_lock_error(exc) or attempt == self.LOCK_RETRIES - 1:
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
        try:
            self._write(migrate)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot prepare database {redact(self.url)!r}: {exc}") from exc

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
            conn.execute(insert_if_absent(conn, id_counters, project_id=project_id, prefix=prefix, value=0))
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
        check_text("name", name)
        check_text("company", company)
        project = validated(
            Project, "project", id=f"p{secrets.token_hex(6)}", name=name, language=language, company=company
        )
        self._write(lambda conn: conn.execute(insert(projects).values(**project.model_dump())))
        return project

    def get_project(self, project_id: str) -> Project:
        row = self._read(lambda conn: self._require_project(conn, project_id))
        return project_from_row(row)

    def list_projects(self) -> list[Project]:
        rows = self._read(lambda conn: conn.execute(select(projects).order_by(projects.c.created_at)).all())
        return [project_from_row(row) for row in rows]

    def update_project(self, project_id: str, **changes: Any) -> Project:
        """Change a project's name, language or company."""
        for name in ("name", "company"):
            check_text(name, changes.get(name))
        current = self.get_project(project_id)
        project = validated(Project, "project", **{**current.model_dump(), **changes})
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

        def work(conn: Connection) -> list[datetime] | None:
            self._require_project(conn, project_id)
            query = select(access_failures.c.failed_at).where(
                access_failures.c.project_id == project_id, access_failures.c.failed_at > since
            )
            recent = [aware(value) for value in conn.execute(query).scalars()]
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
        check_text("name", name)
        check_text("role", role)

        def work(conn: Connection) -> Stakeholder:
            self._require_project(conn, project_id)
            person = validated(
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
        meta: TurnMeta | None = None,
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
        check_text("message", text)
        if len(text) > MAX_TURN_CHARS:
            raise InputError(
                "message",
                f"the message is {len(text):,} characters long; the limit is {MAX_TURN_CHARS:,}. "
                "Split it into several answers.",
            )
        draft = validated(
            Turn,
            "turn",
            id=0,
            project_id=project_id,
            speaker=speaker,
            stakeholder_id=stakeholder_id,
            text=text,
            language=language,
            meta=meta or TurnMeta(),
            created_at=aware(created_at) if created_at else _now(),
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
        return [turn_from_row(row) for row in rows]

    def get_turn(self, project_id: str, turn_id: int) -> Turn:
        row = self._read(
            lambda conn: conn.execute(
                select(turns).where(turns.c.project_id == project_id, turns.c.id == turn_id)
            ).first()
        )
        if row is None:
            raise NotFoundError("turn", str(turn_id))
        return turn_from_row(row)

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
        checked = self._checked(obj)

        def work(conn: Connection) -> int:
            project = self._require_project(conn, project_id)
            return self._save_in(conn, project_id, project.language, checked, changed_by, turn_id, expected_version)

        try:
            return self._write(work)
        except IntegrityError as exc:  # two writers created the same id at once
            raise StaleWriteError(obj.id, expected_version or 0, -1) from exc

    @staticmethod
    def _checked(obj: Tracked) -> Tracked:
        # Re-validate: `model_copy(update=...)` skips validation, and nothing invalid may reach the database.
        return validated(type(obj), type_name(obj), **dict(obj))

    @staticmethod
    def _save_in(
        conn: Connection,
        project_id: str,
        language: str,
        obj: Tracked,
        changed_by: str,
        turn_id: int | None,
        expected_version: int | None,
    ) -> int:
        """`save_object` inside a caller's transaction (one object; `apply_extraction` writes several)."""
        kind = type_name(obj)
        data = with_quality(conn, project_id, language, obj).model_dump(mode="json")
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
        _record_version(conn, project_id, obj.id, version, data, change, changed_by, turn_id, now)
        return version

    def delete_object(
        self, project_id: str, object_id: str, *, changed_by: str, expected_version: int | None = None
    ) -> None:
        """Hide an object from the specification; its history stays."""
        self._write(lambda conn: self._delete_in(conn, project_id, object_id, changed_by, None, expected_version))

    @staticmethod
    def _delete_in(
        conn: Connection,
        project_id: str,
        object_id: str,
        changed_by: str,
        turn_id: int | None,
        expected_version: int | None,
    ) -> None:
        row = conn.execute(select(objects).where(objects.c.project_id == project_id, objects.c.id == object_id)).first()
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
        _record_version(conn, project_id, object_id, row.version + 1, row.data, "deleted", changed_by, turn_id, now)

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
        return sorted(pairs, key=lambda pair: id_sort_key(pair[0].id))

    def list_all_objects(self, project_id: str) -> ProjectObjects:
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
            items.sort(key=lambda obj: id_sort_key(obj.id))
        return ProjectObjects.model_validate(result)

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
                changed_at=aware(r.changed_at),
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
            draft = validated(
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
        return [section_from_row(r) for r in rows]

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
            draft = section_from_row(row)
            latest[draft.section] = draft
        return latest

    # -- whole projects -------------------------------------------------------------------------------

    def export_rows(self, project_id: str) -> dict[str, list[dict[str, Any]]]:
        """Every row of a project, table by table: the exact content a JSON export carries."""

        def work(conn: Connection) -> dict[str, list[dict[str, Any]]]:
            self._require_project(conn, project_id)
            bundle: dict[str, list[dict[str, Any]]] = {}
            for table in BUNDLE_TABLES:
                key = table.c.id if table is projects else table.c.project_id
                columns = bundle_columns(table)
                order = [table.c.seq] if "seq" in table.c else [c for c in table.primary_key.columns]
                rows = conn.execute(select(*columns).where(key == project_id).order_by(*order)).all()
                bundle[table.name] = [
                    {name: aware(v) if isinstance(v, datetime) else v for name, v in row._mapping.items()}
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
        if not isinstance(project_id, str) or not project_id:
            raise InputError("import file", "the project row has no `id`")

        def work(conn: Connection) -> str:
            if conn.execute(select(projects.c.id).where(projects.c.id == project_id)).first() is not None:
                raise InputError(
                    "import file", f"project `{project_id}` already exists; delete it first or keep the current one"
                )
            for table in BUNDLE_TABLES:
                columns = {c.name: c for c in bundle_columns(table)}
                rows = bundle.get(table.name, [])
                for row in _one_state_per_answer(rows) if table is extractions else rows:
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
                        row = {**row, "data": imported_quality(conn, bundle["projects"][0], row["data"])}
                    conn.execute(insert(table).values({k: from_json_value(columns[k], v) for k, v in row.items()}))
            return project_id

        try:
            return self._write(work)
        except (SQLAlchemyError, StoreError) as exc:
            raise InputError("import file", f"the file's rows are inconsistent: {exc}") from exc

    # -- extraction queue (the protocol is in `assistant.store.queue`) ---------------------------------

    def enqueue_extraction(self, project_id: str, turn_id: int) -> None:
        """Queue an answer's extraction (again): a worker of any process picks it up in turn order."""

        def work(conn: Connection) -> None:
            self._require_project(conn, project_id)
            queue.enqueue(conn, project_id, turn_id, _now())

        self._write(work)

    def claim_extraction(
        self, token: str, *, lease_s: float, max_attempts: int, project_id: str | None = None
    ) -> ExtractionClaim | None:
        """Claim the next answer to extract under the lease `token`, handing back expired leases first.

        Returns None at once when nothing is claimable (a read, without the write lock), so idle workers can poll.
        """
        now = _now()
        if not self._read(lambda conn: queue.has_claimable(conn, now, project_id)):
            return None

        def work(conn: Connection) -> ExtractionClaim | None:
            queue.release_expired(conn, now, max_attempts)
            return queue.claim(conn, token, now, lease_s, project_id)

        return self._write(work)

    def release_expired_extractions(self, max_attempts: int) -> int:
        """Put back every answer whose worker's lease ran out (at start-up, and before each claim)."""
        return self._write(lambda conn: queue.release_expired(conn, _now(), max_attempts))

    def renew_lease(self, claim: ExtractionClaim, lease_s: float) -> bool:
        return self._write(lambda conn: queue.renew(conn, claim, _now(), lease_s))

    def fail_extraction(
        self, claim: ExtractionClaim, error: str, error_kind: str, *, retry_at: datetime | None = None
    ) -> None:
        """Record a failed attempt: back in the queue from `retry_at`, or failed for good without it.

        Raises:
            LeaseLostError: the lease is no longer this worker's; nothing is written.
        """
        self._write(
            lambda conn: queue.finish(
                conn, claim, _now(), ExtractionStatus.FAILED, error=error, error_kind=error_kind, retry_at=retry_at
            )
        )

    def merge_snapshot(self, project_id: str, turn_id: int) -> MergeSnapshot:
        """What a merge of `turn_id`'s findings is computed from, read in one transaction: every current object with
        its version, the id counters, and the objects this turn created earlier that no person has edited since
        (a re-extraction re-derives those instead of adding to them)."""

        def work(conn: Connection) -> MergeSnapshot:
            rows = conn.execute(
                select(objects.c.type, objects.c.data, objects.c.version).where(
                    objects.c.project_id == project_id, objects.c.deleted.is_(False)
                )
            ).all()
            grouped: dict[str, list[Tracked]] = {name: [] for name in OBJECT_TYPES}
            versions: dict[str, int] = {}
            for row in rows:
                obj = OBJECT_TYPES[row.type].model_validate(row.data)
                grouped[row.type].append(obj)
                versions[obj.id] = row.version
            for items in grouped.values():
                items.sort(key=lambda obj: id_sort_key(obj.id))
            counters = dict(
                conn.execute(
                    select(id_counters.c.prefix, id_counters.c.value).where(id_counters.c.project_id == project_id)
                ).all()
            )
            written = conn.execute(
                select(object_versions.c.object_id, object_versions.c.change).where(
                    object_versions.c.project_id == project_id, object_versions.c.turn_id == turn_id
                )
            ).all()
            created = {row.object_id for row in written if row.change == "created"}
            edited = set(
                conn.execute(
                    select(object_versions.c.object_id).where(
                        object_versions.c.project_id == project_id,
                        object_versions.c.object_id.in_(created),
                        object_versions.c.turn_id.is_(None),
                    )
                ).scalars()
            )
            deleted = conn.execute(
                select(objects.c.type, objects.c.data).where(
                    objects.c.project_id == project_id, objects.c.id.in_(edited), objects.c.deleted.is_(True)
                )
            ).all()
            return MergeSnapshot(
                withdrawn=[OBJECT_TYPES[row.type].model_validate(row.data) for row in deleted],
                objects=ProjectObjects.model_validate(grouped),
                versions=versions,
                counters=counters,
                made_by_turn=sorted(created - edited, key=id_sort_key),
                touched_by_turn={row.object_id for row in written} - created,
            )

        return self._read(work)

    def apply_extraction(
        self, claim: ExtractionClaim, changes: ChangeSet, result: ExtractionResult, *, changed_by: str
    ) -> None:
        """Write an extraction's changes and its `done` state in one transaction, or nothing.

        Raises:
            LeaseLostError: `claim` is no longer the worker's (its lease expired).
            StaleWriteError: an object or an id counter moved since the snapshot the changes were computed from.
        """

        project_id, turn_id = claim.project_id, claim.turn_id

        def work(conn: Connection) -> None:
            project = self._require_project(conn, project_id)
            queue.check_lease(conn, claim)
            for prefix, (start, end) in changes.id_counters.items():
                current = conn.execute(
                    select(id_counters.c.value).where(
                        id_counters.c.project_id == project_id, id_counters.c.prefix == prefix
                    )
                ).scalar()
                if (current or 0) != start:
                    raise StaleWriteError(f"{prefix} ids", start, current or 0)
                if current is None:
                    conn.execute(insert(id_counters).values(project_id=project_id, prefix=prefix, value=end))
                else:
                    conn.execute(
                        update(id_counters)
                        .where(id_counters.c.project_id == project_id, id_counters.c.prefix == prefix)
                        .values(value=end)
                    )
            for obj, expected, author in changes.saves:
                checked = self._checked(obj)
                self._save_in(conn, project_id, project.language, checked, author or changed_by, turn_id, expected)
            for object_id, expected in changes.deletes:
                self._delete_in(conn, project_id, object_id, changed_by, turn_id, expected)
            queue.finish(conn, claim, _now(), ExtractionStatus.DONE, result=result)

        try:
            self._write(work)
        except IntegrityError as exc:  # another writer created one of the ids at the same moment
            raise StaleWriteError(f"objects of turn {turn_id}", 0, -1) from exc

    def queue_position(self, project_id: str, turn_id: int) -> QueuePosition | None:
        """How many answers will be extracted before this pending one, and an estimate; None when not pending."""
        return self._read(lambda conn: queue.position(conn, project_id, turn_id, _now()))

    def extraction_states(self, project_id: str) -> dict[int, ExtractionState]:
        """The extraction state of every answer that has one, by turn id."""
        rows = self._read(
            lambda conn: conn.execute(
                select(extractions).where(extractions.c.project_id == project_id).order_by(extractions.c.turn_id)
            ).all()
        )
        return {row.turn_id: _extraction_state(row) for row in rows}

    def extraction_state(self, project_id: str, turn_id: int) -> ExtractionState | None:
        """The extraction state of one answer (None for a turn without one: a question, a skip)."""
        row = self._read(
            lambda conn: conn.execute(
                select(extractions).where(extractions.c.project_id == project_id, extractions.c.turn_id == turn_id)
            ).first()
        )
        return _extraction_state(row) if row is not None else None

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
