"""Section Markdown read back into the few kinds of block that the DOCX and PDF exports draw.

A section's text is Markdown, generated or typed by a reviewer, so the binary exports parse it instead of
re-reading the objects: whatever the reviewer approved is what the document says. Parsing uses markdown-it
(CommonMark plus tables) with raw HTML off, so `<script>` in any text arrives here as the characters
`<script>`, and each renderer only has to write text runs, never interpret markup.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from markdown_it import MarkdownIt
from markdown_it.token import Token


@dataclass(frozen=True)
class Run:
    """A stretch of text with one style."""

    text: str
    bold: bool = False
    italic: bool = False
    code: bool = False
    strike: bool = False


Runs = tuple[Run, ...]


@dataclass(frozen=True)
class Heading:
    level: int
    runs: Runs


@dataclass(frozen=True)
class Paragraph:
    runs: Runs
    quote: bool = False


@dataclass(frozen=True)
class ListItem:
    runs: Runs
    level: int = 0
    number: int | None = None
    """The item's number in an ordered list; None in a bulleted one."""


@dataclass(frozen=True)
class ListBlock:
    items: tuple[ListItem, ...]


@dataclass(frozen=True)
class TableBlock:
    header: tuple[Runs, ...]
    rows: tuple[tuple[Runs, ...], ...]


@dataclass(frozen=True)
class CodeBlock:
    text: str


@dataclass(frozen=True)
class Rule:
    pass


Block = Heading | Paragraph | ListBlock | TableBlock | CodeBlock | Rule


@cache
def _parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


def plain(runs: Runs) -> str:
    """The text of runs without styles."""
    return "".join(run.text for run in runs)


def parse_blocks(markdown: str) -> list[Block]:
    """The blocks of a Markdown text, in order; nested lists are flattened with their level."""
    return _BlockReader(_parser().parse(markdown)).read()


@dataclass
class _ListFrame:
    ordered: bool
    next_number: int
    items: list[ListItem] = field(default_factory=list)


class _BlockReader:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.blocks: list[Block] = []
        self.lists: list[_ListFrame] = []
        self.quote_depth = 0
        self.pending_item: tuple[int, int | None] | None = None
        self.table_header: list[Runs] = []
        self.table_rows: list[list[Runs]] = []
        self.in_head = False

    def read(self) -> list[Block]:
        index = 0
        while index < len(self.tokens):
            token = self.tokens[index]
            handler = getattr(self, "_" + token.type, None)
            if handler is not None:
                handler(token, index)
            index += 1
        return self.blocks

    def _inline_after(self, index: int) -> Runs:
        token = self.tokens[index + 1]
        return _runs(token.children or []) if token.type == "inline" else ()

    # -- block tokens ------------------------------------------------------------------------------------

    def _heading_open(self, token: Token, index: int) -> None:
        self.blocks.append(Heading(int(token.tag[1]), self._inline_after(index)))

    def _paragraph_open(self, token: Token, index: int) -> None:
        runs = self._inline_after(index)
        if self.lists and self.pending_item is not None:
            level, number = self.pending_item
            self.lists[0].items.append(ListItem(runs, level, number))
            self.pending_item = None
        elif self.lists:
            # a second paragraph in one list item continues it on a new line
            first = self.lists[0]
            if first.items:
                last = first.items[-1]
                first.items[-1] = ListItem((*last.runs, Run("\n"), *runs), last.level, last.number)
        else:
            self.blocks.append(Paragraph(runs, quote=self.quote_depth > 0))

    def _blockquote_open(self, token: Token, index: int) -> None:
        self.quote_depth += 1

    def _blockquote_close(self, token: Token, index: int) -> None:
        self.quote_depth -= 1

    def _bullet_list_open(self, token: Token, index: int) -> None:
        self.lists.append(_ListFrame(ordered=False, next_number=0))

    def _ordered_list_open(self, token: Token, index: int) -> None:
        start = token.attrGet("start")
        self.lists.append(_ListFrame(ordered=True, next_number=int(start) if start is not None else 1))

    def _list_close(self, token: Token, index: int) -> None:
        frame = self.lists.pop()
        if not self.lists:  # items of nested lists were added to the outermost one, with their level
            self.blocks.append(ListBlock(tuple(frame.items)))

    _bullet_list_close = _list_close
    _ordered_list_close = _list_close

    def _list_item_open(self, token: Token, index: int) -> None:
        frame = self.lists[-1]
        number = None
        if frame.ordered:
            number = frame.next_number
            frame.next_number += 1
        self.pending_item = (len(self.lists) - 1, number)

    def _list_item_close(self, token: Token, index: int) -> None:
        if self.pending_item is not None:  # an empty item ("- ")
            level, number = self.pending_item
            self.lists[0].items.append(ListItem((), level, number))
            self.pending_item = None

    def _fence(self, token: Token, index: int) -> None:
        self.blocks.append(CodeBlock(token.content.rstrip("\n")))

    _code_block = _fence

    def _hr(self, token: Token, index: int) -> None:
        self.blocks.append(Rule())

    # -- tables ------------------------------------------------------------------------------------------

    def _table_open(self, token: Token, index: int) -> None:
        self.table_header, self.table_rows = [], []

    def _thead_open(self, token: Token, index: int) -> None:
        self.in_head = True

    def _thead_close(self, token: Token, index: int) -> None:
        self.in_head = False

    def _tr_open(self, token: Token, index: int) -> None:
        if not self.in_head:
            self.table_rows.append([])

    def _th_open(self, token: Token, index: int) -> None:
        self.table_header.append(self._inline_after(index))

    def _td_open(self, token: Token, index: int) -> None:
        self.table_rows[-1].append(self._inline_after(index))

    def _table_close(self, token: Token, index: int) -> None:
        width = len(self.table_header)
        rows = tuple(tuple((row + [()] * width)[:width]) for row in self.table_rows)
        self.blocks.append(TableBlock(tuple(self.table_header), rows))


