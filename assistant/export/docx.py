"""The Word export (python-docx): a title page, revision table, a real table of contents and the sections.

What makes it usable in Word rather than merely openable: parts are written with the built-in "Heading 1/2/3"
styles (the navigation pane and the TOC field read them), the table of contents is a `TOC` field that Word
fills on opening (`w:updateFields`) and that already lists the parts before it is updated, requirement tables
have a repeated, shaded header row, and the footer numbers pages with `PAGE` / `NUMPAGES` fields. Paragraph
language is set so that Word spell-checks French as French.

Section texts are parsed from Markdown (`blocks.py`), so a reviewer's edits appear as they were approved and
stakeholder text only ever becomes text runs.
"""

from __future__ import annotations

import io
from datetime import date

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_SECTION_START
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_ROW_HEIGHT_RULE, WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.oxml.xmlchemy import BaseOxmlElement
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph as DocxParagraph
from lxml import etree

from assistant.draft.markup import printable
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
)
from assistant.export.document import SpecDocument, build_document
from assistant.store import Store

PAGE_WIDTH = Cm(21.0)
PAGE_HEIGHT = Cm(29.7)
MARGIN = Cm(2.0)
TEXT_WIDTH_CM = 21.0 - 2 * 2.0
ACCENT = "1F3864"
"""Dark blue of the table headers and the title page."""
HEADER_FILL = "D9E2F3"
SIGNATURE_HEIGHT = Cm(1.4)
"""Height of a sign-off row: room for a handwritten signature."""
NOTE_FILL = "FFF4CE"
"""Light amber behind the "still needed" notes, so that gaps are seen at a glance."""
LANGUAGE_TAGS = {"fr": "fr-FR", "en": "en-GB"}
W_R, W_RPR, W_T, W_BR = qn("w:r"), qn("w:rPr"), qn("w:t"), qn("w:br")
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
TABLE_TEXT = "Cahier Table Text"
"""Paragraph style of table cells: 8.5 pt, no spacing (one style instead of formatting 2,000 cells one by one)."""


def render_docx(document: SpecDocument) -> bytes:
    """The document as the bytes of a `.docx` file."""
    doc = Document()
    _set_up(doc, document)
    _title_page(doc, document)
    _revisions(doc, document)
    _table_of_contents(doc, document)
    for section in document.sections:
        doc.add_paragraph(section.title, style="Heading 1")
        _blocks(doc, parse_blocks(section.body))
    _glossary(doc, document)
    _approvals(doc, document)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def export_docx(store: Store, project_id: str, *, today: date | None = None) -> bytes:
    """The project's specification as a Word document."""
    return render_docx(build_document(store, project_id, today=today))


# -- page set-up -------------------------------------------------------------------------------------------


def _set_up(doc: DocxDocument, document: SpecDocument) -> None:
    properties = doc.core_properties
    properties.title = f"{document.kind} — {document.title}"
    properties.subject = document.kind
    properties.author = "Cahier"
    properties.language = LANGUAGE_TAGS[document.project.language.value]
    properties.keywords = "CRM"

    section = doc.sections[0]
    section.start_type = WD_SECTION_START.NEW_PAGE
    section.page_width, section.page_height = PAGE_WIDTH, PAGE_HEIGHT
    section.left_margin = section.right_margin = MARGIN
    section.top_margin = section.bottom_margin = MARGIN
    section.different_first_page_header_footer = True  # no header or page number on the title page

    normal = doc.styles["Normal"]
    normal.font.name = "Calibri"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    table_text = doc.styles.add_style(TABLE_TEXT, WD_STYLE_TYPE.PARAGRAPH)
    table_text.base_style = normal
    table_text.font.size = Pt(8.5)
    table_text.paragraph_format.space_after = Pt(0)
    table_text.paragraph_format.space_before = Pt(0)
    _set_language(normal.element.get_or_add_rPr(), LANGUAGE_TAGS[document.project.language.value])  # others inherit

    header = section.header.paragraphs[0]
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    _styled(header.add_run(f"{document.title} — {document.kind}"), size=8, color="7F7F7F")

    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    before, _, rest = document.template.document.page.partition("{page}")
    middle, _, after = rest.partition("{pages}")
    for text, field in ((before, "PAGE"), (middle, "NUMPAGES"), (after, None)):
        if text:
            _styled(footer.add_run(text), size=9, color="595959")
        if field:
            _field(footer, field, "1")

    settings = doc.settings.element
    update = OxmlElement("w:updateFields")
    update.set(qn("w:val"), "true")  # Word fills the TOC and page numbers when the file is opened
    settings.append(update)


