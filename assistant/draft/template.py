"""The words of the draft, per language, loaded from `assistant/draft/templates/draft.<lang>.yaml` and checked on
load.

Headings, column names, enum labels ("Indispensable (Must)") and the phrases that say what a section still
lacks are data, so that a consultant can reword the document without touching code. Loading fails with the
file name and the offending key when a label is missing, an enum value has no label, or a phrase uses a
placeholder the code does not fill: a typo must not reach a customer's document as "{ids}".

A phrase that counts something may be written once per plural form (`one:` / `other:`, the CLDR categories);
`DraftTemplate.plural()` picks the form the language uses for the count ("1 partie approuvée", "2 parties").
"""

from __future__ import annotations

import string
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Annotated, ClassVar

from babel import Locale
from pydantic import BaseModel, ConfigDict, StringConstraints, field_validator, model_validator

from assistant.errors import CahierError
from assistant.resources import load_yaml_model, package_path
from assistant.schemas import (
    ConstraintKind,
    Horizon,
    Language,
    Level,
    MoSCoW,
    NfrCategory,
    ObjectiveScope,
    OpenStatus,
    Provenance,
    RequirementKind,
    RequirementStatus,
    SectionId,
    SectionState,
    TaxBasis,
    VendorCoverage,
)

TEMPLATE_DIR = package_path("assistant.draft", "templates")

Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=300)]
Phrase = Annotated[str, StringConstraints(strip_whitespace=True, max_length=600)]
SheetName = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=31, pattern=r"^[^\[\]:*?/\\]+$")
]
"""What Excel accepts as a sheet name: 31 characters at most, and none of `[ ] : * ? /` or a backslash."""
ExcelPrompt = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""A data validation message: Excel refuses to open a file whose message is longer."""

GRID_COLUMNS = (
    "id",
    "section",
    "requirement",
    "type",
    "priority",
    "horizon",
    "acceptance",
    "coverage",
    "comment",
    "cost",
)
"""The vendor response grid's columns, in order (`export/xlsx.py`); `grid.columns` names each one."""


class DraftTemplateError(CahierError):
    """A draft template file is missing, unreadable or incomplete."""


