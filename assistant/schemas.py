"""The domain of a specification interview: projects, people, turns and the objects extracted from them.

These models are what the store persists and what the draft and the exports read. Validation messages are
written for a person: they say what is wrong and what a valid value looks like.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    StringConstraints,
    field_validator,
    model_validator,
)

MAX_STATEMENT_CHARS = 2_000
"""A requirement or objective longer than this is a document, not a statement."""

MAX_TURN_CHARS = 20_000
"""The longest stakeholder message accepted (about eight pages of text)."""

EARLIEST_DATE = date(1990, 1, 1)
LATEST_DATE = date(2100, 12, 31)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class SectionId(StrEnum):
    """The parts of a CRM cahier des charges, in the order the document presents them."""

    COMPANY = "company"
    CONTEXT = "context"
    OBJECTIVES = "objectives"
    NEEDS = "needs"
    USE_CASES = "use_cases"
    FUNCTIONAL = "functional"
    NON_FUNCTIONAL = "non_functional"
    DATA = "data"
    DIAGNOSIS = "diagnosis"
    BUDGET = "budget"
    TIMELINE = "timeline"
    METHODOLOGY = "methodology"


class RequirementKind(StrEnum):
    FUNCTIONAL = "functional"
    NON_FUNCTIONAL = "non_functional"
    BOTH = "both"


class NfrCategory(StrEnum):
    SECURITY = "security"
    PRIVACY = "privacy"
    PERFORMANCE = "performance"
    AVAILABILITY = "availability"
    USABILITY = "usability"
    INTEGRATION = "integration"
    SCALABILITY = "scalability"
    MAINTAINABILITY = "maintainability"
    LEGAL = "legal"
    LOOK_AND_FEEL = "look_and_feel"
    OPERATIONAL = "operational"
    PORTABILITY = "portability"


class MoSCoW(StrEnum):
    MUST = "must"
    SHOULD = "should"
    COULD = "could"
    WONT = "wont"


class Horizon(StrEnum):
    SHORT = "short"
    MEDIUM = "medium"
    LONG = "long"


class Provenance(StrEnum):
    """How an object entered the specification: said outright, deduced, or assumed to fill a gap."""

    STATED = "stated"
    INFERRED = "inferred"
    ASSUMED = "assumed"


class RequirementStatus(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    REJECTED = "rejected"


class ObjectiveScope(StrEnum):
    INTERNAL = "internal"
    PARTNERS = "partners"
    COMMERCIAL = "commercial"


class ConstraintKind(StrEnum):
    BUDGET = "budget"
    DEADLINE = "deadline"
    REGULATORY = "regulatory"
    TECHNICAL = "technical"
    SUPPLIER = "supplier"


class VendorCoverage(StrEnum):
    """How a vendor says its product covers a requirement, in the response grid (`export/xlsx.py`)."""

    STANDARD = "standard"
    CONFIGURATION = "configuration"
    DEVELOPMENT = "development"
    THIRD_PARTY = "third_party"
    NOT_COVERED = "not_covered"


class TaxBasis(StrEnum):
    """Whether an amount includes VAT: French budgets are quoted HT (excl.) or TTC (incl.)."""

    EXCL_TAX = "excl_tax"
    INCL_TAX = "incl_tax"
    UNSPECIFIED = "unspecified"


class DatePrecision(StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"


class Speaker(StrEnum):
    STAKEHOLDER = "stakeholder"
    ASSISTANT = "assistant"


class Level(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class OpenStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class SectionState(StrEnum):
    GENERATED = "generated"
    EDITED = "edited"
    APPROVED = "approved"
    PROPOSED = "proposed"  # a regenerated text waiting for a reviewer; an empty one withdraws the last proposal


NonBlank = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Statement = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=MAX_STATEMENT_CHARS)]
ShortText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
Currency = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-Za-z]{3}$")]
"""An ISO 4217 code; pydantic checks the pattern before upper-casing, hence the mixed-case class."""


class Model(BaseModel):
    """Shared configuration: unknown fields are refused so that typos do not vanish silently."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, use_enum_values=False)


