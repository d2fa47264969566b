"""A reader double for the tests of what happens *after* an answer is read (merge, queue, faults, the pages).

`FindingsReader` asks the model for the whole `TurnFindings` in one call, so a `ScriptedChatModel` scripts what
an answer contains (`turn_findings`) and a `FaultInjectingChatModel` fails that call as a server would. The
production reader (`reading.read_answer`) has its own tests, with the model calls it really makes.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from assistant.interview.reading import Reading
from assistant.models.port import ChatModel, Message
from assistant.schemas import SlotKey, Turn, TurnFindings


class FindingsReader:
    """Reads an answer with one model call whose answer is the findings themselves."""

    def __call__(self, turn: Turn, key: SlotKey | None, model: ChatModel) -> Reading:
        result = model.extract([Message("user", turn.text)], TurnFindings)
        return Reading(result.value, [result.usage])


def turn_findings(
    *,
    language: str = "fr",
    requirements: Iterable[tuple[str, str]] = (),
    constraints: Iterable[tuple[str, str, str | None, str | None]] = (),
    objectives: Iterable[dict[str, Any]] = (),
    answered: bool = True,
) -> dict[str, Any]:
    """A `TurnFindings` answer to queue on `ScriptedChatModel` for `FindingsReader`, written compactly.

    Args:
        requirements: (statement, MoSCoW) pairs, as functional requirements of the functional section; a
            priority other than `should` counts as said.
        constraints: (kind, statement, amount_text, date_text) tuples.
        objectives: `FoundObjective` fields; `clause` defaults to 1.
    """
    return {
        "language": language,
        "requirements": [
            {"statement": statement, "clause": statement, "moscow": moscow, "moscow_stated": moscow != "should"}
            for statement, moscow in requirements
        ],
        "objectives": [{"clause": 1} | dict(objective) for objective in objectives],
        "constraints": [
            {"kind": kind, "statement": statement, "amount_text": amount, "date_text": when}
            for kind, statement, amount, when in constraints
        ],
        "answered_question": answered,
    }
