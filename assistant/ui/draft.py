"""The draft review page: each section's text and state, edit in place, approve, proposals, history.

Every action passes the section version that was on screen when the person clicked (`expected_version`), so two
reviewers cannot silently overwrite each other: the second one is told the section changed and, if they were
editing, shown the version stored meanwhile next to their own text, which stays in the editor.
"""

from __future__ import annotations

import contextlib

import streamlit as st

from assistant.draft import workflow
from assistant.errors import CahierError, StaleWriteError
from assistant.schemas import DraftSection, SectionId, SectionState
from assistant.ui import display
from assistant.ui.i18n import has, label, section_title, t
from assistant.ui.services import get_services
from assistant.ui.shell import Context, page_context, require_project

_EDITING_KEY = "cahier.draft_editing"
"""{"project/section": version shown when "Edit" was clicked}; the save expects that version."""
_ERRORS_KEY = "cahier.draft_errors"
_THEIRS_KEY = "cahier.draft_theirs"
"""{"project/section": the stored version} for a save that was refused: shown beside the person's own text."""

_STATE_COLOURS = {
    SectionState.GENERATED: "gray",
    SectionState.EDITED: "blue",
    SectionState.APPROVED: "green",
    SectionState.PROPOSED: "orange",
}


def render() -> None:
    context = page_context()
    project = require_project(context)
    store = context.store
    # New answers come in here: generated sections follow them, reviewed ones get a proposal. A clash with another
    # reviewer's write is left for the next run to catch up.
    with contextlib.suppress(CahierError):
        workflow.regenerate(store, project.id)
    views = workflow.review(store, project.id)
    st.title(context.t("draft.title"), anchor=False)
    st.caption(context.t("draft.intro"))
    approved = sum(view.state is SectionState.APPROVED for view in views.values())
    st.progress(approved / len(views), text=context.tn("draft.progress", approved, total=len(views)))
    for number, (section, view) in enumerate(views.items(), start=1):
        _section(context, number, section, view)


def _section(context: Context, number: int, section: SectionId, view: workflow.SectionView) -> None:
    project = context.project
    assert project is not None
    language = context.language
    with st.container(border=True, key=f"draft.section.{section.value}"):
        heading = f"### {number}. {display.text(section_title(section, language))}"
        badges = f":{_STATE_COLOURS[view.state]}-badge[{label(view.state, language)}]"
        if view.changes_available:
            badges += f" :orange-badge[:material/update: {context.t('draft.changes')}]"
        st.markdown(f"{heading}  \n{badges}")
        slot = _slot(project.id, section.value)
        error = st.session_state.get(_ERRORS_KEY, {}).pop(slot, None)
        if error:
            st.error(error, icon=":material/sync_problem:")
        theirs = st.session_state.get(_THEIRS_KEY, {}).pop(slot, None)
        if theirs is not None:
            _theirs(context, section, theirs)
        editing = st.session_state.get(_EDITING_KEY, {})
        if slot in editing:
            _editor(context, section, view, editing[slot])
        else:
            st.markdown(display.demoted(view.text, 3))
            _actions(context, section, view)
        if view.changes_available:
            _proposal(context, section, view)
        _history(context, section, view)


def _theirs(context: Context, section: SectionId, version: DraftSection) -> None:
    """The version someone else stored while this person was editing, so they can merge instead of guess."""
    with st.container(border=True, key=f"draft.theirs.{section.value}"):
        st.caption(
            context.t(
                "draft.theirs",
                version=version.version,
                state=label(version.state, context.language),
                author=display.text(version.author),
                date=version.created_at.strftime("%Y-%m-%d %H:%M"),
            )
        )
        st.markdown(display.demoted(version.text, 3))


def _actions(context: Context, section: SectionId, view: workflow.SectionView) -> None:
    project = context.project
    assert project is not None
    with st.container(horizontal=True, gap="small"):
        st.button(
            context.t("draft.edit"),
            key=f"draft.edit.{section.value}",
            icon=":material/edit:",
            on_click=_start_editing,
            args=(project.id, section.value, view.version),
        )
        st.button(
            context.t("draft.approve"),
            key=f"draft.approve.{section.value}",
            icon=":material/verified:",
            type="primary",
            disabled=view.state is SectionState.APPROVED,
            on_click=_act,
            args=("approve", project.id, section.value, view.version, _author(context), context.language.value),
        )


def _editor(context: Context, section: SectionId, view: workflow.SectionView, version: int) -> None:
    project = context.project
    assert project is not None
    key = _text_key(project.id, section.value)
    st.text_area(context.t("draft.edit"), value=view.text, height=260, key=key, label_visibility="collapsed")
    with st.container(horizontal=True, gap="small"):
        st.button(
            context.t("draft.save"),
            key=f"draft.save.{section.value}",
            icon=":material/save:",
            type="primary",
            on_click=_act,
            args=("edit", project.id, section.value, version, _author(context), context.language.value),
        )
        st.button(
            context.t("draft.cancel"),
            key=f"draft.cancel.{section.value}",
            type="tertiary",
            on_click=_stop_editing,
            args=(project.id, section.value),
        )


