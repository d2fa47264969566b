"""Extraction queue: throughput with 1, 2 and 4 workers, and the delay before an answer is claimed.

The model is a double (`EmptyFindingsModel`) that takes a fixed 200 ms per answer (`--model-ms`), so the figures
are the queue's own: claims, leases, merges and commits against a real database. Answers are spread over 8
projects, since a project's answers are extracted one after the other. The claim delay is measured on an idle
queue, from an answer being stored to a worker claiming it (database timestamps): once when the answer comes from
another process (the worker finds it by polling), once from the worker's own process (the enqueue wakes it).

    python bench/extraction_queue.py [--json PATH] [--database-url URL] [--answers N] [--model-ms MS]

PostgreSQL is used when `--database-url` or `CAHIER_TEST_POSTGRES_URL` names a server (each run gets a database
of its own, dropped afterwards); otherwise a SQLite file, and the report says so.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select, text  # noqa: E402

from assistant.interview.extraction import Extractor  # noqa: E402
from assistant.interview.service import Interview  # noqa: E402
from assistant.interview.worker import ModelRouter, QueuePolicy, WorkerPool  # noqa: E402
from assistant.models.testing import EmptyFindingsModel  # noqa: E402
from assistant.schemas import Speaker  # noqa: E402
from assistant.store import Store  # noqa: E402
from assistant.store.tables import extractions  # noqa: E402
from bench._report import report  # noqa: E402

PROJECTS = 8
POLICY = QueuePolicy(workers=1, lease_s=30.0, poll_s=0.1)


@contextmanager
def database(server: str | None, tmp: Path) -> Iterator[Store]:
    """A store in an empty database: a new PostgreSQL database on `server`, else a new SQLite file."""
    if not server:
        store = Store(f"sqlite:///{tmp / f'{uuid.uuid4().hex}.db'}")
        yield store
        store.close()
        return
    name = f"cahier_bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    store = Store(f"{server.rpartition('/')[0]}/{name}")
    try:
        yield store
    finally:
        store.close()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def _answers(store: Store, count: int) -> list[tuple[str, int]]:
    """Store `count` answers over the projects and queue them, as apps would."""
    people = []
    for number in range(PROJECTS):
        project = store.create_project(f"Bench {number}")
        people.append((project.id, store.add_stakeholder(project.id, "Alice").id))
    queued = []
    for number in range(count):
        project_id, person_id = people[number % PROJECTS]
        turn = store.append_turn(project_id, Speaker.STAKEHOLDER, f"Réponse {number}.", "fr", stakeholder_id=person_id)
        store.enqueue_extraction(project_id, turn.id)
        queued.append((project_id, turn.id))
    return queued


def _settled(store: Store, queued: list[tuple[str, int]]) -> bool:
    return all(not (s := store.extraction_state(p, t)) or not s.status.pending for p, t in queued)


def throughput(server: str | None, tmp: Path, workers: int, answers: int, model_s: float) -> float:
    """Answers per second with `workers` workers, from the first claim to the last commit."""
    with database(server, tmp) as store:
        queued = _answers(store, answers)
        pool = WorkerPool(
            Extractor(store),
            ModelRouter(EmptyFindingsModel(name="fixed-latency", delay_s=model_s)),
            POLICY,
        )
        started = time.perf_counter()
        pool.start(workers)
        while not _settled(store, queued):
            time.sleep(0.02)
        elapsed = time.perf_counter() - started
        pool.stop()
        return answers / elapsed


def claim_delays(server: str | None, tmp: Path, samples: int, *, same_process: bool) -> list[float]:
    """Milliseconds from an answer being queued to its claim, on an idle queue, one answer at a time."""
    delays = []
    with database(server, tmp) as store:
        project = store.create_project("Delay")
        person = store.add_stakeholder(project.id, "Alice")
        interview = Interview(store, EmptyFindingsModel(), policy=POLICY)
        interview.start_workers()
        time.sleep(0.5)  # the worker is idle and polling
        for number in range(samples):
            if same_process:
                turn = interview.record_answer(project.id, person.id, f"Réponse {number}.")
            else:
                turn = store.append_turn(
                    project.id, Speaker.STAKEHOLDER, f"Réponse {number}.", "fr", stakeholder_id=person.id
                )
                store.enqueue_extraction(project.id, turn.id)
            interview.wait(project.id, turn.id, timeout=30)
            with store.engine.connect() as conn:
                row = conn.execute(
                    select(extractions.c.created_at, extractions.c.started_at).where(
                        extractions.c.project_id == project.id, extractions.c.turn_id == turn.id
                    )
                ).one()
            delays.append((row.started_at - row.created_at).total_seconds() * 1000)
            time.sleep(random.uniform(0.05, 0.3))  # land at a random point of the polling cycle each time
        interview.close()
    return delays


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--database-url", default=os.environ.get("CAHIER_TEST_POSTGRES_URL"))
    parser.add_argument("--answers", type=int, default=48)
    parser.add_argument("--model-ms", type=float, default=200.0)
    parser.add_argument("--samples", type=int, default=30)
    args = parser.parse_args()
    server = args.database_url
    figures: dict[str, float | int | str] = {
        "engine": "postgresql" if server else "sqlite",
        "model_ms": args.model_ms,
        "answers": args.answers,
        "projects": PROJECTS,
        "poll_s": POLICY.poll_s,
    }
    with tempfile.TemporaryDirectory() as tmp:
        for workers in (1, 2, 4):
            rate = throughput(server, Path(tmp), workers, args.answers, args.model_ms / 1000)
            figures[f"answers_per_s_{workers}_workers"] = rate
        figures["ideal_answers_per_s_1_worker"] = 1000 / args.model_ms
        for same, label in ((False, "other_process"), (True, "same_process")):
            delays = claim_delays(server, Path(tmp), args.samples, same_process=same)
            figures[f"median_claim_delay_ms_{label}"] = statistics.median(delays)
            figures[f"max_claim_delay_ms_{label}"] = max(delays)
    report("Extraction queue (model: fixed latency)", figures, args.json)


if __name__ == "__main__":
    main()
