"""The extraction queue across real processes and real databases: apps and workers share it, each answer is
extracted exactly once and in turn order per project, a frozen worker's answer moves on and its late commit is
refused, and `cahier worker` extracts what the app queued."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader
from assistant.interview.worker import QueuePolicy
from assistant.schemas import ExtractionStatus, Objective, Requirement, Speaker
from assistant.store import Store
from tests.contract.fake_openai import FakeOpenAIServer, completion
from tests.reliability.queue_app import POLICY, EchoModel

ROOT = Path(__file__).resolve().parents[2]
PROJECTS = 3
ANSWERS_PER_APP = 5

pytestmark = pytest.mark.skipif(not hasattr(signal, "SIGSTOP"), reason="needs POSIX signals")


def _spawn(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.queue_app", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)
        process.kill()
    process.wait(timeout=30)


def test_two_apps_and_a_worker_extract_every_answer_once_in_turn_order(any_store: Store):
    """Two app processes (each with its own worker) answer 3 projects concurrently, 5 answers each per project,
    while a third process runs a worker: every one of the 30 answers is extracted exactly once (one model call,
    one attempt), in turn order within its project, and the objects' ids are unique and follow that order."""
    pairs = []
    for number in range(PROJECTS):
        project = any_store.create_project(f"Projet {number}")
        person = any_store.add_stakeholder(project.id, "Alice")
        Interview(any_store, EchoModel("setup"), reader=FindingsReader()).start(project.id)
        pairs.append(f"{project.id}:{person.id}")
    worker = _spawn("work", any_store.url, "w", "120")
    apps = [_spawn("answer", any_store.url, tag, str(ANSWERS_PER_APP), *pairs) for tag in ("a1", "a2")]
    try:
        for app in apps:
            out, err = app.communicate(timeout=180)
            assert app.returncode == 0 and "DONE" in out, err[-2000:]
    finally:
        for process in (*apps, worker):
            _stop(process)

    extractors = set()
    for pair in pairs:
        project_id = pair.split(":")[0]
        answers = [t for t in any_store.list_turns(project_id) if t.speaker is Speaker.STAKEHOLDER]
        assert len(answers) == 2 * ANSWERS_PER_APP
        states = any_store.extraction_states(project_id)
        assert {(states[t.id].status, states[t.id].attempts) for t in answers} == {(ExtractionStatus.DONE, 1)}
        calls = [u for u in any_store.list_usage(project_id) if u["purpose"] == "extract"]
        assert sorted(u["turn_id"] for u in calls) == [t.id for t in answers]  # exactly once each
        assert [u["turn_id"] for u in calls] == [t.id for t in answers]  # and in turn order
        extractors |= {u["model"] for u in calls}
        objectives = any_store.list_objects(project_id, Objective)
        assert [o.source_turn_ids for o in objectives] == [[t.id] for t in answers]  # ids follow the turns
        assert len({o.id for o in objectives}) == len(answers)
        for objective, turn in zip(objectives, answers, strict=True):
            assert objective.statement.split()[-1] in turn.text
    assert extractors <= {"echo-a1", "echo-a2", "echo-w"} and len(extractors) >= 2


def test_a_frozen_workers_answer_goes_to_another_and_its_late_commit_is_refused(any_store: Store):
    """SIGSTOP a worker in the middle of a model call: once its lease runs out another worker extracts the answer
    (attempt 2); when the frozen one resumes and finishes its call, its commit is refused: one objective, one
    creation in its history, and the answer stays done."""
    project = any_store.create_project("Gel")
    person = any_store.add_stakeholder(project.id, "Alice")
    turn = any_store.append_turn(
        project.id, Speaker.STAKEHOLDER, "Réponse ANS-x-0-0 sur les devis.", "fr", stakeholder_id=person.id
    )
    any_store.enqueue_extraction(project.id, turn.id)
    frozen = _spawn("work", any_store.url, "frozen", "60", env={"QUEUE_APP_DELAY_S": "1.5"})
    taker = Interview(any_store, EchoModel("taker"), policy=POLICY, reader=FindingsReader())
    try:
        deadline = time.monotonic() + 60
        while any_store.extraction_state(project.id, turn.id).status is not ExtractionStatus.RUNNING:  # type: ignore[union-attr]
            assert time.monotonic() < deadline, "the worker never claimed the answer"
            time.sleep(0.05)
        frozen.send_signal(signal.SIGSTOP)
        time.sleep(POLICY.lease_s + 0.5)
        taker.start_workers()
        assert taker.wait(project.id, turn.id, timeout=30)
        frozen.send_signal(signal.SIGCONT)
        time.sleep(3)  # the frozen worker finishes its call and tries to commit
    finally:
        taker.close()
        _stop(frozen)
    state = any_store.extraction_state(project.id, turn.id)
    assert state is not None and (state.status, state.attempts) == (ExtractionStatus.DONE, 2)
    [objective] = any_store.list_objects(project.id, Objective)
    assert [v.change for v in any_store.object_history(project.id, objective.id)] == ["created"]
    calls = [u["model"] for u in any_store.list_usage(project.id) if u["purpose"] == "extract"]
    assert "echo-taker" in calls and "echo-frozen" in calls  # the frozen one did reach its commit


def test_cahier_worker_extracts_what_the_app_queued_through_a_real_http_model(tmp_path: Path):
    """`cahier worker` on its own: the answer an app queued (with no worker of its own) is extracted through an
    OpenAI-compatible server over loopback, and SIGTERM stops the worker cleanly."""
    url = f"sqlite:///{tmp_path / 'cahier.db'}"
    store = Store(url)
    project = store.create_project("CRM Acme", language="fr")
    person = store.add_stakeholder(project.id, "Alice")
    app = Interview(store, EchoModel("unused"), policy=QueuePolicy(workers=0))
    app.start(project.id)
    result = app.handle_turn(
        project.id, person.id, "Il faut absolument que le CRM relance les devis après quinze jours."
    )
    assert app.extraction_status(project.id, result.turn_id) is ExtractionStatus.QUEUED
    found = '{"asks": true, "statements": ["Le CRM doit relancer les devis après quinze jours."]}'
    with FakeOpenAIServer() as server:
        server.push(completion(found))
        env = {
            **os.environ,
            "CAHIER_DATABASE_URL": url,
            "CAHIER_DATA_DIR": str(tmp_path / "data"),
            "OPENAI_BASE_URL": server.base_url,
            "CAHIER_MODEL": "fake-model",
            "CAHIER_EXTRACTION_POLL_S": "0.05",
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "assistant.cli", "worker"], cwd=ROOT, env=env, text=True, stdout=subprocess.PIPE
        )
        try:
            assert app.wait(project.id, result.turn_id, timeout=60)
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=30) == 0
        finally:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
    assert app.extraction_status(project.id, result.turn_id) is ExtractionStatus.DONE
    [requirement] = store.list_objects(project.id, Requirement)
    assert (requirement.statement, requirement.moscow) == ("Le CRM doit relancer les devis après quinze jours.", "must")
    store.close()
