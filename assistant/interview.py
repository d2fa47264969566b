"""The interview turn: store the answer, ask the next question at once, extract in the background.

A stakeholder's words are stored before anything else. The next question never waits on the model: a
deterministic policy picks it from the plan (slot coverage, the question budget of each section, open
conflicts, the model's follow-up when one has arrived) and phrases it in the stakeholder's language. The one
model call per turn (schema-constrained extraction) runs on a per-project worker, in turn order; its results
are checked by code before they reach the specification (injection, invented amounts, duplicates, conflicts),
because a small model cannot be trusted with those decisions.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import numpy as np

from assistant.embeddings import embed_texts
from assistant.errors import CahierError, InputError, ModelError
from assistant.llm import ChatModel
from assistant.normalise import parse_date, parse_money
from assistant.plan import Plan, PlanSection, Slot, default_plan
from assistant.prompts import load_prompt
from assistant.schemas import (
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    FoundConstraint,
    Language,
    MoSCoW,
    Objective,
    OpenQuestion,
    Provenance,
    Requirement,
    SectionId,
    Speaker,
    Tracked,
    Turn,
    TurnFindings,
    UseCase,
)
from assistant.store import Store

log = logging.getLogger(__name__)

DUPLICATE_SIMILARITY = 0.75
"""Cosine similarity from which a new requirement is merged into an existing one (calibrated in quality.py)."""

CONTEXT_OBJECTS = 12
"""How many recent objects the extraction prompt lists: enough to avoid repeats, small enough to stay flat."""

_DONT_KNOW = re.compile(
    r"^\s*(je ne sais pas|je sais pas|aucune idee|pas d'idee|sais pas|ne sais pas|passer|joker|"
    r"i don'?t know|no idea|not sure|skip|pass|dunno)\s*[.!]*\s*$",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"(ignore[zr]?\s+(all\s+|your\s+|the\s+|previous\s+|tes\s+|vos\s+|les\s+)*(instructions|rules|consignes|regles)"
    r"|^\s*(system|assistant)\s*:|disregard\s+(the|your|all)|oublie[sz]?\s+(tes|vos|les)\s+(instructions|consignes)"
    r"|(mark|set|mets|mettez|classe[zr]?)\s+(everything|all|tout|toutes?)\b.{0,30}\b(must|indispensable))",
    re.IGNORECASE | re.MULTILINE,
)
_CORRECTION = re.compile(
    r"\b(en fait|finalement|correction|je corrige|je me suis trompe|plutot|non pas|et non|actually|"
    r"correction|i meant|instead of|rather than|not \d)",
    re.IGNORECASE,
)


class Action(StrEnum):
    ANSWER = "answer"
    SKIP = "skip"
    DONT_KNOW = "dont_know"


class Coverage(StrEnum):
    CLEAR = "clear"
    PARTIAL = "partial"
    MISSING = "missing"


_MESSAGES = {
    "fr": {
        "done": "Toutes les sections sont couvertes. Vous pouvez relire et valider le brouillon section par section.",
        "conflict": "J'ai noté deux réponses incompatibles sur « {subject} » : {a} / {b}. Laquelle est la bonne ?",
        "conflict_options": ["La première", "La seconde", "Ni l'une ni l'autre, je précise"],
        "skip_ack": "D'accord, je note la question comme ouverte. ",
        "welcome": "Bonjour ! Je vais vous poser quelques questions pour rédiger le cahier des charges CRM. ",
        "quantify": "Vous avez dit « {term} » : comment le mesurer concrètement (un chiffre, un délai, un seuil) ?",
    },
    "en": {
        "done": "Every section is covered. You can now review and approve the draft section by section.",
        "conflict": 'I have two incompatible answers about "{subject}": {a} / {b}. Which one is right?',
        "conflict_options": ["The first", "The second", "Neither, let me explain"],
        "skip_ack": "Fine, I'll keep that question open. ",
        "welcome": "Hello! I'll ask you a few questions to write the CRM specification. ",
        "quantify": 'You said "{term}": how would we measure it (a number, a time limit, a threshold)?',
    },
}


@dataclass(frozen=True)
class Citation:
    doc_id: str
    title: str
    heading: str


@dataclass
class TurnResult:
    """What the caller shows after a stakeholder's message."""

    turn_id: int
    question_turn_id: int
    reply: str
    options: list[str]
    section: SectionId | None
    slot: str | None
    citations: list[Citation] = field(default_factory=list)
    language: Language = Language.FR


