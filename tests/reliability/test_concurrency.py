"""Two people on one project at once: no lost update, no duplicated id, and a refused write says why.

Two levels. Two Streamlit sessions (AppTest) share one services bundle, as two browser tabs share the server's:
they answer in the chat, edit the same draft section, approve while the other edits, and edit the same
requirement. Then real OS processes hammer one database (SQLite file, and PostgreSQL when
`CAHIER_TEST_POSTGRES_URL` is set) through `tests/reliability/concurrent_writer.py`, and every write they report
is checked against what the store kept.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.draft import workflow
from assistant.interview.testing import turn_findings as findings
from assistant.schemas import Requirement, SectionId, SectionState, Speaker
from assistant.store import Store
from tests.reliability.concurrent_writer import FRESH_COUNTERS, SHARED_REQUIREMENT, SHARED_SECTION

ROOT = Path(__file__).resolve().parents[2]
PAGES = "assistant/ui/pages"

WRITERS = 3
OPERATIONS = 100
"""Per writer process: 300 mixed writes in all, plus 18 racing id reservations; a few seconds on SQLite."""


# -- two Streamlit sessions -------------------------------------------------------------------------------


def _texts(at: Any) -> str:
    from tests.app.conftest import texts

    return texts(at)


def _two_people(app: Any, language: str = "fr") -> tuple[Any, Any, Any]:
    project = app.store.create_project("CRM Acme", language=language, company="Acme")
    alice = app.store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    bruno = app.store.add_stakeholder(project.id, "Bruno", "DAF")
    return project, alice, bruno


def _on_draft(app: Any, project_id: str, who: str) -> Any:
    at = app.open(project=project_id, who=who)
    at.switch_page(f"{PAGES}/draft.py").run()
    assert not at.exception
    return at


def test_two_people_answering_at_once_keep_every_turn_and_get_distinct_ids(app: Any):
    """Two sessions answer in turn without waiting for each other's extraction: every answer is stored once, under
    its speaker, turn ids run 1…n without a gap or a repeat, each extraction finds its own requirement, and no
    requirement id is given twice; both sessions then show the whole conversation."""
    project, alice, bruno = _two_people(app)
    first = app.open(project=project.id, who=alice.id)
    second = app.open(project=project.id, who=bruno.id)
    said = {
        alice.id: ["Nous avons 40 commerciaux itinérants.", "Les devis partent aujourd'hui par courriel."],
        bruno.id: ["Le budget est validé par la direction financière.", "La facturation reste dans notre ERP."],
    }
    statements = [
        "Le CRM doit synchroniser les rendez-vous des commerciaux itinérants",
        "Le CRM doit valider le budget engagé avant chaque commande",
        "Le CRM doit générer les devis en PDF",
        "Le CRM doit transmettre les factures à l'ERP chaque nuit",
    ]
    app.model.push(*(findings(requirements=((statement, "must"),)) for statement in statements))
    for round_ in range(2):
        for at, person in ((first, alice), (second, bruno)):
            at.chat_input[0].set_value(said[person.id][round_]).run()  # the other's extraction may still run
            assert not at.exception

    answers = [t for t in app.store.list_turns(project.id) if t.speaker is Speaker.STAKEHOLDER]
    for answer in answers:
        assert app.services.interview.wait(project.id, answer.id, timeout=15)
    turns = app.store.list_turns(project.id)
    assert [t.id for t in turns] == list(range(1, len(turns) + 1))
    assert [(t.stakeholder_id, t.text) for t in answers] == [
        (alice.id, said[alice.id][0]),
        (bruno.id, said[bruno.id][0]),
        (alice.id, said[alice.id][1]),
        (bruno.id, said[bruno.id][1]),
    ]
    requirements = app.store.list_objects(project.id, Requirement)
    ids = [r.id for r in requirements]
    assert len(ids) == len(set(ids)) == 4
    assert sorted(r.statement for r in requirements) == sorted(statements)
    for at in (first.run(), second.run()):
        assert not at.exception
        page = _texts(at)
        assert all(text in page for texts_ in said.values() for text in texts_)


def test_two_people_editing_one_section_the_second_save_is_refused_and_shown_the_first(app: Any):
    """Alice and Bruno both open `context` for editing at version v. Alice saves first; Bruno's save is refused
    with the French message, Alice's stored text and name are shown to him, his own text stays in his editor, and
    nothing of Alice's is overwritten. Saving again after reading her version stores his on top of hers."""
    project, alice, bruno = _two_people(app)
    first = _on_draft(app, project.id, alice.id)
    second = _on_draft(app, project.id, bruno.id)
    shown = workflow.section_view(app.store, project.id, SectionId.CONTEXT).version
    key = f"draft.text.{project.id}.context"
    for at in (first, second):
        at.button(key="draft.edit.context").click().run()
    first.text_area(key=key).input("Le projet remplace un fichier Excel partagé par 12 agences.")
    first.button(key="draft.save.context").click().run()
    assert not first.exception
    second.text_area(key=key).input("Le projet remplace les carnets papier des commerciaux.")
    second.button(key="draft.save.context").click().run()
    assert not second.exception

    page = _texts(second)
    assert f"Cette section a changé depuis son affichage (version {shown} → {shown + 1})" in page
    assert "Version enregistrée entre-temps : v" in page and "par Alice" in page
    assert "fichier Excel partagé par 12 agences" in page
    assert second.text_area(key=key).value == "Le projet remplace les carnets papier des commerciaux."
    history = app.store.section_history(project.id, SectionId.CONTEXT)
    assert [(v.author, v.state) for v in history[shown:]] == [("Alice", SectionState.EDITED)]

    second.button(key="draft.save.context").click().run()  # he read her version: this save is deliberate
    assert not second.exception
    history = app.store.section_history(project.id, SectionId.CONTEXT)
    assert [(v.author, v.text) for v in history[shown:]] == [
        ("Alice", "Le projet remplace un fichier Excel partagé par 12 agences.\n"),
        ("Bruno", "Le projet remplace les carnets papier des commerciaux.\n"),
    ]
    assert [v.version for v in history] == list(range(1, len(history) + 1))