def _set_language(rpr: BaseOxmlElement, tag: str) -> None:
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), tag)


def _styled(run, *, size: float | None = None, color: str | None = None, bold: bool | None = None):
    if size is not None:
        run.font.size = Pt(size)
    if color is not None:
        run.font.color.rgb = RGBColor.from_string(color)
    if bold is not None:
        run.bold = bold
    return run


def _field(paragraph: DocxParagraph, instruction: str, placeholder: str) -> None:
    """A complex field (PAGE, NUMPAGES…) with a cached value shown until Word computes it."""
    run = paragraph.add_run()
    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run._r.append(begin)
    run = paragraph.add_run()
    code = OxmlElement("w:instrText")
    code.set(qn("xml:space"), "preserve")
    code.text = f" {instruction} "
    run._r.append(code)
    run = paragraph.add_run()
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run._r.append(separate)
    _styled(paragraph.add_run(placeholder), size=9, color="595959")
    run = paragraph.add_run()
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run._r.append(end)


def _page_break(doc: DocxDocument) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


# -- front matter ------------------------------------------------------------------------------------------


def _title_page(doc: DocxDocument, document: SpecDocument) -> None:
    for _ in range(6):
        doc.add_paragraph()
    kind = doc.add_paragraph()
    _styled(kind.add_run(document.kind.upper()), size=12, color="595959", bold=True)
    title = doc.add_paragraph(document.title, style="Title")
    title.paragraph_format.space_after = Pt(24)
    if document.project.company:
        doc.add_paragraph(document.project.company, style="Subtitle")
    facts = doc.add_table(rows=0, cols=2)
    facts.alignment = WD_TABLE_ALIGNMENT.LEFT
    for label, value in document.facts():
        cells = facts.add_row().cells
        _styled(cells[0].paragraphs[0].add_run(label), bold=True, color=ACCENT)
        cells[1].paragraphs[0].add_run(value)
    _widths(facts, [0.3, 0.7], width_cm=12)
    doc.add_paragraph()
    note = doc.add_paragraph()
    _styled(note.add_run(document.template.document.prepared_by), size=9, color="595959").italic = True
    _page_break(doc)


def _revisions(doc: DocxDocument, document: SpecDocument) -> None:
    labels = document.template.document
    doc.add_paragraph(labels.revisions_title, style="TOC Heading")
    if not document.revisions:
        doc.add_paragraph().add_run(labels.revisions_empty).italic = True
        return
    rows = [[r.date, r.section, str(r.version), r.state, r.author] for r in document.revisions]
    _plain_table(doc, labels.revisions_columns, rows)
    if document.older_revisions:
        older = document.template.plural(labels.revisions_older, document.older_revisions)
        doc.add_paragraph().add_run(older).italic = True


def _table_of_contents(doc: DocxDocument, document: SpecDocument) -> None:
    labels = document.template.document
    doc.add_paragraph(labels.toc_title, style="TOC Heading")
    entries = [section.title for section in document.sections] + [labels.glossary_title, labels.approvals_title]
    paragraphs = [doc.add_paragraph() for _ in entries]
    first, last = paragraphs[0], paragraphs[-1]
    # One field over several paragraphs, as Word writes it: begin + code + separate, the cached entries, end.
    for kind, text in (("begin", None), ("instr", ' TOC \\o "1-2" \\h \\z \\u '), ("separate", None)):
        run = first.add_run()
        if kind == "instr":
            element = OxmlElement("w:instrText")
            element.set(qn("xml:space"), "preserve")
            element.text = text
        else:
            element = OxmlElement("w:fldChar")
            element.set(qn("w:fldCharType"), kind)
        run._r.append(element)
    for paragraph, entry in zip(paragraphs, entries, strict=True):
        paragraph.add_run(entry)
        paragraph.paragraph_format.space_after = Pt(2)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    last.add_run()._r.append(end)
    hint = doc.add_paragraph()
    _styled(hint.add_run(labels.toc_hint), size=8, color="7F7F7F").italic = True
    _page_break(doc)


