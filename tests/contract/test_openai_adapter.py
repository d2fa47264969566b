"""The OpenAI-compatible adapter over real HTTP: structured output, re-asks, streaming and every error path."""

import pytest
from pydantic import BaseModel, Field

from assistant.errors import ExtractionError
from assistant.models.openai import OpenAIChatModel
from assistant.models.port import (
    Message,
    ModelAuthError,
    ModelResponseError,
    ModelTimeoutError,
    ModelUnavailableError,
    TruncatedOutputError,
)
from tests.contract.fake_openai import Canned, FakeOpenAIServer, completion, error, streamed

SENTINEL_KEY = "sk-sentinel-0123456789abcdef"


class Company(BaseModel):
    """What the stakeholder said about their company."""

    name: str = Field(description="Company name")
    employees: int = Field(ge=0, description="Head count")


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


def _model(server, **kwargs) -> OpenAIChatModel:
    options = {
        "model": "fake-model",
        "base_url": server.base_url,
        "api_key": SENTINEL_KEY,
        "max_retries": 0,
        "timeout_s": 5.0,
    }
    options.update(kwargs)
    return OpenAIChatModel(**options)


ASK = [Message("system", "Extract the company."), Message("user", "Nous sommes Acme, 40 salariés.")]


def test_json_schema_extraction_sends_the_schema_and_returns_a_validated_object(server):
    server.push(completion('{"name": "Acme", "employees": 40}', prompt_tokens=30, completion_tokens=9))
    result = _model(server).extract(ASK, Company)
    assert result.value == Company(name="Acme", employees=40)
    assert (result.usage.prompt_tokens, result.usage.completion_tokens, result.usage.attempts) == (30, 9, 1)
    sent = server.requests[0]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["schema"]["required"] == ["name", "employees"]
    assert [m["content"] for m in sent["messages"]] == [m.content for m in ASK]
    assert server.headers[0]["authorization"] == f"Bearer {SENTINEL_KEY}"


def test_invalid_answer_is_reasked_with_the_validation_error(server):
    server.push(completion('{"name": "Acme", "employees": -3}'), completion('{"name": "Acme", "employees": 40}'))
    result = _model(server).extract(ASK, Company)
    assert result.value.employees == 40
    assert result.usage.attempts == 2
    reask = server.requests[1]["messages"][-1]["content"]
    assert "employees" in reask and "greater than or equal to 0" in reask


def test_garbage_until_the_end_raises_extraction_error_with_attempts(server):
    server.push(completion("I think the company is Acme."), completion("{not json"), completion('{"name": 3}'))
    with pytest.raises(ExtractionError) as caught:
        _model(server, max_reasks=2).extract(ASK, Company)
    assert caught.value.attempts == 3
    assert caught.value.errors
    assert len(server.requests) == 3


def test_truncated_answer_is_its_own_error_and_not_reasked(server):
    server.push(completion('{"name": "Ac', finish_reason="length"))
    with pytest.raises(TruncatedOutputError) as caught:
        _model(server, max_tokens=16).extract(ASK, Company)
    assert caught.value.max_tokens == 16
    assert len(server.requests) == 1


def test_function_calling_method_uses_tools(server):
    server.push(
        Canned(
            body={
                "id": "x",
                "object": "chat.completion",
                "created": 0,
                "model": "fake-model",
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": None,
                            "tool_calls": [
                                {
                                    "id": "call_1",
                                    "type": "function",
                                    "function": {"name": "Company", "arguments": '{"name": "Acme", "employees": 12}'},
                                }
                            ],
                        },
                    }
                ],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            }
        )
    )
    result = _model(server, method="function_calling").extract(ASK, Company)
    assert result.value.employees == 12
    assert server.requests[0]["tools"][0]["function"]["name"] == "Company"


def test_json_mode_puts_the_schema_in_the_prompt(server):
    server.push(completion('{"name": "Acme", "employees": 7}'))
    result = _model(server, method="json_mode").extract(ASK, Company)
    assert result.value.employees == 7
    sent = server.requests[0]
    assert sent["response_format"] == {"type": "json_object"}
    assert '"employees"' in sent["messages"][0]["content"]


def test_streamed_reply_yields_chunks_and_usage(server):
    server.push(streamed(["Quel ", "est ", "votre ", "budget ?"]))
    reply = _model(server).reply([Message("user", "Bonjour")])
    assert list(reply) == ["Quel ", "est ", "votre ", "budget ?"]
    assert reply.usage.completion_tokens == 4
    assert server.requests[0]["stream"] is True


def test_rate_limit_and_server_errors_are_retried_then_reported(server):
    server.push(error(429, "slow down", **{"retry-after-ms": "10"}), completion('{"name": "Acme", "employees": 1}'))
    assert _model(server, max_retries=2).extract(ASK, Company).value.name == "Acme"
    assert len(server.requests) == 2

    server.push(*(error(500, "boom", **{"retry-after-ms": "10"}) for _ in range(3)))
    with pytest.raises(ModelResponseError) as caught:
        _model(server, max_retries=2).extract(ASK, Company)
    assert caught.value.status == 500
    assert len(server.requests) == 5


def test_wrong_key_names_the_variable_and_never_shows_the_key(server):
    server.push(error(401, f"Incorrect API key provided: {SENTINEL_KEY}"))
    with pytest.raises(ModelAuthError) as caught:
        _model(server).extract(ASK, Company)
    assert "OPENAI_API_KEY" in str(caught.value)
    assert SENTINEL_KEY not in str(caught.value)


def test_echoed_key_in_an_error_body_is_redacted(server):
    server.push(error(400, f"bad request for key {SENTINEL_KEY}"))
    with pytest.raises(ModelResponseError) as caught:
        _model(server).extract(ASK, Company)
    assert SENTINEL_KEY not in str(caught.value)
    assert "[redacted]" in str(caught.value)


def test_timeout_is_a_typed_error(server):
    server.push(Canned(delay_s=2.0, body={}))
    with pytest.raises(ModelTimeoutError, match="CAHIER_REQUEST_TIMEOUT_S"):
        _model(server, timeout_s=0.5).extract(ASK, Company)


def test_unreachable_server_names_the_variable():
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    model = OpenAIChatModel(model="m", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, timeout_s=2)
    with pytest.raises(ModelUnavailableError) as caught:
        model.extract(ASK, Company)
    assert caught.value.variable == "OPENAI_BASE_URL"
    with pytest.raises(ModelUnavailableError):
        list(model.reply(ASK))
