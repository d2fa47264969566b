"""The vendor response grid: the spreadsheet a buyer sends CRM vendors with the specification.

French buyers consult vendors with a *grille de réponse* (or *matrice de conformité*): one row per requirement,
and columns the vendor fills in for each one (how its product covers it, a comment, a cost). The grid is the
second half of a consultation, so it must be one a buyer can send as it is: a header that stays in view, a
coverage column that only takes the agreed answers (a drop-down list), long statements wrapped, and a second
sheet that tells the vendor how to answer.

The layout is a contract, since a later step imports filled grids back: the first sheet holds the columns of
`COLUMNS` in that order from row 1, the requirement id in column A; the vendor's columns come last. A change to
the layout adds columns at the end and never moves one. Cells are written as text (openpyxl would otherwise store
a statement that starts with "=" as a formula, which a spreadsheet runs).

Rejected requirements are left out: vendors are not asked about them.
"""

from __future__ import annotations

import io
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from assistant.draft.markup import printable
from assistant.draft.template import GRID_COLUMNS as COLUMNS
from assistant.draft.template import DraftTemplate, template_for
from assistant.schemas import Project, Requirement, RequirementStatus, SectionId, VendorCoverage
from assistant.store import Store

VENDOR_COLUMNS = frozenset({"coverage", "comment", "cost"})
"""The columns the vendor fills in: left empty, unlocked in colour."""
WIDTHS = {"id": 10, "section": 24, "requirement": 60, "type": 16, "priority": 18, "horizon": 14, "acceptance": 50}
VENDOR_WIDTH = 22
MAX_ROWS = 5_000
"""How far down the coverage drop-down reaches: a grid's rows, with room for the buyer to add some."""

_HEADER_FILL = PatternFill("solid", fgColor="1F3864")
_VENDOR_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="BFBFBF")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")


def _rows(requirements: list[Requirement], template: DraftTemplate) -> list[dict[str, str]]:
    """One row per requirement vendors answer, in document order: by section, then in the store's id order (a
    stable sort keeps it, and "REQ-1000" after "REQ-999")."""
    order = list(SectionId)
    kept = [r for r in requirements if r.status is not RequirementStatus.REJECTED]
    kept.sort(key=lambda r: order.index(r.section))
    return [
        {
            "id": r.id,
            "section": template.numbered_title(r.section),
            "requirement": r.statement,
            "type": template.label(r.category) if r.category else template.label(r.kind),
            "priority": template.label(r.moscow),
            "horizon": template.label(r.horizon) if r.horizon else "",
            "acceptance": "\n".join(f"• {criterion}" for criterion in r.acceptance_criteria),
        }
        for r in kept
    ]


def _text(sheet: Worksheet, row: int, column: int, value: str) -> None:
    cell = sheet.cell(row=row, column=column)
    cell.value = printable(value)
    cell.data_type = "s"  # text, even when it starts with "=": never a formula


def _grid_sheet(sheet: Worksheet, rows: list[dict[str, str]], template: DraftTemplate) -> None:
    grid = template.grid
    sheet.title = grid.sheet
    for column, key in enumerate(COLUMNS, start=1):
        _text(sheet, 1, column, grid.columns[column - 1])
        header = sheet.cell(row=1, column=column)
        header.font = Font(bold=True, color="FFFFFF")
        header.fill = _HEADER_FILL
        header.alignment = Alignment(wrap_text=True, vertical="center")
        header.border = _BORDER
        sheet.column_dimensions[get_column_letter(column)].width = WIDTHS.get(key, VENDOR_WIDTH)
    for number, values in enumerate(rows, start=2):
        for column, key in enumerate(COLUMNS, start=1):
            if key in values:
                _text(sheet, number, column, values[key])
            cell = sheet.cell(row=number, column=column)
            cell.alignment = _WRAP
            cell.border = _BORDER
            if key in VENDOR_COLUMNS:
                cell.fill = _VENDOR_FILL
    coverage = get_column_letter(COLUMNS.index("coverage") + 1)
    choices = [grid.coverage[c] for c in VendorCoverage]
    validation = DataValidation(
        type="list",
        formula1='"' + ",".join(choices) + '"',
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=grid.coverage_error_title,
        error=grid.coverage_error,
        promptTitle=grid.columns[COLUMNS.index("coverage")],
        prompt=grid.coverage_prompt,
        showInputMessage=True,
    )
    validation.add(f"{coverage}2:{coverage}{MAX_ROWS}")
    sheet.add_data_validation(validation)
    sheet.freeze_panes = "B2"  # the header row and the requirement id stay in view
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{max(len(rows) + 1, 2)}"
    sheet.row_dimensions[1].height = 32


def _guide_sheet(sheet: Worksheet, project: Project, template: DraftTemplate) -> None:
    grid = template.grid
    sheet.title = grid.guide_sheet
    _text(sheet, 1, 1, grid.guide_title.format(project=project.name))
    sheet.cell(row=1, column=1).font = Font(bold=True, size=14)
    _text(sheet, 3, 1, grid.guide_intro)
    sheet.cell(row=3, column=1).alignment = _WRAP
    sheet.merge_cells(start_row=3, start_column=1, end_row=3, end_column=2)
    sheet.row_dimensions[3].height = 60
    for offset, (name, help_text) in enumerate(zip(grid.columns, grid.guide_columns, strict=True)):
        _text(sheet, 5 + offset, 1, name)
        _text(sheet, 5 + offset, 2, help_text)
        sheet.cell(row=5 + offset, column=1).font = Font(bold=True)
        sheet.cell(row=5 + offset, column=2).alignment = _WRAP
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 90


def render_xlsx(project: Project, requirements: list[Requirement], *, created: datetime | None = None) -> bytes:
    """The grid workbook: the grid sheet first (the one a spreadsheet opens on), then the guide for vendors.

    Args:
        created: the workbook's creation date in its properties (default: the project's creation), so that the
            same project gives the same properties.
    """
    template = template_for(project.language)
    workbook = Workbook()
    _grid_sheet(workbook.active, _rows(requirements, template), template)
    _guide_sheet(workbook.create_sheet(), project, template)
    workbook.properties.title = f"{template.grid.sheet} — {project.name}"
    workbook.properties.creator = "Cahier"
    workbook.properties.language = project.language.value
    workbook.properties.created = workbook.properties.modified = (created or project.created_at).replace(tzinfo=None)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def export_xlsx(store: Store, project_id: str) -> bytes:
    """The project's vendor response grid (XLSX)."""
    return render_xlsx(store.get_project(project_id), store.list_objects(project_id, Requirement))