class PluralLabel(BaseModel):
    """A label written once per plural form: "{count} révision plus ancienne" / "{count} révisions plus anciennes".

    French and English need `one` and `other`; a category a language uses but the template leaves out (`many`
    for French millions) falls back to `other`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    zero: Label | None = None
    one: Label
    two: Label | None = None
    few: Label | None = None
    many: Label | None = None
    other: Label

    @property
    def forms(self) -> list[str]:
        return [form for _, form in self if form is not None]

    def form(self, category: str) -> str:
        """The form of a CLDR plural category (`other` when this label has none for it)."""
        return getattr(self, category, None) or self.other


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    placeholders: ClassVar[dict[str, set[str]]] = {}
    """Field name → the placeholders the code fills in it; any other `{name}` is a typo."""

    @model_validator(mode="after")
    def _placeholders_are_known(self) -> _Strict:
        for name, value in self:
            if isinstance(value, str):
                texts = [value]
            elif isinstance(value, PluralLabel):
                texts = value.forms
            else:
                continue
            used = {field for text in texts for _, field, _, _ in string.Formatter().parse(text) if field is not None}
            allowed = self.placeholders.get(name, set())
            if used - allowed:
                unknown, known = sorted(used - allowed), sorted(allowed) or "none"
                raise ValueError(f"`{name}` uses unknown placeholder(s) {unknown}; allowed: {known}")
        return self


class SectionText(_Strict):
    placeholders: ClassVar[dict[str, set[str]]] = {"intro": {"company", "project"}}

    title: Label
    intro: Phrase = ""
    missing: Label
    """What the section needs when nothing has been collected for it yet (follows "À compléter :")."""


class DocumentText(_Strict):
    """The parts around the sections: title page, revision table, table of contents, glossary, footer."""

    placeholders: ClassVar[dict[str, set[str]]] = {
        "status_line": {"approved", "total"},
        "revisions_older": {"count"},
        "page": {"page", "pages"},
    }

    kind: Label
    company: Label
    project: Label
    date: Label
    revision: Label
    status: Label
    prepared_by: Label
    status_line: Label | PluralLabel
    revisions_title: Label
    revisions_columns: list[Label]
    revisions_empty: Label
    revisions_older: Label | PluralLabel
    toc_title: Label
    toc_hint: Label
    glossary_title: Label
    glossary_intro: Phrase
    glossary_columns: list[Label]
    glossary_undefined: Label
    glossary_empty: Label
    approvals_title: Label
    approvals_intro: Phrase
    approvals_columns: list[Label]
    approvals_none: Label
    signatures_title: Label
    signatures_intro: Phrase
    signatures_columns: list[Label]
    page: Label

    @field_validator("revisions_columns")
    @classmethod
    def _five_revision_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 5:
            raise ValueError("give 5 column names: date, section, version, state, author")
        return value

    @field_validator("approvals_columns")
    @classmethod
    def _four_approval_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 4:
            raise ValueError("give 4 column names: section, state, approved by, date")
        return value

    @field_validator("signatures_columns")
    @classmethod
    def _four_signature_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 4:
            raise ValueError("give 4 column names: name, role, date, signature")
        return value

    @field_validator("glossary_columns")
    @classmethod
    def _two_glossary_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 2:
            raise ValueError("give 2 column names: acronym, definition")
        return value


class ContentText(_Strict):
    """Labels used inside the sections."""

    placeholders: ClassVar[dict[str, set[str]]] = {
        "turn": {"turn"},
        "smart_missing": {"fields"},
        "missing_smart": {"id", "fields"},
        "missing_horizon": {"ids"},
        "missing_steps": {"id"},
        "missing_actor": {"id"},
        "missing_tax": {"ids"},
        "missing_due": {"ids"},
        "missing_acceptance": {"ids"},
        "project_intro": {"company", "project"},
        "quote": {"text"},
    }

    requirement_columns: list[Label]
    constraint_columns: list[Label]
    risk_columns: list[Label]
    details_title: Label
    rationale: Label
    acceptance: Label
    rejected_title: Label
    questions_title: Label
    conflicts_title: Label
    conflict_resolved: Label
    constraints_title: Label
    risks_title: Label
    stakeholders_title: Label
    facts_title: Label
    horizon_unset: Label
    actor: Label
    goal: Label
    steps: Label
    to_specify: Label
    smart_missing: Label
    turn: Label
    no_source: Label
    missing_title: Label
    missing_company_name: Label
    missing_stakeholders: Label
    missing_smart: Label
    missing_horizon: Label
    missing_steps: Label
    missing_actor: Label
    missing_tax: Label
    missing_due: Label
    missing_acceptance: Label
    project_intro: Label
    company_unknown: Label
    scope: Label
    source: Label
    quote: Label

    @field_validator("requirement_columns")
    @classmethod
    def _six_requirement_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 6:
            raise ValueError(
                "give 6 column names: id, statement and acceptance criteria, type, priority, horizon, source"
            )
        return value

    @field_validator("constraint_columns", "risk_columns")
    @classmethod
    def _five_columns(cls, value: list[str]) -> list[str]:
        if len(value) != 5:
            raise ValueError("give 5 column names")
        return value


class SummaryText(_Strict):
    """The executive summary at the top of the document (`draft/summary.py`)."""

    placeholders: ClassVar[dict[str, set[str]]] = {
        "intro": {"company", "project"},
        "open_questions": {"count"},
        "open_conflicts": {"count"},
        "more": {"count"},
    }

    title: Label
    intro: Phrase
    objectives_title: Label
    musts_title: Label
    budget_title: Label
    budget_unknown: Label
    dates_title: Label
    dates_unknown: Label
    open_title: Label
    open_questions: Label | PluralLabel
    open_conflicts: Label | PluralLabel
    nothing_open: Label
    none: Label
    more: Label | PluralLabel


class GridText(_Strict):
    """The vendor response grid: sheet names, column names, the vendor's coverage answers and the guide sheet."""

    placeholders: ClassVar[dict[str, set[str]]] = {"guide_title": {"project"}}

    sheet: SheetName
    guide_sheet: SheetName
    columns: list[Label]
    coverage: dict[VendorCoverage, Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[^,\"]{1,40}$")]]
    """The drop-down's answers: Excel's list separator (a comma) and quotes cannot appear in them."""
    coverage_prompt: ExcelPrompt
    coverage_error_title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]
    coverage_error: ExcelPrompt
    guide_title: Label
    guide_intro: Phrase
    guide_columns: list[Label]

    @field_validator("columns", "guide_columns")
    @classmethod
    def _one_per_grid_column(cls, value: list[str]) -> list[str]:
        if len(value) != len(GRID_COLUMNS):
            raise ValueError(f"give {len(GRID_COLUMNS)} entries, one per column: {', '.join(GRID_COLUMNS)}")
        return value

    @field_validator("coverage")
    @classmethod
    def _every_coverage(cls, value: dict[VendorCoverage, str]) -> dict[VendorCoverage, str]:
        if set(value) != set(VendorCoverage):
            raise ValueError(f"label exactly {[c.value for c in VendorCoverage]}")
        return value


