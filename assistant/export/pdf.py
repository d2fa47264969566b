"""The PDF export, drawn with fpdf2 from the same `SpecDocument` and parsed blocks as the Word export.

Why fpdf2: it is pure Python (its only compiled dependency, Pillow, is already here through Streamlit), actively
maintained, installs from PyPI with no system library or binary, and does what a specification needs: embedded
Unicode TrueType fonts, tables with repeated header rows across page breaks, PDF bookmarks (outline), a table of
contents filled in after the pages are known, and page-number aliases. The alternatives were weaker here:
WeasyPrint needs Pango and other system libraries; xhtml2pdf goes through HTML and reportlab, whose table
layout of long cells is harder to control; reportlab alone is larger for the same result.

Text is written run by run (`FPDF.write`), never through fpdf2's own Markdown or HTML modes, so stakeholder text
with `**`, `--` or `[x](y)` stays text. The font is Source Sans Pro (SIL Open Font License), shipped by the
`font-source-sans-pro` package: it covers French typography (narrow no-break space, « », œ, €); DejaVu Sans is
added as a fallback for rarer characters when the system has it.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import font_source_sans_pro
from fpdf import FPDF, FontFace, XPos, YPos
from fpdf.fonts import TTFFont
from fpdf.outline import OutlineSection, TableOfContents
from fpdf.recorder import FPDFRecorder

from assistant.export.blocks import (
    Block,
    CodeBlock,
    Heading,
    ListBlock,
    Paragraph,
    Rule,
    Run,
    Runs,
    TableBlock,
    column_weights,
    parse_blocks,
    plain,
)
from assistant.export.document import SpecDocument, build_document
from assistant.store import Store

FONT = "SourceSans"
FONT_DIR = Path(font_source_sans_pro.font_directory)
FONT_FILES = {
    "": "SourceSansPro-Regular.ttf",
    "B": "SourceSansPro-Bold.ttf",
    "I": "SourceSansPro-It.ttf",
    "BI": "SourceSansPro-BoldIt.ttf",
}
FALLBACK_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")

ACCENT = (31, 56, 100)
GREY = (100, 100, 100)
HEADER_FILL = (217, 226, 243)
NOTE_FILL = (255, 244, 206)
NOTE_RULE = (191, 143, 0)
BODY_SIZE = 10.5
TABLE_SIZE = 8.5
SIGNATURE_HEIGHT = 14
"""Height of a sign-off row in millimetres: room for a handwritten signature."""
LINE = 5.2
"""Line height of body text, in millimetres."""
SHARED_PAGE_REVISIONS = 12
"""Up to this many revision rows, the table of contents (13 lines) fits below them on the same page."""


class _SpecPdf(FPDF):
    """FPDF with the document's running header and "Page x of y" footer (not on the title page)."""

    def __init__(self, document: SpecDocument) -> None:
        super().__init__(format="A4", unit="mm")
        self.document = document
        self.set_margins(20, 20, 20)
        self.set_auto_page_break(True, margin=20)
        for style, name in FONT_FILES.items():
            self.add_font(FONT, style, str(FONT_DIR / name))
        if FALLBACK_FONT.is_file() and _needs_fallback(self, document):
            # only then: with a fallback font, fpdf2 checks every character's glyph, which costs a third of the time
            self.add_font("DejaVu", "", str(FALLBACK_FONT))
            self.set_fallback_fonts(["DejaVu"], exact_match=False)
        self.set_title(f"{document.kind} — {document.title}")
        self.set_subject(document.kind)
        self.set_author("Cahier")
        self.set_creator("Cahier")
        self.set_lang(document.project.language.value)
        self.alias_nb_pages("{nb}")

    def header(self) -> None:
        if self.page_no() == 1:
            return
        self.set_font(FONT, "", 8)
        self.set_text_color(*GREY)
        self.set_y(10)
        self.cell(0, 5, f"{self.document.title} — {self.document.kind}", align="R")
        self.set_text_color(0, 0, 0)
        self.set_y(20)

    def footer(self) -> None:
        if self.page_no() == 1:
            return
        self.set_y(-14)
        self.set_font(FONT, "", 8.5)
        self.set_text_color(*GREY)
        text = self.document.template.document.page.format(page=self.page_no(), pages="{nb}")
        self.cell(0, 5, text, align="C")
        self.set_text_color(0, 0, 0)


