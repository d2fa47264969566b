"""The Streamlit app end to end through AppTest: real pages, a temporary store and a scripted model."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import streamlit.testing.v1.app_test as app_test_module
from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

from assistant.draft import workflow
from assistant.errors import ModelError
from assistant.i18n.catalog import catalog
from assistant.interview.testing import FindingsReader
from assistant.interview.testing import turn_findings as findings
from assistant.schemas import ExtractionStatus, Language, Requirement, SectionId, SectionState, Speaker, TurnAction
from tests.app.conftest import App, texts

PAGES = "assistant/ui/pages"
DAY = timedelta(days=1)
FR = catalog(Language.FR)


def _button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    return matches[0]


def _project_with_person(app: App, language: str = "fr"):
    project = app.store.create_project("CRM Acme", language=language, company="Acme")
    person = app.store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    return project, person


def _answer(app: App, at, project_id: str, text: str):
    """Type an answer, wait for its extraction, and show the page again."""
    at.chat_input[0].set_value(text).run()
    assert not at.exception
    answer = [t for t in app.store.list_turns(project_id) if t.speaker is Speaker.STAKEHOLDER][-1]
    assert answer.text == text
    assert app.services.interview.wait(project_id, answer.id, timeout=15)
    return at.run()


class _RecordingStorage(MemoryMediaFileStorage):
    """Keeps every file the app offers for download, so a test can read the bytes a click would get."""

    files: dict[str, bytes] = {}

    def load_and_get_id(self, path_or_data, mimetype, kind, filename=None):  # noqa: ANN001, ANN201
        file_id = super().load_and_get_id(path_or_data, mimetype, kind, filename)
        if isinstance(path_or_data, bytes) and filename:
            _RecordingStorage.files[filename] = path_or_data
        return file_id


def test_short_interview_from_project_creation_to_json_export(app: App, monkeypatch: pytest.MonkeyPatch):
    """A project is created, a person added, two answers given (typed and suggested), and the JSON export downloads."""
    at = app.open()
    assert not at.exception
    at.text_input[0].input("CRM Acme")
    at.text_input[1].input("Acme SA")
    _button(at, "Créer et commencer l'entretien").click().run()
    assert not at.exception
    project = app.store.list_projects()[0]
    assert at.query_params["project"] == project.id
    assert "Bonjour" in texts(at)  # the first question is asked as soon as the project opens
    assert at.chat_input[0].disabled  # nobody can answer before saying who they are

    name, role = [w for w in at.text_input if w.label in ("Nom", "Rôle")][:2]
    name.input("Alice")
    role.input("Directrice commerciale")
    _button(at, "Commencer").click().run()
    assert not at.exception
    alice = app.store.list_stakeholders(project.id)[0]
    assert at.query_params["who"] == alice.id
    assert not at.chat_input[0].disabled

    app.model.push(
        findings(requirements=(("Les commerciaux doivent saisir un compte rendu de visite sur mobile", "must"),)),
        findings(),
    )
    at = _answer(app, at, project.id, "Nous vendons des machines agricoles à 300 concessionnaires en France.")
    assert not at.exception
    assert "REQ-001" in texts(at) and "compte rendu de visite" in texts(at)

    question = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.ASSISTANT][-1]
    option = at.button(key=f"option.{question.id}.0")
    option.click().run()
    assert not at.exception
    answers = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER]
    assert [t.stakeholder_id for t in answers] == [alice.id, alice.id]
    assert answers[-1].text == option.label
    app.services.interview.wait(project.id, answers[-1].id, timeout=15)

    monkeypatch.setattr(app_test_module, "MemoryMediaFileStorage", _RecordingStorage)
    _RecordingStorage.files.clear()
    at.switch_page(f"{PAGES}/export.py").run()
    assert not at.exception
    labels = [b.label for b in at.get("download_button")]
    assert "Télécharger" in labels
    exported = json.loads(_RecordingStorage.files["crm-acme.json"])
    assert exported["format"] == "cahier-project"
    assert [row["text"] for row in exported["tables"]["turns"] if row["speaker"] == "stakeholder"] == [
        a.text for a in answers
    ]


def test_refresh_resumes_the_interview_from_the_url(app: App):
    """A new session opened on `?project=…&who=…` shows the same conversation and speaker, read from the store."""
    project, person = _project_with_person(app)
    first = app.open(project=project.id, who=person.id)
    app.model.push(findings())
    _answer(app, first, project.id, "Nous sommes un distributeur de matériel médical.")

    again = app.open(project=project.id, who=person.id)
    assert not again.exception
    assert "distributeur de matériel médical" in texts(again)
    assert "Alice" in texts(again)
    assert not again.chat_input[0].disabled  # the speaker came back from the URL too
    turns = app.store.list_turns(project.id)
    assert len([t for t in turns if t.speaker is Speaker.ASSISTANT]) == 2  # reopening asked nothing new


def test_model_failure_is_explained_and_the_interview_goes_on(app: App):
    """A failed extraction shows a notice; the answer is stored and the next question comes from the plan."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    app.model.push(ModelError("the server is down"))
    at = _answer(app, at, project.id, "Nous avons 40 commerciaux itinérants.")
    assert not at.exception
    assert FR.text("chat.failed") in texts(at)
    speakers = [t.speaker for t in app.store.list_turns(project.id)]
    assert speakers == [Speaker.ASSISTANT, Speaker.STAKEHOLDER, Speaker.ASSISTANT]


