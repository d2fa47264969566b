"""Understanding one answer: the reading (small model calls, `reading.py`), its cost, and the merge.

The prompts carry the answer's clauses, never the project's state or the
transcript: they stay the same size at turn 40 as at turn 5, and hold nothing a small model could copy.
"""

from __future__ import annotations

from assistant.errors import ModelError, StaleWriteError
from assistant.interview.changes import Workspace
from assistant.interview.merge import ExtractionOutcome, merge_findings
from assistant.interview.reading import AnswerReader, read_answer
from assistant.models.port import ChatModel
from assistant.schemas import ExtractionClaim, ExtractionResult
from assistant.store import Store

MERGE_TRIES = 3
"""How often a merge is computed again when a reviewer's save moved the project meanwhile."""


class Extractor:
    """Runs extraction for a claimed answer of any project: the model call, the pure merge, the one commit."""

    def __init__(self, store: Store, reader: AnswerReader = read_answer) -> None:
        self.store = store
        self.read = reader

    def run(self, claim: ExtractionClaim, model: ChatModel) -> ExtractionOutcome:
        """Extract the claimed answer with `model` and commit what it changes, with its `done` state, at once.

        Raises:
            ModelError: the model call failed (the caller decides whether to retry); nothing was changed.
            LeaseLostError: the claim expired meanwhile; nothing was changed.
        """
        project_id, turn_id = claim.project_id, claim.turn_id
        turn = self.store.get_turn(project_id, turn_id)
        key = turn.meta.slot
        try:
            reading = self.read(turn, key, model)
        except ModelError as exc:
            self.store.record_usage(
                project_id, purpose="extract", model=model.name, ok=False, error=str(exc), turn_id=turn_id
            )
            raise
        for usage in reading.usage:
            self.store.record_usage(
                project_id,
                purpose="extract",
                model=usage.model,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                latency_ms=usage.latency_ms,
                turn_id=turn_id,
            )
        prompt_tokens = sum(usage.prompt_tokens for usage in reading.usage)
        for attempt in range(MERGE_TRIES):
            snapshot = self.store.merge_snapshot(project_id, turn_id)
            space = Workspace(snapshot, turn_id)
            outcome = merge_findings(space, turn, key, reading.findings)
            # Ids this answer had created before and gives again are updates of them, not new objects.
            known = set(snapshot.versions)
            outcome.created = [i for i in outcome.created if space.has(i)]  # not what a person had deleted
            outcome.updated = list(dict.fromkeys([*outcome.updated, *(i for i in outcome.created if i in known)]))
            outcome.created = [i for i in outcome.created if i not in known]
            summary = ExtractionResult(
                answered_question=reading.findings.answered_question,
                follow_up_question=outcome.follow_up,
                created=outcome.created,
                updated=outcome.updated,
                conflicts=outcome.conflicts,
                prompt_tokens=prompt_tokens,
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
