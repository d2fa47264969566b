"""The question policy: what Cahier asks next, decided by code from the interview's state, never by the model.

Open conflicts first, then the model's follow-up for a recent answer, then the first open slot of the plan
whose section still has question budget; once nothing is left, the closing message.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from assistant.i18n.catalog import catalog
from assistant.interview.plan import PlanSection, Slot
from assistant.interview.state import InterviewState, slot_key
from assistant.schemas import Conflict, Language, SlotKey, Speaker, TurnMeta


@dataclass(frozen=True)
class PlannedQuestion:
    """The next message to ask, before guidance is attached and it is stored."""

    text: str
    meta: TurnMeta = field(default_factory=TurnMeta)
    slot: tuple[PlanSection, Slot] | None = None
    """The plan slot asked about, when the question comes from the plan (it then gets guidance)."""


def conflict_question(conflict: Conflict, language: Language) -> PlannedQuestion:
    messages = catalog(language)
    text = messages.text(
        "interview.conflict",
        subject=conflict.subject,
        a=conflict.statements[0].text,
        b=conflict.statements[1].text,
    )
    options = messages.options("interview.conflict_options")
    return PlannedQuestion(text, TurnMeta(conflict=conflict.id, options=options))


def pending_follow_up(state: InterviewState) -> tuple[SlotKey, str, int] | None:
    """The model's follow-up for a recent answer, asked once, while its section still has question budget.

    Extraction runs in the background, so a follow-up arrives after the next question was already asked;
    it is asked at the next turn instead, as long as it concerns one of the last two answers.
    """
    asked = {t.meta.follow_up_of for t in state.turns if t.speaker is Speaker.ASSISTANT}
    answers = [t for t in state.turns if t.speaker is Speaker.STAKEHOLDER][-2:]
    for turn in reversed(answers):
        extraction = state.extractions.get(turn.id)
        question = extraction.result.follow_up_question if extraction and extraction.result else None
        key = turn.meta.slot
        if not question or not key or turn.id in asked:
            continue
        section = state.plan.section(key.section)
        if state.section_questions.get(section.id, 0) < section.question_budget:
            return key, question, turn.id
    return None


def next_question(state: InterviewState, language: Language) -> PlannedQuestion:
    """What to ask now, in `language`."""
    conflict = state.unasked_conflict()
    if conflict is not None:
        return conflict_question(conflict, language)
    follow_up = pending_follow_up(state)
    if follow_up is not None:
        key, question, answer_id = follow_up
        return PlannedQuestion(question, TurnMeta(slot=key, follow_up_of=answer_id))
    nxt = state.next_slot()
    if nxt is None:
        return PlannedQuestion(catalog(language).text("interview.done"))
    section, slot = nxt
    options = slot.options.in_(language)
    return PlannedQuestion(
        slot.question.in_(language), TurnMeta(slot=slot_key(section.id, slot.id), options=options), slot=nxt
    )