def _check_date_range(value: date | None) -> date | None:
    if value is not None and not (EARLIEST_DATE <= value <= LATEST_DATE):
        raise ValueError(
            f"date {value.isoformat()} is out of range; use a date between "
            f"{EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}"
        )
    return value


class Project(Model):
    id: NonBlank
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    language: Language = Language.FR
    company: ShortText = ""
    created_at: datetime = Field(default_factory=utcnow)


class Stakeholder(Model):
    id: NonBlank
    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]
    role: ShortText = ""


class SlotKey(NamedTuple):
    """One slot of the interview plan, `company.identity` when written down (in a turn's meta, an open question)."""

    section: SectionId
    slot: str

    def __str__(self) -> str:
        return f"{self.section.value}.{self.slot}"

    @classmethod
    def parse(cls, text: str) -> SlotKey:
        """Read `section.slot` back; an unknown section or a missing dot is a `ValueError`."""
        section, dot, slot = str(text).partition(".")
        if not dot or not slot:
            raise ValueError(f"a slot key is `section.slot`, got {text!r}")
        return cls(SectionId(section), slot)


def _slot_key(value: Any) -> Any:
    return SlotKey.parse(value) if isinstance(value, str) else value


StoredSlotKey = Annotated[SlotKey, BeforeValidator(_slot_key), PlainSerializer(str, return_type=str)]
"""A `SlotKey` in a stored record: validated from and written as its `section.slot` text."""


class TurnAction(StrEnum):
    """What a stakeholder's turn is: an answer, or the "skip" / "I don't know" buttons (no model call)."""

    ANSWER = "answer"
    SKIP = "skip"
    DONT_KNOW = "dont_know"


class Coverage(StrEnum):
    """How much of a plan section the interview has covered."""

    CLEAR = "clear"
    PARTIAL = "partial"
    MISSING = "missing"


class CitationRef(Model):
    """A guidance document shown with a question, kept so that a reload shows what was asked."""

    doc_id: str
    title: str
    heading: str = ""


class TurnMeta(Model):
    """What the interview records with a turn besides its text.

    A stakeholder's turn has its `action` and the `slot` of the question it answers. A question has the `slot`
    it asks about, the `options` and `citations` shown with it, the `conflict` it raises, or the answer it
    follows up (`follow_up_of`). The closing message has none of these.
    """

    action: TurnAction | None = None
    slot: StoredSlotKey | None = None
    options: list[str] | None = None
    citations: list[CitationRef] | None = None
    conflict: str | None = None
    follow_up_of: int | None = None

    def stored(self) -> dict[str, Any]:
        """The JSON object written to the `turns.meta` column (only what is set)."""
        return self.model_dump(mode="json", exclude_none=True)

    @property
    def is_empty(self) -> bool:
        return not self.stored()


class ExtractionStatus(StrEnum):
    """Where a stakeholder answer's extraction stands in the queue (one `extractions` row per answer).

    `queued` waits for a worker (again, after a transient failure: then `attempts` > 0 and `error` says why);
    `running` is claimed by a worker under a lease; `done` and `failed` are final until someone re-extracts.
    """

    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"

    @property
    def pending(self) -> bool:
        return self in (ExtractionStatus.QUEUED, ExtractionStatus.RUNNING)


class ExtractionResult(Model):
    """What a finished extraction changed, kept with its state for the page and the question policy."""

    # Read leniently: a log written by an older version may hold fields this one no longer uses.
    model_config = ConfigDict(extra="ignore", validate_assignment=True)

    answered_question: bool | None = None
    follow_up_question: str | None = None
    created: list[str] = Field(default_factory=list)
    updated: list[str] = Field(default_factory=list)
    conflicts: list[str] = Field(default_factory=list)
    prompt_tokens: int = 0

    @property
    def changed_anything(self) -> bool:
        return bool(self.created or self.updated)


