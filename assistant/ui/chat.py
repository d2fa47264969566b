"""The interview page: the conversation from the store, the current question, and what each answer gave.

Sending goes through widget callbacks, so the store already holds the new turns when the page renders. The
extraction runs in the background; an answer whose extraction is still queued shows "analysing…" in a fragment
that polls the store and reruns the page once the result is in.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from assistant.errors import CahierError
from assistant.interview import Action
from assistant.schemas import OBJECT_TYPES, Speaker, Turn
from assistant.ui import display
from assistant.ui.i18n import section_title, t
from assistant.ui.services import get_services
from assistant.ui.shell import (
    FRESH_QUESTION_KEY,
    PAGE_FILES,
    TURN_RESULTS_KEY,
    Context,
    add_person_form,
    page_context,
    remember_question,
    require_project,
    speaker_picker,
)

POLL_SECONDS = 1.5
"""How often an answer being analysed checks the store for its result."""

_GUIDANCE_KEY = "cahier.guidance"
_ERROR_KEY = "cahier.chat_error"
_INPUT_KEY = "cahier.answer"


def render() -> None:
    context = page_context()
    project = require_project(context)
    _history(context)
    if context.speaker is None:
        _who_is_speaking(context)
    error = st.session_state.pop(_ERROR_KEY, None)
    if error:
        st.error(context.t("chat.error", error=error), icon=":material/error:")
    speaker_id = context.speaker.id if context.speaker else None
    st.chat_input(
        context.t("chat.input" if speaker_id else "chat.input_disabled"),
        key=_INPUT_KEY,
        disabled=speaker_id is None,
        on_submit=_send_typed,
        args=(project.id, speaker_id),
    )


# -- sending ---------------------------------------------------------------------------------------------


def _send(project_id: str, speaker_id: str | None, text: str, action: str) -> None:
    if speaker_id is None:
        return
    try:
        result = get_services().interview.handle_turn(project_id, speaker_id, text, action=action)
    except CahierError as exc:
        st.session_state[_ERROR_KEY] = str(exc)
        return
    remember_question(result)


def _send_typed(project_id: str, speaker_id: str | None) -> None:
    text = st.session_state.get(_INPUT_KEY) or ""
    _send(project_id, speaker_id, text, Action.ANSWER.value)


# -- speaker ---------------------------------------------------------------------------------------------


def _who_is_speaking(context: Context) -> None:
    with st.container(border=True):
        st.markdown(f"#### {context.t('speaker.title')}")
        st.caption(context.t("speaker.first"))
        if context.stakeholders:
            speaker_picker(context, key="main")
        else:
            add_person_form(context, key="add.first", submit_label=context.t("speaker.start"))


# -- history ---------------------------------------------------------------------------------------------


def _history(context: Context) -> None:
    project = context.project
    assert project is not None
    store = context.store
    states = store.extraction_states(project.id)
    objects = _object_texts(context)
    people = {s.id: s for s in context.stakeholders}
    last = context.turns[-1] if context.turns else None
    fresh = st.session_state.pop(FRESH_QUESTION_KEY, None)
    last_answer = next((turn.id for turn in reversed(context.turns) if turn.speaker is Speaker.STAKEHOLDER), None)
    for turn in context.turns:
        if turn.speaker is Speaker.ASSISTANT:
            with st.chat_message("assistant", avatar=":material/edit_note:"):
                slot = turn.meta.get("slot")
                if slot:
                    st.caption(display.text(section_title(slot.split(".")[0], context.language)))
                markdown = display.text(turn.text)
                if turn is last and turn.id == fresh:
                    st.write_stream(display.words(markdown))
                else:
                    st.markdown(markdown)
                if turn is last:
                    _question_actions(context, turn)
        else:
            person = people.get(turn.stakeholder_id or "")
            with st.chat_message("user", avatar=":material/person:"):
                who = display.text(person.name) if person else (turn.stakeholder_id or "?")
                role = f" · {display.text(person.role)}" if person and person.role else ""
                st.markdown(f"**{who}**:gray[{role}]")
                st.markdown(display.text(turn.text))
                _understood(context, turn, states.get(turn.id), objects, latest=turn.id == last_answer)


def _question_actions(context: Context, turn: Turn) -> None:
    """Suggested answers, skip / don't know, and the guidance behind the question."""
    project = context.project
    assert project is not None
    speaker_id = context.speaker.id if context.speaker else None
    disabled = speaker_id is None
    if not turn.meta:  # the closing message: no question left
        if context.link_only:  # a stakeholder link has no draft page to go to
            st.caption(context.t("chat.done_link"))
        else:
            st.page_link(PAGE_FILES["draft"], label=context.t("chat.done"), icon=":material/description:")
        return
    options = _options(context, turn)
    with st.container(horizontal=True, gap="small"):
        for number, option in enumerate(options):
            st.button(
                option,
                key=f"option.{turn.id}.{number}",
                disabled=disabled,
                on_click=_send,
                args=(project.id, speaker_id, option, Action.ANSWER.value),
            )
        st.button(
            context.t("chat.skip"),
            key=f"skip.{turn.id}",
            icon=":material/skip_next:",
            type="tertiary",
            disabled=disabled,
            on_click=_send,
            args=(project.id, speaker_id, context.t("chat.skip"), Action.SKIP.value),
        )
        st.button(
            context.t("chat.dont_know"),
            key=f"dont_know.{turn.id}",
            icon=":material/help:",
            type="tertiary",
            disabled=disabled,
            on_click=_send,
            args=(project.id, speaker_id, context.t("chat.dont_know"), Action.DONT_KNOW.value),
        )
    if turn.meta.get("slot") and "follow_up_of" not in turn.meta:
        _guidance(context, turn)