def _needs_fallback(pdf: FPDF, document: SpecDocument) -> bool:
    """Whether the document holds characters that Source Sans Pro cannot draw."""
    texts = [section.body for section in document.sections] + [value for _, value in document.facts()]
    texts += [f"{acronym} {definition}" for acronym, definition in document.glossary]
    texts += [revision.author for revision in document.revisions]
    texts += [cell for row in document.approval_rows() + document.signature_rows() for cell in row]
    used = set("".join(texts)) - {"\n", "\t"}
    font = pdf.fonts[FONT.lower()]
    assert isinstance(font, TTFFont)  # the bundled Source Sans Pro, added as a TrueType font
    covered = font.cmap
    return any(ord(char) not in covered for char in used)


class _Contents(TableOfContents):
    """The table of contents: its title, then the document's parts (outline level 0) with their pages."""

    def __init__(self, title: str) -> None:
        super().__init__(level_indent=0, line_spacing=1.6)
        self.title = title

    def render_toc(self, pdf: FPDF, outline: list[OutlineSection]) -> None:
        _heading_text(pdf, self.title, 0)
        pdf.set_font(FONT, "", BODY_SIZE)
        super().render_toc(pdf, [section for section in outline if section.level == 0])


def render_pdf(document: SpecDocument) -> bytes:
    """The document as the bytes of a PDF file."""
    pdf = _SpecPdf(document)
    labels = document.template.document
    _title_page(pdf, document)
    pdf.add_page()
    _heading_text(pdf, labels.revisions_title, 0)
    _revisions(pdf, document)
    if len(document.revisions) > SHARED_PAGE_REVISIONS:
        pdf.add_page()
    else:
        pdf.ln(6)  # a short revision table and the contents share a page
    pdf.insert_toc_placeholder(_Contents(labels.toc_title).render_toc, pages=1)
    for section in document.sections:
        _heading(pdf, section.title, 0)
        _blocks(pdf, parse_blocks(section.body))
    _heading(pdf, labels.glossary_title, 0)
    if document.glossary:
        _paragraph(pdf, _text(labels.glossary_intro))
        _table(
            pdf,
            [labels.glossary_columns[0], labels.glossary_columns[1]],
            [list(pair) for pair in document.glossary],
            [0.2, 0.8],
        )
    else:
        _paragraph(pdf, _text(labels.glossary_empty, italic=True))
    _approvals(pdf, document)
    return bytes(pdf.output())


def _approvals(pdf: _SpecPdf, document: SpecDocument) -> None:
    """The approval page: who approved each part and when, then a sign-off table with room to sign by hand."""
    labels = document.template.document
    pdf.add_page()
    _heading(pdf, labels.approvals_title, 0)
    _paragraph(pdf, _text(labels.approvals_intro))
    _table(pdf, list(labels.approvals_columns), document.approval_rows(), [0.46, 0.18, 0.2, 0.16])
    _heading(pdf, labels.signatures_title, 1)
    _paragraph(pdf, _text(labels.signatures_intro))
    _table(
        pdf,
        list(labels.signatures_columns),
        document.signature_rows(),
        [0.28, 0.3, 0.14, 0.28],
        row_height=SIGNATURE_HEIGHT,
    )


def export_pdf(store: Store, project_id: str, *, today: date | None = None) -> bytes:
    """The project's specification as PDF."""
    return render_pdf(build_document(store, project_id, today=today))


