"""Draft assembly and review: deterministic sections in French and English, and a reviewer's words never lost.

Snapshots: the assembled French and English documents are compared with `tests/unit/snapshots/draft_*.md`.
After an intended change of wording or layout, refresh them with

    UPDATE_SNAPSHOTS=1 .venv/bin/python -m pytest tests/unit/test_draft.py

and review the diff of the snapshot files like any other change.
"""

from __future__ import annotations

import os
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
import yaml
from markdown_it import MarkdownIt

from assistant.draft import workflow
from assistant.draft.markup import escape
from assistant.draft.template import TEMPLATE_DIR, DraftTemplateError, load_template, template_for
from assistant.errors import InputError, NotFoundError, StaleWriteError
from assistant.export.document import build_document, glossary
from assistant.export.markdown import export_markdown
from assistant.i18n.formats import format_date_value, format_money
from assistant.schemas import (
    DatePrecision,
    DateValue,
    Fact,
    Money,
    MoSCoW,
    OpenQuestion,
    Requirement,
    SectionId,
    SectionState,
    TaxBasis,
)
from assistant.store import Store
from tests.unit.sample_projects import HOSTILE_STATEMENT, build_english_project, build_french_project

SNAPSHOTS = Path(__file__).with_name("snapshots")
TODAY = date(2026, 3, 2)


def assert_snapshot(name: str, text: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path.name}; create it with UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed; if intended, rerun with UPDATE_SNAPSHOTS=1"


@pytest.fixture
def fr_project(store: Store) -> str:
    return build_french_project(store)


@pytest.fixture
def en_project(store: Store) -> str:
    return build_english_project(store)


def _add_requirement(store: Store, project_id: str, statement: str, section: SectionId = SectionId.FUNCTIONAL) -> str:
    requirement = Requirement(id=store.new_id(project_id, Requirement), statement=statement, section=section)
    store.save_object(project_id, requirement, changed_by="test")
    return requirement.id


# -- assembly -------------------------------------------------------------------------------------------------


def test_french_document_matches_snapshot(store, fr_project):
    """The French document (title block, revisions, contents, twelve parts, glossary) is exactly the reviewed one."""
    assert_snapshot("draft_fr.md", export_markdown(store, fr_project, today=TODAY))


def test_english_document_matches_snapshot(store, en_project):
    """The English document uses English headings, labels, amounts and quarters."""
    assert_snapshot("draft_en.md", export_markdown(store, en_project, today=TODAY))


def test_assemble_is_deterministic_and_in_section_order(store, fr_project):
    """Two assemblies of the same objects are identical, so a regeneration that changed nothing is recognised."""
    first = workflow.assemble(store, fr_project)
    assert list(first) == list(SectionId)
    assert first == workflow.assemble(store, fr_project)
    assert all(text.endswith("\n") and text.strip() for text in first.values())


def test_french_labels_amounts_and_dates(store, fr_project):
    """Enum labels, babel-formatted amounts with HT/TTC, and dates at their precision are written in French."""
    sections = workflow.assemble(store, fr_project)
    assert "Indispensable (Must)" in sections[SectionId.FUNCTIONAL]
    assert "80\u202f000\xa0€ HT" in sections[SectionId.BUDGET]
    assert "12\u202f500,50\xa0€ (HT ou TTC à préciser)" in sections[SectionId.BUDGET]
    assert "| T2 2027 |" in sections[SectionId.TIMELINE]
    assert "31 décembre 2027" in sections[SectionId.OBJECTIVES]
    assert "Protection des données" in sections[SectionId.NON_FUNCTIONAL]


def test_english_labels_amounts_and_dates(store, en_project):
    """The same objects in an English project give English labels, £ amounts with VAT basis, and "Q3 2027"."""
    sections = workflow.assemble(store, en_project)
    assert "Must have" in sections[SectionId.FUNCTIONAL]
    assert "£50,000 incl. VAT" in sections[SectionId.BUDGET]
    assert "| Q3 2027 |" in sections[SectionId.TIMELINE]
    assert "Security" in sections[SectionId.NON_FUNCTIONAL]


