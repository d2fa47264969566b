"""The service bundle: built from settings, tolerant of a missing index, never waiting for the model."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.errors import ConfigError, ModelError
from assistant.models.factory import LazyChatModel, ModelWarmup
from assistant.models.port import Message
from assistant.models.testing import EmptyFindingsModel
from assistant.schemas import ClauseNeed, ClauseObjective
from assistant.ui import display
from assistant.ui.services import build_services


def test_the_bundle_opens_an_empty_index_and_warms_the_model_in_the_background(tmp_path: Path):
    """No ingested knowledge means empty guidance, not an error; the model builds off the request thread."""
    settings = Settings(
        data_dir=tmp_path, model_provider="openai_compatible", openai_base_url="http://127.0.0.1:9/v1", model="m"
    )
    services = build_services(settings)
    try:
        assert services.index is not None and services.index_note == "empty"
        assert services.interview.search is not None and services.interview.search("budget", k=3) == []
        assert isinstance(services.model, LazyChatModel)
        services.warmup._future.result(timeout=30)  # noqa: SLF001 - waiting for the background build
        status = services.model_status()
        assert (status.provider, status.name, status.local, status.state) == ("openai_compatible", "m", True, "ready")
    finally:
        services.store.close()


def test_a_broken_index_costs_only_the_guidance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """When Chroma cannot open, the interview runs without guidance and says why."""
    import assistant.knowledge.search

    def broken(settings):  # noqa: ANN001, ANN202
        raise assistant.knowledge.search.RetrievalError("cannot open the directory")

    monkeypatch.setattr(assistant.knowledge.search, "open_index", broken)
    services = build_services(Settings(data_dir=tmp_path, model_provider="openai", openai_api_key="sk-x" * 4))
    try:
        assert services.index is None and "cannot open" in services.index_note
        assert services.interview.search is None
    finally:
        services.store.close()


def test_the_fake_model_switch_answers_empty_findings_forever(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """`CAHIER_FAKE_MODEL=1` (browser tests only) gives a model that never runs out of answers."""
    monkeypatch.setenv("CAHIER_FAKE_MODEL", "1")
    services = build_services(Settings(data_dir=tmp_path))
    try:
        assert isinstance(services.model, EmptyFindingsModel)
        for schema in (ClauseNeed, ClauseObjective, ClauseNeed):
            found = services.model.extract([Message("user", "x")], schema).value
            assert not (found.asks if isinstance(found, ClauseNeed) else found.goal)
        assert services.model_status().provider == "scripted"
    finally:
        services.store.close()


def test_a_failed_model_build_is_a_model_error_and_is_retried():
    """A configuration problem reaches the extraction as a `ModelError` (so it is logged as failed, never stuck)."""
    attempts = []
    release = threading.Event()

    def build():  # noqa: ANN202
        attempts.append(1)
        if len(attempts) == 1:
            release.wait(5)
            raise ConfigError("OPENAI_API_KEY", "the `openai` provider needs an API key")
        return EmptyFindingsModel()

    warmup = ModelWarmup(build)
    assert warmup.state == "starting"
    release.set()
    model = LazyChatModel(warmup)
    with pytest.raises(ModelError, match="OPENAI_API_KEY"):
        model.extract([Message("user", "x")], ClauseNeed)
    assert model.extract([Message("user", "x")], ClauseNeed).value.statements == []
    assert warmup.state == "ready" and len(attempts) == 2


def test_display_escapes_markup_and_highlights_the_narrowest_spans():
    """Stakeholder text stays text; word-level findings are highlighted rather than the whole sentence."""
    assert display.text("<b>x</b> *y* $1 :red[z]") == r"\<b\>x\</b\> \*y\* \$1 \:red\[z\]"
    assert display.text("ligne 1\n- ligne 2") == "ligne 1  \n\\- ligne 2"
    marked = display.highlighted("Le CRM doit être rapide", [(0, 23, "red"), (17, 23, "orange")])
    assert marked == "Le CRM doit être :orange-background[rapide]"
    assert display.demoted("## Titre\n```\n# code\n```", 2) == "#### Titre\n```\n# code\n```"
