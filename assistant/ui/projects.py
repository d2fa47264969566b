"""The project picker: open an existing project or create one (name, company, language)."""

from __future__ import annotations

import streamlit as st

from assistant.errors import CahierError
from assistant.schemas import Language, Speaker
from assistant.ui import display
from assistant.ui.shell import LANGUAGE_PARAM, PAGE_FILES, Context, has_access, open_project, page_context


def render() -> None:
    context = page_context()
    _header(context)
    listing, creation = st.columns([3, 2], gap="large")
    with listing:
        _project_list(context)
    with creation:
        _creation_form(context)


def _header(context: Context) -> None:
    title, toggle = st.columns([4, 1], vertical_alignment="bottom")
    with title:
        st.title("Cahier", anchor=False)
        st.caption(context.t("app.tagline"))
    with toggle:
        if context.project is None:
            choice = st.segmented_control(
                context.t("projects.ui_language"),
                ["fr", "en"],
                default=context.language.value,
                format_func=str.upper,
                key="projects.ui_language",
                label_visibility="collapsed",
            )
            if choice and choice != context.language.value:
                st.query_params[LANGUAGE_PARAM] = choice
                st.rerun()


def _project_list(context: Context) -> None:
    st.subheader(context.t("projects.title"), anchor=False)
    projects = list(reversed(context.store.list_projects()))
    if not projects:
        st.info(context.t("projects.none"))
        return
    protected = context.store.protected_project_ids()
    for project in projects:
        with st.container(border=True):
            text, action = st.columns([5, 1], vertical_alignment="center")
            if project.id in protected and not has_access(context.store, project.id):
                # Locked: its id and date only; the name, company and answers wait for the code.
                with text:
                    st.markdown(f":material/lock: **{context.t('projects.locked')}**")
                    st.caption(f"`{project.id}` · {project.created_at.strftime('%Y-%m-%d')}")
                with action:
                    if st.button(context.t("projects.unlock"), key=f"open.{project.id}", width="stretch"):
                        _go_to_chat(project.id)
                continue
            with text:
                st.markdown(f"**{display.text(project.name)}**")
                turns = [turn for turn in context.store.list_turns(project.id) if turn.speaker is Speaker.STAKEHOLDER]
                facts = [display.text(project.company)] if project.company else []
                facts += [
                    project.language.value.upper(),
                    context.tn("projects.turns", len(turns)),
                    project.created_at.strftime("%Y-%m-%d"),
                ]
                st.caption(" · ".join(facts))
            with action:
                if context.project is not None and context.project.id == project.id:
                    st.badge(context.t("projects.current"), color="green")
                elif st.button(context.t("projects.open"), key=f"open.{project.id}", width="stretch"):
                    _go_to_chat(project.id)


def _creation_form(context: Context) -> None:
    st.subheader(context.t("projects.new"), anchor=False)
    with st.form("projects.create", border=True):
        name = st.text_input(context.t("projects.name"), max_chars=200, placeholder=context.t("projects.name_help"))
        company = st.text_input(context.t("projects.company"), max_chars=500)
        language = st.radio(
            context.t("projects.language"),
            [Language.FR, Language.EN],
            index=0 if context.language is Language.FR else 1,
            format_func=lambda code: context.t(f"language.{code.value}"),
            horizontal=True,
        )
        if st.form_submit_button(context.t("projects.create"), type="primary", width="stretch"):
            try:
                project = context.store.create_project(name, language=language, company=company)
            except CahierError as exc:
                st.error(str(exc))
                return
            _go_to_chat(project.id)


def _go_to_chat(project_id: str) -> None:
    open_project(project_id)
    st.switch_page(PAGE_FILES["chat"], query_params={"project": project_id})