def test_missing_information_is_spelled_out(store, fr_project, en_project):
    """Empty sections and incomplete objects say what is still needed, in the project's language."""
    fr = workflow.assemble(store, fr_project)
    assert "**À compléter :** les données détenues" in fr[SectionId.DATA]
    assert "les critères SMART de OBJ-002 (valeur actuelle, échéance, responsable)" in fr[SectionId.OBJECTIVES]
    assert "le régime HT ou TTC de CON-002" in fr[SectionId.BUDGET]
    assert "les étapes du cas d'usage UC-002" in fr[SectionId.USE_CASES]
    assert "l'horizon (court, moyen ou long terme) de REQ-005" in fr[SectionId.NEEDS]
    assert "À compléter" not in fr[SectionId.FUNCTIONAL]
    en = workflow.assemble(store, en_project)
    assert "**Still needed:** why the project starts now" in en[SectionId.CONTEXT]


def test_objects_land_in_their_sections(store, fr_project):
    """Constraints, risks, open questions and conflicts are listed where a reader looks for them."""
    sections = workflow.assemble(store, fr_project)
    assert "CON-004" in sections[SectionId.DIAGNOSIS]  # a technical constraint: the existing ERP
    assert "RSK-001" in sections[SectionId.METHODOLOGY]
    assert "Q-001" in sections[SectionId.DATA]
    assert "CNF-001" in sections[SectionId.NEEDS] and "Bruno Leroy" in sections[SectionId.NEEDS]
    assert "REQ-008" in sections[SectionId.FUNCTIONAL].split("Exigences écartées")[1]  # rejected, listed apart
    assert "1. Ouvrir la fiche du compte" in sections[SectionId.USE_CASES]
    assert "(REQ-001)." in sections[SectionId.COMPANY]  # prose, not a table


def test_the_document_opens_with_a_summary_of_goals_musts_budget_dates_and_open_points(store, fr_project):
    """The summary before part 1 lists the objectives with their targets, only the Must needs that are kept, the
    budget amounts, the dated milestones and how much is still open, each with the id that leads to its detail."""
    summary = build_document(store, fr_project, today=TODAY).sections[0]
    assert (summary.title, summary.section) == ("Synthèse", None)
    parts = dict(part.split("\n\n", 1) for part in summary.body.split("### ")[1:])
    assert list(parts) == ["Objectifs", "Besoins indispensables", "Budget", "Dates clés", "Points ouverts"]
    assert "- **OBJ-001** — Augmenter le taux de transformation des devis (cible : 25 %)" in parts["Objectifs"]
    musts = [line.split("**")[1] for line in parts["Besoins indispensables"].strip().splitlines()]
    assert musts == ["REQ-003", "REQ-006", "REQ-009"]  # not the Should, Could, rejected Won't or company facts
    assert "- **CON-001** — Budget de la première année : 80\u202f000\xa0€ HT" in parts["Budget"]
    assert parts["Dates clés"].strip() == "- **CON-003** — Mise en production : T2 2027"
    assert parts["Points ouverts"].strip().splitlines() == [
        "- 1 question ouverte",
        "- 1 point à arbitrer entre les parties prenantes",
    ]


def test_an_empty_project_summary_says_what_is_not_known_yet(store):
    project = store.create_project("Vide", language="en")
    body = build_document(store, project.id, today=TODAY).sections[0].body
    assert body.count("*None yet.*") == 2
    assert "*The budget is not set yet.*" in body and "*No date is set yet.*" in body and "*Nothing is open.*" in body