class ExtractionState(Model):
    """The current state of one answer's extraction.

    `error_kind` is the type of the error that failed it (`ModelTimeoutError`, `ExtractionError`…), stored
    apart from the message so that no reader has to parse it out of the text.
    """

    turn_id: int
    status: ExtractionStatus
    result: ExtractionResult | None = None
    error: str = ""
    error_kind: str = ""
    attempts: int = 0
    """Model calls started for this answer so far; above 0 while queued, the last one failed and it is retried."""

    @property
    def retrying(self) -> bool:
        return self.status is ExtractionStatus.QUEUED and self.attempts > 0


class ExtractionClaim(NamedTuple):
    """One answer claimed by a worker: its lease `token` must still be current for the worker to commit."""

    project_id: str
    turn_id: int
    token: str
    attempt: int
    """1 for the first model call on this answer, 2 for the first retry…"""


class QueuePosition(NamedTuple):
    """Where a pending answer stands: how many answers will be extracted before it, and a time estimate."""

    ahead: int
    estimate_s: float | None
    """Seconds until its result, from the measured durations of recent extractions; None before any is measured."""


class Turn(Model):
    """One message of the interview, stored before anything else happens to it."""

    id: int
    project_id: NonBlank
    speaker: Speaker
    stakeholder_id: str | None = None
    text: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TURN_CHARS)]
    language: Language
    created_at: datetime = Field(default_factory=utcnow)
    meta: TurnMeta = Field(default_factory=TurnMeta)

    @model_validator(mode="after")
    def _stakeholder_turns_name_someone(self) -> Turn:
        if self.speaker is Speaker.STAKEHOLDER and not self.stakeholder_id:
            raise ValueError("a stakeholder's turn must say which stakeholder spoke (`stakeholder_id`)")
        return self


class Tracked(Model):
    """Fields every extracted object carries so that each line of the specification can be traced."""

    id_prefix: ClassVar[str] = "OBJ"
    kind_name: ClassVar[str] = "object"

    id: NonBlank
    provenance: Provenance = Provenance.STATED
    source_turn_ids: list[int] = Field(default_factory=list)
    stakeholder_ids: list[str] = Field(default_factory=list)

    @property
    def headline(self) -> str:
        """The words a person knows the object by: its statement, title, question or subject."""
        for name in ("statement", "title", "question", "subject", "text"):
            value = getattr(self, name, None)
            if isinstance(value, str):
                return value
        return ""

    @field_validator("id")
    @classmethod
    def _id_has_prefix(cls, value: str) -> str:
        if not re.fullmatch(rf"{cls.id_prefix}-\d{{3,}}", value):
            raise ValueError(f"id {value!r} must look like `{cls.id_prefix}-001`")
        return value


class StoredFinding(Model):
    """One quality finding as kept with its requirement: the rule, where it lies, and the words it is about."""

    rule: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    severity: Annotated[str, StringConstraints(min_length=1, max_length=10)]
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str


class RequirementQuality(Model):
    """The quality check of a requirement's wording, set by `Store.save_object` on every save (never by hand).

    `basis` fingerprints what the check read (statement, kind, category, acceptance criteria, language) and the
    checker's version, so a reader can tell a current result from one computed before an edit or a rule change.
    """

    score: int = Field(ge=0, le=100)
    findings: list[StoredFinding] = Field(default_factory=list, max_length=200)
    basis: Annotated[str, StringConstraints(max_length=64)] = ""


class Requirement(Tracked):
    id_prefix: ClassVar[str] = "REQ"
    kind_name: ClassVar[str] = "requirement"

    statement: Statement
    kind: RequirementKind = RequirementKind.FUNCTIONAL
    category: NfrCategory | None = None
    moscow: MoSCoW = MoSCoW.SHOULD
    horizon: Horizon | None = None
    section: SectionId = SectionId.FUNCTIONAL
    rationale: ShortText = ""
    acceptance_criteria: list[
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
    ] = Field(default_factory=list, max_length=20)
    status: RequirementStatus = RequirementStatus.PROPOSED
    quality: RequirementQuality | None = None
    """Computed when the requirement is saved; absent on rows saved before quality was stored."""

    @model_validator(mode="after")
    def _category_matches_kind(self) -> Requirement:
        if self.kind is RequirementKind.FUNCTIONAL and self.category is not None:
            raise ValueError(
                f"a functional requirement has no quality category (got {self.category.value!r}); "
                "set `kind` to `non_functional` or `both`, or remove the category"
            )
        return self