def _proposal(context: Context, section: SectionId, view: workflow.SectionView) -> None:
    project = context.project
    assert project is not None
    with st.expander(context.t("draft.proposal"), icon=":material/difference:", expanded=True):
        st.code(view.diff, language="diff")
        with st.container(horizontal=True, gap="small"):
            st.button(
                context.t("draft.accept"),
                key=f"draft.accept.{section.value}",
                icon=":material/check:",
                on_click=_act,
                args=("accept", project.id, section.value, view.version, _author(context), context.language.value),
            )
            st.button(
                context.t("draft.dismiss"),
                key=f"draft.dismiss.{section.value}",
                icon=":material/close:",
                type="tertiary",
                on_click=_act,
                args=("dismiss", project.id, section.value, view.version, _author(context), context.language.value),
            )


def _history(context: Context, section: SectionId, view: workflow.SectionView) -> None:
    project = context.project
    assert project is not None
    if view.version == 0:
        return
    entries = workflow.history(context.store, project.id, section)
    with st.expander(f"{context.t('draft.history')} ({len(entries)})", icon=":material/history:"):
        for entry in reversed(entries):
            version = entry.version
            row, action = st.columns([4, 1], vertical_alignment="center")
            row.markdown(
                context.t(
                    "draft.history_row",
                    version=version.version,
                    event=_event_label(context, entry.event),
                    author=display.text(version.author),
                    date=version.created_at.strftime("%Y-%m-%d %H:%M"),
                )
            )
            if version.text and version.state is not SectionState.PROPOSED and version.version != view.version:
                action.button(
                    context.t("draft.restore", version=version.version),
                    key=f"draft.restore.{section.value}.{version.version}",
                    type="tertiary",
                    on_click=_act,
                    args=(
                        "restore",
                        project.id,
                        section.value,
                        view.version,
                        _author(context),
                        context.language.value,
                        version.version,
                    ),
                )


def _event_label(context: Context, event: str) -> str:
    key = f"draft.event.{event}"
    return context.t(key) if has(key, context.language) else event


def _author(context: Context) -> str:
    """Draft versions name a person (the document's revision table prints it)."""
    return context.speaker.name if context.speaker else "reviewer"


# -- callbacks (run before the page, with the version that was on screen) --------------------------------


def _slot(project_id: str, section: str) -> str:
    return f"{project_id}/{section}"


def _text_key(project_id: str, section: str) -> str:
    return f"draft.text.{project_id}.{section}"


def _start_editing(project_id: str, section: str, version: int) -> None:
    st.session_state.setdefault(_EDITING_KEY, {})[_slot(project_id, section)] = version


def _stop_editing(project_id: str, section: str) -> None:
    st.session_state.setdefault(_EDITING_KEY, {}).pop(_slot(project_id, section), None)
    st.session_state.pop(_text_key(project_id, section), None)


def _act(
    action: str, project_id: str, section: str, version: int, author: str, language: str, restore: int = 0
) -> None:
    store = get_services().store
    try:
        if action == "approve":
            workflow.approve_section(store, project_id, section, author=author, expected_version=version)
        elif action == "edit":
            text = st.session_state.get(_text_key(project_id, section), "")
            workflow.edit_section(store, project_id, section, text, author=author, expected_version=version)
            _stop_editing(project_id, section)
        elif action == "accept":
            workflow.accept_proposal(store, project_id, section, author=author, expected_version=version)
        elif action == "dismiss":
            workflow.dismiss_proposal(store, project_id, section, author=author, expected_version=version)
        elif action == "restore":
            workflow.restore_version(store, project_id, section, restore, author=author, expected_version=version)
    except StaleWriteError as exc:
        slot = _slot(project_id, section)
        current, latest = workflow.stored(store, project_id, section)
        # The store reports -1 when two writers raced inside one instant; the history says what is there now.
        actual = exc.actual_version if exc.actual_version >= 0 else latest
        st.session_state.setdefault(_ERRORS_KEY, {})[slot] = t(
            "draft.stale", language, expected=exc.expected_version, actual=actual
        )
        editing = st.session_state.setdefault(_EDITING_KEY, {})
        if action == "edit" and slot in editing and current is not None:
            # The editor keeps this person's text; the stored version is shown next to it, and a second "Save"
            # (made after reading it) is expected to apply on top of it rather than be refused forever.
            st.session_state.setdefault(_THEIRS_KEY, {})[slot] = current
            editing[slot] = latest
    except CahierError as exc:
        error = t("draft.error", language, error=display.text(str(exc)))
        st.session_state.setdefault(_ERRORS_KEY, {})[_slot(project_id, section)] = error