def test_facts_are_prose_that_says_who_told_them(store, fr_project):
    """What stakeholders told about their data fills that section in their own words: the facts of one turn make
    one paragraph, followed by its speaker and turn, and the section no longer says it lacks its content. The
    company's facts follow its introduction."""
    alice, bruno = store.list_stakeholders(fr_project)
    told = [
        (SectionId.DATA, "Nous avons environ 12 000 fiches clients dans l'ERP", 2, alice),
        (SectionId.DATA, "Les doublons sont nombreux !", 2, alice),
        (SectionId.DATA, "Les données sont hébergées chez OVH", 3, bruno),
        (SectionId.COMPANY, "Nous avons deux entrepôts, à Lyon et à Gand.", 1, alice),
    ]
    for number, (section, text, turn, person) in enumerate(told, start=1):
        fact = Fact(
            id=f"FCT-{number:03d}", section=section, text=text, source_turn_ids=[turn], stakeholder_ids=[person.id]
        )
        store.save_object(fr_project, fact, changed_by="test")
    sections = workflow.assemble(store, fr_project)
    paragraphs = sections[SectionId.DATA].split("\n\n")
    assert paragraphs[:2] == [
        "Nous avons environ 12 000 fiches clients dans l'ERP. Les doublons sont nombreux ! "
        "*— Alice Martin, Directrice commerciale, T2*",
        "Les données sont hébergées chez OVH. *— Bruno Leroy, DSI, T3*",
    ]
    assert "les données détenues, leurs volumes" not in sections[SectionId.DATA]
    company = sections[SectionId.COMPANY].split("\n\n")
    assert company[1] == "Nous avons deux entrepôts, à Lyon et à Gand. *— Alice Martin, Directrice commerciale, T1*"


def test_hostile_statement_stays_text_in_markdown(store, fr_project):
    """A statement with `|`, `*`, `<script>`, `&` and a link renders as those characters, even with HTML enabled."""
    functional = workflow.assemble(store, fr_project)[SectionId.FUNCTIONAL]
    viewer = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = viewer.parse(functional)
    assert not [t for t in tokens if t.type == "html_block"]
    cells = [tokens[i + 1] for i, t in enumerate(tokens) if t.type == "td_open"]
    row = next(index for index, cell in enumerate(cells) if cell.content == "REQ-006")
    statement = cells[row + 1]
    # no HTML, link or emphasis from the statement; the emphasis is the label of the acceptance criteria after it
    assert [child.type for child in statement.children] == ["text", "em_open", "text", "em_close", "text"]
    assert statement.children[0].content == f"{HOSTILE_STATEMENT} — "
    assert statement.children[2].content == "Critères d'acceptation"
    assert cells[row + 3].children[0].content == "Indispensable (Must)"  # the pipe did not shift the columns
    html = viewer.render(functional)
    assert "<script>" not in html and "&lt;script&gt;alert" in html


def test_escape_neutralises_block_starts():
    """Text that would start a heading, list or quote stays a plain line."""
    for text in ("# titre", "- item", "+ item", "> quote", "2027. budget", "=SUM(A1)"):
        rendered = MarkdownIt("commonmark").render(escape(text))
        assert rendered == f"<p>{text.replace('>', '&gt;')}</p>\n", text


def test_unknown_project_is_not_found(store):
    """Assembling a project that does not exist is a `NotFoundError`, not an empty draft."""
    with pytest.raises(NotFoundError):
        workflow.assemble(store, "nope")


# -- review rules ---------------------------------------------------------------------------------------------


def test_regenerate_stores_generated_versions_once(store, fr_project):
    """The first regeneration stores every section; a second one with the same objects writes nothing."""
    first = workflow.regenerate(store, fr_project)
    assert set(first.values()) == {workflow.Outcome.CREATED}
    assert set(workflow.regenerate(store, fr_project).values()) == {workflow.Outcome.UNCHANGED}
    assert len(store.section_history(fr_project, SectionId.BUDGET)) == 1


