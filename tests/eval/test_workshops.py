"""The workshop transcripts are well formed and hold what they are for: long mixed answers, partial "don't know",
disagreements on needs, corrected requirements, budget lines, milestones, implied needs and facts.

The format is documented in docs/transcript-format.md ("Workshop transcripts"). Data only: no model, no store.
The scorer does not read the workshop additions yet; these checks keep the set ready for when it does.
"""

from __future__ import annotations

import statistics
from pathlib import Path
from typing import Any

import pytest

from assistant.evaluation.transcripts import load_transcript
from assistant.interview.plan import Plan, default_plan
from assistant.schemas import ConstraintKind, DateValue, Money, MoSCoW, Requirement, SectionId
from tests.eval import test_transcripts as condensed  # its checks, called on workshops (not collected again)
from tests.eval.test_transcripts import STATEMENT_START, TRANSCRIPTS, _expected_coverage, _load, _stakeholder_turns

WORKSHOPS = Path(__file__).resolve().parent / "workshops"
FILES = sorted(WORKSHOPS.glob("*.yaml"))
IDS = [p.stem for p in FILES]

FACT_SECTIONS = {"company", "context", "diagnosis", "data", "methodology"}
FACT_TOPICS = {
    "identity",
    "size",
    "sites",
    "clients",
    "history",
    "values",
    "tools",
    "pain_point",
    "data_held",
    "storage",
    "team",
    "roles",
    "governance",
    "policy",
}
BUDGET_LINES = {"licences", "integration", "migration", "training", "run", "total", "other"}
RECURRENCES = {"one_off", "yearly"}
MILESTONES = {"lot_1", "go_live", "phase_2", "supplier_reply", "contract_end", "decision", "other"}
REQUIREMENT_KEYS = {"statement", "kind", "category", "moscow", "horizon", "section", "provenance", "source_turns"}


@pytest.fixture(scope="module")
def plan() -> Plan:
    return default_plan()


def test_the_set_has_four_french_and_four_english_workshops_of_new_companies():
    """Eight workshops, four per language, none about a company (or sector file) of the condensed set."""
    languages = [_load(path)["language"] for path in FILES]
    assert sorted(languages) == ["en"] * 4 + ["fr"] * 4, IDS
    condensed = {_load(path)["company"] for path in TRANSCRIPTS.glob("*.yaml")}
    companies = [_load(path)["company"] for path in FILES]
    assert len(set(companies)) == 8 and not set(companies) & condensed


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_a_workshop_loads_and_its_turns_and_questions_follow_the_format(path: Path, plan: Plan):
    """It validates as a transcript; turns alternate and are numbered; questions are the plan's, in plan order."""
    transcript = load_transcript(path)
    assert transcript.id == path.stem and transcript.id.startswith(f"{transcript.language.value}-")
    assert 2 <= len(transcript.stakeholders) <= 4
    condensed.test_turns_alternate_and_are_numbered(path)
    condensed.test_questions_are_cahiers_own_in_plan_order(path, plan)
    assert all(turn["slot"] for turn in _load(path)["turns"] if turn["speaker"] == "assistant")


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_answers_are_long_and_mixed_as_in_a_real_workshop(path: Path):
    """Most answers are 80–250 words: the median is at least 80 and most of them are at least 60."""
    words = [len(turn["text"].split()) for turn in _stakeholder_turns(_load(path)).values()]
    assert statistics.median(words) >= 80, words
    assert sum(count >= 60 for count in words) >= len(words) * 0.6, words
    assert max(words) <= 320, words


