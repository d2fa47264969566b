"""The export page: one download button per format that `assistant/export/` offers, the same files as the CLI."""

from __future__ import annotations

import re
import unicodedata

import streamlit as st

from assistant.errors import CahierError
from assistant.export import FORMATS, file_bytes, render_export
from assistant.ui import display
from assistant.ui.shell import page_context, require_project

ICONS = {
    "docx": ":material/article:",
    "pdf": ":material/picture_as_pdf:",
    "summary": ":material/summarize:",
    "md": ":material/notes:",
    "xlsx": ":material/grid_on:",
    "csv": ":material/table_chart:",
    "reqif": ":material/account_tree:",
    "json": ":material/data_object:",
}


def file_stem(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^A-Za-z0-9]+", "-", ascii_name).strip("-").lower() or "cahier"


def render() -> None:
    context = page_context()
    project = require_project(context)
    st.title(context.t("export.title"), anchor=False)
    st.caption(context.t("export.intro"))
    stem = file_stem(project.name)
    for spec in FORMATS:
        # the one part exported alone is the summary: its title and file name are worded in the user's language
        title = context.t("export.summary_title") if spec.part else spec.title
        file_name = spec.file_name(stem, context.t("export.summary_file") if spec.part else None)
        with st.container(border=True):
            text, action = st.columns([4, 1], vertical_alignment="center")
            with text:
                st.markdown(f"**{title}** · `{file_name}`")
                st.caption(context.t(f"export.{spec.name}"))
            try:
                data = file_bytes(render_export(context.store, project.id, spec.name))
            except CahierError as exc:
                text.error(context.t("export.failed", error=display.text(str(exc))))
                continue
            with action:
                st.download_button(
                    context.t("export.download"),
                    data=data,
                    file_name=file_name,
                    mime=spec.mime,
                    key=f"export.{spec.name}",
                    icon=ICONS[spec.name],
                    on_click="ignore",
                    width="stretch",
                )
