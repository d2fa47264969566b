"""Run by the SIGKILL test in its own process: store one answer whose extraction then blocks forever.

Usage: `python -m tests.reliability.blocked_turn DB_PATH PROJECT_ID STAKEHOLDER_ID ANSWER`. Prints `STORED <turn id>`
once `handle_turn` has returned (the answer and the next question are committed) and `EXTRACTING` once the
model call has begun, then waits to be killed. Its worker's lease is `LEASE_S`, so that a restarted app takes the
answer over soon after the kill.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Sequence

from assistant.interview.service import Interview
from assistant.interview.testing import FindingsReader
from assistant.interview.worker import QueuePolicy
from assistant.models.port import ChatModel, Extraction, Message, StreamedReply, T
from assistant.store import Store

LEASE_S = 2.0


class BlockedChatModel(ChatModel):
    """A model whose every call starts and never returns, like a server that stopped mid-answer."""

    name = "blocked"

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        threading.Event().wait()
        raise AssertionError("unreachable")

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        print("EXTRACTING", flush=True)
        threading.Event().wait()
        raise AssertionError("unreachable")


def main(db_path: str, project_id: str, stakeholder_id: str, answer: str) -> None:
    store = Store(f"sqlite:///{db_path}")
    interview = Interview(store, BlockedChatModel(), policy=QueuePolicy(lease_s=LEASE_S), reader=FindingsReader())
    result = interview.handle_turn(project_id, stakeholder_id, answer)
    print(f"STORED {result.turn_id}", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(*sys.argv[1:5])
