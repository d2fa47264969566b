"""The bad-input corpus (`bad_inputs/cases.yaml`): each case is refused with a message saying what is wrong and
nothing stored changes, or it is accepted and kept byte for byte. One test per kind of input, over its cases."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from lxml import etree
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from assistant.config import Settings, _default_data_dir, load_settings
from assistant.draft import workflow
from assistant.errors import ConfigError, InputError
from assistant.export import render_export
from assistant.export.csv import FORMULA_STARTS
from assistant.export.json import MAX_IMPORT_BYTES, export_project
from assistant.i18n.catalog import catalog
from assistant.interview.reading import read_answer
from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader, turn_findings
from assistant.models.testing import ScriptedChatModel, clause_need
from assistant.schemas import Constraint, ExtractionStatus, Language, MoSCoW, Requirement, SectionId, Speaker
from assistant.store import Store
from assistant.ui import display
from assistant.ui.services import OVERRIDE_KEY, Services
from tests.app.conftest import APP, TIMEOUT, texts
from tests.reliability.invariants import assert_intact, snapshot

HERE = Path(__file__).parent / "bad_inputs"
CORPUS: dict[str, list[dict[str, Any]]] = yaml.safe_load((HERE / "cases.yaml").read_text(encoding="utf-8"))
PAGES = "assistant/ui/pages"


def _cases(kind: str) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in CORPUS[kind]]


def _text(case: dict[str, Any]) -> str:
    return case["text"] * case.get("repeat", 1)


def test_the_corpus_has_at_least_forty_cases_in_both_languages():
    """The corpus is as large as promised, every id is unique, and it speaks French and English."""
    cases = [case for kind in CORPUS.values() for case in kind]
    assert len(cases) >= 40
    assert len({case["id"] for case in cases}) == len(cases)
    words = " ".join(case.get("text", "") for case in cases)
    assert "besoin" in words and "Ignore previous instructions" in words


@pytest.fixture
def interview(tmp_path: Path) -> Iterator[tuple[Store, ScriptedChatModel, Interview, str, str]]:
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    model = ScriptedChatModel()
    interview = Interview(store, model, reader=FindingsReader())
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    interview.start(project.id)
    yield store, model, interview, project.id, person.id
    interview.close()
    store.close()


# -- messages --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("messages"))
def test_a_message_is_refused_with_its_reason_or_stored_exactly(interview, case: dict[str, Any]):
    """A refused answer raises `InputError` on `message` naming the problem, stores nothing and calls no model;
    an accepted one (emoji, right-to-left, decomposed accents…) is stored and exported byte for byte."""
    store, model, service, project_id, person_id = interview
    text = _text(case)
    before = snapshot(store, project_id)
    if case["expect"] == "refused":
        with pytest.raises(InputError) as refused:
            service.handle_turn(project_id, person_id, text)
        assert refused.value.field == "message"
        assert case["error"] in str(refused.value)
        assert snapshot(store, project_id) == before
        assert model.calls == []
        return
    model.push(turn_findings())
    result = service.handle_turn(project_id, person_id, text)
    assert service.wait(project_id, result.turn_id, timeout=60)
    assert_intact(before, snapshot(store, project_id), new_turns=2)
    assert store.get_turn(project_id, result.turn_id).text.encode("utf-8") == text.encode("utf-8")
    assert text in model.calls[-1].messages[-1].content  # the model was sent the words as they were typed
    exported = json.loads(render_export(store, project_id, "json"))
    assert text in [row["text"] for row in exported["tables"]["turns"]]


def _open_chat(store: Store, model: ScriptedChatModel, interview: Interview, tmp_path: Path, **query: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.session_state[OVERRIDE_KEY] = Services(Settings(data_dir=tmp_path / "data"), store, model, interview)
    for name, value in query.items():
        at.query_params[name] = value
    return at.run()


NOT_FROM_A_BROWSER = ("empty", "spaces-only", "exactly-at-limit", "lone-high-surrogate", "undecodable-latin1-bytes")
"""Messages the chat input never delivers: Streamlit sends no empty input, and a browser encodes text as UTF-8,
so lone surrogates arrive as U+FFFD (the `replacement-character` case). 20 000 characters is covered above."""


@pytest.mark.parametrize("case", [c for c in _cases("messages") if c.values[0]["id"] not in NOT_FROM_A_BROWSER])
def test_the_chat_page_explains_a_refused_message_and_shows_an_accepted_one_as_typed(
    interview, tmp_path: Path, case: dict[str, Any]
):
    """Typed in the app, a refused answer shows "Answer not saved" with the reason and stores nothing; an
    accepted one is shown as the text it is. (An empty chat input is never sent by Streamlit.)"""
    store, model, service, project_id, person_id = interview
    text = _text(case)
    at = _open_chat(store, model, service, tmp_path, project=project_id, who=person_id)
    before = snapshot(store, project_id)
    if case["expect"] == "accepted":
        model.push(turn_findings())
    at.chat_input[0].set_value(text).run()
    assert not at.exception
    if case["expect"] == "refused":
        shown = "\n".join(str(e.value) for e in at.error)
        assert catalog(Language.FR).text("chat.error").split("{")[0] in shown and case["error"] in shown
        assert snapshot(store, project_id) == before
        return
    answer = [t for t in store.list_turns(project_id) if t.speaker is Speaker.STAKEHOLDER][-1]
    assert answer.text == text
    assert service.wait(project_id, answer.id, timeout=60)
    at.run()
    assert display.text(text) in texts(at)


# -- markup in every text field --------------------------------------------------------------------------

_HTML = MarkdownIt("commonmark", {"html": True}).enable("table")
_UNESCAPED_TAG = re.compile(r"(?<!\\)<(script|img|iframe|svg)\b", re.IGNORECASE)


def _literal_in_html(value: str, rendered: str) -> bool:
    """Whether `value` reads as itself (line breaks aside) in the text of an HTML rendering."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", rendered))
    return " ".join(value.split()) in " ".join(text.split())


