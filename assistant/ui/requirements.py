"""The requirements page: edit requirements in a table, see their quality, settle conflicts and open questions.

Every save passes the version read when the table was shown (`expected_version`), so a change someone else made
in between is refused with a clear message instead of being overwritten.
"""

from __future__ import annotations

import math
from enum import StrEnum
from typing import Any, Literal

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from assistant.errors import CahierError, StaleWriteError
from assistant.quality import Severity, check, current_quality, describe
from assistant.schemas import (
    Conflict,
    Horizon,
    Language,
    MoSCoW,
    NfrCategory,
    OpenQuestion,
    OpenStatus,
    Requirement,
    RequirementKind,
    RequirementQuality,
    RequirementStatus,
    SectionId,
    Tracked,
)
from assistant.ui import display
from assistant.ui.i18n import choice_placeholder, label, section_title
from assistant.ui.shell import Context, notify, page_context, require_project

_GENERATION_KEY = "cahier.req_editor_generation"
_SNAPSHOT_KEY = "cahier.req_snapshot"
"""(project id, {requirement id: (requirement, version)}) as read when the table was shown without edits."""

EDITABLE = ("statement", "kind", "category", "moscow", "horizon", "status")
_ENUMS: dict[str, type[StrEnum]] = {
    "kind": RequirementKind,
    "category": NfrCategory,
    "moscow": MoSCoW,
    "horizon": Horizon,
    "status": RequirementStatus,
}
_SEVERITY_COLOURS = {Severity.ERROR: "red", Severity.WARNING: "orange", Severity.INFO: "blue"}


def render() -> None:
    context = page_context()
    project = require_project(context)
    store = context.store
    requirements = store.list_versioned(project.id, Requirement)
    conflicts = store.list_versioned(project.id, Conflict)
    questions = store.list_versioned(project.id, OpenQuestion)
    # the quality stored at the last save; recomputed only for rows saved before it was stored or by older rules
    reports = {req.id: current_quality(req, _language_of(context, req)) for req, _ in requirements}

    st.title(context.t("req.title"), anchor=False)
    _metrics(context, [req for req, _ in requirements], reports)
    open_conflicts = [pair for pair in conflicts if pair[0].status is OpenStatus.OPEN]
    open_questions = [pair for pair in questions if pair[0].status is OpenStatus.OPEN]
    table, quality, conflict_tab, question_tab = st.tabs(
        [
            context.t("req.tab_list", count=len(requirements)),
            context.t("req.tab_quality"),
            context.t("req.tab_conflicts", count=len(open_conflicts)),
            context.t("req.tab_questions", count=len(open_questions)),
        ]
    )
    with table:
        shown = _filters(context, [req for req, _ in requirements])
        _editor(context, requirements, shown, reports)
    with quality:
        _quality(context, [req for req, _ in requirements if req.id in shown], reports)
    with conflict_tab:
        _conflicts(context, conflicts)
    with question_tab:
        _questions(context, questions)


def _language_of(context: Context, requirement: Requirement) -> Language:
    """The language the requirement was said in (its first source turn), else the project's."""
    turns = {turn.id: turn for turn in context.turns}
    for turn_id in requirement.source_turn_ids:
        if turn_id in turns:
            return turns[turn_id].language
    return context.language


def _metrics(context: Context, requirements: list[Requirement], reports: dict[str, RequirementQuality]) -> None:
    if not requirements:
        return
    total, must, quality = st.columns(3)
    total.metric(context.t("req.metric_total"), len(requirements))
    musts = sum(req.moscow is MoSCoW.MUST for req in requirements)
    must.metric(context.t("req.metric_must"), f"{musts} ({musts * 100 // len(requirements)} %)")
    average = sum(report.score for report in reports.values()) / len(reports)
    quality.metric(context.t("req.metric_quality"), f"{average:.0f} / 100")


# -- filters and the table -------------------------------------------------------------------------------


