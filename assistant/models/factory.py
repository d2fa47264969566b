"""The one place that turns settings into a `ChatModel`: used by the CLI, the app and the evaluation alike."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Literal

from pydantic import SecretStr

from assistant.config import Settings
from assistant.errors import CahierError, ConfigError, ModelError
from assistant.models.openai import OpenAIChatModel
from assistant.models.port import ChatModel, Extraction, Message, StreamedReply, T

DEFAULT_OPENAI_MODEL = "gpt-4o-mini"


@dataclass(frozen=True)
class ModelChoice:
    """A model chosen for one browser session on the settings page; the key lives only in that session's memory."""

    provider: Literal["openai", "openai_compatible"]
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = field(default=None, repr=False)


def default_model_name(settings: Settings) -> str:
    """The name of the model the settings select, known before it is built (the embedded one takes a while)."""
    if settings.model:
        return settings.model
    provider = settings.resolved_provider
    if provider == "openai":
        return DEFAULT_OPENAI_MODEL
    if provider == "local":
        from assistant.models.embedded import DEFAULT_SPEC

        return DEFAULT_SPEC.name
    return "default"


def chat_model_from_settings(
    settings: Settings,
    choice: ModelChoice | None = None,
    *,
    timeout_s: float | None = None,
    max_retries: int | None = None,
) -> ChatModel:
    """The model the settings (or a session's `choice`) ask for; with neither key nor URL, the embedded one.

    Args:
        choice: a model picked on the settings page, used instead of the configured provider.
        timeout_s, max_retries: override the settings for this model (the connection test uses short ones).

    Raises:
        ConfigError: a provider was forced without what it needs, naming the variable to set.
        LocalModelError: the embedded model is missing, corrupt or cannot start.
    """
    timeout = timeout_s or settings.request_timeout_s
    retries = settings.max_retries if max_retries is None else max_retries
    if choice is not None:
        compatible = choice.provider == "openai_compatible"
        return OpenAIChatModel(
            model=choice.model or ("default" if compatible else DEFAULT_OPENAI_MODEL),
            base_url=choice.base_url if compatible else None,
            api_key=choice.api_key.get_secret_value() if choice.api_key else None,
            method=settings.structured_output if compatible else "json_schema",
            timeout_s=timeout,
            max_retries=retries,
        )
    provider = settings.resolved_provider
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if provider == "openai":
        if not key:
            raise ConfigError("OPENAI_API_KEY", "the `openai` provider needs an API key")
        return OpenAIChatModel(
            model=settings.model or DEFAULT_OPENAI_MODEL, api_key=key, timeout_s=timeout, max_retries=retries
        )
    if provider == "openai_compatible":
        if not settings.openai_base_url:
            raise ConfigError("OPENAI_BASE_URL", "the `openai_compatible` provider needs the server's URL")
        return OpenAIChatModel(
            model=settings.model or "default",
            base_url=settings.openai_base_url,
            api_key=key,
            method=settings.structured_output,
            timeout_s=timeout,
            max_retries=retries,
        )
    from assistant.models.embedded import DEFAULT_SPEC, shared_server

    server = shared_server(settings.model_cache)
    return OpenAIChatModel(
        model=DEFAULT_SPEC.name,
        base_url=server.base_url,
        api_key=server.api_key,
        base_url_variable="CAHIER_MODEL_PROVIDER",
        max_tokens=1024,
        timeout_s=timeout,
        # On loopback a retry only helps after a timeout, and the extraction queue already retries those with a
        # backoff; a client retry on top would make a stakeholder wait three timeouts for one attempt.
        max_retries=0 if max_retries is None else max_retries,
    )


class LazyChatModel(ChatModel):
    """Builds the real model on first use, from whichever thread first needs it.

    The embedded model takes tens of seconds to load; the app must show its page and ask its first question
    meanwhile, and only the background extraction waits for it.
    """

    def __init__(self, factory: Callable[[], ChatModel], name: str = "model") -> None:
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


ModelState = Literal["ready", "starting", "failed", "idle"]


class ModelWarmup:
    """Builds the configured model in a background thread from the moment the app starts.

    The embedded model takes tens of seconds to load; the pages must not wait for it. `LazyChatModel` calls this
    object on first use, which blocks only the background extraction until the build is done. A failed build is
    retried on the next use rather than remembered forever.
    """

    def __init__(self, build: Callable[[], ChatModel]) -> None:
        self._build = build
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cahier-model")
        self._future: Future[ChatModel] = self._pool.submit(self._safe_build)

    def _safe_build(self) -> ChatModel:
        try:
            return self._build()
        except ModelError:
            raise
        except CahierError as exc:  # a ConfigError must reach the extraction log as a model failure
            raise ModelError(str(exc)) from exc

    def __call__(self) -> ChatModel:
        with self._lock:
            future = self._future
        try:
            return future.result()
        except ModelError:
            with self._lock:
                if self._future is future:
                    self._future = self._pool.submit(self._safe_build)
            raise

    @property
    def state(self) -> ModelState:
        with self._lock:
            future = self._future
        if not future.done():
            return "starting"
        return "failed" if future.exception() is not None else "ready"

    @property
    def error(self) -> str:
        with self._lock:
            future = self._future
        if future.done() and future.exception() is not None:
            return str(future.exception())
        return ""