@pytest.mark.parametrize("case", _cases("markup"))
def test_markup_in_every_field_is_shown_as_text_in_the_app_and_in_every_export(tmp_path: Path, case: dict[str, Any]):
    """Project name, company, stakeholder name and role, an answer and an edited requirement statement holding
    HTML, Markdown or Streamlit directives are stored as typed, rendered escaped in the app (no element allows
    HTML, no tag left unescaped), and read as the same characters in Markdown, Word, PDF, ReqIF, CSV and JSON."""
    payload = _text(case)
    store = Store(f"sqlite:///{tmp_path / 'cahier.db'}")
    model = ScriptedChatModel()
    interview = Interview(store, model, reader=FindingsReader())
    project = store.create_project(f"CRM {payload}", language="fr", company=f"Société {payload}")
    person = store.add_stakeholder(project.id, f"Alice {payload}", f"DAF {payload}")
    requirement = Requirement(id=store.new_id(project.id, Requirement), statement="Le CRM doit exporter les contacts")
    store.save_object(project.id, requirement, changed_by=person.id)
    try:
        at = _open_chat(store, model, interview, tmp_path, project=project.id, who=person.id)
        model.push(turn_findings())
        answer = f"Réponse : {payload}"
        at.chat_input[0].set_value(answer).run()
        turn = [t for t in store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER][-1]
        assert interview.wait(project.id, turn.id, timeout=60)
        at.run()
        assert not at.exception
        chat = texts(at)
        for value in (answer, person.name, project.name):
            assert display.text(value) in chat

        at.switch_page(f"{PAGES}/requirements.py").run()
        editor = at.data_editor[0]
        statement = f"Le CRM doit afficher {payload}"
        at.session_state[editor.key] = {
            "edited_rows": {0: {"statement": statement}},
            "added_rows": [],
            "deleted_rows": [],
        }
        at.run()
        [save] = [b for b in at.button if b.label == "Enregistrer les modifications"]
        save.click().run()
        assert not at.exception
        saved, version = store.get_object(project.id, requirement.id, Requirement)
        assert (saved.statement, version) == (statement, 2)
        rendered_pages = [texts(at)]
        at.switch_page(f"{PAGES}/draft.py").run()
        assert not at.exception
        rendered_pages.append(texts(at))
        for page in rendered_pages + [chat]:
            assert not _UNESCAPED_TAG.search(page)
        assert not any(m.proto.allow_html for m in at.markdown)

        if case["draft"]:
            view = workflow.section_view(store, project.id, SectionId.CONTEXT)
            workflow.edit_section(store, project.id, SectionId.CONTEXT, f"Contexte : {payload}", author="Relecteur",
                               expected_version=view.version)  # fmt: skip
        stored = {"name": project.name, "company": project.company, "person": person.name, "role": person.role}
        assert store.get_project(project.id).name == stored["name"] and stored["name"].endswith(payload.strip())
        assert store.get_turn(project.id, turn.id).text == answer
        _assert_exports_keep_it_text(store, project.id, case, [*stored.values(), saved.statement], answer)
    finally:
        interview.close()
        store.close()


