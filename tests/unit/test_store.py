"""The store keeps every turn, object version and section version, on SQLite and PostgreSQL alike."""

import subprocess
import sys
import textwrap
import threading

import pytest

from assistant.errors import AccessDeniedError, InputError, NotFoundError, StaleWriteError, StoreError
from assistant.schemas import (
    MAX_TURN_CHARS,
    Conflict,
    ExtractionStatus,
    Objective,
    Requirement,
    SectionState,
    SlotKey,
    Speaker,
    TurnMeta,
)
from assistant.store import SCHEMA_VERSION, Store


def _req(store: Store, project_id: str, statement: str = "The CRM shall log every call.") -> Requirement:
    return Requirement(id=store.new_id(project_id, Requirement), statement=statement)


def test_project_round_trip(any_store):
    project = any_store.create_project("CRM Acme", language="en", company="Acme")
    assert any_store.get_project(project.id) == project
    assert [p.id for p in any_store.list_projects()] == [project.id]
    renamed = any_store.update_project(project.id, name="CRM Acme 2027")
    assert any_store.get_project(project.id).name == "CRM Acme 2027" == renamed.name


def test_missing_project_is_a_typed_error(any_store):
    with pytest.raises(NotFoundError, match="no project with id 'nope'"):
        any_store.get_project("nope")
    with pytest.raises(NotFoundError):
        any_store.append_turn("nope", Speaker.ASSISTANT, "Bonjour", "fr")


def test_turns_are_numbered_per_project_and_kept_in_order(any_store):
    first = any_store.create_project("A")
    second = any_store.create_project("B")
    alice = any_store.add_stakeholder(first.id, "Alice Martin", "Directrice commerciale")
    t1 = any_store.append_turn(first.id, Speaker.ASSISTANT, "Présentez votre entreprise.", "fr")
    t2 = any_store.append_turn(first.id, Speaker.STAKEHOLDER, "Nous sommes 40.", "fr", stakeholder_id=alice.id)
    other = any_store.append_turn(second.id, Speaker.ASSISTANT, "Hello", "en")
    assert (t1.id, t2.id, other.id) == (1, 2, 1)
    stored = any_store.list_turns(first.id)
    assert [t.text for t in stored] == ["Présentez votre entreprise.", "Nous sommes 40."]
    assert stored[1].stakeholder_id == alice.id
    assert stored[1].created_at.tzinfo is not None
    assert any_store.list_turns(first.id, since_id=1) == [stored[1]]
    assert any_store.get_turn(first.id, 2) == stored[1]


@pytest.mark.parametrize("text", ["", "   \n\t", "x" * (MAX_TURN_CHARS + 1)])
def test_bad_turns_are_refused_and_nothing_is_stored(any_store, text):
    project = any_store.create_project("A")
    with pytest.raises(InputError) as caught:
        any_store.append_turn(project.id, Speaker.ASSISTANT, text, "fr")
    assert caught.value.field == "message"
    assert any_store.list_turns(project.id) == []


def test_stakeholders_get_stable_ids(any_store):
    project = any_store.create_project("A")
    a = any_store.add_stakeholder(project.id, "Alice", "DSI")
    b = any_store.add_stakeholder(project.id, "Bob")
    assert (a.id, b.id) == ("STK-001", "STK-002")
    assert any_store.list_stakeholders(project.id) == [a, b]
    with pytest.raises(InputError, match="name"):
        any_store.add_stakeholder(project.id, "  ")


def test_object_ids_are_sequential_and_never_reused(any_store):
    project = any_store.create_project("A")
    ids = [any_store.new_id(project.id, Requirement) for _ in range(3)]
    assert ids == ["REQ-001", "REQ-002", "REQ-003"]
    any_store.save_object(project.id, Requirement(id=ids[2], statement="Export to CSV"), changed_by="STK-001")
    any_store.delete_object(project.id, ids[2], changed_by="reviewer")
    assert any_store.new_id(project.id, Requirement) == "REQ-004"
    assert any_store.new_id(project.id, Objective) == "OBJ-001"