def test_an_approval_while_someone_edits_is_kept_and_the_editor_is_told_in_english(app: Any):
    """On an English project Bruno approves `budget` while Alice is editing it: her save is refused in English,
    Bruno's approved version is shown to her, and the approval stands. Then the other way round: Alice saves an
    edit while Bruno's page still shows the old version, and his approval of it is refused, not applied to a text
    he never read."""
    project, alice, bruno = _two_people(app, language="en")
    editor = _on_draft(app, project.id, alice.id)
    approver = _on_draft(app, project.id, bruno.id)
    shown = workflow.section_view(app.store, project.id, SectionId.BUDGET).version
    editor.button(key="draft.edit.budget").click().run()
    approver.button(key="draft.approve.budget").click().run()
    assert not approver.exception
    editor.text_area(key=f"draft.text.{project.id}.budget").input("Budget: 80 k€ excl. VAT for year one.")
    editor.button(key="draft.save.budget").click().run()
    assert not editor.exception
    page = _texts(editor)
    assert f"This section changed since it was shown (version {shown} → {shown + 1})" in page
    assert "Version saved in the meantime: v" in page and "(Approved) by Bruno" in page
    latest = app.store.latest_sections(project.id)[SectionId.BUDGET]
    assert (latest.state, latest.author, latest.version) == (SectionState.APPROVED, "Bruno", shown + 1)

    editor.button(key="draft.cancel.budget").click().run()
    editor.button(key="draft.edit.timeline").click().run()  # Bruno's page still shows `timeline` as generated
    editor.text_area(key=f"draft.text.{project.id}.timeline").input("Timeline: live before September 2027.")
    editor.button(key="draft.save.timeline").click().run()
    assert not editor.exception
    approver.button(key="draft.approve.timeline").click().run()
    assert not approver.exception
    page = _texts(approver)
    assert "This section changed since it was shown" in page
    assert "Timeline: live before September 2027." in page  # his page now shows the text he did not approve
    latest = app.store.latest_sections(project.id)[SectionId.TIMELINE]
    assert (latest.state, latest.author, latest.text) == (
        SectionState.EDITED,
        "Alice",
        "Timeline: live before September 2027.\n",
    )


