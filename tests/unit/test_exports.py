"""Every export format is read back with an independent reader and says what the project says, safely.

Markdown is parsed with markdown-it, DOCX with python-docx, PDF with pypdf, the vendor grid with openpyxl,
ReqIF with strictdoc's `reqif` package (and checked against the ReqIF 1.2 XSD it ships), CSV with the `csv`
module, JSON through the store's own import.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import docx
import openpyxl
import pytest
import xmlschema
from docx.oxml.ns import qn
from pypdf import PdfReader
from reqif.parser import ReqIFParser
from typer.testing import CliRunner

from assistant.cli import app
from assistant.draft import workflow
from assistant.export.csv import export_csv, neutralise_formula
from assistant.export.docx import export_docx
from assistant.export.json import export_project, import_project
from assistant.export.markdown import export_markdown
from assistant.export.pdf import export_pdf, export_summary_pdf
from assistant.export.reqif import export_reqif
from assistant.export.xlsx import COLUMNS, export_xlsx
from assistant.schemas import Constraint, Requirement, RequirementStatus, SectionId
from assistant.store import Store
from tests.unit.sample_projects import (
    FORMULA_STATEMENT,
    HOSTILE_STATEMENT,
    build_english_project,
    build_french_project,
)

SECTION_TITLES_FR = [
    "1. Présentation de l'entreprise",
    "2. Contexte du projet",
    "3. Objectifs",
    "4. Besoins",
    "5. Cas d'usage et parcours client",
    "6. Exigences fonctionnelles",
    "7. Exigences non fonctionnelles",
    "8. Données et stockage",
    "9. Diagnostic de l'existant",
    "10. Budget",
    "11. Planning et échéances",
    "12. Méthodologie et rôles",
]


@pytest.fixture
def fr_project(store: Store) -> str:
    return build_french_project(store)


# -- Markdown ---------------------------------------------------------------------------------------------------


def test_markdown_has_title_contents_parts_and_glossary(store, fr_project):
    """The Markdown file holds the title block, the table of contents linking to each part, and the glossary."""
    text = export_markdown(store, fr_project)
    assert text.startswith("# Cahier des charges CRM — CRM Novelia 2027\n")
    for title in SECTION_TITLES_FR:
        assert f"\n## {title}\n" in text
    assert "- [3. Objectifs](#3-objectifs)" in text
    assert "| RGPD | Règlement général sur la protection des données |" in text


def test_markdown_neutralises_raw_html_a_reviewer_typed(store, fr_project):
    """Raw HTML pasted into a reviewed section is shown as text in the Markdown export."""
    workflow.edit_section(
        store,
        fr_project,
        SectionId.DATA,
        "Voir <img src=x onerror=alert(1)> ici.\n\n<div>bloc</div>\n",
        author="alice",
        expected_version=0,
    )
    text = export_markdown(store, fr_project)
    assert "Voir \\<img src=x onerror=alert(1)> ici." in text
    assert "\\<div>bloc\\</div>" in text


# -- DOCX ---------------------------------------------------------------------------------------------------------


def _docx(store: Store, project_id: str) -> docx.document.Document:
    return docx.Document(io.BytesIO(export_docx(store, project_id)))


def test_docx_uses_heading_styles_toc_field_and_page_numbers(store, fr_project):
    """Parts are "Heading 1" (Word's navigation pane and TOC read them), with a TOC field and a PAGE footer."""
    document = _docx(store, fr_project)
    headings = [p.text for p in document.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Synthèse", *SECTION_TITLES_FR, "Glossaire", "Approbation des parties"]
    assert "OBJ-001 — Augmenter le taux de transformation des devis" in [
        p.text for p in document.paragraphs if p.style.name == "Heading 2"
    ]
    assert [p.text for p in document.paragraphs if p.style.name == "Title"] == ["CRM Novelia 2027"]
    body = document.element.body.xml
    assert 'TOC \\o "1-2"' in body
    footer = document.sections[0].footer.paragraphs[0]._p.xml
    assert " PAGE " in footer and " NUMPAGES " in footer
    assert document.settings.element.find(qn("w:updateFields")) is not None
    assert document.core_properties.title == "Cahier des charges CRM — CRM Novelia 2027"


def test_docx_requirement_tables_have_a_repeated_header_row(store, fr_project):
    """Requirement tables start with a bold header row marked to repeat on each page; statements stay text."""
    document = _docx(store, fr_project)
    tables = [t for t in document.tables if t.rows[0].cells[0].text == "ID" and len(t.columns) == 6]
    assert tables, "no requirement table"
    header = tables[0].rows[0]
    assert [c.text for c in header.cells] == [
        "ID",
        "Exigence et critères d'acceptation",
        "Type",
        "Priorité",
        "Horizon",
        "Source",
    ]
    assert header._tr.trPr.find(qn("w:tblHeader")) is not None
    assert all(run.bold for cell in header.cells for run in cell.paragraphs[0].runs)
    rows = {row.cells[0].text: [c.text for c in row.cells] for table in tables for row in table.rows[1:]}
    criterion = "Un export de 10 000 contacts se termine en moins de 30 s."
    assert rows["REQ-006"][1] == f"{HOSTILE_STATEMENT} — Critères d'acceptation : {criterion}"
    assert rows["REQ-006"][3] == "Indispensable (Must)"
    assert rows["REQ-003"][1] == "Les commerciaux doivent consulter l'historique client depuis leur téléphone."


def test_must_requirements_without_acceptance_criteria_are_listed_as_missing(store, fr_project):
    """A Must need with no acceptance criterion is named in what its part still needs; one with criteria is not."""
    text = export_markdown(store, fr_project)
    needs = text[text.index("## 4. Besoins") : text.index("## 5.")]
    functional = text[text.index("## 6. Exigences fonctionnelles") : text.index("## 7.")]
    assert "les critères d'acceptation des exigences indispensables REQ-003" in needs
    assert "critères d'acceptation des exigences indispensables" not in functional  # REQ-006 has its criterion


def _approve(store: Store, project_id: str, section: SectionId, author: str) -> None:
    version = workflow.section_view(store, project_id, section).version
    workflow.approve_section(store, project_id, section, author=author, expected_version=version)


def test_docx_approval_page_names_who_approved_each_part_and_when(store, fr_project):
    """The approval page lists every part with its state, and for an approved part its approver and the day; a
    part edited after its approval shows no approver; the sign-off table lists the people interviewed."""
    _approve(store, fr_project, SectionId.OBJECTIVES, "Alice Martin")
    _approve(store, fr_project, SectionId.BUDGET, "Bruno Leroy")
    workflow.edit_section(
        store,
        fr_project,
        SectionId.BUDGET,
        "Budget revu.\n",
        author="Bruno Leroy",
        expected_version=workflow.section_view(store, fr_project, SectionId.BUDGET).version,
    )
    document = _docx(store, fr_project)
    approvals = next(t for t in document.tables if t.rows[0].cells[0].text == "Partie")
    rows = {row.cells[0].text: [c.text for c in row.cells[1:]] for row in approvals.rows[1:]}
    assert list(rows) == SECTION_TITLES_FR
    assert rows["3. Objectifs"][:2] == ["Approuvée", "Alice Martin"]
    assert rows["3. Objectifs"][2] != "—"
    assert rows["10. Budget"] == ["Modifiée", "—", "—"]
    assert rows["1. Présentation de l'entreprise"] == ["Générée", "—", "—"]
    signatures = next(t for t in document.tables if t.rows[0].cells[0].text == "Nom")
    assert [[c.text for c in row.cells] for row in signatures.rows[1:]] == [
        ["Alice Martin", "Directrice commerciale", "", ""],
        ["Bruno Leroy", "DSI", "", ""],
    ]
    assert signatures.rows[1].height is not None and signatures.rows[1].height.cm >= 1
    assert "Visa des parties prenantes" in [p.text for p in document.paragraphs if p.style.name == "Heading 2"]
    markdown = export_markdown(store, fr_project)
    assert "\n## Approbation des parties\n" in markdown and "| 3. Objectifs | Approuvée | Alice Martin |" in markdown
    assert "- [Approbation des parties](#approbation-des-parties)" in markdown


def test_docx_follows_the_reviewed_text(store, fr_project):
    """An edited section is exported as the reviewer wrote it, Markdown emphasis included."""
    workflow.edit_section(
        store, fr_project, SectionId.DATA, "Les données sont **confidentielles**.\n", author="a", expected_version=0
    )
    document = _docx(store, fr_project)
    paragraph = next(p for p in document.paragraphs if p.text == "Les données sont confidentielles.")
    assert [run.text for run in paragraph.runs if run.bold] == ["confidentielles"]


# -- PDF ----------------------------------------------------------------------------------------------------------


def test_pdf_has_contents_bookmarks_and_literal_text(store, fr_project):
    """The PDF has a title page, a filled table of contents, a bookmark per part, and statements as plain text."""
    reader = PdfReader(io.BytesIO(export_pdf(store, fr_project)))
    assert reader.metadata.title == "Cahier des charges CRM — CRM Novelia 2027"
    assert len(reader.pages) >= 4
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "CRM Novelia 2027" in reader.pages[0].extract_text()
    assert "Sommaire" in text and "Page 2 sur" in text
    assert "<script>alert('x')</script>" in text and "[lien](http://x)" in text
    bookmarks = [item.title for item in reader.outline if not isinstance(item, list)]
    for title in SECTION_TITLES_FR:
        assert title in bookmarks
    assert not any(
        "/URI" in str(annotation.get_object()) for page in reader.pages for annotation in page.get("/Annots") or []
    )  # the statement's "link" is not a link


def test_pdf_ends_with_the_approval_page(store, fr_project):
    """The PDF's last page is the approval page, with its bookmark and the people who sign off."""
    _approve(store, fr_project, SectionId.OBJECTIVES, "Alice Martin")
    reader = PdfReader(io.BytesIO(export_pdf(store, fr_project)))
    last = reader.pages[-1].extract_text()
    assert "Approbation des parties" in last and "Visa des parties prenantes" in last
    assert "Alice Martin" in last and "Directrice commerciale" in last and "3. Objectifs" in last
    assert "Approbation des parties" in [item.title for item in reader.outline if not isinstance(item, list)]


def test_summary_export_is_one_page_of_its_own(store, fr_project):
    """The summary export is the document's summary alone on one page: project, company, the Must needs, budget."""
    reader = PdfReader(io.BytesIO(export_summary_pdf(store, fr_project)))
    assert len(reader.pages) == 1
    text = reader.pages[0].extract_text()
    assert "CRM Novelia 2027" in text and "SYNTHÈSE" in text
    assert "REQ-003" in text and "REQ-006" in text  # the Must needs
    assert "Sommaire" not in text and "Glossaire" not in text
    markdown = export_markdown(store, fr_project)
    summary = markdown[markdown.index("## Synthèse") : markdown.index("## 1.")]
    for line in ("Objectifs", "Besoins indispensables"):
        assert (line in summary) == (line in text)


def test_pdf_in_english(store):
    """The English project's PDF speaks English."""
    project_id = build_english_project(store)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(export_pdf(store, project_id))).pages)
    assert "Contents" in text and "1. Company presentation" in text and "Q3 2027" in text


