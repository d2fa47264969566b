"""Requirement quality: rule findings with character spans, a 0–100 score, EARS-style rewrites and set-level checks.

Pure Python and offline: no language model is called, and the only model-like dependency, the sentence
embedding used for near duplicates, is passed in (`embed`) so that tests can hand in a fake. Word lists,
messages and rewrite templates live in `assistant/lexicons/<lang>.yaml`; they are validated when loaded, so a
typo in a list or a rule id fails at start-up with the file name instead of silently matching nothing.

Participles (passive voice) come from the lexicon alone: regular endings (-ed; -é/-ée/-és/-ées and
-i/-ie/-is/-ies), irregular forms, and a short list of look-alike adjectives; `simplemma` is not used.
Measured on the 47 sentences of `PARTICIPLE_CHECKS` in `tests/unit/test_quality.py` (25 fr, 22 en, each read by
a person as passive or not): the first lexicon (French -é endings plus irregular forms) got 43/47; adding
simplemma's lemmas as a fallback got 45/47 (it fixed "élargi" and "accueilli" but not "recueillis", and in
English it turned plural nouns after "are" into participles, because their lemma differs too); adding the -i
endings to the lexicon got 47/47, without a 19 MB dependency and its 0.2 s load on the first French lemma.

Near duplicates: two statements are flagged when the cosine similarity of their embeddings (the project's
multilingual USE model) is at least `DUPLICATE_THRESHOLD` = 0.75. Calibrated with `bench/quality_eval.py
--duplicates` on 20 hand-made pairs (10 paraphrases, 10 merely related, half French, half English):
paraphrases scored 0.60–0.92 (mean 0.77), related pairs 0.17–0.72 (mean 0.52, the closest being "export
contacts" vs "import contacts" at 0.72); 0.75 keeps every related pair out and catches 5 of the 10 paraphrases
(the close rewordings; loose paraphrases that change the subject stay below). A wrong "duplicate" costs a
reviewer's trust more than a missed one costs, hence the high threshold.
"""

from __future__ import annotations

import hashlib
import re
import string
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache, lru_cache
from itertools import combinations
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import yaml
from pydantic import Field, PrivateAttr, StringConstraints, ValidationError, field_validator, model_validator

from assistant.embeddings import embed_texts
from assistant.errors import CahierError, InputError
from assistant.schemas import (
    Language,
    Model,
    MoSCoW,
    NfrCategory,
    Requirement,
    RequirementKind,
    RequirementQuality,
    SectionId,
    StoredFinding,
)

LEXICON_DIR = Path(__file__).with_name("lexicons")

DUPLICATE_THRESHOLD = 0.75
"""Cosine similarity from which two statements are reported as near duplicates (see the module docstring)."""

MUST_SHARE_LIMIT = 0.60
"""Above this share of "Must" requirements, prioritisation has stopped meaning anything."""

MIN_REQUIREMENTS_FOR_MUST_SHARE = 5
"""With fewer requirements a share is noise: two musts out of three says nothing about the specification."""

QUANTITY_SUBJECT_OVERLAP = 0.6
"""Two quantities measure the same thing when the content words of their statements overlap this much (Jaccard)."""


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

SEVERITY_COST: dict[Severity, int] = {Severity.ERROR: 20, Severity.WARNING: 8, Severity.INFO: 3}
"""Points a finding takes off the score of 100."""

FINDINGS_CHARGED_PER_RULE = 2
"""A rule costs at most this many findings' worth, so that one long list of "all" cannot sink a requirement."""

TERM_RULES: tuple[RuleId, ...] = (
    RuleId.PLACEHOLDER,
    RuleId.ESCAPE_CLAUSE,
    RuleId.OPEN_ENDED,
    RuleId.SUPERFLUOUS_INFINITIVE,
    RuleId.PURPOSE_PHRASE,
    RuleId.AND_OR,
    RuleId.NEGATIVE_STATEMENT,
    RuleId.VAGUE_TERM,
    RuleId.ABSOLUTE_TERM,
)
"""Rules found by matching the lexicon's `terms`; the others are computed and take no terms."""

_OUTRANKED_BY: dict[RuleId, frozenset[RuleId]] = {
    RuleId.VAGUE_TERM: frozenset(
        {
            RuleId.PLACEHOLDER,
            RuleId.ESCAPE_CLAUSE,
            RuleId.OPEN_ENDED,
            RuleId.SUPERFLUOUS_INFINITIVE,
            RuleId.PURPOSE_PHRASE,
        }
    ),
    RuleId.ABSOLUTE_TERM: frozenset({RuleId.PLACEHOLDER, RuleId.ESCAPE_CLAUSE}),
    RuleId.PASSIVE_VOICE: frozenset({RuleId.PLACEHOLDER, RuleId.ESCAPE_CLAUSE, RuleId.SUPERFLUOUS_INFINITIVE}),
}
"""A finding lying inside one of these rules' spans says the same thing twice ("possible" in "if possible")."""

_REMOVABLE_IN_REWRITE = frozenset({RuleId.VAGUE_TERM, RuleId.ESCAPE_CLAUSE, RuleId.SUPERFLUOUS_INFINITIVE})
"""Words a rewrite can simply drop; a trailing "etc." goes too, but an open list inside a sentence stays for the
author to close, and a placeholder stays because dropping it would hide the missing value."""


# --------------------------------------------------------------------------------------------------------------
# Lexicon files


class LexiconError(CahierError):
    """A lexicon file is missing, is not YAML, or does not fit `Lexicon`.

    Attributes:
        path: the file that was being loaded.
    """

    def __init__(self, path: Path, message: str) -> None:
        self.path = path
        super().__init__(f"lexicon `{path}` is invalid: {message}")


Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
Terms = Annotated[list[Text], Field(min_length=1)]

_ALTERNATION = re.compile(r"\(([^()]*)\)")


def expand_term(term: str) -> list[str]:
    """Every spelling a lexicon term stands for: "rapide(|s)" gives "rapide" and "rapides".

    Lexicons list inflected forms this way so that the files stay short and every form is still explicit.
    """
    match = _ALTERNATION.search(term)
    if match is None:
        return [" ".join(term.split())]
    spellings: list[str] = []
    for option in match.group(1).split("|"):
        spellings.extend(expand_term(term[: match.start()] + option + term[match.end() :]))
    return spellings