def test_an_answer_shows_analysing_until_its_extraction_is_done(app: App):
    """While the extraction is queued the answer says so; once done, the page lists what was understood."""
    import threading

    release = threading.Event()
    original = app.model.extract

    def slow_extract(messages, schema):  # noqa: ANN001, ANN202
        release.wait(10)
        return original(messages, schema)

    app.model.extract = slow_extract  # type: ignore[method-assign]
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    app.model.push(findings(requirements=(("Le CRM doit importer les contacts depuis Outlook", "should"),)))
    at.chat_input[0].set_value("Il faut importer nos contacts Outlook.").run()
    assert not at.exception
    assert FR.text("chat.analysing") in texts(at)
    release.set()
    answer = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER][-1]
    assert app.services.interview.wait(project.id, answer.id, timeout=15)
    at.run()
    assert FR.text("chat.analysing") not in texts(at)
    assert "importer les contacts depuis Outlook" in texts(at)


def test_skip_and_dont_know_record_open_questions(app: App):
    """The skip and don't-know buttons store the action, and the question appears as open on the requirements page."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    _button(at, "Je ne sais pas").click().run()
    assert not at.exception
    answer = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER][-1]
    assert answer.meta.action is TurnAction.DONT_KNOW
    assert FR.text("chat.skipped") in texts(at)
    _button(at, "Passer").click().run()
    assert [t.meta.action for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER] == [
        TurnAction.DONT_KNOW,
        TurnAction.SKIP,
    ]
    at.switch_page(f"{PAGES}/requirements.py").run()
    assert not at.exception
    assert "Questions ouvertes (2)" in [tab.label for tab in at.tabs]


def _requirement(app: App, project_id: str, statement: str) -> Requirement:
    requirement = Requirement(id=app.store.new_id(project_id, Requirement), statement=statement)
    app.store.save_object(project_id, requirement, changed_by="cahier")
    return requirement


def _edit(at, row: int, **changes):
    editor = at.data_editor[0]
    at.session_state[editor.key] = {"edited_rows": {row: changes}, "added_rows": [], "deleted_rows": []}
    return at.run()


def test_editing_a_requirement_in_the_table_saves_a_new_version(app: App):
    """An edit saved from the data editor becomes version 2, recorded under the person speaking."""
    project, person = _project_with_person(app)
    requirement = _requirement(app, project.id, "Le CRM doit être rapide")
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/requirements.py").run()
    assert not at.exception
    assert "Le CRM doit être rapide" in list(at.data_editor[0].value["statement"])
    assert "rapide" in texts(at)  # the quality tab flags the vague word

    _edit(at, 0, statement="Le CRM doit afficher une fiche client en moins de 2 secondes", moscow="must")
    assert not at.exception
    _button(at, "Enregistrer les modifications").click().run()
    assert not at.exception
    saved, version = app.store.get_object(project.id, requirement.id, Requirement)
    assert version == 2
    assert saved.statement == "Le CRM doit afficher une fiche client en moins de 2 secondes"
    assert saved.moscow.value == "must"
    assert app.store.object_history(project.id, requirement.id)[-1].changed_by == person.id
    assert "1 exigence enregistrée." in texts(at)


def test_a_concurrent_change_is_refused_with_a_clear_message(app: App):
    """When someone saved the requirement after the table was shown, the save is refused and nothing is lost."""
    project, person = _project_with_person(app)
    requirement = _requirement(app, project.id, "Le CRM doit envoyer des relances")
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/requirements.py").run()
    _edit(at, 0, statement="Le CRM doit envoyer une relance après 30 jours sans réponse")
    other = requirement.model_copy(update={"statement": "Le CRM doit envoyer des relances par courriel"})
    app.store.save_object(project.id, other, changed_by="bob", expected_version=1)

    _button(at, "Enregistrer les modifications").click().run()
    assert not at.exception
    assert "REQ-001 a été modifiée par quelqu'un d'autre" in texts(at)
    saved, version = app.store.get_object(project.id, requirement.id, Requirement)
    assert (saved.statement, version) == ("Le CRM doit envoyer des relances par courriel", 2)


def test_an_invalid_edit_is_refused_and_explained(app: App):
    """A functional requirement cannot take a quality category: the table says why and stores nothing."""
    project, person = _project_with_person(app)
    requirement = _requirement(app, project.id, "Le CRM doit exporter les contacts")
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/requirements.py").run()
    _edit(at, 0, category="security")
    _button(at, "Enregistrer les modifications").click().run()
    assert not at.exception
    assert "REQ-001 n'a pas été enregistrée" in texts(at)
    assert app.store.get_object(project.id, requirement.id, Requirement)[1] == 1


def test_a_conflict_is_resolved_with_a_decision(app: App):
    """Settling a conflict stores the decision and closes it."""
    from assistant.schemas import Conflict, ConflictingStatement

    project, person = _project_with_person(app)
    conflict = Conflict(
        id=app.store.new_id(project.id, Conflict),
        subject="Budget du projet",
        statements=[
            ConflictingStatement(stakeholder_id=person.id, text="80 k€ HT"),
            ConflictingStatement(stakeholder_id="STK-009", text="120 k€ HT"),
        ],
    )
    app.store.save_object(project.id, conflict, changed_by="cahier")
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/requirements.py").run()
    at.text_area(key=f"resolve.{conflict.id}.text").input("Budget retenu : 100 k€ HT")
    _button(at, "Marquer comme arbitré").click().run()
    assert not at.exception
    saved, _ = app.store.get_object(project.id, conflict.id, Conflict)
    assert (saved.status.value, saved.resolution) == ("resolved", "Budget retenu : 100 k€ HT")


def test_approving_a_draft_section(app: App):
    """The approve button stores an approved version of the section under the reviewer's name."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/draft.py").run()
    assert not at.exception
    at.button(key="draft.approve.company").click().run()
    assert not at.exception
    latest = app.store.latest_sections(project.id)[SectionId.COMPANY]
    assert (latest.state, latest.author) == (SectionState.APPROVED, "Alice")
    assert at.button(key="draft.approve.company").disabled


