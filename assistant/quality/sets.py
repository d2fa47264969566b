"""The checks that need the whole set of requirements: near duplicates, Must overload, acronyms, quantities."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from itertools import combinations

import numpy as np

from assistant.knowledge.embeddings import embed_texts
from assistant.quality.findings import (
    DuplicatePair,
    QuantityConflict,
    RuleId,
    SetFinding,
    SetReport,
    SetRuleId,
    Severity,
    UndefinedAcronym,
)
from assistant.quality.lexicon import Lexicon, SetRuleText, _language, _Matchers, _matchers, lexicon_for
from assistant.quality.statement import _numbers, _Statement
from assistant.schemas import Language, MoSCoW, Requirement
from assistant.text import fold

DUPLICATE_THRESHOLD = 0.75
"""Cosine similarity from which two statements are reported as near duplicates (see `assistant.quality`)."""

MUST_SHARE_LIMIT = 0.60
"""Above this share of "Must" requirements, prioritisation has stopped meaning anything."""

MIN_REQUIREMENTS_FOR_MUST_SHARE = 5
"""With fewer requirements a share is noise: two musts out of three says nothing about the specification."""

QUANTITY_SUBJECT_OVERLAP = 0.6
"""Two quantities measure the same thing when the content words of their statements overlap this much (Jaccard)."""


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
    rule_text = texts[SetRuleId.UNDEFINED_ACRONYM]
    return [
        UndefinedAcronym(
            rule=SetRuleId.UNDEFINED_ACRONYM,
            severity=Severity.INFO,
            requirement_ids=owners,
            acronym=acronym,
            message=rule_text.message.format(acronym=acronym),
            hint=rule_text.hint.format(acronym=acronym),
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
