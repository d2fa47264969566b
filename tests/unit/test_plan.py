"""The shipped interview plan is complete and bilingual, and a broken plan file is refused with a useful message."""

import copy

import pytest
import yaml

from assistant.interview.plan import PLAN_PATH, PlanError, load_plan
from assistant.schemas import SectionId

PLAN = load_plan()
SLOTS = [(section, slot) for section in PLAN.sections for slot in section.slots]
SLOT_IDS = [f"{section.id.value}.{slot.id}" for section, slot in SLOTS]


def test_shipped_plan_loads_with_slots_in_every_section():
    """prompts/plan.yaml validates, and no section is left without something to ask."""
    plan = load_plan(PLAN_PATH)
    assert plan.version >= 1
    assert len(plan.slot_keys()) == len(set(plan.slot_keys())) > 0
    assert all(section.slots for section in plan.sections)


def test_sections_follow_the_order_of_the_specification():
    """Every section appears once, in the order the cahier des charges presents them."""
    assert [section.id for section in PLAN.sections] == list(SectionId)


def test_every_section_budget_leaves_room_for_each_slot():
    """A section's question budget is at least its slot count, so no slot is unreachable."""
    for section in PLAN.sections:
        assert section.question_budget >= len(section.slots), section.id.value


@pytest.mark.parametrize(("section", "slot"), SLOTS, ids=SLOT_IDS)
def test_every_slot_asks_one_question_in_each_language(section, slot):
    """Each slot has a French and an English question, each a single question ending with '?'."""
    for lang in ("fr", "en"):
        question = slot.question.in_(lang)
        assert question.endswith("?"), f"{lang}: {question!r}"
        assert question.count("?") == 1, f"{lang} asks more than one question: {question!r}"


@pytest.mark.parametrize(("section", "slot"), SLOTS, ids=SLOT_IDS)
def test_every_slot_offers_two_to_four_distinct_answers_per_language(section, slot):
    """Each slot suggests 2 to 4 distinct answers in French and in English, with a label and a topic."""
    for lang in ("fr", "en"):
        options = slot.options.in_(lang)
        assert 2 <= len(options) <= 4, f"{lang}: {options!r}"
        assert len(set(options)) == len(options), f"{lang} repeats an option: {options!r}"
        assert slot.label.in_(lang)
        assert slot.topic.in_(lang)


def _raw():
    return yaml.safe_load(PLAN_PATH.read_text(encoding="utf-8"))


def _first_objects_slot(raw):
    return next(slot for section in raw["sections"] for slot in section["slots"] if slot["fill"]["kind"] == "objects")


def _drop_budget_section(raw):
    raw["sections"] = [section for section in raw["sections"] if section["id"] != "budget"]


def _unknown_object_type(raw):
    _first_objects_slot(raw)["fill"]["object"] = "wish"


def _unknown_field(raw):
    _first_objects_slot(raw)["fill"]["field"] = "colour"


def _missing_english_question(raw):
    del raw["sections"][0]["slots"][0]["question"]["en"]


def _duplicate_slot_id(raw):
    slots = raw["sections"][0]["slots"]
    slots.append(copy.deepcopy(slots[0]))


@pytest.mark.parametrize(
    ("mutate", "problem"),
    [
        (_drop_budget_section, r"missing \['budget'\]"),
        (_unknown_object_type, r"`object` must be one of .*'wish'"),
        (_unknown_field, r"has no field 'colour'"),
        (_missing_english_question, r"question\.en`: Field required"),
        (_duplicate_slot_id, r"section `company` repeats a slot id"),
    ],
    ids=["missing section", "unknown object type", "unknown field", "missing English question", "duplicate slot"],
)
def test_invalid_plan_fails_naming_the_file_and_the_problem(tmp_path, mutate, problem):
    """A broken variant of the shipped plan raises PlanError whose message names the file and what is wrong."""
    raw = _raw()
    mutate(raw)
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True, sort_keys=False), encoding="utf-8")
    with pytest.raises(PlanError, match=problem) as caught:
        load_plan(path)
    assert str(path) in str(caught.value)


def test_unreadable_plan_fails_naming_the_file(tmp_path):
    """A plan file that is not valid YAML raises PlanError naming the file, not a raw parser error."""
    path = tmp_path / "plan.yaml"
    path.write_text("version: [1\n", encoding="utf-8")
    with pytest.raises(PlanError, match="cannot read plan") as caught:
        load_plan(path)
    assert str(path) in str(caught.value)