def test_editing_a_draft_section_in_place(app: App):
    """Edit → save stores an edited version with the reviewer's text."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/draft.py").run()
    at.button(key="draft.edit.context").click().run()
    at.text_area(key=f"draft.text.{project.id}.context").input("Le projet remplace un fichier Excel partagé.")
    at.button(key="draft.save.context").click().run()
    assert not at.exception
    view = workflow.section_view(app.store, project.id, SectionId.CONTEXT)
    assert (view.state, view.text) == (SectionState.EDITED, "Le projet remplace un fichier Excel partagé.\n")
    assert "Le projet remplace un fichier Excel partagé." in texts(at)


def test_stakeholder_text_is_shown_as_text_not_markup(app: App):
    """HTML, emphasis and LaTeX in an answer are escaped before they reach Markdown."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    app.model.push(findings())
    at = _answer(app, at, project.id, "<script>alert(1)</script> **gras** coût $5 et $6")
    rendered = texts(at)
    assert "<script>" not in rendered
    assert r"\<script\>" in rendered and r"\*\*gras\*\*" in rendered and r"\$5" in rendered


def test_an_english_project_speaks_english(app: App):
    """The project's language picks the interface language."""
    project, person = _project_with_person(app, language="en")
    at = app.open(project=project.id, who=person.id)
    assert not at.exception
    assert "Specification coverage" in texts(at)
    assert "Skip" in [b.label for b in at.button] and "I don't know" in [b.label for b in at.button]


