"""Recording and replay of model calls: the cassettes behind `cahier eval --record` and `--replay`.

`RecordingChatModel` wraps a real model and writes every exchange to a YAML cassette (secrets scrubbed);
`ReplayChatModel` serves a cassette back and fails loudly, naming the call, when a request differs from the
recorded one, so a prompt change can never pass a replayed evaluation silently.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from assistant.errors import ExtractionError, ModelError
from assistant.models.port import (
    ChatModel,
    Extraction,
    Message,
    StreamedReply,
    T,
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