def _runs(children: list[Token]) -> Runs:
    runs: list[Run] = []
    bold = italic = strike = 0
    for child in children:
        kind = child.type
        if kind == "text":
            runs.append(Run(child.content, bold > 0, italic > 0, False, strike > 0))
        elif kind == "code_inline":
            runs.append(Run(child.content, bold > 0, italic > 0, True, strike > 0))
        elif kind == "softbreak":
            runs.append(Run(" "))
        elif kind == "hardbreak":
            runs.append(Run("\n"))
        elif kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "s_open":
            strike += 1
        elif kind == "s_close":
            strike -= 1
        elif kind == "image":
            runs.append(Run(child.content or "", bold > 0, italic > 0))
    return tuple(_merged(runs))


def _merged(runs: list[Run]) -> list[Run]:
    """Adjacent runs of one style joined, so that renderers write fewer, longer runs."""
    merged: list[Run] = []
    for run in runs:
        if merged and (merged[-1].bold, merged[-1].italic, merged[-1].code, merged[-1].strike) == (
            run.bold,
            run.italic,
            run.code,
            run.strike,
        ):
            merged[-1] = Run(merged[-1].text + run.text, run.bold, run.italic, run.code, run.strike)
        elif run.text:
            merged.append(run)
    return merged


def column_weights(
    table: TableBlock,
    *,
    measure: Callable[[str], float] = len,
    line_width: float = 115,
    padding: float = 3.5,
) -> list[float]:
    """Relative column widths from the content: long statements get the room, short codes only what they need.

    Each column wants its average cell width and needs at least its longest word (up to 14 % of the line), so
    that "REQ-003" or "Probabilité" never break mid-word. When the wishes exceed the line, only the columns that
    want more than they need shrink, in proportion to their surplus.

    Args:
        measure: width of a text; by default its length in characters (a line of 8.5 pt text on 17 cm holds
            about 115), the PDF export passes the font's real metrics.
        line_width: the width available, in `measure`'s unit.
        padding: cell margins, in `measure`'s unit.
    """
    cap = line_width * 0.14
    needs, wants = [], []
    for column in range(len(table.header)):
        cells = [plain(table.header[column])] + [plain(row[column]) for row in table.rows]
        longest_word = max((measure(word) for cell in cells for word in cell.split()), default=0)
        average = sum(measure(cell) for cell in cells) / len(cells)
        needs.append(min(longest_word, cap) + padding)
        wants.append(max(needs[-1], average + padding))
    excess = sum(wants) - line_width
    surplus = [want - need for want, need in zip(wants, needs, strict=True)]
    if excess > 0 and sum(surplus) > 0:
        shrink = min(1.0, excess / sum(surplus))
        wants = [want - extra * shrink for want, extra in zip(wants, surplus, strict=True)]
    total = sum(wants)
    return [want / total for want in wants]