def _glossary(doc: DocxDocument, document: SpecDocument) -> None:
    labels = document.template.document
    doc.add_paragraph(labels.glossary_title, style="Heading 1")
    if not document.glossary:
        doc.add_paragraph().add_run(labels.glossary_empty).italic = True
        return
    doc.add_paragraph(labels.glossary_intro)
    _plain_table(doc, labels.glossary_columns, [list(pair) for pair in document.glossary])


def _approvals(doc: DocxDocument, document: SpecDocument) -> None:
    """The approval page: who approved each part and when, then a sign-off table with room to sign by hand."""
    labels = document.template.document
    _page_break(doc)
    doc.add_paragraph(labels.approvals_title, style="Heading 1")
    doc.add_paragraph(labels.approvals_intro)
    _plain_table(doc, labels.approvals_columns, document.approval_rows(), weights=[0.46, 0.18, 0.2, 0.16])
    doc.add_paragraph(labels.signatures_title, style="Heading 2")
    doc.add_paragraph(labels.signatures_intro)
    signatures = _plain_table(
        doc, labels.signatures_columns, document.signature_rows(), weights=[0.28, 0.3, 0.14, 0.28]
    )
    for row in signatures.rows[1:]:
        row.height = SIGNATURE_HEIGHT
        row.height_rule = WD_ROW_HEIGHT_RULE.AT_LEAST


def _plain_table(
    doc: DocxDocument, header: list[str], rows: list[list[str]], *, weights: list[float] | None = None
) -> Table:
    """A table of plain strings (revisions, glossary, approvals), sized like the section tables."""
    block = TableBlock(tuple((Run(text),) for text in header), tuple(tuple((Run(c),) for c in row) for row in rows))
    return _table(doc, list(block.header), [list(row) for row in block.rows], weights=weights or _docx_weights(block))


# -- section content ---------------------------------------------------------------------------------------


class _StyleIds:
    """Style ids looked up once: python-docx resolves a style name on every paragraph, which costs more than the
    paragraph itself (0.5 s of a 300-requirement document)."""

    def __init__(self, doc: DocxDocument) -> None:
        self.doc = doc
        self.ids: dict[str, str] = {}

    def paragraph(self, style: str | None = None, container=None) -> DocxParagraph:
        paragraph = (container or self.doc).add_paragraph()
        if style is not None:
            if style not in self.ids:
                self.ids[style] = self.doc.styles[style].style_id
            paragraph._p.style = self.ids[style]
        return paragraph


def _blocks(doc: DocxDocument, blocks: list[Block]) -> None:
    styles = _StyleIds(doc)
    for block in blocks:
        if isinstance(block, Heading):
            # inside a part, "###" is the first sub-level: Heading 2 (parts themselves are Heading 1)
            heading = styles.paragraph(f"Heading {min(max(block.level - 1, 2), 4)}")
            heading.add_run("".join(r.text for r in block.runs))
        elif isinstance(block, Paragraph):
            paragraph = styles.paragraph()
            _runs(paragraph, block.runs)
            if block.quote:
                _note(paragraph)
        elif isinstance(block, ListBlock):
            for item in block.items:
                if item.number is None:
                    paragraph = styles.paragraph("List Bullet 2" if item.level else "List Bullet")
                else:
                    # numbers written out: python-docx's "List Number" would continue across separate lists
                    paragraph = styles.paragraph()
                    paragraph.paragraph_format.left_indent = Cm(0.9 + 0.6 * item.level)
                    paragraph.paragraph_format.first_line_indent = Cm(-0.6)
                    paragraph.add_run(f"{item.number}.\t")
                paragraph.paragraph_format.space_after = Pt(2)
                _runs(paragraph, item.runs)
        elif isinstance(block, TableBlock):
            _table(doc, list(block.header), [list(row) for row in block.rows], weights=_docx_weights(block))
            styles.paragraph(TABLE_TEXT)  # a small gap, not a full empty line, after the table
        elif isinstance(block, CodeBlock):
            paragraph = styles.paragraph()
            run = paragraph.add_run(block.text)
            run.font.name = "Consolas"
            run.font.size = Pt(9)
        elif isinstance(block, Rule):
            styles.paragraph()