def _turns_ok(item: dict[str, Any], answers: dict[int, dict[str, Any]]) -> list[int]:
    numbers = item["source_turns"]
    assert numbers and all(n in answers for n in numbers), f"{item}: source_turns must be stakeholder turns"
    assert numbers == sorted(set(numbers)), f"{item}: source_turns must be sorted and distinct"
    return numbers


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_gold_requirements_are_valid_and_the_set_holds_its_features(path: Path):
    """Requirements validate as domain objects, are said in the right form, and the workshop has an implied need,
    a corrected requirement citing both turns, and priorities grounded in words of obligation."""
    data = _load(path)
    gold, answers, language = data["gold"], _stakeholder_turns(data), data["language"]
    requirements = gold["requirements"]
    assert 12 <= len(requirements) <= 30
    statements = [r["statement"] for r in requirements]
    assert len(set(statements)) == len(statements), "a requirement is listed twice"
    for item in requirements:
        assert set(item) - {"corrected"} == REQUIREMENT_KEYS, item
        assert item["statement"].startswith(STATEMENT_START[language]), item["statement"]
        numbers = _turns_ok(item, answers)
        fields = {k: v for k, v in item.items() if k not in ("source_turns", "corrected")}
        Requirement(id="REQ-001", **fields, source_turn_ids=numbers)
    assert any(r["provenance"] == "inferred" for r in requirements), "no implied need"
    corrected = [r for r in requirements if r.get("corrected")]
    assert corrected and all(len(r["source_turns"]) >= 2 for r in corrected), "no corrected requirement"
    assert any(r["moscow"] == MoSCoW.MUST for r in requirements) and any(
        r["moscow"] != MoSCoW.MUST for r in requirements
    )


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_budgets_are_lines_and_deadlines_are_milestones(path: Path):
    data = _load(path)
    answers = _stakeholder_turns(data)
    budgets, deadlines = [], []
    for item in data["gold"]["constraints"]:
        _turns_ok(item, answers)
        kind = ConstraintKind(item["kind"])
        if kind is ConstraintKind.BUDGET:
            assert item["line"] in BUDGET_LINES and item["recurrence"] in RECURRENCES, item
            Money.model_validate(item["money"])
            budgets.append(item)
        elif kind is ConstraintKind.DEADLINE:
            assert item["milestone"] in MILESTONES, item
            DateValue.model_validate(item["due"])
            deadlines.append(item)
    assert len(budgets) >= 2, "at least two budget lines"
    assert len(deadlines) >= 2 and len({d["milestone"] for d in deadlines}) >= 2, "at least two milestones"
    assert any(b["money"]["tax_basis"] != "unspecified" for b in budgets), "a tax basis is stated somewhere"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_a_disagreement_on_a_need_and_a_partial_dont_know_are_annotated(path: Path):
    """A requirement-level conflict between two people on priority, horizon or scope, naming a gold requirement;
    an open question from inside a useful answer, with the speaker's words."""
    data = _load(path)
    gold, answers = data["gold"], _stakeholder_turns(data)
    statements = {r["statement"] for r in gold["requirements"]}
    on_needs = [c for c in gold["conflicts"] if c["subject"] == "requirement"]
    assert on_needs, "no disagreement on a need"
    for conflict in on_needs:
        assert conflict["requirement"] in statements, conflict["requirement"]
        assert conflict["field"] in {"moscow", "horizon", "scope"}
        numbers = _turns_ok(conflict, answers)
        people = [p["stakeholder"] for p in conflict["positions"]]
        assert len(set(people)) >= 2 and set(people) <= set(conflict["stakeholders"])
        assert {answers[n]["speaker"] for n in numbers} == set(conflict["stakeholders"])
    partial = [q for q in gold["open_questions"] if q.get("partial")]
    assert partial, "no partial don't-know"
    for question in partial:
        [number] = _turns_ok(question, answers)
        SectionId(question["section"])
        assert question["about"].strip() and len(answers[number]["text"].split()) >= 30, "it sits in a useful answer"


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_facts_are_the_narrative_material_and_coverage_follows_the_plan(path: Path, plan: Plan):
    data = _load(path)
    gold, answers = data["gold"], _stakeholder_turns(data)
    facts = gold["facts"]
    assert 10 <= len(facts) <= 30
    speakers = {person["id"] for person in data["stakeholders"]}
    for fact in facts:
        assert set(fact) == {"section", "topic", "text", "speaker", "source_turns"}, fact
        assert fact["section"] in FACT_SECTIONS and fact["topic"] in FACT_TOPICS, fact
        numbers = _turns_ok(fact, answers)
        assert fact["speaker"] in speakers and fact["speaker"] in {answers[n]["speaker"] for n in numbers}
        assert fact["text"].strip()
    assert {f["section"] for f in facts} >= {"company", "diagnosis"}
    assert gold["coverage"] == _expected_coverage(data, plan)