def test_object_updates_keep_history_with_author_and_turn(any_store):
    project = any_store.create_project("A")
    req = _req(any_store, project.id, "Le budget est de 80 k€")
    assert any_store.save_object(project.id, req, changed_by="STK-001", turn_id=3) == 1
    corrected = req.model_copy(update={"statement": "Le budget est de 95 k€", "source_turn_ids": [3, 7]})
    assert any_store.save_object(project.id, corrected, changed_by="STK-001", turn_id=7) == 2
    # Saving the same content again is not a new version.
    assert any_store.save_object(project.id, corrected, changed_by="STK-001", turn_id=8) == 2

    current, version = any_store.get_object(project.id, req.id, Requirement)
    assert (current.statement, version) == ("Le budget est de 95 k€", 2)
    history = any_store.object_history(project.id, req.id)
    assert [(h.version, h.change, h.turn_id, h.data["statement"]) for h in history] == [
        (1, "created", 3, "Le budget est de 80 k€"),
        (2, "updated", 7, "Le budget est de 95 k€"),
    ]


def test_stale_write_is_refused_not_lost(any_store):
    project = any_store.create_project("A")
    req = _req(any_store, project.id)
    any_store.save_object(project.id, req, changed_by="a")
    _, read_version = any_store.get_object(project.id, req.id, Requirement)
    any_store.save_object(
        project.id, req.model_copy(update={"moscow": "must"}), changed_by="alice", expected_version=read_version
    )
    with pytest.raises(StaleWriteError) as caught:
        any_store.save_object(
            project.id, req.model_copy(update={"moscow": "could"}), changed_by="bob", expected_version=read_version
        )
    assert (caught.value.expected_version, caught.value.actual_version) == (1, 2)
    assert any_store.get_object(project.id, req.id, Requirement)[0].moscow == "must"


def test_an_id_keeps_its_type(any_store):
    project = any_store.create_project("A")
    req = _req(any_store, project.id)
    any_store.save_object(project.id, req, changed_by="a")
    with pytest.raises(NotFoundError):
        any_store.get_object(project.id, req.id, Objective)


def test_list_objects_by_type_in_id_order_without_deleted(any_store):
    project = any_store.create_project("A")
    reqs = [_req(any_store, project.id, f"Requirement number {i}") for i in range(12)]
    for req in reversed(reqs):
        any_store.save_object(project.id, req, changed_by="a")
    any_store.save_object(
        project.id,
        Conflict(
            id=any_store.new_id(project.id, Conflict),
            subject="Budget",
            statements=[
                {"stakeholder_id": "STK-001", "text": "80 k€"},
                {"stakeholder_id": "STK-002", "text": "120 k€"},
            ],
        ),
        changed_by="cahier",
    )
    any_store.delete_object(project.id, reqs[0].id, changed_by="a")
    listed = any_store.list_objects(project.id, Requirement)
    assert [r.id for r in listed] == [r.id for r in reqs[1:]]
    assert len(any_store.list_objects(project.id, Conflict)) == 1
    assert [h.change for h in any_store.object_history(project.id, reqs[0].id)] == ["created", "deleted"]


def test_section_versions_are_append_only(any_store):
    project = any_store.create_project("A")
    v1 = any_store.append_section_version(project.id, "budget", "Budget : 80 k€", state="generated", author="cahier")
    v2 = any_store.append_section_version(
        project.id, "budget", "Budget : 95 k€ HT", state="edited", author="Alice", expected_version=1
    )
    with pytest.raises(StaleWriteError):
        any_store.append_section_version(
            project.id, "budget", "other", state="edited", author="Bob", expected_version=1
        )
    assert [s.version for s in any_store.section_history(project.id, "budget")] == [1, 2]
    latest = any_store.latest_sections(project.id)
    assert latest["budget"].text == "Budget : 95 k€ HT"
    assert latest["budget"].state is SectionState.EDITED
    assert (v1.version, v2.version) == (1, 2)