def test_an_unknown_project_in_the_url_falls_back_to_the_picker(app: App):
    """A stale shared link explains itself instead of failing."""
    at = app.open(project="p000000000000")
    assert not at.exception
    assert "p000000000000" in texts(at)
    assert "Nouveau projet" in texts(at) or any(b.label.startswith("Créer") for b in at.button)


def test_settings_test_connection_uses_the_session_key_and_never_shows_it(app: App):
    """The key typed on the settings page reaches the server and appears nowhere on the page."""
    from tests.contract.fake_openai import FakeOpenAIServer, streamed

    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/settings.py").run()
    assert not at.exception
    at.radio(key="settings.provider").set_value("openai_compatible").run()
    secret = "sk-test-0123456789abcdef"
    with FakeOpenAIServer() as server:
        server.push(streamed(["OK"]))
        base_url = [w for w in at.text_input if w.label == "URL du serveur"][0]
        base_url.input(server.base_url)
        at.text_input(key="settings.key").input(secret)
        _button(at, "Tester la connexion").click().run()
        assert not at.exception
        assert "Connexion réussie" in texts(at)
        assert server.headers[0]["authorization"] == f"Bearer {secret}"
    assert secret not in texts(at)


def test_every_string_exists_in_both_languages_and_every_key_used_exists():
    """i18n: no empty translation, and no page asks for a key that is missing."""
    french, english = catalog(Language.FR), catalog(Language.EN)
    for key, entry in french.entries.items():
        for forms in (entry, english.entries[key]):
            words = [forms] if isinstance(forms, str) else list(forms.values() if isinstance(forms, dict) else forms)
            assert words and all(text.strip() for text in words), key
    used: set[str] = set()
    for path in (Path(__file__).resolve().parents[2] / "assistant" / "ui").glob("*.py"):
        used |= set(re.findall(r"""\btn?\(\s*["']([a-z_]+\.[a-z_.]+)["']""", path.read_text(encoding="utf-8")))
    assert used, "no t() call found"
    from assistant.export import FORMATS
    from assistant.quality import Severity
    from assistant.ui.requirements import EDITABLE
    from assistant.ui.shell import PAGE_FILES

    used |= {f"nav.{name}" for name in PAGE_FILES} | {f"language.{code}" for code in ("fr", "en")}
    used |= {f"model.{state}" for state in ("ready", "starting", "failed", "idle")}
    used |= {f"severity.{severity.value}" for severity in Severity} | {f"export.{spec.name}" for spec in FORMATS}
    used |= {f"settings.providers.{name}" for name in ("local", "openai", "openai_compatible")}
    used |= {f"req.col_{name}" for name in (*EDITABLE, "id", "score", "source")}
    assert sorted(used - set(french.entries)) == []


