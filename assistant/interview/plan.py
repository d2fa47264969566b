"""The interview plan: the sections of the specification, the slots each needs, and how to ask for them.

The plan is data (`prompts/plan.yaml`), so a company can reorder sections, reword questions or add slots without
touching code. It is validated when loaded: every section of the specification appears once, every question
and suggested answer exists in French and English, and every fill rule names a real object type and field.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from assistant.errors import CahierError
from assistant.resources import load_yaml_model, shared_data_path
from assistant.schemas import OBJECT_TYPES, Language, SectionId

PLAN_PATH = shared_data_path("prompts") / "plan.yaml"

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=400)]


class PlanError(CahierError):
    """The plan file is invalid."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bilingual(_Strict):
    fr: Text
    en: Text

    def in_(self, language: Language | str) -> str:
        return getattr(self, Language(language).value)


class BilingualOptions(_Strict):
    fr: list[Text] = Field(min_length=2, max_length=4)
    en: list[Text] = Field(min_length=2, max_length=4)

    def in_(self, language: Language | str) -> list[str]:
        return list(getattr(self, Language(language).value))


class FillRule(_Strict):
    """When a slot counts as filled.

    `answer`: a stakeholder answered the slot's question (the extraction confirmed it addressed the question).
    `objects`: at least `min` stored objects of `object` type exist, optionally restricted to this section and
    to objects whose `field` equals `equals` (or is merely set, when `equals` is omitted).
    """

    kind: Literal["answer", "objects"]
    object: str | None = None
    min: int = Field(default=1, ge=1, le=50)
    in_section: bool = False
    field: str | None = None
    equals: str | None = None

    @model_validator(mode="after")
    def _object_rule_is_complete(self) -> FillRule:
        if self.kind == "objects":
            if self.object not in OBJECT_TYPES:
                raise ValueError(f"`object` must be one of {sorted(OBJECT_TYPES)} (got {self.object!r})")
            model = OBJECT_TYPES[self.object]
            if self.field is not None and self.field not in model.model_fields:
                raise ValueError(f"`{self.object}` has no field {self.field!r}")
            if self.in_section and "section" not in model.model_fields:
                raise ValueError(f"`{self.object}` has no section; remove `in_section`")
        elif self.object or self.field or self.equals:
            raise ValueError("an `answer` rule takes no object, field or equals")
        return self


class Slot(_Strict):
    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    label: Bilingual
    question: Bilingual
    options: BilingualOptions
    fill: FillRule
    topic: Bilingual = Field(description="What to search the knowledge base for when asking this slot.")


class PlanSection(_Strict):
    id: SectionId
    title: Bilingual
    question_budget: int = Field(ge=1, le=20, description="Most questions asked in this section before moving on.")
    slots: list[Slot] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_slots(self) -> PlanSection:
        ids = [slot.id for slot in self.slots]
        if len(ids) != len(set(ids)):
            raise ValueError(f"section `{self.id.value}` repeats a slot id")
        return self


class Plan(_Strict):
    version: int = Field(ge=1)
    sections: list[PlanSection]

    @model_validator(mode="after")
    def _every_section_once(self) -> Plan:
        ids = [section.id for section in self.sections]
        missing = set(SectionId) - set(ids)
        if missing or len(ids) != len(set(ids)):
            raise ValueError(
                f"every section must appear exactly once; missing {sorted(s.value for s in missing)}, "
                f"repeated {sorted({s.value for s in ids if ids.count(s) > 1})}"
            )
        return self

    def section(self, section_id: SectionId | str) -> PlanSection:
        wanted = SectionId(section_id)
        return next(section for section in self.sections if section.id is wanted)

    def slot(self, section_id: SectionId | str, slot_id: str) -> Slot:
        for slot in self.section(section_id).slots:
            if slot.id == slot_id:
                return slot
        raise KeyError(f"{section_id}.{slot_id}")

    def slot_keys(self) -> list[str]:
        """Every slot as `section.slot`, in plan order."""
        return [f"{section.id.value}.{slot.id}" for section in self.sections for slot in section.slots]


def load_plan(path: Path = PLAN_PATH) -> Plan:
    """Read and validate a plan file.

    Raises:
        PlanError: naming the file and the first problem.
    """
    return load_yaml_model(path, Plan, what="plan", error=PlanError)


@lru_cache(maxsize=4)
def default_plan(path: Path = PLAN_PATH) -> Plan:
    return load_plan(path)
