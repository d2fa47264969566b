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
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import streamlit as st

from assistant.config import Settings, load_settings
from assistant.errors import CahierError
from assistant.interview.service import Interview
from assistant.interview.worker import QueuePolicy
from assistant.models.factory import (
    LazyChatModel,
    ModelState,
    ModelWarmup,
    chat_model_from_settings,
    default_model_name,
)
from assistant.models.port import ChatModel
from assistant.models.testing import EmptyFindingsModel, ScriptedChatModel
from assistant.store import Store

log = logging.getLogger(__name__)

OVERRIDE_KEY = "cahier.services"
"""Session-state key where a test puts a ready `Services` bundle before the app's first run."""

SESSION_MODEL_KEY = "cahier.session_model"
"""Session-state key of the `ModelChoice` made on the settings page (the key stays in this session's memory)."""

_SESSION_BUNDLE_KEY = "cahier.session_bundle"

FAKE_MODEL_VARIABLE = "CAHIER_FAKE_MODEL"

_LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")


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
    from assistant.knowledge.search import RetrievalError

    def search(query: str, **kwargs: Any) -> list[Any]:
        try:
            return index.search(query, **kwargs)
        except CahierError:
            raise
        except Exception as exc:  # chromadb raises unrelated types; guidance must never fail a turn
            raise RetrievalError(f"guidance search failed: {exc}") from exc

    return search


def _open_index(settings: Settings) -> tuple[Any | None, str]:
    from assistant.knowledge.search import open_index

    try:
        index = open_index(settings)
        count = index.count()
    except Exception as exc:  # a missing or broken index only costs the guidance
        log.warning("knowledge index unavailable: %s", exc)
        return None, str(exc)
    return index, "" if count else "empty"


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
        warmup = ModelWarmup(lambda: chat_model_from_settings(settings))
        model = LazyChatModel(warmup, name=default_model_name(settings))
        provider = settings.resolved_provider
    interview = Interview(store, model, search=search, policy=QueuePolicy.from_settings(settings))
    interview.start_workers()  # answers left queued by a previous run are extracted without anyone asking
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
    # The session's model joins the process's workers for the projects this session answers in (the chat page
    # passes it with each answer); it never gets a worker of its own, so a project is never extracted twice.
    model = chat_model_from_settings(base.settings, choice)
    bundle = replace(base, model=model, warmup=None, provider=choice.provider)
    st.session_state[_SESSION_BUNDLE_KEY] = (choice, base, bundle)
    return bundle