@dataclass
class ExtractionOutcome:
    turn_id: int
    status: str
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    error: str = ""
    follow_up: str | None = None


def detect_language(text: str, default: Language) -> Language:
    """French or English, by a lexical detector; very short answers keep the project's language."""
    import simplemma

    if len(text.split()) < 3:
        return default
    scores = dict(simplemma.langdetect(text, lang=("fr", "en")))
    if scores.get("fr", 0) == scores.get("en", 0):
        return default
    return Language.FR if scores.get("fr", 0) > scores.get("en", 0) else Language.EN


def _fold(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def looks_like_injection(text: str) -> bool:
    """Stakeholder text that tries to give the model orders (it is data, never instructions)."""
    return bool(_INJECTION.search(_fold(text)))


def slot_key(section: SectionId | str, slot: str) -> str:
    return f"{SectionId(section).value}.{slot}"


class InterviewState:
    """Everything the policy needs, derived from the store on each turn (nothing kept in memory)."""

    def __init__(self, store: Store, plan: Plan, project_id: str) -> None:
        self.turns = store.list_turns(project_id)
        self.extractions = store.extraction_states(project_id)
        self.objects: dict[str, list[Tracked]] = store.list_all_objects(project_id)
        self.plan = plan
        self.asked: dict[str, int] = {}
        self.section_questions: dict[SectionId, int] = {}
        self.answered: dict[str, str] = {}  # slot key -> "pending" | "confirmed" | "skipped" | "reopened"
        self.last_question_slot: str | None = None
        for turn in self.turns:
            self._apply(turn)

    def add_turn(self, turn: Turn) -> None:
        """Account for a turn just stored, without reading the whole project again."""
        self.turns.append(turn)
        self._apply(turn)

    def _apply(self, turn: Turn) -> None:
        if turn.speaker is Speaker.ASSISTANT:
            # An answer belongs to the question right before it; a conflict or closing message has no slot.
            self.last_question_slot = turn.meta.get("slot")
            if self.last_question_slot:
                key = self.last_question_slot
                self.asked[key] = self.asked.get(key, 0) + 1
                section = SectionId(key.split(".")[0])
                self.section_questions[section] = self.section_questions.get(section, 0) + 1
            return
        key = turn.meta.get("slot")
        if not key:
            return
        if turn.meta.get("action") in (Action.SKIP, Action.DONT_KNOW):
            self.answered[key] = "skipped"
            return
        state = self.extractions.get(turn.id, {})
        data = state.get("data") or {}
        if state.get("status") == "done" and _missed_the_question(turn, data):
            self.answered.setdefault(key, "reopened")
        elif state.get("status") == "done" or self.answered.get(key) == "confirmed":
            self.answered[key] = "confirmed"
        else:
            self.answered[key] = "pending"

    def filled_by_objects(self, section: PlanSection, slot: Slot) -> bool:
        rule = slot.fill
        if rule.kind != "objects":
            return False
        matching = 0
        for obj in self.objects.get(rule.object or "", []):
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

    def slot_status(self, section: PlanSection, slot: Slot) -> str:
        """filled (proved), pending (answered, extraction not back), skipped, or open."""
        key = slot_key(section.id, slot.id)
        answered = self.answered.get(key)
        if slot.fill.kind == "objects":
            if self.filled_by_objects(section, slot):
                return "filled"
            if answered == "pending":
                return "pending"
            return "skipped" if answered == "skipped" else "open"
        if answered == "confirmed":
            return "filled"
        return answered if answered in ("pending", "skipped") else "open"

    def coverage(self) -> dict[SectionId, Coverage]:
        result = {}
        for section in self.plan.sections:
            statuses = [self.slot_status(section, slot) for slot in section.slots]
            if all(status == "filled" for status in statuses):
                result[section.id] = Coverage.CLEAR
            elif any(status in ("filled", "pending", "skipped") for status in statuses):
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
                key = slot_key(section.id, slot.id)
                if status == "open" and self.asked.get(key, 0) < 2:
                    return section, slot
        return None


class Interview:
    """The interview service shared by every session of one process.

    Args:
        store: the project database.
        model: the `ChatModel` used for extraction.
        search: optional guidance search `(query, lang, section, k) -> snippets` (retrieval's `search`).
        plan: the interview plan (default: `prompts/plan.yaml`).
        clock: the time stamped on stored turns; relative dates in an answer ("next year") resolve against
            its day. Tests and the offline evaluation pin it to the interview's date.
    """

    def __init__(
        self,
        store: Store,
        model: ChatModel,
        *,
        search: Callable[..., list[Any]] | None = None,
        plan: Plan | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.model = model
        self.search = search
        self.plan = plan or default_plan()
        self.clock = clock
        self._queues: dict[str, queue.Queue[int | None]] = {}
        self._done: dict[tuple[str, int], threading.Event] = {}
        self._lock = threading.Lock()

    # -- the turn ------------------------------------------------------------------------------------

    def start(self, project_id: str) -> TurnResult:
        """Ask the first (or next) question without an answer, e.g. when a project opens."""
        project = self.store.get_project(project_id)
        state = InterviewState(self.store, self.plan, project_id)
        result = self._ask_next(project_id, project.language, state, prefix=_MESSAGES[project.language]["welcome"])
        return result

    def handle_turn(
        self, project_id: str, stakeholder_id: str, text: str, *, action: Action | str = Action.ANSWER
    ) -> TurnResult:
        """Store the answer, queue its extraction, and return the next question at once.

        Raises:
            InputError: empty or oversized text (nothing stored), or an unknown stakeholder.
        """
        turn = self.record_answer(project_id, stakeholder_id, text, action=action)
        state = InterviewState(self.store, self.plan, project_id)
        prefix = _MESSAGES[turn.language.value]["skip_ack"] if turn.meta["action"] != Action.ANSWER else ""
        result = self._ask_next(project_id, turn.language, state, prefix=prefix)
        result.turn_id = turn.id
        return result

    def record_answer(
        self, project_id: str, stakeholder_id: str, text: str, *, action: Action | str = Action.ANSWER
    ) -> Turn:
        """Store a stakeholder's answer to the last question and queue its extraction, asking nothing.

        "Don't know" and "skip" (the buttons, or an answer that only says so) record an open question for the
        slot asked instead, with no model call. The offline evaluation calls this directly, because it replays
        the questions of a recorded interview rather than letting the policy choose them.
        """
        project = self.store.get_project(project_id)
        if stakeholder_id not in {s.id for s in self.store.list_stakeholders(project_id)}:
            raise InputError("stakeholder", f"unknown stakeholder `{stakeholder_id}`; choose who is speaking first")
        action = Action(action)
        if action is Action.ANSWER and _DONT_KNOW.match(_fold(text or "")):
            action = Action.DONT_KNOW
        answered_slot = InterviewState(self.store, self.plan, project_id).last_question_slot
        meta: dict[str, Any] = {"action": action.value}
        if answered_slot:
            meta["slot"] = answered_slot
        turn = self.store.append_turn(
            project_id,
            Speaker.STAKEHOLDER,
            text,
            detect_language(text or "", project.language),
            stakeholder_id=stakeholder_id,
            meta=meta,
            created_at=self.clock(),
        )
        if action is Action.ANSWER:
            self._enqueue(project_id, turn.id)
        else:
            self._record_open_question(project_id, turn, answered_slot, turn.language)
        return turn

    def ask(self, project_id: str, text: str, *, slot: str | None = None) -> Turn:
        """Store a question Cahier asked, as it was asked (a replayed interview's own wording and slot).

        A question without a slot, asked while a conflict is open and not yet raised, is that conflict's question.
        """
        project = self.store.get_project(project_id)
        meta: dict[str, Any] = {"slot": slot} if slot else {}
        if slot is None:
            state = InterviewState(self.store, self.plan, project_id)
            conflict = _unasked_conflict(state)
            if conflict is not None:
                meta["conflict"] = conflict.id
        return self.store.append_turn(
            project_id, Speaker.ASSISTANT, text, project.language, meta=meta, created_at=self.clock()
        )

    def _record_open_question(self, project_id: str, turn: Turn, key: str | None, language: Language) -> None:
        if not key:
            return
        section_id, slot_id = key.split(".", 1)
        slot = self.plan.slot(section_id, slot_id)
        question = OpenQuestion(
            id=self.store.new_id(project_id, OpenQuestion),
            question=slot.question.in_(language),
            section=SectionId(section_id),
            slot=key,
            source_turn_ids=[turn.id],
            stakeholder_ids=[turn.stakeholder_id or ""],
        )
        self.store.save_object(project_id, question, changed_by=turn.stakeholder_id or "cahier", turn_id=turn.id)

    def _ask_next(self, project_id: str, language: Language, state: InterviewState, *, prefix: str = "") -> TurnResult:
        messages = _MESSAGES[language.value]
        conflict = _unasked_conflict(state)
        if conflict is not None:
            reply = messages["conflict"].format(
                subject=conflict.subject, a=conflict.statements[0].text, b=conflict.statements[1].text
            )
            options = messages["conflict_options"]
            turn = self.store.append_turn(
                project_id,
                Speaker.ASSISTANT,
                prefix + reply,
                language,
                meta={"conflict": conflict.id, "options": options},
                created_at=self.clock(),
            )
            return TurnResult(0, turn.id, turn.text, options, None, None, language=language)
        follow_up = self._pending_follow_up(state)
        if follow_up is not None:
            key, question, answer_id = follow_up
            turn = self.store.append_turn(
                project_id,
                Speaker.ASSISTANT,
                prefix + question,
                language,
                meta={"slot": key, "follow_up_of": answer_id},
                created_at=self.clock(),
            )
            section_id = SectionId(key.split(".")[0])
            return TurnResult(0, turn.id, turn.text, [], section_id, key, language=language)
        nxt = state.next_slot()
        if nxt is None:
            turn = self.store.append_turn(
                project_id, Speaker.ASSISTANT, prefix + messages["done"], language, created_at=self.clock()
            )
            return TurnResult(0, turn.id, turn.text, [], None, None, language=language)
        section, slot = nxt
        key = slot_key(section.id, slot.id)
        question = slot.question.in_(language)
        citations = self._guidance(slot.topic.in_(language), language, section.id)
        options = slot.options.in_(language)
        # Options and guidance are kept with the question, so a reload shows exactly what was asked.
        meta = {
            "slot": key,
            "options": options,
            "citations": [{"doc_id": c.doc_id, "title": c.title, "heading": c.heading} for c in citations],
        }
        turn = self.store.append_turn(
            project_id, Speaker.ASSISTANT, prefix + question, language, meta=meta, created_at=self.clock()
        )
        return TurnResult(0, turn.id, turn.text, options, section.id, key, citations=citations, language=language)

    def _pending_follow_up(self, state: InterviewState) -> tuple[str, str, int] | None:
        """The model's follow-up for a recent answer, asked once, while its section still has question budget.

        Extraction runs in the background, so a follow-up arrives after the next question was already asked;
        it is asked at the next turn instead, as long as it concerns one of the last two answers.
        """
        asked = {t.meta.get("follow_up_of") for t in state.turns if t.speaker is Speaker.ASSISTANT}
        answers = [t for t in state.turns if t.speaker is Speaker.STAKEHOLDER][-2:]
        for turn in reversed(answers):
            data = (state.extractions.get(turn.id) or {}).get("data") or {}
            question, key = data.get("follow_up_question"), turn.meta.get("slot")
            if not question or not key or turn.id in asked:
                continue
            section = state.plan.section(key.split(".")[0])
            if state.section_questions.get(section.id, 0) < section.question_budget:
                return key, question, turn.id
        return None

    def _guidance(self, topic: str, language: Language, section: SectionId) -> list[Citation]:
        if self.search is None:
            return []
        try:
            snippets = self.search(topic, lang=language, section=section, k=3)
        except CahierError as exc:  # guidance is a help, never a reason to fail a turn
            log.warning("guidance search failed: %s", exc)
            return []
        return [Citation(s.doc_id, s.title, s.heading) for s in snippets]

    # -- coverage ------------------------------------------------------------------------------------

    def coverage(self, project_id: str) -> dict[SectionId, Coverage]:
        return InterviewState(self.store, self.plan, project_id).coverage()

    # -- background extraction -----------------------------------------------------------------------

    def _enqueue(self, project_id: str, turn_id: int) -> None:
        self.store.log_extraction(project_id, turn_id, "queued")
        with self._lock:
            self._done[(project_id, turn_id)] = threading.Event()
            work = self._queues.get(project_id)
            if work is None:
                work = queue.Queue()
                self._queues[project_id] = work
                threading.Thread(target=self._worker, args=(project_id, work), daemon=True).start()
        work.put(turn_id)

    def _worker(self, project_id: str, work: queue.Queue[int | None]) -> None:
        while True:
            turn_id = work.get()
            if turn_id is None:
                return
            try:
                self.extract_turn(project_id, turn_id)
            except Exception as exc:  # the worker must survive anything, and the turn must not stay "queued"
                log.exception("extraction of turn %s crashed", turn_id)
                self._log_crash(project_id, turn_id, exc)
            finally:
                event = self._done.get((project_id, turn_id))
                if event:
                    event.set()

    def close(self, project_id: str) -> None:
        """Stop the project's worker once the extractions already queued are done."""
        with self._lock:
            work = self._queues.pop(project_id, None)
        if work is not None:
            work.put(None)

    def _log_crash(self, project_id: str, turn_id: int, exc: Exception) -> None:
        """Mark the turn's extraction failed so the user sees it and `reextract` picks it up."""
        try:
            self.store.log_extraction(project_id, turn_id, "failed", error=f"{type(exc).__name__}: {exc}")
        except CahierError:
            log.exception("could not record the failed extraction of turn %s", turn_id)

    def wait(self, project_id: str, turn_id: int, timeout: float | None = None) -> bool:
        """Block until the extraction of `turn_id` has finished (or failed); False on timeout."""
        event = self._done.get((project_id, turn_id))
        return True if event is None else event.wait(timeout)

    def extraction_status(self, project_id: str, turn_id: int) -> str:
        return self.store.extraction_states(project_id).get(turn_id, {}).get("status", "none")

    def extract_turn(self, project_id: str, turn_id: int) -> ExtractionOutcome:
        """Run the one model call for a stakeholder turn and merge what it found. Safe to call again."""
        project = self.store.get_project(project_id)
        turn = self.store.get_turn(project_id, turn_id)
        key = turn.meta.get("slot")
        state = InterviewState(self.store, self.plan, project_id)
        question = _question_before(state.turns, turn_id)
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
            self.store.log_extraction(project_id, turn_id, "failed", error=f"{type(exc).__name__}: {exc}")
            return ExtractionOutcome(turn_id, "failed", error=str(exc))
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
        outcome = self._merge(project.language, turn, key, result.value)
        data = {
            "answered_question": result.value.answered_question,
            "follow_up_question": outcome.follow_up,
            "created": outcome.created,
            "updated": outcome.updated,
            "conflicts": outcome.conflicts,
            "prompt_tokens": usage.prompt_tokens,
        }
        self.store.log_extraction(project_id, turn_id, "done", data=data)
        outcome.status = "done"
        return outcome

    def _context(self, state: InterviewState, key: str | None, language: Language) -> str:
        """The project state for the prompt: the current slot, section coverage and a few recent objects.

        Bounded on purpose: the prompt must stay the same size at turn 40 as at turn 5.
        """
        lines = []
        if key:
            section_id, slot_id = key.split(".", 1)
            slot = self.plan.slot(section_id, slot_id)
            lines.append(f"section: {section_id} / {slot.label.in_(language)}")
        coverage = state.coverage()
        lines.append("coverage: " + ", ".join(f"{s.value}={c.value}" for s, c in coverage.items()))
        recent: list[Tracked] = sorted(
            (obj for name in ("requirement", "objective", "constraint") for obj in state.objects[name]),
            key=lambda obj: max(obj.source_turn_ids or [0]),
        )[-CONTEXT_OBJECTS:]
        for obj in recent:
            text = getattr(obj, "statement", "")
            lines.append(f"{obj.id}: {text[:90]}")
        return "\n".join(lines)

    # -- merge ---------------------------------------------------------------------------------------

    def _merge(self, project_language: Language, turn: Turn, key: str | None, found: TurnFindings) -> ExtractionOutcome:
        project_id = turn.project_id
        outcome = ExtractionOutcome(turn.id, "done", follow_up=found.follow_up_question)
        speaker = turn.stakeholder_id or "cahier"
        injected = looks_like_injection(turn.text)
        section_hint = SectionId(key.split(".")[0]) if key else None

        constraints = [c for c in found.constraints if _grounded(c, turn.text)]
        requirements = []
        for item in found.requirements:
            # A budget or deadline restated as a requirement is a constraint the model misfiled.
            money = parse_money(item.statement, turn.language)
            grounded = _digits(item.statement) in _digits(turn.text)
            if money is not None and grounded and not any(c.kind is ConstraintKind.BUDGET for c in constraints):
                # Built without validation: the length caps of `FoundConstraint` bound the model's output, while
                # here the whole statement carries the amount (caught by the evaluation: a 120-character budget
                # sentence crashed the merge and lost the turn's findings).
                constraints.append(
                    FoundConstraint.model_construct(
                        kind=ConstraintKind.BUDGET, statement=item.statement, amount_text=item.statement, date_text=None
                    )
                )
            if money is None:
                requirements.append(item)
        if injected:
            # Enforced after the model call: an answer that gives orders changes nothing in the specification.
            requirements, constraints = [], []
            outcome.follow_up = None

        existing = self.store.list_objects(project_id, Requirement)
        new_statements = [r.statement for r in requirements]
        similarity = (
            embed_texts(new_statements) @ embed_texts([r.statement for r in existing]).T
            if new_statements and existing
            else np.zeros((len(new_statements), len(existing)))
        )
        for index, item in enumerate(requirements):
            best = int(similarity[index].argmax()) if existing else -1
            if best >= 0 and similarity[index, best] >= DUPLICATE_SIMILARITY:
                current = existing[best]
                merged = current.model_copy(
                    update={
                        "source_turn_ids": sorted({*current.source_turn_ids, turn.id}),
                        "stakeholder_ids": sorted({*current.stakeholder_ids, speaker}),
                    }
                )
                self.store.save_object(project_id, merged, changed_by=speaker, turn_id=turn.id)
                outcome.updated.append(current.id)
                continue
            requirement = Requirement(
                id=self.store.new_id(project_id, Requirement),
                statement=item.statement,
                kind=item.kind,
                category=item.category if item.kind.value != "functional" else None,
                moscow=item.moscow if item.moscow is not MoSCoW.MUST or _says_must(turn.text) else MoSCoW.SHOULD,
                horizon=item.horizon,
                section=item.section if item.section is not SectionId.BUDGET else (section_hint or item.section),
                provenance=Provenance(item.provenance),
                source_turn_ids=[turn.id],
                stakeholder_ids=[speaker],
            )
            self.store.save_object(project_id, requirement, changed_by=speaker, turn_id=turn.id)
            outcome.created.append(requirement.id)

        if not injected:
            for item in found.objectives:
                due = (
                    parse_date(item.deadline_text, turn.language, turn.created_at.date())
                    if item.deadline_text
                    else None
                )
                objective = Objective(
                    id=self.store.new_id(project_id, Objective),
                    statement=item.statement,
                    scope=item.scope,
                    metric=item.metric or "",
                    baseline=item.baseline or "",
                    target=item.target or "",
                    deadline=due.value if due else None,
                    source_turn_ids=[turn.id],
                    stakeholder_ids=[speaker],
                )
                self.store.save_object(project_id, objective, changed_by=speaker, turn_id=turn.id)
                outcome.created.append(objective.id)
            for item in found.use_cases:
                use_case = UseCase(
                    id=self.store.new_id(project_id, UseCase),
                    title=item.title,
                    actor=item.actor,
                    steps=item.steps,
                    source_turn_ids=[turn.id],
                    stakeholder_ids=[speaker],
                )
                self.store.save_object(project_id, use_case, changed_by=speaker, turn_id=turn.id)
                outcome.created.append(use_case.id)
        for item in constraints:
            self._merge_constraint(turn, item, outcome)
        if outcome.follow_up is None and outcome.created and not injected:
            outcome.follow_up = _quantify_question(turn)
        return outcome

    def _merge_constraint(self, turn: Turn, item: FoundConstraint, outcome: ExtractionOutcome) -> None:
        """Budgets and deadlines are single facts: a correction updates, a disagreement becomes a conflict."""
        project_id = turn.project_id
        speaker = turn.stakeholder_id or "cahier"
        money = parse_money(item.amount_text, turn.language) if item.amount_text else None
        due = parse_date(item.date_text, turn.language, turn.created_at.date()) if item.date_text else None
        if item.kind not in (ConstraintKind.BUDGET, ConstraintKind.SUPPLIER):
            money = None
        candidate_values = {"statement": item.statement, "money": money, "due": due}
        singular = item.kind in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE)
        current = None
        if singular:
            current = next((c for c in self.store.list_objects(project_id, Constraint) if c.kind is item.kind), None)
        if current is None:
            constraint = Constraint(
                id=self.store.new_id(project_id, Constraint),
                kind=item.kind,
                source_turn_ids=[turn.id],
                stakeholder_ids=[speaker],
                **candidate_values,
            )
            self.store.save_object(project_id, constraint, changed_by=speaker, turn_id=turn.id)
            outcome.created.append(constraint.id)
            return
        same_value = (current.money, current.due) == (money, due)
        if same_value:
            merged = current.model_copy(update={"source_turn_ids": sorted({*current.source_turn_ids, turn.id})})
            self.store.save_object(project_id, merged, changed_by=speaker, turn_id=turn.id)
            outcome.updated.append(current.id)
            return
        if speaker in current.stakeholder_ids or _CORRECTION.search(_fold(turn.text)):
            updated = current.model_copy(
                update={**candidate_values, "source_turn_ids": sorted({*current.source_turn_ids, turn.id})}
            )
            self.store.save_object(project_id, updated, changed_by=speaker, turn_id=turn.id)
            outcome.updated.append(current.id)
            return
        conflict = Conflict(
            id=self.store.new_id(project_id, Conflict),
            subject=current.statement[:120] if len(current.statement) >= 3 else item.kind.value,
            object_ids=[current.id],
            statements=[
                ConflictingStatement(
                    stakeholder_id=(current.stakeholder_ids or ["?"])[0],
                    text=current.statement,
                    turn_id=(current.source_turn_ids or [None])[-1],
                ),
                ConflictingStatement(stakeholder_id=speaker, text=item.statement, turn_id=turn.id),
            ],
            source_turn_ids=[*current.source_turn_ids, turn.id],
            stakeholder_ids=sorted({*current.stakeholder_ids, speaker}),
        )
        self.store.save_object(project_id, conflict, changed_by="cahier", turn_id=turn.id)
        outcome.conflicts.append(conflict.id)

    def reextract(self, project_id: str, *, only_failed: bool = True) -> list[ExtractionOutcome]:
        """Redo extraction for the turns whose extraction failed (or all stakeholder turns)."""
        states = self.store.extraction_states(project_id)
        outcomes = []
        for turn in self.store.list_turns(project_id):
            if turn.speaker is not Speaker.STAKEHOLDER or turn.meta.get("action", "answer") != Action.ANSWER:
                continue
            status = states.get(turn.id, {}).get("status")
            if only_failed and status == "done":
                continue
            outcomes.append(self.extract_turn(project_id, turn.id))
        return outcomes


def _quantify_question(turn: Turn) -> str | None:
    """A follow-up that asks to put a number on the first vague word of the answer, if it has one.

    The quality checker's lexicon finds the word ("rapide", "user-friendly"); asking while the stakeholder is
    still on the topic is what makes the requirement testable.
    """
    from assistant.quality import RuleId, check_statement

    report = check_statement(turn.text[:2000], turn.language)
    vague = next((f for f in report.findings if f.rule is RuleId.VAGUE_TERM), None)
    if vague is None:
        return None
    return _MESSAGES[turn.language.value]["quantify"].format(term=vague.text)


SHORT_ANSWER_WORDS = 12
"""Below this many words, an answer the model judged off-question and that yielded nothing is asked again."""


def _missed_the_question(turn: Turn, data: dict[str, Any]) -> bool:
    """Whether to ask a slot again. The small model often calls a good answer off-question, so its verdict
    only counts for a short answer that produced nothing (measured: it judged "Nous distribuons des pièces
    hydrauliques à des industriels" as not answering "what does your company do")."""
    return (
        data.get("answered_question") is False
        and not data.get("created")
        and not data.get("updated")
        and len(turn.text.split()) < SHORT_ANSWER_WORDS
    )


def _unasked_conflict(state: InterviewState) -> Conflict | None:
    """The first open conflict Cahier has not asked the stakeholders about yet."""
    asked = {t.meta.get("conflict") for t in state.turns if t.speaker is Speaker.ASSISTANT}
    return next((c for c in state.objects["conflict"] if c.status == "open" and c.id not in asked), None)


def _question_before(turns: list[Turn], turn_id: int) -> str:
    question = ""
    for turn in turns:
        if turn.id >= turn_id:
            break
        if turn.speaker is Speaker.ASSISTANT:
            question = turn.text
    return question


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _grounded(item: FoundConstraint, answer: str) -> bool:
    """Keep a constraint only if its amount or date words appear in the answer (small models copy examples)."""
    folded = _fold(answer).lower()
    for value in (item.amount_text, item.date_text):
        if not value:
            continue
        words = [w for w in re.findall(r"\w+", _fold(value).lower()) if len(w) > 1 or w.isdigit()]
        if _digits(value) and _digits(value) not in _digits(answer):
            return False
        if words and not all(w in folded for w in words):
            return False
    return bool(item.amount_text or item.date_text or item.kind not in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE))


_MUST_WORDS = re.compile(
    r"\b(must|mandatory|essential|required|critical|absolutely|doit|doivent|devra|indispensable|obligatoire|"
    r"imperati|essentiel|absolument|non negociable|non-negotiable|crucial)",
    re.IGNORECASE,
)


def _says_must(text: str) -> bool:
    """Whether the stakeholder used a word of obligation; a small model over-uses `must` otherwise."""
    return bool(_MUST_WORDS.search(_fold(text)))
