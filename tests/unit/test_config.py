"""Settings resolve sensible defaults and fail at start-up with the variable to fix."""

import pytest

from assistant.config import Settings, load_settings
from assistant.errors import ConfigError


def test_defaults_put_everything_under_the_data_dir(tmp_path):
    settings = Settings(data_dir=tmp_path)
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'cahier.db'}"
    assert settings.resolved_chroma_path == tmp_path / "chroma"
    assert settings.resolved_provider == "local"


def test_provider_follows_key_and_base_url(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-123")
    assert load_settings().resolved_provider == "openai"
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:8080/v1/")
    settings = load_settings()
    assert settings.resolved_provider == "openai_compatible"
    assert settings.openai_base_url == "http://127.0.0.1:8080/v1"


def test_key_is_secret_in_repr_and_dumps(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-sentinel-do-not-leak")
    settings = load_settings()
    assert "sk-sentinel" not in repr(settings)
    assert "sk-sentinel" not in settings.model_dump_json()
    assert settings.openai_api_key.get_secret_value() == "sk-sentinel-do-not-leak"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("CAHIER_DATABASE_URL", "mysql://db/cahier"),
        ("CAHIER_MODEL_PROVIDER", "anthropic"),
        ("CAHIER_CHROMA_PORT", "99999"),
        ("OPENAI_BASE_URL", "localhost:8080"),
        ("CAHIER_REQUEST_TIMEOUT_S", "-3"),
    ],
)
def test_bad_values_name_the_variable(monkeypatch, variable, value):
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert caught.value.variable == variable
    assert f"`{variable}`" in str(caught.value)


def test_env_file_is_read_only_when_asked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text("CAHIER_MODEL=from-dotenv\n")
    assert load_settings().model is None
    assert load_settings(env_file=tmp_path / ".env").model == "from-dotenv"
