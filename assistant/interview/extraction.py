"""Understanding one answer: the schema-constrained model call, its cost, and the merge of what it found.

The prompt carries the answer, the question it answers and a bounded summary of the project (never the
transcript), so it stays the same size at turn 40 as at turn 5.
"""

from __future__ import annotations

from assistant.errors import ModelError, StaleWriteError
from assistant.interview.changes import Workspace
from assistant.interview.merge import ExtractionOutcome, merge_findings
from assistant.interview.plan import Plan
from assistant.interview.state import InterviewState
from assistant.models.port import ChatModel
from assistant.models.prompts import load_prompt
from assistant.schemas import ExtractionClaim, ExtractionResult, Language, SlotKey, Tracked, TurnFindings
from assistant.store import Store

CONTEXT_OBJECTS = 12
"""How many recent objects the extraction prompt lists: enough to avoid repeats, small enough to stay flat."""


MERGE_TRIES = 3
"""How often a merge is computed again when a reviewer's save moved the project meanwhile."""


class Extractor:
    """Runs extraction for a claimed answer of any project: the model call, the pure merge, the one commit."""

    def __init__(self, store: Store, plan: Plan) -> None:
        self.store = store
        self.plan = plan

    def run(self, claim: ExtractionClaim, model: ChatModel) -> ExtractionOutcome:
        """Extract the claimed answer with `model` and commit what it changes, with its `done` state, at once.

        Raises:
            ModelError: the model call failed (the caller decides whether to retry); nothing was changed.
            LeaseLostError: the claim expired meanwhile; nothing was changed.
        """
        project_id, turn_id = claim.project_id, claim.turn_id
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
            result = model.extract(messages, TurnFindings)
        except ModelError as exc:
            self.store.record_usage(
                project_id, purpose="extract", model=model.name, ok=False, error=str(exc), turn_id=turn_id
            )
            raise
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
        for attempt in range(MERGE_TRIES):
            snapshot = self.store.merge_snapshot(project_id, turn_id)
            space = Workspace(snapshot, turn_id)
            outcome = merge_findings(space, turn, key, result.value)
            # Ids this answer had created before and gives again are updates of them, not new objects.
            known = set(snapshot.versions)
            outcome.created = [i for i in outcome.created if space.has(i)]  # not what a person had deleted
            outcome.updated = list(dict.fromkeys([*outcome.updated, *(i for i in outcome.created if i in known)]))
            outcome.created = [i for i in outcome.created if i not in known]
            summary = ExtractionResult(
                answered_question=result.value.answered_question,
                follow_up_question=outcome.follow_up,
                created=outcome.created,
                updated=outcome.updated,
                conflicts=outcome.conflicts,
                prompt_tokens=usage.prompt_tokens,
            )
            try:
                self.store.apply_extraction(
                    claim, space.change_set(), summary, changed_by=turn.stakeholder_id or "cahier"
                )
            except StaleWriteError:
                if attempt == MERGE_TRIES - 1:
                    raise
                continue
            return outcome
        raise AssertionError("unreachable")

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
