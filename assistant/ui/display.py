"""Turning stakeholder and model text into Markdown that Streamlit shows as plain words, never as markup."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

from assistant.draft.markup import escape

_STREAMLIT_SPECIAL = re.compile(r"([$:])")
"""Streamlit's Markdown also reads `$…$` as LaTeX and `:name[…]` / `:emoji:` as directives."""


def text(value: str) -> str:
    """Markdown that renders exactly as `value` reads, line breaks kept."""
    lines = [_STREAMLIT_SPECIAL.sub(r"\\\1", escape(line)) for line in value.splitlines()]
    return "  \n".join(line for line in lines if line) or " "


def code(value: str) -> str:
    """`value` as an inline code span (backslash escapes do not work inside one, so backticks are replaced)."""
    return "`" + value.replace("`", "'").replace("\n", " ") + "`"


def words(markdown: str) -> Iterator[str]:
    """Chunks for `st.write_stream`: the (already escaped) text, one word at a time."""
    import time

    for chunk in re.findall(r"\S+\s*", markdown):
        yield chunk
        time.sleep(0.015)


def highlighted(statement: str, spans: Sequence[tuple[int, int, str]]) -> str:
    """`statement` as Markdown with each `(start, end, colour)` span on a coloured background.

    Spans come from the quality checker (character offsets into the statement). The narrowest spans win where
    spans overlap: a word-level finding says more than one about the whole sentence.
    """
    chosen: list[tuple[int, int, str]] = []
    for start, end, colour in sorted(spans, key=lambda span: (span[1] - span[0], span[0])):
        if end > start and all(end <= s or start >= e for s, e, _ in chosen):
            chosen.append((start, end, colour))
    parts: list[str] = []
    position = 0
    for start, end, colour in sorted(chosen):
        parts.append(_inline(statement[position:start]))
        parts.append(f":{colour}-background[{_inline(statement[start:end])}]")
        position = end
    parts.append(_inline(statement[position:]))
    return "".join(parts)


def _inline(value: str) -> str:
    """Escaped text that keeps its outer spaces (escape() trims them, but they matter between spans)."""
    if not value.strip():
        return value
    lead = value[: len(value) - len(value.lstrip())]
    trail = value[len(value.rstrip()) :]
    escaped = _STREAMLIT_SPECIAL.sub(r"\\\1", escape(value))
    return lead + escaped + trail


_HEADING = re.compile(r"^(#{1,6})(?=\s)")


def demoted(markdown: str, levels: int = 2) -> str:
    """Reviewed Markdown with its headings `levels` deeper, so a section's own subheadings sit under its title."""
    lines, fenced = [], False
    for line in markdown.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        if not fenced:
            line = _HEADING.sub(lambda m: "#" * min(6, len(m.group(1)) + levels), line)
        lines.append(line)
    return "\n".join(lines)
