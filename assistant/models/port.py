"""The port every model call goes through: `ChatModel`, the messages it takes, what it returns, its errors.

Everything else in Cahier talks to `ChatModel`: `reply()` streams text, `extract()` returns a validated
pydantic object or raises a typed error. Adapters (`openai.py`) and doubles (`testing.py`, `recorded.py`)
implement it; nothing outside this package imports a vendor's client.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.errors import ModelError

T = TypeVar("T", bound=BaseModel)
Role = Literal["system", "user", "assistant"]
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]


@dataclass(frozen=True)
class Message:
    role: Role
    content: str


@dataclass
class Usage:
    """What one logical call cost, for the store's usage table and the benchmarks."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_ms: int = 0
    attempts: int = 1
    cached_prompt_tokens: int = 0

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cached_prompt_tokens += other.cached_prompt_tokens


@dataclass
class Extraction(Generic[T]):
    value: T
    usage: Usage
    raw: str = ""


@dataclass
class StreamedReply:
    """A streamed answer: iterate for text chunks; `usage` is complete once iteration ends."""

    chunks: Iterator[str]
    usage: Usage = field(default_factory=lambda: Usage(model=""))

    def __iter__(self) -> Iterator[str]:
        return self.chunks

    def text(self) -> str:
        return "".join(self.chunks)


class ModelUnavailableError(ModelError):
    """The model server cannot be reached. Carries the URL and the variable that points at it."""

    def __init__(self, base_url: str, variable: str, detail: str) -> None:
        self.base_url = base_url
        self.variable = variable
        super().__init__(f"cannot reach the model server at {base_url} ({detail}); check `{variable}`")


class ModelAuthError(ModelError):
    """The server refused the credentials."""

    def __init__(self, variable: str = "OPENAI_API_KEY") -> None:
        self.variable = variable
        super().__init__(f"the model server refused the API key; set a valid key in `{variable}`")


class ModelTimeoutError(ModelError):
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        super().__init__(
            f"the model did not answer within {seconds:g} s; raise `CAHIER_REQUEST_TIMEOUT_S` or use a faster model"
        )


class ModelResponseError(ModelError):
    """The server answered with an error status (after its retries, for 429 and 5xx)."""

    def __init__(self, status: int | None, detail: str) -> None:
        self.status = status
        super().__init__(f"the model server answered with an error ({status}): {detail[:300]}")


class TruncatedOutputError(ModelError):
    """The answer hit the token limit before it was complete (`finish_reason == "length"`)."""

    def __init__(self, raw: str, max_tokens: int | None) -> None:
        self.raw = raw
        self.max_tokens = max_tokens
        super().__init__(f"the model's answer was cut off at the token limit ({max_tokens}); it was not used")


class ChatModel(ABC):
    """The port every model call goes through."""

    name: str = "model"

    @abstractmethod
    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        """Stream a plain-text answer."""

    @abstractmethod
    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        """Return an instance of `schema` filled from the conversation, or raise a `ModelError`."""


def validation_messages(exc: Exception) -> list[str]:
    """Readable one-line errors, fed back to the model on a re-ask and kept in `ExtractionError`."""
    if isinstance(exc, ValidationError):
        return [f"{'.'.join(str(p) for p in e['loc']) or 'root'}: {e['msg']}" for e in exc.errors()[:10]]
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, ValidationError):
        return validation_messages(cause)
    return [str(exc).splitlines()[0][:500] if str(exc) else type(exc).__name__]


def reask_message(errors: list[str]) -> Message:
    """The follow-up sent after an invalid answer: the errors, and the demand for corrected JSON only."""
    listed = "\n".join(f"- {error}" for error in errors)
    return Message(
        role="user",
        content=(
            "Your previous answer did not match the required JSON schema:\n"
            f"{listed}\n"
            "Answer again with the corrected JSON object only, following the schema exactly."
        ),
    )