def test_delete_project_removes_all_its_rows(any_store):
    keep = any_store.create_project("Keep")
    gone = any_store.create_project("Gone")
    for project in (keep, gone):
        person = any_store.add_stakeholder(project.id, "Alice")
        any_store.append_turn(project.id, Speaker.STAKEHOLDER, "Bonjour", "fr", stakeholder_id=person.id)
        any_store.save_object(project.id, _req(any_store, project.id), changed_by=person.id)
        any_store.append_section_version(project.id, "company", "text", state="generated", author="cahier")
        any_store.record_usage(project.id, purpose="extract", model="m", prompt_tokens=10)
    any_store.delete_project(gone.id)
    with pytest.raises(NotFoundError):
        any_store.get_project(gone.id)
    assert any_store.list_turns(gone.id) == []
    assert any_store.list_objects(gone.id, Requirement) == []
    assert any_store.list_usage(gone.id) == []
    assert len(any_store.list_turns(keep.id)) == 1
    assert len(any_store.list_objects(keep.id, Requirement)) == 1


def test_export_then_import_restores_the_project_exactly(any_store):
    project = any_store.create_project("A", company="Acme")
    person = any_store.add_stakeholder(project.id, "Alice", "DSI")
    any_store.append_turn(project.id, Speaker.STAKEHOLDER, "Nous avons 80 k€", "fr", stakeholder_id=person.id)
    req = _req(any_store, project.id)
    any_store.save_object(project.id, req, changed_by=person.id, turn_id=1)
    any_store.save_object(project.id, req.model_copy(update={"moscow": "must"}), changed_by="Bob")
    any_store.append_section_version(project.id, "budget", "80 k€", state="generated", author="cahier")
    rows = any_store.export_rows(project.id)
    any_store.delete_project(project.id)
    assert any_store.import_rows(rows) == project.id
    assert any_store.export_rows(project.id) == rows
    # The counters came back too: the next id continues the sequence.
    assert any_store.new_id(project.id, Requirement) == "REQ-002"
    with pytest.raises(InputError, match="already exists"):
        any_store.import_rows(rows)


def test_an_export_from_before_the_queue_imports_with_one_extraction_state_per_answer(any_store):
    """Exports written before v5 logged every state of an extraction (queued, then done); the import keeps the
    newest of each answer, and the queue's columns get their defaults."""
    project = any_store.create_project("A", company="Acme")
    person = any_store.add_stakeholder(project.id, "Alice", "DSI")
    turn = any_store.append_turn(project.id, Speaker.STAKEHOLDER, "Bonjour", "fr", stakeholder_id=person.id)
    any_store.enqueue_extraction(project.id, turn.id)
    rows = any_store.export_rows(project.id)
    [state] = rows["extractions"]
    old = {k: v for k, v in state.items() if k in ("project_id", "turn_id", "data", "error", "error_kind")}
    rows["extractions"] = [
        {**old, "status": "queued", "created_at": state["created_at"]},
        {**old, "status": "done", "created_at": state["created_at"]},
    ]
    any_store.delete_project(project.id)
    any_store.import_rows(rows)
    imported = any_store.extraction_states(project.id)[turn.id]
    assert (imported.status, imported.attempts) == (ExtractionStatus.DONE, 0)


