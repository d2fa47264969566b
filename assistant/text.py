"""Accent folding shared by every matcher: the quality lexicon, money and dates, retrieval and the interview.

Both functions work one character at a time, so the result has the length of the input and an offset found
in the folded text points at the same place in the original (the quality checker and the money parser quote
the stakeholder's own words back from those offsets).
"""

from __future__ import annotations

import re
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


_REQUIREMENT_OPENING = re.compile(
    r"^\s*(le crm doit|le crm devra|the crm shall|the crm must|the crm should)\s+(?:permettre\s*:\s*|provide:\s*)?",
    re.IGNORECASE,
)


def requirement_core(statement: str) -> str:
    """A requirement without its "Le CRM doit / The CRM shall" opening, which every statement shares.

    Compared with it, two different needs look alike (measured with the project's embeddings: "Le CRM doit suivre
    les opportunités" / "Le CRM doit gérer les devis" 0.80, a rewording of one need 0.84-0.90); without it, 0.34
    against 0.60-0.81. Duplicate detection and the evaluation's matcher compare the cores.
    """
    core = _REQUIREMENT_OPENING.sub("", statement)
    return core[:1].upper() + core[1:] if core.strip() else statement
