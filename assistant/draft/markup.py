"""Markdown as Cahier writes it: stakeholder text escaped so that it stays text, and the tables the draft uses.

Everything a stakeholder or the model wrote passes through `escape` before it reaches a draft: a statement
holding `|`, `*` or `<script>` must read as those characters in every export, never as a table border,
emphasis or HTML. Reviewers' own edits are Markdown by intent and are not escaped; `neutralise_html` is what
keeps raw HTML out of the Markdown export whoever typed it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from markdown_it import MarkdownIt

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters no XML document may hold (DOCX, ReqIF): a pasted form feed must not make an export fail."""


def printable(text: str) -> str:
    """The text without the control characters that XML forbids (tabs and line breaks stay)."""
    return _NOT_XML.sub("", text)


_INLINE_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&])")
"""Characters that open an inline construct anywhere in a line (emphasis, code, link, HTML, table cell, entity)."""

_BLOCK_START = re.compile(r"^([#>+\-=]|\d{1,9}(?=[.)]))")
"""What turns the start of a line into a heading, quote, list item or setext underline ("2027. " is a list)."""


def escape(text: str) -> str:
    """One line of Markdown that renders exactly as `text` reads.

    Line breaks become spaces: every place the draft puts outside text (a table cell, a list item, a sentence
    of prose) is a single line.
    """
    flat = _INLINE_SPECIAL.sub(r"\\\1", " ".join(printable(text).split()))
    match = _BLOCK_START.match(flat)
    if match is None:
        return flat
    if match.group(1)[0].isdigit():
        end = match.end()
        return flat[:end] + "\\" + flat[end:]
    return "\\" + flat


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A GitHub-flavoured table; cells must already be escaped (or be Cahier's own Markdown)."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(cell or " " for cell in row) + " |" for row in rows)
    return "\n".join(lines)


def bullets(items: Sequence[str], *, ordered: bool = False) -> str:
    """A list, one item per line; items must already be escaped."""
    return "\n".join(f"{index}. {item}" if ordered else f"- {item}" for index, item in enumerate(items, start=1))


_HTML_PARSER = MarkdownIt("commonmark", {"html": True}).enable("table")


def neutralise_html(markdown: str) -> str:
    """The same Markdown with every raw HTML block or tag turned into visible text.

    A reviewer may paste `<script>` into a section; Markdown viewers render raw HTML, so the Markdown export
    escapes it. Code spans and blocks are left alone (HTML there is already text).
    """
    lines = markdown.split("\n")
    tokens = _HTML_PARSER.parse(markdown)
    for token in tokens:
        if token.type == "html_block" and token.map:
            for number in range(*token.map):
                lines[number] = lines[number].replace("<", "\\<")
        elif token.type == "inline" and token.map and token.children:
            tags = {child.content for child in token.children if child.type == "html_inline"}
            for number in range(*token.map):
                for tag in tags:
                    lines[number] = lines[number].replace(tag, "\\" + tag)
    return "\n".join(lines)
