"""The real embedded model over real HTTP: llama.cpp on loopback, the shipped model, the production adapter.

Slow (the model loads in ~30 s and one extraction takes tens of seconds on two cores), so the module starts
one server and asks it only what proves the contract; CI runs it.
"""

import json
import os
import time
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.interview.reading import read_answer
from assistant.models.embedded import DEFAULT_SPEC, shared_server
from assistant.models.factory import chat_model_from_settings
from assistant.models.openai import OpenAIChatModel
from assistant.models.port import Message, ModelAuthError
from assistant.schemas import ClauseNeed, Language, SectionId, SlotKey, Speaker, Turn

pytestmark = pytest.mark.slow

MODEL_CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "cahier" / "models"


@pytest.fixture(scope="module")
def settings(tmp_path_factory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), model_cache=MODEL_CACHE)


@pytest.fixture(scope="module")
def model(settings):
    return chat_model_from_settings(settings)


def test_no_key_and_no_url_selects_the_embedded_model(settings, model):
    assert settings.resolved_provider == "local"
    assert model.name == DEFAULT_SPEC.name
    assert model.base_url.startswith("http://127.0.0.1:")


def test_french_reading_is_valid_and_stays_french(model):
    turn = Turn(
        id=1,
        project_id="contract",
        speaker=Speaker.STAKEHOLDER,
        stakeholder_id="STK-001",
        text="Il faut que les commerciaux puissent saisir leurs comptes rendus de visite sur mobile.",
        language=Language.FR,
    )
    reading = read_answer(turn, SlotKey(SectionId.NEEDS, "must_haves"), model)
    # Content quality is measured by `cahier eval`; the contract is: valid, French, and not empty-handed.
    assert reading.findings.requirements
    assert all(r.statement.startswith("Le CRM doit") for r in reading.findings.requirements)
    assert all("mobile" in r.statement.lower() for r in reading.findings.requirements), reading.findings
    [usage] = reading.usage
    assert usage.prompt_tokens > 0 and usage.completion_tokens > 0


def test_streamed_reply(model):
    reply = model.reply([Message("user", "Réponds seulement par le mot : bonjour")])
    text = "".join(reply)
    assert text.strip()
    assert reply.usage.completion_tokens > 0


def test_the_server_refuses_requests_without_its_key(settings, model):
    server = shared_server(settings.model_cache)
    intruder = OpenAIChatModel(model="x", base_url=server.base_url, api_key="wrong-key", max_retries=0, timeout_s=30)
    with pytest.raises(ModelAuthError):
        intruder.extract([Message("user", "hi")], ClauseNeed)


def _post(url: str, key: str, prompt: str, max_tokens: int, timeout: float) -> float:
    """One non-streamed chat completion over raw HTTP, as the adapter's `extract` makes it; seconds it took."""
    body = {"model": "x", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens}
    request = urllib.request.Request(
        url + "/chat/completions",
        data=json.dumps({**body, "temperature": 0}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=timeout) as response:
        response.read()
    return time.perf_counter() - started


def test_a_call_the_client_abandons_does_not_keep_the_server_busy(settings, model):
    """The queue retries an answer whose call timed out; if llama.cpp kept generating for the abandoned call, the
    retry (and every answer after it) would queue behind that ghost. The server must drop it when the client
    hangs up: the next call is answered in far less time than the abandoned one would have taken (a ratio
    measured in this run, so that a slow machine does not change the verdict)."""
    server = shared_server(settings.model_cache)
    counting = "Count from 1 to 3000, separated by commas."
    per_32_tokens = _post(server.base_url, server.api_key, counting, 32, 120)
    projected = per_32_tokens * 1024 / 32  # what the abandoned call would have needed
    with pytest.raises(TimeoutError):
        _post(server.base_url, server.api_key, counting, 1024, 2)
    after = _post(server.base_url, server.api_key, "Reply with the single word OK.", 4, 300)
    assert after < projected / 4, (after, projected)
