"""The OpenAI-compatible adapter of the `ChatModel` port, the only module that imports langchain and openai.

It drives langchain's `ChatOpenAI` against OpenAI or any
OpenAI-compatible server (vLLM, Ollama, LM Studio, llama.cpp, the embedded model), so one code path serves
them all. Invalid structured output is re-asked a bounded number of times with the validation errors fed
back; a truncated answer is its own error, because re-asking the same budget would truncate again.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
from collections.abc import Iterator, Sequence
from typing import Any

from pydantic import BaseModel, ValidationError

from assistant.errors import ExtractionError, ModelError
from assistant.models.port import (
    ChatModel,
    Extraction,
    Message,
    ModelAuthError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnavailableError,
    StreamedReply,
    StructuredMethod,
    T,
    TruncatedOutputError,
    Usage,
    reask_message,
    validation_messages,
)

log = logging.getLogger(__name__)


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