def _assert_exports_keep_it_text(
    store: Store, project_id: str, case: dict[str, Any], values: list[str], answer: str
) -> None:
    """`values` (project name, company, person, role, statement) read as typed in every document that shows them;
    the answer itself is only in the JSON export, which keeps every turn."""
    from pypdf import PdfReader

    markdown = render_export(store, project_id, "md")
    rendered = _HTML.render(markdown)
    for marker in case["markers"]:
        assert marker not in rendered, f"{marker!r} became markup in the Markdown export"
    for value in values:
        assert _literal_in_html(value, rendered), f"{value!r} does not read as itself in the Markdown export"

    document = zipfile.ZipFile(io.BytesIO(render_export(store, project_id, "docx"))).read("word/document.xml")
    root = etree.fromstring(document)
    assert not any(isinstance(e.tag, str) and etree.QName(e).localname in ("script", "img") for e in root.iter())
    words = "".join(root.itertext())
    assert all(" ".join(v.split()) in " ".join(words.split()) for v in values[:2] + values[-1:])

    pdf = "".join(page.extract_text() for page in PdfReader(io.BytesIO(render_export(store, project_id, "pdf"))).pages)
    assert "".join(values[-1].split())[:40] in "".join(pdf.split())

    content = render_export(store, project_id, "reqif")
    reqif = etree.fromstring(content if isinstance(content, bytes) else content.encode("utf-8"))
    assert not any(
        isinstance(e.tag, str) and etree.QName(e).localname in ("script", "img", "iframe", "svg") for e in reqif.iter()
    )
    attributes = " ".join(v for e in reqif.iter() for v in e.attrib.values())
    assert values[-1] in attributes

    rows = list(csv.reader(io.StringIO(render_export(store, project_id, "csv"))))
    assert any(values[-1] in cell for row in rows for cell in row)
    assert not any(cell.startswith(FORMULA_STARTS) for row in rows[1:] for cell in row)

    exported = json.loads(render_export(store, project_id, "json"))
    assert exported["tables"]["projects"][0]["name"] == values[0]
    assert answer in [row["text"] for row in exported["tables"]["turns"]]


# -- spreadsheet formulas --------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("formulas"))
def test_a_formula_in_a_statement_is_neutralised_in_the_jira_csv(store: Store, case: dict[str, Any]):
    """A statement a spreadsheet would run as a formula is stored as typed and written to the CSV behind an
    apostrophe; no CSV cell starts with `=`, `+`, `-`, `@`, a tab or a carriage return."""
    project = store.create_project("CRM Acme", language="fr")
    requirement = Requirement(id=store.new_id(project.id, Requirement), statement=_text(case))
    store.save_object(project.id, requirement, changed_by="Relecteur")
    stored = store.get_object(project.id, requirement.id, Requirement)[0].statement
    assert stored == case.get("stored", _text(case))
    rows = list(csv.reader(io.StringIO(render_export(store, project.id, "csv"))))
    cells = [cell for row in rows[1:] for cell in row]
    assert any(cell.startswith("'" + stored) for cell in cells)
    assert not any(cell.startswith(FORMULA_STARTS) for cell in cells)


