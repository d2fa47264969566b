"""Model doubles behind our own `ChatModel` port: scripted answers for unit tests, recording and replay.

`ScriptedChatModel` plays a queue of answers and logs what it was sent, so tests assert on the prompt as well
as on the result. `RecordingChatModel` wraps a real model and writes every exchange to a YAML cassette (secrets
scrubbed); `ReplayChatModel` serves a cassette back and fails loudly, naming the call, when a request differs
from the recorded one, so a prompt change can never pass a replayed evaluation silently.
`FaultInjectingChatModel` wraps any of them and fails chosen calls the way real servers fail (timeouts, HTTP 500,
broken or absurd JSON, truncation, hangs), for the reliability tests.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import ExtractionError, ModelError
from assistant.llm import (
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

_KEY_PATTERN = re.compile(r"\b(sk-[A-Za-z0-9_\-]{8,}|Bearer\s+[A-Za-z0-9._\-]{8,})")


def scrub_secrets(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove API keys: the given secret values, and anything shaped like an OpenAI key or bearer token."""
    for secret in secrets:
        if secret and len(secret) >= 8:
            text = text.replace(secret, "[redacted]")
    return _KEY_PATTERN.sub("[redacted]", text)


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


END_OF_RECORDING = "end"
UNUSED_CALLS = "unused"


class ReplayMismatchError(ModelError):
    """A replayed request differs from the recorded one (a prompt, plan or schema changed)."""

    def __init__(self, index: int, expected: str, got: str) -> None:
        self.index = index
        if expected == END_OF_RECORDING:
            detail = "the recording has no more calls"
        elif expected == UNUSED_CALLS:
            detail = "the recording holds this call and more, but the run made no such call"
        else:
            detail = f"the request differs from the recording (recorded {expected[:12]}, sent {got[:12]})"
        super().__init__(f"replay call #{index}: {detail}; re-record with `--record` if the change is intended")


