"""Access codes, stakeholder links and deletion in the app, through AppTest on a temporary store."""

from __future__ import annotations

import re

import pytest

from assistant import access
from assistant.errors import AccessDeniedError
from assistant.i18n.catalog import catalog
from assistant.interview.testing import turn_findings as findings
from assistant.schemas import Language, Speaker
from tests.app.conftest import App, texts

PAGES = "assistant/ui/pages"
CODE = "code d'accès 2027"
SECRET_ANSWER = "Notre budget confidentiel est de 80 k€ HT."
FR = catalog(Language.FR)


def _button(at, label: str):
    matches = [b for b in at.button if b.label == label]
    assert matches, f"no button {label!r} among {[b.label for b in at.button]}"
    return matches[0]


def _input(at, label: str):
    matches = [w for w in at.text_input if w.label == label]
    assert matches, f"no text input {label!r} among {[w.label for w in at.text_input]}"
    return matches[0]


def _protected_project(app: App, *, protect: bool = True):
    project = app.store.create_project("CRM Acme", company="Acme Industries")
    person = app.store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    question = "Quel est votre budget ?"
    app.store.append_turn(project.id, Speaker.ASSISTANT, question, "fr", meta={"slot": "budget.amount"})
    app.store.append_turn(project.id, Speaker.STAKEHOLDER, SECRET_ANSWER, "fr", stakeholder_id=person.id)
    if protect:
        access.set_code(app.store, project.id, CODE)
    return project, person


def _reveals(at) -> bool:
    """Whether the page shows anything of the project: its name, company, or an answer."""
    shown = texts(at) + "\n".join(h.value for h in at.title) + "\n".join(h.value for h in at.subheader)
    return any(secret in shown for secret in ("CRM Acme", "Acme Industries", "budget confidentiel"))


def test_a_protected_project_shows_nothing_until_its_code_is_given(app: App):
    """The list shows it locked without its name; its URL asks for the code; a wrong code is refused."""
    project, person = _protected_project(app)
    listing = app.open()
    assert not listing.exception
    assert FR.text("projects.locked") in texts(listing) and project.id in texts(listing)
    assert not _reveals(listing)

    at = app.open(project=project.id, who=person.id)
    assert not at.exception
    assert not _reveals(at)
    assert len(at.chat_input) == 0
    assert project.id in texts(at)  # the form says which project it unlocks, by id only
    assert len(app.store.list_turns(project.id)) == 2  # nothing was asked or written on its behalf

    _input(at, "Code d'accès").input("pas le bon code")
    _button(at, "Déverrouiller").click().run()
    assert not at.exception
    assert FR.text("access.wrong_code") in texts(at)
    assert not _reveals(at)

    _input(at, "Code d'accès").input(CODE)
    _button(at, "Déverrouiller").click().run()
    assert not at.exception
    assert SECRET_ANSWER in texts(at) and "CRM Acme" in texts(at)
    assert len(at.chat_input) == 1 and not at.chat_input[0].disabled


def test_after_five_wrong_codes_the_app_refuses_even_the_right_one(app: App):
    """The limit is shared with every other process: failures made elsewhere lock the app's form too."""
    project, _ = _protected_project(app)
    for _ in range(access.MAX_FAILURES):
        with pytest.raises(AccessDeniedError):
            access.check_code(app.store, project.id, "a wrong guess")
    at = app.open(project=project.id)
    _input(at, "Code d'accès").input(CODE)
    _button(at, "Déverrouiller").click().run()
    assert not at.exception
    assert "Trop de codes incorrects pour ce projet : réessayez dans 15 minutes." in texts(at)
    assert not _reveals(at)


