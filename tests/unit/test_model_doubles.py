"""The scripted fake and the recorder/replayer behave like a model and fail loudly where they must."""

import pytest
from pydantic import BaseModel

from assistant.errors import ExtractionError, ModelError
from assistant.models.port import Extraction, Message, StreamedReply, Usage
from assistant.models.recorded import RecordingChatModel, ReplayChatModel, ReplayMismatchError, scrub_secrets
from assistant.models.testing import ScriptedChatModel

KEY = "sk-live-abcdef0123456789"


class Budget(BaseModel):
    amount: int
    currency: str


def test_scripted_model_plays_answers_in_order_and_logs_requests():
    model = ScriptedChatModel([{"amount": 80000, "currency": "EUR"}, "Quel est votre délai ?"])
    result = model.extract([Message("user", "80 k€")], Budget)
    assert result.value == Budget(amount=80000, currency="EUR")
    assert "".join(model.reply([Message("user", "ok")])) == "Quel est votre délai ?"
    assert [(c.kind, c.schema, c.messages[0].content) for c in model.calls] == [
        ("extract", "Budget", "80 k€"),
        ("reply", None, "ok"),
    ]


def test_scripted_model_raises_queued_errors_and_invalid_payloads():
    model = ScriptedChatModel([ModelError("server down"), {"amount": "lots"}])
    with pytest.raises(ModelError, match="server down"):
        model.extract([Message("user", "x")], Budget)
    with pytest.raises(ExtractionError) as caught:
        model.extract([Message("user", "x")], Budget)
    assert caught.value.attempts == 1
    with pytest.raises(AssertionError, match="no answer left"):
        model.extract([Message("user", "x")], Budget)


def test_record_then_replay_reproduces_answers_without_the_model(tmp_path):
    cassette = tmp_path / "run.yaml"
    inner = ScriptedChatModel([{"amount": 95000, "currency": "EUR"}, "Merci, et le délai ?"])
    recorder = RecordingChatModel(inner, cassette, secrets=[KEY])
    messages = [Message("system", f"key is {KEY}"), Message("user", "en fait c'est 95 k€")]
    recorded = recorder.extract(messages, Budget)
    assert "".join(recorder.reply([Message("user", "suite")])) == "Merci, et le délai ?"
    text = cassette.read_text(encoding="utf-8")
    assert KEY not in text and "[redacted]" in text

    replay = ReplayChatModel(cassette)
    assert replay.extract(messages, Budget).value == recorded.value
    assert "".join(replay.reply([Message("user", "suite")])) == "Merci, et le délai ?"
    assert replay.remaining == 0


def test_replay_fails_loudly_when_the_prompt_changed(tmp_path):
    cassette = tmp_path / "run.yaml"
    RecordingChatModel(ScriptedChatModel([{"amount": 1, "currency": "EUR"}]), cassette).extract(
        [Message("user", "budget ?")], Budget
    )
    replay = ReplayChatModel(cassette)
    with pytest.raises(ReplayMismatchError, match="replay call #1"):
        replay.extract([Message("user", "budget ? (reworded)")], Budget)
    exhausted = ReplayChatModel(cassette)
    exhausted.extract([Message("user", "budget ?")], Budget)
    with pytest.raises(ReplayMismatchError, match="no more calls"):
        exhausted.extract([Message("user", "budget ?")], Budget)


def test_recorded_failures_replay_as_failures(tmp_path):
    cassette = tmp_path / "run.yaml"
    recorder = RecordingChatModel(ScriptedChatModel([ModelError("timeout")]), cassette)
    with pytest.raises(ModelError):
        recorder.extract([Message("user", "x")], Budget)
    with pytest.raises(ModelError, match="timeout"):
        ReplayChatModel(cassette).extract([Message("user", "x")], Budget)


@pytest.mark.parametrize(
    "text",
    [f"Authorization: Bearer {KEY}", f"my key {KEY} leaked", "token sk-proj-AbCdEf0123456789xyz"],
)
def test_scrub_secrets_removes_keys(text):
    cleaned = scrub_secrets(text, [KEY])
    assert "abcdef0123456789" not in cleaned and "AbCdEf0123456789" not in cleaned
    assert "[redacted]" in cleaned


def test_port_types_compose():
    usage = Usage(model="m", prompt_tokens=1)
    usage.add(Usage(model="m", prompt_tokens=2, completion_tokens=3))
    assert (usage.prompt_tokens, usage.completion_tokens) == (3, 3)
    assert StreamedReply(chunks=iter(["a", "b"])).text() == "ab"
    assert Extraction(value=Budget(amount=1, currency="EUR"), usage=usage).value.amount == 1