# -- ReqIF --------------------------------------------------------------------------------------------------------


def test_reqif_parses_back_with_ids_and_texts(store, fr_project):
    """The `reqif` package reads every requirement back with its id, exact text and attributes, under its section."""
    bundle = ReqIFParser.parse_from_string(export_reqif(store, fr_project).decode("utf-8"))
    assert bundle.exceptions == []
    definitions = {
        definition.identifier: definition.long_name
        for spec_type in bundle.core_content.req_if_content.spec_types
        for definition in getattr(spec_type, "attribute_definitions", None) or []
    }
    exported = {}
    for spec_object in bundle.core_content.req_if_content.spec_objects:
        values = {definitions[ref]: attribute.value for ref, attribute in spec_object.attribute_map.items()}
        if "ReqIF.ForeignID" in values:
            exported[values["ReqIF.ForeignID"]] = values
    stored = {r.id: r for r in store.list_objects(fr_project, Requirement)}
    assert set(exported) == set(stored)
    for requirement_id, requirement in stored.items():
        assert exported[requirement_id]["ReqIF.Text"] == requirement.statement
    assert exported["REQ-006"]["MoSCoW"] == "must" and exported["REQ-006"]["SourceTurns"] == "2, 4"
    assert exported["REQ-009"]["Category"] == "privacy" and exported["REQ-009"]["Provenance"] == "inferred"

    specification = bundle.core_content.req_if_content.specifications[0]
    chapters = specification.children
    assert len(chapters) == len(SectionId)
    functional = chapters[list(SectionId).index(SectionId.FUNCTIONAL)]
    assert [child.spec_object.rsplit("-", 2)[-2:] for child in functional.children] == [
        ["REQ", "006"],
        ["REQ", "007"],
        ["REQ", "008"],
    ]