def test_a_stakeholder_link_opens_the_interview_page_and_nothing_else(app: App):
    """With `?link=TOKEN` the conversation shows and takes answers; no other page, menu or project switch exists."""
    project, person = _protected_project(app)
    token = access.create_link(app.store, project.id, CODE)
    at = app.open(project=project.id, link=token, who=person.id)
    assert not at.exception
    assert SECRET_ANSWER in texts(at)
    assert FR.text("access.link_mode") in texts(at)
    assert FR.text("sidebar.change_project") not in [b.label for b in at.button]
    assert FR.text("access.code") not in [w.label for w in at.text_input]

    app.model.push(findings())
    at.chat_input[0].set_value("Nous avons aussi 40 commerciaux.").run()
    assert not at.exception
    answers = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER]
    assert (answers[-1].text, answers[-1].stakeholder_id) == ("Nous avons aussi 40 commerciaux.", person.id)
    app.services.interview.wait(project.id, answers[-1].id, timeout=15)

    for page in ("export", "settings", "draft", "requirements", "projects"):
        # Only the interview page is registered: no other page exists for this session, by menu or by URL.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(f"{PAGES}/{page}.py")
    at.switch_page(f"{PAGES}/chat.py").run()
    assert not at.exception and len(at.chat_input) == 1


def test_a_revoked_or_wrong_link_opens_nothing(app: App):
    """A link that is not (or no longer) valid says so and falls back to the code form."""
    project, _ = _protected_project(app)
    token = access.create_link(app.store, project.id, CODE)
    access.revoke_links(app.store, project.id, CODE)
    for candidate in (token, "guessed-token"):
        at = app.open(project=project.id, link=candidate)
        assert not at.exception
        assert FR.text("access.bad_link") in texts(at)
        assert not _reveals(at) and len(at.chat_input) == 0
        assert "link" not in at.query_params


def test_setting_a_code_and_making_a_link_in_settings(app: App):
    """The settings page protects the project (this session keeps access, a new one is locked) and makes a link."""
    project, person = _protected_project(app, protect=False)
    at = app.open(project=project.id, who=person.id)
    at.switch_page(f"{PAGES}/settings.py").run()
    assert not at.exception
    _input(at, "Nouveau code").input("court")
    _input(at, "Nouveau code, une seconde fois").input("court")
    _button(at, "Enregistrer le code").click().run()
    assert "Le code doit compter de 8 à 128 caractères." in texts(at)
    assert not access.is_protected(app.store, project.id)

    _input(at, "Nouveau code").input(CODE)
    _input(at, "Nouveau code, une seconde fois").input(CODE)
    _button(at, "Enregistrer le code").click().run()
    assert not at.exception
    assert access.is_protected(app.store, project.id)
    assert FR.text("settings.code_saved") in texts(at)
    assert _input(at, "Nom du projet").value == "CRM Acme"  # this session still sees the project
    assert not _reveals(app.open(project=project.id))  # a new session is locked

    at.text_input(key="settings.link_code").input(CODE)
    _button(at, "Créer un lien").click().run()
    assert not at.exception
    shown = "\n".join(c.value for c in at.code)
    token = re.search(rf"\?project={project.id}&link=(\S+)", shown).group(1)
    access.check_link(app.store, project.id, token)
    linked = app.open(project=project.id, link=token)
    assert SECRET_ANSWER in texts(linked)


def test_deleting_a_project_from_settings_needs_the_confirmation_and_the_code(app: App):
    """Without the tick nothing is deleted; with it and the code, the project and its rows are gone."""
    project, person = _protected_project(app)
    at = app.open(project=project.id, who=person.id)
    _input(at, "Code d'accès").input(CODE)
    _button(at, "Déverrouiller").click().run()
    at.switch_page(f"{PAGES}/settings.py").run()
    _button(at, "Supprimer définitivement").click().run()
    assert FR.text("settings.delete_unconfirmed") in texts(at)
    assert app.store.get_project(project.id).name == "CRM Acme"

    at.checkbox(key="settings.delete_confirm").check()
    at.text_input(key="settings.delete_code").input(CODE)
    _button(at, "Supprimer définitivement").click().run()
    assert not at.exception
    assert [p.id for p in app.store.list_projects()] == []
    assert app.store.list_turns(project.id) == []
    assert f"Projet `{project.id}` supprimé." in texts(at)
    assert "project" not in at.query_params