def render_summary_pdf(document: SpecDocument) -> bytes:
    """The executive summary alone, as a page to hand to a director: the project, its company, the date and
    review state, then the summary as it opens the full document (the same text, so they cannot disagree)."""
    pdf = _SpecPdf(document)
    summary = document.sections[0]
    pdf.add_page()
    pdf.set_font(FONT, "B", 10)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 6, f"{document.kind.upper()} — {summary.title.upper()}", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "B", 20)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 9, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font(FONT, "", 9)
    pdf.set_text_color(*GREY)
    colon = document.template.colon
    line = " · ".join(f"{label}{colon} {value}" for label, value in document.facts()[1:])  # the title is above
    pdf.multi_cell(0, 5, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.ln(3)
    _blocks(pdf, parse_blocks(summary.body))
    return bytes(pdf.output())


def export_summary_pdf(store: Store, project_id: str, *, today: date | None = None) -> bytes:
    """The project's executive summary as a PDF of its own."""
    return render_summary_pdf(build_document(store, project_id, today=today))


def _text(text: str, *, bold: bool = False, italic: bool = False) -> Runs:
    return (Run(text, bold=bold, italic=italic),)


# -- pages around the sections -----------------------------------------------------------------------------


def _title_page(pdf: _SpecPdf, document: SpecDocument) -> None:
    pdf.add_page()
    pdf.set_y(80)
    pdf.set_font(FONT, "B", 12)
    pdf.set_text_color(*GREY)
    pdf.cell(0, 8, document.kind.upper(), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*ACCENT)
    pdf.set_line_width(0.8)
    pdf.line(pdf.l_margin, pdf.get_y() + 2, pdf.l_margin + 40, pdf.get_y() + 2)
    pdf.ln(6)
    pdf.set_font(FONT, "B", 28)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, 12, document.title, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if document.project.company:
        pdf.set_font(FONT, "", 16)
        pdf.set_text_color(*GREY)
        pdf.multi_cell(0, 9, document.project.company, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(14)
    pdf.set_text_color(0, 0, 0)
    for label, value in document.facts():
        pdf.set_font(FONT, "B", BODY_SIZE)
        pdf.set_text_color(*ACCENT)
        pdf.cell(45, 7, label)
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.set_text_color(0, 0, 0)
        pdf.multi_cell(0, 7, value, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_y(-40)
    pdf.set_font(FONT, "I", 9)
    pdf.set_text_color(*GREY)
    pdf.multi_cell(0, 5, document.template.document.prepared_by, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(0, 0, 0)
    pdf.set_line_width(0.2)


def _revisions(pdf: _SpecPdf, document: SpecDocument) -> None:
    labels = document.template.document
    if not document.revisions:
        _paragraph(pdf, _text(labels.revisions_empty, italic=True))
        return
    rows = [[r.date, r.section, str(r.version), r.state, r.author] for r in document.revisions]
    _table(pdf, list(labels.revisions_columns), rows, [0.16, 0.34, 0.1, 0.15, 0.25])
    if document.older_revisions:
        older = document.template.plural(labels.revisions_older, document.older_revisions)
        _paragraph(pdf, _text(older, italic=True))


# -- blocks ------------------------------------------------------------------------------------------------


def _heading_text(pdf: FPDF, text: str, level: int) -> None:
    size = (16, 12.5, 11)[min(level, 2)]
    pdf.set_x(pdf.l_margin)
    pdf.set_font(FONT, "B", size)
    pdf.set_text_color(*ACCENT)
    pdf.multi_cell(0, size * 0.5, text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if level == 0:
        pdf.set_draw_color(*ACCENT)
        pdf.set_line_width(0.4)
        pdf.line(pdf.l_margin, pdf.get_y() + 1, pdf.w - pdf.r_margin, pdf.get_y() + 1)
        pdf.set_line_width(0.2)
        pdf.ln(4)
    else:
        pdf.ln(1.5)
    pdf.set_text_color(0, 0, 0)


def _heading(pdf: FPDF, text: str, level: int) -> None:
    """A heading that is also a PDF bookmark, kept with at least a few lines of what follows it."""
    if pdf.get_y() > pdf.page_break_trigger - (45 if level == 0 else 25):
        pdf.add_page()
    pdf.ln(4 if level == 0 else 2)
    pdf.start_section(text, level=level, strict=False)
    _heading_text(pdf, text, level)


def _blocks(pdf: FPDF, blocks: list[Block]) -> None:
    for block in blocks:
        if isinstance(block, Heading):
            _heading(pdf, plain(block.runs), 1 if block.level <= 3 else 2)
        elif isinstance(block, Paragraph):
            if block.quote:
                _note(pdf, block.runs)
            else:
                _paragraph(pdf, block.runs)
        elif isinstance(block, ListBlock):
            for item in block.items:
                marker = f"{item.number}." if item.number is not None else ("•" if item.level == 0 else "–")
                _paragraph(pdf, item.runs, indent=5 + 5 * item.level, marker=marker, after=1)
            pdf.ln(1.5)
        elif isinstance(block, TableBlock):
            pdf.set_font(FONT, "B", TABLE_SIZE)  # measured in bold: headers and identifiers are bold
            weights = column_weights(block, measure=pdf.get_string_width, line_width=pdf.epw, padding=4)
            _table(
                pdf,
                [plain(cell) for cell in block.header],
                [[plain(cell) for cell in row] for row in block.rows],
                weights,
                bold_first_column=True,
            )
        elif isinstance(block, CodeBlock):
            pdf.set_font(FONT, "", 9)
            pdf.multi_cell(0, 4.5, block.text, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            pdf.ln(2)
        elif isinstance(block, Rule):
            pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
            pdf.ln(3)


def _style(bold: bool, italic: bool) -> str:
    return ("B" if bold else "") + ("I" if italic else "")


def _write_runs(pdf: FPDF | FPDFRecorder, runs: Runs, size: float) -> None:
    # Code is written in the text font: the core Courier font knows only Latin-1 and would stop the export.
    for run in runs:
        pdf.set_font(FONT, _style(run.bold, run.italic or run.code), size)
        for index, line in enumerate(run.text.split("\n")):
            if index:
                pdf.ln(LINE)
            if line:
                pdf.write(LINE, line)


def _paragraph(pdf: FPDF, runs: Runs, *, indent: float = 0, marker: str = "", after: float = 2.5) -> None:
    left = pdf.l_margin
    if indent:
        pdf.set_x(left + indent - 4)
        pdf.set_font(FONT, "", BODY_SIZE)
        pdf.cell(4, LINE, marker)
        pdf.set_left_margin(left + indent)
    try:
        _write_runs(pdf, runs, BODY_SIZE)
    finally:
        pdf.set_left_margin(left)
    pdf.ln(LINE + after)


def _note(pdf: FPDF, runs: Runs) -> None:
    """A shaded box with a left rule, as in the Word export: the draft's "still needed" lines."""
    padding = 2.5
    left = pdf.l_margin
    start = pdf.get_y()
    with pdf.offset_rendering() as probe:
        probe.set_left_margin(left + padding + 1.5)
        probe.set_right_margin(pdf.r_margin + padding)
        probe.set_x(left + padding + 1.5)
        probe.set_y(probe.get_y() + padding)
        _write_runs(probe, runs, BODY_SIZE - 0.5)
        probe.ln(LINE)
        height = probe.get_y() - start + padding
    if pdf.will_page_break(height):
        pdf.add_page()
    top = pdf.get_y()
    pdf.set_fill_color(*NOTE_FILL)
    pdf.rect(left, top, pdf.epw, height, style="F")
    pdf.set_fill_color(*NOTE_RULE)
    pdf.rect(left, top, 1.2, height, style="F")
    pdf.set_left_margin(left + padding + 1.5)
    pdf.set_right_margin(pdf.r_margin + padding)
    try:
        pdf.set_xy(left + padding + 1.5, top + padding)
        _write_runs(pdf, runs, BODY_SIZE - 0.5)
    finally:
        pdf.set_left_margin(left)
        pdf.set_right_margin(pdf.r_margin - padding)
    pdf.set_fill_color(255, 255, 255)
    pdf.set_y(top + height + 3)


def _table(
    pdf: FPDF,
    header: list[str],
    rows: list[list[str]],
    weights: list[float],
    *,
    bold_first_column: bool = False,
    row_height: float | None = None,
) -> None:
    pdf.set_font(FONT, "", TABLE_SIZE)
    pdf.set_draw_color(160, 160, 160)
    headings = FontFace(family=FONT, emphasis="BOLD", size_pt=TABLE_SIZE, color=ACCENT, fill_color=HEADER_FILL)
    first = FontFace(family=FONT, emphasis="BOLD", size_pt=TABLE_SIZE)
    with pdf.table(
        col_widths=[weight * 100 for weight in weights],
        headings_style=headings,
        line_height=TABLE_SIZE * 0.48,
        text_align="LEFT",
        v_align="TOP",
        padding=(1.2, 1.5),
        repeat_headings=1,
        width=pdf.epw,
        cell_fill_mode="NONE",
    ) as table:
        heading_row = table.row()
        for text in header:
            heading_row.cell(text)
        for values in rows:
            row = table.row(min_height=row_height)
            for index, text in enumerate(values):
                row.cell(text, style=first if bold_first_column and index == 0 else None)
    pdf.ln(3)