def test_reqif_is_valid_against_the_reqif_schema(store, fr_project, tmp_path):
    """The file validates against the ReqIF 1.2 XSD shipped with the `reqif` package, and escapes markup."""
    import reqif

    data = export_reqif(store, fr_project, now=datetime(2026, 3, 2, tzinfo=UTC))
    assert b"&lt;script&gt;" in data and b"<script>" not in data
    schema = xmlschema.XMLSchema(str(Path(reqif.__file__).parent / "reqif_schema" / "reqif.xsd"))
    schema.validate(io.BytesIO(data))


# -- CSV ----------------------------------------------------------------------------------------------------------


def test_csv_reads_back_for_jira(store, fr_project):
    """One row per kept requirement with Jira's columns, MoSCoW as priority and one label per Labels column."""
    rows = list(csv.reader(io.StringIO(export_csv(store, fr_project))))
    header, body = rows[0], rows[1:]
    assert header[:4] == ["Summary", "Description", "Issue Type", "Priority"]
    assert set(header[4:]) == {"Labels"}
    kept = [r for r in store.list_objects(fr_project, Requirement) if r.status is not RequirementStatus.REJECTED]
    assert [row[0].split(" ", 1)[0] for row in body] == [r.id for r in kept]
    by_id = {row[0].split(" ", 1)[0]: row for row in body}
    assert by_id["REQ-006"][3] == "Highest" and by_id["REQ-007"][3] == "Medium" and by_id["REQ-004"][3] == "High"
    assert by_id["REQ-006"][1].startswith(HOSTILE_STATEMENT)
    assert "nfr-privacy" in by_id["REQ-009"][4:] and all(" " not in label for label in by_id["REQ-009"][4:])


