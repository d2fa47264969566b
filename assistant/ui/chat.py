"""The interview page: the conversation from the store, the current question, and what each answer gave.

Sending goes through widget callbacks, so the store already holds the new turns when the page renders. The
extraction runs in the background; an answer whose extraction is still queued shows "analysing…" in a fragment
that polls the store and reruns the page once the result is in.
"""

from __future__ import annotations

import streamlit as st

from assistant.errors import CahierError
from assistant.i18n.formats import format_duration
from assistant.schemas import (
    OBJECT_TYPES,
    ExtractionResult,
    ExtractionState,
    ExtractionStatus,
    Speaker,
    Turn,
    TurnAction,
)
from assistant.ui import display
from assistant.ui.i18n import section_title, t, tn
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


def _send(project_id: str, speaker_id: str | None, text: str, action: TurnAction) -> None:
    if speaker_id is None:
        return
    try:
        services = get_services()
        result = services.interview.handle_turn(project_id, speaker_id, text, action=action, model=services.model)
    except CahierError as exc:
        st.session_state[_ERROR_KEY] = str(exc)
        return
    remember_question(result)


def _send_typed(project_id: str, speaker_id: str | None) -> None:
    text = st.session_state.get(_INPUT_KEY) or ""
    _send(project_id, speaker_id, text, TurnAction.ANSWER)


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
                slot = turn.meta.slot
                if slot:
                    st.caption(display.text(section_title(slot.section, context.language)))
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
    if turn.meta.is_empty:  # the closing message: no question left
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
                args=(project.id, speaker_id, option, TurnAction.ANSWER),
            )
        st.button(
            context.t("chat.skip"),
            key=f"skip.{turn.id}",
            icon=":material/skip_next:",
            type="tertiary",
            disabled=disabled,
            on_click=_send,
            args=(project.id, speaker_id, context.t("chat.skip"), TurnAction.SKIP),
        )
        st.button(
            context.t("chat.dont_know"),
            key=f"dont_know.{turn.id}",
            icon=":material/help:",
            type="tertiary",
            disabled=disabled,
            on_click=_send,
            args=(project.id, speaker_id, context.t("chat.dont_know"), TurnAction.DONT_KNOW),
        )
    if turn.meta.slot and turn.meta.follow_up_of is None:
        _guidance(context, turn)


def _options(context: Context, turn: Turn) -> list[str]:
    if turn.meta.options is not None:
        return list(turn.meta.options)
    result = st.session_state.get(TURN_RESULTS_KEY, {}).get(turn.id)
    if result is not None:
        return list(result.options)
    slot = turn.meta.slot
    if slot and turn.meta.follow_up_of is None:
        return context.services.interview.plan.slot(slot.section, slot.slot).options.in_(turn.language)
    return []


def _citations(context: Context, turn: Turn) -> list[tuple[str, str]]:
    """(title, heading) of the guidance behind a question: as returned with it, else searched again."""
    cache: dict[int, list[tuple[str, str]]] = st.session_state.setdefault(_GUIDANCE_KEY, {})
    if turn.id in cache:
        return cache[turn.id]
    result = st.session_state.get(TURN_RESULTS_KEY, {}).get(turn.id)
    if turn.meta.citations is not None:
        found = [(c.title, c.heading) for c in turn.meta.citations]
    elif result is not None:
        found = [(c.title, c.heading) for c in result.citations]
    else:  # after a refresh: the same search the interview ran when it asked
        interview = context.services.interview
        slot = turn.meta.slot
        assert slot is not None  # only questions asked from a plan slot show guidance
        topic = interview.plan.slot(slot.section, slot.slot).topic.in_(turn.language)
        try:
            search = interview.search
            snippets = search(topic, lang=turn.language, section=slot.section, k=3) if search else []
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
    "WorkerLostError": "chat.failure.worker_lost",
}
"""The type of error an extraction failed with (its `error_kind`) → the cause the page names."""


def failure_reason(error_kind: str) -> str:
    """The i18n key of the cause of a failed extraction, from the type of error it failed with."""
    return FAILURE_REASONS.get(error_kind, "chat.failure.other")


def _object_texts(context: Context) -> dict[str, str]:
    project = context.project
    assert project is not None
    texts: dict[str, str] = {}
    for cls in OBJECT_TYPES.values():
        for obj in context.store.list_objects(project.id, cls):
            texts[obj.id] = obj.headline
    return texts


def _understood(
    context: Context, turn: Turn, state: ExtractionState | None, objects: dict[str, str], *, latest: bool
) -> None:
    if (turn.meta.action or TurnAction.ANSWER) is not TurnAction.ANSWER:
        st.caption(f":material/help_outline: {context.t('chat.skipped')}")
        return
    if state is None:
        return
    if state.status.pending:
        _analysing(turn.project_id, turn.id, context.language.value)
    elif state.status is ExtractionStatus.FAILED:
        reason = context.t(failure_reason(state.error_kind))
        st.warning(f"{context.t('chat.failed')}\n\n{reason}", icon=":material/warning:")
        st.button(
            context.t("chat.retry"),
            key=f"chat.retry.{turn.id}",
            icon=":material/refresh:",
            on_click=get_services().interview.retry,
            args=(turn.project_id, turn.id),
        )
    elif state.status is ExtractionStatus.DONE:
        data = state.result or ExtractionResult()
        items = [
            *((context.t("chat.created"), object_id) for object_id in data.created),
            *((context.t("chat.updated"), object_id) for object_id in data.updated),
            *((context.t("chat.conflict"), object_id) for object_id in data.conflicts),
        ]
        if not items:
            note = "chat.off_topic" if data.answered_question is False else "chat.nothing_new"
            st.caption(f":material/check: {context.t(note)}")
            return
        title = f"{context.t('chat.understood')} ({len(items)})"
        with st.expander(title, expanded=latest, icon=":material/lightbulb:"):
            for verb, object_id in items:
                statement = objects.get(object_id, "")
                st.markdown(f":blue-badge[{verb}] `{object_id}` {display.text(statement) if statement else ''}")
            if data.answered_question is False:
                st.caption(context.t("chat.off_topic"))


@st.fragment(run_every=POLL_SECONDS)
def _analysing(project_id: str, turn_id: int, language: str) -> None:
    """Shown while the answer's extraction is pending: where it stands in the queue, a time estimate from measured
    extractions, and the retry count after a transient failure; reruns the whole page once it is settled."""
    interview = get_services().interview
    state = interview.store.extraction_state(project_id, turn_id)
    if state is None or not state.status.pending:
        st.rerun()
        return
    position = interview.queue_position(project_id, turn_id)
    parts = [t("chat.analysing", language)]
    if state.retrying:
        parts.append(t("chat.retrying", language, attempt=state.attempts + 1, attempts=interview.policy.attempts))
    if position is not None and position.ahead and state.status is ExtractionStatus.QUEUED:
        parts.append(tn("chat.ahead", position.ahead, language))
    if position is not None and position.estimate_s is not None:
        parts.append(t("chat.estimate", language, duration=format_duration(position.estimate_s, language)))
    st.caption(":material/hourglass_top: " + " · ".join(parts))
