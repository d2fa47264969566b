"""The interview turn: store the answer, ask the next question at once, extract in the background.

A stakeholder's words are stored before anything else. The next question never waits on the model: a
deterministic policy (`policy.py`) picks it from the plan and phrases it in the stakeholder's language. The
one model call per turn (`extraction.py`) runs on a per-project worker (`worker.py`), in turn order; its
results are checked by code before they reach the specification (`merge.py`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from assistant.errors import CahierError, InputError
from assistant.i18n.catalog import catalog
from assistant.interview.cues import detect_language, is_dont_know
from assistant.interview.extraction import Extractor
from assistant.interview.merge import ExtractionOutcome
from assistant.interview.plan import Plan, default_plan
from assistant.interview.policy import PlannedQuestion, next_question
from assistant.interview.state import InterviewState
from assistant.interview.worker import ExtractionQueue
from assistant.models.port import ChatModel
from assistant.schemas import (
    CitationRef,
    Coverage,
    ExtractionStatus,
    Language,
    OpenQuestion,
    SectionId,
    SlotKey,
    Speaker,
    Turn,
    TurnAction,
    TurnMeta,
)
from assistant.store import Store

log = logging.getLogger(__name__)


class GuidanceHit(Protocol):
    """What the interview reads of a guidance search result (the knowledge index's `Snippet`)."""

    doc_id: str
    title: str
    heading: str


class GuidanceSearch(Protocol):
    """The guidance search the interview is given: the knowledge index's `search`, or a test's."""

    def __call__(self, query: str, *, lang: Language, section: SectionId, k: int) -> Sequence[GuidanceHit]: ...


@dataclass
class TurnResult:
    """What the caller shows after a stakeholder's message."""

    turn_id: int
    question_turn_id: int
    reply: str
    options: list[str]
    section: SectionId | None
    slot: SlotKey | None
    citations: list[CitationRef] = field(default_factory=list)
    language: Language = Language.FR


class Interview:
    """The interview service shared by every session of one process.

    Args:
        store: the project database.
        model: the `ChatModel` used for extraction.
        search: optional guidance search `(query, lang=, section=, k=) -> snippets` (the knowledge index's).
        plan: the interview plan (default: `prompts/plan.yaml`).
        clock: the time stamped on stored turns; relative dates in an answer ("next year") resolve against
            its day. Tests and the offline evaluation pin it to the interview's date.
    """

    def __init__(
        self,
        store: Store,
        model: ChatModel,
        *,
        search: GuidanceSearch | None = None,
        plan: Plan | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.model = model
        self.search = search
        self.plan = plan or default_plan()
        self.clock = clock
        self.extractor = Extractor(store, model, self.plan)
        self.queue = ExtractionQueue(self.extractor)

    # -- the turn ------------------------------------------------------------------------------------

    def start(self, project_id: str) -> TurnResult:
        """Ask the first (or next) question without an answer, e.g. when a project opens."""
        project = self.store.get_project(project_id)
        state = InterviewState(self.store, self.plan, project_id)
        welcome = catalog(project.language).text("interview.welcome")
        return self._ask_next(project_id, project.language, state, prefix=welcome)

    def handle_turn(
        self, project_id: str, stakeholder_id: str, text: str, *, action: TurnAction | str = TurnAction.ANSWER
    ) -> TurnResult:
        """Store the answer, queue its extraction, and return the next question at once.

        Raises:
            InputError: empty or oversized text (nothing stored), or an unknown stakeholder.
        """
        turn = self.record_answer(project_id, stakeholder_id, text, action=action)
        state = InterviewState(self.store, self.plan, project_id)
        skipped = turn.meta.action is not TurnAction.ANSWER
        prefix = catalog(turn.language).text("interview.skip_ack") if skipped else ""
        result = self._ask_next(project_id, turn.language, state, prefix=prefix)
        result.turn_id = turn.id
        return result

    def record_answer(
        self, project_id: str, stakeholder_id: str, text: str, *, action: TurnAction | str = TurnAction.ANSWER
    ) -> Turn:
        """Store a stakeholder's answer to the last question and queue its extraction, asking nothing.

        "Don't know" and "skip" (the buttons, or an answer that only says so) record an open question for the
        slot asked instead, with no model call. The offline evaluation calls this directly, because it replays
        the questions of a recorded interview rather than letting the policy choose them.
        """
        project = self.store.get_project(project_id)
        if stakeholder_id not in {s.id for s in self.store.list_stakeholders(project_id)}:
            raise InputError("stakeholder", f"unknown stakeholder `{stakeholder_id}`; choose who is speaking first")
        action = TurnAction(action)
        if action is TurnAction.ANSWER and is_dont_know(text or ""):
            action = TurnAction.DONT_KNOW
        answered_slot = InterviewState(self.store, self.plan, project_id).last_question_slot
        turn = self.store.append_turn(
            project_id,
            Speaker.STAKEHOLDER,
            text,
            detect_language(text or "", project.language),
            stakeholder_id=stakeholder_id,
            meta=TurnMeta(action=action, slot=answered_slot),
            created_at=self.clock(),
        )
        if action is TurnAction.ANSWER:
            self.queue.enqueue(project_id, turn.id)
        else:
            self._record_open_question(project_id, turn, answered_slot, turn.language)
        return turn

    def ask(self, project_id: str, text: str, *, slot: SlotKey | str | None = None) -> Turn:
        """Store a question Cahier asked, as it was asked (a replayed interview's own wording and slot).

        A question without a slot, asked while a conflict is open and not yet raised, is that conflict's question.
        """
        project = self.store.get_project(project_id)
        meta = TurnMeta(slot=SlotKey.parse(slot) if isinstance(slot, str) else slot)
        if slot is None:
            conflict = InterviewState(self.store, self.plan, project_id).unasked_conflict()
            if conflict is not None:
                meta = TurnMeta(conflict=conflict.id)
        return self.store.append_turn(
            project_id, Speaker.ASSISTANT, text, project.language, meta=meta, created_at=self.clock()
        )

    def _record_open_question(self, project_id: str, turn: Turn, key: SlotKey | None, language: Language) -> None:
        if not key:
            return
        slot = self.plan.slot(key.section, key.slot)
        question = OpenQuestion(
            id=self.store.new_id(project_id, OpenQuestion),
            question=slot.question.in_(language),
            section=key.section,
            slot=key,
            source_turn_ids=[turn.id],
            stakeholder_ids=[turn.stakeholder_id or ""],
        )
        self.store.save_object(project_id, question, changed_by=turn.stakeholder_id or "cahier", turn_id=turn.id)

    def _ask_next(self, project_id: str, language: Language, state: InterviewState, *, prefix: str = "") -> TurnResult:
        planned: PlannedQuestion = next_question(state, language)
        meta = planned.meta
        citations: list[CitationRef] = []
        if planned.slot is not None:
            section, slot = planned.slot
            citations = self._guidance(slot.topic.in_(language), language, section.id)
            # Options and guidance are kept with the question, so a reload shows exactly what was asked.
            meta = meta.model_copy(update={"citations": citations})
        turn = self.store.append_turn(
            project_id, Speaker.ASSISTANT, prefix + planned.text, language, meta=meta, created_at=self.clock()
        )
        key = meta.slot
        return TurnResult(
            0,
            turn.id,
            turn.text,
            list(meta.options or []),
            key.section if key else None,
            key,
            citations=citations,
            language=language,
        )

    def _guidance(self, topic: str, language: Language, section: SectionId) -> list[CitationRef]:
        if self.search is None:
            return []
        try:
            snippets = self.search(topic, lang=language, section=section, k=3)
        except CahierError as exc:  # guidance is a help, never a reason to fail a turn
            log.warning("guidance search failed: %s", exc)
            return []
        return [CitationRef(doc_id=s.doc_id, title=s.title, heading=s.heading) for s in snippets]

    # -- coverage and extraction -------------------------------------------------------------------------

    def coverage(self, project_id: str) -> dict[SectionId, Coverage]:
        return InterviewState(self.store, self.plan, project_id).coverage()

    def extract_turn(self, project_id: str, turn_id: int) -> ExtractionOutcome:
        """Run the extraction of one stakeholder turn now, in this thread (the replayed evaluation does)."""
        return self.extractor.extract_turn(project_id, turn_id)

    def reextract(self, project_id: str, *, only_failed: bool = True) -> list[ExtractionOutcome]:
        """Redo extraction for the turns whose extraction failed (or all stakeholder turns)."""
        return self.extractor.reextract(project_id, only_failed=only_failed)

    def wait(self, project_id: str, turn_id: int, timeout: float | None = None) -> bool:
        """Block until the extraction of `turn_id` has finished (or failed); False on timeout."""
        return self.queue.wait(project_id, turn_id, timeout)

    def close(self, project_id: str) -> None:
        """Stop the project's worker once the extractions already queued are done."""
        self.queue.close(project_id)

    def extraction_status(self, project_id: str, turn_id: int) -> ExtractionStatus | None:
        """Where the extraction of `turn_id` stands; None for a turn that has none (a question, a skip)."""
        state = self.store.extraction_states(project_id).get(turn_id)
        return state.status if state else None
