"""The row bundle of a whole project (export and import): which tables it holds, which columns, how values read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Column, DateTime, Table

from assistant.store.rows import aware
from assistant.store.tables import (
    extractions,
    id_counters,
    model_usage,
    object_versions,
    objects,
    projects,
    section_versions,
    stakeholders,
    turns,
)

BUNDLE_TABLES = (
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


def bundle_columns(table: Table) -> list[Column]:
    return [column for column in table.columns if column.name != "seq"]


def from_json_value(column: Column, value: Any) -> Any:
    if isinstance(column.type, DateTime) and isinstance(value, str):
        return aware(datetime.fromisoformat(value))
    return value
