"""What the checker reports: rule identifiers, severities, and the report models of one statement and of a set."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from assistant.schemas import Language, Model


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class RuleId(StrEnum):
    """Stable identifiers of the per-requirement rules; stored with findings, so never rename one."""

    VAGUE_TERM = "vague_term"
    ESCAPE_CLAUSE = "escape_clause"
    OPEN_ENDED = "open_ended"
    SUPERFLUOUS_INFINITIVE = "superfluous_infinitive"
    AND_OR = "and_or"
    NEGATIVE_STATEMENT = "negative_statement"
    PASSIVE_VOICE = "passive_voice"
    UNCLEAR_PRONOUN = "unclear_pronoun"
    ABSOLUTE_TERM = "absolute_term"
    MULTIPLE_REQUIREMENTS = "multiple_requirements"
    PURPOSE_PHRASE = "purpose_phrase"
    NUMBER_WITHOUT_UNIT = "number_without_unit"
    UNMEASURABLE_QUALITY = "unmeasurable_quality"
    PLACEHOLDER = "placeholder"
    DECIMAL_FORMAT = "decimal_format"


class SetRuleId(StrEnum):
    """Stable identifiers of the checks that need the whole set of requirements."""

    NEAR_DUPLICATE = "near_duplicate"
    MUST_OVERLOAD = "must_overload"
    UNDEFINED_ACRONYM = "undefined_acronym"
    QUANTITY_CONFLICT = "quantity_conflict"


RULE_SEVERITY: dict[RuleId, Severity] = {
    RuleId.PLACEHOLDER: Severity.ERROR,
    RuleId.UNMEASURABLE_QUALITY: Severity.ERROR,
    RuleId.VAGUE_TERM: Severity.WARNING,
    RuleId.ESCAPE_CLAUSE: Severity.WARNING,
    RuleId.OPEN_ENDED: Severity.WARNING,
    RuleId.AND_OR: Severity.WARNING,
    RuleId.UNCLEAR_PRONOUN: Severity.WARNING,
    RuleId.ABSOLUTE_TERM: Severity.WARNING,
    RuleId.MULTIPLE_REQUIREMENTS: Severity.WARNING,
    RuleId.NUMBER_WITHOUT_UNIT: Severity.WARNING,
    RuleId.DECIMAL_FORMAT: Severity.WARNING,
    RuleId.SUPERFLUOUS_INFINITIVE: Severity.INFO,
    RuleId.NEGATIVE_STATEMENT: Severity.INFO,
    RuleId.PASSIVE_VOICE: Severity.INFO,
    RuleId.PURPOSE_PHRASE: Severity.INFO,
}
"""Default severity of each rule; `decimal_format` drops to info when the only problem is the language's style."""


class Finding(Model):
    """One problem in one statement; `start`/`end` are character offsets into the statement as given."""

    rule: RuleId
    severity: Severity
    start: int = Field(ge=0)
    end: int = Field(ge=0)
    text: str
    message: str
    hint: str


class RuleCost(Model):
    """What one rule took off the score, after the per-rule cap."""

    rule: RuleId
    findings: int
    cost: int
    capped: bool


class Suggestion(Model):
    """A rewrite to start from: `<…>` marks what the author still has to decide."""

    template: str
    text: str


class QualityReport(Model):
    requirement_id: str | None = None
    language: Language
    statement: str
    findings: list[Finding]
    score: int = Field(ge=0, le=100)
    breakdown: list[RuleCost]
    suggestion: Suggestion | None = None


class SetFinding(Model):
    rule: SetRuleId
    severity: Severity
    requirement_ids: list[str]
    message: str
    hint: str


class DuplicatePair(SetFinding):
    similarity: float


class UndefinedAcronym(SetFinding):
    acronym: str


class QuantityConflict(SetFinding):
    dimension: str
    values: list[str]


class SetReport(Model):
    """What only shows when requirements are read together."""

    language: Language
    duplicates: list[DuplicatePair]
    undefined_acronyms: list[UndefinedAcronym]
    quantity_conflicts: list[QuantityConflict]
    must_share: float
    must_overload: SetFinding | None = None

    def findings(self) -> list[SetFinding]:
        """Every set-level finding in one list, most severe kinds first, for display."""
        overload = [self.must_overload] if self.must_overload else []
        return [*self.quantity_conflicts, *self.duplicates, *overload, *self.undefined_acronyms]