def test_generated_section_follows_the_objects(store, fr_project):
    """A section nobody touched is rewritten when the objects change: no proposal, just a new generated version."""
    workflow.regenerate(store, fr_project)
    _add_requirement(store, fr_project, "Le CRM doit envoyer un rappel la veille de chaque rendez-vous.")
    outcomes = workflow.regenerate(store, fr_project)
    assert outcomes[SectionId.FUNCTIONAL] is workflow.Outcome.UPDATED
    view = workflow.section_view(store, fr_project, SectionId.FUNCTIONAL)
    assert view.state is SectionState.GENERATED and not view.changes_available
    assert "rappel la veille" in view.text
    assert store.section_history(fr_project, SectionId.FUNCTIONAL)[-1].state is SectionState.GENERATED


def test_edit_then_regenerate_makes_a_proposal_and_keeps_the_edit(store, fr_project):
    """After an edit, new objects become a pending proposal with a diff; the reviewer's text stays as written."""
    workflow.regenerate(store, fr_project)
    view = workflow.section_view(store, fr_project, SectionId.FUNCTIONAL)
    edited = view.text.replace("Justifications", "Justifications détaillées")
    workflow.edit_section(
        store, fr_project, SectionId.FUNCTIONAL, edited, author="alice", expected_version=view.version
    )
    new_id = _add_requirement(store, fr_project, "Le CRM doit envoyer un rappel la veille de chaque rendez-vous.")

    assert workflow.regenerate(store, fr_project)[SectionId.FUNCTIONAL] is workflow.Outcome.PROPOSED
    view = workflow.section_view(store, fr_project, SectionId.FUNCTIONAL)
    assert view.state is SectionState.EDITED
    assert view.text == edited
    assert view.changes_available and new_id in view.proposal.text
    assert f"+| {new_id} |" in view.diff and "-### Justifications détaillées" in view.diff
    assert (
        workflow.regenerate(store, fr_project)[SectionId.FUNCTIONAL] is workflow.Outcome.UNCHANGED
    )  # not proposed twice
    [functional] = [s for s in build_document(store, fr_project).sections if s.section is SectionId.FUNCTIONAL]
    assert functional.body == edited  # exports show the reviewed text


def test_accept_proposal_hands_the_section_back_to_the_generator(store, fr_project):
    """Accepting stores the proposal as a generated version; later object changes update it directly."""
    workflow.regenerate(store, fr_project)
    view = workflow.section_view(store, fr_project, SectionId.BUDGET)
    workflow.edit_section(
        store, fr_project, SectionId.BUDGET, view.text + "\nNote.\n", author="alice", expected_version=view.version
    )
    _add_requirement(store, fr_project, "Le budget doit couvrir la formation des utilisateurs.", SectionId.BUDGET)
    workflow.regenerate(store, fr_project)
    proposal = workflow.section_view(store, fr_project, SectionId.BUDGET).proposal

    accepted = workflow.accept_proposal(store, fr_project, SectionId.BUDGET, author="alice")
    assert accepted.state is SectionState.GENERATED and accepted.author == "alice"
    view = workflow.section_view(store, fr_project, SectionId.BUDGET)
    assert view.text == proposal.text and not view.changes_available
    assert workflow.history(store, fr_project, SectionId.BUDGET)[-1].event == "accepted"
    with pytest.raises(InputError, match="no pending proposal"):
        workflow.accept_proposal(store, fr_project, SectionId.BUDGET, author="alice")


def test_dismiss_proposal_keeps_the_text_and_is_not_offered_again(store, fr_project):
    """Dismissing withdraws the proposal; the same generation is not proposed again, a new change is."""
    workflow.regenerate(store, fr_project)
    view = workflow.section_view(store, fr_project, SectionId.DATA)
    mine = "Les données sont décrites dans l'annexe B.\n"
    workflow.edit_section(store, fr_project, SectionId.DATA, mine, author="alice", expected_version=view.version)
    _add_requirement(store, fr_project, "Le CRM doit conserver 5 ans d'historique des commandes.", SectionId.DATA)
    workflow.regenerate(store, fr_project)

    dismissal = workflow.dismiss_proposal(store, fr_project, SectionId.DATA, author="bob")
    assert dismissal.state is SectionState.PROPOSED and dismissal.text == ""
    view = workflow.section_view(store, fr_project, SectionId.DATA)
    assert view.text == mine and view.state is SectionState.EDITED and not view.changes_available
    assert workflow.history(store, fr_project, SectionId.DATA)[-1].event == "dismissed"
    assert workflow.regenerate(store, fr_project)[SectionId.DATA] is workflow.Outcome.UNCHANGED

    _add_requirement(store, fr_project, "Le CRM doit chiffrer les sauvegardes.", SectionId.DATA)
    assert workflow.regenerate(store, fr_project)[SectionId.DATA] is workflow.Outcome.PROPOSED


