"""Accent folding shared by every matcher: the quality lexicon, money and dates, retrieval and the interview.

Both functions work one character at a time, so the result has the length of the input and an offset found
in the folded text points at the same place in the original (the quality checker and the money parser quote
the stakeholder's own words back from those offsets).
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache

_SPACE_LIKE = "\u00a0\u202f\u2009\u2007\u200a"
_APOSTROPHES = "\u2019\u2018\u02bc`\u00b4"
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2212"


@lru_cache(maxsize=8192)
def _base_char(char: str) -> str:
    """`char` without its accents ("é" → "e"); a character that decomposes into several stays as it is."""
    decomposed = "".join(c for c in unicodedata.normalize("NFD", char) if not unicodedata.combining(c))
    return decomposed if len(decomposed) == 1 else char


def strip_accents(text: str) -> str:
    """`text` without accents, case and punctuation kept ("Équipe" → "Equipe")."""
    return text if text.isascii() else "".join(_base_char(char) for char in text)


@lru_cache(maxsize=8192)
def _fold_char(char: str) -> str:
    if char in _SPACE_LIKE:
        return " "
    if char in _APOSTROPHES:
        return "'"
    if char in _DASHES:
        return "-"
    return _base_char(char).lower()


def fold(text: str) -> str:
    """Lower-case, accent-free copy of `text` with one kind of space, apostrophe and dash, for matching."""
    return "".join(_fold_char(char) for char in text)
