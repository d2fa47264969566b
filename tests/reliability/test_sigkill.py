"""A process killed with SIGKILL in the middle of an extraction loses no word, and the restarted app extracts the
answer by itself: nobody runs `cahier reextract`."""

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
from assistant.interview.testing import turn_findings as findings
from assistant.models.testing import ScriptedChatModel
from assistant.schemas import ExtractionStatus, Requirement, Speaker
from assistant.store import Store
from tests.reliability.blocked_turn import LEASE_S
from tests.reliability.invariants import assert_intact, snapshot

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "Nos 40 commerciaux doivent saisir leurs comptes rendus de visite sur mobile, même hors connexion. 📱"
STATEMENT = "Les commerciaux doivent saisir un compte rendu de visite sur mobile"


def _read_markers(process: subprocess.Popen[str], markers: tuple[str, ...], deadline: float) -> dict[str, str]:
    """The child's lines that start with each marker, in whatever order they come (its worker thread may begin
    extracting before its main thread reports the answer stored)."""
    assert process.stdout is not None
    seen: dict[str, str] = {}
    while time.monotonic() < deadline and len(seen) < len(markers):
        line = process.stdout.readline()
        for marker in markers:
            if line.startswith(marker):
                seen[marker] = line.strip()
        if not line and process.poll() is not None:
            raise AssertionError(f"the child exited ({process.returncode}) before {markers}: {process.stderr.read()}")
    if len(seen) < len(markers):
        raise AssertionError(f"no {markers} from the child in time (got {seen})")
    return seen


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_sigkill_during_extraction_keeps_the_answer_and_the_restarted_app_extracts_it(tmp_path: Path):
    """Kill -9 while the model is answering: the answer is stored with its text intact, its extraction is still
    claimed by the dead worker, every earlier row is unchanged; an app started again takes the answer over once the
    dead worker's lease has run out, and extracts it (attempt 2) with no manual step."""
    db = tmp_path / "cahier.db"
    store = Store(f"sqlite:///{db}")
    project = store.create_project("CRM Acme", language="fr", company="Acme")
    person = store.add_stakeholder(project.id, "Alice", "Directrice commerciale")
    Interview(store, ScriptedChatModel()).start(project.id)
    before = snapshot(store, project.id)
    store.close()

    process = subprocess.Popen(
        [sys.executable, "-m", "tests.reliability.blocked_turn", str(db), project.id, person.id, ANSWER],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
    )
    try:
        deadline = time.monotonic() + 120
        stored = _read_markers(process, ("STORED", "EXTRACTING"), deadline)["STORED"]
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    turn_id = int(stored.split()[1])

    store = Store(f"sqlite:///{db}")
    try:
        after = snapshot(store, project.id)
        assert_intact(before, after, new_turns=2)
        answer = store.get_turn(project.id, turn_id)
        assert (answer.speaker, answer.stakeholder_id, answer.text) == (Speaker.STAKEHOLDER, person.id, ANSWER)
        assert answer.text.encode("utf-8") == ANSWER.encode("utf-8")
        assert store.extraction_states(project.id)[turn_id].status is ExtractionStatus.RUNNING
        assert store.list_objects(project.id, Requirement) == []

        model = ScriptedChatModel([findings(requirements=((STATEMENT, "must"),))])
        restarted = Interview(store, model, reader=FindingsReader())
        restarted.start_workers()  # what the app does when it starts
        assert restarted.wait(project.id, turn_id, timeout=LEASE_S + 30)
        restarted.close()
        assert ANSWER in model.calls[0].messages[-1].content  # the stored words are what the model was sent
        assert [r.statement for r in store.list_objects(project.id, Requirement)] == [STATEMENT]
        state = store.extraction_states(project.id)[turn_id]
        assert (state.status, state.attempts) == (ExtractionStatus.DONE, 2)
    finally:
        store.close()