def _options(context: Context, turn: Turn) -> list[str]:
    if "options" in turn.meta:
        return list(turn.meta["options"])
    result = st.session_state.get(TURN_RESULTS_KEY, {}).get(turn.id)
    if result is not None:
        return list(result.options)
    slot = turn.meta.get("slot")
    if slot and "follow_up_of" not in turn.meta:
        section, slot_id = slot.split(".", 1)
        return context.services.interview.plan.slot(section, slot_id).options.in_(turn.language)
    return []


def _citations(context: Context, turn: Turn) -> list[tuple[str, str]]:
    """(title, heading) of the guidance behind a question: as returned with it, else searched again."""
    cache: dict[int, list[tuple[str, str]]] = st.session_state.setdefault(_GUIDANCE_KEY, {})
    if turn.id in cache:
        return cache[turn.id]
    result = st.session_state.get(TURN_RESULTS_KEY, {}).get(turn.id)
    if "citations" in turn.meta:
        found = [(c.get("title", ""), c.get("heading", "")) for c in turn.meta["citations"]]
    elif result is not None:
        found = [(c.title, c.heading) for c in result.citations]
    else:  # after a refresh: the same search the interview ran when it asked
        interview = context.services.interview
        section, slot_id = turn.meta["slot"].split(".", 1)
        topic = interview.plan.slot(section, slot_id).topic.in_(turn.language)
        try:
            snippets = interview.search(topic, lang=turn.language, section=section, k=3) if interview.search else []
        except CahierError:
            snippets = []
        found = [(s.title, s.heading) for s in snippets]
    cache[turn.id] = found
    return found


def _guidance(context: Context, turn: Turn) -> None:
    citations = _citations(context, turn)
    with st.expander(context.t("chat.guidance"), icon=":material/menu_book:"):
        if citations:
            st.markdown(
                "\n".join(
                    f"- **{display.text(title)}**" + (f" — {display.text(heading)}" if heading else "")
                    for title, heading in citations
                )
            )
        elif context.services.index is None:
            st.caption(context.t("chat.guidance_unavailable"))
        elif context.services.index_note == "empty":
            st.caption(context.t("chat.guidance_empty_index"))
        else:
            st.caption(context.t("chat.guidance_none"))


# -- what the model understood ---------------------------------------------------------------------------

FAILURE_REASONS = {
    "ModelTimeoutError": "chat.failure.timeout",
    "ModelResponseError": "chat.failure.server",
    "ModelUnavailableError": "chat.failure.unreachable",
    "ModelAuthError": "chat.failure.auth",
    "ExtractionError": "chat.failure.invalid",
    "TruncatedOutputError": "chat.failure.truncated",
}
"""The typed error an extraction failed with (the start of its logged error) → the cause the page names."""


def failure_reason(error: str) -> str:
    """The i18n key of the cause of a failed extraction, from its logged `ErrorType: message`."""
    return FAILURE_REASONS.get(error.split(":", 1)[0].strip(), "chat.failure.other")


def _object_texts(context: Context) -> dict[str, str]:
    project = context.project
    assert project is not None
    texts: dict[str, str] = {}
    for cls in OBJECT_TYPES.values():
        for obj in context.store.list_objects(project.id, cls):
            texts[obj.id] = next(
                (getattr(obj, name) for name in ("statement", "title", "question", "subject") if hasattr(obj, name)),
                "",
            )
    return texts


def _understood(
    context: Context, turn: Turn, state: dict[str, Any] | None, objects: dict[str, str], *, latest: bool
) -> None:
    if turn.meta.get("action", Action.ANSWER.value) != Action.ANSWER.value:
        st.caption(f":material/help_outline: {context.t('chat.skipped')}")
        return
    status = (state or {}).get("status")
    if status == "queued":
        _analysing(turn.project_id, turn.id, context.language.value)
    elif status == "failed":
        reason = context.t(failure_reason((state or {}).get("error", "")))
        st.warning(f"{context.t('chat.failed')}\n\n{reason}", icon=":material/warning:")
    elif status == "done":
        data = state.get("data") or {}
        items = [
            (context.t(key), object_id)
            for key, field in (("chat.created", "created"), ("chat.updated", "updated"), ("chat.conflict", "conflicts"))
            for object_id in data.get(field) or []
        ]
        if not items:
            note = "chat.off_topic" if data.get("answered_question") is False else "chat.nothing_new"
            st.caption(f":material/check: {context.t(note)}")
            return
        title = f"{context.t('chat.understood')} ({len(items)})"
        with st.expander(title, expanded=latest, icon=":material/lightbulb:"):
            for verb, object_id in items:
                statement = objects.get(object_id, "")
                st.markdown(f":blue-badge[{verb}] `{object_id}` {display.text(statement) if statement else ''}")
            if data.get("answered_question") is False:
                st.caption(context.t("chat.off_topic"))


@st.fragment(run_every=POLL_SECONDS)
def _analysing(project_id: str, turn_id: int, language: str) -> None:
    """Shown while the answer's extraction is queued; reruns the whole page once it is done or failed."""
    if get_services().interview.extraction_status(project_id, turn_id) == "queued":
        st.caption(f":material/hourglass_top: {t('chat.analysing', language)}")
    else:
        st.rerun()