def test_choice_lists_speak_the_project_language(app: App):
    """Streamlit's placeholders are English ("Choose options", "No options to select"); the filters use ours."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/requirements.py").run()
    assert not at.exception
    choose, none = FR.text("widget.choose_options"), FR.text("widget.no_options")
    # no requirement yet: no section to filter on; the person and the statuses are there
    assert [widget.proto.placeholder for widget in at.multiselect] == [none, choose, choose]


def test_a_second_person_joins_and_speakers_switch_mid_interview(app: App):
    """A person added from the sidebar answers next; choosing the first person again attributes the next answer."""
    project, alice = _project_with_person(app)
    at = app.open(project=project.id, who=alice.id)
    at.text_input(key="add.sidebar.name").input("Bruno Petit")
    at.text_input(key="add.sidebar.role").input("DAF")
    _button(at, "Ajouter").click().run()
    assert not at.exception
    bruno = [s for s in app.store.list_stakeholders(project.id) if s.name == "Bruno Petit"][0]
    assert at.query_params["who"] == bruno.id
    app.model.push(findings(), findings())
    at = _answer(app, at, project.id, "Le budget est validé par la direction financière.")
    at.selectbox(key=f"speaker.sidebar.{bruno.id}").set_value(alice.id).run()
    assert at.query_params["who"] == alice.id
    at = _answer(app, at, project.id, "Les commerciaux sont 40.")
    answers = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER]
    assert [t.stakeholder_id for t in answers] == [bruno.id, alice.id]


def test_the_project_picker_switches_to_english(app: App):
    """Before a project is open the interface is French, with an English toggle carried by the URL."""
    at = app.open()
    at.get("button_group")[0].set_value("en").run()
    assert not at.exception
    assert at.query_params["lang"] == "en"
    assert "New project" in [h.value for h in at.subheader]


def test_a_model_chosen_in_settings_is_used_for_this_session_only(app: App):
    """ "Use for this session" swaps the model this session's answers are extracted with; the shared bundle is
    untouched, and no second interview (no second worker) is started: the process's workers use that model for
    the project this session answers in."""
    from assistant.models.openai import OpenAIChatModel
    from assistant.ui.services import SESSION_MODEL_KEY

    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/settings.py").run()
    at.radio(key="settings.provider").set_value("openai_compatible").run()
    [w for w in at.text_input if w.label == "URL du serveur"][0].input("http://127.0.0.1:9/v1")
    [w for w in at.text_input if w.label == "Nom du modèle"][0].input("qwen-test")
    at.text_input(key="settings.key").input("sk-session-0123456789")
    _button(at, "Utiliser pour cette session").click().run()
    assert not at.exception
    choice = at.session_state[SESSION_MODEL_KEY]
    assert (choice.model, choice.base_url) == ("qwen-test", "http://127.0.0.1:9/v1")
    assert "sk-session-0123456789" not in repr(choice)
    assert "qwen-test" in texts(at)
    assert isinstance(app.services.model, type(app.model))  # other sessions keep the injected model
    bundle = at.session_state["cahier.session_bundle"][2]
    assert isinstance(bundle.model, OpenAIChatModel) and bundle.interview is app.services.interview
    at.switch_page(f"{PAGES}/chat.py").run()
    at.chat_input[0].set_value("Les commerciaux sont 40.").run()
    assert not at.exception
    interview = app.services.interview
    assert interview.models.model_for(project.id) is bundle.model
    assert interview.models.model_for("another-project") is app.model
    assert interview.pool.size == interview.policy.workers == 1


def test_a_section_changed_by_someone_else_is_not_approved_blindly(app: App):
    """Approving a section another reviewer changed since it was shown is refused with an explanation."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/draft.py").run()
    view = workflow.section_view(app.store, project.id, SectionId.BUDGET)
    workflow.edit_section(app.store, project.id, SectionId.BUDGET, "Budget : 80 k€ HT.", author="Bob",
                       expected_version=view.version)  # fmt: skip
    at.button(key="draft.approve.budget").click().run()
    assert not at.exception
    assert "Cette section a changé depuis son affichage" in texts(at)
    assert workflow.section_view(app.store, project.id, SectionId.BUDGET).state is SectionState.EDITED


