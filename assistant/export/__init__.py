"""Exports of a project: the formats Cahier offers, each rendered by its own module from the store.

One registry serves the command line and the app, so `cahier export` and the download buttons always offer
the same formats and produce the same bytes.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from assistant.store import Store


@dataclass(frozen=True)
class ExportFormat:
    name: str
    title: str
    module: str
    function: str
    extension: str
    mime: str
    part: bool = False
    """Whether the file is one part of the specification (the summary), named `<stem>-<part>.<extension>` so that
    it does not take the name of the whole document in the same format."""

    @property
    def binary(self) -> bool:
        return self.extension in ("docx", "pdf", "xlsx")

    def file_name(self, stem: str, part_name: str | None = None) -> str:
        """The file's name for a project whose name gives `stem`; `part_name` words the part in the user's
        language ("synthese"), else the format's own name is used."""
        return f"{stem}-{part_name or self.name}.{self.extension}" if self.part else f"{stem}.{self.extension}"


FORMATS: tuple[ExportFormat, ...] = (
    ExportFormat(
        "docx",
        "Word",
        "assistant.export.docx",
        "export_docx",
        "docx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ExportFormat("pdf", "PDF", "assistant.export.pdf", "export_pdf", "pdf", "application/pdf"),
    ExportFormat("summary", "PDF", "assistant.export.pdf", "export_summary_pdf", "pdf", "application/pdf", part=True),
    ExportFormat("md", "Markdown", "assistant.export.markdown", "export_markdown", "md", "text/markdown"),
    ExportFormat(
        "xlsx",
        "Excel",
        "assistant.export.xlsx",
        "export_xlsx",
        "xlsx",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    ExportFormat("csv", "CSV (Jira)", "assistant.export.csv", "export_csv", "csv", "text/csv"),
    ExportFormat("reqif", "ReqIF", "assistant.export.reqif", "export_reqif", "reqif", "application/xml"),
    ExportFormat("json", "JSON", "assistant.export.json", "export_project", "json", "application/json"),
)
"""Every format, in the order the app shows them; modules load only when their format is asked for."""

BY_NAME = {fmt.name: fmt for fmt in FORMATS}


def render_export(store: Store, project_id: str, name: str) -> str | bytes:
    """The project in format `name` (`docx`, `pdf`, `summary`, `md`, `xlsx`, `csv`, `reqif`, `json`)."""
    fmt = BY_NAME[name]
    return getattr(importlib.import_module(fmt.module), fmt.function)(store, project_id)


def file_bytes(content: str | bytes) -> bytes:
    """The bytes of the exported file: text is UTF-8 and ends with a newline."""
    if isinstance(content, bytes):
        return content
    return (content if content.endswith("\n") else content + "\n").encode("utf-8")