def test_csv_neutralises_formulas(store, fr_project):
    """A cell that a spreadsheet would evaluate starts with an apostrophe; other cells are untouched."""
    body = list(csv.reader(io.StringIO(export_csv(store, fr_project))))[1:]
    description = next(row[1] for row in body if row[0].startswith("REQ-007"))
    assert description.startswith("'" + FORMULA_STATEMENT)
    for value in ("=1+1", "+33 6", "-2", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise_formula(value) == "'" + value
    assert neutralise_formula("Le CRM =") == "Le CRM ="
    cells = [cell for row in body for cell in row]
    assert not [cell for cell in cells if cell[:1] in ("=", "+", "-", "@", "\t", "\r")]


# -- Vendor response grid (XLSX) ---------------------------------------------------------------------------------

VENDOR_ANSWERS_FR = ["Standard", "Paramétrage", "Développement spécifique", "Solution tierce", "Non couvert"]


def _grid(data: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(data))


def test_xlsx_grid_has_one_row_per_requirement_vendors_answer(store, fr_project):
    """The grid sheet comes first, with the documented columns, one row per kept requirement in document order
    (the rejected one is left out), the template's labels, and the vendor's columns empty."""
    workbook = _grid(export_xlsx(store, fr_project))
    assert workbook.sheetnames == ["Grille de réponse", "Mode d'emploi"]
    sheet = workbook["Grille de réponse"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0] == (
        "ID",
        "Partie",
        "Exigence",
        "Type",
        "Priorité",
        "Horizon",
        "Critères d'acceptation",
        "Couverture",
        "Commentaire du fournisseur",
        "Coût HT",
    )
    assert len(rows[0]) == len(COLUMNS)
    assert [row[0] for row in rows[1:]] == [f"REQ-00{n}" for n in (1, 2, 3, 4, 5, 6, 7, 9)]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["REQ-003"][1:6] == (
        "4. Besoins",
        "Les commerciaux doivent consulter l'historique client depuis leur téléphone.",
        "Fonctionnelle",
        "Indispensable (Must)",
        "Court terme",
    )
    assert by_id["REQ-009"][3] == "Protection des données"
    assert by_id["REQ-006"][6] == "• Un export de 10 000 contacts se termine en moins de 30 s."
    assert all(row[7:] == (None, None, None) for row in rows[1:])


def test_xlsx_grid_is_ready_for_vendors(store, fr_project):
    """Header and ids stay in view, the coverage column only takes the five agreed answers (with a prompt and an
    error message), long cells wrap, and the guide sheet explains every column."""
    workbook = _grid(export_xlsx(store, fr_project))
    sheet = workbook.worksheets[0]
    assert sheet.freeze_panes == "B2"
    assert sheet.auto_filter.ref == "A1:J9"
    [validation] = sheet.data_validations.dataValidation
    assert validation.type == "list" and validation.showErrorMessage
    assert validation.formula1 == '"' + ",".join(VENDOR_ANSWERS_FR) + '"'
    assert str(validation.sqref) == "H2:H5000"
    assert validation.prompt and validation.error and validation.errorTitle
    assert sheet["C2"].alignment.wrap_text
    guide = list(workbook["Mode d'emploi"].iter_rows(values_only=True))
    assert guide[0][0].startswith("Grille de réponse — ")
    described = {row[0]: row[1] for row in guide[4:]}
    assert list(described) == [cell.value for cell in sheet[1]]
    assert all(described.values())


def test_xlsx_grid_keeps_formulas_as_text(store, fr_project):
    """A statement that starts with "=" is stored as text: a spreadsheet shows it and never runs it."""
    sheet = _grid(export_xlsx(store, fr_project)).worksheets[0]
    [cell] = [row[2] for row in sheet.iter_rows(min_row=2) if row[0].value == "REQ-007"]
    assert cell.value == FORMULA_STATEMENT and cell.data_type == "s"
    assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_xlsx_grid_in_english(store):
    project_id = build_english_project(store)
    workbook = _grid(export_xlsx(store, project_id))
    assert workbook.sheetnames == ["Response grid", "How to answer"]
    sheet = workbook.worksheets[0]
    assert [cell.value for cell in sheet[1]][:3] == ["ID", "Section", "Requirement"]
    answers = sheet.data_validations.dataValidation[0].formula1.strip('"').split(",")
    assert answers == ["Standard", "Configuration", "Custom development", "Third party", "Not covered"]
    assert sheet["A2"].value == "REQ-001" and sheet["B2"].value == "1. Company presentation"


# -- JSON -------------------------------------------------------------------------------------------------------


def test_json_round_trip_keeps_draft_versions(store, fr_project, tmp_path):
    """A project with generated, edited and proposed section versions exports and imports back identically."""
    workflow.regenerate(store, fr_project)
    view = workflow.section_view(store, fr_project, SectionId.BUDGET)
    workflow.edit_section(
        store, fr_project, SectionId.BUDGET, "Budget revu.\n", author="alice", expected_version=view.version
    )
    extra = Constraint(id=store.new_id(fr_project, Constraint), kind="budget", statement="Licences : 20 k€ HT par an.")
    store.save_object(fr_project, extra, changed_by="cahier")
    workflow.regenerate(store, fr_project)  # the budget was edited, then the objects changed: a proposal is stored
    before = store.export_rows(fr_project)
    path = tmp_path / "project.json"
    path.write_text(export_project(store, fr_project), encoding="utf-8")
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    assert import_project(other, path) == fr_project
    assert other.export_rows(fr_project) == before
    assert workflow.section_view(other, fr_project, SectionId.BUDGET).changes_available
    other.close()


# -- CLI --------------------------------------------------------------------------------------------------------


@pytest.fixture
def cli_store(tmp_path, monkeypatch) -> tuple[Store, str]:
    monkeypatch.setenv("CAHIER_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.chdir(tmp_path)
    store = Store(f"sqlite:///{tmp_path / 'data' / 'cahier.db'}")
    return store, build_french_project(store)


def test_cli_exports_every_format(cli_store, tmp_path):
    """`cahier export` writes each format; docx and pdf default to a file named after the project."""
    store, project_id = cli_store
    runner = CliRunner()
    markdown = runner.invoke(app, ["export", project_id, "--format", "md"])
    assert markdown.exit_code == 0, markdown.output
    assert "## 10. Budget" in markdown.output
    for fmt in ("docx", "pdf", "xlsx"):
        result = runner.invoke(app, ["export", project_id, "--format", fmt])
        assert result.exit_code == 0, result.output
        assert (tmp_path / f"{project_id}.{fmt}").stat().st_size > 5_000
    result = runner.invoke(app, ["export", project_id, "--format", "summary"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / f"{project_id}-summary.pdf").read_bytes().startswith(b"%PDF")
    for fmt in ("reqif", "csv", "json"):
        out = tmp_path / f"out.{fmt}"
        result = runner.invoke(app, ["export", project_id, "--format", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
    assert list(csv.reader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"), newline="")))[0][0] == (
        "Summary"
    )
    assert ReqIFParser.parse(str(tmp_path / "out.reqif")).exceptions == []


def test_cli_draft_regenerates_and_shows_states(cli_store):
    """`cahier draft` stores the generated sections and prints each one's state."""
    store, project_id = cli_store
    result = CliRunner().invoke(app, ["draft", project_id])
    assert result.exit_code == 0, result.output
    assert "6. Exigences fonctionnelles" in result.output and "created" in result.output
    assert len(store.section_history(project_id, SectionId.FUNCTIONAL)) == 1


def test_every_export_survives_unusual_characters(store, fr_project):
    """Emoji, CJK, a form feed and a NUL-free control character do not stop any export (XML forbids some)."""
    statement = "Le CRM doit accepter les noms 客户, les emoji 🙂 et un saut de page \x0c collé."
    store.save_object(fr_project, Requirement(id="REQ-050", statement=statement), changed_by="test")
    assert "客户" in export_markdown(store, fr_project)
    document = docx.Document(io.BytesIO(export_docx(store, fr_project)))
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    assert "Le CRM doit accepter les noms 客户, les emoji 🙂 et un saut de page collé." in cells
    assert export_pdf(store, fr_project).startswith(b"%PDF")
    assert "\x0c" not in export_reqif(store, fr_project).decode("utf-8")
    assert "客户" in export_csv(store, fr_project)
    grid = _grid(export_xlsx(store, fr_project)).worksheets[0]
    assert "Le CRM doit accepter les noms 客户, les emoji 🙂 et un saut de page  collé." in [c.value for c in grid["C"]]
