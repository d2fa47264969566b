"""Run by the queue tests in their own processes: an app that answers, or a worker that only extracts.

Usage:
    python -m tests.reliability.queue_app answer DB_URL TAG COUNT PROJECT:STAKEHOLDER [PROJECT:STAKEHOLDER …]
    python -m tests.reliability.queue_app work DB_URL TAG SECONDS

`answer` stores COUNT answers in each project (with one extraction worker of its own, as the app has) and exits
once every answer of those projects is settled; `work` runs one extraction worker for SECONDS, or until SIGSTOP/
SIGKILL says otherwise. The model (`EchoModel`) turns each answer into one objective quoting its marker, so the
test can check that every answer was extracted exactly once, by whom, and in which order.
"""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Sequence

from assistant.interview.extraction import Extractor
from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader, turn_findings
from assistant.interview.worker import ModelRouter, QueuePolicy, WorkerPool
from assistant.models.port import ChatModel, Extraction, Message, StreamedReply, T, Usage
from assistant.store import Store

MARKER = re.compile(r"ANS-[A-Za-z0-9]+-\d+-\d+")
POLICY = QueuePolicy(workers=1, lease_s=2.0, poll_s=0.05, retry_s=0.1)
"""Short lease and fast polling, so that a frozen worker's answers move on within seconds."""


class EchoModel(ChatModel):
    """Answers every extraction with one objective that quotes the answer's marker, after `delay_s`."""

    def __init__(self, tag: str, delay_s: float = 0.05) -> None:
        self.name = f"echo-{tag}"
        self.delay_s = delay_s

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        return StreamedReply(iter(["OK"]), Usage(model=self.name))

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        time.sleep(self.delay_s)
        marker = MARKER.findall(messages[-1].content)[-1]  # the answer comes last in the prompt
        objective = {
            "statement": f"Objectif {marker}",
            "scope": "internal",
            "metric": None,
            "baseline": None,
            "target": None,
            "deadline_text": None,
        }
        found = schema.model_validate(turn_findings(objectives=(objective,)))
        return Extraction(found, Usage(model=self.name, prompt_tokens=1, completion_tokens=1, latency_ms=1))


def answer(url: str, tag: str, count: int, pairs: list[str]) -> None:
    store = Store(url)
    interview = Interview(store, EchoModel(tag), policy=POLICY, reader=FindingsReader())
    projects = [pair.split(":") for pair in pairs]
    for number in range(count):
        for project_id, stakeholder_id in projects:
            text = f"Réponse ANS-{tag}-{number}-{projects.index([project_id, stakeholder_id])} sur le suivi des devis."
            interview.handle_turn(project_id, stakeholder_id, text)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if not any(s.status.pending for p, _ in projects for s in store.extraction_states(p).values()):
            break
        time.sleep(0.1)
    interview.close()
    print("DONE", flush=True)


def work(url: str, tag: str, seconds: float) -> None:
    store = Store(url)
    model = EchoModel(tag, delay_s=float(os.environ.get("QUEUE_APP_DELAY_S", "0.05")))
    pool = WorkerPool(Extractor(store, FindingsReader()), ModelRouter(model), POLICY)
    pool.start()
    print("WORKING", flush=True)
    time.sleep(seconds)
    pool.stop()


if __name__ == "__main__":
    command, url, tag, *rest = sys.argv[1:]
    if command == "answer":
        answer(url, tag, int(rest[0]), rest[1:])
    else:
        work(url, tag, float(rest[0]))
