"""The extraction queue in the store, on SQLite and PostgreSQL: claim order, leases, fencing, retries, position."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from assistant.errors import LeaseLostError
from assistant.schemas import ChangeSet, ExtractionResult, ExtractionStatus, PlannedSave, Requirement, Speaker
from assistant.store import Store

LEASE_S = 30.0


def _answers(store: Store, name: str, count: int) -> tuple[str, list[int]]:
    project = store.create_project(name)
    person = store.add_stakeholder(project.id, "Alice")
    turns = [
        store.append_turn(project.id, Speaker.STAKEHOLDER, f"answer {n}", "fr", stakeholder_id=person.id).id
        for n in range(count)
    ]
    for turn_id in turns:
        store.enqueue_extraction(project.id, turn_id)
    return project.id, turns


def _claim(store: Store, token: str = "w", *, lease_s: float = LEASE_S, attempts: int = 3):
    return store.claim_extraction(token, lease_s=lease_s, max_attempts=attempts)


def _done(store: Store, claim) -> None:
    store.apply_extraction(claim, ChangeSet(), ExtractionResult(), changed_by="cahier")


def test_answers_are_claimed_in_turn_order_and_a_project_waits_while_its_head_is_held(any_store: Store):
    """The first claim takes the oldest answer; while it is held, the same project's next answer is not claimable,
    but another project's is; once it is done, the project goes on with its next turn."""
    first, first_turns = _answers(any_store, "First", 2)
    second, second_turns = _answers(any_store, "Second", 1)
    held = _claim(any_store, "a")
    assert held is not None and (held.project_id, held.turn_id, held.attempt) == (first, first_turns[0], 1)
    other = _claim(any_store, "b")
    assert other is not None and (other.project_id, other.turn_id) == (second, second_turns[0])
    assert _claim(any_store, "c") is None  # First's turn 2 waits for its turn 1
    _done(any_store, held)
    following = _claim(any_store, "c")
    assert following is not None and (following.project_id, following.turn_id) == (first, first_turns[1])
    assert any_store.extraction_states(first)[first_turns[0]].status is ExtractionStatus.DONE


def test_an_expired_lease_hands_the_answer_to_another_worker_and_the_first_cannot_commit(any_store: Store):
    """A worker that stops renewing (frozen, killed) loses the answer: another worker claims it as attempt 2, and
    the first one's late commit and renewal are refused without writing anything."""
    project_id, [turn_id] = _answers(any_store, "Lease", 1)
    frozen = _claim(any_store, "frozen", lease_s=0.2)
    assert frozen is not None
    time.sleep(0.4)
    taker = _claim(any_store, "taker")
    assert taker is not None and (taker.turn_id, taker.attempt) == (turn_id, 2)
    late = ChangeSet(saves=[PlannedSave(Requirement(id="REQ-001", statement="Le CRM doit tout faire."), 0)])
    with pytest.raises(LeaseLostError):
        any_store.apply_extraction(frozen, late, ExtractionResult(created=["REQ-001"]), changed_by="cahier")
    assert not any_store.renew_lease(frozen, LEASE_S)
    assert any_store.list_objects(project_id, Requirement) == []
    assert any_store.renew_lease(taker, LEASE_S)
    _done(any_store, taker)
    assert any_store.extraction_states(project_id)[turn_id].status is ExtractionStatus.DONE


def test_an_answer_whose_worker_keeps_dying_fails_once_its_attempts_are_spent(any_store: Store):
    project_id, [turn_id] = _answers(any_store, "Dying", 1)
    assert _claim(any_store, "one", lease_s=0.1, attempts=2) is not None
    time.sleep(0.25)
    assert _claim(any_store, "two", lease_s=0.1, attempts=2) is not None
    time.sleep(0.25)
    assert any_store.release_expired_extractions(2) == 1
    state = any_store.extraction_states(project_id)[turn_id]
    assert (state.status, state.error_kind, state.attempts) == (ExtractionStatus.FAILED, "WorkerLostError", 2)


def test_a_retried_answer_waits_for_its_backoff_and_says_it_is_retrying(any_store: Store):
    project_id, [turn_id] = _answers(any_store, "Retry", 1)
    claim = _claim(any_store)
    assert claim is not None
    soon = datetime.now(UTC) + timedelta(seconds=0.3)
    any_store.fail_extraction(claim, "the model did not answer within 180 s", "ModelTimeoutError", retry_at=soon)
    state = any_store.extraction_states(project_id)[turn_id]
    assert state.status is ExtractionStatus.QUEUED and state.retrying and state.error_kind == "ModelTimeoutError"
    assert _claim(any_store) is None  # not before its backoff
    time.sleep(0.4)
    again = _claim(any_store)
    assert again is not None and again.attempt == 2
    any_store.fail_extraction(again, "still no answer", "ModelTimeoutError")
    assert any_store.extraction_states(project_id)[turn_id].status is ExtractionStatus.FAILED


def test_the_queue_position_counts_the_answers_ahead_and_estimates_from_measured_durations(any_store: Store):
    first, first_turns = _answers(any_store, "First", 2)
    second, [later] = _answers(any_store, "Second", 1)
    assert any_store.queue_position(second, later) == (2, None)  # nothing measured yet: no estimate
    claim = _claim(any_store)
    time.sleep(0.2)
    _done(any_store, claim)
    position = any_store.queue_position(second, later)
    assert position is not None and position.ahead == 1
    assert position.estimate_s is not None and position.estimate_s >= 0.2
    assert any_store.queue_position(first, first_turns[0]) is None  # done: no longer in the queue


def test_an_extraction_commits_its_objects_and_its_state_together_or_not_at_all(any_store: Store):
    """A change set computed from an id counter that moved meanwhile (a reviewer added an object) is refused
    whole: no object, and the answer stays claimed for the merge to be computed again."""
    from assistant.errors import StaleWriteError

    project_id, [turn_id] = _answers(any_store, "Atomic", 1)
    claim = _claim(any_store)
    requirement = Requirement(id="REQ-001", statement="Le CRM doit relancer les devis.")
    changes = ChangeSet(saves=[PlannedSave(requirement, 0)], id_counters={"REQ": (0, 1)})
    any_store.save_object(
        project_id, Requirement(id=any_store.new_id(project_id, Requirement), statement="Autre."), changed_by="rev"
    )
    with pytest.raises(StaleWriteError):
        any_store.apply_extraction(claim, changes, ExtractionResult(created=["REQ-001"]), changed_by="cahier")
    assert [r.statement for r in any_store.list_objects(project_id, Requirement)] == ["Autre."]
    assert any_store.extraction_states(project_id)[turn_id].status is ExtractionStatus.RUNNING
