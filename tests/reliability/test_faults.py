"""Fault injection: every model call of an interview fails in each way a real server fails, and nothing is lost.

The matrix: 8 fault kinds × 3 call positions during `handle_turn` (24 faults), × 2 calls during `reextract`
(16), × 1 re-extraction of an already extracted turn (8), × 1 shown in the app (8): 56 faults injected. After
each one, every stored turn, object, object version and section version is compared with a snapshot, the
conversation goes on, the failure is in the extraction log and the usage table, and a later `reextract`
extracts the turn.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.i18n.catalog import catalog
from assistant.interview.service import Interview
from assistant.interview.worker import QueuePolicy, is_transient
from assistant.models.testing import Fault, FaultInjectingChatModel, ScriptedChatModel, clause_need
from assistant.schemas import ExtractionStatus, Language, Requirement, Speaker
from assistant.store import Store
from assistant.ui.chat import FAILURE_REASONS, failure_reason
from tests.reliability.invariants import assert_intact, snapshot

HANG_S = 0.2
"""How long a hanging call blocks before its timeout: short, so that the matrix stays fast."""

NO_RETRY = QueuePolicy(attempts=1)
"""The matrix checks what a failure leaves behind, so every failure is final here; retries are tested below."""

ERROR_TYPES = {
    Fault.TIMEOUT: "ModelTimeoutError",
    Fault.HANG: "ModelTimeoutError",
    Fault.SERVER_ERROR: "ModelResponseError",
    Fault.INVALID_JSON: "ExtractionError",
    Fault.TRUNCATED: "TruncatedOutputError",
    Fault.TOO_MANY_REQUIREMENTS: "ExtractionError",
    Fault.HUGE_STATEMENT: "ExtractionError",
    Fault.UNKNOWN_ENUMS: "ExtractionError",
}
"""The typed error each fault must be logged as (the class name starts the logged error)."""

ERROR_DETAILS = {
    Fault.TIMEOUT: "did not answer within",
    Fault.HANG: "did not answer within",
    Fault.SERVER_ERROR: "(500)",
    Fault.INVALID_JSON: "not valid JSON",
    Fault.TRUNCATED: "cut off at the token limit",
    Fault.TOO_MANY_REQUIREMENTS: "at most 3 items",
    Fault.HUGE_STATEMENT: "at most 300 characters",
    Fault.UNKNOWN_ENUMS: "Input should be",
}
"""What the logged error must say about the fault, so that the log explains it."""

ANSWERS = (
    (
        "Nos commerciaux doivent saisir leurs comptes rendus de visite sur leur téléphone.",
        "Le CRM doit permettre aux commerciaux de saisir leurs comptes rendus de visite sur téléphone.",
    ),
    (
        "Il faut que le CRM importe chaque nuit les contacts de nos boîtes mail.",
        "Le CRM doit importer chaque nuit les contacts des boîtes mail.",
    ),
    (
        "Le service client doit retrouver l'historique des commandes de chaque client.",
        "Le CRM doit montrer au service client l'historique des commandes de chaque client.",
    ),
)
"""Three answers of one need clause each (one wording call per answer), with the wording a good model gives."""

LAST_ANSWER = (
    "Les relances de devis doivent partir automatiquement après quinze jours.",
    "Le CRM doit relancer automatiquement les devis après quinze jours.",
)


def _found(statement: str) -> dict:
    return clause_need(statement)


@dataclass
class Setup:
    store: Store
    inner: ScriptedChatModel
    model: FaultInjectingChatModel
    interview: Interview
    project_id: str
    person_id: str

    def answer(self, text: str, statement: str | None, *, faulted: bool):
        """Send one answer (queuing its extraction's result unless the call is faulted) and wait for it."""
        if not faulted:
            self.inner.push(_found(statement) if statement else clause_need())
        result = self.interview.handle_turn(self.project_id, self.person_id, text)
        assert self.interview.wait(self.project_id, result.turn_id, timeout=60)
        return result


def _setup(tmp_path: Path, faults: dict[int, Fault]) -> Setup:
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    inner = ScriptedChatModel()
    model = FaultInjectingChatModel(inner, faults, hang_s=HANG_S)
    interview = Interview(store, model, policy=NO_RETRY)
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    interview.start(project.id)
    return Setup(store, inner, model, interview, project.id, person.id)


@pytest.fixture
def make(tmp_path: Path) -> Iterator:
    made: list[Setup] = []

    def build(faults: dict[int, Fault]) -> Setup:
        made.append(_setup(tmp_path, faults))
        return made[-1]

    yield build
    for setup in made:
        setup.model.release()
        setup.interview.close()
        setup.store.close()


def _assert_failure_recorded(setup: Setup, turn_id: int, fault: Fault) -> None:
    """The extraction log says `failed` with the typed error, and the usage table has a failed call."""
    state = setup.store.extraction_states(setup.project_id)[turn_id]
    assert state.status is ExtractionStatus.FAILED
    assert state.error_kind == ERROR_TYPES[fault], state.error[:200]
    assert ERROR_DETAILS[fault] in state.error, state.error[:300]
    usage = [row for row in setup.store.list_usage(setup.project_id) if row["turn_id"] == turn_id]
    assert usage and usage[-1]["ok"] is False and usage[-1]["error"]
    assert len(state.error) <= 2000  # a 1 MB answer never reaches the log whole


FAULTS = list(Fault)
POSITIONS = (1, 2, 3)


@pytest.mark.parametrize("position", POSITIONS)
@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_a_fault_on_any_turn_loses_nothing_and_the_turn_is_extracted_later(make, fault: Fault, position: int):
    """Whichever extraction fails, and however: stored rows are unchanged, the next question comes, the failure
    is logged, and `reextract` later extracts exactly that turn."""
    setup = make({position: fault})
    failed_turn = 0
    for number, (text, statement) in enumerate(ANSWERS, start=1):
        faulted = number == position
        before = snapshot(setup.store, setup.project_id)
        result = setup.answer(text, statement, faulted=faulted)
        question = setup.store.get_turn(setup.project_id, result.question_turn_id)
        assert question.speaker is Speaker.ASSISTANT and question.text == result.reply and result.reply.strip()
        assert setup.store.get_turn(setup.project_id, result.turn_id).text == text
        if faulted:
            failed_turn = result.turn_id
            assert_intact(before, snapshot(setup.store, setup.project_id), new_turns=2)
            _assert_failure_recorded(setup, result.turn_id, fault)
    assert setup.model.injected == [(position, fault)]

    result = setup.answer(*LAST_ANSWER, faulted=False)  # the conversation goes on after the fault
    assert result.reply.strip()
    assert setup.interview.extraction_status(setup.project_id, result.turn_id) == "done"
    statements = {r.statement for r in setup.store.list_objects(setup.project_id, Requirement)}
    assert ANSWERS[position - 1][1] not in statements

    setup.inner.push(_found(ANSWERS[position - 1][1]))
    outcomes = setup.interview.reextract(setup.project_id)
    assert [(o.turn_id, o.status) for o in outcomes] == [(failed_turn, "done")]
    statements = {r.statement for r in setup.store.list_objects(setup.project_id, Requirement)}
    assert {statement for _, statement in (*ANSWERS, LAST_ANSWER)} <= statements
    states = setup.store.extraction_states(setup.project_id)
    answers = [t for t in setup.store.list_turns(setup.project_id) if t.speaker is Speaker.STAKEHOLDER]
    assert [states[t.id].status for t in answers] == [ExtractionStatus.DONE] * len(answers)


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_a_fault_during_reextract_keeps_the_turn_failed_until_a_later_reextract(make, fault: Fault):
    """`reextract` itself may meet the fault again: nothing changes, the turn stays failed, the next one works."""
    setup = make({1: fault, 2: fault})
    text, statement = ANSWERS[0]
    result = setup.answer(text, statement, faulted=True)
    _assert_failure_recorded(setup, result.turn_id, fault)

    before = snapshot(setup.store, setup.project_id)
    outcomes = setup.interview.reextract(setup.project_id)
    assert [(o.turn_id, o.status) for o in outcomes] == [(result.turn_id, "failed")]
    assert outcomes[0].error
    assert_intact(before, snapshot(setup.store, setup.project_id))
    _assert_failure_recorded(setup, result.turn_id, fault)
    assert setup.model.injected == [(1, fault), (2, fault)]

    setup.inner.push(_found(statement))
    outcomes = setup.interview.reextract(setup.project_id)
    assert [(o.turn_id, o.status) for o in outcomes] == [(result.turn_id, "done")]
    assert [r.statement for r in setup.store.list_objects(setup.project_id, Requirement)] == [statement]


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_a_failed_redo_of_an_extracted_turn_keeps_what_it_had_found(make, fault: Fault):
    """Extracting a done turn again (`extract_turn`) and meeting a fault leaves its requirement as it was; the turn
    is then marked failed, and `reextract` redoes it without creating a duplicate."""
    setup = make({2: fault})
    text, statement = ANSWERS[0]
    result = setup.answer(text, statement, faulted=False)
    [requirement] = setup.store.list_objects(setup.project_id, Requirement)

    before = snapshot(setup.store, setup.project_id)
    outcome = setup.interview.extract_turn(setup.project_id, result.turn_id)
    assert (outcome.status, outcome.created, outcome.updated) == ("failed", [], [])
    assert_intact(before, snapshot(setup.store, setup.project_id))
    _assert_failure_recorded(setup, result.turn_id, fault)
    assert setup.store.get_object(setup.project_id, requirement.id, Requirement) == (requirement, 1)
    assert setup.model.injected == [(2, fault)]

    setup.inner.push(_found(statement))
    outcomes = setup.interview.reextract(setup.project_id)
    assert [(o.turn_id, o.status, o.created) for o in outcomes] == [(result.turn_id, "done", [])]
    assert setup.store.list_objects(setup.project_id, Requirement) == [requirement]


def test_every_failure_cause_has_words_in_both_languages():
    """Each typed error the chat page names has a French and an English sentence; unknown errors have one too."""
    for key in (*FAILURE_REASONS.values(), "chat.failure.other"):
        french, english = catalog(Language.FR).text(key), catalog(Language.EN).text(key)
        assert french.strip() and english.strip() and french != english
    assert failure_reason("ModelTimeoutError") == "chat.failure.timeout"
    assert failure_reason("RuntimeError") == "chat.failure.other"


@pytest.mark.parametrize("fault", FAULTS, ids=str)
def test_the_chat_page_shows_the_failure_and_its_cause(tmp_path: Path, fault: Fault):
    """After a faulted extraction the answer is shown with the failure notice and its cause, in the project's
    language (the faults alternate between a French and an English project), and the page does not crash."""
    from streamlit.testing.v1 import AppTest

    from assistant.ui.services import OVERRIDE_KEY, Services
    from tests.app.conftest import APP, TIMEOUT, texts

    language = Language.FR if FAULTS.index(fault) % 2 == 0 else Language.EN
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    inner = ScriptedChatModel()
    model = FaultInjectingChatModel(inner, {1: fault}, hang_s=HANG_S)
    interview = Interview(store, model, policy=NO_RETRY)
    services = Services(Settings(data_dir=tmp_path / "data"), store, model, interview)
    project = store.create_project("CRM Acme", language=language, company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Sales director")
    try:
        at = AppTest.from_file(APP, default_timeout=TIMEOUT)
        at.session_state[OVERRIDE_KEY] = services
        at.query_params["project"] = project.id
        at.query_params["who"] = person.id
        at.run()
        text = ANSWERS[0][0] if language is Language.FR else "Our sales reps must log visit reports on their phones."
        at.chat_input[0].set_value(text).run()
        answer = [t for t in store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER][-1]
        assert answer.text == text
        assert interview.wait(project.id, answer.id, timeout=60)
        at.run()
        assert not at.exception
        words = catalog(language)
        shown = texts(at)
        assert words.text("chat.failed") in shown
        assert words.text(FAILURE_REASONS[ERROR_TYPES[fault]]) in shown
        assert model.injected == [(1, fault)]
        assert store.list_turns(project.id)[-1].speaker is Speaker.ASSISTANT  # the next question was asked
    finally:
        model.release()
        interview.close()
        store.close()


def test_the_matrix_size_is_what_the_module_says():
    """The module docstring's count of injected faults matches the parametrisation (56)."""
    counted = len(FAULTS) * len(POSITIONS) + len(FAULTS) * 2 + len(FAULTS) + len(FAULTS)
    assert counted == 56
    assert len(FAULTS) == 8 and set(ERROR_TYPES) == set(Fault) == set(ERROR_DETAILS)


TRANSIENT = [Fault.TIMEOUT, Fault.HANG, Fault.SERVER_ERROR]


@pytest.mark.parametrize("fault", TRANSIENT, ids=str)
def test_a_transient_failure_goes_back_to_the_queue_and_the_answer_is_extracted(tmp_path: Path, fault: Fault):
    """A timeout or a server error is not the end: the answer waits out its backoff (the page can say "retrying
    (2/3)"), is extracted on the next attempt with nobody running the CLI, and its content reaches the draft."""
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    inner = ScriptedChatModel([_found(ANSWERS[0][1])])
    model = FaultInjectingChatModel(inner, {1: fault}, hang_s=HANG_S)
    interview = Interview(store, model, policy=QueuePolicy(attempts=3, retry_s=0.3))
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    try:
        interview.start(project.id)
        result = interview.handle_turn(project.id, person.id, ANSWERS[0][0])
        seen_retrying = False
        while (state := store.extraction_state(project.id, result.turn_id)) and state.status.pending:
            seen_retrying |= state.retrying and state.error_kind == ERROR_TYPES[fault]
            time.sleep(0.01)
        assert seen_retrying
        assert state is not None and (state.status, state.attempts) == (ExtractionStatus.DONE, 2)
        assert [r.statement for r in store.list_objects(project.id, Requirement)] == [ANSWERS[0][1]]
        assert model.injected == [(1, fault)]
        usage = [row["ok"] for row in store.list_usage(project.id) if row["turn_id"] == result.turn_id]
        assert usage == [False, True]  # both calls are accounted for
    finally:
        model.release()
        interview.close()
        store.close()


def test_retries_are_bounded_and_a_failure_that_would_repeat_is_not_retried(tmp_path: Path):
    """Two timeouts with two attempts allowed: failed for good after the second. An answer that did not fit the
    schema fails at once: at temperature 0 the same prompt gives the same answer."""
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    model = FaultInjectingChatModel(
        ScriptedChatModel(), {1: Fault.TIMEOUT, 2: Fault.TIMEOUT, 3: Fault.INVALID_JSON}, hang_s=HANG_S
    )
    interview = Interview(store, model, policy=QueuePolicy(attempts=2, retry_s=0.05))
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    try:
        interview.start(project.id)
        for text, (attempts, kind) in zip(
            (ANSWERS[0][0], ANSWERS[1][0]), ((2, "ModelTimeoutError"), (1, "ExtractionError")), strict=True
        ):
            result = interview.handle_turn(project.id, person.id, text)
            assert interview.wait(project.id, result.turn_id, timeout=60)
            state = store.extraction_state(project.id, result.turn_id)
            assert state is not None and (state.status, state.attempts, state.error_kind) == ("failed", attempts, kind)
    finally:
        model.release()
        interview.close()
        store.close()


def test_which_failures_are_transient():
    from assistant.models.port import ModelAuthError, ModelResponseError, ModelTimeoutError, ModelUnavailableError

    assert is_transient(ModelTimeoutError(180)) and is_transient(ModelUnavailableError("http://x", "V", "refused"))
    assert is_transient(ModelResponseError(503, "busy")) and is_transient(ModelResponseError(429, "slow down"))
    assert not is_transient(ModelResponseError(400, "bad request")) and not is_transient(ModelAuthError())
