"""One statement as every rule reads it: its folded copy, its tokens, and the numbers in it with their units."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from assistant.quality.lexicon import _Matchers
from assistant.text import fold

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


_NUMBER = re.compile(r"(?<![\w.,/:#°])\d+(?:[ ]\d{3}(?!\d))*(?:[.,]\d+)*(?!\w)")


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