def _filters(context: Context, requirements: list[Requirement]) -> set[str]:
    """The ids of the requirements that pass the section, person and status filters."""
    assert context.project is not None  # the page stops before the filters without a project
    sections = [s for s in SectionId if any(req.section is s for req in requirements)]
    people = [s.id for s in context.stakeholders]
    statuses = list(RequirementStatus)
    by_section, by_person, by_status = st.columns(3)
    # Streamlit's own placeholders ("Choose options", "No options to select") are English: ours come from the catalog.
    chosen_sections = by_section.multiselect(
        context.t("req.filter_section"),
        sections,
        format_func=lambda s: section_title(s, context.language),
        key=f"req.filter.section.{context.project.id}",
        placeholder=choice_placeholder(sections, context.language),
    )
    chosen_people = by_person.multiselect(
        context.t("req.filter_stakeholder"),
        people,
        format_func=context.person_name,
        key=f"req.filter.person.{context.project.id}",
        placeholder=choice_placeholder(people, context.language),
    )
    chosen_status = by_status.multiselect(
        context.t("req.filter_status"),
        statuses,
        format_func=lambda s: label(s, context.language),
        key=f"req.filter.status.{context.project.id}",
        placeholder=choice_placeholder(statuses, context.language),
    )
    return {
        req.id
        for req in requirements
        if (not chosen_sections or req.section in chosen_sections)
        and (not chosen_people or set(req.stakeholder_ids) & set(chosen_people))
        and (not chosen_status or req.status in chosen_status)
    }


def _editor_key(project_id: str, shown: set[str]) -> str:
    generation = st.session_state.setdefault(_GENERATION_KEY, 0)
    return f"req.editor.{project_id}.{generation}.{abs(hash(tuple(sorted(shown)))) % 10**8}"


def _has_edits(state: Any) -> bool:
    return isinstance(state, dict) and any(state.get(name) for name in ("edited_rows", "added_rows", "deleted_rows"))


def _editor(
    context: Context,
    requirements: list[tuple[Requirement, int]],
    shown: set[str],
    reports: dict[str, RequirementQuality],
) -> None:
    project = context.project
    assert project is not None
    if not requirements:
        st.info(context.t("req.none"))
        return
    key = _editor_key(project.id, shown)
    held = st.session_state.get(_SNAPSHOT_KEY)
    snapshot: dict[str, tuple[Requirement, int]] | None = held[1] if held and held[0] == project.id else None
    if snapshot is None or not _has_edits(st.session_state.get(key)):
        # The versions read now are the ones every save of this table will expect.
        snapshot = {req.id: (req, version) for req, version in requirements}
        st.session_state[_SNAPSHOT_KEY] = (project.id, snapshot)
    rows = [pair for req_id, pair in snapshot.items() if req_id in shown]
    if not rows:
        st.info(context.t("req.none_filtered"))
        return
    frame = pd.DataFrame(
        [
            {
                "id": req.id,
                "statement": req.statement,
                "kind": req.kind.value,
                "category": req.category.value if req.category else None,
                "moscow": req.moscow.value,
                "horizon": req.horizon.value if req.horizon else None,
                "status": req.status.value,
                "score": reports[req.id].score if req.id in reports else None,
                "source": ", ".join(context.person_name(s) for s in req.stakeholder_ids),
                "version": version,
            }
            for req, version in rows
        ]
    ).set_index("id", drop=False)
    edited = st.data_editor(
        frame,
        key=key,
        hide_index=True,
        width="stretch",
        num_rows="fixed",
        disabled=["id", "score", "source", "version"],
        column_order=["id", "statement", "kind", "category", "moscow", "horizon", "status", "score", "source"],
        column_config=_column_config(context),
    )
    changes = _changes(snapshot, edited)
    if changes:
        st.caption(context.tn("req.pending", len(changes)))
    save, reload = st.columns([1, 1])
    with save:
        clicked = st.button(context.t("req.save"), type="primary", icon=":material/save:", disabled=not changes)
    with reload:
        if st.button(context.t("req.reload"), icon=":material/refresh:", type="tertiary"):
            _reset_editor()
            st.rerun()
    if clicked:
        _save(context, snapshot, changes)


