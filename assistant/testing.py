"""Model doubles behind our own `ChatModel` port: scripted answers for unit tests, recording and replay.

`ScriptedChatModel` plays a queue of answers and logs what it was sent, so tests assert on the prompt as well
as on the result. `RecordingChatModel` wraps a real model and writes every exchange to a YAML cassette (secrets
scrubbed); `ReplayChatModel` serves a cassette back and fails loudly, naming the call, when a request differs
from the recorded one, so a prompt change can never pass a replayed evaluation silently.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from assistant.errors import ExtractionError, ModelError
from assistant.llm import ChatModel, Extraction, Message, StreamedReply, T, Usage, validation_messages

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


class ReplayMismatchError(ModelError):
    """A replayed request differs from the recorded one (a prompt, plan or schema changed)."""

    def __init__(self, index: int, expected: str, got: str) -> None:
        self.index = index
        if expected == END_OF_RECORDING:
            detail = "the recording has no more calls"
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
        self.name = inner.name
        self.path = path
        self._secrets = [s for s in secrets if s]
        self._entries: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def _save(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries.append(entry)
            text = yaml.safe_dump(
                {"version": 1, "model": self.name, "calls": self._entries},
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
        self.name = f"replay:{data.get('model', 'unknown')}"
        self._calls: list[dict[str, Any]] = list(data.get("calls", []))
        self._position = 0
        self._lock = threading.Lock()

    @property
    def remaining(self) -> int:
        return len(self._calls) - self._position

    def _next(self, kind: str, messages: Sequence[Message], schema: str | None) -> dict[str, Any]:
        with self._lock:
            index = self._position + 1
            if self._position >= len(self._calls):
                raise ReplayMismatchError(index, END_OF_RECORDING, request_key(kind, messages, schema))
            entry = self._calls[self._position]
            key = request_key(kind, [Message(m.role, scrub_secrets(m.content)) for m in messages], schema)
            if entry["key"] != key:
                raise ReplayMismatchError(index, entry["key"], key)
            self._position += 1
        if "error" in entry:
            raise ModelError(f"(replayed) {entry['error']['message']}")
        return entry

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        entry = self._next("reply", messages, None)
        return StreamedReply(chunks=iter([entry["text"]]), usage=Usage(**entry["usage"]))

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        entry = self._next("extract", messages, schema.__name__)
        return Extraction(value=schema.model_validate(entry["value"]), usage=Usage(**entry["usage"]), raw=entry["raw"])


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