def request_key(kind: str, messages: Sequence[Message], schema: str | None) -> str:
    """A digest of everything that determines an answer: call kind, messages and schema name."""
    payload = json.dumps(
        {"kind": kind, "schema": schema, "messages": [[m.role, m.content] for m in messages]},
        ensure_ascii=False,
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


class RecordingChatModel(ChatModel):
    """Wraps a real model and appends each exchange to a YAML cassette.

    Args:
        inner: the model that really answers.
        path: the cassette file (rewritten after every call so a crash keeps what was recorded).
        secrets: values to scrub in addition to key-shaped strings (pass the API key).
    """

    def __init__(self, inner: ChatModel, path: Path, secrets: Iterable[str] = ()) -> None:
        self.inner = inner
        self.path = path
        self._secrets = [s for s in secrets if s]
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    @property
    def name(self) -> str:  # type: ignore[override]
        # The inner model may be lazy and learn its real name only once loaded.
        return self.inner.name

    def _save(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            text = yaml.safe_dump(
                {"version": 1, "model": self.inner.name, "calls": self._entries},
                allow_unicode=True,
                sort_keys=False,
                width=120,
            )
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.path.write_text(scrub_secrets(text, self._secrets), encoding="utf-8")

    def _entry(self, kind: str, messages: Sequence[Message], schema: str | None) -> dict[str, Any]:
        clean = [Message(m.role, scrub_secrets(m.content, self._secrets)) for m in messages]
        return {
            "kind": kind,
            "schema": schema,
            "key": request_key(kind, clean, schema),
            "messages": [{"role": m.role, "content": m.content} for m in clean],
        }

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        streamed = self.inner.reply(messages)
        entry = self._entry("reply", messages, None)

        def chunks() -> Iterator[str]:
            pieces: list[str] = []
            try:
                for piece in streamed:
                    pieces.append(piece)
                    yield piece
            except ModelError as exc:
                self._save({**entry, "error": {"type": type(exc).__name__, "message": str(exc)}})
                raise
            self._save({**entry, "text": "".join(pieces), "usage": _usage_dict(streamed.usage)})

        return StreamedReply(chunks=chunks(), usage=streamed.usage)

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        entry = self._entry("extract", messages, schema.__name__)
        try:
            result = self.inner.extract(messages, schema)
        except ModelError as exc:
            self._save({**entry, "error": {"type": type(exc).__name__, "message": str(exc)}})
            raise
        self._save(
            {
                **entry,
                "value": result.value.model_dump(mode="json"),
                "raw": result.raw,
                "usage": _usage_dict(result.usage),
            }
        )
        return result


class ReplayChatModel(ChatModel):
    """Serves a cassette written by `RecordingChatModel`, in order, checking each request against it."""

    def __init__(self, path: Path) -> None:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        self.path = path
        self.name = str(data.get("model", "unknown"))  # the recorded model's: a replay reports as its recording
        self._calls: list[dict[str, Any]] = list(data.get("calls", []))
        self._position = 0
        self._lock = threading.Lock()
        self.mismatch: ReplayMismatchError | None = None
        """The first request that did not fit the recording. The pipeline catches model errors (an answer
        is never lost to one), so a replay driver checks this to fail the whole run instead."""

    @property
    def remaining(self) -> int:
        return len(self._calls) - self._position

    def finish(self) -> None:
        """Fail if recorded calls were never asked for: the pipeline now makes fewer calls than it did."""
        if self.remaining:
            raise ReplayMismatchError(self._position + 1, UNUSED_CALLS, "")

    def _next(self, kind: str, messages: Sequence[Message], schema: str | None) -> dict[str, Any]:
        with self._lock:
            index = self._position + 1
            key = request_key(kind, [Message(m.role, scrub_secrets(m.content)) for m in messages], schema)
            if self._position >= len(self._calls):
                self.mismatch = ReplayMismatchError(index, END_OF_RECORDING, key)
                raise self.mismatch
            entry = self._calls[self._position]
            if entry["key"] != key:
                self.mismatch = ReplayMismatchError(index, entry["key"], key)
                raise self.mismatch
            self._position += 1
        if "error" in entry:
            raise _replayed_error(entry["error"]["type"])(entry["error"]["message"])
        return entry

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        entry = self._next("reply", messages, None)
        return StreamedReply(chunks=iter([entry["text"]]), usage=Usage(**entry["usage"]))

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        entry = self._next("extract", messages, schema.__name__)
        try:
            value = schema.model_validate(entry["value"])
        except ValidationError as exc:  # a hand-edited or corrupt recording
            raise ExtractionError(str(entry.get("raw", "")), validation_messages(exc), 1) from exc
        return Extraction(value=value, usage=Usage(**entry["usage"]), raw=entry["raw"])


class ReplayedModelError(ModelError):
    """A model failure played back from a recording."""


_REPLAYED: dict[str, type[ReplayedModelError]] = {}


def _replayed_error(type_name: str) -> type[ReplayedModelError]:
    """An error class named like the recorded one, so a replayed failure is logged exactly as the live one was."""
    if type_name not in _REPLAYED:
        _REPLAYED[type_name] = type(type_name, (ReplayedModelError,), {"__doc__": f"Replayed {type_name}."})
    return _REPLAYED[type_name]


def _usage_dict(usage: Usage) -> dict[str, Any]:
    return {
        "model": usage.model,
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "latency_ms": usage.latency_ms,
        "attempts": usage.attempts,
        "cached_prompt_tokens": usage.cached_prompt_tokens,
    }


def turn_findings(
    *,
    language: str = "fr",
    requirements: Iterable[tuple[str, str]] = (),
    constraints: Iterable[tuple[str, str, str | None, str | None]] = (),
    objectives: Iterable[dict[str, Any]] = (),
    answered: bool = True,
    follow_up: str | None = None,
) -> dict[str, Any]:
    """A `TurnFindings` answer to queue on `ScriptedChatModel`, written compactly.

    Args:
        requirements: (statement, MoSCoW) pairs, as functional requirements of the functional section.
        constraints: (kind, statement, amount_text, date_text) tuples.
    """
    return {
        "language": language,
        "requirements": [
            {
                "statement": statement,
                "kind": "functional",
                "category": None,
                "moscow": moscow,
                "horizon": None,
                "section": "functional",
                "provenance": "stated",
            }
            for statement, moscow in requirements
        ],
        "objectives": list(objectives),
        "constraints": [
            {"kind": kind, "statement": statement, "amount_text": amount, "date_text": when}
            for kind, statement, amount, when in constraints
        ],
        "use_cases": [],
        "answered_question": answered,
        "follow_up_question": follow_up,
    }


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
    """Valid JSON with values no enum of the schema knows (`moscow: "critical"`, `section: "marketing"`…)."""
    HANG = "hang"
    """No answer until the wrapper's `hang_s` has passed, then the adapter's timeout error."""


ABSURD_FAULTS = (Fault.TOO_MANY_REQUIREMENTS, Fault.HUGE_STATEMENT, Fault.UNKNOWN_ENUMS)
"""Faults whose answer is well-formed JSON that only the schema's validation can refuse."""

INVALID_JSON_TEXT = '{"language": "fr", "requirements": [{"statement": "Le CRM doit'
TRUNCATED_TEXT = '{"language": "fr", "requirements": [{"statement": "Les commerciaux doivent saisir un compte re'


def absurd_answer(fault: Fault) -> str:
    """The raw JSON text a misbehaving model sends for one of `ABSURD_FAULTS`, shaped like `TurnFindings`."""
    payload = turn_findings(requirements=[("Le CRM doit importer les contacts", "should")])
    requirement = payload["requirements"][0]
    if fault is Fault.TOO_MANY_REQUIREMENTS:
        payload["requirements"] = [{**requirement, "statement": f"Exigence numéro {n}"} for n in range(10_000)]
    elif fault is Fault.HUGE_STATEMENT:
        payload["requirements"] = [{**requirement, "statement": "Le CRM doit " + "x" * 1_000_000}]
    elif fault is Fault.UNKNOWN_ENUMS:
        payload["language"] = "de"
        payload["requirements"] = [
            {**requirement, "kind": "magic", "moscow": "critical", "section": "marketing", "provenance": "dreamt"}
        ]
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