def test_two_people_editing_one_requirement_the_second_is_refused_and_sees_the_first(app: Any):
    """Both tables show REQ-001 at version 1; Alice saves, then Bruno's save is refused with a message naming
    Alice and quoting her statement, and the stored requirement is hers (version 2), not his."""
    project, alice, bruno = _two_people(app)
    requirement = Requirement(
        id=app.store.new_id(project.id, Requirement), statement="Le CRM doit envoyer des relances"
    )
    app.store.save_object(project.id, requirement, changed_by="cahier")
    tables = []
    for person in (alice, bruno):
        at = app.open(project=project.id, who=person.id)
        at.switch_page(f"{PAGES}/requirements.py").run()
        tables.append(at)
    for at, statement in zip(
        tables,
        ("Le CRM doit envoyer une relance après 30 jours", "Le CRM doit envoyer une relance chaque lundi"),
        strict=True,
    ):
        editor = at.data_editor[0]
        at.session_state[editor.key] = {
            "edited_rows": {0: {"statement": statement}},
            "added_rows": [],
            "deleted_rows": [],
        }
        at.run()
        [b for b in at.button if b.label == "Enregistrer les modifications"][0].click().run()
        assert not at.exception
    page = _texts(tables[1])
    assert "REQ-001 a été modifiée par quelqu'un d'autre" in page
    assert "Version enregistrée \\: v2 par Alice \\: « Le CRM doit envoyer une relance après 30 jours »" in page
    saved, version = app.store.get_object(project.id, requirement.id, Requirement)
    assert (saved.statement, version) == ("Le CRM doit envoyer une relance après 30 jours", 2)
    assert [h.changed_by for h in app.store.object_history(project.id, requirement.id)] == ["cahier", alice.id]


# -- writer processes on one database -----------------------------------------------------------------------


def _prepare(store: Store) -> str:
    """A project with one speaker, the shared requirement (version 1) and the shared section (one edited version).
    The turn counter and the counters of `FRESH_COUNTERS` are left uncreated: the writers race to create them."""
    project = store.create_project("CRM concurrent", company="Acme")
    store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    shared = Requirement(id=store.new_id(project.id, Requirement), statement="Le CRM doit relancer le client")
    assert shared.id == SHARED_REQUIREMENT
    store.save_object(project.id, shared, changed_by="cahier")
    workflow.edit_section(
        store, project.id, SHARED_SECTION, "Le projet remplace un fichier Excel.", author="cahier", expected_version=0
    )
    return project.id


