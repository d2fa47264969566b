"""What code reads in a stakeholder's words without a model: language, "don't know", orders, corrections, obligation.

A small model cannot be trusted with these decisions, so the pipeline takes them from the answer itself.
"""

from __future__ import annotations

import re

from assistant.schemas import ConstraintKind, FoundConstraint, Language
from assistant.text import strip_accents

_DONT_KNOW = re.compile(
    r"^\s*(je ne sais pas|je sais pas|aucune idee|pas d'idee|sais pas|ne sais pas|passer|joker|"
    r"i don'?t know|no idea|not sure|skip|pass|dunno)\s*[.!]*\s*$",
    re.IGNORECASE,
)
_INJECTION = re.compile(
    r"(ignore[zr]?\s+(all\s+|your\s+|the\s+|previous\s+|tes\s+|vos\s+|les\s+)*(instructions|rules|consignes|regles)"
    r"|^\s*(system|assistant)\s*:|disregard\s+(the|your|all)|oublie[sz]?\s+(tes|vos|les)\s+(instructions|consignes)"
    r"|(mark|set|mets|mettez|classe[zr]?)\s+(everything|all|tout|toutes?)\b.{0,30}\b(must|indispensable))",
    re.IGNORECASE | re.MULTILINE,
)
_CORRECTION = re.compile(
    r"\b(en fait|finalement|correction|je corrige|je me suis trompe|plutot|non pas|et non|actually|"
    r"correction|i meant|instead of|rather than|not \d)",
    re.IGNORECASE,
)

_MUST_WORDS = re.compile(
    r"\b(must|mandatory|essential|required|critical|absolutely|doit|doivent|devra|indispensable|obligatoire|"
    r"imperati|essentiel|absolument|non negociable|non-negotiable|crucial)",
    re.IGNORECASE,
)


def detect_language(text: str, default: Language) -> Language:
    """French or English, by a lexical detector; very short answers keep the project's language."""
    import simplemma

    if len(text.split()) < 3:
        return default
    scores = dict(simplemma.langdetect(text, lang=("fr", "en")))
    if scores.get("fr", 0) == scores.get("en", 0):
        return default
    return Language.FR if scores.get("fr", 0) > scores.get("en", 0) else Language.EN


def is_dont_know(text: str) -> bool:
    """An answer that only says "I don't know" or "skip" (it records an open question, with no model call)."""
    return bool(_DONT_KNOW.match(strip_accents(text)))


def looks_like_injection(text: str) -> bool:
    """Stakeholder text that tries to give the model orders (it is data, never instructions)."""
    return bool(_INJECTION.search(strip_accents(text)))


def says_correction(text: str) -> bool:
    """Whether the speaker marks their answer as a correction of something said before."""
    return bool(_CORRECTION.search(strip_accents(text)))


def says_must(text: str) -> bool:
    """Whether the stakeholder used a word of obligation; a small model over-uses `must` otherwise."""
    return bool(_MUST_WORDS.search(strip_accents(text)))


def digits(text: str) -> str:
    """The digits of `text`, in order: how an amount or a date is compared with the answer it came from."""
    return re.sub(r"\D", "", text)


def grounded(item: FoundConstraint, answer: str) -> bool:
    """Keep a constraint only if its amount or date words appear in the answer (small models copy examples)."""
    folded = strip_accents(answer).lower()
    for value in (item.amount_text, item.date_text):
        if not value:
            continue
        words = [w for w in re.findall(r"\w+", strip_accents(value).lower()) if len(w) > 1 or w.isdigit()]
        if digits(value) and digits(value) not in digits(answer):
            return False
        if words and not all(w in folded for w in words):
            return False
    return bool(item.amount_text or item.date_text or item.kind not in (ConstraintKind.BUDGET, ConstraintKind.DEADLINE))