class Objective(Tracked):
    """A goal the CRM must serve, with the SMART fields that make it checkable."""

    id_prefix: ClassVar[str] = "OBJ"
    kind_name: ClassVar[str] = "objective"

    statement: Statement
    scope: ObjectiveScope = ObjectiveScope.INTERNAL
    metric: ShortText = ""
    baseline: ShortText = ""
    target: ShortText = ""
    deadline: date | None = None
    owner: ShortText = ""

    @field_validator("deadline")
    @classmethod
    def _deadline_in_range(cls, value: date | None) -> date | None:
        return _check_date_range(value)

    SMART_FIELDS: ClassVar[tuple[str, ...]] = ("metric", "baseline", "target", "deadline", "owner")

    def missing_smart_fields(self) -> list[str]:
        """The SMART fields still empty, in a fixed order (the draft flags them)."""
        return [name for name in self.SMART_FIELDS if not getattr(self, name)]


class Money(Model):
    amount: Decimal = Field(ge=0, le=Decimal("1e12"))
    currency: Currency = "EUR"
    tax_basis: TaxBasis = TaxBasis.UNSPECIFIED


class DateValue(Model):
    """A date as precise as the stakeholder was: "Q2 2027" is a quarter, not the first of April."""

    value: date
    precision: DatePrecision = DatePrecision.DAY

    @field_validator("value")
    @classmethod
    def _value_in_range(cls, value: date) -> date:
        _check_date_range(value)
        return value


class Constraint(Tracked):
    id_prefix: ClassVar[str] = "CON"
    kind_name: ClassVar[str] = "constraint"

    kind: ConstraintKind
    statement: Statement
    money: Money | None = None
    due: DateValue | None = None

    @model_validator(mode="after")
    def _values_fit_kind(self) -> Constraint:
        if self.money is not None and self.kind not in (ConstraintKind.BUDGET, ConstraintKind.SUPPLIER):
            raise ValueError(f"an amount belongs to a budget or supplier constraint, not to a {self.kind.value!r} one")
        return self


class UseCase(Tracked):
    id_prefix: ClassVar[str] = "UC"
    kind_name: ClassVar[str] = "use case"

    title: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=200)]
    actor: ShortText = ""
    goal: ShortText = ""
    steps: list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]] = Field(
        default_factory=list, max_length=30
    )


class Risk(Tracked):
    id_prefix: ClassVar[str] = "RSK"
    kind_name: ClassVar[str] = "risk"

    statement: Statement
    likelihood: Level = Level.MEDIUM
    impact: Level = Level.MEDIUM
    mitigation: ShortText = ""


class Fact(Tracked):
    """Something a stakeholder said about the company, today's situation, its data or its team.

    Not a requirement: it is what the narrative sections of the specification are written from, in the
    stakeholder's own words, with who said it and when.
    """

    id_prefix: ClassVar[str] = "FCT"
    kind_name: ClassVar[str] = "fact"

    section: SectionId
    topic: ShortText = ""
    text: Statement


class OpenQuestion(Tracked):
    """Something the interview could not settle yet; it stays visible until answered."""

    id_prefix: ClassVar[str] = "Q"
    kind_name: ClassVar[str] = "open question"

    question: Statement
    section: SectionId
    slot: StoredSlotKey | None = None
    status: OpenStatus = OpenStatus.OPEN
    answer: ShortText = ""


class ConflictingStatement(Model):
    stakeholder_id: NonBlank
    text: Statement
    turn_id: int | None = None


class Conflict(Tracked):
    """Two stakeholders said incompatible things; both are kept until a person decides."""

    id_prefix: ClassVar[str] = "CNF"
    kind_name: ClassVar[str] = "conflict"

    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    object_ids: list[str] = Field(default_factory=list)
    statements: list[ConflictingStatement] = Field(min_length=2)
    status: OpenStatus = OpenStatus.OPEN
    resolution: ShortText = ""


