"""Cutting an answer into clauses, deterministically, before any model reads it.

A small model asked to read a 250-word answer at once copies, merges and drops what it was told; asked what one
numbered sentence is, it answers well. The cut is done here, by rules a person can predict: sentence ends
(not the dot of "7,4" or "M."), semicolons, and the markers of a spoken enumeration ("Un : … Deux : …",
"First, … Second, …"). Each clause keeps its offsets, so whatever is built from it quotes the stakeholder's own
words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MAX_CLAUSES = 30
"""An answer is cut into at most this many clauses; the rest joins the last one (an answer is 6,000 characters
at most, which is about 60 sentences: past 30, a clause-per-sentence prompt stops being small)."""

MIN_CHARS = 12
"""A piece shorter than this ("Deux :", "Oui.") joins the next clause instead of standing alone."""

_ABBREVIATIONS = frozenset(
    {"m", "mm", "mme", "mmes", "mlle", "dr", "pr", "st", "ste", "etc", "cf", "ex", "p", "n", "no", "vs", "env"}
    | {"mr", "mrs", "ms", "inc", "ltd", "co", "corp", "e.g", "i.e", "approx", "dept", "jan", "feb", "fig"}
)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"»”)]*\s+(?=[\"«“(]?[A-ZÀ-ÖØ-Þ0-9])")
_SEMICOLON = re.compile(r"\s*;\s+")
_ENUMERATION = re.compile(
    r"(?:(?<=[.:;!?])|(?<=^))\s*(?=(?:un|deux|trois|quatre|cinq|six|premi[eè]rement|deuxi[eè]mement|"
    r"troisi[eè]mement|d'abord|ensuite|enfin|one|two|three|four|five|first|second|third|fourth|then|finally|"
    r"lastly)\s*[:,—–-])",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Clause:
    """One clause of an answer: its number (from 1), its text and where it sits in the answer."""

    number: int
    text: str
    start: int
    end: int


def split_clauses(text: str) -> list[Clause]:
    """The clauses of `text`, in order, numbered from 1; an empty text has none."""
    pieces = _pieces(text)
    merged: list[tuple[int, int]] = []
    carry: int | None = None
    for start, end in pieces:
        if carry is not None:
            start, carry = carry, None
        if end - start < MIN_CHARS and len(merged) + 1 < len(pieces):
            carry = start
            continue
        merged.append((start, end))
    if carry is not None:
        merged.append((carry, pieces[-1][1]) if not merged else (merged.pop()[0], pieces[-1][1]))
    if len(merged) > MAX_CLAUSES:
        merged = [*merged[: MAX_CLAUSES - 1], (merged[MAX_CLAUSES - 1][0], merged[-1][1])]
    return [Clause(number, text[start:end], start, end) for number, (start, end) in enumerate(merged, start=1)]


def _pieces(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, semicolon part and enumeration item, stripped of surrounding spaces."""
    cuts = {0, len(text)}
    for pattern in (_SENTENCE_END, _SEMICOLON, _ENUMERATION):
        for match in pattern.finditer(text):
            if pattern is _SENTENCE_END and _ends_with_abbreviation(text[: match.start()]):
                continue
            cuts.add(match.end() if pattern is not _ENUMERATION else match.start())
    bounds = sorted(cuts)
    pieces = []
    for start, end in zip(bounds, bounds[1:], strict=False):
        piece = text[start:end]
        stripped = piece.strip(" \t\n;")
        if not stripped:
            continue
        offset = start + piece.index(stripped)
        pieces.append((offset, offset + len(stripped)))
    return pieces


def _ends_with_abbreviation(before: str) -> bool:
    """Whether the dot that ends `before` belongs to an abbreviation ("M.", "e.g.", "etc.") or an initial."""
    word = re.search(r"([\w.]+)[.]$", before)
    if not word:
        return False
    token = word.group(1).lower()
    return token in _ABBREVIATIONS or (len(token) == 1 and token.isalpha())