def _column_config(context: Context) -> dict[str, Any]:
    language = context.language

    def options(name: str, *, required: bool, width: Literal["small", "medium", "large"] = "medium") -> Any:
        enum = _ENUMS[name]
        return st.column_config.SelectboxColumn(
            context.t(f"req.col_{name}"),
            options=[member.value for member in enum],
            format_func=lambda value: label(enum(str(value)), language),
            required=required,
            width=width,
        )

    return {
        "id": st.column_config.TextColumn(context.t("req.col_id"), width="small"),
        "statement": st.column_config.TextColumn(
            context.t("req.col_statement"), width="large", required=True, max_chars=2000
        ),
        "kind": options("kind", required=True),
        "category": options("category", required=False),
        "moscow": options("moscow", required=True),
        "horizon": options("horizon", required=False, width="small"),
        "status": options("status", required=True, width="small"),
        "score": st.column_config.ProgressColumn(
            context.t("req.col_score"), min_value=0, max_value=100, format="%d", width="small"
        ),
        "source": st.column_config.TextColumn(context.t("req.col_source"), width="small"),
    }


def _clean(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return value


def _changes(
    snapshot: dict[str, tuple[Requirement, int]], edited: pd.DataFrame
) -> list[tuple[Requirement, int, dict[str, Any]]]:
    """(requirement as read, version read, changed fields) for every row the person edited."""
    changes = []
    for req_id, row in edited.iterrows():
        if req_id not in snapshot:
            continue
        req, version = snapshot[str(req_id)]
        before = req.model_dump(mode="json")
        updates = {name: _clean(row[name]) for name in EDITABLE if _clean(row[name]) != before[name]}
        if updates:
            changes.append((req, version, updates))
    return changes


def _reset_editor() -> None:
    st.session_state[_GENERATION_KEY] = st.session_state.get(_GENERATION_KEY, 0) + 1
    st.session_state.pop(_SNAPSHOT_KEY, None)


def _save(
    context: Context,
    snapshot: dict[str, tuple[Requirement, int]],
    changes: list[tuple[Requirement, int, dict[str, Any]]],
) -> None:
    project = context.project
    assert project is not None
    saved, problems = 0, []
    for req, version, updates in changes:
        try:
            updated = Requirement.model_validate({**req.model_dump(), **updates})
        except ValidationError as exc:
            problems.append(context.t("req.invalid", id=req.id, error=exc.errors()[0]["msg"]))
            continue
        try:
            new_version = context.store.save_object(
                project.id, updated, changed_by=context.author, expected_version=version
            )
        except StaleWriteError as exc:
            refused = context.t("req.stale", id=req.id, expected=exc.expected_version, actual=exc.actual_version)
            problems.append(f"{refused} {_theirs(context, req.id)}".rstrip())
            continue
        except CahierError as exc:
            problems.append(context.t("req.invalid", id=req.id, error=str(exc)))
            continue
        snapshot[req.id] = (updated, new_version)
        saved += 1
    if not problems:
        _reset_editor()
        notify(context.tn("req.saved", saved))
        st.rerun()
    if saved:
        st.success(context.tn("req.saved", saved))
    for problem in problems:
        st.error(display.text(problem), icon=":material/sync_problem:")


def _theirs(context: Context, requirement_id: str) -> str:
    """The stored version that refused a save, so the person sees the other change without reloading."""
    project = context.project
    assert project is not None
    history = context.store.object_history(project.id, requirement_id)
    if not history or history[-1].change == "deleted":
        return ""
    latest = history[-1]
    statement = str(latest.data.get("statement", ""))
    author = context.person_name(latest.changed_by)
    return context.t("req.theirs", version=latest.version, author=author, statement=statement)


# -- quality ---------------------------------------------------------------------------------------------


def _quality(context: Context, requirements: list[Requirement], reports: dict[str, RequirementQuality]) -> None:
    if not requirements:
        st.info(context.t("req.none"))
        return
    st.caption(context.t("req.quality_intro"))
    for req in sorted(requirements, key=lambda r: (reports[r.id].score, r.id)):
        report = reports[req.id]
        icon = ":material/check_circle:" if report.score >= 80 else ":material/error:"
        colour = "green" if report.score >= 80 else "orange" if report.score >= 50 else "red"
        title = f"{req.id} · :{colour}[{report.score}/100] — {display.text(_short(req.statement))}"
        with st.expander(title, icon=icon):
            language = _language_of(context, req)
            colours = [_SEVERITY_COLOURS[Severity(f.severity)] for f in report.findings]
            pairs = list(zip(report.findings, colours, strict=True))
            spans = [(f.start, f.end, colour) for f, colour in pairs if f.end > f.start]
            st.markdown(display.highlighted(req.statement, spans))
            if not report.findings:
                st.caption(context.t("req.quality_clean"))
            for finding, badge in pairs:
                severity = context.t(f"severity.{finding.severity}")
                message, hint = describe(finding, language)
                st.markdown(
                    f":{badge}-badge[{severity}] {display.text(message)}  \n"
                    f":gray[{context.t('req.quality_hint')} : {display.text(hint)}]"
                )
            suggestion = check(req, language).suggestion if report.findings else None
            if suggestion is not None:
                st.markdown(f"**{context.t('req.suggestion')}**")
                st.info(display.text(suggestion.text))


def _short(text: str, limit: int = 90) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- conflicts and open questions ------------------------------------------------------------------------


def _conflicts(context: Context, conflicts: list[tuple[Conflict, int]]) -> None:
    open_ones = [pair for pair in conflicts if pair[0].status is OpenStatus.OPEN]
    if not open_ones:
        st.info(context.t("conflicts.none"))
    for conflict, version in open_ones:
        with st.container(border=True):
            st.markdown(f"**{conflict.id} · {display.text(conflict.subject)}**")
            st.markdown(
                "\n".join(
                    "- "
                    + context.t(
                        "conflicts.said",
                        who=display.text(context.person_name(s.stakeholder_id)),
                        text=display.text(s.text),
                    )
                    for s in conflict.statements
                )
            )
            _resolve_form(
                context,
                conflict,
                version,
                "resolution",
                "conflicts.resolution",
                "conflicts.resolve",
                help_key="conflicts.resolution_help",
            )
    resolved = [conflict for conflict, _ in conflicts if conflict.status is OpenStatus.RESOLVED]
    if resolved:
        with st.expander(context.t("conflicts.resolved", count=len(resolved))):
            for conflict in resolved:
                subject, resolution = display.text(conflict.subject), display.text(conflict.resolution)
                st.markdown(f"- **{conflict.id} · {subject}** → {resolution}")


def _questions(context: Context, questions: list[tuple[OpenQuestion, int]]) -> None:
    open_ones = [pair for pair in questions if pair[0].status is OpenStatus.OPEN]
    if not open_ones:
        st.info(context.t("questions.none"))
    for question, version in open_ones:
        with st.container(border=True):
            section = display.text(section_title(question.section, context.language))
            st.markdown(f"**{question.id}** :gray-badge[{section}]")
            st.markdown(display.text(question.question))
            _resolve_form(context, question, version, "answer", "questions.answer", "questions.resolve")
    answered = [question for question, _ in questions if question.status is OpenStatus.RESOLVED]
    if answered:
        with st.expander(context.t("questions.resolved", count=len(answered))):
            for question in answered:
                st.markdown(f"- **{question.id}** {display.text(question.question)} → {display.text(question.answer)}")


def _resolve_form(
    context: Context,
    obj: Tracked,
    version: int,
    field: str,
    label_key: str,
    submit_key: str,
    *,
    help_key: str | None = None,
) -> None:
    project = context.project
    assert project is not None
    with st.form(f"resolve.{obj.id}", border=False):
        text = st.text_area(
            context.t(label_key),
            max_chars=500,
            height=80,
            placeholder=context.t(help_key) if help_key else None,
            key=f"resolve.{obj.id}.text",
        )
        if not st.form_submit_button(context.t(submit_key), icon=":material/task_alt:"):
            return
    if not text.strip():
        st.warning(context.t("resolve.empty"))
        return
    updated = obj.model_copy(update={"status": OpenStatus.RESOLVED, field: text.strip()})
    try:
        context.store.save_object(project.id, updated, changed_by=context.author, expected_version=version)
    except StaleWriteError as exc:
        st.error(context.t("req.stale", id=obj.id, expected=exc.expected_version, actual=exc.actual_version))
        return
    except CahierError as exc:
        st.error(display.text(str(exc)))
        return
    notify(context.t("resolve.done", id=obj.id))
    st.rerun()