class DraftSection(Model):
    """One stored version of a section of the specification; versions are append-only."""

    project_id: NonBlank
    section: SectionId
    version: int = Field(ge=1)
    text: Annotated[str, StringConstraints(max_length=200_000)]
    state: SectionState = SectionState.GENERATED
    author: ShortText = "cahier"
    created_at: datetime = Field(default_factory=utcnow)


TrackedObject = Requirement | Objective | Constraint | UseCase | Fact | Risk | OpenQuestion | Conflict

OBJECT_TYPES: dict[str, type[Tracked]] = {
    cls.__name__.lower(): cls
    for cls in (Requirement, Objective, Constraint, UseCase, Fact, Risk, OpenQuestion, Conflict)
}
"""Type name as stored in the database → model class."""


def type_name(obj: Tracked | type[Tracked]) -> str:
    cls = obj if isinstance(obj, type) else type(obj)
    return cls.__name__.lower()


class ObjectVersion(Model):
    """One entry of an object's history: what it was, who changed it, and from which turn."""

    object_id: str
    version: int
    data: dict
    changed_by: str
    turn_id: int | None = None
    change: Literal["created", "updated", "deleted"]
    changed_at: datetime


# -- What the model fills ---------------------------------------------------------------------------------
# Extraction schemas are prompts too: docstrings and field descriptions are sent to the model. They stay
# compatible with OpenAI's strict JSON-schema mode (every field required, nullable instead of optional, no
# extra keys) and are bounded (list and string lengths) so a small local model cannot run away.


class ExtractionModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ClauseKind(StrEnum):
    """What one clause of an answer is, as code labels it (`assistant/interview/labels.py`)."""

    NEED = "need"
    OBJECTIVE = "objective"
    CONSTRAINT = "constraint"
    STEP = "step"
    COMPANY = "company"
    SITUATION = "situation"
    DATA = "data"
    TEAM = "team"
    OTHER = "other"


class ClauseNeed(ExtractionModel):
    """What the model reads in one clause that code labelled a need: whether it asks anything of the CRM, and if
    so the requirement sentences (one need per sentence).

    `asks` comes first so that the model decides before it writes: asked for sentences only, a small model words
    a rationale ("Sans ça, on ressaisit tout deux fois") as a requirement too."""

    asks: bool
    statements: list[Annotated[str, StringConstraints(min_length=10, max_length=300)]] = Field(max_length=3)


class ObjectiveFields(ExtractionModel):
    """A business goal the CRM must serve, with whatever SMART details were given (null when not given)."""

    statement: str = Field(min_length=3, max_length=300)
    scope: ObjectiveScope
    metric: str | None = Field(max_length=120, description="What is measured, e.g. conversion rate.")
    baseline: str | None = Field(max_length=60, description="Today's value, as said.")
    target: str | None = Field(max_length=60, description="The value to reach, as said.")
    deadline_text: str | None = Field(max_length=80, description="When, in the stakeholder's words.")


class _ClauseNumber(ExtractionModel):
    clause: int = Field(ge=1, le=60)


class FoundObjective(ObjectiveFields, _ClauseNumber):
    """An objective and the clause it was read in (pydantic lists the fields of the last base first)."""


class FoundConstraint(ExtractionModel):
    """A limit the project must respect. Amounts and dates are copied as said; Cahier normalises them."""

    kind: ConstraintKind
    statement: str = Field(min_length=3, max_length=300)
    amount_text: str | None = Field(max_length=60, description="The amount exactly as said, e.g. '80 k€ HT'.")
    date_text: str | None = Field(max_length=80, description="The date exactly as said, e.g. 'avant la rentrée 2027'.")


class FoundUseCase(ExtractionModel):
    """A business scenario: who does what, step by step."""

    title: str = Field(min_length=3, max_length=120)
    actor: str = Field(max_length=80)
    steps: list[Annotated[str, StringConstraints(max_length=200)]] = Field(max_length=8)


class _Goal(ExtractionModel):
    goal: bool


class ClauseObjective(ObjectiveFields, _Goal):
    """What the model reads in one clause that code labelled an objective: whether it sets a result to reach, then
    the goal, and its metric, baseline, target and deadline as said (null when not said). `goal` comes first, as
    `ClauseNeed.asks` does, so that the model decides before it writes."""


