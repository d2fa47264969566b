"""The quality stored with each requirement: its fingerprint, computing and reusing it, and summaries of it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from functools import cache

from assistant.quality.findings import QualityReport, RuleId
from assistant.quality.lexicon import LEXICON_DIR, _language, lexicon_for
from assistant.quality.rules import check
from assistant.schemas import Language, Requirement, RequirementQuality, SectionId, StoredFinding

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