def test_proposal_is_withdrawn_when_objects_match_the_reviewed_text(store, fr_project):
    """When the reviewed text already says what the objects say, a pending proposal has nothing left to offer."""
    workflow.regenerate(store, fr_project)
    view = workflow.section_view(store, fr_project, SectionId.DIAGNOSIS)
    workflow.edit_section(
        store,
        fr_project,
        SectionId.DIAGNOSIS,
        "Outils actuels : Excel.\n",
        author="alice",
        expected_version=view.version,
    )
    question = OpenQuestion(
        id=store.new_id(fr_project, OpenQuestion), question="Qui maintient le fichier Excel ?", section="diagnosis"
    )
    store.save_object(fr_project, question, changed_by="cahier")  # a new answer changes the generated text
    workflow.regenerate(store, fr_project)
    proposal = workflow.section_view(store, fr_project, SectionId.DIAGNOSIS).proposal
    assert proposal is not None and "Qui maintient le fichier Excel" in proposal.text
    view = workflow.section_view(store, fr_project, SectionId.DIAGNOSIS)
    workflow.edit_section(
        store, fr_project, SectionId.DIAGNOSIS, proposal.text, author="alice", expected_version=view.version
    )
    assert workflow.section_view(store, fr_project, SectionId.DIAGNOSIS).changes_available  # an edit does not answer it
    assert workflow.regenerate(store, fr_project)[SectionId.DIAGNOSIS] is workflow.Outcome.WITHDRAWN
    assert not workflow.section_view(store, fr_project, SectionId.DIAGNOSIS).changes_available


def test_approve_then_edit_returns_to_edited(store, fr_project):
    """Approval covers a text: editing an approved section makes it `edited`; saving it unchanged keeps approval."""
    view = workflow.section_view(store, fr_project, SectionId.COMPANY)
    approved = workflow.approve_section(store, fr_project, SectionId.COMPANY, author="carol", expected_version=0)
    assert approved.state is SectionState.APPROVED and approved.text == view.text
    same = workflow.edit_section(store, fr_project, SectionId.COMPANY, view.text, author="carol", expected_version=1)
    assert same.version == 1 and same.state is SectionState.APPROVED
    edited = workflow.edit_section(
        store, fr_project, SectionId.COMPANY, view.text + "\nAjout.\n", author="dan", expected_version=1
    )
    assert edited.state is SectionState.EDITED and edited.version == 2
    assert workflow.section_view(store, fr_project, SectionId.COMPANY).state is SectionState.EDITED


def test_approved_section_is_never_overwritten(store, fr_project):
    """A change of objects after approval is a proposal; the approved text and state stay."""
    text = workflow.section_view(store, fr_project, SectionId.CONTEXT).text
    workflow.approve_section(store, fr_project, SectionId.CONTEXT, author="carol", expected_version=0)
    _add_requirement(store, fr_project, "La direction a validé le projet en janvier 2026.", SectionId.CONTEXT)
    assert workflow.regenerate(store, fr_project)[SectionId.CONTEXT] is workflow.Outcome.PROPOSED
    view = workflow.section_view(store, fr_project, SectionId.CONTEXT)
    assert view.state is SectionState.APPROVED and view.text == text and view.changes_available
    assert build_document(store, fr_project).status == "1 partie approuvée sur 12"