# -- What the reader hands the merge ----------------------------------------------------------------------


class FoundNeed(Model):
    """One requirement read from an answer: the model's wording, code's priority, horizon and kind."""

    statement: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=300)]
    clause: str
    kind: RequirementKind = RequirementKind.FUNCTIONAL
    category: NfrCategory | None = None
    moscow: MoSCoW = MoSCoW.SHOULD
    moscow_stated: bool = False
    horizon: Horizon | None = None
    section: SectionId = SectionId.FUNCTIONAL


class FoundFact(Model):
    """A fact the stakeholder gave, in their own words (the material of the narrative sections)."""

    section: SectionId
    text: Statement


class TurnFindings(Model):
    """Everything one stakeholder answer contains, as the reader built it from the clause labels and wordings."""

    language: Language
    requirements: list[FoundNeed] = Field(default_factory=list)
    objectives: list[FoundObjective] = Field(default_factory=list)
    constraints: list[FoundConstraint] = Field(default_factory=list)
    use_cases: list[FoundUseCase] = Field(default_factory=list)
    facts: list[FoundFact] = Field(default_factory=list)
    unknowns: list[str] = Field(default_factory=list)
    """Clauses that admit not knowing something: each becomes an open question."""
    answered_question: bool = True


class ProjectObjects(Model):
    """Every current object of a project, by type, as one read of the store returns them.

    Fields are named as `OBJECT_TYPES` names the types in the database (`usecase`, `openquestion`…).
    """

    requirement: list[Requirement] = Field(default_factory=list)
    objective: list[Objective] = Field(default_factory=list)
    constraint: list[Constraint] = Field(default_factory=list)
    usecase: list[UseCase] = Field(default_factory=list)
    fact: list[Fact] = Field(default_factory=list)
    risk: list[Risk] = Field(default_factory=list)
    openquestion: list[OpenQuestion] = Field(default_factory=list)
    conflict: list[Conflict] = Field(default_factory=list)

    def named(self, name: str) -> list[Tracked]:
        """The objects of one type by its stored name (`requirement`, `usecase`…); [] for an unknown name."""
        found = getattr(self, name, None) if name in type(self).model_fields else None
        return list(found or [])

    def items(self) -> list[tuple[str, list[Tracked]]]:
        """(stored type name, objects) for every type, in a fixed order."""
        return [(name, self.named(name)) for name in type(self).model_fields]


class PlannedSave(NamedTuple):
    """One object an extraction writes, with the version it was computed from (0: it does not exist yet)."""

    obj: Tracked
    expected_version: int
    changed_by: str | None = None
    """Who the history names for this change, when not the speaker (``cahier`` for a conflict it opened)."""


@dataclass
class ChangeSet:
    """Everything one extraction changes in a project, computed without touching the store.

    The store writes it in one transaction together with the extraction's status, or not at all: a version
    that moved, or an id counter that moved (a reviewer added an object meanwhile), refuses the whole set and
    the merge is computed again on fresh state.
    """

    saves: list[PlannedSave] = field(default_factory=list)
    deletes: list[tuple[str, int]] = field(default_factory=list)
    """(object id, expected version) of objects the answer no longer yields on re-extraction."""
    id_counters: dict[str, tuple[int, int]] = field(default_factory=dict)
    """Id prefix → (counter value the ids were drawn from, value after this change set)."""


@dataclass
class MergeSnapshot:
    """The state a merge is computed from, read in one transaction (see `Store.merge_snapshot`)."""

    objects: ProjectObjects
    versions: dict[str, int]
    """Object id → current version, for the optimistic check when the changes are written."""
    counters: dict[str, int]
    """Id prefix → last number handed out."""
    made_by_turn: list[str]
    """Ids the answer created in an earlier extraction that no person has edited since, in id order."""
    touched_by_turn: set[str] = field(default_factory=set)
    """Ids of other objects an earlier extraction of the answer changed (it joined their sources, corrected them)."""
    withdrawn: list[Tracked] = field(default_factory=list)
    """Objects the answer created that a person has deleted since: a re-extraction must not bring them back."""