def _fields_of(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_terms(terms: list[str] | None) -> list[str] | None:
    for term in terms or ():
        if any(mark in spelling for spelling in expand_term(term) for mark in "()|"):
            raise ValueError(f"term {term!r} has an unbalanced `(…|…)` group")
    return terms


class RuleText(Model):
    """What a rule says to the author, and the words that make it fire."""

    message: Text
    hint: Text
    terms: Terms | None = None
    exceptions: Terms | None = None

    _check = field_validator("terms", "exceptions")(_check_terms)

    @field_validator("message", "hint")
    @classmethod
    def _only_match_field(cls, value: str) -> str:
        unknown = _fields_of(value) - {"match"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; a rule message may only use {{match}}")
        return value


_SET_RULE_FIELDS: dict[SetRuleId, set[str]] = {
    SetRuleId.NEAR_DUPLICATE: {"similarity"},
    SetRuleId.MUST_OVERLOAD: {"share"},
    SetRuleId.UNDEFINED_ACRONYM: {"acronym"},
    SetRuleId.QUANTITY_CONFLICT: {"values"},
}


class SetRuleText(Model):
    message: Text
    hint: Text


class Words(Model):
    """Closed word classes the computed rules need; every list is folded (lower case, no accents) when used."""

    modals: Terms
    be_forms: Terms
    adverbs: Terms
    adverb_suffixes: Terms
    participle_suffixes: Terms
    participles: Terms
    not_participles: Terms
    actions: Terms
    coordinators: Terms
    pronouns: Terms
    demonstratives: Terms
    pronoun_followers: Terms
    clause_openers: Terms
    conditions: Terms
    impersonal: Terms
    bare_followers: Terms
    id_prefixes: Terms
    number_words: Terms
    stopwords: Terms
    acronyms_allowed: Terms

    _check = field_validator("*")(_check_terms)


class Templates(Model):
    """EARS-style rewrites; `{action}`, `{subject}` and `{modal}` are filled from the statement when possible."""

    action_placeholder: Text
    default_subject: Text
    default_modal: Text
    performance: Text
    usability: Text
    availability: Text
    capacity: Text
    measurable: Text
    direct: Text
    split: Text

    @field_validator("*")
    @classmethod
    def _known_fields(cls, value: str) -> str:
        unknown = _fields_of(value) - {"action", "subject", "modal"}
        if unknown:
            raise ValueError(f"unknown placeholder(s) {sorted(unknown)}; use {{action}}, {{subject}} or {{modal}}")
        return value


class Triggers(Model):
    """Which vague words call for which rewrite template."""

    performance: Terms
    usability: Terms
    availability: Terms
    capacity: Terms

    _check = field_validator("*")(_check_terms)


class Lexicon(Model):
    """One language's word lists, messages and templates, as read from `assistant/lexicons/<lang>.yaml`."""

    language: Language
    rules: dict[RuleId, RuleText]
    set_rules: dict[SetRuleId, SetRuleText]
    words: Words
    units: dict[Text, Annotated[dict[Text, Annotated[float, Field(gt=0)]], Field(min_length=1)]] = Field(min_length=1)
    templates: Templates
    triggers: Triggers

    _compiled: Any = PrivateAttr(default=None)

    @field_validator("units")
    @classmethod
    def _unit_spellings_expand(cls, value: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        for units in value.values():
            _check_terms(list(units))
        return value

    @model_validator(mode="after")
    def _every_rule_is_described(self) -> Lexicon:
        missing = [rule.value for rule in RuleId if rule not in self.rules]
        missing += [rule.value for rule in SetRuleId if rule not in self.set_rules]
        if missing:
            raise ValueError(f"missing rule(s) {missing}; every rule needs a message and a hint")
        for rule, text in self.rules.items():
            if rule in TERM_RULES and not text.terms:
                raise ValueError(f"rule `{rule.value}` needs a non-empty `terms` list")
            if rule not in TERM_RULES and (text.terms or text.exceptions):
                raise ValueError(f"rule `{rule.value}` is computed, not matched: remove its `terms`/`exceptions`")
        for rule, text in self.set_rules.items():
            for field_name in ("message", "hint"):
                unknown = _fields_of(getattr(text, field_name)) - _SET_RULE_FIELDS[rule]
                if unknown:
                    raise ValueError(
                        f"`set_rules.{rule.value}.{field_name}` uses unknown placeholder(s) {sorted(unknown)}"
                    )
        return self


def load_lexicon(path: Path) -> Lexicon:
    """Read and validate one lexicon file.

    Raises:
        LexiconError: naming the file and each problem, so that a broken list is fixed before any check runs.
    """
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise LexiconError(path, f"cannot be read ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise LexiconError(path, f"is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise LexiconError(path, "must be a mapping with `language`, `rules`, `set_rules`, `words`, …")
    try:
        return Lexicon.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '(top level)'}: {error['msg']}" for error in exc.errors()
        )
        raise LexiconError(path, problems) from exc


def _language(lang: str | Language) -> Language:
    try:
        return Language(str(lang).lower())
    except ValueError:
        raise InputError("language", f"no quality lexicon for language {lang!r}; use 'fr' or 'en'") from None


@cache
def _shipped_lexicon(language: Language) -> Lexicon:
    lexicon = load_lexicon(LEXICON_DIR / f"{language.value}.yaml")
    if lexicon.language is not language:
        raise LexiconError(LEXICON_DIR / f"{language.value}.yaml", f"declares language {lexicon.language.value!r}")
    return lexicon


def lexicon_for(lang: str | Language) -> Lexicon:
    """The lexicon shipped with the package for `lang` ("fr" or "en"), loaded once."""
    return _shipped_lexicon(_language(lang))


# --------------------------------------------------------------------------------------------------------------
# Folding and matching

_SPACE_LIKE = "\u00a0\u202f\u2009\u2007\u200a"
_APOSTROPHES = "\u2019\u2018\u02bc`\u00b4"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    if char in _SPACE_LIKE:
        return " "
    if char in _APOSTROPHES:
        return "'"
    if char in _DASHES:
        return "-"
    folded = unicodedata.normalize("NFD", char)[0].lower()
    return folded if len(folded) == 1 else char


def fold(text: str) -> str:
    """Lower-case, accent-free copy of `text` of the same length, so that offsets found in it point into `text`."""
    return "".join(_fold_char(char) for char in text)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _term_regex(spelling: str) -> str:
    """The pattern of one spelling, without the leading word boundary that `_terms_regex` factors out."""
    words = fold(spelling).split(" ")
    body = ""
    for index, word in enumerate(words):
        if word == "#":
            piece = r"(?<![\w.,])\d+(?:[.,]\d+)?(?!\w)"  # "every # seconds" stands for any number
        else:
            piece = re.escape(word).replace(r"\-", r"[-\s]?").replace("/", r"\s*/\s*")
        if index:
            # spaces are optional next to a symbol ("100%" is "100 %") and required between two words
            joined = _is_word_char(words[index - 1][-1]) and _is_word_char(word[0])
            body += r"\s+" if joined else r"\s*"
        body += piece
    return body + (r"(?!\w)" if _is_word_char(words[-1][-1]) else "")


def _terms_regex(terms: Iterable[str]) -> re.Pattern[str]:
    spellings = {spelling for term in terms for spelling in expand_term(term)}
    # longest first, so that "easy to use" wins over "easy" at the same position
    ordered = sorted(spellings, key=lambda spelling: (-len(spelling), spelling))
    at_word_start = [_term_regex(s) for s in ordered if _is_word_char(fold(s)[0]) and not s.startswith("#")]
    elsewhere = [_term_regex(s) for s in ordered if not (_is_word_char(fold(s)[0]) and not s.startswith("#"))]
    # one look-behind for all the word-initial terms: checked once per position instead of once per term
    parts = ([r"(?<!\w)(?:" + "|".join(at_word_start) + ")"] if at_word_start else []) + elsewhere
    return re.compile("|".join(parts))


def _folded_set(terms: Iterable[str]) -> frozenset[str]:
    return frozenset(fold(spelling) for term in terms for spelling in expand_term(term))


def _lower_set(terms: Iterable[str]) -> frozenset[str]:
    return frozenset(unicodedata.normalize("NFC", spelling.lower()) for term in terms for spelling in expand_term(term))


@dataclass(frozen=True)
class _Matchers:
    """A lexicon turned into regular expressions and sets, built once per lexicon object."""

    terms: dict[RuleId, re.Pattern[str]]
    exceptions: dict[RuleId, re.Pattern[str]]
    modals: frozenset[str]
    be_forms: frozenset[str]
    adverbs: frozenset[str]
    adverb_suffixes: tuple[str, ...]
    participle_suffixes: tuple[str, ...]
    participles: frozenset[str]
    not_participles: frozenset[str]
    actions: frozenset[str]
    coordinators: frozenset[str]
    pronouns: frozenset[str]
    demonstratives: frozenset[str]
    pronoun_followers: frozenset[str]
    clause_openers: frozenset[str]
    conditions: frozenset[str]
    impersonal: re.Pattern[str]
    bare_followers: frozenset[str]
    id_prefixes: frozenset[str]
    number_words: re.Pattern[str]
    stopwords: frozenset[str]
    acronyms_allowed: frozenset[str]
    units: re.Pattern[str]
    unit_table: dict[str, tuple[str, float]]
    triggers: dict[str, frozenset[str]]


def _matchers(lexicon: Lexicon) -> _Matchers:
    if lexicon._compiled is None:
        words = lexicon.words
        unit_table = {
            fold(spelling): (dimension, factor)
            for dimension, units in lexicon.units.items()
            for unit, factor in units.items()
            for spelling in expand_term(unit)
        }
        lexicon._compiled = _Matchers(
            terms={rule: _terms_regex(text.terms) for rule, text in lexicon.rules.items() if text.terms},
            exceptions={rule: _terms_regex(text.exceptions) for rule, text in lexicon.rules.items() if text.exceptions},
            modals=_folded_set(words.modals),
            be_forms=_folded_set(words.be_forms),
            adverbs=_folded_set(words.adverbs),
            adverb_suffixes=tuple(fold(suffix) for suffix in words.adverb_suffixes),
            participle_suffixes=tuple(sorted(_lower_set(words.participle_suffixes))),
            participles=_lower_set(words.participles),
            not_participles=_lower_set(words.not_participles),
            actions=_folded_set(words.actions),
            coordinators=_folded_set(words.coordinators),
            pronouns=_folded_set(words.pronouns),
            demonstratives=_folded_set(words.demonstratives),
            pronoun_followers=_folded_set(words.pronoun_followers),
            clause_openers=_folded_set(words.clause_openers),
            conditions=_folded_set(words.conditions),
            impersonal=_terms_regex(words.impersonal),
            bare_followers=_folded_set(words.bare_followers),
            id_prefixes=_folded_set(words.id_prefixes),
            number_words=_terms_regex(words.number_words),
            stopwords=_folded_set(words.stopwords),
            acronyms_allowed=frozenset(term.upper() for term in words.acronyms_allowed),
            units=_terms_regex(unit_table),
            unit_table=unit_table,
            triggers={name: _folded_set(terms) for name, terms in lexicon.triggers},
        )
    return lexicon._compiled


_TOKEN = re.compile(r"\w+(?:-\w+)*|[^\w\s]")
_SENTENCE_END = frozenset(".!?;:")


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    folded: str


class _Statement:
    """A statement with its folded copy and tokens, shared by every rule."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.folded = fold(text)
        self.tokens = [_Token(m.start(), m.end(), m.group()) for m in _TOKEN.finditer(self.folded)]

    def starts_sentence(self, index: int) -> bool:
        if index == 0:
            return True
        previous = self.tokens[index - 1]
        between = self.text[previous.end : self.tokens[index].start]
        return previous.folded in _SENTENCE_END or "\n" in between or previous.folded in ("-", "*", "•")

    def original(self, token: _Token) -> str:
        return unicodedata.normalize("NFC", self.text[token.start : token.end].lower())


# --------------------------------------------------------------------------------------------------------------
# Reports


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


# --------------------------------------------------------------------------------------------------------------
# Per-requirement rules


@dataclass(frozen=True)
class _Hit:
    rule: RuleId
    start: int
    end: int
    severity: Severity | None = None


def _term_hits(statement: _Statement, matchers: _Matchers, numbers: Sequence[_Number] = ()) -> list[_Hit]:
    hits: list[_Hit] = []
    for rule, pattern in matchers.terms.items():
        exceptions = matchers.exceptions.get(rule)
        excluded = [m.span() for m in exceptions.finditer(statement.folded)] if exceptions else []
        for match in pattern.finditer(statement.folded):
            if any(start <= match.start() and match.end() <= end for start, end in excluded):
                continue
            if rule in _NAME_SENSITIVE and _in_proper_name(statement, match.start(), match.end()):
                continue
            if rule is RuleId.NEGATIVE_STATEMENT and _in_condition(statement, match.start(), matchers):
                continue
            if rule is RuleId.VAGUE_TERM and _measured(statement, match.start(), match.end(), matchers, numbers):
                continue
            hits.append(_Hit(rule, match.start(), match.end()))
    hits.extend(_Hit(RuleId.PLACEHOLDER, m.start(), m.end()) for m in _SLOT.finditer(statement.text))
    return hits


_NAME_SENSITIVE = frozenset({RuleId.VAGUE_TERM, RuleId.ABSOLUTE_TERM})


def _in_proper_name(statement: _Statement, start: int, end: int) -> bool:
    """A capitalised word inside a sentence names something ("Flexible Image Transport"), it does not judge it.

    Words in capitals throughout ("CONVIVIALE") are emphasis, not names, and stay flagged.
    """
    word = statement.text[start:end]
    before = statement.text[:start].rstrip(" \t\"'«“(")
    title_case = word[:1].isupper() and not word.isupper()
    return title_case and bool(before) and before[-1] not in ".!?:;\n-*•"


def _in_condition(statement: _Statement, start: int, matchers: _Matchers) -> bool:
    """Whether `start` lies in an "if …" clause: "if the import cannot finish, the CRM shall…" forbids nothing."""
    clause_start = max(statement.folded.rfind(mark, 0, start) for mark in (".", ";", ":", ",", "\n"))
    return any(
        token.folded in matchers.conditions
        for token in statement.tokens
        if clause_start < token.start and token.end <= start
    )


MEASURE_WINDOW = 8
"""How many words from a speed or capacity word a measured quantity may stand and still be the criterion for it."""


def _measured(statement: _Statement, start: int, end: int, matchers: _Matchers, numbers: Sequence[_Number]) -> bool:
    """Whether a speed or capacity word comes with its number: "fast, within 2 seconds" states the criterion.

    Only the words of the `performance` and `capacity` triggers qualify: a response time measures "fast", but
    it does not make "user-friendly" in the same sentence any more testable. The number must carry a unit or a
    symbol ("3 °C/second", "95 %") and stand in the same sentence, at most `MEASURE_WINDOW` words away.
    """
    word = " ".join(statement.folded[start:end].split())
    if word not in matchers.triggers["performance"] | matchers.triggers["capacity"]:
        return False
    indexes = [index for index, token in enumerate(statement.tokens) if start <= token.start < end]
    if not indexes:
        return False
    first, last = indexes[0], indexes[-1]
    for number in numbers:
        if number.is_identifier:
            continue
        symbol = statement.folded[number.end :].lstrip(" ")[:1] in ("%", "°", "€", "$", "£")
        if number.unit is None and not symbol:
            continue
        position = next(index for index, token in enumerate(statement.tokens) if token.start >= number.start)
        low, high = sorted((position, first if position < first else last))
        between = [token for token in statement.tokens[low:high] if not number.start <= token.start < number.end]
        if len(between) <= MEASURE_WINDOW and not any(token.folded in ".!?;" for token in between):
            return True
    return False


_SLOT = re.compile(r"<[^\s<>](?:[^<>\n]{0,38}[^\s<>])?>")
"""A template slot left unfilled ("<N>"), as our rewrites write them; "< 2 s and > 5 MB" compares, it is no slot."""


def _is_participle(word: str, matchers: _Matchers) -> bool:
    if word in matchers.not_participles:
        return False
    if word in matchers.participles:
        return True
    return any(word.endswith(suffix) and len(word) > len(suffix) + 2 for suffix in matchers.participle_suffixes)


def _passive_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    hits = []
    tokens = statement.tokens
    for index, token in enumerate(tokens):
        if token.folded not in matchers.be_forms:
            continue
        if index >= 2 and tokens[index - 1].folded == "'" and tokens[index - 2].folded in ("s", "se"):
            continue  # "s'est connecté" is a reflexive past tense, not a passive
        following = index + 1
        while following < len(tokens) and following - index <= 2 and _is_adverb(tokens[following].folded, matchers):
            following += 1
        if following < len(tokens) and _is_participle(statement.original(tokens[following]), matchers):
            hits.append(_Hit(RuleId.PASSIVE_VOICE, token.start, tokens[following].end))
    return hits


def _is_adverb(word: str, matchers: _Matchers) -> bool:
    return word in matchers.adverbs or any(
        word.endswith(suffix) and len(word) > len(suffix) + 3 for suffix in matchers.adverb_suffixes
    )


def _pronoun_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    hits = []
    tokens = statement.tokens
    verbish = matchers.pronoun_followers | matchers.modals | matchers.be_forms
    for index, token in enumerate(tokens):
        is_pronoun = token.folded in matchers.pronouns
        if not is_pronoun and token.folded not in matchers.demonstratives:
            continue
        previous = index - 1
        if previous >= 1 and tokens[previous].folded == "'":
            previous -= 1  # "lorsqu'il": look at the word the pronoun is elided onto
        opens_clause = previous >= 0 and (
            tokens[previous].folded in (",", ";") or tokens[previous].folded in matchers.clause_openers
        )
        following = tokens[index + 1].folded if index + 1 < len(tokens) else ""
        followed_by_verb = following in verbish
        rest = statement.folded[token.end :]
        if matchers.impersonal.match(statement.folded, token.end + len(rest) - len(rest.lstrip())):
            continue  # "il faut", "it is necessary": nothing is referred to
        at_start = statement.starts_sentence(index)
        # inside a sentence, "where they are" refers back safely; "…, it shall log" starts a requirement
        if (at_start and (is_pronoun or followed_by_verb)) or (opens_clause and following in matchers.modals):
            hits.append(_Hit(RuleId.UNCLEAR_PRONOUN, token.start, token.end))
    return hits


def _multiple_hits(statement: _Statement, matchers: _Matchers) -> list[_Hit]:
    tokens = statement.tokens
    modal_indexes = [index for index, token in enumerate(tokens) if token.folded in matchers.modals]
    hits = [_Hit(RuleId.MULTIPLE_REQUIREMENTS, tokens[i].start, tokens[i].end) for i in modal_indexes[1:]]
    if not modal_indexes:
        return hits
    for index in range(modal_indexes[0] + 1, len(tokens) - 1):
        if tokens[index].folded not in matchers.coordinators:
            continue
        verb = index + 1
        while verb < len(tokens) - 1 and _is_adverb(tokens[verb].folded, matchers):
            verb += 1
        if tokens[verb].folded not in matchers.actions:
            continue
        after = tokens[verb + 1].folded if verb + 1 < len(tokens) else ""
        before = tokens[index - 1].folded
        takes_object = after[:1].isalnum() and after not in matchers.bare_followers
        # "import and export." is two actions; "allow import and export of files" is one feature
        if takes_object or (not after[:1].isalnum() and before in matchers.actions):
            hits.append(_Hit(RuleId.MULTIPLE_REQUIREMENTS, tokens[index].start, tokens[verb].end))
    return hits


_NUMBER = re.compile(r"(?<![\w.,/:#°])\d+(?:[ ]\d{3}(?!\d))*(?:[.,]\d+)*(?!\w)")
_RANGE_JOIN = re.compile(r"\s*(?:-|to|and|or|a|à|et|ou|jusqu'a)\s*(?=\d)")


@dataclass(frozen=True)
class _Number:
    start: int
    end: int
    text: str
    is_identifier: bool
    unit: tuple[str, float, int] | None
    """(dimension, factor to the base unit, end offset of the unit) when a known unit follows."""


def _numbers(statement: _Statement, matchers: _Matchers) -> list[_Number]:
    folded = statement.folded
    found = []
    for match in _NUMBER.finditer(folded):
        start, end, text = match.start(), match.end(), match.group()
        identifier = _is_identifier(folded, start, end, matchers)
        unit = None
        gap = len(folded[end:]) - len(folded[end:].lstrip(" "))
        unit_match = matchers.units.match(folded, end + gap)
        if unit_match:
            key = " ".join(unit_match.group().split())
            dimension, factor = matchers.unit_table.get(key, ("", 1.0))
            if dimension:
                unit = (dimension, factor, unit_match.end())
        found.append(_Number(start, end, text, identifier, unit))
    return found


def _is_identifier(folded: str, start: int, end: int, matchers: _Matchers) -> bool:
    """Whether the number at `start:end` names or dates something rather than measuring it."""
    text, after = folded[start:end], folded[end : end + 1]
    before = folded[:start].rstrip()
    line_before = folded[:start].rstrip(" \t")
    previous_word = re.search(r"(\w+)$", before)
    return (
        (previous_word is not None and previous_word.group(1) in matchers.id_prefixes)  # version 2, ISO 27001
        or before.endswith(("n°", "#", "no."))
        or (before.endswith("-") and before[-2:-1].isalpha())  # REQ-001
        or len(re.findall(r"[.,]", text)) >= 2  # 1.2.3, 12.03.2026
        or re.fullmatch(r"(19|20)\d\d", text) is not None  # a year
        or after in ("/", ":")
        or before.endswith(("/", ":"))  # 24/7, 14:30, 1/3
        or (before.endswith("(") and after == ")")  # "(1)" numbering
        or ((not line_before or line_before.endswith("\n")) and after in (".", ")"))  # "1." numbering
    )


def _number_hits(statement: _Statement, matchers: _Matchers, numbers: list[_Number]) -> list[_Hit]:
    folded = statement.folded
    bare: dict[int, bool] = {}
    # right to left, so that "2 to 5 seconds" can borrow the verdict of the "5" that carries the unit
    for position in range(len(numbers) - 1, -1, -1):
        number = numbers[position]
        if number.is_identifier or number.unit is not None:
            bare[position] = False
            continue
        rest = folded[number.end :]
        if rest.lstrip(" ")[:1] in ("%", "€", "$", "£", "°", "x", "×"):
            bare[position] = False
            continue
        join = _RANGE_JOIN.match(rest)
        if join and position + 1 < len(numbers) and numbers[position + 1].start == number.end + join.end():
            bare[position] = bare[position + 1]
            continue
        next_word = re.match(r"\s*(\w+)", rest)
        bare[position] = next_word is None or next_word.group(1) in matchers.bare_followers
    return [
        _Hit(RuleId.NUMBER_WITHOUT_UNIT, number.start, number.end)
        for position, number in enumerate(numbers)
        if bare[position]
    ]


_DECIMAL_COMMA = re.compile(r"^\d+,(?:\d{1,2}|\d{4,})$")
_DECIMAL_POINT = re.compile(r"^\d+\.(?:\d{1,2}|\d{4,})$")


def _decimal_hits(numbers: list[_Number], language: Language) -> list[_Hit]:
    styles = [
        (number, "comma" if _DECIMAL_COMMA.match(number.text) else "point")
        for number in numbers
        if not number.is_identifier and (_DECIMAL_COMMA.match(number.text) or _DECIMAL_POINT.match(number.text))
    ]
    expected = "comma" if language is Language.FR else "point"
    foreign = [number for number, style in styles if style != expected]
    if not foreign:
        return []
    mixed = len(foreign) < len(styles)
    # one finding per statement: the fix is one decision about style, not one per number
    return [
        _Hit(RuleId.DECIMAL_FORMAT, foreign[0].start, foreign[0].end, None if mixed else Severity.INFO),
    ]


def _has_number(text: str, matchers: _Matchers) -> bool:
    return any(char.isdigit() for char in text) or matchers.number_words.search(fold(text)) is not None


def _drop_repeats(hits: list[_Hit]) -> list[_Hit]:
    kept = []
    for hit in hits:
        outranking = _OUTRANKED_BY.get(hit.rule, frozenset())
        if any(other.rule in outranking and other.start <= hit.start and hit.end <= other.end for other in hits):
            continue
        kept.append(hit)
    unique = {(hit.rule, hit.start, hit.end): hit for hit in kept}
    return sorted(unique.values(), key=lambda hit: (hit.start, hit.end, hit.rule.value))


def _score(findings: list[Finding]) -> tuple[int, list[RuleCost]]:
    by_rule: dict[RuleId, list[Finding]] = {}
    for finding in findings:
        by_rule.setdefault(finding.rule, []).append(finding)
    breakdown = []
    for rule, rule_findings in by_rule.items():
        raw = sum(SEVERITY_COST[finding.severity] for finding in rule_findings)
        cap = FINDINGS_CHARGED_PER_RULE * max(SEVERITY_COST[finding.severity] for finding in rule_findings)
        breakdown.append(RuleCost(rule=rule, findings=len(rule_findings), cost=min(raw, cap), capped=raw > cap))
    breakdown.sort(key=lambda cost: (-cost.cost, cost.rule.value))
    return max(0, 100 - sum(cost.cost for cost in breakdown)), breakdown


# --------------------------------------------------------------------------------------------------------------
# Rewrite suggestions


def _suggest(
    statement: _Statement,
    findings: list[Finding],
    category: NfrCategory | None,
    lexicon: Lexicon,
    matchers: _Matchers,
) -> Suggestion | None:
    rules = {finding.rule for finding in findings}
    if not rules:
        return None
    tokens = statement.tokens
    modal = next((token for token in tokens if token.folded in matchers.modals), None)
    templates = lexicon.templates
    vague = {" ".join(fold(f.text).split()) for f in findings if f.rule in (RuleId.VAGUE_TERM, RuleId.ABSOLUTE_TERM)}
    unmeasured = bool(vague) or RuleId.UNMEASURABLE_QUALITY in rules

    def triggered(name: str, matching: NfrCategory) -> bool:
        return bool(vague & matchers.triggers[name]) or (unmeasured and category is matching)

    if triggered("performance", NfrCategory.PERFORMANCE):
        name = "performance"
    elif triggered("usability", NfrCategory.USABILITY):
        name = "usability"
    elif triggered("availability", NfrCategory.AVAILABILITY):
        name = "availability"
    elif triggered("capacity", NfrCategory.SCALABILITY):
        name = "capacity"
    elif RuleId.UNMEASURABLE_QUALITY in rules:
        name = "measurable"
    elif rules & {RuleId.SUPERFLUOUS_INFINITIVE, RuleId.ESCAPE_CLAUSE, RuleId.OPEN_ENDED, RuleId.PURPOSE_PHRASE}:
        name = "direct"
    elif RuleId.MULTIPLE_REQUIREMENTS in rules:
        name = "split"
    else:
        return None
    stop = _sentence_end(statement, modal)
    if name == "split":
        stop = min(f.start for f in findings if f.rule is RuleId.MULTIPLE_REQUIREMENTS)
    action = _action(statement, findings, modal, stop, matchers) or templates.action_placeholder
    subject = statement.text[: modal.start].strip() if modal else ""
    if fold(subject) in matchers.pronouns | matchers.demonstratives:
        subject = ""  # "It shall…" would carry the unclear referent into the rewrite
    text = getattr(templates, name).format(
        action=action,
        subject=subject or templates.default_subject,
        modal=statement.text[modal.start : modal.end] if modal else templates.default_modal,
    )
    return Suggestion(template=name, text=" ".join(text.split()))


def _sentence_end(statement: _Statement, modal: _Token | None) -> int:
    """Where the sentence holding the modal ends: a rewrite covers one requirement, not the ones after it."""
    text = statement.text
    for token in statement.tokens:
        if modal is not None and token.start < modal.end:
            continue
        if token.folded in (".", "!", "?", ";") and (token.end == len(text) or text[token.end].isspace()):
            return token.end
    return len(text)


def _action(
    statement: _Statement, findings: list[Finding], modal: _Token | None, stop: int, matchers: _Matchers
) -> str:
    """The verb phrase after the modal, without the words the findings say should go."""
    if modal is None:
        return ""
    start = modal.end
    removed: list[tuple[int, int]] = []
    for finding in findings:
        if finding.rule is RuleId.PURPOSE_PHRASE:
            stop = min(stop, finding.start)  # the purpose belongs to the rationale, and so does all that follows
        elif finding.rule in _REMOVABLE_IN_REWRITE or (
            finding.rule is RuleId.OPEN_ENDED and not statement.text[finding.end : stop].strip(" .,;:!?…")
        ):
            if finding.start <= start < finding.end:
                start = finding.end  # "doit pouvoir exporter" → "exporter"
            else:
                removed.append((finding.start, finding.end))
    kept = [
        char
        for offset, char in enumerate(statement.text[start:stop], start=start)
        if not any(begin <= offset < end for begin, end in removed)
    ]
    action = " ".join("".join(kept).split()).strip(" ,;:.")
    action = re.sub(r"\s+([,.;:])", r"\1", action)
    action = re.sub(r"[,;]\s*$", "", action)
    first = fold(action.split(" ", 1)[0]) if action else ""
    if not action or first in matchers.be_forms:
        return ""  # "shall be fast" names a state, not an action the template can time
    return action


# --------------------------------------------------------------------------------------------------------------
# Public API: one requirement


def check_statement(
    statement: str,
    lang: str | Language,
    *,
    kind: RequirementKind | str = RequirementKind.FUNCTIONAL,
    category: NfrCategory | str | None = None,
    acceptance_criteria: Sequence[str] = (),
    requirement_id: str | None = None,
    lexicon: Lexicon | None = None,
) -> QualityReport:
    """Check one statement against every per-requirement rule.

    Args:
        statement: the requirement text; finding offsets point into it exactly as given.
        lang: "fr" or "en", which picks the lexicon, the messages and the expected decimal separator.
        kind: a non-functional statement must contain a number somewhere to be testable.
        category: picks the rewrite template when the statement itself has no telling word.
        acceptance_criteria: a number here makes a quality requirement measurable even if the statement has none.
        requirement_id: copied into the report so that it can be stored next to the requirement.
        lexicon: a lexicon to use instead of the shipped one (tests, experiments).

    Raises:
        InputError: for a language without a lexicon.
    """
    language = _language(lang)
    lexicon = lexicon or lexicon_for(language)
    matchers = _matchers(lexicon)
    kind = RequirementKind(kind)
    category = NfrCategory(category) if category is not None else None
    parsed = _Statement(statement)
    numbers = _numbers(parsed, matchers)
    hits = _term_hits(parsed, matchers, numbers)
    hits += _passive_hits(parsed, matchers)
    hits += _pronoun_hits(parsed, matchers)
    hits += _multiple_hits(parsed, matchers)
    hits += _number_hits(parsed, matchers, numbers)
    hits += _decimal_hits(numbers, language)
    measurable = _has_number(statement, matchers) or any(_has_number(c, matchers) for c in acceptance_criteria)
    if kind is RequirementKind.NON_FUNCTIONAL and not measurable and statement.strip():
        hits.append(_Hit(RuleId.UNMEASURABLE_QUALITY, 0, len(statement)))
    findings = []
    for hit in _drop_repeats(hits):
        text = lexicon.rules[hit.rule]
        matched = statement[hit.start : hit.end]
        findings.append(
            Finding(
                rule=hit.rule,
                severity=hit.severity or RULE_SEVERITY[hit.rule],
                start=hit.start,
                end=hit.end,
                text=matched,
                message=text.message.format(match=matched),
                hint=text.hint.format(match=matched),
            )
        )
    score, breakdown = _score(findings)
    return QualityReport(
        requirement_id=requirement_id,
        language=language,
        statement=statement,
        findings=findings,
        score=score,
        breakdown=breakdown,
        suggestion=_suggest(parsed, findings, category, lexicon, matchers),
    )


def check(requirement: Requirement, lang: str | Language, *, lexicon: Lexicon | None = None) -> QualityReport:
    """Check a stored requirement: its statement, with its kind, category and acceptance criteria as context."""
    return check_statement(
        requirement.statement,
        lang,
        kind=requirement.kind,
        category=requirement.category,
        acceptance_criteria=requirement.acceptance_criteria,
        requirement_id=requirement.id,
        lexicon=lexicon,
    )


CHECKER_VERSION = 2
"""Bump when a rule's code changes what it finds; lexicon edits are noticed on their own (`quality_basis`)."""


@cache
def _lexicon_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(LEXICON_DIR.glob("*.yaml")):
        digest.update(path.read_bytes())
    return digest.hexdigest()


def quality_basis(requirement: Requirement, lang: str | Language) -> str:
    """A fingerprint of everything the check of `requirement` reads, and of the checker itself.

    A stored `RequirementQuality` whose basis differs was computed for other words, another language or older
    rules, and must not be shown as current.
    """
    parts = [
        str(CHECKER_VERSION),
        _lexicon_digest(),
        _language(lang).value,
        requirement.statement,
        requirement.kind.value,
        requirement.category.value if requirement.category else "",
        *requirement.acceptance_criteria,
    ]
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


def assess(requirement: Requirement, lang: str | Language) -> RequirementQuality:
    """The compact quality result stored with a requirement: score, and each finding's rule, severity and span.

    This is the one function that computes what is stored; `Store.save_object` calls it on every save of a
    requirement, so the stored result always belongs to the wording saved with it.
    """
    report = check(requirement, lang)
    return RequirementQuality(
        score=report.score,
        findings=[
            StoredFinding(rule=f.rule.value, severity=f.severity.value, start=f.start, end=f.end, text=f.text)
            for f in report.findings
        ],
        basis=quality_basis(requirement, lang),
    )


def current_quality(requirement: Requirement, lang: str | Language) -> RequirementQuality:
    """The stored quality when it matches the requirement as it is now, else a fresh one (rows saved before
    quality was stored, or before the rules changed)."""
    stored = requirement.quality
    if stored is not None and stored.basis == quality_basis(requirement, lang):
        return stored
    return assess(requirement, lang)


def describe(finding: StoredFinding, lang: str | Language) -> tuple[str, str]:
    """The message and hint of a stored finding, in `lang`, as the rule words them today."""
    text = lexicon_for(lang).rules[RuleId(finding.rule)]
    return text.message.format(match=finding.text), text.hint.format(match=finding.text)


def section_scores(
    requirements: Sequence[Requirement],
    lang: str | Language,
    *,
    reports: Mapping[str, QualityReport] | None = None,
) -> dict[SectionId, float]:
    """Mean score of the requirements of each section, rounded to one decimal; sections without any are absent.

    Args:
        reports: reports already computed, by requirement id, so that a page showing both does not check twice.
    """
    reports = reports or {}
    scores: dict[SectionId, list[int]] = {}
    for requirement in requirements:
        report = reports.get(requirement.id) or check(requirement, lang)
        scores.setdefault(requirement.section, []).append(report.score)
    return {section: round(sum(values) / len(values), 1) for section, values in scores.items()}


# --------------------------------------------------------------------------------------------------------------
# Public API: the whole set

Embed = Callable[[Sequence[str]], np.ndarray]

_ACRONYM = re.compile(r"(?<![\w-])([A-Z][A-Z0-9&]{1,9})(s?)(?![\w])(?!-\d)")
_ROMAN = re.compile(r"^X{0,3}(?:IX|IV|V?I{0,3})$")
"""Small Roman numerals number phases and annexes ("phase II"); "CLV" is an acronym, not 155."""


def _acronyms_used(text: str, matchers: _Matchers) -> set[str]:
    found = set()
    for match in _ACRONYM.finditer(text):
        acronym = match.group(1)
        if sum(char.isalpha() for char in acronym) < 2 or _ROMAN.match(acronym):
            continue
        if fold(acronym) in matchers.modals | matchers.stopwords | matchers.be_forms | matchers.bare_followers:
            continue  # "MUST", "NOT", "DOIT" written in capitals for emphasis
        if matchers.terms[RuleId.PLACEHOLDER].fullmatch(fold(acronym)):
            continue
        if acronym in matchers.acronyms_allowed or acronym + match.group(2) in matchers.acronyms_allowed:
            continue
        found.add(acronym)
    return found


def _acronyms_defined(text: str) -> set[str]:
    # "Customer Lifetime Value (CLV)": a word, then the acronym alone in brackets
    defined = set(re.findall(r"\w\s*\(\s*([A-Z][A-Z0-9&]{1,9})s?\s*\)", text))
    # "CLV (Customer Lifetime Value)": the acronym, then a bracket holding lower-case words
    defined |= set(re.findall(r"(?<![\w-])([A-Z][A-Z0-9&]{1,9})s?\s*\(\s*[^()]*?[a-zà-ÿ]{2}[^()]*\)", text))
    return defined


def _content_words(statement: _Statement, matchers: _Matchers) -> frozenset[str]:
    words = set()
    for token in statement.tokens:
        word = token.folded
        if not word[:1].isalpha() or word in matchers.stopwords or word in matchers.unit_table or len(word) < 2:
            continue
        words.add(word[:-1] if len(word) > 3 and word[-1] in "sx" else word)  # crude plural folding
    return frozenset(words)


def _parse_number(text: str, language: Language) -> float:
    compact = text.replace(" ", "")
    if "," in compact and "." not in compact:
        whole, _, fraction = compact.partition(",")
        # "10,000" is ten thousand in English; in French the comma is always the decimal separator
        compact = whole + fraction if language is Language.EN and len(fraction) == 3 else f"{whole}.{fraction}"
    elif "." in compact and language is Language.FR and len(compact.partition(".")[2]) == 3:
        compact = compact.replace(".", "")
    try:
        return float(compact.replace(",", ""))
    except ValueError:
        return float("nan")


def check_set(
    requirements: Sequence[Requirement],
    lang: str | Language,
    embed: Embed = embed_texts,
    *,
    glossary: Iterable[str] = (),
    threshold: float = DUPLICATE_THRESHOLD,
    lexicon: Lexicon | None = None,
) -> SetReport:
    """Checks that need every requirement at once: duplicates, priorities, acronyms and contradicting numbers.

    Args:
        requirements: the set, usually one project's accepted and proposed requirements.
        lang: language of the messages and of the word lists used to read numbers and units.
        embed: turns statements into unit-length vectors; the shipped multilingual model by default.
        glossary: acronyms defined elsewhere in the specification (its glossary section).
        threshold: cosine similarity from which two statements count as near duplicates.
        lexicon: a lexicon to use instead of the shipped one.
    """
    language = _language(lang)
    lexicon = lexicon or lexicon_for(language)
    matchers = _matchers(lexicon)
    texts = lexicon.set_rules
    ids = [requirement.id for requirement in requirements]

    duplicates: list[DuplicatePair] = []
    if len(requirements) >= 2:
        vectors = np.asarray(embed([requirement.statement for requirement in requirements]), dtype=np.float32)
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
        similarity = vectors @ vectors.T
        for first, second in combinations(range(len(requirements)), 2):
            value = float(similarity[first, second])
            if value >= threshold:
                duplicates.append(
                    DuplicatePair(
                        rule=SetRuleId.NEAR_DUPLICATE,
                        severity=Severity.WARNING,
                        requirement_ids=[ids[first], ids[second]],
                        similarity=round(value, 3),
                        message=texts[SetRuleId.NEAR_DUPLICATE].message.format(similarity=f"{value:.2f}"),
                        hint=texts[SetRuleId.NEAR_DUPLICATE].hint.format(similarity=f"{value:.2f}"),
                    )
                )
        duplicates.sort(key=lambda pair: -pair.similarity)

    must = sum(requirement.moscow is MoSCoW.MUST for requirement in requirements)
    share = must / len(requirements) if requirements else 0.0
    overload = None
    if len(requirements) >= MIN_REQUIREMENTS_FOR_MUST_SHARE and share > MUST_SHARE_LIMIT:
        text = texts[SetRuleId.MUST_OVERLOAD]
        shown = f"{share:.0%}".replace("%", "\u00a0%") if language is Language.FR else f"{share:.0%}"
        overload = SetFinding(
            rule=SetRuleId.MUST_OVERLOAD,
            severity=Severity.WARNING,
            requirement_ids=[r.id for r in requirements if r.moscow is MoSCoW.MUST],
            message=text.message.format(share=shown),
            hint=text.hint.format(share=shown),
        )

    return SetReport(
        language=language,
        duplicates=duplicates,
        undefined_acronyms=_undefined_acronyms(requirements, glossary, texts, matchers),
        quantity_conflicts=_quantity_conflicts(requirements, language, texts, matchers),
        must_share=round(share, 3),
        must_overload=overload,
    )


def _undefined_acronyms(
    requirements: Sequence[Requirement],
    glossary: Iterable[str],
    texts: Mapping[SetRuleId, SetRuleText],
    matchers: _Matchers,
) -> list[UndefinedAcronym]:
    defined = {entry.strip().upper() for entry in glossary}
    used: dict[str, list[str]] = {}
    for requirement in requirements:
        for text in (requirement.statement, requirement.rationale, *requirement.acceptance_criteria):
            defined |= _acronyms_defined(text)
            for acronym in _acronyms_used(text, matchers):
                if requirement.id not in used.setdefault(acronym, []):
                    used[acronym].append(requirement.id)
    text = texts[SetRuleId.UNDEFINED_ACRONYM]
    return [
        UndefinedAcronym(
            rule=SetRuleId.UNDEFINED_ACRONYM,
            severity=Severity.INFO,
            requirement_ids=owners,
            acronym=acronym,
            message=text.message.format(acronym=acronym),
            hint=text.hint.format(acronym=acronym),
        )
        for acronym, owners in sorted(used.items())
        if acronym not in defined
    ]


def _quantity_conflicts(
    requirements: Sequence[Requirement],
    language: Language,
    texts: Mapping[SetRuleId, SetRuleText],
    matchers: _Matchers,
) -> list[QuantityConflict]:
    measured = []
    for requirement in requirements:
        parsed = _Statement(requirement.statement)
        quantities: dict[str, list[tuple[float, str]]] = {}
        for number in _numbers(parsed, matchers):
            if number.unit is None or number.is_identifier:
                continue
            dimension, factor, unit_end = number.unit
            value = _parse_number(number.text, language) * factor
            quantities.setdefault(dimension, []).append((value, requirement.statement[number.start : unit_end]))
        if quantities:
            measured.append((requirement.id, _content_words(parsed, matchers), quantities))
    conflicts = []
    text = texts[SetRuleId.QUANTITY_CONFLICT]
    for (first_id, first_words, first_q), (second_id, second_words, second_q) in combinations(measured, 2):
        union = first_words | second_words
        if not union or len(first_words & second_words) / len(union) < QUANTITY_SUBJECT_OVERLAP:
            continue
        for dimension in sorted(first_q.keys() & second_q.keys()):
            first_values = sorted(round(value, 6) for value, _ in first_q[dimension])
            second_values = sorted(round(value, 6) for value, _ in second_q[dimension])
            if first_values == second_values:
                continue
            shown = [f"{first_id}: {', '.join(t for _, t in first_q[dimension])}"]
            shown.append(f"{second_id}: {', '.join(t for _, t in second_q[dimension])}")
            conflicts.append(
                QuantityConflict(
                    rule=SetRuleId.QUANTITY_CONFLICT,
                    severity=Severity.WARNING,
                    requirement_ids=[first_id, second_id],
                    dimension=dimension,
                    values=shown,
                    message=text.message.format(values=" / ".join(shown)),
                    hint=text.hint.format(values=" / ".join(shown)),
                )
            )
    return conflicts