def test_restore_version_brings_back_an_old_text_as_edited(store, fr_project):
    """Restoring copies an earlier version's text into a new `edited` version; history keeps every step."""
    workflow.regenerate(store, fr_project)
    original = workflow.section_view(store, fr_project, SectionId.TIMELINE).text
    workflow.edit_section(
        store, fr_project, SectionId.TIMELINE, "Planning à revoir.\n", author="alice", expected_version=1
    )
    restored = workflow.restore_version(store, fr_project, SectionId.TIMELINE, 1, author="bob")
    assert restored.version == 3 and restored.state is SectionState.EDITED and restored.text == original
    events = [entry.event for entry in workflow.history(store, fr_project, SectionId.TIMELINE)]
    assert events == ["generated", "edited", "restored"]
    assert "Planning à revoir" in workflow.diff_versions(store, fr_project, SectionId.TIMELINE, 2, 3)
    with pytest.raises(InputError, match="no version 9"):
        workflow.restore_version(store, fr_project, SectionId.TIMELINE, 9, author="bob")


def test_stale_writes_are_refused(any_store):
    """Two reviewers read version 1; the second save is refused instead of silently overwriting the first."""
    project_id = build_french_project(any_store)
    workflow.regenerate(any_store, project_id)
    version = workflow.section_view(any_store, project_id, SectionId.NEEDS).version
    workflow.edit_section(any_store, project_id, SectionId.NEEDS, "Alice.\n", author="alice", expected_version=version)
    with pytest.raises(StaleWriteError) as refused:
        workflow.edit_section(any_store, project_id, SectionId.NEEDS, "Bob.\n", author="bob", expected_version=version)
    assert refused.value.actual_version == version + 1
    with pytest.raises(StaleWriteError):
        workflow.approve_section(any_store, project_id, SectionId.NEEDS, author="bob", expected_version=version)
    assert workflow.section_view(any_store, project_id, SectionId.NEEDS).text == "Alice.\n"


def test_edit_limits(store, fr_project):
    """An edit over `MAX_EDIT_CHARS` or a blank one is refused with a readable `InputError`; nothing is stored."""
    with pytest.raises(InputError, match="100,000") as refused:
        workflow.edit_section(
            store, fr_project, SectionId.BUDGET, "x" * (workflow.MAX_EDIT_CHARS + 1), author="a", expected_version=0
        )
    assert refused.value.field == "section text"
    with pytest.raises(InputError, match="empty"):
        workflow.edit_section(store, fr_project, SectionId.BUDGET, " \n ", author="a", expected_version=0)
    assert store.section_history(fr_project, SectionId.BUDGET) == []
    saved = workflow.edit_section(
        store, fr_project, SectionId.BUDGET, "a\r\nb  \r\n\r\n", author="a", expected_version=0
    )
    assert saved.text == "a\nb\n"


# -- templates, values and glossary ---------------------------------------------------------------------------


def test_shipped_templates_label_every_enum_value():
    """Both shipped templates load and label every value of every enum the draft prints."""
    for language in ("fr", "en"):
        template = template_for(language)
        assert template.label(MoSCoW.MUST)
        assert len(template.sections) == len(SectionId)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda raw: raw["content"].update(missing_tax="le régime de {idz}"), "unknown placeholder"),
        (lambda raw: raw["enums"]["moscow"].pop("wont"), "enums"),
        (lambda raw: raw["sections"].pop("budget"), "budget"),
        (lambda raw: raw["document"].pop("toc_title"), "toc_title"),
        (lambda raw: raw["document"]["status_line"].pop("other"), "status_line"),
        (lambda raw: raw["document"]["revisions_older"].update(one="{cont} révision"), "unknown placeholder"),
    ],
)
def test_broken_template_is_refused_with_its_file_and_key(tmp_path, change, message):
    """A typo in a template fails when it is loaded, naming the file, instead of reaching a document."""
    raw = yaml.safe_load((TEMPLATE_DIR / "draft.fr.yaml").read_text(encoding="utf-8"))
    change(raw)
    path = tmp_path / "draft.fr.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DraftTemplateError, match=message) as refused:
        load_template(path)
    assert str(path) in str(refused.value)


