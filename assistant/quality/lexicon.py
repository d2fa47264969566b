"""The lexicon files: their models and validation, loading the shipped ones, and compiling them into matchers."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import Field, PrivateAttr, StringConstraints, ValidationError, field_validator, model_validator

from assistant.errors import CahierError, InputError
from assistant.quality.findings import RuleId, SetRuleId
from assistant.schemas import Language, Model
from assistant.text import fold

LEXICON_DIR = Path(__file__).with_name("lexicons")


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
    """One language's word lists, messages and templates, as read from `assistant/quality/lexicons/<lang>.yaml`."""

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
        for set_rule, set_text in self.set_rules.items():
            for field_name in ("message", "hint"):
                unknown = _fields_of(getattr(set_text, field_name)) - _SET_RULE_FIELDS[set_rule]
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
# Matching


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
