"""The only place a language model is called: the `ChatModel` port and its OpenAI-compatible adapter.

Everything else in Cahier talks to `ChatModel`: `reply()` streams text, `extract()` returns a validated
pydantic object or raises a typed error. The adapter drives langchain's `ChatOpenAI` against OpenAI or any
OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp, the embedded model), so one code path serves
them all. Invalid structured output is re-asked a bounded number of times with the validation errors fed
back; a truncated answer is its own error, because re-asking the same budget would truncate again.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import traceback
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ValidationError

from assistant.errors import ExtractionError, ModelError

log = logging.getLogger(__name__)

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


class OpenAIChatModel(ChatModel):
    """Adapter over langchain's `ChatOpenAI` for OpenAI and every OpenAI-compatible server.

    Args:
        model: the model name sent to the server.
        base_url: the server's `/v1` URL; None means OpenAI itself.
        api_key: the key (kept only inside the client; never logged).
        method: how structured output is requested: `json_schema` (OpenAI, llama.cpp, vLLM), `function_calling`
            (servers with tools but no JSON schema), or `json_mode` (JSON only; the schema goes in the prompt).
        max_reasks: extra attempts after an invalid answer.
        max_tokens: completion budget per call.
        base_url_variable: the variable a person changes when the server cannot be reached.
        extra_body: server-specific request fields (e.g. llama.cpp's `n_predict`).
        schema_in_prompt: also describe the schema in a first system message.
    """

    def __init__(
        self,
        *,
        model: str,
        base_url: str | None = None,
        api_key: str | None = None,
        method: StructuredMethod = "json_schema",
        timeout_s: float = 180.0,
        max_retries: int = 2,
        max_reasks: int = 2,
        max_tokens: int | None = 2048,
        temperature: float = 0.0,
        base_url_variable: str = "OPENAI_BASE_URL",
        extra_body: dict[str, Any] | None = None,
        schema_in_prompt: bool = False,
    ) -> None:
        from langchain_openai import ChatOpenAI

        # llama.cpp turns the schema into a grammar but never shows it to the model; small models then need it
        # in the prompt to know what each field means. JSON mode always needs it there.
        self.schema_in_prompt = schema_in_prompt or method == "json_mode"
        self.name = model
        self.base_url = base_url or "https://api.openai.com/v1"
        self.method = method
        self.timeout_s = timeout_s
        self.max_reasks = max_reasks
        self.max_tokens = max_tokens
        self._base_url_variable = base_url_variable
        self._secret = api_key or ""
        self._client = ChatOpenAI(
            model=model,
            base_url=base_url,
            api_key=api_key or "not-needed",
            timeout=timeout_s,
            max_retries=max_retries,
            temperature=temperature,
            max_tokens=max_tokens,
            extra_body=extra_body,
            stream_usage=True,
        )

    # -- errors ---------------------------------------------------------------------------------------

    def _translate(self, exc: Exception) -> ModelError:
        import openai

        if isinstance(exc, openai.LengthFinishReasonError):
            return TruncatedOutputError("", self.max_tokens)
        if isinstance(exc, openai.APITimeoutError):
            return ModelTimeoutError(self.timeout_s)
        if isinstance(exc, openai.APIConnectionError):
            return ModelUnavailableError(self.base_url, self._base_url_variable, type(exc).__name__)
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return ModelAuthError()
        if isinstance(exc, openai.APIStatusError):
            return ModelResponseError(exc.status_code, self._scrub(_error_detail(exc)))
        return ModelError(self._scrub(f"unexpected model failure: {type(exc).__name__}: {exc}"))

    def _cause(self, exc: Exception) -> Exception | None:
        """The vendor's exception to chain under ours, or None when its text holds the key: a server that echoes
        the key in its error body would otherwise put it in every traceback printed or logged from ours."""
        if len(self._secret) >= 8 and self._secret in "".join(traceback.format_exception(exc)):
            return None
        return exc

    def _scrub(self, text: str) -> str:
        """Servers sometimes echo the key back in error bodies; it must not travel further."""
        return text.replace(self._secret, "[redacted]") if len(self._secret) >= 8 else text

    # -- port -----------------------------------------------------------------------------------------

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        usage = Usage(model=self.name)
        lc_messages = _to_langchain(messages)

        def chunks() -> Iterator[str]:
            started = time.perf_counter()
            try:
                for chunk in self._client.stream(lc_messages):
                    if chunk.usage_metadata:
                        usage.add(_usage_of(chunk, self.name))
                    text = chunk.content if isinstance(chunk.content, str) else ""
                    if text:
                        yield text
            except ModelError:
                raise
            except Exception as exc:  # the vendor raises its own hierarchy; translate at the edge
                raise self._translate(exc) from self._cause(exc)
            finally:
                usage.latency_ms = int((time.perf_counter() - started) * 1000)

        return StreamedReply(chunks=chunks(), usage=usage)

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        conversation = list(messages)
        if self.schema_in_prompt:
            conversation.insert(0, _schema_instruction(schema))
        runnable = self._client.with_structured_output(schema, method=self.method, include_raw=True)
        total = Usage(model=self.name, attempts=0)
        started = time.perf_counter()
        raw_text = ""
        errors: list[str] = []
        try:
            for _ in range(self.max_reasks + 1):
                total.attempts += 1
                try:
                    result = runnable.invoke(_to_langchain(conversation))
                except (ValidationError, ValueError, json.JSONDecodeError) as exc:
                    # Some langchain paths raise instead of reporting `parsing_error`.
                    raw_text, errors = "", validation_messages(exc)
                    conversation.append(reask_message(errors))
                    continue
                raw = result["raw"]
                total.add(_usage_of(raw, self.name))
                raw_text = _raw_text(raw)
                finish = (getattr(raw, "response_metadata", None) or {}).get("finish_reason")
                if finish == "length":
                    raise TruncatedOutputError(raw_text, self.max_tokens)
                parsed, parse_error = result.get("parsed"), result.get("parsing_error")
                if parse_error is None and isinstance(parsed, schema):
                    total.latency_ms = int((time.perf_counter() - started) * 1000)
                    return Extraction(value=parsed, usage=total, raw=raw_text)
                errors = validation_messages(parse_error) if parse_error else ["the answer held no JSON object"]
                log.info("extraction attempt %d invalid: %s", total.attempts, errors[0])
                conversation.append(Message(role="assistant", content=raw_text[:4000] or "(empty)"))
                conversation.append(reask_message(errors))
        except ModelError:
            raise
        except Exception as exc:
            raise self._translate(exc) from self._cause(exc)
        raise ExtractionError(raw_text, errors, total.attempts, detail=total)


def _schema_instruction(schema: type[BaseModel]) -> Message:
    return Message(
        role="system",
        content="Answer with one JSON object that validates against this JSON schema:\n"
        + json.dumps(schema.model_json_schema(), ensure_ascii=False),
    )


def _to_langchain(messages: Sequence[Message]) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m.role](content=m.content) for m in messages]


def _raw_text(raw: Any) -> str:
    content = getattr(raw, "content", "")
    if isinstance(content, str) and content:
        return content
    calls = getattr(raw, "tool_calls", None) or []
    if calls:
        return json.dumps(calls[0].get("args", {}), ensure_ascii=False)
    return str(content or "")


def _usage_of(message: Any, model: str) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    details = meta.get("input_token_details") or {}
    return Usage(
        model=model,
        prompt_tokens=int(meta.get("input_tokens", 0) or 0),
        completion_tokens=int(meta.get("output_tokens", 0) or 0),
        cached_prompt_tokens=int(details.get("cache_read", 0) or 0),
    )


def _error_detail(exc: Any) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        error = body.get("error", body)
        if isinstance(error, dict):
            return str(error.get("message", error))
        return str(error)
    return str(getattr(exc, "message", exc))


DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


def chat_model_from_settings(settings: Any) -> ChatModel:
    """The model the settings ask for; with neither key nor base URL, the embedded one (started on demand).

    Raises:
        ConfigError: a provider was forced without what it needs, naming the variable to set.
        LocalModelError: the embedded model is missing, corrupt or cannot start.
    """
    from assistant.errors import ConfigError

    provider = settings.resolved_provider
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    common = {"timeout_s": settings.request_timeout_s, "max_retries": settings.max_retries}
    if provider == "openai":
        if not key:
            raise ConfigError("OPENAI_API_KEY", "the `openai` provider needs an API key")
        return OpenAIChatModel(model=settings.model or DEFAULT_OPENAI_MODEL, api_key=key, **common)
    if provider == "openai_compatible":
        if not settings.openai_base_url:
            raise ConfigError("OPENAI_BASE_URL", "the `openai_compatible` provider needs the server's URL")
        return OpenAIChatModel(
            model=settings.model or "default",
            base_url=settings.openai_base_url,
            api_key=key,
            method=settings.structured_output,
            **common,
        )
    from assistant.local_model import DEFAULT_SPEC, shared_server

    server = shared_server(settings.model_cache)
    return OpenAIChatModel(
        model=DEFAULT_SPEC.name,
        base_url=server.base_url,
        api_key=server.api_key,
        base_url_variable="CAHIER_MODEL_PROVIDER",
        max_tokens=1024,
        **common,
    )


class LazyChatModel(ChatModel):
    """Builds the real model on first use, from whichever thread first needs it.

    The embedded model takes tens of seconds to load; the app must show its page and ask its first question
    meanwhile, and only the background extraction waits for it.
    """

    def __init__(self, factory: Any, name: str = "model") -> None:
        self._factory = factory
        self._model: ChatModel | None = None
        self._lock = threading.Lock()
        self.name = name

    def _get(self) -> ChatModel:
        with self._lock:
            if self._model is None:
                self._model = self._factory()
                self.name = self._model.name
            return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def reply(self, messages: Sequence[Message]) -> StreamedReply:
        return self._get().reply(messages)

    def extract(self, messages: Sequence[Message], schema: type[T]) -> Extraction[T]:
        return self._get().extract(messages, schema)