def _docx_weights(block: TableBlock) -> list[float]:
    # characters counted 25 % wide: a viewer without Calibri substitutes a wider font (LibreOffice on Linux lays
    # bold 8.5 pt headers out in DejaVu Sans, where "Horizon" broke mid-word at 12 %)
    return column_weights(block, measure=lambda text: len(text) * 1.25)


def _runs(paragraph: DocxParagraph, runs: Runs) -> None:
    _write_runs(paragraph._p, runs)


def _write_runs(p: etree._Element, runs: Runs) -> None:
    """Runs appended to a `w:p` as raw XML: python-docx's run objects cost 0.1 ms each, 0.4 s for a big draft."""
    for run in runs:
        for index, line in enumerate(printable(run.text).split("\n")):
            if index:
                etree.SubElement(etree.SubElement(p, W_R), W_BR)
            if not line:
                continue
            element = etree.SubElement(p, W_R)
            if run.bold or run.italic or run.strike or run.code:
                properties = etree.SubElement(element, W_RPR)
                if run.code:
                    fonts = etree.SubElement(properties, qn("w:rFonts"))
                    fonts.set(qn("w:ascii"), "Consolas")
                    fonts.set(qn("w:hAnsi"), "Consolas")
                if run.bold:
                    etree.SubElement(properties, qn("w:b"))
                if run.italic:
                    etree.SubElement(properties, qn("w:i"))
                if run.strike:
                    etree.SubElement(properties, qn("w:strike"))
            text = etree.SubElement(element, W_T)
            text.text = line
            text.set(XML_SPACE, "preserve")


def _shade(element, fill: str) -> None:
    properties = element.get_or_add_tcPr() if element.tag == qn("w:tc") else element.get_or_add_pPr()
    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    properties.append(shading)


def _note(paragraph: DocxParagraph) -> None:
    """A shaded box with a left rule: how the draft shows what is still missing."""
    _shade(paragraph._p, NOTE_FILL)
    borders = OxmlElement("w:pBdr")
    left = OxmlElement("w:left")
    for key, value in (("w:val", "single"), ("w:sz", "18"), ("w:space", "6"), ("w:color", "BF8F00")):
        left.set(qn(key), value)
    borders.append(left)
    paragraph._p.get_or_add_pPr().insert(0, borders)
    paragraph.paragraph_format.left_indent = Cm(0.3)


def _table(
    doc: DocxDocument, header: list[Runs], rows: list[list[Runs]], *, weights: list[float] | None = None
) -> Table:
    table = doc.add_table(rows=1, cols=len(header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    text_style = doc.styles[TABLE_TEXT].style_id
    head = table.rows[0]
    _repeat_as_header(head)
    for cell, runs in zip(head.cells, header, strict=True):
        _shade(cell._tc, HEADER_FILL)
        paragraph = cell.paragraphs[0]
        paragraph._p.style = text_style
        _runs(paragraph, tuple(Run(r.text, bold=True) for r in runs))
    for values in rows:  # body rows as raw XML, for speed (300 requirements = 2,100 cells)
        tr = etree.SubElement(table._tbl, qn("w:tr"))
        for runs in values:
            p = etree.SubElement(etree.SubElement(tr, qn("w:tc")), qn("w:p"))
            etree.SubElement(etree.SubElement(p, qn("w:pPr")), qn("w:pStyle")).set(qn("w:val"), text_style)
            _write_runs(p, runs)
    _widths(table, weights or [1 / len(header)] * len(header))
    return table


def _repeat_as_header(row) -> None:
    properties = row._tr.get_or_add_trPr()
    repeat = OxmlElement("w:tblHeader")
    repeat.set(qn("w:val"), "true")
    properties.append(repeat)
    cant_split = OxmlElement("w:cantSplit")
    properties.append(cant_split)


def _widths(table: Table, weights: list[float], *, width_cm: float = TEXT_WIDTH_CM) -> None:
    table.autofit = False
    widths = [Cm(width_cm * weight) for weight in weights]
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    # a fixed-layout table takes its widths from the grid and the first row; setting every cell costs 0.2 s
    for cell, width in zip(table.rows[0].cells, widths, strict=True):
        cell.width = width
