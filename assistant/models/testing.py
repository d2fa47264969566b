"""Model doubles behind our own `ChatModel` port, for tests and the app's browser-test hook.

`ScriptedChatModel` plays a queue of answers and logs what it was sent, so tests assert on the prompt as well
as on the result. `FaultInjectingChatModel` wraps any model and fails chosen calls the way real servers fail
(timeouts, HTTP 500, broken or absurd JSON, truncation, hangs), for the reliability tests.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import ExtractionError
from assistant.models.port import (
    ChatModel,
    Extraction,
    Message,
    ModelResponseError,
    ModelTimeoutError,
    StreamedReply,
    T,
    TruncatedOutputError,
    Usage,
    validation_messages,
)
from assistant.schemas import ClauseNeed, ClauseObjective


@dataclass
class Call:
    """One request the fake received."""

    kind: str
    messages: list[Message]
    schema: str | None = None


@dataclass
class ScriptedChatModel(ChatModel):
    """Plays queued answers in order and records every request.

    Queue items: a pydantic object or a dict (an extraction answer), a string (a reply), or an exception
    instance (raised when its turn comes).
    """

    answers: list[Any] = field(default_factory=list)
    name: str = "scripted"
    calls: list[Call] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._queue: deque[Any] = deque(self.answers)
        self._lock = threading.Lock()

    def push(self, *answers: Any) -> None:
        with self._lock:
            self._queue.extend(answers)

    def _next(self, call: Call) -> Any:
        with self._lock:
            self.calls.append(call)
            if not self._queue:
                raise AssertionError(f"ScriptedChatModel has no answer left for call {len(self.calls)} ({call.kind})")
            answer = self._queue.popleft()
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        answer = self._next(Call("reply", list(messages)))
        text = str(answer)
        words = re.findall(r"\S+\s*", text) or [text]
        return StreamedReply(chunks=iter(words), usage=Usage(model=self.name, completion_tokens=len(words)))

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        answer = self._next(Call("extract", list(messages), schema.__name__))
        if isinstance(answer, schema):
            return Extraction(value=answer, usage=Usage(model=self.name), raw=answer.model_dump_json())
        payload = (
            answer if isinstance(answer, dict) else answer.model_dump() if isinstance(answer, BaseModel) else answer
        )
        try:
            value = schema.model_validate(payload)
        except ValidationError as exc:
            raise ExtractionError(json.dumps(payload, default=str), validation_messages(exc), 1) from exc
        return Extraction(value=value, usage=Usage(model=self.name), raw=json.dumps(payload, default=str))


def clause_need(*statements: str) -> dict:
    """A `ClauseNeed` answer to queue on `ScriptedChatModel`: the clause asks these requirement sentences, or
    nothing when none is given."""
    return {"asks": bool(statements), "statements": list(statements)}


def clause_objective(statement: str | None = None, **fields: str | None) -> dict:
    """A `ClauseObjective` answer: the goal `statement` (none: the clause sets no goal); the other fields default
    to null."""
    defaults = {"scope": "commercial", "metric": None, "baseline": None, "target": None, "deadline_text": None}
    return {"goal": statement is not None, "statement": statement or "Rien.", **defaults, **fields}


def empty_answer(schema: type[BaseModel]) -> dict:
    """The answer that finds nothing, for either reading schema (any other: each list field empty)."""
    if schema is ClauseObjective:
        return clause_objective()
    if schema is ClauseNeed:
        return clause_need()
    return {name: [] for name in schema.model_fields}


class Fault(StrEnum):
    """What `FaultInjectingChatModel` does instead of answering, each modelled on a real failure of a server."""

    TIMEOUT = "timeout"
    """The adapter's `ModelTimeoutError`, at once."""
    SERVER_ERROR = "server_error"
    """An HTTP 500, as the adapter reports it after the client's own retries (`ModelResponseError`)."""
    INVALID_JSON = "invalid_json"
    """Text that is not JSON: an `ExtractionError` carrying that raw text."""
    TRUNCATED = "truncated"
    """An answer cut at the token limit (`TruncatedOutputError`)."""
    TOO_MANY_REQUIREMENTS = "too_many_requirements"
    """Valid JSON listing 10 000 requirements."""
    HUGE_STATEMENT = "huge_statement"
    """Valid JSON whose one requirement is a 1 MB statement."""
    UNKNOWN_ENUMS = "unknown_enums"
    """Valid JSON with values of the wrong type and fields the schema does not know (`clause: "la première"`…)."""
    HANG = "hang"
    """No answer until the wrapper's `hang_s` has passed, then the adapter's timeout error."""