@pytest.mark.parametrize(
    ("language", "money", "expected"),
    [
        ("fr", Money(amount=Decimal("80000"), tax_basis=TaxBasis.EXCL_TAX), "80\u202f000\xa0€ HT"),
        ("fr", Money(amount=Decimal("1234.5"), tax_basis=TaxBasis.INCL_TAX), "1\u202f234,50\xa0€ TTC"),
        ("en", Money(amount=Decimal("80000"), tax_basis=TaxBasis.EXCL_TAX), "€80,000 excl. VAT"),
        ("en", Money(amount=Decimal("99.99"), currency="USD", tax_basis=TaxBasis.INCL_TAX), "US$99.99 incl. VAT"),
    ],
)
def test_money_is_written_in_the_project_locale(language, money, expected):
    """Amounts follow the locale's grouping and currency position, whole amounts without cents, with HT/TTC."""
    template = template_for(language)
    assert format_money(money, template.locale, template.enums["tax_basis"]) == expected


@pytest.mark.parametrize(
    ("language", "precision", "expected"),
    [
        ("fr", DatePrecision.DAY, "15 mai 2027"),
        ("fr", DatePrecision.MONTH, "mai 2027"),
        ("fr", DatePrecision.QUARTER, "T2 2027"),
        ("fr", DatePrecision.YEAR, "2027"),
        ("en", DatePrecision.DAY, "15 May 2027"),
        ("en", DatePrecision.QUARTER, "Q2 2027"),
    ],
)
def test_dates_keep_their_precision(language, precision, expected):
    """A date is printed as precisely as it was given: a quarter stays a quarter."""
    template = template_for(language)
    value = DateValue(value=date(2027, 5, 15), precision=precision)
    assert format_date_value(value, template.locale, template.quarter) == expected


def test_glossary_defines_what_it_can_and_flags_the_rest():
    """Known acronyms get the template's definition, "long form (ACR)" is read from the text, others are flagged."""
    terms = dict(
        glossary(
            ["Le CRM doit calculer la Customer Lifetime Value (CLV) et parler au PIM2 de la phase II, REQ-001."],
            template_for("fr"),
        )
    )
    assert terms["CRM"].startswith("Gestion de la relation client")
    assert terms["CLV"] == "Customer Lifetime Value"
    assert terms["PIM2"] == "À définir"
    assert "II" not in terms and "REQ" not in terms


def test_revision_table_lists_what_people_did(store, fr_project):
    """The document's revision table shows reviewers' versions, newest first; generator runs stay in the history."""
    workflow.regenerate(store, fr_project)
    workflow.edit_section(store, fr_project, SectionId.BUDGET, "Budget revu.\n", author="Alice", expected_version=1)
    workflow.approve_section(store, fr_project, SectionId.BUDGET, author="Carol", expected_version=2)
    document = build_document(store, fr_project, today=TODAY)
    assert [(r.section, r.version, r.state, r.author) for r in document.revisions] == [
        ("Budget", 3, "Approuvée", "Carol"),
        ("Budget", 2, "Modifiée", "Alice"),
    ]
    assert document.revision == 2
    text = export_markdown(store, fr_project, today=TODAY)
    assert "| Budget | 3 | Approuvée | Carol |" in text and "| cahier |" not in text


def test_editing_then_regenerating_without_new_answers_proposes_nothing(store):
    """A reviewer's edit is not answered by the very text they just replaced: no change, no proposal."""
    project = store.create_project("Edit only", language="fr")
    workflow.regenerate(store, project.id)
    view = workflow.review(store, project.id)[SectionId.COMPANY]
    workflow.edit_section(
        store, project.id, SectionId.COMPANY, "Texte revu par Alice.", author="Alice", expected_version=view.version
    )
    outcomes = workflow.regenerate(store, project.id)
    assert outcomes[SectionId.COMPANY] is workflow.Outcome.UNCHANGED
    assert workflow.review(store, project.id)[SectionId.COMPANY].proposal is None
