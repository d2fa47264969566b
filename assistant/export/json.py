"""The JSON export: the whole project, every row and version, restorable with `cahier import`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from assistant.errors import InputError
from assistant.schemas import OBJECT_TYPES, DraftSection, Project, Stakeholder, Turn
from assistant.store import Store

FORMAT: Final = "cahier-project"
FORMAT_VERSION: Final = 1
MAX_IMPORT_BYTES = 50 * 1024 * 1024
"""Largest file `cahier import` reads: far above a real project (a 300-requirement one is ~1 MB)."""


class ProjectBundle(BaseModel):
    """The file format: a header and the project's rows, table by table."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["cahier-project"] = FORMAT
    format_version: Literal[1] = FORMAT_VERSION
    exported_at: datetime
    tables: dict[str, list[dict[str, Any]]]


def export_project(store: Store, project_id: str) -> str:
    """The project as indented JSON text."""
    bundle = ProjectBundle(exported_at=datetime.now(UTC), tables=store.export_rows(project_id))
    return bundle.model_dump_json(indent=2)


def read_bundle(path: Path) -> ProjectBundle:
    """Read and check an export file without touching the store.

    Raises:
        InputError: naming the file and the first problems when it is unreadable, not JSON, or not a project.
    """
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputError("import file", f"cannot read {str(path)!r}: {exc.strerror}") from exc
    if size > MAX_IMPORT_BYTES:
        raise InputError("import file", f"{str(path)!r} is {size:,} bytes; the limit is {MAX_IMPORT_BYTES:,} bytes")
    try:
        raw = json.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError("import file", f"{str(path)!r} is not UTF-8 text: {exc.reason}") from exc
    except json.JSONDecodeError as exc:
        raise InputError(
            "import file", f"{str(path)!r} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from exc
    except RecursionError as exc:  # `[[[[…` thousands deep: no export nests beyond a few levels
        raise InputError(
            "import file", f"{str(path)!r} is not a Cahier project export: its JSON nests too deeply"
        ) from exc
    except ValueError as exc:  # e.g. an integer of more digits than Python converts (`int_max_str_digits`)
        raise InputError("import file", f"{str(path)!r} is not a Cahier project export: {exc}") from exc
    try:
        bundle = ProjectBundle.model_validate(raw)
        _check_rows(bundle.tables)
    except InputError as exc:
        raise InputError("import file", f"{str(path)!r} is not a Cahier project export: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'file'}: {err['msg']}" for err in exc.errors()[:3]
        )
        raise InputError("import file", f"{str(path)!r} is not a Cahier project export: {problems}") from exc
    return bundle


def _check_rows(tables: dict[str, list[dict[str, Any]]]) -> None:
    """Validate the rows that carry domain objects, so that a tampered file cannot store nonsense."""
    for row in tables.get("projects", []):
        Project.model_validate(row)
    for row in tables.get("stakeholders", []):
        Stakeholder.model_validate({k: v for k, v in row.items() if k != "project_id"})
    for row in tables.get("turns", []):
        Turn.model_validate(row)
    for row in tables.get("section_versions", []):
        DraftSection.model_validate(row)
    for table in ("objects", "object_versions"):
        for row in tables.get(table, []):
            type_ = row.get("type") if table == "objects" else _object_type(tables, row.get("object_id"))
            cls = OBJECT_TYPES.get(str(type_))
            if cls is None:
                raise InputError("import file", f"`{table}` holds an object of unknown type {type_!r}")
            cls.model_validate(row.get("data"))


def _object_type(tables: dict[str, list[dict[str, Any]]], object_id: Any) -> Any:
    for row in tables.get("objects", []):
        if row.get("id") == object_id:
            return row.get("type")
    return None


def import_project(store: Store, path: Path) -> str:
    """Restore a project from an export file; nothing changes if any check fails. Returns its id."""
    bundle = read_bundle(path)
    return store.import_rows(bundle.tables)
