"""The interview turn: store the answer, ask the next question at once, extract in the background.

A stakeholder's words are stored before anything else. The next question never waits on the model: a
deterministic policy (`policy.py`) picks it from the plan and phrases it in the stakeholder's language. The
answer's extraction is queued in the store and run by whichever worker claims it (`worker.py`: this process's
pool, or a `cahier worker` process), strictly in turn order per project; its results are checked by code
(`merge.py`) and committed in one transaction with the answer's extraction state.
"""

from __future__ import annotations

import logging
import time
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
from assistant.interview.reading import AnswerReader, read_answer
from assistant.interview.state import InterviewState
from assistant.interview.worker import ExtractionWorker, ModelRouter, QueuePolicy, WorkerPool
from assistant.models.port import ChatModel
from assistant.schemas import (
    CitationRef,
    Coverage,
    ExtractionState,
    ExtractionStatus,
    Language,
    OpenQuestion,
    QueuePosition,
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
        policy: the queue's pool size, lease and retries. The pool starts with the first answer queued in
            this process (or `start_workers`); with `policy.workers == 0`, `cahier worker` processes extract.
    """

    def __init__(
        self,
        store: Store,
        model: ChatModel,
        *,
        search: GuidanceSearch | None = None,
        plan: Plan | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        policy: QueuePolicy | None = None,
        reader: AnswerReader = read_answer,
    ) -> None:
        self.store = store
        self.model = model
        self.search = search
        self.plan = plan or default_plan()
        self.clock = clock
        self.policy = policy or QueuePolicy()
        self.extractor = Extractor(store, reader)
        self.models = ModelRouter(model)
        self.pool = WorkerPool(self.extractor, self.models, self.policy)

    # -- the turn ------------------------------------------------------------------------------------

    def start(self, project_id: str) -> TurnResult:
        """Ask the first (or next) question without an answer, e.g. when a project opens."""
        project = self.store.get_project(project_id)
        state = InterviewState(self.store, self.plan, project_id)
        welcome = catalog(project.language).text("interview.welcome")
        return self._ask_next(project_id, project.language, state, prefix=welcome)

    def handle_turn(
        self,
        project_id: str,
        stakeholder_id: str,
        text: str,
        *,
        action: TurnAction | str = TurnAction.ANSWER,
        model: ChatModel | None = None,
    ) -> TurnResult:
        """Store the answer, queue its extraction, and return the next question at once.

        Args:
            model: the model a session chose for this project (default: the process's); the same workers use it.

        Raises:
            InputError: empty or oversized text (nothing stored), or an unknown stakeholder.
        """
        self.models.use(project_id, model)
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
            self._enqueue(project_id, turn.id)
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

    def start_workers(self) -> None:
        """Start this process's extraction workers (`policy.workers` of them), resuming what a restart left."""
        self.pool.start()

    def _enqueue(self, project_id: str, turn_id: int) -> None:
        self.store.enqueue_extraction(project_id, turn_id)
        if self.policy.workers:
            self.pool.start()
            self.pool.wake()

    def retry(self, project_id: str, turn_id: int) -> None:
        """Queue a failed answer again for the workers (the chat page's "analyse again")."""
        self._enqueue(project_id, turn_id)

    def extract_turn(self, project_id: str, turn_id: int) -> ExtractionOutcome:
        """Extract one answer again now, in this thread, through the queue (after the project's earlier answers)."""
        [outcome] = self._redo(project_id, [turn_id])
        return outcome

    def reextract(self, project_id: str, *, only_failed: bool = True) -> list[ExtractionOutcome]:
        """Extract again the answers whose extraction failed (or every answer), in this thread, and say how it went.

        Re-extraction replaces what an answer produced: doing it twice leaves the same objects, ids and versions.
        """
        states = self.store.extraction_states(project_id)
        turn_ids = []
        for turn in self.store.list_turns(project_id):
            if turn.speaker is not Speaker.STAKEHOLDER or (turn.meta.action or TurnAction.ANSWER) != TurnAction.ANSWER:
                continue
            state = states.get(turn.id)
            if only_failed and state is not None and state.status is ExtractionStatus.DONE:
                continue
            turn_ids.append(turn.id)
        return self._redo(project_id, turn_ids)

    def _redo(self, project_id: str, turn_ids: list[int]) -> list[ExtractionOutcome]:
        """Queue the answers again and work the project's queue in this thread until they are all settled.

        Another worker (this process's pool, a `cahier worker`) may claim some of them first; this waits for those.
        """
        for turn_id in turn_ids:
            self.store.enqueue_extraction(project_id, turn_id)
        worker = ExtractionWorker(self.extractor, self.models, self.policy, on_finish=self.pool.notify_finished)
        while True:
            states = self.store.extraction_states(project_id)
            if not any(states[turn_id].status.pending for turn_id in turn_ids):
                return [_outcome(states[turn_id]) for turn_id in turn_ids]
            if worker.run_once(project_id) is None:
                with self.pool.finished:
                    self.pool.finished.wait(self.policy.poll_s)

    def wait(self, project_id: str, turn_id: int, timeout: float | None = None) -> bool:
        """Block until the extraction of `turn_id` is done or failed for good; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.store.extraction_state(project_id, turn_id)
            if state is None or not state.status.pending:
                return True
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                return False
            with self.pool.finished:
                self.pool.finished.wait(min(self.policy.poll_s, left) if left is not None else self.policy.poll_s)

    def close(self) -> None:
        """Stop this process's workers after the answers in hand; queued answers stay queued for the next start."""
        self.pool.stop(timeout=30)

    def extraction_status(self, project_id: str, turn_id: int) -> ExtractionStatus | None:
        """Where the extraction of `turn_id` stands; None for a turn that has none (a question, a skip)."""
        state = self.store.extraction_state(project_id, turn_id)
        return state.status if state else None

    def queue_position(self, project_id: str, turn_id: int) -> QueuePosition | None:
        """How many answers are ahead of this pending one, with an estimate; None once it is settled."""
        return self.store.queue_position(project_id, turn_id)


def _outcome(state: ExtractionState) -> ExtractionOutcome:
    result = state.result
    if state.status is not ExtractionStatus.DONE or result is None:
        return ExtractionOutcome(state.turn_id, state.status, error=state.error)
    return ExtractionOutcome(
        state.turn_id,
        state.status,
        created=list(result.created),
        updated=list(result.updated),
        conflicts=list(result.conflicts),
        follow_up=result.follow_up_question,
    )