def test_concurrent_writers_do_not_fail_or_duplicate_ids(tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    project = Store(url).create_project("A")
    ids: list[str] = []
    errors: list[BaseException] = []

    def writer() -> None:
        store = Store(url)
        try:
            for i in range(15):
                req = _req(store, project.id, f"Requirement {i}")
                store.save_object(project.id, req, changed_by="t")
                ids.append(req.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert len(ids) == len(set(ids)) == 60
    assert len(Store(url).list_objects(project.id, Requirement)) == 60


def test_store_file_written_by_one_process_is_read_by_another(tmp_path):
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    script = textwrap.dedent(
        f"""
        from assistant.store import Store
        from assistant.schemas import Requirement, Speaker
        s = Store({url!r})
        p = s.create_project("Cross-process", language="en")
        person = s.add_stakeholder(p.id, "Ann")
        s.append_turn(p.id, Speaker.STAKEHOLDER, "We need a mobile app", "en", stakeholder_id=person.id)
        req = Requirement(id=s.new_id(p.id, Requirement), statement="Mobile app for reps")
        s.save_object(p.id, req, changed_by=person.id)
        print(p.id)
        """
    )
    project_id = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.strip()
    store = Store(url)
    assert store.get_project(project_id).name == "Cross-process"
    assert store.list_turns(project_id)[0].text == "We need a mobile app"
    assert store.list_objects(project_id, Requirement)[0].statement == "Mobile app for reps"
    assert store.schema_version() == SCHEMA_VERSION


def test_sqlite_runs_in_wal_mode(store):
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_newer_schema_is_refused(tmp_path):
    url = f"sqlite:///{tmp_path / 'future.db'}"
    store = Store(url)
    with store.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO schema_version (version) VALUES (999)")
    store.close()
    with pytest.raises(StoreError, match="newer than this Cahier"):
        Store(url)


def test_unreachable_database_is_a_store_error_without_password(tmp_path):
    with pytest.raises(StoreError) as caught:
        Store("postgresql+psycopg://cahier:s3cret-pw@127.0.0.1:1/cahier")
    assert "s3cret-pw" not in str(caught.value)


def test_a_version_1_database_is_migrated_in_place(tmp_path):
    """A database written before turns had `meta` gains the column and the extraction log, data intact."""
    url = f"sqlite:///{tmp_path / 'old.db'}"
    store = Store(url)
    project = store.create_project("Old")
    store.append_turn(project.id, Speaker.ASSISTANT, "Bonjour", "fr")
    with store.engine.begin() as conn:  # turn the file back into a version-1 database
        conn.exec_driver_sql("ALTER TABLE turns DROP COLUMN meta")
        conn.exec_driver_sql("DROP TABLE extractions")
        for table in ("project_access", "access_links", "access_failures"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 2")
    store.close()
    upgraded = Store(url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    assert upgraded.list_turns(project.id)[0].text == "Bonjour"
    meta = TurnMeta(slot=SlotKey.parse("company.identity"))
    upgraded.append_turn(project.id, Speaker.ASSISTANT, "Suite", "fr", meta=meta)
    assert upgraded.list_turns(project.id)[1].meta == meta
    upgraded.enqueue_extraction(project.id, 2)
    assert upgraded.extraction_states(project.id)[2].status is ExtractionStatus.QUEUED


def test_a_version_3_database_splits_extraction_errors_into_kind_and_message(tmp_path):
    """Before v4 a failed extraction logged `ErrorType: message`; the upgrade moves the type to `error_kind`."""
    url = f"sqlite:///{tmp_path / 'v3.db'}"
    store = Store(url)
    project = store.create_project("Old")
    store.enqueue_extraction(project.id, 1)
    store.enqueue_extraction(project.id, 2)
    with store.engine.begin() as conn:  # turn the file back into a version-3 database
        conn.exec_driver_sql("UPDATE extractions SET status = 'failed'")
        conn.exec_driver_sql("ALTER TABLE extractions DROP COLUMN error_kind")
        conn.exec_driver_sql("UPDATE extractions SET error = 'ModelTimeoutError: no answer in 180 s' WHERE turn_id = 1")
        conn.exec_driver_sql("UPDATE extractions SET error = 'the server said: no' WHERE turn_id = 2")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 4")
    store.close()
    upgraded = Store(url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    states = upgraded.extraction_states(project.id)
    assert (states[1].error_kind, states[1].error) == ("ModelTimeoutError", "no answer in 180 s")
    assert (states[2].error_kind, states[2].error) == ("", "the server said: no")  # not a type name: kept whole


def test_a_version_4_extraction_log_becomes_the_queue_with_one_row_per_answer(tmp_path):
    """Before v5 every state of an extraction was a row of its own; the upgrade keeps the newest state of each
    answer, adds the queue's columns, and a later enqueue of the same answer reuses its row."""
    url = f"sqlite:///{tmp_path / 'v4.db'}"
    store = Store(url)
    project = store.create_project("Old")
    with store.engine.begin() as conn:  # turn the file back into a version-4 database, with a v4 log
        conn.exec_driver_sql("DROP INDEX uq_extractions_turn")
        for column in ("attempts", "lease_token", "lease_expires_at", "available_at", "started_at", "finished_at"):
            conn.exec_driver_sql(f"ALTER TABLE extractions DROP COLUMN {column}")
        for turn_id, status in ((2, "queued"), (2, "failed"), (2, "queued"), (2, "done"), (4, "queued")):
            conn.exec_driver_sql(
                "INSERT INTO extractions (project_id, turn_id, status, error, error_kind, created_at) "
                f"VALUES ('{project.id}', {turn_id}, '{status}', '', '', '2026-11-30 10:00:00')"
            )
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 5")
    store.close()
    upgraded = Store(url)
    assert upgraded.schema_version() == SCHEMA_VERSION
    states = upgraded.extraction_states(project.id)
    assert {turn: state.status for turn, state in states.items()} == {2: "done", 4: "queued"}
    assert states[4].attempts == 0  # an answer left queued forever by an old version is claimable now
    upgraded.enqueue_extraction(project.id, 2)
    assert upgraded.extraction_states(project.id)[2].status is ExtractionStatus.QUEUED
    with upgraded.engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM extractions").scalar() == 2


def test_a_version_2_database_gains_the_access_tables(tmp_path):
    """A database written before access codes is migrated to v3 in place: data intact, projects unprotected."""
    from assistant import access

    url = f"sqlite:///{tmp_path / 'v2.db'}"
    store = Store(url)
    project = store.create_project("Old")
    store.append_turn(project.id, Speaker.ASSISTANT, "Bonjour", "fr")
    with store.engine.begin() as conn:  # turn the file back into a version-2 database
        for table in ("project_access", "access_links", "access_failures"):
            conn.exec_driver_sql(f"DROP TABLE {table}")
        conn.exec_driver_sql("DELETE FROM schema_version WHERE version >= 3")
    store.close()
    upgraded = Store(url)
    assert upgraded.schema_version() == SCHEMA_VERSION == 5
    assert upgraded.list_turns(project.id)[0].text == "Bonjour"
    assert not access.is_protected(upgraded, project.id)
    access.set_code(upgraded, project.id, "a long enough code")
    assert access.check_code(upgraded, project.id, "a long enough code") is not None


def test_deleting_a_project_leaves_no_row_with_its_id_in_any_table(any_store):
    """Every table of the schema is checked: the deleted project's rows are gone, the other project's remain."""
    from sqlalchemy import func, select

    from assistant import access
    from assistant.store import metadata, projects

    keep = any_store.create_project("Keep")
    gone = any_store.create_project("Gone")
    for project in (keep, gone):
        person = any_store.add_stakeholder(project.id, "Alice")
        turn = any_store.append_turn(project.id, Speaker.STAKEHOLDER, "Bonjour", "fr", stakeholder_id=person.id)
        any_store.save_object(project.id, _req(any_store, project.id), changed_by=person.id)
        any_store.append_section_version(project.id, "company", "text", state="generated", author="cahier")
        any_store.enqueue_extraction(project.id, turn.id)
        any_store.record_usage(project.id, purpose="extract", model="m", prompt_tokens=10)
        access.set_code(any_store, project.id, "a long enough code")
        access.create_link(any_store, project.id, "a long enough code")
        with pytest.raises(AccessDeniedError):
            access.check_code(any_store, project.id, "a wrong code!")

    def counts(project_id: str) -> dict[str, int]:
        with any_store.engine.connect() as conn:
            return {
                table.name: conn.execute(
                    select(func.count())
                    .select_from(table)
                    .where((table.c.id if table is projects else table.c.project_id) == project_id)
                ).scalar()
                for table in metadata.sorted_tables
                if table is projects or "project_id" in table.c
            }

    owned = {table.name for table in metadata.sorted_tables if "project_id" in table.c} | {"projects"}
    assert set(counts(gone.id)) == owned and len(owned) == 12  # a new table must be added to this test's data
    assert all(counts(gone.id).values())  # every table held a row of the project before the delete
    any_store.delete_project(gone.id)
    assert counts(gone.id) == dict.fromkeys(owned, 0)
    assert all(counts(keep.id).values())