def _run_writers(url: str, project_id: str, folder: Path) -> list[dict[str, Any]]:
    """Start the writer processes, release them together once all are ready, and gather what each reports."""
    folder.mkdir()
    command = [sys.executable, "-m", "tests.reliability.concurrent_writer", url, project_id]
    processes = [
        subprocess.Popen(
            [*command, str(n), str(OPERATIONS), str(folder)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in range(WRITERS)
    ]
    try:
        deadline = time.monotonic() + 120
        while not all((folder / f"ready-{n}").exists() for n in range(WRITERS)):
            dead = [p for p in processes if p.poll() not in (None, 0)]
            assert not dead, dead[0].communicate()[1]
            assert time.monotonic() < deadline, "the writer processes did not start in time"
            time.sleep(0.05)
        (folder / "go").write_text("go")
        for process in processes:
            _, stderr = process.communicate(timeout=180)
            assert process.returncode == 0, stderr
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    results = []
    for n in range(WRITERS):
        reported = json.loads((folder / f"result-{n}.json").read_text(encoding="utf-8"))
        assert len(reported) == len(FRESH_COUNTERS) + OPERATIONS  # every write has an outcome
        results += reported
    return results


def _check_against_store(store: Store, project_id: str, results: list[dict[str, Any]]) -> dict[str, int]:
    """Every write a process reports was applied exactly as reported or refused with `StaleWriteError`."""
    errors = [r["error"] for r in results if "error" in r]
    assert errors == [], f"{len(errors)} write(s) failed otherwise than with StaleWriteError: {errors[:5]}"
    applied = [r for r in results if r["applied"]]
    refused = [r for r in results if not r["applied"]]
    by_op = Counter(r["op"] for r in applied)

    # Turns: never refused, never lost, never numbered twice.
    turns = [r for r in applied if r["op"] == "turn"]
    assert not [r for r in refused if r["op"] in ("turn", "create", "new_id")]
    assert len(turns) == WRITERS * len(range(0, OPERATIONS, 5))
    stored = store.list_turns(project_id)
    assert [t.id for t in stored] == sorted(r["id"] for r in turns) == list(range(1, len(turns) + 1))
    assert {t.id: t.text for t in stored} == {r["id"]: r["text"] for r in turns}

    # Ids: each reserved once; the racing first reservations of a kind are 001…00n.
    ids = [r["id"] for r in applied if r["op"] in ("new_id", "create")]
    duplicates = [i for i, n in Counter(ids).items() if n > 1]
    assert duplicates == []
    for cls in FRESH_COUNTERS:
        assert sorted(i for i in ids if i.startswith(f"{cls.id_prefix}-")) == [
            f"{cls.id_prefix}-{n:03d}" for n in range(1, WRITERS + 1)
        ]
    created = {r["id"] for r in applied if r["op"] == "create"}
    assert {r.id for r in store.list_objects(project_id, Requirement)} == created | {SHARED_REQUIREMENT}

    # The shared requirement: versions 1…n, each applied update exactly once, under its author.
    updates = sorted((r for r in applied if r["op"] == "update"), key=lambda r: r["version"])
    history = store.object_history(project_id, SHARED_REQUIREMENT)
    assert [h.version for h in history] == list(range(1, len(updates) + 2))
    assert [(h.version, h.data["statement"], h.changed_by) for h in history[1:]] == [
        (r["version"], r["statement"], r["author"]) for r in updates
    ]
    assert all(r["version"] == r["read"] + 1 for r in updates)  # applied only on the version it read

    # The shared section: the same, for edits and approvals.
    writes = sorted((r for r in applied if r["op"] in ("edit", "approve")), key=lambda r: r["version"])
    versions = store.section_history(project_id, SHARED_SECTION)
    assert [v.version for v in versions] == list(range(1, len(writes) + 2))
    states = {"edit": SectionState.EDITED, "approve": SectionState.APPROVED}
    assert [(v.version, v.author, v.state, v.text) for v in versions[1:]] == [
        (r["version"], r["author"], states[r["op"]], r["text"]) for r in writes
    ]
    assert all(r["version"] == r["read"] + 1 for r in writes)

    assert all(r["actual"] != r["expected"] for r in refused)
    assert refused, "no write was refused: the writers never overlapped, so this run proved nothing"
    return {
        "operations": len(results),
        "applied": len(applied),
        "refused": len(refused),
        "turns": len(turns),
        "ids": len(ids),
        "duplicates": len(duplicates),
        **{f"applied_{op}": n for op, n in sorted(by_op.items())},
    }


def test_writer_processes_lose_nothing_and_never_duplicate_an_id(any_store: Store, tmp_path: Path):
    """Three processes each make 100 writes on one project (answers, new requirements, updates of one requirement,
    edits and approvals of one section) and race to create six id counters. Every answer is stored with its own
    turn number, every id is unique, every update or section write either landed on exactly the version it read or
    was refused with `StaleWriteError`, and no other error (`database is locked`, a unique-key violation) escaped
    the store; on SQLite and, with `CAHIER_TEST_POSTGRES_URL`, on PostgreSQL."""
    project_id = _prepare(any_store)
    results = _run_writers(any_store.url, project_id, tmp_path / "writers")
    summary = _check_against_store(any_store, project_id, results)
    print(f"\n{any_store.engine.dialect.name}: {summary}")