ENUM_LABELS: dict[str, type[StrEnum]] = {
    "moscow": MoSCoW,
    "kind": RequirementKind,
    "category": NfrCategory,
    "horizon": Horizon,
    "provenance": Provenance,
    "requirement_status": RequirementStatus,
    "objective_scope": ObjectiveScope,
    "constraint_kind": ConstraintKind,
    "tax_basis": TaxBasis,
    "level": Level,
    "open_status": OpenStatus,
    "section_state": SectionState,
}
"""Every enum the draft prints → the mapping of the template that labels it."""

SMART_FIELDS = ("metric", "baseline", "target", "deadline", "owner")


class DraftTemplate(_Strict):
    """One language's draft wording. Use `label(enum_member)` for enum values and `section(id)` for sections."""

    language: Language
    locale: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}_[A-Z]{2}$")]
    quarter: Label
    colon: Annotated[str, StringConstraints(min_length=1, max_length=3)]
    """What goes between a label and its value: " :" in French typography, ":" in English."""
    separator: Annotated[str, StringConstraints(min_length=1, max_length=4)]
    """What separates the items of an inline list: " ; " in French, "; " in English."""
    document: DocumentText
    content: ContentText
    summary: SummaryText
    grid: GridText
    sections: dict[SectionId, SectionText]
    enums: dict[str, dict[str, Label]]
    smart_fields: dict[str, Label]
    glossary_terms: dict[str, Label]
    glossary_ignore: list[str]

    placeholders: ClassVar[dict[str, set[str]]] = {"quarter": {"quarter", "year"}}

    @model_validator(mode="after")
    def _complete(self) -> DraftTemplate:
        missing_sections = [s.value for s in SectionId if s not in self.sections]
        if missing_sections:
            raise ValueError(f"`sections` lacks {missing_sections}")
        if set(self.enums) != set(ENUM_LABELS):
            missing, unknown = sorted(set(ENUM_LABELS) - set(self.enums)), sorted(set(self.enums) - set(ENUM_LABELS))
            raise ValueError(f"`enums` must label exactly {sorted(ENUM_LABELS)}; missing {missing}, unknown {unknown}")
        for name, enum in ENUM_LABELS.items():
            wanted = {member.value for member in enum}
            if set(self.enums[name]) != wanted:
                raise ValueError(f"`enums.{name}` must label exactly {sorted(wanted)}; got {sorted(self.enums[name])}")
        if set(self.smart_fields) != set(SMART_FIELDS):
            raise ValueError(f"`smart_fields` must label exactly {list(SMART_FIELDS)}")
        return self

    def label(self, member: StrEnum) -> str:
        """The printed label of an enum value, e.g. `MoSCoW.MUST` → "Indispensable (Must)"."""
        for name, enum in ENUM_LABELS.items():
            if isinstance(member, enum):
                return self.enums[name][member.value]
        raise KeyError(f"no label for {member!r}")

    def section(self, section: SectionId) -> SectionText:
        return self.sections[section]

    def plural(self, phrase: str | PluralLabel, count: int, **values: object) -> str:
        """`phrase` in the form this language uses for `count`, with `{count}` and `values` filled in.

        A plain text (a language whose wording does not change with the count there) is only filled in.
        """
        if isinstance(phrase, PluralLabel):
            phrase = phrase.form(Locale.parse(self.locale).plural_form(abs(count)))
        return phrase.format(count=count, **values)

    def numbered_title(self, section: SectionId) -> str:
        """ "3. Objectifs": the number is the section's place in the document."""
        return f"{list(SectionId).index(section) + 1}. {self.sections[section].title}"


def load_template(path: Path) -> DraftTemplate:
    """Read and validate one template file.

    Raises:
        DraftTemplateError: naming the file and the first problem.
    """
    return load_yaml_model(path, DraftTemplate, what="draft template", error=DraftTemplateError)


@cache
def template_for(language: Language | str) -> DraftTemplate:
    """The shipped template of a language, loaded once."""
    language = Language(language)
    template = load_template(TEMPLATE_DIR / f"draft.{language.value}.yaml")
    if template.language is not language:
        raise DraftTemplateError(f"draft.{language.value}.yaml declares language {template.language.value!r}")
    return template
