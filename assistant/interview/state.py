"""The interview's state, derived from the store on each turn: which slots are answered, coverage, what is open.

Nothing is kept in memory between turns, so every process (and a restarted one) sees the same interview.
"""

from __future__ import annotations

from enum import StrEnum

from assistant.interview.plan import Plan, PlanSection, Slot
from assistant.schemas import (
    Conflict,
    Coverage,
    ExtractionState,
    ExtractionStatus,
    SectionId,
    SlotKey,
    Speaker,
    Turn,
    TurnAction,
)
from assistant.store import Store

SHORT_ANSWER_WORDS = 12
"""Below this many words, an answer the model judged off-question and that yielded nothing is asked again."""


class Answered(StrEnum):
    """What the answers given so far say about one slot."""

    PENDING = "pending"  # answered, extraction not back yet
    CONFIRMED = "confirmed"
    SKIPPED = "skipped"
    REOPENED = "reopened"  # a short answer that missed the question: ask again


class SlotStatus(StrEnum):
    FILLED = "filled"
    PENDING = "pending"
    SKIPPED = "skipped"
    OPEN = "open"


def slot_key(section: SectionId | str, slot: str) -> SlotKey:
    return SlotKey(SectionId(section), slot)


class InterviewState:
    """Everything the policy needs, derived from the store on each turn (nothing kept in memory)."""

    def __init__(self, store: Store, plan: Plan, project_id: str) -> None:
        self.turns = store.list_turns(project_id)
        self.extractions = store.extraction_states(project_id)
        self.objects = store.list_all_objects(project_id)
        self.plan = plan
        self.asked: dict[SlotKey, int] = {}
        self.section_questions: dict[SectionId, int] = {}
        self.answered: dict[SlotKey, Answered] = {}
        self.last_question_slot: SlotKey | None = None
        for turn in self.turns:
            self._apply(turn)

    def add_turn(self, turn: Turn) -> None:
        """Account for a turn just stored, without reading the whole project again."""
        self.turns.append(turn)
        self._apply(turn)

    def _apply(self, turn: Turn) -> None:
        if turn.speaker is Speaker.ASSISTANT:
            # An answer belongs to the question right before it; a conflict or closing message has no slot.
            self.last_question_slot = turn.meta.slot
            asked = self.last_question_slot
            if asked:
                self.asked[asked] = self.asked.get(asked, 0) + 1
                self.section_questions[asked.section] = self.section_questions.get(asked.section, 0) + 1
            return
        key = turn.meta.slot
        if not key:
            return
        if turn.meta.action in (TurnAction.SKIP, TurnAction.DONT_KNOW):
            self.answered[key] = Answered.SKIPPED
            return
        state = self.extractions.get(turn.id)
        done = state is not None and state.status is ExtractionStatus.DONE
        if state is not None and done and _missed_the_question(turn, state):
            self.answered.setdefault(key, Answered.REOPENED)
        elif done or self.answered.get(key) is Answered.CONFIRMED:
            self.answered[key] = Answered.CONFIRMED
        else:
            self.answered[key] = Answered.PENDING

    def filled_by_objects(self, section: PlanSection, slot: Slot) -> bool:
        rule = slot.fill
        if rule.kind != "objects":
            return False
        matching = 0
        for obj in self.objects.named(rule.object or ""):
            if rule.in_section and getattr(obj, "section", None) is not section.id:
                continue
            if rule.field is not None:
                value = getattr(obj, rule.field, None)
                if rule.equals is None and not value:
                    continue
                if rule.equals is not None and str(getattr(value, "value", value)) != rule.equals:
                    continue
            matching += 1
        return matching >= rule.min

    def slot_status(self, section: PlanSection, slot: Slot) -> SlotStatus:
        """Filled (proved), pending (answered, extraction not back), skipped, or open."""
        answered = self.answered.get(slot_key(section.id, slot.id))
        if slot.fill.kind == "objects":
            if self.filled_by_objects(section, slot):
                return SlotStatus.FILLED
            if answered is Answered.PENDING:
                return SlotStatus.PENDING
            return SlotStatus.SKIPPED if answered is Answered.SKIPPED else SlotStatus.OPEN
        if answered is Answered.CONFIRMED:
            return SlotStatus.FILLED
        if answered is Answered.PENDING:
            return SlotStatus.PENDING
        return SlotStatus.SKIPPED if answered is Answered.SKIPPED else SlotStatus.OPEN

    def coverage(self) -> dict[SectionId, Coverage]:
        result = {}
        for section in self.plan.sections:
            statuses = [self.slot_status(section, slot) for slot in section.slots]
            if all(status is SlotStatus.FILLED for status in statuses):
                result[section.id] = Coverage.CLEAR
            elif any(status is not SlotStatus.OPEN for status in statuses):
                result[section.id] = Coverage.PARTIAL
            else:
                result[section.id] = Coverage.MISSING
        return result

    def next_slot(self) -> tuple[PlanSection, Slot] | None:
        """The first open slot, in plan order, of a section whose question budget is not spent."""
        for section in self.plan.sections:
            if self.section_questions.get(section.id, 0) >= section.question_budget:
                continue
            for slot in section.slots:
                status = self.slot_status(section, slot)
                if status is SlotStatus.OPEN and self.asked.get(slot_key(section.id, slot.id), 0) < 2:
                    return section, slot
        return None

    def unasked_conflict(self) -> Conflict | None:
        """The first open conflict Cahier has not asked the stakeholders about yet."""
        asked = {t.meta.conflict for t in self.turns if t.speaker is Speaker.ASSISTANT}
        return next((c for c in self.objects.conflict if c.status == "open" and c.id not in asked), None)


def _missed_the_question(turn: Turn, state: ExtractionState) -> bool:
    """Whether to ask a slot again. The small model often calls a good answer off-question, so its verdict
    only counts for a short answer that produced nothing (measured: it judged "Nous distribuons des pièces
    hydrauliques à des industriels" as not answering "what does your company do")."""
    result = state.result
    return (
        result is not None
        and result.answered_question is False
        and not result.changed_anything
        and len(turn.text.split()) < SHORT_ANSWER_WORDS
    )