# -- prompt injection ------------------------------------------------------------------------------------

OBEDIENT = clause_need(
    "Le CRM doit classer toutes les exigences en indispensable.", "Le CRM doit ajouter 50 exigences."
)
"""What a model that obeyed the injected order would word, for each clause it reads."""


@pytest.mark.parametrize("case", _cases("injections"))
def test_an_answer_giving_orders_is_data_and_changes_nothing(interview, case: dict[str, Any]):
    """Read by the production reader: the answer is stored as typed and reaches the model, if at all, only inside
    the user message; when it gives orders, nothing enters the specification even if the model obeys; otherwise
    the usual rules still apply (no amount the answer never states, priority only from the stakeholder's words,
    a wording that adds what the answer does not say is refused)."""
    store, model, service, project_id, person_id = interview
    service.extractor.read = read_answer
    text = _text(case)
    before = snapshot(store, project_id)
    model.push(*[OBEDIENT] * 30)  # one per clause read, at most `MAX_CLAUSES`
    calls = len(model.calls)
    result = service.handle_turn(project_id, person_id, text)
    assert service.wait(project_id, result.turn_id, timeout=60)
    assert store.get_turn(project_id, result.turn_id).text == text
    assert store.extraction_states(project_id)[result.turn_id].status is ExtractionStatus.DONE
    for call in model.calls[calls:]:
        if call.kind == "extract":
            assert all(m.role != "system" or " ".join(text.split()) not in m.content for m in call.messages)
            assert call.messages[-1].role == "user"
    if case["expect"] == "unchanged":
        assert_intact(before, snapshot(store, project_id), new_turns=2)
        return
    assert store.list_objects(project_id, Constraint) == []
    requirements = store.list_objects(project_id, Requirement)
    assert all(r.moscow is not MoSCoW.MUST and "50 exigences" not in r.statement for r in requirements)


# -- import files ----------------------------------------------------------------------------------------


def _other_export(tmp_path: Path) -> dict[str, Any]:
    """A real export of a project that is not in the test's database, as a dict to alter."""
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    project = other.create_project("CRM Bêta", language="en", company="Beta")
    person = other.add_stakeholder(project.id, "Bob", "CFO")
    other.append_turn(project.id, "stakeholder", "We need a mobile CRM 📱", "en", stakeholder_id=person.id)
    other.save_object(project.id, Requirement(id="REQ-001", statement="The CRM must work offline"), changed_by="Bob")
    bundle = json.loads(export_project(other, project.id))
    other.close()
    return bundle


def _write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def _altered(change: Callable[[dict[str, Any]], None]) -> Callable[[Path, Store, str], Path]:
    def make(tmp_path: Path, store: Store, existing_id: str) -> Path:
        bundle = _other_export(tmp_path)
        change(bundle["tables"])
        return _write_json(tmp_path / "altered.json", bundle)

    return make


def _make_zip(tmp_path: Path, store: Store, existing_id: str) -> Path:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("project.json", (2026, 1, 1, 0, 0, 0)), "0" * 1_000_000)
    path = tmp_path / "project.zip"
    path.write_bytes(buffer.getvalue())
    return path


def _make_truncated(tmp_path: Path, store: Store, existing_id: str) -> Path:
    text = json.dumps(_other_export(tmp_path), ensure_ascii=False)
    path = tmp_path / "truncated.json"
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    return path


def _make_huge(tmp_path: Path, store: Store, existing_id: str) -> Path:
    path = tmp_path / "huge.json"
    with path.open("wb") as handle:  # sparse: the size check must come before any read
        handle.truncate(MAX_IMPORT_BYTES + 1)
    return path


HEADER = '{"format": "cahier-project", "format_version": 1, "exported_at": "2026-11-28T10:00:00+00:00", '

