"""The evaluation transcripts are well formed: Cahier's real questions, valid gold, traps that test what they claim.

The format is documented in docs/transcript-format.md. These checks run on data only: no model, no store.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from assistant.i18n.catalog import catalog
from assistant.interview.cues import is_dont_know, looks_like_injection, says_correction, says_must
from assistant.interview.plan import Plan, default_plan
from assistant.schemas import (
    Conflict,
    ConflictingStatement,
    Constraint,
    ConstraintKind,
    DateValue,
    Language,
    Money,
    Objective,
    OpenQuestion,
    Requirement,
    SectionId,
    UseCase,
)

TRANSCRIPTS = Path(__file__).resolve().parent / "transcripts"
FILES = sorted(TRANSCRIPTS.glob("*.yaml"))

TOP_KEYS = {"id", "language", "company", "interview_date", "stakeholders", "turns", "gold"}
GOLD_KEYS = {
    "requirements",
    "objectives",
    "constraints",
    "use_cases",
    "open_questions",
    "conflicts",
    "coverage",
    "traps",
}
TRAP_KINDS = {"correction", "conflict", "dont_know", "injection", "off_topic"}
ACTIONS = {"answer", "skip", "dont_know"}
COVERAGE_VALUES = {"clear", "partial", "missing"}
STATEMENT_START = {"fr": ("Le CRM doit ", "Le CRM ne doit "), "en": ("The CRM shall ",)}
GOLD_LIST_OF = {
    "requirement": "requirements",
    "objective": "objectives",
    "constraint": "constraints",
    "usecase": "use_cases",
}
"""Plan fill rules name object types; the gold lists are named in the plural."""

STAKEHOLDER_TURNS = (12, 25)
REQUIREMENTS = (8, 20)


def _load(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def plan() -> Plan:
    return default_plan()


@pytest.fixture(scope="module")
def transcripts() -> dict[str, dict[str, Any]]:
    return {path.stem: _load(path) for path in FILES}


def _stakeholder_turns(data: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {n: t for n, t in enumerate(data["turns"], start=1) if t["speaker"] != "assistant"}


def _asked_slot(data: dict[str, Any], number: int) -> str | None:
    """The slot of the assistant turn right before stakeholder turn `number` (turns alternate)."""
    return data["turns"][number - 2].get("slot")


def _action(turn: dict[str, Any]) -> str:
    """What the pipeline will do with the turn: a typed "je ne sais pas" counts as the button."""
    action = turn.get("action", "answer")
    if action == "answer" and is_dont_know(turn["text"]):
        return "dont_know"
    return action


def _trap_turns(data: dict[str, Any], kind: str) -> set[int]:
    return {trap["turn"] for trap in data["gold"]["traps"] if trap["kind"] == kind}


def _cited_turns(gold: dict[str, Any]) -> set[int]:
    """Turns any extracted object (not open questions or conflicts) comes from."""
    return {
        n
        for name in ("requirements", "objectives", "constraints", "use_cases")
        for item in gold[name]
        for n in item["source_turns"]
    }


def _expected_coverage(data: dict[str, Any], plan: Plan) -> dict[str, str]:
    """Coverage as `InterviewState.coverage()` computes it, with the gold objects standing for the extractions."""
    answered: dict[str, str] = {}
    off_topic = _trap_turns(data, "off_topic") | _trap_turns(data, "injection")
    for number, turn in _stakeholder_turns(data).items():
        key = _asked_slot(data, number)
        if not key:
            continue
        if _action(turn) != "answer":
            answered[key] = "skipped"
        elif number in off_topic:
            answered.setdefault(key, "reopened")
        else:
            answered[key] = "confirmed"
    result = {}
    for section in plan.sections:
        statuses = []
        for slot in section.slots:
            key = f"{section.id.value}.{slot.id}"
            rule = slot.fill
            if rule.kind == "objects":
                items = data["gold"].get(GOLD_LIST_OF.get(rule.object or "", ""), [])
                matching = 0
                for item in items:
                    if rule.in_section and item.get("section") != section.id.value:
                        continue
                    if rule.field is not None:
                        value = item.get(rule.field)
                        if rule.equals is None and not value:
                            continue
                        if rule.equals is not None and str(value) != rule.equals:
                            continue
                    matching += 1
                if matching >= rule.min:
                    statuses.append("filled")
                else:
                    statuses.append("skipped" if answered.get(key) == "skipped" else "open")
            elif answered.get(key) == "confirmed":
                statuses.append("filled")
            else:
                statuses.append("skipped" if answered.get(key) == "skipped" else "open")
        if all(s == "filled" for s in statuses):
            result[section.id.value] = "clear"
        elif any(s in ("filled", "skipped") for s in statuses):
            result[section.id.value] = "partial"
        else:
            result[section.id.value] = "missing"
    return result


def _conflict_pattern(language: str) -> re.Pattern[str]:
    template = re.escape(catalog(language).text("interview.conflict"))
    for name in ("subject", "a", "b"):
        template = template.replace(re.escape("{" + name + "}"), f"(?P<{name}>.+?)")
    return re.compile(f"^{template}$")


def test_the_set_has_four_french_and_four_english_transcripts_of_different_companies(transcripts):
    """Eight files, four per language, each about another company, and every kind of trap used somewhere."""
    assert len(transcripts) == 8
    languages = Counter(data["language"] for data in transcripts.values())
    assert languages == {"fr": 4, "en": 4}
    companies = [data["company"] for data in transcripts.values()]
    assert len(set(companies)) == len(companies)
    used = {trap["kind"] for data in transcripts.values() for trap in data["gold"]["traps"]}
    assert used == TRAP_KINDS


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_header_and_stakeholders(path):
    """The file loads as YAML, names itself after the file and its language, and has 2–3 distinct stakeholders."""
    data = _load(path)
    assert set(data) == TOP_KEYS, f"top-level keys: {sorted(data)}"
    assert data["id"] == path.stem
    assert data["language"] in {lang.value for lang in Language}
    assert data["id"].startswith(f"{data['language']}-")
    assert isinstance(data["interview_date"], date)
    assert data["company"].strip()
    stakeholders = data["stakeholders"]
    assert 2 <= len(stakeholders) <= 3
    ids = [s["id"] for s in stakeholders]
    assert len(set(ids)) == len(ids)
    for person in stakeholders:
        assert set(person) == {"id", "name", "role"}
        assert re.fullmatch(r"STK-\d{3}", person["id"])
        assert person["name"].strip() and person["role"].strip()


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_turns_alternate_and_are_numbered(path):
    """Turns alternate assistant/stakeholder from an assistant question, 12–25 answers, every stakeholder speaks,
    and the `# N` comment on each turn line is its real 1-based index (so gold indices can be read off the file)."""
    data = _load(path)
    turns = data["turns"]
    ids = {s["id"] for s in data["stakeholders"]}
    for number, turn in enumerate(turns, start=1):
        expected = "assistant" if number % 2 == 1 else "stakeholder"
        actual = "assistant" if turn["speaker"] == "assistant" else "stakeholder"
        assert actual == expected, f"turn {number} should be the {expected}'s"
        assert isinstance(turn["text"], str) and turn["text"].strip(), f"turn {number} has no text"
        if actual == "assistant":
            assert set(turn) == {"speaker", "slot", "text"}, f"turn {number}: {sorted(turn)}"
        else:
            assert set(turn) <= {"speaker", "text", "action"}, f"turn {number}: {sorted(turn)}"
            assert turn["speaker"] in ids, f"turn {number}: unknown speaker {turn['speaker']!r}"
            assert turn.get("action", "answer") in ACTIONS
    answers = _stakeholder_turns(data)
    assert STAKEHOLDER_TURNS[0] <= len(answers) <= STAKEHOLDER_TURNS[1]
    assert {t["speaker"] for t in answers.values()} == ids

    lines = path.read_text(encoding="utf-8").splitlines()
    numbers = [int(m.group(1)) for line in lines if (m := re.match(r"^\s*- \{speaker: .*\}\s*#\s*(\d+)\s*$", line))]
    assert numbers == list(range(1, len(turns) + 1))


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_questions_are_cahiers_own_in_plan_order(path, plan):
    """Each assistant turn is the plan question of its slot in the transcript's language (with the greeting first
    and the acknowledgement after a "don't know"), slots come in plan order within each section's question
    budget, and conflict questions are Cahier's conflict message about a budget or deadline constraint."""
    data = _load(path)
    language = data["language"]
    messages = catalog(language)
    order = plan.slot_keys()
    asked: list[str] = []
    per_section: Counter[str] = Counter()
    turns = data["turns"]
    conflict_questions = 0
    for number, turn in enumerate(turns, start=1):
        if turn["speaker"] != "assistant":
            continue
        prefix = ""
        if number == 1:
            prefix = messages.text("interview.welcome")
        elif _action(turns[number - 2]) != "answer":
            prefix = messages.text("interview.skip_ack")
        assert turn["text"].startswith(prefix), f"turn {number} should start with {prefix!r}"
        body = turn["text"][len(prefix) :]
        key = turn["slot"]
        if key is None:
            match = _conflict_pattern(language).match(body)
            assert match, f"turn {number} has no slot, so it must be the conflict question"
            assert match["subject"] == match["a"], f"turn {number}: the subject is the first statement"
            conflict_questions += 1
            continue
        assert key in order, f"turn {number}: unknown slot {key!r}"
        section_id, slot_id = key.split(".", 1)
        assert body == plan.slot(section_id, slot_id).question.in_(language), f"turn {number}: not the plan question"
        assert not asked or order.index(key) > order.index(asked[-1]), f"turn {number}: {key} is out of plan order"
        asked.append(key)
        per_section[section_id] += 1
    for section_id, count in per_section.items():
        assert count <= plan.section(section_id).question_budget
    assert conflict_questions <= len(data["gold"]["conflicts"])


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_gold_objects_are_valid_domain_objects(path):
    """Every gold object validates as the domain model it stands for (enums, category vs kind, amounts, dates),
    points only at stakeholder turns, and requirements are 8–20 distinct statements in the transcript's language."""
    data = _load(path)
    gold = data["gold"]
    assert set(gold) == GOLD_KEYS, f"gold keys: {sorted(gold)}"
    answers = _stakeholder_turns(data)
    language = data["language"]
    interview_date = data["interview_date"]

    def turns_of(item: dict[str, Any]) -> list[int]:
        numbers = item["source_turns"]
        assert numbers and all(n in answers for n in numbers), f"source_turns {numbers} must be stakeholder turns"
        assert numbers == sorted(set(numbers))
        return numbers

    def speakers(numbers: list[int]) -> list[str]:
        return sorted({answers[n]["speaker"] for n in numbers})

    requirements = gold["requirements"]
    assert REQUIREMENTS[0] <= len(requirements) <= REQUIREMENTS[1]
    statements = [r["statement"] for r in requirements]
    assert len(set(statements)) == len(statements), "a requirement is listed twice"
    for index, item in enumerate(requirements, start=1):
        assert set(item) == {
            "statement",
            "kind",
            "category",
            "moscow",
            "horizon",
            "section",
            "provenance",
            "source_turns",
        }, item
        assert item["statement"].startswith(STATEMENT_START[language]), item["statement"]
        assert item["provenance"] in {"stated", "inferred"}
        numbers = turns_of(item)
        Requirement(
            id=f"REQ-{index:03d}",
            statement=item["statement"],
            kind=item["kind"],
            category=item["category"],
            moscow=item["moscow"],
            horizon=item["horizon"],
            section=item["section"],
            provenance=item["provenance"],
            source_turn_ids=numbers,
            stakeholder_ids=speakers(numbers),
        )
        if item["kind"] != "functional":
            assert item["category"] is not None, f"{item['statement']!r} needs a quality category"

    for index, item in enumerate(gold["objectives"], start=1):
        assert {"statement", "scope", "metric", "baseline", "target", "deadline", "source_turns"} <= set(item)
        assert set(item) <= {"statement", "scope", "metric", "baseline", "target", "deadline", "owner", "source_turns"}
        numbers = turns_of(item)
        objective = Objective(
            id=f"OBJ-{index:03d}",
            statement=item["statement"],
            scope=item["scope"],
            metric=item["metric"] or "",
            baseline=item["baseline"] or "",
            target=item["target"] or "",
            deadline=item["deadline"],
            owner=item.get("owner") or "",
            source_turn_ids=numbers,
        )
        assert objective.deadline is None or objective.deadline > interview_date

    for index, item in enumerate(gold["constraints"], start=1):
        assert (
            {"kind", "statement", "source_turns"} <= set(item) <= {"kind", "statement", "money", "due", "source_turns"}
        )
        numbers = turns_of(item)
        constraint = Constraint(
            id=f"CON-{index:03d}",
            kind=item["kind"],
            statement=item["statement"],
            money=Money(**item["money"]) if item.get("money") else None,
            due=DateValue(**item["due"]) if item.get("due") else None,
            source_turn_ids=numbers,
        )
        if constraint.kind is ConstraintKind.BUDGET:
            assert constraint.money is not None, "a budget constraint states its amount"
        if constraint.kind is ConstraintKind.DEADLINE:
            assert constraint.due is not None and constraint.due.value > interview_date
    for kind in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE):
        assert sum(c["kind"] == kind.value for c in gold["constraints"]) <= 1, f"{kind.value} is a single fact"

    for index, item in enumerate(gold["use_cases"], start=1):
        assert (
            {"title", "actor", "steps", "source_turns"}
            <= set(item)
            <= {"title", "actor", "goal", "steps", "source_turns"}
        )
        assert len(item["steps"]) >= 3
        UseCase(
            id=f"UC-{index:03d}",
            title=item["title"],
            actor=item["actor"],
            goal=item.get("goal") or "",
            steps=item["steps"],
            source_turn_ids=turns_of(item),
        )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_priorities_are_grounded_in_what_was_said(path):
    """A gold `must` comes from an answer using a word of obligation (the pipeline's rule), so the gold never
    asks the extractor for a priority nobody gave."""
    data = _load(path)
    answers = _stakeholder_turns(data)
    for item in data["gold"]["requirements"]:
        if item["moscow"] == "must":
            texts = " ".join(answers[n]["text"] for n in item["source_turns"])
            assert says_must(texts), f"{item['statement']!r} is `must` but no source turn says so"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_open_questions_match_dont_know_turns(path, plan):
    """Every "don't know"/"skip" turn has exactly one open question, on the slot that was asked, and no other
    turn has one; each validates as an `OpenQuestion`."""
    data = _load(path)
    answers = _stakeholder_turns(data)
    skipped = {n for n, t in answers.items() if _action(t) != "answer"}
    cited: list[int] = []
    for index, item in enumerate(data["gold"]["open_questions"], start=1):
        assert set(item) == {"section", "slot", "source_turns"}
        [number] = item["source_turns"]
        assert number in skipped, f"turn {number} is not a don't-know or skip"
        assert item["slot"] == _asked_slot(data, number)
        assert item["slot"].split(".")[0] == item["section"]
        section_id, slot_id = item["slot"].split(".", 1)
        OpenQuestion(
            id=f"Q-{index:03d}",
            question=plan.slot(section_id, slot_id).question.in_(data["language"]),
            section=SectionId(item["section"]),
            slot=item["slot"],
            source_turn_ids=[number],
        )
        cited.append(number)
    assert sorted(cited) == sorted(skipped)
    assert not skipped & _cited_turns(data["gold"]), "a don't-know turn cannot be the source of an object"


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_conflicts_are_two_people_disagreeing_on_budget_or_deadline(path):
    """Each conflict opposes two different stakeholders on a budget or deadline constraint: the first turn is the
    constraint's source, the second says something else without correction words, and it validates as a
    `Conflict`."""
    data = _load(path)
    answers = _stakeholder_turns(data)
    gold = data["gold"]
    for index, item in enumerate(gold["conflicts"], start=1):
        assert set(item) == {"subject", "stakeholders", "source_turns"}
        assert item["subject"] in {"budget", "deadline"}
        first, second = item["source_turns"]
        assert first < second
        assert [answers[first]["speaker"], answers[second]["speaker"]] == item["stakeholders"]
        assert item["stakeholders"][0] != item["stakeholders"][1]
        assert not says_correction(answers[second]["text"]), "the pipeline would read this as a correction"
        [constraint] = [c for c in gold["constraints"] if c["kind"] == item["subject"]]
        assert constraint["source_turns"][0] == first and second not in constraint["source_turns"]
        Conflict(
            id=f"CNF-{index:03d}",
            subject=item["subject"],
            statements=[
                ConflictingStatement(stakeholder_id=answers[n]["speaker"], text=answers[n]["text"], turn_id=n)
                for n in (first, second)
            ],
            source_turn_ids=[first, second],
        )


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_traps_test_what_they_claim(path, plan):
    """Every transcript sets at least one trap, on a stakeholder turn, and each trap is the real thing: a
    correction by the same person that updates a constraint, a conflict recorded in gold, a don't-know the
    pipeline recognises, an injection its guard detects (on an objects slot, so coverage does not depend on the
    model) that yields nothing, and an off-topic answer that yields nothing."""
    data = _load(path)
    answers = _stakeholder_turns(data)
    gold = data["gold"]
    traps = gold["traps"]
    assert traps
    cited = _cited_turns(gold)
    for trap in traps:
        assert set(trap) == {"kind", "turn", "expect"}
        assert trap["kind"] in TRAP_KINDS
        number = trap["turn"]
        assert number in answers, f"trap turn {number} is not a stakeholder turn"
        assert len(trap["expect"]) > 10
        turn = answers[number]
        if trap["kind"] == "correction":
            [constraint] = [c for c in gold["constraints"] if number in c["source_turns"]]
            assert constraint["kind"] in {"budget", "deadline"}
            earlier = [n for n in constraint["source_turns"] if n < number]
            assert earlier and all(answers[n]["speaker"] == turn["speaker"] for n in earlier)
            assert not any(number in c["source_turns"] for c in gold["conflicts"])
        elif trap["kind"] == "conflict":
            assert any(number in c["source_turns"] for c in gold["conflicts"])
        elif trap["kind"] == "dont_know":
            assert _action(turn) != "answer"
        elif trap["kind"] == "injection":
            assert looks_like_injection(turn["text"])
            assert number not in cited
            section_id, slot_id = _asked_slot(data, number).split(".", 1)
            assert plan.slot(section_id, slot_id).fill.kind == "objects"
        elif trap["kind"] == "off_topic":
            assert number not in cited
            assert _action(turn) == "answer" and not looks_like_injection(turn["text"])


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_coverage_follows_the_plan_fill_rules(path, plan):
    """Gold coverage names the 12 sections and equals what the plan's fill rules give for the recorded answers
    and the gold objects, i.e. what a perfect extraction would make the pipeline report."""
    data = _load(path)
    coverage = data["gold"]["coverage"]
    assert set(coverage) == {s.value for s in SectionId}
    assert set(coverage.values()) <= COVERAGE_VALUES
    assert coverage == _expected_coverage(data, plan)
