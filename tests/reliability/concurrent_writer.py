"""One writer process of the concurrency tests: hammers a shared project through the store and logs every outcome.

Run as ``python -m tests.reliability.concurrent_writer URL PROJECT WORKER OPERATIONS DIR``. The process opens its
own `Store`, writes ``DIR/ready-WORKER``, waits for ``DIR/go`` so that every writer starts at once, then mixes
the writes two people make on one project: answers (turns), new requirements (new ids), updates of one shared
requirement and edits and approvals of one shared draft section, the last two from a version read a moment
earlier, as a page would. Every outcome goes to ``DIR/result-WORKER.json``: what was applied (with the id or
version the store returned), what was refused with `StaleWriteError`, and any other exception as an error.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

from assistant.draft import workflow
from assistant.errors import StaleWriteError
from assistant.schemas import Conflict, Constraint, Objective, OpenQuestion, Requirement, Risk, Speaker, UseCase
from assistant.store import Store

SHARED_REQUIREMENT = "REQ-001"
"""The requirement every writer updates; the parent creates it before the writers start."""

SHARED_SECTION = "context"
"""The draft section every writer edits and approves; the parent stores a first edited version."""

FRESH_COUNTERS = (Objective, Constraint, UseCase, Risk, OpenQuestion, Conflict)
"""Object kinds with no id yet: every writer asks for one at the same instant, racing on the counter's creation."""

READ_WRITE_GAP_S = 0.004
"""Longest pause between reading a version and writing on it, so that writers overlap as people do."""


def _stakeholder(store: Store, project_id: str) -> str:
    return store.list_stakeholders(project_id)[0].id


def _latest_section_version(store: Store, project_id: str) -> int:
    history = store.section_history(project_id, SHARED_SECTION)
    return history[-1].version if history else 0


def _write(store: Store, project_id: str, speaker: str, rng: random.Random, tag: str, kind: int) -> dict[str, Any]:
    """One write of kind 0 (answer), 1 (new requirement), 2 (update the shared requirement), 3 (edit the shared
    section) or 4 (approve it); returns what was applied, and lets `StaleWriteError` through."""
    if kind == 0:
        text = f"Réponse {tag} : nous avons 40 commerciaux."
        turn = store.append_turn(project_id, Speaker.STAKEHOLDER, text, "fr", stakeholder_id=speaker)
        return {"op": "turn", "id": turn.id, "text": text}
    if kind == 1:
        new_id = store.new_id(project_id, Requirement)
        requirement = Requirement(id=new_id, statement=f"Le CRM doit tracer l'appel {tag}")
        version = store.save_object(project_id, requirement, changed_by=tag, expected_version=0)
        return {"op": "create", "id": new_id, "version": version}
    if kind == 2:
        current, read = store.get_object(project_id, SHARED_REQUIREMENT, Requirement)
        time.sleep(rng.random() * READ_WRITE_GAP_S)
        statement = f"Le CRM doit relancer le client sous 30 jours ({tag})"
        changed = current.model_copy(update={"statement": statement})
        return {"op": "update", "read": read, "statement": statement, "author": tag} | {
            "version": store.save_object(project_id, changed, changed_by=tag, expected_version=read)
        }
    read = _latest_section_version(store, project_id)
    time.sleep(rng.random() * READ_WRITE_GAP_S)
    if kind == 3:
        text = f"Le projet remplace un fichier Excel partagé ({tag})."
        saved = workflow.edit_section(store, project_id, SHARED_SECTION, text, author=tag, expected_version=read)
        return {"op": "edit", "read": read, "author": tag, "text": saved.text, "version": saved.version}
    saved = workflow.approve_section(store, project_id, SHARED_SECTION, author=tag, expected_version=read)
    return {"op": "approve", "read": read, "author": tag, "text": saved.text, "version": saved.version}


_OPS = ("turn", "create", "update", "edit", "approve")


def run(url: str, project_id: str, worker: int, operations: int, folder: Path) -> None:
    store = Store(url)
    speaker = _stakeholder(store, project_id)
    rng = random.Random(worker)
    (folder / f"ready-{worker}").write_text("ready")
    deadline = time.monotonic() + 120
    while not (folder / "go").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the parent never said go")
        time.sleep(0.002)

    results: list[dict[str, Any]] = []
    for cls in FRESH_COUNTERS:
        try:
            results.append({"op": "new_id", "applied": True, "id": store.new_id(project_id, cls)})
        except Exception as exc:  # recorded, not raised: the parent fails the test and shows every one
            results.append({"op": "new_id", "error": f"{type(exc).__name__}: {exc}"})
    for step in range(operations):
        kind = step % len(_OPS)
        try:
            results.append({"applied": True, **_write(store, project_id, speaker, rng, f"w{worker}-{step}", kind)})
        except StaleWriteError as exc:
            results.append(
                {"op": _OPS[kind], "applied": False, "expected": exc.expected_version, "actual": exc.actual_version}
            )
        except Exception as exc:  # recorded, not raised, as above
            results.append({"op": _OPS[kind], "error": f"{type(exc).__name__}: {exc}"})

    store.close()
    (folder / f"result-{worker}.json").write_text(json.dumps(results), encoding="utf-8")


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