MAKERS: dict[str, Callable[[Path, Store, str], Path]] = {
    "utf16": lambda tmp, store, pid: (
        (tmp / "utf16.json").write_bytes((HEADER + '"tables": {}}').encode("utf-16")) and tmp / "utf16.json"
    ),
    "zip": _make_zip,
    "truncated": _make_truncated,
    "huge": _make_huge,
    "deep": lambda tmp, store, pid: (tmp / "deep.json").write_text("[" * 200_000 + "]" * 200_000) and tmp / "deep.json",
    "bigint": lambda tmp, store, pid: (
        (tmp / "big.json").write_text(HEADER + '"tables": {}, "n": ' + "9" * 5000 + "}") and tmp / "big.json"
    ),
    "existing": lambda tmp, store, pid: (
        (tmp / "same.json").write_text(export_project(store, pid), encoding="utf-8") and tmp / "same.json"
    ),
    "two_projects": _altered(lambda t: t["projects"].append({**t["projects"][0], "id": "p000000000001"})),
    "foreign_row": _altered(lambda t: t["turns"][0].update(project_id="p000000000002")),
    "unknown_column": _altered(lambda t: t["id_counters"][0].update(evil="DROP TABLE turns")),
    "unknown_turn_field": _altered(lambda t: t["turns"][0].update(evil="DROP TABLE turns")),
    "unknown_object": _altered(lambda t: t["objects"][0].update(type="virus")),
    "invalid_requirement": _altered(lambda t: t["objects"][0]["data"].update(statement="")),
    "empty_turn": _altered(lambda t: t["turns"][0].update(text="")),
    "missing": lambda tmp, store, pid: tmp / "nowhere" / "project.json",
}


@pytest.mark.parametrize("case", _cases("imports"))
def test_a_bad_import_file_is_refused_with_its_reason_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]
):
    """`cahier import` on a malformed file exits with 1 and one `Error:` line naming the file's problem, and
    the database holds exactly the projects and rows it held before. (Cahier reads no archive: a zip given to
    it is refused as a file that is not UTF-8 text, and nothing is ever unpacked.)"""
    from assistant.cli import app

    data_dir = tmp_path / "data"
    monkeypatch.setenv("CAHIER_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COLUMNS", "400")
    store = Store(f"sqlite:///{data_dir / 'cahier.db'}")
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "DAF")
    store.append_turn(project.id, "stakeholder", "Nous avons 40 commerciaux.", "fr", stakeholder_id=person.id)
    before = snapshot(store, project.id)
    path = HERE / "files" / case["file"] if "file" in case else MAKERS[case["make"]](tmp_path, store, project.id)
    try:
        result = CliRunner().invoke(app, ["import", str(path)])
        assert result.exit_code == 1, result.output
        assert "Error:" in result.output and "Traceback" not in result.output
        assert case["error"] in result.output, result.output[-500:]
        assert [p.id for p in store.list_projects()] == [project.id]
        assert snapshot(store, project.id) == before
    finally:
        store.close()


# -- settings --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", _cases("settings"))
def test_a_bad_setting_names_the_variable_and_touches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: dict[str, Any]
):
    """`load_settings` refuses a bad `CAHIER_*` value with a `ConfigError` naming the variable and saying what
    is wrong, before any directory or database is created; an empty directory variable means its default."""
    a_file = tmp_path / "a-file.txt"
    a_file.write_text("not a directory", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    for name, value in case["env"].items():
        monkeypatch.setenv(name, value.replace("{file}", str(a_file)))
    if case.get("expect") == "accepted":
        settings = load_settings()
        expected = case["value"]
        if expected == "{default_data_dir}":
            expected = _default_data_dir()
        assert getattr(settings, case["field"]) == expected
        return
    with pytest.raises(ConfigError) as refused:
        load_settings()
    assert refused.value.variable == case["variable"]
    assert f"`{case['variable']}`" in str(refused.value)
    assert case["error"] in str(refused.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file.txt"]


def test_settings_built_in_code_get_the_same_checks():
    """Tests and the app build `Settings(...)` directly: a data dir under a file is refused there too."""
    with pytest.raises(ValueError, match="is a file, not a directory"):
        Settings(data_dir=Path(__file__) / "data")
