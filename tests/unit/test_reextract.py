"""Re-extraction replaces what an answer produced: for every object type extraction makes, doing it again (and
again) leaves the same objects, ids and versions; an answer that now yields less takes back what it no longer
says, and keeps what a later answer said too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader
from assistant.interview.testing import turn_findings as findings
from assistant.models.testing import ScriptedChatModel
from assistant.schemas import Conflict, Constraint, Objective, Requirement, UseCase
from assistant.store import Store

OBJECTIVE = {
    "statement": "Augmenter le taux de transformation des devis",
    "scope": "commercial",
    "metric": "taux de transformation",
    "baseline": "20 %",
    "target": "30 %",
    "deadline_text": "fin 2027",
}


def _alice(*, use_case: bool = True, objective: bool = True) -> dict[str, Any]:
    found = findings(
        requirements=(("Le CRM doit relancer les devis après quinze jours", "must"),),
        constraints=(("budget", "Budget de 80 000 € HT", "80 000 € HT", None),),
        objectives=(OBJECTIVE,) if objective else (),
    )
    if use_case:
        found["use_cases"] = [
            {"title": "Relancer un devis", "actor": "commercial", "steps": ["ouvrir le devis", "envoyer la relance"]}
        ]
    return found


def _bob() -> dict[str, Any]:
    return findings(
        requirements=(("Le CRM doit relancer les devis après quinze jours", "must"),),
        constraints=(("budget", "Budget de 120 000 € HT", "120 000 € HT", None),),
    )


ALICE_SAYS = (
    "Il faut absolument relancer les devis après quinze jours ; objectif : passer de 20 % à 30 % de devis "
    "transformés d'ici fin 2027. Budget : 80 000 € HT. Le commercial ouvre le devis et envoie la relance."
)
BOB_SAYS = "Oui, la relance des devis après quinze jours, indispensable. Pour le budget je dirais 120 000 € HT."


def _state(store: Store, project_id: str) -> dict[str, tuple[Any, int]]:
    state = {}
    for cls in (Requirement, Objective, Constraint, UseCase, Conflict):
        for obj, version in store.list_versioned(project_id, cls):
            state[obj.id] = (obj.model_dump(exclude={"quality"}), version)
    return state


@pytest.fixture
def interview(tmp_path):
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    model = ScriptedChatModel()
    interview = Interview(store, model, clock=lambda: datetime(2026, 11, 30, 9, tzinfo=UTC), reader=FindingsReader())
    yield interview, store, model
    interview.close()
    store.close()


def _interviewed(interview: Interview, store: Store, model: ScriptedChatModel) -> tuple[str, list[int]]:
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    alice = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    bob = store.add_stakeholder(project.id, "Bob", "DAF")
    interview.start(project.id)
    turns = []
    for person, text, found in ((alice, ALICE_SAYS, _alice()), (bob, BOB_SAYS, _bob())):
        model.push(found)
        result = interview.handle_turn(project.id, person.id, text)
        assert interview.wait(project.id, result.turn_id, timeout=30)
        turns.append(result.turn_id)
    return project.id, turns


def test_reextracting_every_answer_twice_changes_no_object_id_or_version(interview):
    """Requirement (with a duplicate merged into it), objective, budget, use case and the budget conflict: one
    re-extraction of every answer, then another, leave exactly the objects, ids and versions of the interview."""
    interview, store, model = interview
    project_id, _ = _interviewed(interview, store, model)
    before = _state(store, project_id)
    assert {object_id.split("-")[0] for object_id in before} == {"REQ", "OBJ", "CON", "UC", "CNF"}, before.keys()
    assert len([i for i in before if i.startswith("REQ")]) == 1  # Bob's requirement was merged into Alice's
    for _ in range(2):
        model.push(_alice(), _bob())
        outcomes = interview.reextract(project_id, only_failed=False)
        assert [o.status for o in outcomes] == ["done", "done"]
        assert all(not o.created for o in outcomes)  # nothing is new: the answers' own objects came back
        assert _state(store, project_id) == before


def test_an_answer_that_now_yields_less_takes_back_only_what_it_no_longer_says(interview):
    """Re-extracted without its use case and objective, Alice's answer removes them (their history stays); the
    requirement Bob also stated stays, with both answers as sources."""
    interview, store, model = interview
    project_id, (alice_turn, bob_turn) = _interviewed(interview, store, model)
    model.push(_alice(use_case=False, objective=False))
    [outcome] = [interview.extract_turn(project_id, alice_turn)]
    assert outcome.status == "done"
    assert store.list_objects(project_id, UseCase) == [] and store.list_objects(project_id, Objective) == []
    [requirement] = store.list_objects(project_id, Requirement)
    assert requirement.source_turn_ids == [alice_turn, bob_turn]
    history = store.object_history(project_id, "UC-001")
    assert [entry.change for entry in history] == ["created", "deleted"] and history[-1].turn_id == alice_turn


def test_an_object_a_person_edited_is_not_taken_back_by_a_reextraction(interview):
    interview, store, model = interview
    project_id, (alice_turn, _) = _interviewed(interview, store, model)
    [use_case] = store.list_objects(project_id, UseCase)
    store.save_object(project_id, use_case.model_copy(update={"title": "Relancer un devis signé"}), changed_by="rev")
    model.push(_alice(use_case=False))
    interview.extract_turn(project_id, alice_turn)
    assert [u.title for u in store.list_objects(project_id, UseCase)] == ["Relancer un devis signé"]


def test_an_object_a_person_deleted_is_not_brought_back_by_a_reextraction(interview):
    """A reviewer deleted the use case Alice's answer produced; re-extracting the answer, which still yields it,
    leaves it deleted and changes nothing else."""
    interview, store, model = interview
    project_id, (alice_turn, _) = _interviewed(interview, store, model)
    [use_case] = store.list_objects(project_id, UseCase)
    store.delete_object(project_id, use_case.id, changed_by="rev")
    before = _state(store, project_id)
    model.push(_alice())
    outcome = interview.extract_turn(project_id, alice_turn)
    assert outcome.status == "done" and use_case.id not in outcome.created
    assert store.list_objects(project_id, UseCase) == []
    assert _state(store, project_id) == before
