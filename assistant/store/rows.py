"""Between rows and domain records: text and values checked before a write, records built from rows read."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Connection

from assistant.errors import InputError
from assistant.schemas import DraftSection, Language, Project, Requirement, Tracked, Turn, TurnMeta
from assistant.store.tables import turns


def aware(value: datetime) -> datetime:
    # SQLite hands datetimes back without their zone; they were written in UTC.
    return value if value.tzinfo else value.replace(tzinfo=UTC)


_CONTROL_CHARACTER = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""C0 controls and DEL, except tab and line breaks: PostgreSQL refuses NUL, XML exports cannot hold the others."""

_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
"""What bytes that were not UTF-8 become once decoded with `surrogateescape`; no encoding can store them."""


def check_text(field: str, value: Any) -> None:
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


def validated(cls: type, what: str, **values: Any) -> Any:
    try:
        return cls(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or what
        raise InputError(field, f"invalid {what} `{field}`: {first['msg']}") from exc


def id_sort_key(object_id: str) -> tuple[str, int]:
    prefix, _, number = object_id.rpartition("-")
    return prefix, int(number) if number.isdigit() else 0


def turn_from_row(row: Any) -> Turn:
    meta = TurnMeta.model_validate(row.meta or {})
    return Turn(**{**row._mapping, "created_at": aware(row.created_at), "meta": meta})


def with_quality(conn: Connection, project_id: str, project_language: str, obj: Tracked) -> Tracked:
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


def imported_quality(conn: Connection, project: dict[str, Any], data: Any) -> Any:
    """The data of an imported requirement row with its quality recomputed; left alone when it does not validate,
    so that the import reports the bad row as it would have without this step."""
    try:
        requirement = Requirement.model_validate(data)
    except ValidationError:
        return data
    language = project.get("language") or Language.FR.value
    return with_quality(conn, str(project.get("id")), language, requirement).model_dump(mode="json")


def project_from_row(row: Any) -> Project:
    return Project(**{**row._mapping, "created_at": aware(row.created_at)})


def section_from_row(row: Any) -> DraftSection:
    values = {key: row._mapping[key] for key in DraftSection.model_fields if key in row._mapping}
    values["created_at"] = aware(row.created_at)
    return DraftSection(**values)
