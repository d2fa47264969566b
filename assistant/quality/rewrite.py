"""EARS-style rewrite suggestions built from a statement and its findings."""

from __future__ import annotations

import re

from assistant.quality.findings import Finding, RuleId, Suggestion
from assistant.quality.lexicon import Lexicon, _Matchers
from assistant.quality.statement import _Statement, _Token
from assistant.schemas import NfrCategory
from assistant.text import fold

_REMOVABLE_IN_REWRITE = frozenset({RuleId.VAGUE_TERM, RuleId.ESCAPE_CLAUSE, RuleId.SUPERFLUOUS_INFINITIVE})
"""Words a rewrite can simply drop; a trailing "etc." goes too, but an open list inside a sentence stays for the
author to close, and a placeholder stays because dropping it would hide the missing value."""


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