ABSURD_FAULTS = (Fault.TOO_MANY_REQUIREMENTS, Fault.HUGE_STATEMENT, Fault.UNKNOWN_ENUMS)
"""Faults whose answer is well-formed JSON that only the schema's validation can refuse."""

INVALID_JSON_TEXT = '{"asks": true, "statements": ["Le CRM doit'
TRUNCATED_TEXT = '{"asks": true, "statements": ["Le CRM doit permettre aux commerciaux de saisir un compte re'


def absurd_answer(fault: Fault) -> str:
    """The raw JSON text a misbehaving model sends for one of `ABSURD_FAULTS`, shaped like `ClauseNeed`."""
    if fault is Fault.TOO_MANY_REQUIREMENTS:
        payload: dict[str, Any] = clause_need(*(f"Exigence numéro {n}" for n in range(10_000)))
    elif fault is Fault.HUGE_STATEMENT:
        payload = clause_need("Le CRM doit " + "x" * 1_000_000)
    elif fault is Fault.UNKNOWN_ENUMS:
        payload = {"asks": "la première", "statements": ["Le CRM doit importer les contacts."], "kind": "critical"}
    else:
        raise ValueError(f"{fault!r} is not a fault with valid JSON")
    return json.dumps(payload, ensure_ascii=False)


class FaultInjectingChatModel(ChatModel):
    """Wraps a model and, on chosen call numbers, fails the way a real server does instead of answering.

    Calls are numbered from 1 across `reply` and `extract`. A faulted call does not reach `inner`, so a scripted
    inner model needs no answer queued for it. Errors are the adapter's own typed errors; answers with valid
    JSON go through `schema.model_validate`, as the adapter's parsed output does, so absurd content becomes an
    `ExtractionError` exactly where a real answer's would.

    Args:
        inner: the model that answers the calls without a fault.
        faults: call number → the fault injected on that call.
        hang_s: how long a `Fault.HANG` call blocks before its timeout (the adapter's `timeout_s`).
    """

    def __init__(self, inner: ChatModel, faults: dict[int, Fault] | None = None, *, hang_s: float = 180.0) -> None:
        self.inner = inner
        self.name = inner.name
        self.faults = dict(faults or {})
        self.hang_s = hang_s
        self.calls = 0
        self.injected: list[tuple[int, Fault]] = []
        self._lock = threading.Lock()
        self._release = threading.Event()

    def release(self) -> None:
        """End every hang at once (a test tearing down), still with the timeout error."""
        self._release.set()

    def _fault_for_next_call(self) -> Fault | None:
        with self._lock:
            self.calls += 1
            fault = self.faults.get(self.calls)
            if fault is not None:
                self.injected.append((self.calls, fault))
            return fault

    def _raise(self, fault: Fault) -> None:
        if fault is Fault.TIMEOUT:
            raise ModelTimeoutError(self.hang_s)
        if fault is Fault.HANG:
            self._release.wait(self.hang_s)
            raise ModelTimeoutError(self.hang_s)
        if fault is Fault.SERVER_ERROR:
            raise ModelResponseError(500, "Internal Server Error")
        if fault is Fault.TRUNCATED:
            raise TruncatedOutputError(TRUNCATED_TEXT, 2048)

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        fault = self._fault_for_next_call()
        if fault is None:
            return self.inner.reply(messages)
        self._raise(fault)
        text = INVALID_JSON_TEXT if fault is Fault.INVALID_JSON else absurd_answer(fault)
        return StreamedReply(chunks=iter([text]), usage=Usage(model=self.name))

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        fault = self._fault_for_next_call()
        if fault is None:
            return self.inner.extract(messages, schema)
        self._raise(fault)
        raw = INVALID_JSON_TEXT if fault is Fault.INVALID_JSON else absurd_answer(fault)
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise ExtractionError(raw, [f"the answer is not valid JSON: {exc.msg}"], 1) from exc
        try:
            value = schema.model_validate(payload)
        except ValidationError as exc:
            raise ExtractionError(raw, validation_messages(exc), 1) from exc
        return Extraction(value=value, usage=Usage(model=self.name), raw=raw)


@dataclass
class EmptyFindingsModel(ScriptedChatModel):
    """Test hook: answers every extraction with an empty answer and every reply with "OK", forever, each after
    `delay_s` (a benchmark's stand-in for a model of fixed latency)."""

    delay_s: float = 0.0

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        with self._lock:
            self.calls.append(Call("extract", list(messages), schema.__name__))
        if self.delay_s:
            time.sleep(self.delay_s)
        value = schema.model_validate(empty_answer(schema))
        return Extraction(value=value, usage=Usage(model=self.name), raw=value.model_dump_json())

    def _next(self, call: Call) -> Any:
        if self.delay_s:
            time.sleep(self.delay_s)
        self.push("OK")
        return super()._next(call)
