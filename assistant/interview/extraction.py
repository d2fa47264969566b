"""Understanding one answer: the schema-constrained model call, its cost, and the merge of what it found.

The prompt carries the answer, the question it answers and a bounded summary of the project (never the
transcript), so it stays the same size at turn 40 as at turn 5.
"""

from __future__ import annotations

from assistant.errors import ModelError
from assistant.interview.merge import ExtractionOutcome, merge_findings
from assistant.interview.plan import Plan
from assistant.interview.state import InterviewState
from assistant.models.port import ChatModel
from assistant.models.prompts import load_prompt
from assistant.schemas import (
    ExtractionResult,
    ExtractionStatus,
    Language,
    SlotKey,
    Speaker,
    Tracked,
    TurnAction,
    TurnFindings,
)
from assistant.store import Store

CONTEXT_OBJECTS = 12
"""How many recent objects the extraction prompt lists: enough to avoid repeats, small enough to stay flat."""


class Extractor:
    """Runs extraction for stakeholder turns of any project, with one model."""

    def __init__(self, store: Store, model: ChatModel, plan: Plan) -> None:
        self.store = store
        self.model = model
        self.plan = plan

    def extract_turn(self, project_id: str, turn_id: int) -> ExtractionOutcome:
        """Run the one model call for a stakeholder turn and merge what it found. Safe to call again."""
        turn = self.store.get_turn(project_id, turn_id)
        key = turn.meta.slot
        state = InterviewState(self.store, self.plan, project_id)
        question = state.question_before(turn_id)
        messages = load_prompt("extract_turn").render(
            turn.language.value,
            context=self._context(state, key, turn.language),
            question=question or "-",
            answer=turn.text,
        )
        try:
            result = self.model.extract(messages, TurnFindings)
        except ModelError as exc:
            self.store.record_usage(
                project_id, purpose="extract", model=self.model.name, ok=False, error=str(exc), turn_id=turn_id
            )
            self.store.log_extraction(
                project_id, turn_id, ExtractionStatus.FAILED, error=str(exc), error_kind=type(exc).__name__
            )
            return ExtractionOutcome(turn_id, ExtractionStatus.FAILED, error=str(exc))
        usage = result.usage
        self.store.record_usage(
            project_id,
            purpose="extract",
            model=usage.model,
            prompt_tokens=usage.prompt_tokens,
            completion_tokens=usage.completion_tokens,
            latency_ms=usage.latency_ms,
            turn_id=turn_id,
        )
        outcome = merge_findings(self.store, turn, key, result.value)
        summary = ExtractionResult(
            answered_question=result.value.answered_question,
            follow_up_question=outcome.follow_up,
            created=outcome.created,
            updated=outcome.updated,
            conflicts=outcome.conflicts,
            prompt_tokens=usage.prompt_tokens,
        )
        self.store.log_extraction(project_id, turn_id, ExtractionStatus.DONE, result=summary)
        return outcome

    def _context(self, state: InterviewState, key: SlotKey | None, language: Language) -> str:
        """The project state for the prompt: the current slot, section coverage and a few recent objects.

        Bounded on purpose: the prompt must stay the same size at turn 40 as at turn 5.
        """
        lines = []
        if key:
            slot = self.plan.slot(key.section, key.slot)
            lines.append(f"section: {key.section.value} / {slot.label.in_(language)}")
        coverage = state.coverage()
        lines.append("coverage: " + ", ".join(f"{s.value}={c.value}" for s, c in coverage.items()))
        recent: list[Tracked] = sorted(
            [*state.objects.requirement, *state.objects.objective, *state.objects.constraint],
            key=lambda obj: max(obj.source_turn_ids or [0]),
        )[-CONTEXT_OBJECTS:]
        for obj in recent:
            text = getattr(obj, "statement", "")
            lines.append(f"{obj.id}: {text[:90]}")
        return "\n".join(lines)

    def reextract(self, project_id: str, *, only_failed: bool = True) -> list[ExtractionOutcome]:
        """Redo extraction for the turns whose extraction failed (or all stakeholder turns)."""
        states = self.store.extraction_states(project_id)
        outcomes = []
        for turn in self.store.list_turns(project_id):
            if turn.speaker is not Speaker.STAKEHOLDER or (turn.meta.action or TurnAction.ANSWER) != TurnAction.ANSWER:
                continue
            state = states.get(turn.id)
            if only_failed and state is not None and state.status is ExtractionStatus.DONE:
                continue
            outcomes.append(self.extract_turn(project_id, turn.id))
        return outcomes