def test_a_proposal_from_new_answers_is_shown_as_a_diff_and_accepted(app: App):
    """A reviewed section gets new material as a proposal; accepting it makes the section follow the answers."""
    project, person = _project_with_person(app)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/draft.py").run()
    at.button(key="draft.approve.functional").click().run()
    _requirement(app, project.id, "Le CRM doit importer les contacts depuis Outlook")
    at.run()
    assert not at.exception
    assert "importer les contacts depuis Outlook" in "\n".join(c.value for c in at.code)
    at.button(key="draft.accept.functional").click().run()
    assert not at.exception
    view = workflow.section_view(app.store, project.id, SectionId.FUNCTIONAL)
    assert view.state is SectionState.GENERATED and not view.changes_available
    assert "importer les contacts depuis Outlook" in view.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_a_queued_answer_shows_its_place_in_the_queue_its_retries_and_a_retry_button(tmp_path: Path, language: str):
    """While no worker runs, the page says how many answers are ahead; an answer waiting out a retry says which
    attempt comes next; a failed one offers "analyse again", which queues it for the workers."""
    from assistant.config import Settings
    from assistant.interview.service import Interview
    from assistant.interview.worker import QueuePolicy
    from assistant.models.testing import ScriptedChatModel
    from assistant.store import Store
    from assistant.ui.services import Services

    store = Store(f"sqlite:///{tmp_path / 'c.db'}")
    model = ScriptedChatModel()
    interview = Interview(store, model, policy=QueuePolicy(workers=0), reader=FindingsReader())  # answers stay queued
    app = App(Services(Settings(data_dir=tmp_path / "data"), store, model, interview), model)
    words = catalog(language)
    try:
        project, person = _project_with_person(app, language)
        interview.start(project.id)
        for text in ("Nous sommes 85.", "Trois sites.", "Des clients professionnels."):
            interview.handle_turn(project.id, person.id, text)
        claim = store.claim_extraction("test", lease_s=60, max_attempts=3)
        assert claim is not None
        store.fail_extraction(claim, "no answer in 180 s", "ModelTimeoutError", retry_at=datetime.now(UTC) + DAY)
        at = app.open(project=project.id, who=person.id)
        assert not at.exception
        shown = texts(at)
        assert words.text("chat.analysing") in shown
        assert words.text("chat.retrying", attempt=2, attempts=3) in shown
        assert words.plural("chat.ahead", 1) in shown and words.plural("chat.ahead", 2) in shown

        store.release_expired_extractions(3)
        again = store.claim_extraction("test", lease_s=60, max_attempts=3, project_id=None)
        assert again is None  # the first answer waits out its backoff and the others wait behind it
        with store.engine.begin() as conn:  # the backoff is over: the answer is claimed and fails for good
            conn.exec_driver_sql("UPDATE extractions SET available_at = NULL")
        final = store.claim_extraction("test", lease_s=60, max_attempts=3)
        assert final is not None and final.turn_id == claim.turn_id
        store.fail_extraction(final, "the model's answer did not fit the schema", "ExtractionError")
        at.run()
        assert words.text("chat.failed") in texts(at)
        model.push(findings(requirements=(("Le CRM doit gérer 85 utilisateurs", "should"),)))
        at.button(key=f"chat.retry.{claim.turn_id}").click().run()
        assert not at.exception
        assert store.extraction_state(project.id, claim.turn_id).status is ExtractionStatus.QUEUED  # type: ignore[union-attr]
    finally:
        interview.close()
        store.close()
