"""The services every page uses (settings, store, guidance index, model, interview), built once per process.

Pages call `get_services()`. It returns the bundle cached with `st.cache_resource`, unless a test put its own
bundle in `st.session_state[OVERRIDE_KEY]` before the first run (a temporary store and a scripted model), or the
person chose another model for their session on the settings page.

Test hook: with the environment variable `CAHIER_FAKE_MODEL=1`, the cached bundle uses a scripted model that
answers every extraction with empty findings, so a real browser can drive the app without any model. It is read
here and nowhere else, and is meant for `tests/browser` only.
"""

from __future__ import annotations

import logging
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import streamlit as st
from pydantic import SecretStr

from assistant.config import Settings, load_settings
from assistant.errors import CahierError, ModelError
from assistant.interview import Interview
from assistant.llm import DEFAULT_OPENAI_MODEL, ChatModel, LazyChatModel, OpenAIChatModel
from assistant.store import Store
from assistant.testing import Call, ScriptedChatModel, turn_findings

log = logging.getLogger(__name__)

OVERRIDE_KEY = "cahier.services"
"""Session-state key where a test puts a ready `Services` bundle before the app's first run."""

SESSION_MODEL_KEY = "cahier.session_model"
"""Session-state key of the `ModelChoice` made on the settings page (the key stays in this session's memory)."""

_SESSION_BUNDLE_KEY = "cahier.session_bundle"

FAKE_MODEL_VARIABLE = "CAHIER_FAKE_MODEL"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")

ModelState = Literal["ready", "starting", "failed", "idle"]


class EmptyFindingsModel(ScriptedChatModel):
    """Test hook: answers every extraction with empty findings and every reply with "OK", forever."""

    def _next(self, call: Call) -> Any:
        self.push(turn_findings() if call.kind == "extract" else "OK")
        return super()._next(call)


class ModelWarmup:
    """Builds the configured model in a background thread from the moment the app starts.

    The embedded model takes tens of seconds to load; the pages must not wait for it. `LazyChatModel` calls this
    object on first use, which blocks only the background extraction until the build is done. A failed build is
    retried on the next use rather than remembered forever.
    """

    def __init__(self, build: Any) -> None:
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


@dataclass(frozen=True)
class ModelChoice:
    """A model chosen on the settings page for one browser session; the key lives only in session memory."""

    provider: Literal["openai", "openai_compatible"]
    model: str
    base_url: str | None = None
    api_key: SecretStr | None = field(default=None, repr=False)

    def build(self, settings: Settings, *, timeout_s: float | None = None, max_retries: int | None = None) -> ChatModel:
        """The adapter for this choice (no network call happens here)."""
        key = self.api_key.get_secret_value() if self.api_key else None
        return OpenAIChatModel(
            model=self.model or (DEFAULT_OPENAI_MODEL if self.provider == "openai" else "default"),
            base_url=self.base_url if self.provider == "openai_compatible" else None,
            api_key=key,
            method=settings.structured_output if self.provider == "openai_compatible" else "json_schema",
            timeout_s=timeout_s or settings.request_timeout_s,
            max_retries=settings.max_retries if max_retries is None else max_retries,
        )


@dataclass(frozen=True)
class ModelStatus:
    provider: str
    name: str
    local: bool
    state: ModelState
    error: str = ""


@dataclass
class Services:
    """Everything a page needs; one instance per process (or per test)."""

    settings: Settings
    store: Store
    model: ChatModel
    interview: Interview
    index: Any | None = None
    index_note: str = ""
    """Why guidance is empty when it is (no index, or nothing ingested yet); empty when guidance works."""
    warmup: ModelWarmup | None = None
    provider: str = ""

    def model_status(self) -> ModelStatus:
        provider = self.provider or (
            "scripted" if isinstance(self.model, ScriptedChatModel) else self.settings.resolved_provider
        )
        base_url = getattr(self.model, "base_url", None) or self.settings.openai_base_url or ""
        local = provider in ("local", "scripted") or any(host in base_url for host in _LOOPBACK_HOSTS)
        if self.warmup is not None:
            state, error = self.warmup.state, self.warmup.error
        elif isinstance(self.model, LazyChatModel):
            state, error = ("ready" if self.model.loaded else "idle"), ""
        else:
            state, error = "ready", ""
        return ModelStatus(provider, self.model.name, local, state, error)


def _guarded_search(index: Any) -> Any:
    """The index's search, with any failure turned into a `CahierError` (the interview then skips guidance)."""
    from assistant.retrieval import RetrievalError

    def search(query: str, **kwargs: Any) -> list[Any]:
        try:
            return index.search(query, **kwargs)
        except CahierError:
            raise
        except Exception as exc:  # chromadb raises unrelated types; guidance must never fail a turn
            raise RetrievalError(f"guidance search failed: {exc}") from exc

    return search


def _open_index(settings: Settings) -> tuple[Any | None, str]:
    from assistant.retrieval import open_index

    try:
        index = open_index(settings)
        count = index.count()
    except Exception as exc:  # a missing or broken index only costs the guidance
        log.warning("knowledge index unavailable: %s", exc)
        return None, str(exc)
    return index, "" if count else "empty"


def _model_name(settings: Settings) -> str:
    provider = settings.resolved_provider
    if settings.model:
        return settings.model
    if provider == "openai":
        return DEFAULT_OPENAI_MODEL
    if provider == "local":
        from assistant.local_model import DEFAULT_SPEC

        return DEFAULT_SPEC.name
    return "default"


def build_services(settings: Settings) -> Services:
    """The production bundle: the store and index from `settings`, the model warming up in the background."""
    store = Store.from_settings(settings)
    index, note = _open_index(settings)
    search = _guarded_search(index) if index is not None else None
    warmup = None
    if os.environ.get(FAKE_MODEL_VARIABLE) == "1":
        model: ChatModel = EmptyFindingsModel(name="scripted")
        provider = "scripted"
    else:
        from assistant.llm import chat_model_from_settings

        warmup = ModelWarmup(lambda: chat_model_from_settings(settings))
        model = LazyChatModel(warmup, name=_model_name(settings))
        provider = settings.resolved_provider
    interview = Interview(store, model, search=search)
    return Services(settings, store, model, interview, index, note, warmup, provider)


@st.cache_resource(show_spinner=False)
def _shared_services() -> Services:
    env_file = Path(".env")
    settings = load_settings(env_file=env_file if env_file.is_file() else None)
    return build_services(settings)


def get_services() -> Services:
    """The bundle for this session: a test's override, else the shared one, with the session's model if chosen.

    Raises:
        ConfigError: a setting is invalid (the message names the variable to fix).
    """
    base = st.session_state.get(OVERRIDE_KEY) or _shared_services()
    choice = st.session_state.get(SESSION_MODEL_KEY)
    if choice is None:
        return base
    cached = st.session_state.get(_SESSION_BUNDLE_KEY)
    if cached is not None and cached[0] is choice and cached[1] is base:
        return cached[2]
    model = choice.build(base.settings)
    interview = Interview(base.store, model, search=base.interview.search, plan=base.interview.plan)
    bundle = replace(base, model=model, interview=interview, warmup=None, provider=choice.provider)
    st.session_state[_SESSION_BUNDLE_KEY] = (choice, base, bundle)
    return bundle
